#pragma once
// The media engine's test fixture over real loopback sockets: every test runs on both I/O
// paths (io_uring and epoll), with a started engine, one session and scripted RTP peers
// (media_stream_test.cpp, media_engine_codec_test.cpp, media_engine_io_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "media/engine/engine.hpp"
#include "tests/media/rtp_peer.hpp"

namespace hotline::test {

using namespace std::chrono_literals;
using media::leg_role;
using media::media_event;

struct events {
  std::mutex m;
  std::condition_variable cv;
  std::vector<media_event> list;
  media::event_sink sink() {
    return [this](const media_event& e) {
      std::lock_guard l(m);
      list.push_back(e);
      cv.notify_all();
    };
  }
  size_t count(media_event::kind k) {
    std::lock_guard l(m);
    return static_cast<size_t>(std::count_if(list.begin(), list.end(), [&](const auto& e) { return e.what == k; }));
  }
  bool wait(media_event::kind k, size_t n = 1, std::chrono::milliseconds t = 5s) {
    std::unique_lock l(m);
    return cv.wait_for(l, t, [&] {
      return static_cast<size_t>(std::count_if(list.begin(), list.end(), [&](const auto& e) { return e.what == k; })) >= n;
    });
  }
  media_event last(media_event::kind k) {
    std::lock_guard l(m);
    for (auto it = list.rbegin(); it != list.rend(); ++it)
      if (it->what == k) return *it;
    return {};
  }
};

inline sdp::negotiated pcmu_to(uint16_t port) {
  sdp::negotiated n;
  n.audio = {0, "PCMU", 8000, 1, ""};
  n.telephone_event = sdp::codec{101, "telephone-event", 8000, 1, "0-16"};
  n.remote_address = "127.0.0.1";
  n.remote_port = port;
  n.remote_rtcp_port = port;
  n.rtcp_mux = true;
  return n;
}

inline sdp::negotiated opus_to(uint16_t port) {
  sdp::negotiated n = pcmu_to(port);
  n.audio = {111, "opus", 48000, 2, "useinbandfec=1"};
  n.telephone_event = sdp::codec{101, "telephone-event", 48000, 1, "0-16"};
  n.opus_useinbandfec = true;
  return n;
}

// Every test runs twice: sockets through io_uring, and through epoll (the fallback).
struct media_engine : ::testing::TestWithParam<bool> {
  media::engine_config config() {
    media::engine_config c;
    c.io_uring = GetParam();
    c.bind_v4 = "127.0.0.1";
    c.bind_v6 = "::1";
    c.port_min = 42000;
    c.port_max = 42999;
    return c;
  }
};

// A started engine with one session; `join` puts a scripted peer on a leg.
struct running {
  media::engine eng;
  events ev;
  media::session_id s = 0;
  explicit running(const media::engine_config& c, uint32_t mix_rate = 8000) : eng(c) {
    EXPECT_FALSE(eng.start());
    if (c.io_uring && eng.io_description() != "io_uring")
      ADD_FAILURE() << "asked for io_uring, running on " << eng.io_description();
    s = eng.create_session(mix_rate, ev.sink());
  }
  uint16_t open(leg_role r) {
    auto m = eng.open_leg(s, r, false, "127.0.0.1");
    EXPECT_TRUE(std::holds_alternative<sdp::local_media>(m)) << std::get<std::string>(m);
    return std::get<sdp::local_media>(m).port;
  }
  // The peer sends to the leg's port, the leg to the peer (PCMU unless `n` says otherwise).
  void join(rtp_peer& peer, leg_role r, std::optional<sdp::negotiated> n = std::nullopt) {
    peer.target(open(r));
    eng.configure_leg(s, r, n ? *n : pcmu_to(peer.port()));
  }
  // A PCMU caller and an Opus agent fed the caller's narrowband audio (a 12333 call).
  void join_pcmu_caller_and_opus_agent(rtp_peer& caller, rtp_peer& agent) {
    join(caller, leg_role::caller);
    agent.target(open(leg_role::agent));
    eng.configure_leg(s, leg_role::agent, opus_to(agent.port()), 4000);
  }
  media_event close() {
    eng.close_session(s);
    EXPECT_TRUE(ev.wait(media_event::kind::closed));
    return ev.last(media_event::kind::closed);
  }
};

}  // namespace hotline::test
