// The actor runtime's workers sleep while they wait for work: a message every 5 ms (a live
// site's steady trickle of events) must not keep them polling. CAF's default scheduler
// polls 500 times 50 us apart after each message; that was half the server's CPU under
// load (actors/runtime/runtime.cpp, docs/PERFORMANCE.md). Counted, not timed: the
// process's voluntary context switches over one second, from /proc.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/runtime.hpp"
#include "storage/env.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::actors {
namespace {

// Voluntary context switches of every thread of this process.
uint64_t voluntary_switches() {
  uint64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stoull(line.substr(24));
  }
  return total;
}

TEST(runtime, workers_sleep_between_messages_instead_of_polling) {
  test::temp_dir dir;
  std::error_code ec;
  auto env = storage::env::open({.dir = dir.sub("data")}, ec);
  ASSERT_TRUE(env) << ec.message();
  auto rt = runtime::start({.workers = 2}, *env);
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->sync_hub(5000));  // running: the hub has answered

  const int messages = 200;
  const uint64_t before = voluntary_switches();
  for (int i = 0; i < messages; ++i) {
    rt->hub().publish("calls", R"({"call":"1","state":"connected"})");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the trickle under test, not a wait
  }
  const uint64_t switches = voluntary_switches() - before;
  // Each message may wake a worker, and this thread sleeps between them: a few per
  // message at most. Polling 50 us apart makes it ~20,000 a second for each worker.
  EXPECT_LT(switches, 10u * messages) << switches << " voluntary context switches for " << messages << " messages";
  EXPECT_TRUE(rt->sync_hub(5000));
  EXPECT_TRUE(rt->shutdown(5000));
}

}  // namespace
}  // namespace hotline::actors
