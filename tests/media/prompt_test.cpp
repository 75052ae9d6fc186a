// IVR prompts (N-05, N-01, N-16): generated once with espeak-ng, loaded, trimmed and
// resampled to every mix rate; announcements composed from clips; the WAV reader; and
// failures (no espeak-ng, a directory we cannot write, a missing or broken file) as values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>

#include "media/prompt/generate.hpp"
#include "media/prompt/library.hpp"
#include "media/prompt/wav.hpp"
#include "tests/media/audio_checks.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline {
namespace {

using namespace prompt;

// The value, or a test failure naming the error (and an empty value).
template <typename T>
T ok(std::variant<T, prompt_error> v) {
  if (auto* e = std::get_if<prompt_error>(&v)) {
    ADD_FAILURE() << e->message;
    return T{};
  }
  return std::move(std::get<T>(v));
}

// One generated directory for the whole suite: espeak-ng runs ~35 times, once.
class prompts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::temp_dir>();
    auto generated = generate_prompts(dir_->path());
    if (auto* e = std::get_if<prompt_error>(&generated)) {
      error_ = e->message;
      return;
    }
    report_ = std::get<generate_report>(generated);
    auto loaded = prompt_library::load(dir_->path());
    if (auto* e = std::get_if<prompt_error>(&loaded)) {
      error_ = e->message;
      return;
    }
    lib_ = std::make_unique<prompt_library>(std::move(std::get<prompt_library>(loaded)));
  }
  static void TearDownTestSuite() {
    lib_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(lib_) << "prompts not generated/loaded: " << error_; }

  static inline std::unique_ptr<test::temp_dir> dir_;
  static inline std::unique_ptr<prompt_library> lib_;
  static inline generate_report report_;
  static inline std::string error_;
};

size_t all_prompt_count() { return default_prompts().size() + number_prompts().size(); }

TEST_F(prompts, every_prompt_is_generated_once) {
  EXPECT_EQ(report_.generated, all_prompt_count());
  EXPECT_EQ(report_.already_there, 0u);
  for (const auto& p : default_prompts())
    EXPECT_TRUE(std::filesystem::is_regular_file(dir_->sub(std::string(p.name) + ".wav"))) << p.name;
  for (int d = 0; d <= 9; ++d) EXPECT_TRUE(std::filesystem::exists(dir_->sub("digit_" + std::to_string(d) + ".wav")));
  EXPECT_TRUE(std::filesystem::exists(dir_->sub("work_id.wav")));
  // No temporaries or probes left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path()))
    EXPECT_EQ(entry.path().extension(), ".wav") << entry.path();

  // Setup runs again at every start: nothing to do the second time.
  auto again = generate_prompts(dir_->path());
  const auto r = ok(std::move(again));
  EXPECT_EQ(r.generated, 0u);
  EXPECT_EQ(r.already_there, all_prompt_count());
}

TEST_F(prompts, every_clip_is_loaded_at_every_rate) {
  EXPECT_EQ(lib_->size(), all_prompt_count() + 1);  // + hold music
  for (const auto& p : default_prompts()) {
    SCOPED_TRACE(p.name);
    auto c8 = lib_->clip(p.name, 8000), c16 = lib_->clip(p.name, 16000), c48 = lib_->clip(p.name, 48000);
    ASSERT_GT(c8.size(), 8000u / 5) << "shorter than 200 ms";
    EXPECT_NEAR(static_cast<double>(c16.size()), 2.0 * c8.size(), 2);
    EXPECT_NEAR(static_cast<double>(c48.size()), 6.0 * c8.size(), 6);
    EXPECT_GT(test::rms(c8), 500) << "silent";
    EXPECT_GT(test::rms(c48), 500);
    // Trimmed: speech within 40 ms of each end.
    EXPECT_GT(test::rms(c8.first(320)), 20);
    EXPECT_GT(test::rms(c8.last(320)), 20);
  }
  EXPECT_TRUE(lib_->clip("greeting", 44100).empty());
  EXPECT_TRUE(lib_->clip("no_such_prompt", 8000).empty());
  EXPECT_FALSE(lib_->contains("no_such_prompt"));
  // The menu is the longest sentence: ten topics.
  EXPECT_GT(lib_->clip("menu", 8000).size(), 15u * 8000u);
}

// Runs of sound separated by at least `min_gap_ms` of digital silence.
std::vector<std::pair<size_t, size_t>> sound_runs(std::span<const int16_t> pcm, uint32_t rate, uint32_t min_gap_ms) {
  std::vector<std::pair<size_t, size_t>> runs;
  const size_t min_gap = rate * min_gap_ms / 1000;
  size_t i = 0;
  while (i < pcm.size()) {
    while (i < pcm.size() && pcm[i] == 0) ++i;
    if (i == pcm.size()) break;
    const size_t start = i;
    size_t zeros = 0, end = i;
    for (; i < pcm.size() && zeros < min_gap; ++i) {
      if (pcm[i] == 0)
        ++zeros;
      else
        zeros = 0, end = i + 1;
    }
    runs.emplace_back(start, end);
  }
  return runs;
}

TEST_F(prompts, work_id_announcement_says_gonghao_then_each_digit) {
  for (uint32_t rate : library_rates) {
    SCOPED_TRACE(rate);
    const auto pcm = ok(lib_->work_id_announcement("1023", rate));
    const std::string_view names[] = {"work_id", "digit_1", "digit_0", "digit_2", "digit_3"};
    const size_t gap = rate * prompt_library::default_gap_ms / 1000;
    size_t expected = 0;
    for (auto n : names) expected += lib_->clip(n, rate).size();
    expected += 4 * gap;
    ASSERT_EQ(pcm.size(), expected);
    // Each clip where it belongs, exact digital silence between them.
    size_t at = 0;
    for (size_t i = 0; i < std::size(names); ++i) {
      auto c = lib_->clip(names[i], rate);
      EXPECT_TRUE(std::equal(c.begin(), c.end(), pcm.begin() + static_cast<std::ptrdiff_t>(at))) << names[i];
      at += c.size();
      if (i + 1 < std::size(names)) {
        EXPECT_TRUE(std::all_of(pcm.begin() + static_cast<std::ptrdiff_t>(at),
                                pcm.begin() + static_cast<std::ptrdiff_t>(at + gap), [](int16_t s) { return s == 0; }));
        at += gap;
      }
    }
    // What a listener hears: five separate utterances, each with energy.
    auto runs = sound_runs(pcm, rate, prompt_library::default_gap_ms - 10);
    ASSERT_EQ(runs.size(), 5u);
    for (auto [s, e] : runs) EXPECT_GT(test::rms(std::span(pcm).subspan(s, e - s)), 500);
    // 工号 is two syllables, a digit one: the first run is the longest.
    EXPECT_GT(runs[0].second - runs[0].first, runs[1].second - runs[1].first);
  }
  // With N-05's closing words, and an 8 kHz clip 1/6 as long as the 48 kHz one.
  const auto full8 = ok(lib_->work_id_announcement("1024", 8000, true));
  const auto full48 = ok(lib_->work_id_announcement("1024", 48000, true));
  EXPECT_NEAR(static_cast<double>(full48.size()), 6.0 * full8.size(), 6.0 * 6);
  EXPECT_GT(full8.size(), ok(lib_->work_id_announcement("1024", 8000)).size() + 8000 / 2);

  auto bad = lib_->work_id_announcement("10a3", 8000);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(bad));
  EXPECT_EQ(std::get<prompt_error>(bad).code, errc::bad_argument);
  EXPECT_TRUE(std::holds_alternative<prompt_error>(lib_->work_id_announcement("", 8000)));
  EXPECT_TRUE(std::holds_alternative<prompt_error>(lib_->work_id_announcement("1023", 44100)));
}

TEST_F(prompts, queue_wait_and_hours_announcements) {
  const auto q = ok(lib_->queue_position_announcement(3, 8000));
  EXPECT_GT(q.size(),
            lib_->clip("queue_position_before", 8000).size() + lib_->clip("queue_position_after", 8000).size());
  const auto q23 = ok(lib_->queue_position_announcement(23, 8000));
  EXPECT_GT(q23.size(), q.size());  // 二十三 is longer than 三
  const auto w = ok(lib_->expected_wait_announcement(5, 8000));
  EXPECT_GT(w.size(), 8000u / 2);
  const auto h = ok(lib_->after_hours_announcement(8, 21, 16000));
  EXPECT_GT(h.size(), lib_->clip("after_hours_intro", 16000).size() + lib_->clip("after_hours_options", 16000).size());
  EXPECT_TRUE(std::holds_alternative<prompt_error>(lib_->after_hours_announcement(8, 25, 8000)));

  const std::string_view unknown[] = {"greeting", "no_such_clip"};
  auto e = lib_->compose(unknown, 8000);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(e));
  EXPECT_EQ(std::get<prompt_error>(e).code, errc::unknown_clip);
  EXPECT_NE(std::get<prompt_error>(e).message.find("no_such_clip"), std::string::npos);
}

TEST_F(prompts, hold_music_loops_quietly) {
  for (uint32_t rate : library_rates) {
    auto m = lib_->clip(clip::hold_music, rate);
    EXPECT_EQ(m.size(), 8u * rate);
    EXPECT_GT(test::rms(m), 500);
    EXPECT_LT(*std::max_element(m.begin(), m.end()), 8000);   // well below full scale
    EXPECT_LT(std::abs(m.front()) + std::abs(m.back()), 50);  // no click at the loop point
  }
}

// ---- pure parts: numbers, menu, WAV, resampling --------------------------------------------

using names = std::vector<std::string_view>;

TEST(prompt_numbers, digits_are_read_one_by_one_with_yao_for_one) {
  EXPECT_EQ(digit_clips("1023"), (names{"digit_1", "digit_0", "digit_2", "digit_3"}));
  EXPECT_TRUE(digit_clips("12a").empty());
}

TEST(prompt_numbers, counts_are_said_the_mandarin_way) {
  EXPECT_EQ(count_clips(0), (names{"digit_0"}));
  EXPECT_EQ(count_clips(1), (names{"count_one"}));
  EXPECT_EQ(count_clips(2), (names{"count_two"}));  // 两位
  EXPECT_EQ(count_clips(7), (names{"digit_7"}));
  EXPECT_EQ(count_clips(10), (names{"count_ten"}));
  EXPECT_EQ(count_clips(12), (names{"count_ten", "digit_2"}));  // 十二, not 十两
  EXPECT_EQ(count_clips(20), (names{"digit_2", "count_ten"}));  // 二十
  EXPECT_EQ(count_clips(21), (names{"digit_2", "count_ten", "count_one"}));
  EXPECT_EQ(count_clips(105), (names{"count_one", "count_hundred", "digit_0", "digit_5"}));
  EXPECT_EQ(count_clips(110), (names{"count_one", "count_hundred", "count_one", "count_ten"}));
  EXPECT_EQ(count_clips(250), (names{"count_two", "count_hundred", "digit_5", "count_ten"}));
  EXPECT_EQ(count_clips(5000), count_clips(999));
}

TEST(prompt_numbers, the_menu_says_every_topic_and_its_key) {
  const char* numerals[] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  std::string_view menu;
  for (const auto& p : default_prompts())
    if (p.name == clip::menu) menu = p.text;
  ASSERT_FALSE(menu.empty());
  ASSERT_EQ(menu_topics().size(), 10u);
  for (const auto& t : menu_topics()) {
    SCOPED_TRACE(t.id);
    auto at = menu.find(t.spoken);
    ASSERT_NE(at, std::string_view::npos);
    const std::string key = std::string("请按") + numerals[t.key - '0'];
    auto key_at = menu.find(key, at);
    ASSERT_NE(key_at, std::string_view::npos);
    EXPECT_EQ(menu.find("请按", at), key_at) << "the next key after the topic is its own";
  }
}

std::vector<std::byte> wav_bytes(uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits,
                                 const std::vector<int16_t>& samples, uint32_t declared_data = 0) {
  std::vector<std::byte> b;
  auto put = [&](const void* p, size_t n) {
    auto* c = static_cast<const std::byte*>(p);
    b.insert(b.end(), c, c + n);
  };
  auto u32 = [&](uint32_t v) { put(&v, 4); };
  auto u16 = [&](uint16_t v) { put(&v, 2); };
  const uint32_t data = static_cast<uint32_t>(samples.size() * 2);
  put("RIFF", 4);
  u32(36 + data);
  put("WAVE", 4);
  put("LIST", 4);  // a chunk to skip
  u32(3);
  put("abc\0", 4);  // 3 bytes + pad
  put("fmt ", 4);
  u32(16);
  u16(format);
  u16(channels);
  u32(rate);
  u32(rate * channels * bits / 8);
  u16(static_cast<uint16_t>(channels * bits / 8));
  u16(bits);
  put("data", 4);
  u32(declared_data ? declared_data : data);
  put(samples.data(), data);
  return b;
}

TEST(prompt_wav, reads_mono_and_mixes_stereo_down) {
  auto mono = parse_wav(wav_bytes(1, 1, 22050, 16, {1, -2, 3}));
  ASSERT_TRUE(std::holds_alternative<mono_pcm>(mono));
  EXPECT_EQ(std::get<mono_pcm>(mono).rate, 22050u);
  EXPECT_EQ(std::get<mono_pcm>(mono).samples, (std::vector<int16_t>{1, -2, 3}));
  auto stereo = parse_wav(wav_bytes(1, 2, 8000, 16, {100, 300, -100, -300}));
  ASSERT_TRUE(std::holds_alternative<mono_pcm>(stereo));
  EXPECT_EQ(std::get<mono_pcm>(stereo).samples, (std::vector<int16_t>{200, -200}));
  // A writer that never fixed the header: data size past the end is cut to what is there.
  auto unfinished = parse_wav(wav_bytes(1, 1, 8000, 16, {5, 6}, 0x7ffff000));
  ASSERT_TRUE(std::holds_alternative<mono_pcm>(unfinished));
  EXPECT_EQ(std::get<mono_pcm>(unfinished).samples.size(), 2u);
}

TEST(prompt_wav, refuses_what_it_does_not_read) {
  auto expect_bad = [](const std::vector<std::byte>& b, const char* says) {
    auto r = parse_wav(b);
    ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
    EXPECT_EQ(std::get<prompt_error>(r).code, errc::bad_wav);
    EXPECT_NE(std::get<prompt_error>(r).message.find(says), std::string::npos) << std::get<prompt_error>(r).message;
  };
  expect_bad(wav_bytes(1, 1, 8000, 8, {0}), "8-bit");
  expect_bad(wav_bytes(3, 1, 8000, 16, {0}), "only PCM");
  expect_bad({}, "RIFF");
  auto cut = wav_bytes(1, 1, 8000, 16, {1, 2});
  cut.resize(40);  // inside the fmt chunk
  expect_bad(cut, "fmt");
  // Every prefix of a good file is either read or refused: never read out of bounds.
  auto good = wav_bytes(1, 2, 8000, 16, {1, 2, 3, 4});
  for (size_t n = 0; n <= good.size(); ++n) (void)parse_wav(std::span(good).first(n));
}

TEST(prompt_resample, keeps_the_tone_and_the_length) {
  const auto tone = test::sine(1000, 22050, 22050);  // 1 s
  for (uint32_t rate : library_rates) {
    auto out = resample_clip(tone, 22050, rate);
    EXPECT_EQ(out.size(), rate);
    // The middle (away from the filter's edges) is still a 1 kHz tone at full level.
    auto mid = std::span(out).subspan(rate / 4, rate / 2);
    EXPECT_NEAR(test::rms(mid), 8000 / std::sqrt(2.0), 300);
    EXPECT_GT(test::db(test::tone_power(mid, 1000, rate) / test::tone_power(mid, 1500, rate)), 40);
  }
}

TEST(prompt_trim, cuts_silence_keeps_a_margin) {
  std::vector<int16_t> pcm(8000, 0);
  auto tone = test::sine(500, 8000, 800);
  std::copy(tone.begin(), tone.end(), pcm.begin() + 4000);
  auto t = trim_silence(pcm, 8000, 20);
  EXPECT_NEAR(static_cast<double>(t.size()), 800 + 2 * 160, 4);
  EXPECT_TRUE(trim_silence(std::vector<int16_t>(100, 3), 8000).empty());
}

// ---- failures --------------------------------------------------------------------------------

TEST(prompt_failures, no_espeak_is_a_clear_error) {
  test::temp_dir dir;
  generate_options o;
  o.espeak = "/nonexistent/espeak-ng";
  auto r = generate_prompts(dir.path(), default_prompts(), o);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::tool_missing);
  EXPECT_NE(std::get<prompt_error>(r).message.find("install the espeak-ng package"), std::string::npos);
  o.espeak = "no-such-espeak-on-path";
  r = generate_prompts(dir.path(), default_prompts(), o);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::tool_missing);
}

TEST(prompt_failures, espeak_failing_is_a_clear_error) {
  test::temp_dir dir;
  generate_options o;
  o.voice = "nosuchvoice";
  auto r = generate_prompts(dir.path(), default_prompts(), o);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::tool_failed);
  EXPECT_NE(std::get<prompt_error>(r).message.find("exited with status"), std::string::npos)
      << std::get<prompt_error>(r).message;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // no half-made files
}

TEST(prompt_failures, unwritable_directory_is_a_clear_error) {
  test::temp_dir dir;
  std::ofstream(dir.sub("file")) << "x";
  // Under a regular file: no directory can be made there (root or not).
  auto r = generate_prompts(dir.sub("file/prompts"));
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::dir_unwritable);
  EXPECT_NE(std::get<prompt_error>(r).message.find(dir.sub("file/prompts")), std::string::npos);
}

TEST(prompt_failures, bad_names_and_texts_are_refused) {
  test::temp_dir dir;
  const prompt_text bad_name[] = {{"../escape", "你好"}};
  auto r = generate_prompts(dir.path(), bad_name);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::bad_argument);
  const prompt_text option[] = {{"opt", "--help"}};
  r = generate_prompts(dir.path(), option);
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::bad_argument);
}

TEST(prompt_failures, missing_or_broken_files_on_load) {
  test::temp_dir dir;
  auto r = prompt_library::load(dir.path());
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::missing_prompt);
  EXPECT_NE(std::get<prompt_error>(r).message.find("generate_prompts"), std::string::npos);
  std::ofstream(dir.sub("greeting.wav")) << "not a wav file at all";
  r = prompt_library::load(dir.path());
  ASSERT_TRUE(std::holds_alternative<prompt_error>(r));
  EXPECT_EQ(std::get<prompt_error>(r).code, errc::bad_wav);
  EXPECT_NE(std::get<prompt_error>(r).message.find("greeting.wav"), std::string::npos);
}

}  // namespace
}  // namespace hotline
