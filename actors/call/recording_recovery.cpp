#include "actors/call/recording_recovery.hpp"

#include <charconv>
#include <filesystem>

#include "actors/runtime/log.hpp"
#include "actors/runtime/runtime.hpp"
#include "media/record/recorder.hpp"
#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::calls {

namespace {

// The finished recording into call `id`'s record, if it has one that waits for it.
void complete_record(storage::env* env, actors::durable_writer& writer, uint64_t id,
                     const record::recording_result& r) {
  const std::string call = std::to_string(id);
  if (r.error) log::error("calls", "recording not recovered", {{"call", call}, {"error", r.error->message}});
  else
    log::info("calls", "recording recovered after a crash",
              {{"call", call}, {"ms", std::to_string(r.duration_ms)}, {"spilled_frames", std::to_string(r.frames_spilled)}});
  if (!env) return;
  std::optional<boost::json::object> rec;
  {
    auto txn = env->read();
    auto v = txn.ok() ? txn.get(storage::table::calls, storage::be64(id)) : std::nullopt;
    if (v) rec = storage::decode_record(*v);
  }
  if (!rec) return log::warn("calls", "recovered recording has no call record (the server stopped during the call)",
                             {{"call", call}, {"path", r.path}});
  if (!rec->contains("recording_pending")) return;  // its record was completed before
  add_recording_report(*rec, r);
  (*rec)["recording_recovered"] = true;
  storage::write_batch b;
  b.put(storage::table::calls, storage::be64(id), storage::encode_record(std::move(*rec), 1));
  writer.write(std::move(b), [call](std::error_code ec, uint64_t) {
    if (ec) log::error("calls", "recovered recording not added to the call record", {{"call", call}, {"error", ec.message()}});
  });
}

}  // namespace

void add_recording_report(boost::json::object& record, const record::recording_result& r) {
  record.erase("v");
  record.erase("recording_pending");
  record["recording_ms"] = r.duration_ms;
  record["recording_sha256"] = r.sha256;
  if (r.error) record["recording_error"] = r.error->message;
}

size_t recover_recordings(const std::string& dir, int complexity, record::recorder_pool& pool, storage::env* env,
                          actors::durable_writer& writer) {
  std::error_code ec;
  size_t started = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view suffix = ".opus.pcm";
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    uint64_t id = 0;
    const std::string_view stem(name.data(), name.size() - suffix.size());
    auto [end, err] = std::from_chars(stem.data(), stem.data() + stem.size(), id);
    const bool is_call = err == std::errc() && end == stem.data() + stem.size();
    const std::string path = entry.path().string();
    const std::string opus = path.substr(0, path.size() - 4);  // without ".pcm"
    auto failed = pool.recover(opus, complexity, [env, &writer, id, is_call](const record::recording_result& r) {
      if (is_call) complete_record(env, writer, id, r);
      else log::info("calls", "recording recovered after a crash", {{"path", r.path}});
    });
    if (failed) {
      log::error("calls", "spilled recording left as it is", {{"path", path}, {"error", failed->message}});
      continue;
    }
    ++started;
  }
  if (started) log::info("calls", "finishing recordings a crash left unfinished", {{"recordings", std::to_string(started)}});
  return started;
}

}  // namespace hotline::calls
