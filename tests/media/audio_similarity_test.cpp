// The audio similarity tool the tests with real peers rely on, calibrated on espeak-ng
// Mandarin: what must score ~1 (identical, delayed, resampled), what must stay high
// (G.711, 3 % of frames lost), and what must score low (other speech, noise).
#include <gtest/gtest.h>

#include <random>

#include "media/codec/g711.hpp"
#include "tests/media/speech_material.hpp"
#include "tests/support/audio_similarity.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline {
namespace {

const std::vector<int16_t>& greeting() {
  const auto& s = test::mandarin_speech(test::greeting_text);
  EXPECT_FALSE(s.empty()) << "espeak-ng -v cmn and sox are needed (deploy/install-deps.sh)";
  return s;
}

TEST(audio_similarity, identical_is_one) {
  const auto& ref = greeting();
  ASSERT_GT(ref.size(), 8000u * 4);
  auto r = test::audio_similarity(ref, 8000, ref, 8000);
  EXPECT_GT(r.score, 0.999);
  EXPECT_GT(r.waveform, 0.999);
  EXPECT_EQ(r.lag_samples, 0);
  EXPECT_GT(r.overlap_s, 3.0);
}

TEST(audio_similarity, delay_of_137_ms_is_found) {
  const auto& ref = greeting();
  std::vector<int16_t> delayed(8 * 137, 0);  // 1096 samples of silence first
  delayed.insert(delayed.end(), ref.begin(), ref.end());
  auto r = test::audio_similarity(ref, 8000, delayed, 8000);
  EXPECT_GT(r.score, 0.99);
  EXPECT_EQ(r.lag_samples, 1096);
  EXPECT_NEAR(r.lag_ms, 137.0, 0.2);
  // The other way round: the received audio starts 137 ms into the reference.
  auto early = test::audio_similarity(delayed, 8000, ref, 8000);
  EXPECT_GT(early.score, 0.99);
  EXPECT_EQ(early.lag_samples, -1096);
}

TEST(audio_similarity, long_delay_within_max_lag) {
  const auto& ref = greeting();
  std::vector<int16_t> delayed(8000 * 2 + 333, 0);
  delayed.insert(delayed.end(), ref.begin(), ref.end());
  auto r = test::audio_similarity(ref, 8000, delayed, 8000);
  EXPECT_GT(r.score, 0.99);
  EXPECT_EQ(r.lag_samples, 8000 * 2 + 333);
}

TEST(audio_similarity, through_g711_and_attenuated) {
  const auto& ref = greeting();
  std::vector<uint8_t> coded(ref.size());
  std::vector<int16_t> back(ref.size());
  codec::encode_ulaw(ref, coded);
  codec::decode_ulaw(coded, back);
  EXPECT_GE(test::audio_similarity(ref, 8000, back, 8000).score, 0.95);
  for (auto& s : back) s = static_cast<int16_t>(s / 8);  // -18 dB and A-law on top
  codec::encode_alaw(back, coded);
  codec::decode_alaw(coded, back);
  EXPECT_GE(test::audio_similarity(ref, 8000, back, 8000).score, 0.95);
}

TEST(audio_similarity, received_at_another_rate) {
  const auto& ref = greeting();
  std::vector<int16_t> delayed(800, 0);  // 100 ms
  delayed.insert(delayed.end(), ref.begin(), ref.end());
  auto wide = test::resample(delayed, 8000, 48000);
  auto r = test::audio_similarity(ref, 8000, wide, 48000);
  EXPECT_GT(r.score, 0.95);
  EXPECT_NEAR(static_cast<double>(r.lag_samples), 800, 1);
  EXPECT_NEAR(r.lag_ms, 100, 0.2);
}

TEST(audio_similarity, three_percent_of_frames_lost_stays_clearly_above_0_75) {
  const auto& ref = greeting();
  std::vector<int16_t> lossy = ref;
  std::mt19937 rng(3);
  std::bernoulli_distribution lose(0.03);
  size_t lost = 0;
  for (size_t at = 0; at + 160 <= lossy.size(); at += 160)
    if (lose(rng)) {
      std::fill_n(lossy.begin() + static_cast<ptrdiff_t>(at), 160, int16_t{0});
      ++lost;
    }
  ASSERT_GT(lost, 5u);
  auto r = test::audio_similarity(ref, 8000, lossy, 8000);
  EXPECT_GT(r.score, 0.9);
  EXPECT_EQ(r.lag_samples, 0);
}

TEST(audio_similarity, unrelated_speech_and_noise_score_low) {
  const auto& ref = greeting();
  const auto& other = test::mandarin_speech(test::unrelated_text);
  ASSERT_FALSE(other.empty());
  auto speech = test::audio_similarity(ref, 8000, other, 8000);
  EXPECT_LT(speech.score, 0.3);
  std::mt19937 rng(1);
  std::normal_distribution<double> gauss(0, 3000);
  std::vector<int16_t> noise(ref.size());
  for (auto& s : noise) s = static_cast<int16_t>(std::clamp(gauss(rng), -32768.0, 32767.0));
  EXPECT_LT(test::audio_similarity(ref, 8000, noise, 8000).score, 0.3);
  std::vector<int16_t> silence(ref.size(), 0);
  EXPECT_EQ(test::audio_similarity(ref, 8000, silence, 8000).score, 0.0);
}

TEST(audio_similarity, wav_files_round_trip) {
  test::temp_dir dir;
  test::wav_audio stereo{.sample_rate = 16000, .channels = 2, .samples = {1, -1, 2, -2, 32767, -32768}};
  ASSERT_TRUE(test::write_wav(dir.sub("a.wav"), stereo));
  std::string error;
  auto back = test::read_wav(dir.sub("a.wav"), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->sample_rate, 16000u);
  EXPECT_EQ(back->channels, 2);
  EXPECT_EQ(back->samples, stereo.samples);
  EXPECT_EQ(test::channel_of(*back, 1), (std::vector<int16_t>{-1, -2, -32768}));
  EXPECT_FALSE(test::read_wav(dir.sub("missing.wav"), &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

TEST(audio_similarity, reads_what_sox_writes) {
  test::temp_dir dir;
  ASSERT_TRUE(test::write_wav(dir.sub("in.wav"), {.sample_rate = 8000, .channels = 1, .samples = greeting()}));
  std::string cmd = "sox '" + dir.sub("in.wav") + "' -r 16000 -c 2 '" + dir.sub("out.wav") + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto wav = test::read_wav(dir.sub("out.wav"));
  ASSERT_TRUE(wav);
  EXPECT_EQ(wav->sample_rate, 16000u);
  EXPECT_EQ(wav->channels, 2);
  EXPECT_GT(test::audio_similarity(greeting(), 8000, test::channel_of(*wav, 1), 16000).score, 0.95);
}

}  // namespace
}  // namespace hotline
