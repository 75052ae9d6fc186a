// The monitoring modes of N-40 as who-hears-whom, checked with a distinct tone per leg.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "media/mix/mixer.hpp"

namespace hotline::mix {
namespace {

constexpr size_t frame = 160;

std::vector<int16_t> tone(double hz, double amplitude = 8000) {
  std::vector<int16_t> v(frame);
  for (size_t i = 0; i < frame; ++i)
    v[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / 8000));
  return v;
}

// How much of a tone at `hz` is in `x` (a single-bin DFT), relative to amplitude 8000.
double presence(const std::vector<int16_t>& x, double hz) {
  double re = 0, im = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    re += x[i] * std::cos(2 * std::numbers::pi * hz * static_cast<double>(i) / 8000);
    im += x[i] * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / 8000);
  }
  return 2 * std::sqrt(re * re + im * im) / static_cast<double>(x.size()) / 8000;
}

struct call_mix {
  mixer m{frame};
  std::vector<int16_t> in[4] = {tone(400), tone(1000), tone(2000), tone(3000)};  // caller, agent, supervisor, prompt
  std::vector<int16_t> out[4] = {std::vector<int16_t>(frame), std::vector<int16_t>(frame),
                                 std::vector<int16_t>(frame), std::vector<int16_t>(frame)};
  void tick(int times = 2) {  // the second tick is past any ramp
    for (int t = 0; t < times; ++t) {
      std::span<const int16_t> ins[4] = {in[0], in[1], in[2], in[3]};
      std::span<int16_t> outs[4] = {out[0], out[1], out[2], out[3]};
      m.mix(ins, outs);
    }
  }
  bool hears(size_t who, size_t whom) { return presence(out[who], std::array{400.0, 1000.0, 2000.0, 3000.0}[whom]) > 0.5; }
};

TEST(mixer, bridge_is_the_two_parties_only) {
  call_mix c;
  c.m.set(preset(mode::bridge));
  c.tick();
  EXPECT_TRUE(c.hears(caller, agent));
  EXPECT_TRUE(c.hears(agent, caller));
  EXPECT_FALSE(c.hears(caller, caller)) << "no echo of oneself";
  EXPECT_FALSE(c.hears(supervisor, caller));
}

TEST(mixer, listen_whisper_barge_as_n40_defines_them) {
  call_mix c;
  c.m.set(preset(mode::listen));
  c.tick();
  EXPECT_TRUE(c.hears(supervisor, caller));
  EXPECT_TRUE(c.hears(supervisor, agent));
  EXPECT_FALSE(c.hears(caller, supervisor));
  EXPECT_FALSE(c.hears(agent, supervisor));

  c.m.set(preset(mode::whisper));
  c.tick();
  EXPECT_TRUE(c.hears(agent, supervisor));
  EXPECT_FALSE(c.hears(caller, supervisor)) << "the caller never hears a whisper";
  EXPECT_TRUE(c.hears(agent, caller));

  c.m.set(preset(mode::barge));
  c.tick();
  EXPECT_TRUE(c.hears(caller, supervisor));
  EXPECT_TRUE(c.hears(agent, supervisor));
  EXPECT_TRUE(c.hears(supervisor, caller));
}

TEST(mixer, playback_goes_only_where_it_is_sent) {
  call_mix c;
  c.m.set(with_playback(preset(mode::bridge), {caller}));  // hold music or an IVR prompt
  c.tick();
  EXPECT_TRUE(c.hears(caller, playback));
  EXPECT_FALSE(c.hears(agent, playback));
}

TEST(mixer, mode_switch_is_ramped_not_stepped) {
  call_mix c;
  c.m.set(preset(mode::listen));
  c.tick();
  c.m.set(preset(mode::barge));  // the caller starts hearing the supervisor
  c.tick(1);
  // Within the switching frame the supervisor's tone in the caller's ear rises
  // gradually: the first samples carry almost none of it.
  double early = 0, late = 0;
  for (size_t i = 0; i < 20; ++i) early += std::abs(c.out[caller][i] - c.in[agent][i]);
  for (size_t i = frame - 20; i < frame; ++i) late += std::abs(c.out[caller][i] - c.in[agent][i]);
  EXPECT_LT(early * 4, late);
}

TEST(mixer, sums_saturate_instead_of_wrapping) {
  mixer m(frame);
  m.set(preset(mode::barge));
  std::vector<int16_t> loud(frame, 30000), out(frame), sink(frame);
  std::span<const int16_t> ins[3] = {loud, loud, loud};
  std::span<int16_t> outs[3] = {sink, sink, out};
  m.mix(ins, outs);
  m.mix(ins, outs);
  EXPECT_EQ(out[frame - 1], 32767);
}

}  // namespace
}  // namespace hotline::mix
