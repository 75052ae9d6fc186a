// kill -9 at a random moment, then reopen: every write the durable_writer acknowledged
// must be there, byte for byte. The child (crash_writer) writes through the real runtime
// from 32 closed-loop writers and prints "ack <id>" after each durable commit; this test
// reads those lines, SIGKILLs it 20-300 ms after the first ack, and checks the data dir.
// Rounds continue in the same dir, so the data and the checks accumulate across crashes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/verify.hpp"
#include "tests/storage/crash_record.hpp"
#include "tests/support/temp_dir.hpp"

#ifndef CRASH_WRITER_PATH
#error "CRASH_WRITER_PATH must name the crash_writer executable"
#endif

namespace hotline::storage {
namespace {

using clock_type = std::chrono::steady_clock;
using test::crash_ids_per_writer;
using test::crash_value;
using test::crash_writers;

constexpr uint64_t ids_per_round = 10'000'000;  // round r's writer w: w * 1e9 + r * 1e7 + n

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

struct child_process {
  pid_t pid = -1;
  int out = -1;  // read end of the child's stdout
};

child_process spawn_crash_writer(const std::string& dir, uint64_t first_n) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  const std::string n = std::to_string(first_n);  // no allocation after fork
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    dup2(fds[1], STDOUT_FILENO);       // the copy loses O_CLOEXEC; the originals close on exec
    execl(CRASH_WRITER_PATH, "crash_writer", dir.c_str(), n.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return {};
  }
  return {pid, fds[0]};
}

enum class read_status { stopped, deadline, eof, error };

// Reads lines from `fd` until `stop()` holds, the deadline passes or the writer closes
// the pipe. Waiting is poll() with the time left, never a sleep.
read_status read_lines(int fd, std::string& partial, clock_type::time_point deadline,
                       const std::function<void(std::string_view)>& on_line, const std::function<bool()>& stop) {
  char buf[65536];
  for (;;) {
    if (stop()) return read_status::stopped;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    if (left <= 0) return read_status::deadline;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return read_status::error;
    if (r == 0) continue;  // the loop re-checks the deadline
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return read_status::error;
    if (n == 0) return read_status::eof;
    partial.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1)
      on_line(std::string_view(partial).substr(start, nl - start));
    partial.erase(0, start);
  }
}

struct round_result {
  int delay_ms = 0;
  std::vector<uint64_t> acked;
  std::vector<std::string> unexpected;  // lines other than "ack <id>"
  int wait_status = 0;
  bool killed_by_us = false;
};

round_result run_round(const std::string& dir, uint64_t first_n, std::mt19937_64& rng) {
  round_result res;
  auto child = spawn_crash_writer(dir, first_n);
  EXPECT_GT(child.pid, 0) << "fork/pipe failed";
  if (child.pid <= 0) return res;

  std::string partial;
  auto on_line = [&](std::string_view line) {
    uint64_t id = 0;
    if (line.starts_with("ack ") && std::sscanf(std::string(line.substr(4)).c_str(), "%lu", &id) == 1)
      res.acked.push_back(id);
    else
      res.unexpected.emplace_back(line);
  };

  // 1. Until the first ack: the child has booted and its writes are landing.
  auto st = read_lines(child.out, partial, clock_type::now() + std::chrono::seconds(30), on_line,
                       [&] { return !res.acked.empty(); });
  EXPECT_EQ(st, read_status::stopped) << "no ack from the child within 30 s";

  // 2. The deliberate random delay, spent reading acks.
  if (st == read_status::stopped) {
    res.delay_ms = std::uniform_int_distribution<int>(20, 300)(rng);
    st = read_lines(child.out, partial, clock_type::now() + std::chrono::milliseconds(res.delay_ms), on_line,
                    [] { return false; });
    EXPECT_EQ(st, read_status::deadline) << "the child ended before it was killed";
  }

  // 3. SIGKILL, then take every line it managed to write before dying.
  res.killed_by_us = kill(child.pid, SIGKILL) == 0;
  st = read_lines(child.out, partial, clock_type::now() + std::chrono::seconds(10), on_line, [] { return false; });
  EXPECT_EQ(st, read_status::eof);
  EXPECT_TRUE(partial.empty()) << "a torn line: " << partial;  // each line is one write(2)
  close(child.out);
  while (waitpid(child.pid, &res.wait_status, 0) < 0 && errno == EINTR) {
  }
  return res;
}

TEST(crash, every_acknowledged_write_survives_sigkill) {
  test::temp_dir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.sub("data");
  const int rounds = env_int("HOTLINE_CRASH_ROUNDS", 20);
  const char* seed_env = std::getenv("HOTLINE_CRASH_SEED");
  const uint64_t seed = seed_env && *seed_env ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
  std::mt19937_64 rng(seed);
  std::printf("crash test: %d rounds, seed %lu (HOTLINE_CRASH_SEED to repeat), dir %s\n", rounds, seed, dir.c_str());

  std::set<uint64_t> acked_all;  // across every round so far
  for (int round = 0; round < rounds; ++round) {
    const uint64_t first_n = static_cast<uint64_t>(round) * ids_per_round;
    auto res = run_round(dir, first_n, rng);
    for (const auto& l : res.unexpected) ADD_FAILURE() << "round " << round << ": child said: " << l;
    ASSERT_TRUE(WIFSIGNALED(res.wait_status) && WTERMSIG(res.wait_status) == SIGKILL)
        << "round " << round << ": the child did not die by our SIGKILL (status " << res.wait_status << ")";
    ASSERT_FALSE(res.acked.empty()) << "round " << round;

    // Per writer: the highest acked n of this round (closed loop: acks form a prefix).
    std::vector<int64_t> acked_prefix(crash_writers, 0);
    for (uint64_t id : res.acked) {
      ASSERT_TRUE(acked_all.insert(id).second) << "acked twice: " << id;
      uint64_t w = id / crash_ids_per_writer, n = id % crash_ids_per_writer;
      ASSERT_LT(w, static_cast<uint64_t>(crash_writers));
      ASSERT_GE(n, first_n);
      ++acked_prefix[w];
    }

    // 4. Reopen as a restart would, and check every record ever acknowledged.
    std::error_code ec;
    auto env = env::open({.dir = dir}, ec);
    ASSERT_TRUE(env) << "round " << round << ": reopen failed: " << ec.message();
    size_t records = 0, present_this_round = 0;
    std::vector<int64_t> present_prefix(crash_writers, 0);
    {
      auto txn = env->read();
      ASSERT_TRUE(txn.ok()) << txn.error().message();
      for (uint64_t id : acked_all) {
        auto v = txn.get(table::stress, be64(id));
        ASSERT_TRUE(v) << "round " << round << ": acknowledged id " << id << " is missing";
        ASSERT_EQ(*v, crash_value(id)) << "round " << round << ": id " << id << " has a wrong value";
      }
      // Every record present (acknowledged or not) must be whole and correct.
      bool all_good = true;
      records = txn.scan(table::stress, {}, {}, [&](std::string_view k, std::string_view v) {
        auto id = from_be64(k);
        all_good = id && v == crash_value(*id);
        EXPECT_TRUE(all_good) << "round " << round << ": bad record at " << (id ? *id : 0);
        if (all_good && *id % crash_ids_per_writer >= first_n) {
          ++present_this_round;
          ++present_prefix[*id / crash_ids_per_writer];
        }
        return all_good;
      });
      ASSERT_TRUE(all_good);
      EXPECT_EQ(txn.count(table::stress), records);
    }
    // A writer has one write in flight at a time, so at most one record more than it
    // saw acknowledged (the commit was durable, the kill came before the ack line).
    for (int w = 0; w < crash_writers; ++w) {
      EXPECT_GE(present_prefix[w], acked_prefix[w]) << "round " << round << " writer " << w;
      EXPECT_LE(present_prefix[w], acked_prefix[w] + 1) << "round " << round << " writer " << w;
    }
    env.reset();  // verify opens its own handle

    auto report = verify(dir);
    for (const auto& p : report.problems) ADD_FAILURE() << "round " << round << ": verify: " << p;
    size_t verified = 0;
    for (const auto& t : report.tables)
      if (t.table == name_of(table::stress)) verified = t.records;
    EXPECT_EQ(verified, records);

    std::printf(
        "round %2d: killed %3d ms after the first ack; acked %6zu, durable %6zu (%+ld unacked); "
        "total acked %7zu, records %7zu, verify %s\n",
        round, res.delay_ms, res.acked.size(), present_this_round,
        static_cast<long>(present_this_round) - static_cast<long>(res.acked.size()),
        acked_all.size(), records, report.ok() ? "ok" : "FAILED");
    std::fflush(stdout);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace hotline::storage
