// The crash test's child: `crash_writer DIR FIRST_N`. Opens the env in DIR, boots the
// real runtime and runs 32 logical writers in a closed loop through its durable_writer:
// writer w writes ids w * 1e9 + FIRST_N, FIRST_N + 1, ... into table::stress, and prints
// "ack <id>" on stdout only once the done callback reported the commit durable. It runs
// until it is killed (the point of the test); after a safety cap it exits on its own.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "actors/runtime/runtime.hpp"
#include "storage/keys.hpp"
#include "tests/storage/crash_record.hpp"

namespace {

using namespace hotline;

std::atomic<bool> stopping{false};

// One write(2) per line: a line under PIPE_BUF reaches the pipe whole, whichever CAF
// worker writes it, and nothing sits in a stdio buffer when SIGKILL arrives.
void emit(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(4);  // the parent is gone
    p += n;
    left -= static_cast<size_t>(n);
  }
}

class logical_writer {
 public:
  logical_writer(actors::durable_writer& out, uint64_t first_id) : out_(out), next_id_(first_id) {}

  // Closed loop: the next write is issued from the previous one's done callback, so a
  // writer has at most one write in flight and its durable ids always form a prefix.
  void issue() {
    uint64_t id = next_id_++;
    storage::write_batch b;
    b.put_new(storage::table::stress, storage::be64(id), test::crash_value(id));
    out_.write(std::move(b), [this, id](std::error_code ec, uint64_t) {
      if (ec) {
        if (stopping.load()) return;  // the runtime is shutting down after the cap
        emit("err " + std::to_string(id) + " " + ec.message() + "\n");
        _exit(3);
      }
      emit("ack " + std::to_string(id) + "\n");
      if (!stopping.load()) issue();
    });
  }

 private:
  actors::durable_writer& out_;
  uint64_t next_id_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR FIRST_N\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t first_n = std::strtoull(argv[2], nullptr, 10);

  std::error_code ec;
  auto env = storage::env::open({.dir = dir}, ec);
  if (!env) {
    std::fprintf(stderr, "crash_writer: cannot open %s: %s\n", dir.c_str(), ec.message().c_str());
    return 2;
  }
  auto rt = actors::runtime::start({}, *env);

  std::vector<std::unique_ptr<logical_writer>> writers;
  for (int w = 0; w < test::crash_writers; ++w)
    writers.push_back(std::make_unique<logical_writer>(rt->writer(), w * test::crash_ids_per_writer + first_n));
  for (auto& w : writers) w->issue();

  // Normally SIGKILL ends us long before this; the cap only keeps a forgotten child
  // from writing forever.
  std::promise<void> never;
  never.get_future().wait_for(std::chrono::seconds(60));
  stopping = true;
  bool drained = rt->shutdown(5000);
  rt.reset();
  writers.clear();
  return drained ? 0 : 1;
}
