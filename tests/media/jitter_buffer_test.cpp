// The jitter buffer under the network's habits: in order, reordered, lost, duplicated,
// late, jittery, wrapping timestamps, a source jump and a pause.
#include <gtest/gtest.h>

#include <random>

#include "media/rtp/jitter_buffer.hpp"

namespace hotline::rtp {
namespace {

std::vector<std::byte> payload_for(uint16_t seq) { return {static_cast<std::byte>(seq), static_cast<std::byte>(seq >> 8)}; }
uint16_t seq_of(const std::vector<std::byte>& p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}

struct stream {
  jitter_buffer jb;
  uint16_t seq0 = 65530;        // wraps during the test
  uint32_t ts0 = 0xfffff000u;   // wraps too
  explicit stream(jitter_config c = {}) : jb(c) {}
  jitter_buffer::insert_result send(uint16_t n, uint64_t arrival) {
    auto p = payload_for(static_cast<uint16_t>(seq0 + n));
    return jb.insert(static_cast<uint16_t>(seq0 + n), ts0 + 160u * n, p, arrival);
  }
};

TEST(jitter_buffer, plays_in_order_after_the_initial_delay_across_wraparound) {
  stream s;
  std::vector<uint16_t> played;
  for (uint16_t n = 0; n < 100; ++n) {
    s.send(n, 160ull * n);
    if (auto f = s.jb.pop()) {
      ASSERT_FALSE(f->lost);
      played.push_back(seq_of(f->payload));
    }
  }
  ASSERT_GE(played.size(), 97u);
  for (size_t i = 1; i < played.size(); ++i) EXPECT_EQ(static_cast<uint16_t>(played[i] - played[i - 1]), 1);
  EXPECT_EQ(s.jb.stats().lost, 0u);
}

TEST(jitter_buffer, reordered_packets_come_out_in_order_and_gaps_are_lost_frames) {
  stream s;
  // 0 1 3 2 5 (4 never comes) 6 7 ...
  std::vector<int> order = {0, 1, 3, 2, 5, 6, 7, 8, 9, 10, 11, 12};
  for (size_t i = 0; i < order.size(); ++i) s.send(static_cast<uint16_t>(order[i]), 160ull * i);
  std::vector<int> out;
  for (int i = 0; i < 12; ++i)
    if (auto f = s.jb.pop()) out.push_back(f->lost ? -1 : static_cast<uint16_t>(seq_of(f->payload) - s.seq0));
  ASSERT_GE(out.size(), 7u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[2], 2);
  EXPECT_EQ(out[3], 3);
  EXPECT_EQ(out[4], -1) << "4 was lost: a frame for concealment";
  EXPECT_EQ(out[5], 5);
  EXPECT_EQ(s.jb.stats().lost, 1u);
}

TEST(jitter_buffer, duplicates_and_late_packets_are_counted_not_played) {
  stream s;
  for (uint16_t n = 0; n < 5; ++n) s.send(n, 160ull * n);
  EXPECT_EQ(s.send(3, 900), jitter_buffer::insert_result::duplicate);
  for (int i = 0; i < 4; ++i) s.jb.pop();
  EXPECT_EQ(s.send(1, 1000), jitter_buffer::insert_result::late);
  EXPECT_EQ(s.jb.stats().duplicates, 1u);
  EXPECT_EQ(s.jb.stats().late, 1u);
}

TEST(jitter_buffer, delay_grows_with_jitter_and_shrinks_when_it_calms) {
  stream s;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> spread(0, 800);  // up to 100 ms of jitter at 8 kHz
  uint64_t t = 0;
  for (uint16_t n = 0; n < 500; ++n) {
    s.send(n, 160ull * n + static_cast<uint64_t>(spread(rng)));
    s.jb.pop();
    t = 160ull * n;
  }
  uint32_t jittery_target = s.jb.stats().target_delay_frames;
  EXPECT_GE(jittery_target, 5u) << "jitter " << s.jb.stats().jitter_samples;
  EXPECT_GT(s.jb.stats().stretched, 0u) << "delay grown to the target";
  EXPECT_GE(s.jb.depth() + 2, jittery_target);
  for (uint16_t n = 500; n < 2000; ++n) {
    s.send(n, 160ull * n + 1000);
    s.jb.pop();
  }
  (void)t;
  EXPECT_LT(s.jb.stats().target_delay_frames, jittery_target);
  EXPECT_GT(s.jb.stats().dropped_for_delay, 0u) << "surplus delay shed";
  EXPECT_LE(s.jb.depth(), s.jb.stats().target_delay_frames + 3);
}

TEST(jitter_buffer, low_jitter_plays_after_one_frame_and_an_underrun_grows_the_delay) {
  stream s;
  s.send(0, 0);
  auto first = s.jb.pop();
  ASSERT_TRUE(first && !first->lost) << "one frame buffered is enough at low jitter";
  auto missed = s.jb.pop();  // packet 1 is a little late: its slot is concealed
  ASSERT_TRUE(missed && missed->lost);
  EXPECT_EQ(s.send(1, 170), jitter_buffer::insert_result::queued) << "played next, not dropped";
  EXPECT_EQ(s.jb.stats().rewound, 1u);
  auto late = s.jb.pop();
  ASSERT_TRUE(late && !late->lost);
  EXPECT_EQ(seq_of(late->payload), static_cast<uint16_t>(s.seq0 + 1));
  s.send(2, 330);
  auto next = s.jb.pop();
  ASSERT_TRUE(next && !next->lost);
  EXPECT_EQ(seq_of(next->payload), static_cast<uint16_t>(s.seq0 + 2));
}

TEST(jitter_buffer, a_timestamp_jump_restarts_and_a_pause_rebuffers) {
  stream s;
  for (uint16_t n = 0; n < 10; ++n) {
    s.send(n, 160ull * n);
    s.jb.pop();
  }
  // New source after a re-INVITE: timestamps jump by minutes.
  EXPECT_EQ(s.jb.insert(7, 123456789, payload_for(7), 2000), jitter_buffer::insert_result::reset);
  EXPECT_EQ(s.jb.stats().resets, 1u);
  // Silence for a second: no flood of losses, then playing resumes.
  for (int i = 0; i < 50; ++i) s.jb.pop();
  EXPECT_LT(s.jb.stats().lost, 25u);
  for (uint32_t n = 0; n < 5; ++n) s.jb.insert(static_cast<uint16_t>(100 + n), 200000000 + 160 * n, payload_for(1), 90000 + 160 * n);
  int played = 0;
  for (int i = 0; i < 5; ++i)
    if (auto f = s.jb.pop(); f && !f->lost) ++played;
  EXPECT_GE(played, 3);
}

}  // namespace
}  // namespace hotline::rtp
