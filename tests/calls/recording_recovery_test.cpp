// After a crash: recordings a killed server left half in spill files are finished at the
// next start, and the call records waiting for them get their length and checksum.
#include "actors/call/recording_recovery.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "actors/runtime/runtime.hpp"
#include "media/record/recorder.hpp"
#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "tests/media/audio_checks.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline {
namespace {

using namespace std::chrono_literals;

// Commits as the storage writer does, synchronously.
struct direct_writer final : actors::durable_writer {
  storage::env& env;
  explicit direct_writer(storage::env& e) : env(e) {}
  void write(storage::write_batch batch, done_fn done) override {
    auto results = env.commit(std::span(&batch, 1));
    if (done) done(results.at(0), 0);
  }
};

// What a server killed while its pool was behind leaves: each call's Ogg file with its
// first two seconds, and the rest in `<file>.pcm` (+ `.pcm.from`). Made by a pool that
// takes the first frames live, spills a burst and never encodes it back, copied while it
// is idle (so, as a kill leaves it).
void leave_spilled_recordings(const test::temp_dir& scratch, const std::vector<std::string>& targets) {
  record::pool_config config;
  config.catch_up_slice = 0ms;
  config.poll_interval = 10ms;
  record::recorder_pool pool(config);
  record::recording_options o;
  o.path = scratch.sub("live.opus");
  auto opened = pool.open(o);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<record::recording>>(opened));
  auto& rec = *std::get<std::unique_ptr<record::recording>>(opened);
  for (size_t f = 0; f < 250; ++f) {
    ASSERT_TRUE(rec.write(test::sine(440, 8000, 160, f * 160), test::sine(1000, 8000, 160, f * 160)));
    if (f < 100) std::this_thread::sleep_for(2ms);  // then 150 frames at once: the ring lags, it spills
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((!std::filesystem::exists(o.path + ".pcm") || std::filesystem::file_size(o.path + ".pcm") < 100 * 640) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_GE(std::filesystem::file_size(o.path + ".pcm"), 100u * 640u) << "the pool did not spill";
  ASSERT_GT(std::filesystem::file_size(o.path), 2000u) << "no audio was encoded before the spill";
  for (const auto& t : targets)
    for (const char* ext : {"", ".pcm", ".pcm.from"}) std::filesystem::copy_file(o.path + ext, t + ext);
}

TEST(recording_recovery, spilled_recordings_are_finished_and_their_records_completed) {
  test::temp_dir dir;
  std::filesystem::create_directories(dir.sub("db"));
  std::filesystem::create_directories(dir.sub("recordings"));
  std::error_code ec;
  auto env = storage::env::open({.dir = dir.sub("db")}, ec);
  ASSERT_TRUE(env) << ec.message();
  direct_writer writer(*env);

  const uint64_t with_record = 1234567, without_record = 7654321;
  auto path = [&](uint64_t id) { return dir.sub("recordings") + "/" + std::to_string(id) + ".opus"; };
  ASSERT_NO_FATAL_FAILURE(leave_spilled_recordings(dir, {path(with_record), path(without_record)}));
  // The first call ended before the crash: its record is stored, waiting for the file.
  boost::json::object rec{{"from", "13800138000"}, {"recording", path(with_record)}, {"recording_pending", true}};
  storage::write_batch b;
  b.put(storage::table::calls, storage::be64(with_record), storage::encode_record(rec, 1));
  ASSERT_FALSE(env->commit(std::span(&b, 1)).at(0));

  {
    record::recorder_pool pool;
    EXPECT_EQ(calls::recover_recordings(dir.sub("recordings"), 1, pool, env.get(), writer), 2u);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (pool.active() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(pool.active(), 0u);
  }

  for (uint64_t id : {with_record, without_record}) {
    SCOPED_TRACE(id);
    EXPECT_FALSE(std::filesystem::exists(path(id) + ".pcm"));
    EXPECT_FALSE(std::filesystem::exists(path(id) + ".pcm.from"));
    EXPECT_EQ(test::run_tool({"opusinfo", path(id)}), 0) << "opusinfo finds fault with " << path(id);
    auto d = test::decode_recording(path(id), dir.path(), 8000);
    ASSERT_TRUE(d) << "opusdec cannot play " << path(id);
    EXPECT_GE(d->left.size(), 200u * 160u);
  }
  auto txn = env->read();
  auto stored = txn.get(storage::table::calls, storage::be64(with_record));
  ASSERT_TRUE(stored);
  auto updated = storage::decode_record(*stored);
  ASSERT_TRUE(updated);
  EXPECT_FALSE(updated->contains("recording_pending"));
  EXPECT_EQ(updated->at("from").as_string(), "13800138000");
  EXPECT_EQ(updated->at("recording_sha256").as_string(), test::file_sha256(path(with_record)));
  EXPECT_GE(updated->at("recording_ms").to_number<uint64_t>(), 200u * 20u);
  EXPECT_TRUE(updated->at("recording_recovered").as_bool());
  // The call without a record got none made up for it.
  EXPECT_FALSE(txn.get(storage::table::calls, storage::be64(without_record)));
}

TEST(recording_recovery, a_spill_file_without_its_start_is_left_alone) {
  test::temp_dir dir;
  const std::string opus = dir.sub("42.opus");
  {
    std::ofstream(opus + ".pcm") << std::string(6400, '\0');
  }
  record::recorder_pool pool;
  struct nowhere final : actors::durable_writer {
    void write(storage::write_batch, done_fn) override { ADD_FAILURE() << "nothing to write"; }
  } writer;
  EXPECT_EQ(calls::recover_recordings(dir.path(), 1, pool, nullptr, writer), 0u);
  EXPECT_TRUE(std::filesystem::exists(opus + ".pcm")) << "audio that cannot be placed is evidence: kept";
}

}  // namespace
}  // namespace hotline
