// Durable acknowledged writes per second through the storage writer actor.
//
//   storage_bench [--dir BASE] [--seconds S] [--runs R] [--writers 1,16,256] [--baseline 0|1]
//
// Each writer is an event-based actor in a closed loop: send one write request (one
// ~100-byte record into table::stress), wait for the ack (the commit is on disk), send
// the next. Every configuration runs R times for S seconds on a fresh data dir under
// BASE; the report gives the median and min-max of writes/s, and from env.stats() the
// mean batches per commit and the mean commit time (incl. fsync). Two baselines without
// actors show what the disk allows: env.commit() of 1 batch and of 256 batches per call.
#include <sys/vfs.h>

#include <algorithm>
#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "actors/storage/errors.hpp"
#include "actors/storage/writer.hpp"
#include "storage/keys.hpp"

namespace {

using namespace hotline;
using clock_type = std::chrono::steady_clock;

constexpr uint64_t tmpfs_magic = 0x01021994;

struct bench_config : caf::actor_system_config {
  bench_config() {
    add_message_types<caf::id_block::hotline>();
    // As the runtime does (runtime_options::workers = 0): one scheduler thread per core.
    set("scheduler.max-threads", std::max(1u, std::thread::hardware_concurrency()));
  }
};

// Where the keys land. append: one shared counter, so every commit appends to the
// right edge of the B-tree (like the audit table's time-ordered ids). spread: writer w
// uses w << 40 | n, so one commit of N writers touches N separate leaves (like the crash
// test's ids, or hashed session keys): far more dirty pages to write per commit.
enum class key_pattern { append, spread };

struct shared_counters {
  std::atomic<uint64_t> next_key{0};  // key_pattern::append
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> stop{false};
  std::latch* finished = nullptr;
};

struct closed_loop_state {
  closed_loop_state() = default;  // C++20 aggregate trap in CAF 0.17 (DEPENDENCIES.md §2)
  actors::storage_writer writer;
  shared_counters* counters = nullptr;
  bool spread = false;
  uint64_t next_id = 0;  // key_pattern::spread
  std::string value;
  static inline const char* name = "bench-writer";
};

using closed_loop_actor = caf::stateful_actor<closed_loop_state>;

void issue(closed_loop_actor* self) {
  auto& st = self->state;
  storage::write_batch b;
  uint64_t id = st.spread ? st.next_id++ : st.counters->next_key.fetch_add(1, std::memory_order_relaxed);
  b.put(storage::table::stress, storage::be64(id), st.value);
  auto done = [self] {
    self->state.counters->finished->count_down();
    self->quit();
  };
  self->request(st.writer, caf::infinite, atoms::write_atom_v, std::move(b))
      .then(
          [self, done](uint64_t) {
            self->state.counters->acks.fetch_add(1, std::memory_order_relaxed);
            if (self->state.counters->stop.load(std::memory_order_relaxed)) done();
            else issue(self);
          },
          [self, done](caf::error&) {
            self->state.counters->errors.fetch_add(1, std::memory_order_relaxed);
            done();
          });
}

caf::behavior closed_loop(closed_loop_actor* self, actors::storage_writer writer, shared_counters* counters,
                          key_pattern keys, uint64_t first_id) {
  self->state.writer = std::move(writer);
  self->state.counters = counters;
  self->state.spread = keys == key_pattern::spread;
  self->state.next_id = first_id;
  self->state.value.assign(100, 'x');
  issue(self);
  return {[](atoms::flush_atom) {}};  // the loop runs on responses only
}

struct run_result {
  double writes_per_s = 0;
  double batches_per_commit = 0;
  double mean_commit_ms = 0;
  uint64_t errors = 0;
};

// Sum of the commit-time histogram in seconds, read from its Prometheus rendering.
double commit_seconds_sum(const storage::commit_stats& st) {
  std::string text;
  st.commit_seconds.render(text, "c");
  auto pos = text.find("c_sum ");
  return pos == std::string::npos ? 0 : std::strtod(text.c_str() + pos + 6, nullptr);
}

struct snapshot {
  clock_type::time_point t;
  uint64_t acks, commits, batches;
  double commit_s;
};

snapshot take(const shared_counters& c, const storage::env& env, uint64_t acks_override = UINT64_MAX) {
  const auto& st = env.stats();
  return {clock_type::now(), acks_override == UINT64_MAX ? c.acks.load() : acks_override, st.commits.load(),
          st.batches.load(), commit_seconds_sum(st)};
}

run_result summarise(const snapshot& a, const snapshot& b) {
  run_result r;
  double secs = std::chrono::duration<double>(b.t - a.t).count();
  uint64_t commits = b.commits - a.commits;
  r.writes_per_s = static_cast<double>(b.acks - a.acks) / secs;
  r.batches_per_commit = commits ? static_cast<double>(b.batches - a.batches) / static_cast<double>(commits) : 0;
  r.mean_commit_ms = commits ? (b.commit_s - a.commit_s) * 1e3 / static_cast<double>(commits) : 0;
  return r;
}

std::string fresh_dir(const std::string& base) {
  std::string tmpl = base + "/hotline-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

std::unique_ptr<storage::env> open_env(const std::string& dir) {
  std::error_code ec;
  auto env = storage::env::open({.dir = dir}, ec);
  if (!env) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), ec.message().c_str());
    std::exit(1);
  }
  return env;
}

run_result run_actors(caf::actor_system& sys, const std::string& base, key_pattern keys, int writers,
                      double seconds) {
  auto dir = fresh_dir(base);
  run_result r;
  {
    auto env = open_env(dir);
    auto writer = actors::spawn_storage_writer(sys, *env);
    std::latch finished(writers);
    shared_counters counters;
    counters.finished = &finished;
    for (int w = 0; w < writers; ++w)
      sys.spawn(closed_loop, writer, &counters, keys, static_cast<uint64_t>(w) << 40);

    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // warm-up: the map, the caches
    auto a = take(counters, *env);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    auto b = take(counters, *env);
    counters.stop = true;
    finished.wait();

    caf::scoped_actor self{sys};
    self->request(writer, caf::infinite, atoms::sync_atom_v).receive([](uint64_t) {}, [](caf::error&) {});
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(writer);  // the writer no longer touches env after this
    r = summarise(a, b);
    r.errors = counters.errors.load();
  }
  std::filesystem::remove_all(dir);
  return r;
}

// The disk's own limit: env.commit() from one thread, `per_commit` batches per call.
run_result run_raw(const std::string& base, key_pattern keys, int per_commit, double seconds) {
  auto dir = fresh_dir(base);
  run_result r;
  {
    auto env = open_env(dir);
    shared_counters none;
    std::vector<storage::write_batch> batches(static_cast<size_t>(per_commit));
    uint64_t id = 0, n = 0, acks = 0;
    const std::string value(100, 'x');
    auto commit_some = [&] {
      for (size_t i = 0; i < batches.size(); ++i) {
        batches[i].ops.clear();
        uint64_t key = keys == key_pattern::spread ? uint64_t{i} << 40 | n : id++;
        batches[i].put(storage::table::stress, storage::be64(key), value);
      }
      ++n;
      for (const auto& ec : env->commit(batches)) (ec ? r.errors : acks) += 1;
    };
    auto warm = clock_type::now() + std::chrono::milliseconds(300);
    while (clock_type::now() < warm) commit_some();
    auto a = take(none, *env, acks);
    auto end = a.t + std::chrono::duration<double>(seconds);
    while (clock_type::now() < end) commit_some();
    auto b = take(none, *env, acks);
    auto errors = r.errors;
    r = summarise(a, b);
    r.errors = errors;
  }
  std::filesystem::remove_all(dir);
  return r;
}

void report(const char* label, std::vector<run_result> runs) {
  std::sort(runs.begin(), runs.end(), [](auto& x, auto& y) { return x.writes_per_s < y.writes_per_s; });
  double bpc = 0, ms = 0;
  uint64_t errors = 0;
  for (auto& r : runs) {
    bpc += r.batches_per_commit;
    ms += r.mean_commit_ms;
    errors += r.errors;
  }
  auto n = static_cast<double>(runs.size());
  std::printf("%-34s median %9.0f writes/s  (min %9.0f, max %9.0f)  batches/commit %7.1f  commit %6.2f ms%s\n",
              label, runs[runs.size() / 2].writes_per_s, runs.front().writes_per_s, runs.back().writes_per_s,
              bpc / n, ms / n, errors ? "  ERRORS" : "");
  std::fflush(stdout);
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  for (char* end = nullptr; *s; s = *end ? end + 1 : end) {
    out.push_back(static_cast<int>(std::strtol(s, &end, 10)));
    if (end == s) break;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = "/tmp";
  double seconds = 3;
  int runs = 3;
  std::vector<int> writer_counts{1, 16, 256};
  std::vector<key_pattern> patterns{key_pattern::append, key_pattern::spread};
  bool baseline = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") base = v;
    else if (a == "--seconds") seconds = std::atof(v.c_str());
    else if (a == "--runs") runs = std::max(1, std::atoi(v.c_str()));
    else if (a == "--writers") writer_counts = parse_list(v.c_str());
    else if (a == "--baseline") baseline = v != "0";
    else if (a == "--keys" && v == "append") patterns = {key_pattern::append};
    else if (a == "--keys" && v == "spread") patterns = {key_pattern::spread};
    else {
      std::fprintf(stderr,
                   "usage: %s [--dir BASE] [--seconds S] [--runs R] [--writers 1,16,256] [--baseline 0|1] "
                   "[--keys append|spread]\n",
                   argv[0]);
      return 2;
    }
  }
  std::filesystem::create_directories(base);
  struct statfs fs{};
  if (statfs(base.c_str(), &fs) == 0 && static_cast<uint64_t>(fs.f_type) == tmpfs_magic) {
    std::fprintf(stderr, "%s is tmpfs: fsync is free there, so the figures would mean nothing. Use --dir.\n",
                 base.c_str());
    return 2;
  }

  bench_config cfg;
  caf::actor_system sys{cfg};
  std::printf("storage_bench: %d runs x %.1f s per configuration, data under %s, %zu CAF workers, %u cores\n", runs,
              seconds, base.c_str(), sys.scheduler().num_workers(), std::thread::hardware_concurrency());

  for (key_pattern keys : patterns) {
    const std::string kp = keys == key_pattern::append ? "append keys: " : "spread keys: ";
    for (int per_commit : baseline ? std::vector<int>{1, 256} : std::vector<int>{}) {
      std::vector<run_result> results;
      for (int r = 0; r < runs; ++r) results.push_back(run_raw(base, keys, per_commit, seconds));
      report((kp + "raw env.commit x" + std::to_string(per_commit)).c_str(), results);
    }
    for (int writers : writer_counts) {
      std::vector<run_result> results;
      for (int r = 0; r < runs; ++r) results.push_back(run_actors(sys, base, keys, writers, seconds));
      report((kp + std::to_string(writers) + " writers").c_str(), results);
    }
  }
  return 0;
}
