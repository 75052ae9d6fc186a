// Listen-in latency (the consoles issue's goal: caller RTP -> the supervisor's decoded
// audio, p99 <= 150 ms, measured with a marker tone). N calls each have a caller leg fed by
// this bench (PCMU at real time: silence with a 200 ms 1 kHz burst once a second, a
// different phase per call), an agent leg, and a supervisor leg in listen mode talking to a
// loopback peer exactly as a browser console's is (media/rtp/loopback_peer.hpp: Opus at
// 48 kHz). Each peer decodes what it gets and timestamps the burst's onset: latency = onset
// received - first burst packet sent. This is the server's whole share up to the WebSocket
// write; the socket hop to a console is measured by console_fanout_bench, and the browser's
// decode and playout are the page's (api/web/audio.js schedules ~60 ms ahead).
//
//   listen_latency_bench [--calls 100] [--seconds 30] [--reads-per-tick 4] [--io epoll]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "media/codec/g711.hpp"
#include "media/engine/engine.hpp"
#include "media/rtp/loopback_peer.hpp"
#include "media/rtp/packet.hpp"

using namespace std::chrono;
using namespace hotline;

namespace {

int64_t now_ns() { return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count(); }

sdp::negotiated pcmu_to(uint16_t port) {
  sdp::negotiated n;
  n.audio = {0, "PCMU", 8000, 1, ""};
  n.remote_address = "127.0.0.1";
  n.remote_port = n.remote_rtcp_port = port;
  n.rtcp_mux = true;
  return n;
}

struct call {
  int fd = -1;  // the caller's socket (also the agent's far end, which stays silent)
  int agent_fd = -1;
  uint16_t caller_leg = 0;
  std::unique_ptr<rtp::loopback_peer> peer;
  OpusDecoder* dec = nullptr;
  std::atomic<int64_t> burst_sent{0};  // send time of the current burst's first packet
  bool in_burst = false;               // the peer's view (its thread only)
  std::mutex m;
  std::vector<double> latency_ms;
};

int udp_socket(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  size_t calls = 100, seconds = 30;
  media::engine_config ec;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--calls") calls = std::strtoul(argv[i + 1], nullptr, 10);
    if (a == "--seconds") seconds = std::strtoul(argv[i + 1], nullptr, 10);
    if (a == "--reads-per-tick") ec.reads_per_tick = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    if (a == "--io") ec.io_uring = std::string(argv[i + 1]) != "epoll";
  }
  ec.bind_v4 = "127.0.0.1";
  ec.bind_v6 = "";
  ec.port_min = 40000;
  ec.port_max = 44999;
  ec.stream_timeout = std::chrono::milliseconds(600000);
  media::engine engine(ec);
  if (auto e = engine.start()) return std::fprintf(stderr, "engine: %s\n", e->c_str()), 1;

  std::vector<std::unique_ptr<call>> cs;
  for (size_t i = 0; i < calls; ++i) {
    auto c = std::make_unique<call>();
    int err = 0;
    c->dec = opus_decoder_create(48000, 1, &err);
    auto* cp = c.get();
    std::string error;
    c->peer = rtp::loopback_peer::open(
        [cp](std::span<const std::byte> opus, uint32_t) {
          int16_t pcm[960 * 3];
          int n = opus_decode(cp->dec, reinterpret_cast<const unsigned char*>(opus.data()),
                              static_cast<opus_int32>(opus.size()), pcm, 960 * 3, 0);
          if (n <= 0) return;
          double e = 0;
          for (int k = 0; k < n; ++k) e += double(pcm[k]) * pcm[k];
          double rms = std::sqrt(e / n);
          if (!cp->in_burst && rms > 1500) {
            cp->in_burst = true;
            auto sent = cp->burst_sent.load();
            if (sent) {
              std::lock_guard l(cp->m);
              cp->latency_ms.push_back((now_ns() - sent) / 1e6);
            }
          } else if (cp->in_burst && rms < 300) {
            cp->in_burst = false;
          }
        },
        error);
    if (!c->peer) return std::fprintf(stderr, "peer: %s\n", error.c_str()), 1;
    uint16_t caller_port = 0, agent_port = 0;
    c->fd = udp_socket(caller_port);
    c->agent_fd = udp_socket(agent_port);
    auto s = engine.create_session(8000, [](const media::media_event&) {});
    auto caller = engine.open_leg(s, media::leg_role::caller, false, "127.0.0.1");
    auto agent = engine.open_leg(s, media::leg_role::agent, false, "127.0.0.1");
    auto sup = engine.open_leg(s, media::leg_role::supervisor, false, "127.0.0.1");
    if (!std::holds_alternative<sdp::local_media>(caller) || !std::holds_alternative<sdp::local_media>(sup) ||
        !std::holds_alternative<sdp::local_media>(agent))
      return std::fprintf(stderr, "no ports\n"), 1;
    c->caller_leg = std::get<sdp::local_media>(caller).port;
    engine.configure_leg(s, media::leg_role::caller, pcmu_to(caller_port));
    engine.configure_leg(s, media::leg_role::agent, pcmu_to(agent_port));
    sdp::negotiated n;  // what the call actor configures for a browser console
    n.audio = sdp::codec{111, "opus", 48000, 2, "useinbandfec=1"};
    n.remote_address = "127.0.0.1";
    n.remote_port = n.remote_rtcp_port = c->peer->port();
    n.rtcp_mux = true;
    engine.configure_leg(s, media::leg_role::supervisor, n, 4000);
    engine.set_mix(s, mix::preset(mix::mode::listen));
    c->peer->set_remote(std::get<sdp::local_media>(sup).port);
    cs.push_back(std::move(c));
  }

  // The callers: 20 ms PCMU frames at real time; call i bursts at (i * 20 ms) into each second.
  std::vector<int16_t> tone(160);
  std::vector<uint8_t> silent(160, 0xFF), burst(160);
  for (size_t k = 0; k < 160; ++k) tone[k] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * k / 8000.0));
  codec::encode_ulaw(tone, burst);
  auto t0 = steady_clock::now();
  uint32_t frame = 0;
  std::byte pkt[200];
  while (steady_clock::now() - t0 < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_until(t0 + milliseconds(20) * frame);
    for (size_t i = 0; i < cs.size(); ++i) {
      auto& c = *cs[i];
      uint32_t pos = (frame + 50 - i % 50) % 50;  // frame within this call's second
      bool on = pos < 10 && frame >= 100;         // 200 ms burst, after a 2 s warm-up
      rtp::header h;
      h.payload_type = 0;
      h.sequence = static_cast<uint16_t>(frame);
      h.timestamp = frame * 160;
      h.ssrc = 1000 + static_cast<uint32_t>(i);
      auto& payload = on ? burst : silent;
      size_t len = rtp::build(h, std::as_bytes(std::span(payload)), pkt);
      if (on && pos == 0) c.burst_sent = now_ns();
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(c.caller_leg);
      sendto(c.fd, pkt, len, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    ++frame;
  }
  std::this_thread::sleep_for(500ms);
  std::vector<double> all;
  for (auto& c : cs) {
    std::lock_guard l(c->m);
    all.insert(all.end(), c->latency_ms.begin(), c->latency_ms.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  auto st = engine.stats();
  std::printf("listened calls: %zu, bursts measured: %zu (expected ~%zu)\n", calls, all.size(), calls * (seconds - 2));
  std::printf("caller RTP -> supervisor's decoded audio (server side, up to the WebSocket write): "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              pct(0.5), pct(0.99), all.empty() ? 0.0 : all.back());
  std::printf("media threads busy %.1f %%, late ticks %llu\n", 100 * st.busy_fraction,
              static_cast<unsigned long long>(st.late_ticks));
  for (auto& c : cs) {
    c->peer.reset();
    opus_decoder_destroy(c->dec);
    close(c->fd);
    close(c->agent_fd);
  }
  return all.empty() ? 2 : 0;
}
