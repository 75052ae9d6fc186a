// What a call's stereo recording costs (N-42, media/record): the recorder pool encodes
// `calls` recordings of speech (the espeak-ng prompts, caller left, agent right) for
// `seconds` each, as fast as its one thread can, and the process's CPU time is divided
// by the frames encoded. The producer only copies frames into the rings (it sleeps while
// a ring is full), so nearly all of the CPU is the pool's: Opus encoding, Ogg paging,
// SHA-256, write().
//
//   build/release/tests/bench/record_bench --prompts build/release/test-prompts [--calls 40]
//       [--seconds 30] [--complexity 4] [--turns 0]
//
// --turns S: a conversation, the caller and the agent speaking in turns of S seconds (the
// other side silent: digital silence, as G.711 silence decodes); 0 (the default): both
// sides speak all the time, the recorder's worst case.
//
// Prints µs of CPU per 20 ms stereo frame and what that is per live call (50 frames/s).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "media/prompt/library.hpp"
#include "media/record/recorder.hpp"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hotline;
  std::string prompts_dir;
  int calls = 40, seconds = 30, complexity = record::recording_options{}.complexity, turns = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--prompts") prompts_dir = v;
    else if (k == "--calls") calls = std::max(1, std::atoi(v.c_str()));
    else if (k == "--seconds") seconds = std::max(1, std::atoi(v.c_str()));
    else if (k == "--complexity") complexity = std::atoi(v.c_str());
    else if (k == "--turns") turns = std::max(0, std::atoi(v.c_str()));
  }
  if (prompts_dir.empty()) return std::fprintf(stderr, "usage: record_bench --prompts DIR [...]\n"), 2;
  auto lib = prompt::prompt_library::load(prompts_dir);
  if (!std::holds_alternative<prompt::prompt_library>(lib))
    return std::fprintf(stderr, "cannot load prompts from %s\n", prompts_dir.c_str()), 1;
  auto& prompts = std::get<prompt::prompt_library>(lib);
  std::vector<int16_t> speech;
  for (const auto& p : prompt::default_prompts()) {
    auto clip = prompts.clip(p.name, 8000);
    speech.insert(speech.end(), clip.begin(), clip.end());
  }
  if (speech.size() < 8000) return std::fprintf(stderr, "no speech in the prompts\n"), 1;

  auto dir = std::filesystem::temp_directory_path() / ("record_bench." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const size_t frame = 160, frames = static_cast<size_t>(seconds) * 50;
  double cpu0 = cpu_seconds();
  auto wall0 = std::chrono::steady_clock::now();
  uint64_t dropped = 0, bytes = 0, silent = 0;
  const std::vector<int16_t> quiet(frame);
  {
    record::recorder_pool pool;
    std::vector<std::unique_ptr<record::recording>> recs;
    std::atomic<int> done{0};
    for (int c = 0; c < calls; ++c) {
      record::recording_options o;
      o.path = (dir / (std::to_string(c) + ".opus")).string();
      o.complexity = complexity;
      o.on_done = [&](const record::recording_result& r) {
        bytes += r.bytes;
        dropped += r.frames_dropped;
        silent += r.silent_frames;
        ++done;
      };
      auto r = pool.open(std::move(o));
      if (!std::holds_alternative<std::unique_ptr<record::recording>>(r))
        return std::fprintf(stderr, "open: %s\n", std::get<record::record_error>(r).message.c_str()), 1;
      recs.push_back(std::move(std::get<0>(r)));
    }
    for (size_t f = 0; f < frames; ++f)
      for (int c = 0; c < calls; ++c) {
        auto& rec = recs[static_cast<size_t>(c)];
        while (rec->queued() + 1 >= 250) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        size_t at = (f * frame + static_cast<size_t>(c) * 4000) % (speech.size() - frame);
        size_t other = (at + speech.size() / 2) % (speech.size() - frame);
        std::span<const int16_t> caller = std::span(speech).subspan(at, frame), agent = std::span(speech).subspan(other, frame);
        if (turns > 0) ((f / (static_cast<size_t>(turns) * 50)) % 2 ? caller : agent) = quiet;
        rec->write(caller, agent);
      }
    for (auto& r : recs) r->close();
    while (done.load() < calls) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double cpu = cpu_seconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  double total = static_cast<double>(frames) * calls;
  std::printf("record_bench: %d recordings x %d s of speech, 8 kHz stereo, complexity %d, %s\n", calls, seconds,
              complexity, turns ? ("speaking in turns of " + std::to_string(turns) + " s").c_str() : "both sides speaking");
  std::printf("  CPU %.2f s (wall %.2f s) for %.0f frames: %.1f us per frame, %.2f %% of a core per live call; "
              "%.1f kB/s per call; %.1f %% of side-frames stored as silence; %llu frames dropped\n",
              cpu, wall, total, cpu / total * 1e6, cpu / total * 50 * 100, bytes / 1000.0 / (seconds * calls),
              100.0 * static_cast<double>(silent) / (2 * total), static_cast<unsigned long long>(dropped));
  std::filesystem::remove_all(dir);
  return dropped == 0 ? 0 : 1;
}
