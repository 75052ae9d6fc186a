#pragma once
// Waiting on a condition in a test that drives real processes and sockets (no simulated
// clock there): polls `done` every `poll` until it holds or `timeout` passes, and says
// whether it held.
#include <chrono>
#include <thread>

namespace hotline::test {

template <class F>
bool eventually(F done, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace hotline::test
