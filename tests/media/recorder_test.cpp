// The call recorder (N-42): one Ogg Opus file per call, caller left, agent right, decoded
// here with the tools an auditor would use (opusdec, sox); the completion report (path,
// duration, SHA-256, drops); a full queue that drops instead of blocking; a SIGKILL
// mid-call that still leaves a playable file; errors as values.
#include "media/record/recorder.hpp"

#include <gtest/gtest.h>
#include <opus/opus.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "media/prompt/library.hpp"
#include "tests/media/audio_checks.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline {
namespace {

using record::recording;
using record::recording_result;

// Collects completion reports from the pool thread.
class completions {
 public:
  record::completion_handler handler() {
    return [this](const recording_result& r) {
      std::lock_guard lk(m_);
      results_.push_back(r);
      cv_.notify_all();
    };
  }
  // The n-th report (1-based), waiting for it; nullopt after 30 s.
  std::optional<recording_result> wait(size_t n = 1) {
    std::unique_lock lk(m_);
    if (!cv_.wait_for(lk, std::chrono::seconds(30), [&] { return results_.size() >= n; })) return std::nullopt;
    return results_[n - 1];
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<recording_result> results_;
};

record::recording_options options_for(const std::string& path, uint32_t rate, completions& done) {
  record::recording_options o;
  o.path = path;
  o.sample_rate = rate;
  o.call_id = "call-42";
  o.start_time = "2026-11-23T09:00:00+08:00";
  o.extra_comments = {{"AGENT_WORK_ID", "1024"}};
  o.on_done = done.handler();
  return o;
}

std::unique_ptr<recording> must_open(record::recorder_pool& pool, record::recording_options o) {
  auto opened = pool.open(std::move(o));
  if (auto* e = std::get_if<record::record_error>(&opened)) {
    ADD_FAILURE() << "open: " << e->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<recording>>(opened));
}

// `frames` 20 ms frames: 440 Hz for the caller, 1 kHz for the agent.
void write_tones(recording& rec, uint32_t rate, size_t frames, size_t first_frame = 0) {
  const size_t n = rate / 50;
  for (size_t f = first_frame; f < first_frame + frames; ++f) {
    auto caller = test::sine(440, rate, n, f * n);
    auto agent = test::sine(1000, rate, n, f * n);
    ASSERT_TRUE(rec.write(caller, agent)) << "frame " << f;
  }
}

// Left carries 440 Hz and not 1 kHz, right the other way round: > 30 dB apart.
void expect_caller_left_agent_right(const test::decoded_call& d, uint32_t rate) {
  ASSERT_GT(d.left.size(), rate / 2);
  const double l440 = test::tone_power(d.left, 440, rate), l1k = test::tone_power(d.left, 1000, rate);
  const double r440 = test::tone_power(d.right, 440, rate), r1k = test::tone_power(d.right, 1000, rate);
  EXPECT_GT(test::db(l440 / l1k), 30) << "the agent leaks into the caller's channel";
  EXPECT_GT(test::db(r1k / r440), 30) << "the caller leaks into the agent's channel";
  EXPECT_GT(test::rms(d.left), 3000);  // 8000 peak sine: ~5657 RMS, Opus keeps most of it
  EXPECT_GT(test::rms(d.right), 3000);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Correlation of 20 ms energy envelopes: does `decoded` follow `source`?
double envelope_correlation(std::span<const int16_t> source, std::span<const int16_t> decoded) {
  std::vector<double> a, b;
  for (size_t f = 0; (f + 1) * 160 <= source.size() && (f + 1) * 160 <= decoded.size(); ++f) {
    a.push_back(test::rms(source.subspan(f * 160, 160)));
    b.push_back(test::rms(decoded.subspan(f * 160, 160)));
  }
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i] / a.size(), mb += b[i] / b.size();
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

// `text` spoken by espeak-ng, at 8 kHz, cut to whole 20 ms frames; empty if it failed.
std::vector<int16_t> espeak_8k(const test::temp_dir& dir, const std::string& text) {
  const std::string raw = dir.sub("speech.wav");
  if (test::run_tool({"espeak-ng", "-v", "cmn-latn-pinyin", "-w", raw, text}) != 0) return {};
  auto wav = prompt::read_wav(raw);
  if (!std::holds_alternative<prompt::mono_pcm>(wav)) return {};
  const auto& src = std::get<prompt::mono_pcm>(wav);
  auto pcm = prompt::resample_clip(src.samples, src.rate, 8000);
  pcm.resize(pcm.size() / 160 * 160);
  return pcm;
}

// One 8 kHz call recorded whole (the ring holds it all): `left` and `right` frame by
// frame (an empty side sent nothing), then the pool's report.
std::optional<recording_result> record_whole_call(const test::temp_dir& dir, std::span<const int16_t> left,
                                                  std::span<const int16_t> right) {
  const size_t frames = left.size() / 160;
  completions done;
  record::recorder_pool pool;
  auto o = options_for(dir.sub("call.opus"), 8000, done);
  o.queue_frames = frames + 1;
  auto rec = must_open(pool, o);
  if (!rec) return std::nullopt;
  for (size_t f = 0; f < frames; ++f)
    if (!rec->write(left.subspan(f * 160, 160), right.empty() ? right : right.subspan(f * 160, 160))) {
      ADD_FAILURE() << "frame " << f << " not taken";
      return std::nullopt;
    }
  rec->close();
  return done.wait();
}

TEST(recorder, caller_is_left_agent_is_right_and_the_report_matches_the_file) {
  test::temp_dir dir;
  completions done;
  record::recorder_pool pool;
  auto o = options_for(dir.sub("call.opus"), 8000, done);
  o.queue_frames = 300;  // the whole call fits: this test is not about drops
  auto rec = must_open(pool, o);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->frame_samples(), 160u);
  write_tones(*rec, 8000, 250);  // 5 s
  rec->close();
  auto r = done.wait();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error) << r->error->message;
  EXPECT_EQ(r->path, dir.sub("call.opus"));
  EXPECT_EQ(r->duration_ms, 5000u);
  EXPECT_EQ(r->frames_dropped, 0u);
  EXPECT_EQ(r->bytes, std::filesystem::file_size(r->path));
  EXPECT_EQ(r->sha256, test::file_sha256(r->path));
  EXPECT_EQ(r->sha256.size(), 64u);
  // About 32 kb/s for the two channels, plus Ogg overhead.
  EXPECT_LT(r->bytes, 5 * 32000 / 8 * 1.3);

  const std::string bytes = file_bytes(r->path);
  EXPECT_NE(bytes.find("CALL_ID=call-42"), std::string::npos);
  EXPECT_NE(bytes.find("DATE=2026-11-23T09:00:00+08:00"), std::string::npos);
  EXPECT_NE(bytes.find("AGENT_WORK_ID=1024"), std::string::npos);
  EXPECT_NE(bytes.find("CHANNELS=left=caller right=agent"), std::string::npos);

  // A well-formed Ogg Opus stream (headers, granule positions, end of stream) whose end
  // trimming gives back exactly the recorded length.
  EXPECT_EQ(test::run_tool({"opusinfo", r->path}), 0);
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d) << "opusdec or sox could not decode " << r->path << " (deploy/install-deps.sh --test)";
  EXPECT_NEAR(static_cast<double>(d->left.size()), 5 * 8000, 8);
  expect_caller_left_agent_right(*d, 8000);
}

// What the media thread had already encoded goes into the file as it is: the caller's
// voice as sent to an Opus agent (narrowband mono) and the agent's own packets (here
// fullband stereo, as phones send them). The pool encodes neither; the file still
// decodes to the caller on the left and the agent on the right.
TEST(recorder, opus_packets_the_media_thread_had_are_stored_as_they_are) {
  test::temp_dir dir;
  completions done;
  record::pool_config live;
  live.spill_lag = 100000;  // the frames come faster than real time; a spilled frame is encoded from PCM
  record::recorder_pool pool(live);
  auto rec = must_open(pool, options_for(dir.sub("packets.opus"), 8000, done));
  ASSERT_TRUE(rec);
  int err = 0;
  OpusEncoder* to_agent = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &err);
  OpusEncoder* phone = opus_encoder_create(48000, 2, OPUS_APPLICATION_VOIP, &err);
  ASSERT_TRUE(to_agent && phone);
  opus_encoder_ctl(to_agent, OPUS_SET_BITRATE(24000));
  opus_encoder_ctl(phone, OPUS_SET_BITRATE(32000));
  std::vector<std::vector<std::byte>> sent_to_agent, from_phone;
  for (size_t f = 0; f < 150; ++f) {
    auto caller = test::sine(440, 8000, 160, f * 160);
    auto agent = test::sine(1000, 8000, 160, f * 160);
    auto agent_48k = test::sine(1000, 48000, 960, f * 960);
    std::vector<int16_t> stereo(2 * 960);
    for (size_t i = 0; i < 960; ++i) stereo[2 * i] = stereo[2 * i + 1] = agent_48k[i];
    std::vector<std::byte> a(400), b(400);
    a.resize(static_cast<size_t>(opus_encode(to_agent, caller.data(), 160, reinterpret_cast<unsigned char*>(a.data()), 400)));
    b.resize(static_cast<size_t>(opus_encode(phone, stereo.data(), 960, reinterpret_cast<unsigned char*>(b.data()), 400)));
    ASSERT_TRUE(rec->write(caller, agent, a, b));
    sent_to_agent.push_back(std::move(a));
    from_phone.push_back(std::move(b));
  }
  opus_encoder_destroy(to_agent);
  opus_encoder_destroy(phone);
  rec->close();
  auto r = done.wait();
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->error) << r->error->message;
  EXPECT_EQ(r->duration_ms, 150u * 20u);
  // The agent's packets are the last stream's, verbatim; the caller's are the first
  // stream's, self-delimited (a length after the TOC byte): their frame data is verbatim.
  const std::string bytes = file_bytes(r->path);
  auto found = [&](std::span<const std::byte> p) {
    return bytes.find(std::string_view(reinterpret_cast<const char*>(p.data()), p.size())) != std::string::npos;
  };
  size_t agents = 0, callers = 0;
  for (size_t f = 0; f < 150; ++f) {
    agents += found(from_phone[f]);
    callers += sent_to_agent[f].size() > 2 && found(std::span(sent_to_agent[f]).subspan(1));
  }
  EXPECT_GE(agents, 140u) << "the agent's packets were not stored as they came";
  EXPECT_GE(callers, 140u) << "the caller's packets were not stored as they came";
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d) << "opusdec cannot play " << r->path;
  expect_caller_left_agent_right(*d, 8000);
}

TEST(recorder, wideband_and_fullband_calls) {
  for (uint32_t rate : {16000u, 48000u}) {
    SCOPED_TRACE(rate);
    test::temp_dir dir;
    completions done;
    record::recorder_pool pool;
    auto rec = must_open(pool, options_for(dir.sub("call.opus"), rate, done));
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->frame_samples(), rate / 50);
    write_tones(*rec, rate, 100);  // 2 s, within the default queue
    rec->close();
    auto r = done.wait();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->error);
    EXPECT_EQ(r->duration_ms, 2000u);
    auto d = test::decode_recording(r->path, dir.path(), rate);
    ASSERT_TRUE(d);
    EXPECT_NEAR(static_cast<double>(d->left.size()), 2.0 * rate, rate * 0.03);
    expect_caller_left_agent_right(*d, rate);
  }
}

TEST(recorder, speech_on_the_left_silence_on_the_right) {
  test::temp_dir dir;
  const auto speech = espeak_8k(dir, "您好，请问有什么可以帮您？我想咨询养老保险的缴费年限。");
  ASSERT_FALSE(speech.empty()) << "espeak-ng is needed (deploy/install-deps.sh)";
  const size_t frames = speech.size() / 160;
  ASSERT_GT(frames, 100u);
  auto r = record_whole_call(dir, speech, {});  // the agent sent nothing
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error);
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d);
  EXPECT_GT(test::rms(d->left), 500);
  EXPECT_LT(test::rms(d->right), 20);
  // The left channel follows the speech: 20 ms energy envelopes correlate.
  EXPECT_GT(envelope_correlation(speech, d->left), 0.9);
  // The silent side was stored as silence, not encoded (after 100 ms of hang-over).
  EXPECT_GE(r->silent_frames, frames - 6);
}

// A side silent for a while is not encoded (its frames are TOC bytes, played as lost
// frames), and what it says after the silence is recorded whole: speech, 2 s of digital
// silence, the speech again on the left; the right says nothing, then a tone.
TEST(recorder, silence_is_not_encoded_and_speech_after_it_is_whole) {
  test::temp_dir dir;
  const auto once = espeak_8k(dir, "请问养老保险的缴费年限是多少年？");
  ASSERT_FALSE(once.empty()) << "espeak-ng is needed (deploy/install-deps.sh)";
  std::vector<int16_t> left = once;
  left.insert(left.end(), 100 * 160, 0);
  left.insert(left.end(), once.begin(), once.end());
  const size_t frames = left.size() / 160;
  auto right = test::sine(1000, 8000, frames * 160, 0);
  std::fill(right.begin(), right.begin() + static_cast<ptrdiff_t>(right.size() / 2), int16_t{0});
  auto r = record_whole_call(dir, left, right);
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->error) << r->error->message;
  EXPECT_EQ(r->duration_ms, frames * 20);
  // Left: the 2 s pause less the hang-over (and espeak's own quiet edges); right: its
  // silent first half less the hang-over.
  EXPECT_GE(r->silent_frames, (100 - 6) + (frames / 2 - 6));
  EXPECT_EQ(test::run_tool({"opusinfo", r->path}), 0);
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d) << "opusdec or sox could not decode " << r->path;
  ASSERT_NEAR(static_cast<double>(d->left.size()), static_cast<double>(left.size()), 8);
  EXPECT_GT(envelope_correlation(left, d->left), 0.9);
  // Each half of the left on its own: the speech after the pause is as good as before it.
  const auto half = once.size() + 50 * 160;
  EXPECT_GT(envelope_correlation(std::span(left).first(half), std::span(d->left).first(half)), 0.9);
  EXPECT_GT(envelope_correlation(std::span(left).subspan(half), std::span(d->left).subspan(half, left.size() - half)), 0.9);
  // The pause decodes as silence (no lost-frame concealment of the last syllable).
  EXPECT_LT(test::rms(std::span(d->left).subspan(once.size() + 10 * 160, 80 * 160)), 20);
  // Right: silence, then the tone from its first frame on (within one frame).
  EXPECT_LT(test::rms(std::span(d->right).first(right.size() / 2 - 160)), 20);
  EXPECT_GT(test::rms(std::span(d->right).subspan(right.size() / 2 + 160, 50 * 160)), 3000);
}

// Holds a one-thread pool's thread until release(): a recording at `path` whose
// completion handler waits (as a slow pool would).
class pool_holder {
 public:
  pool_holder(record::recorder_pool& pool, const std::string& path) {
    auto o = options_for(path, 8000, unused_);
    o.on_done = [this, released = released_](const recording_result&) {
      entered_.set_value();
      released.wait();  // a copy: the holder may go while the pool thread leaves here
    };
    rec_ = must_open(pool, o);
    if (!rec_) return;
    rec_->close();
    entered_.get_future().wait();
  }
  ~pool_holder() { release(); }
  bool holding() const { return rec_ != nullptr; }
  void release() {
    if (!released_flag_) release_.set_value();
    released_flag_ = true;
  }

 private:
  completions unused_;
  std::promise<void> entered_, release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::unique_ptr<recording> rec_;
  bool released_flag_ = false;
};

TEST(recorder, a_full_queue_drops_frames_without_blocking_and_keeps_the_timeline) {
  test::temp_dir dir;
  completions done;
  record::recorder_pool pool;  // one thread
  pool_holder hold(pool, dir.sub("a.opus"));
  ASSERT_TRUE(hold.holding());

  auto b_options = options_for(dir.sub("b.opus"), 8000, done);
  b_options.queue_frames = 10;
  auto b = must_open(pool, b_options);
  ASSERT_TRUE(b);
  const auto tone = test::sine(440, 8000, 160);
  int accepted = 0;
  for (int i = 0; i < 15; ++i) accepted += b->write(tone, tone) ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(b->frames_dropped(), 5u);
  EXPECT_EQ(b->queued(), 10u);

  hold.release();
  while (b->queued() > 0) std::this_thread::yield();  // the pool catches up
  EXPECT_TRUE(b->write(tone, tone));                  // after the 5 dropped frames
  b->close();
  auto r = done.wait();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error);
  EXPECT_EQ(r->frames_dropped, 5u);
  EXPECT_EQ(r->duration_ms, (10u + 5u + 1u) * 20u);  // the drops are silence in the file
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d);
  ASSERT_GE(d->left.size(), 16u * 160u - 80u);
  const std::span left(d->left);
  EXPECT_GT(test::rms(left.subspan(160, 8 * 160)), 3000);      // 20-180 ms: the tone
  EXPECT_LT(test::rms(left.subspan(11 * 160, 3 * 160)), 300);  // 220-280 ms: the gap
}

// Records `left`/`right` at `path` through a pool with `config`, writing `burst` frames at
// a time with `pause` between bursts (0: all at once); the pool's report.
std::optional<recording_result> record_paced(const std::string& path, std::span<const int16_t> left,
                                             std::span<const int16_t> right, record::pool_config config,
                                             size_t burst, std::chrono::milliseconds pause) {
  const size_t frames = left.size() / 160;
  completions done;
  record::recorder_pool pool(config);
  record::recording_options o;
  o.path = path;
  o.call_id = "call-7";
  o.start_time = "2026-11-24T09:00:00+08:00";
  o.queue_frames = frames + 1;
  o.on_done = done.handler();
  auto rec = must_open(pool, o);
  if (!rec) return std::nullopt;
  for (size_t f = 0; f < frames; ++f) {
    if (!rec->write(left.subspan(f * 160, 160), right.subspan(f * 160, 160))) {
      ADD_FAILURE() << "frame " << f << " not taken";
      return std::nullopt;
    }
    // The producer's pace is what is under test (a call's media thread writes in time),
    // not a wait for something to happen.
    if (burst && (f + 1) % burst == 0) std::this_thread::sleep_for(pause);
  }
  rec->close();
  return done.wait();
}

// A conversation: speech on the left, then a pause while the right (a tone) answers.
std::pair<std::vector<int16_t>, std::vector<int16_t>> conversation(const test::temp_dir& dir) {
  auto left = espeak_8k(dir, "我换城市工作了，养老保险怎么转移？");
  const size_t turn = left.size();
  left.resize(2 * turn, 0);
  auto right = test::sine(1000, 8000, 2 * turn, 0);
  std::fill(right.begin(), right.begin() + static_cast<ptrdiff_t>(turn), int16_t{0});
  return {std::move(left), std::move(right)};
}

// When the pool falls behind, recordings go through a spill file and are encoded later:
// the file must be the one live encoding makes, byte for byte (same path, so the same Ogg
// serial), and nothing may be left beside it.
// The same packets: the spill path encodes every frame as live encoding would (the same
// encoder, in order), so the files decode to the same samples. Not the same bytes: a
// spill starts a new Ogg page, so that a crash while spilling loses no frame before it.
TEST(recorder, a_recording_spilled_and_encoded_later_decodes_as_the_live_one) {
  test::temp_dir dir;
  auto [left, right] = conversation(dir);
  ASSERT_GT(left.size(), 160u * 100) << "espeak-ng is needed (deploy/install-deps.sh)";
  const std::string path = dir.sub("call.opus");
  record::pool_config live_config;
  live_config.spill_lag = 100000;  // never
  auto live = record_paced(path, left, right, live_config, 0, {});
  ASSERT_TRUE(live && !live->error);
  EXPECT_EQ(live->frames_spilled, 0u);
  const std::string live_bytes = file_bytes(path);
  auto live_audio = test::decode_recording(path, dir.path(), 8000);
  ASSERT_TRUE(live_audio);
  std::filesystem::rename(path, dir.sub("live.opus"));

  // Everything queued spills (spill_lag 0): written at once, the call is spilled from its
  // start and encoded after it; written in bursts, it spills, catches up and is encoded
  // live again, over and over.
  record::pool_config spill_config;
  spill_config.spill_lag = 0;
  spill_config.poll_interval = std::chrono::milliseconds(20);
  for (size_t burst : {size_t{0}, size_t{37}}) {
    SCOPED_TRACE(burst);
    auto spilled = record_paced(path, left, right, spill_config, burst, std::chrono::milliseconds(30));
    ASSERT_TRUE(spilled);
    ASSERT_FALSE(spilled->error) << spilled->error->message;
    EXPECT_GT(spilled->frames_spilled, left.size() / 160 / 2);
    EXPECT_EQ(spilled->duration_ms, live->duration_ms);
    EXPECT_EQ(spilled->silent_frames, live->silent_frames);
    EXPECT_EQ(spilled->sha256, test::file_sha256(path));
    auto audio = test::decode_recording(path, dir.path(), 8000);
    ASSERT_TRUE(audio);
    EXPECT_TRUE(audio->left == live_audio->left && audio->right == live_audio->right)
        << "the spilled recording sounds different from the live one";
    EXPECT_FALSE(std::filesystem::exists(path + ".pcm")) << "the spill file was left behind";
    EXPECT_FALSE(std::filesystem::exists(path + ".pcm.from"));
    std::filesystem::remove(path);
  }

  // A spill file that cannot be created (here a stale one is in the way; it is evidence and
  // is not overwritten) leaves the recording live: the same file, nothing spilled.
  std::ofstream(path + ".pcm") << "stale";
  auto kept_live = record_paced(path, left, right, spill_config, 0, {});
  ASSERT_TRUE(kept_live);
  ASSERT_FALSE(kept_live->error) << kept_live->error->message;
  EXPECT_EQ(kept_live->frames_spilled, 0u);
  EXPECT_EQ(kept_live->sha256, live->sha256);
  EXPECT_EQ(file_bytes(path + ".pcm"), "stale");
}

// The realistic trigger: the pool's one thread is held up (here by another recording's
// completion handler) while a call goes on. Once free, it finds the call's ring lagging
// past spill_lag, spills it, catches up, and the file is whole: nothing dropped.
TEST(recorder, a_ring_that_lags_spills_instead_of_dropping) {
  test::temp_dir dir;
  completions done;
  record::pool_config config;
  config.spill_lag = 50;
  record::recorder_pool pool(config);
  pool_holder hold(pool, dir.sub("a.opus"));
  ASSERT_TRUE(hold.holding());

  auto b_options = options_for(dir.sub("b.opus"), 8000, done);
  b_options.queue_frames = 250;
  auto b = must_open(pool, b_options);
  ASSERT_TRUE(b);
  write_tones(*b, 8000, 200);  // 4 s the pool does not take
  EXPECT_EQ(b->queued(), 200u);
  hold.release();
  while (b->queued() > 0) std::this_thread::yield();
  write_tones(*b, 8000, 50, 200);
  b->close();
  auto r = done.wait();
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->error) << r->error->message;
  EXPECT_EQ(r->frames_dropped, 0u);
  EXPECT_GE(r->frames_spilled, 200u);
  EXPECT_EQ(r->duration_ms, 250u * 20u);
  EXPECT_EQ(pool.backlog_ms(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("b.opus.pcm")));
  EXPECT_EQ(test::run_tool({"opusinfo", r->path}), 0);
  auto d = test::decode_recording(r->path, dir.path(), 8000);
  ASSERT_TRUE(d);
  EXPECT_NEAR(static_cast<double>(d->left.size()), 250 * 160, 8);
  expect_caller_left_agent_right(*d, 8000);
}

// Records 440 Hz (caller) and 1 kHz (agent) in a child process with `config`, a frame
// every `pace_ms(frame)`, and SIGKILLs it once it has written frame `kill_at`. False if
// it never got there or did not die of the kill.
bool record_in_a_killed_child(const std::string& path, const record::pool_config& config, size_t kill_at,
                              const std::function<int(size_t)>& pace_ms) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    ::close(fds[0]);
    record::recorder_pool pool(config);
    record::recording_options o;
    o.path = path;
    auto opened = pool.open(o);
    if (!std::holds_alternative<std::unique_ptr<recording>>(opened)) ::_exit(2);
    auto& rec = *std::get<std::unique_ptr<recording>>(opened);
    auto tick = std::chrono::steady_clock::now();
    for (size_t frame = 0;; ++frame) {
      rec.write(test::sine(440, 8000, 160, frame * 160), test::sine(1000, 8000, 160, frame * 160));
      if (frame == kill_at) {
        char c = 'x';
        if (::write(fds[1], &c, 1) != 1) ::_exit(3);
      }
      tick += std::chrono::milliseconds(pace_ms(frame));
      std::this_thread::sleep_until(tick);
    }
  }
  ::close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  char c = 0;
  const bool reached = ::poll(&p, 1, 20000) == 1 && ::read(fds[0], &c, 1) == 1;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  return reached && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST(recorder, sigkill_mid_call_leaves_a_playable_file) {
  test::temp_dir dir;
  const std::string path = dir.sub("killed.opus");
  // A media thread's 20 ms tick on the real clock, killed after 3 s of call.
  ASSERT_TRUE(record_in_a_killed_child(path, {}, 150, [](size_t) { return 20; }));

  auto d = test::decode_recording(path, dir.path(), 8000);
  ASSERT_TRUE(d) << "opusdec cannot play the file a killed process left";
  EXPECT_GE(d->left.size(), 2u * 8000u) << "less than 2 s survived";
  expect_caller_left_agent_right(*d, 8000);
}

// The pool is behind (every frame spills, none is encoded back) when the process is
// killed: the Ogg file holds the call's first moments, the spill file the rest. recover()
// in the next process makes it one whole file and removes the spill files.
TEST(recorder, a_spill_left_by_sigkill_is_finished_by_the_next_process) {
  test::temp_dir dir;
  const std::string path = dir.sub("spilled.opus");
  record::pool_config config;
  config.catch_up_slice = std::chrono::milliseconds(0);  // spilled audio waits for the pool's stop
  config.poll_interval = std::chrono::milliseconds(20);
  // 4x real time, but frames 100-199 at once: the ring lags past spill_lag and spills.
  // Killed at 7 s of call, 2 s of it spilled.
  ASSERT_TRUE(record_in_a_killed_child(path, config, 350, [](size_t f) { return f >= 100 && f < 200 ? 0 : 5; }));
  ASSERT_TRUE(std::filesystem::exists(path + ".pcm")) << "the child never spilled";
  ASSERT_TRUE(std::filesystem::exists(path + ".pcm.from"));
  const auto spilled_bytes = std::filesystem::file_size(path + ".pcm");
  ASSERT_GT(spilled_bytes, 100u * 640u) << "less than 2 s in the spill file";
  // Where the spill starts: the frames the Ogg file holds (in whole pages) before it.
  uint64_t before_spill = 0;
  {
    std::ifstream from(path + ".pcm.from");
    std::string word;
    while (from >> word && word != "frame") {
    }
    from >> before_spill;
  }
  EXPECT_GE(before_spill, 50u) << "the call spilled from its start; the Ogg file should hold its first frames";

  completions done;
  {
    record::recorder_pool pool;
    EXPECT_FALSE(pool.recover(path, 1, done.handler()));
    auto r = done.wait();
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->error) << r->error->message;
    // Every spilled frame is in the file, after the frames encoded before the spill.
    EXPECT_EQ(r->duration_ms, (before_spill + spilled_bytes / 640) * 20);
    EXPECT_EQ(r->frames_spilled, spilled_bytes / 640);
    EXPECT_EQ(r->bytes, std::filesystem::file_size(path));
    EXPECT_EQ(r->sha256, test::file_sha256(path));
    EXPECT_FALSE(std::filesystem::exists(path + ".pcm"));
    EXPECT_FALSE(std::filesystem::exists(path + ".pcm.from"));
    EXPECT_EQ(test::run_tool({"opusinfo", path}), 0);
    auto d = test::decode_recording(path, dir.path(), 8000);
    ASSERT_TRUE(d) << "opusdec cannot play the recovered file";
    EXPECT_NEAR(static_cast<double>(d->left.size()), static_cast<double>(r->duration_ms) * 8, 8);
    expect_caller_left_agent_right(*d, 8000);
  }
  // Nothing left to recover: a clear error, and the file is untouched.
  const std::string before = file_bytes(path);
  auto again = record::recorder_pool().recover(path, 1, done.handler());
  ASSERT_TRUE(again);
  EXPECT_NE(again->message.find(".pcm.from"), std::string::npos) << again->message;
  EXPECT_TRUE(file_bytes(path) == before);
}

// Killed after the file was finished but before its spill files were removed: recover()
// leaves the file as it is, reports it, and removes the spill files.
TEST(recorder, recovering_a_finished_file_only_removes_its_spill_files) {
  test::temp_dir dir;
  const std::string path = dir.sub("done.opus");
  completions done;
  {
    record::pool_config config;
    config.spill_lag = 0;
    config.catch_up_slice = std::chrono::milliseconds(0);
    config.poll_interval = std::chrono::milliseconds(10);
    record::recorder_pool pool(config);
    auto rec = must_open(pool, options_for(path, 8000, done));
    ASSERT_TRUE(rec);
    write_tones(*rec, 8000, 100);
    rec->close();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    // Both spill files are created before `.pcm.from` is written (a spill that cannot start
    // changes nothing): wait until it says where the spill starts, not until it exists.
    auto from_written = [&] {
      const std::string text = std::filesystem::exists(path + ".pcm.from") ? file_bytes(path + ".pcm.from") : "";
      return text.find("\nrate ") != std::string::npos && text.back() == '\n';
    };
    while (!from_written() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(std::filesystem::exists(path + ".pcm.from")) << "the recording did not spill";
    std::filesystem::copy_file(path + ".pcm.from", dir.sub("from.keep"));
  }  // the pool's stop encodes the spill, finishes the file and removes the spill files
  auto finished = done.wait();
  ASSERT_TRUE(finished && !finished->error);
  ASSERT_FALSE(std::filesystem::exists(path + ".pcm.from"));
  std::filesystem::copy_file(dir.sub("from.keep"), path + ".pcm.from");
  std::ofstream(path + ".pcm") << std::string(6400, '\0');
  const std::string before = file_bytes(path);

  record::recorder_pool pool;
  EXPECT_FALSE(pool.recover(path, 1, done.handler()));
  auto r = done.wait(2);
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->error) << r->error->message;
  EXPECT_EQ(r->duration_ms, finished->duration_ms);
  EXPECT_EQ(r->sha256, finished->sha256);
  EXPECT_TRUE(file_bytes(path) == before) << "a finished recording was changed";
  EXPECT_FALSE(std::filesystem::exists(path + ".pcm"));
  EXPECT_FALSE(std::filesystem::exists(path + ".pcm.from"));
}

TEST(recorder, closing_the_pool_finishes_open_recordings) {
  test::temp_dir dir;
  completions done;
  std::unique_ptr<recording> rec;
  {
    record::recorder_pool pool;
    rec = must_open(pool, options_for(dir.sub("call.opus"), 8000, done));
    ASSERT_TRUE(rec);
    write_tones(*rec, 8000, 50);
  }
  auto r = done.wait();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error);
  EXPECT_EQ(r->duration_ms, 1000u);
  EXPECT_EQ(r->sha256, test::file_sha256(r->path));
  const auto tone = test::sine(440, 8000, 160);
  EXPECT_FALSE(rec->write(tone, tone));  // the handle outlived the pool: harmless
  rec->close();
}

TEST(recorder, a_call_closed_before_its_first_frame_is_still_a_valid_file) {
  test::temp_dir dir;
  completions done;
  record::recorder_pool pool;
  auto rec = must_open(pool, options_for(dir.sub("empty.opus"), 8000, done));
  ASSERT_TRUE(rec);
  rec->close();
  auto r = done.wait();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error);
  EXPECT_EQ(r->duration_ms, 20u);  // one frame of silence: every recording has audio to play
  EXPECT_EQ(r->sha256, test::file_sha256(r->path));
  EXPECT_EQ(test::run_tool({"opusinfo", r->path}), 0);
  EXPECT_TRUE(test::decode_recording(r->path, dir.path(), 8000));
}

TEST(recorder, two_threads_many_calls) {
  test::temp_dir dir;
  completions done;
  record::pool_config config;
  config.threads = 2;
  record::recorder_pool pool(config);
  std::vector<std::unique_ptr<recording>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(must_open(pool, options_for(dir.sub("call" + std::to_string(i) + ".opus"), 8000, done)));
    ASSERT_TRUE(calls.back());
  }
  EXPECT_EQ(pool.active(), 4u);
  for (size_t f = 0; f < 100; ++f)
    for (auto& c : calls) {
      auto caller = test::sine(440, 8000, 160, f * 160);
      auto agent = test::sine(1000, 8000, 160, f * 160);
      ASSERT_TRUE(c->write(caller, agent));
    }
  for (auto& c : calls) c->close();
  for (size_t n = 1; n <= 4; ++n) {
    auto r = done.wait(n);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->error);
    EXPECT_EQ(r->duration_ms, 2000u);
    EXPECT_EQ(r->sha256, test::file_sha256(r->path));
  }
  auto d = test::decode_recording(dir.sub("call3.opus"), dir.path(), 8000);
  ASSERT_TRUE(d);
  expect_caller_left_agent_right(*d, 8000);
}

TEST(recorder, errors_are_values) {
  test::temp_dir dir;
  completions done;
  record::recorder_pool pool;

  auto bad_rate = pool.open(options_for(dir.sub("x.opus"), 44100, done));
  ASSERT_TRUE(std::holds_alternative<record::record_error>(bad_rate));
  EXPECT_EQ(std::get<record::record_error>(bad_rate).code, record::errc::bad_argument);
  EXPECT_NE(std::get<record::record_error>(bad_rate).message.find("44100"), std::string::npos);
  auto no_path = pool.open(options_for("", 8000, done));
  ASSERT_TRUE(std::holds_alternative<record::record_error>(no_path));

  // A directory that does not exist: reported once the pool tries to create the file.
  auto rec = must_open(pool, options_for(dir.sub("missing/x.opus"), 8000, done));
  ASSERT_TRUE(rec);
  auto r = done.wait(1);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, record::errc::cannot_open);
  EXPECT_NE(r->error->message.find(dir.sub("missing/x.opus")), std::string::npos) << r->error->message;
  EXPECT_NE(r->error->message.find("No such file"), std::string::npos) << r->error->message;
  EXPECT_TRUE(rec->failed());
  const auto tone = test::sine(440, 8000, 160);
  EXPECT_FALSE(rec->write(tone, tone));

  // A recording is never overwritten.
  std::ofstream(dir.sub("exists.opus")) << "evidence";
  auto again = must_open(pool, options_for(dir.sub("exists.opus"), 8000, done));
  ASSERT_TRUE(again);
  again->close();
  r = done.wait(2);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, record::errc::cannot_open);
  EXPECT_NE(r->error->message.find("File exists"), std::string::npos) << r->error->message;
  EXPECT_EQ(file_bytes(dir.sub("exists.opus")), "evidence");
}

}  // namespace
}  // namespace hotline
