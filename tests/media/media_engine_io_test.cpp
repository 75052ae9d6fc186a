// The media thread's I/O under stress, on both paths (io_uring, epoll): a thread stalled
// with streams waiting, bursts beyond the receive buffers, ports and descriptors running out.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <thread>

#include "tests/media/media_engine_fixture.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using media::leg_role;
using media::media_event;

std::vector<media::leg_report> stall_the_thread_with_24_legs_streaming(const media::engine_config& config) {
  running r(config);
  auto& eng = r.eng;
  constexpr size_t calls = 12;
  std::vector<std::unique_ptr<rtp_peer>> peers;
  std::vector<media::session_id> sessions;
  std::vector<events> closed(calls);
  for (size_t c = 0; c < calls; ++c) {
    media::session_id s = c == 0 ? r.s : eng.create_session(8000, closed[c].sink());
    sessions.push_back(s);
    for (leg_role role : {leg_role::caller, leg_role::agent}) {
      auto& p = peers.emplace_back(std::make_unique<rtp_peer>());
      auto m = eng.open_leg(s, role, false, "127.0.0.1");
      if (!std::holds_alternative<sdp::local_media>(m)) {
        ADD_FAILURE() << std::get<std::string>(m);
        return {};
      }
      p->target(std::get<sdp::local_media>(m).port);
      p->ssrc += static_cast<uint32_t>(peers.size());
      eng.configure_leg(s, role, pcmu_to(p->port()));
    }
  }
  std::atomic<int> taps{0};
  eng.set_tap(sessions[0], [&](std::span<const std::byte>, uint32_t) {
    if (++taps == 50) std::this_thread::sleep_for(100ms);  // one second in: the thread stalls
  });
  // Every phone sends a frame every 20 ms, all in step (the worst case for the catch-up).
  auto pcm = tone(440, 8000, 1);
  auto start = std::chrono::steady_clock::now();
  for (size_t f = 0; f < 100; ++f) {
    std::array<uint8_t, 160> u;
    codec::encode_ulaw(std::span(pcm).subspan(f * 160 % 8000, 160), u);
    for (auto& p : peers) {
      p->send(0, std::as_bytes(std::span(u)), f == 0);
      p->advance(160);
    }
    std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * (f + 1)));
    for (auto& p : peers) p->drain();
  }
  EXPECT_GE(taps.load(), 50);
  std::vector<media::leg_report> reports;
  for (size_t c = 0; c < calls; ++c) {
    eng.close_session(sessions[c]);
    events& ev = c == 0 ? r.ev : closed[c];
    EXPECT_TRUE(ev.wait(media_event::kind::closed));
    for (const auto& rep : ev.last(media_event::kind::closed).reports) reports.push_back(rep);
  }
  EXPECT_EQ(reports.size(), 2 * calls);
  return reports;
}

// Unread legs lost 3 packets each this way (the stall's 5 ticks, less the rewind). One
// late packet is allowed: this test's own sender can be late too on a busy machine.
void expect_nothing_played_late(const std::vector<media::leg_report>& reports) {
  for (const auto& rep : reports) {
    EXPECT_LE(rep.late_packets, 1u) << media::to_string(rep.role);
    EXPECT_GE(rep.packets_received, 95u);  // of 100: the last may still be on its way at the close
  }
}

TEST_P(media_engine, after_a_stall_every_waiting_packet_is_read_before_the_catch_up_ticks) {
  expect_nothing_played_late(stall_the_thread_with_24_legs_streaming(config()));
}

// The same with 16 receive buffers for 24 legs' 5 waiting packets each: the multishot
// receives end for want of a buffer, and must be started again and read before the tick.
TEST_P(media_engine, after_a_stall_packets_beyond_the_receive_buffers_are_read_before_the_ticks) {
  auto c = config();
  c.io_uring_buffers = 16;
  expect_nothing_played_late(stall_the_thread_with_24_legs_streaming(c));
}

TEST_P(media_engine, port_range_exhaustion_is_a_clear_error) {
  auto c = config();
  c.port_min = GetParam() ? 43000 : 43010;  // each I/O its own: ctest may run both at once
  c.port_max = c.port_min + 3;             // two pairs
  running r(c);
  auto& eng = r.eng;
  auto& ev = r.ev;
  auto s = r.s;
  EXPECT_TRUE(std::holds_alternative<sdp::local_media>(eng.open_leg(s, leg_role::caller, false, "127.0.0.1")));
  EXPECT_TRUE(std::holds_alternative<sdp::local_media>(eng.open_leg(s, leg_role::agent, false, "127.0.0.1")));
  auto third = eng.open_leg(s, leg_role::supervisor, false, "127.0.0.1");
  ASSERT_TRUE(std::holds_alternative<std::string>(third));
  EXPECT_NE(std::get<std::string>(third).find("no free media port"), std::string::npos);
  r.close();
  // Closed legs give their ports back.
  auto s2 = eng.create_session(8000, ev.sink());
  EXPECT_TRUE(std::holds_alternative<sdp::local_media>(eng.open_leg(s2, leg_role::caller, false, "127.0.0.1")));
}

TEST_P(media_engine, a_burst_larger_than_the_receive_buffers_arrives_whole) {
  // 16 provided buffers for 150 back-to-back datagrams: io_uring's multishot receive runs
  // out of buffers and ends; it must be armed again once the buffers are back.
  auto c = config();
  c.io_uring_buffers = 16;
  running r(c);
  rtp_peer caller;
  r.join(caller, leg_role::caller);
  std::vector<std::byte> payload(160, std::byte{0xff});
  for (int i = 0; i < 150; ++i) {
    caller.send(0, payload);
    caller.advance(160);
  }
  std::this_thread::sleep_for(300ms);
  auto closed = r.close();
  ASSERT_EQ(closed.reports.size(), 1u);
  EXPECT_EQ(closed.reports[0].packets_received, 150u);
}

TEST_P(media_engine, running_out_of_file_descriptors_is_named_as_such) {
  // The engine is not started while the descriptors are exhausted: no other thread runs
  // then. UBSan checks a virtual call's vptr through a pipe() on a cold cache, so a media
  // thread ticking in that window was reported as calling through an invalid vptr (CI,
  // session 13). open_leg fails before it posts anything to a media thread.
  events ev;
  media::engine eng(config());
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd; (fd = ::dup(0)) >= 0;) filler.push_back(fd);
  auto leg = eng.open_leg(1, leg_role::caller, false, "127.0.0.1");
  for (int fd : filler) ::close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(std::holds_alternative<std::string>(leg));
  EXPECT_NE(std::get<std::string>(leg).find("open-file limit"), std::string::npos) << std::get<std::string>(leg);
  // With descriptors back, legs open again.
  ASSERT_FALSE(eng.start());
  const auto s = eng.create_session(8000, ev.sink());
  EXPECT_TRUE(std::holds_alternative<sdp::local_media>(eng.open_leg(s, leg_role::caller, false, "127.0.0.1")));
}

}  // namespace
}  // namespace hotline::test
