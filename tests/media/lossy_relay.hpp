#pragma once
// A UDP relay with loss and jitter between a softphone and the media engine, for the
// tests with real peers (issue 4: 3 % random loss and up to 40 ms of jitter). Two
// loopback sockets: `phone_side` faces the phone (its SDP names this port), `engine_side`
// faces the engine (the engine's leg sends to it). What arrives on one is sent from the
// other, to the engine's leg port or to wherever the phone last sent from, after a random
// delay in [0, max_delay] (so packets also overtake each other) unless it is dropped.
// RTP only: RTCP is not relayed. One thread; seeded, so a failing run can be repeated.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <vector>

namespace hotline::test {

class lossy_relay {
 public:
  struct options {
    double loss = 0.03;
    std::chrono::milliseconds max_delay{40};
    uint32_t seed = 4;
  };
  struct counts {
    uint64_t forwarded = 0, dropped = 0;
  };

  explicit lossy_relay(options o) : options_(o), random_(o.seed) {
    phone_fd_ = bind_loopback(phone_port_);
    engine_fd_ = bind_loopback(engine_port_);
  }
  ~lossy_relay() { stop(); }
  lossy_relay(const lossy_relay&) = delete;
  lossy_relay& operator=(const lossy_relay&) = delete;

  bool ok() const { return phone_fd_ >= 0 && engine_fd_ >= 0; }
  uint16_t phone_side_port() const { return phone_port_; }
  uint16_t engine_side_port() const { return engine_port_; }

  // Where the engine's leg listens; the phone's address is learned from its packets,
  // `phone_port` until then. Starts the thread.
  void start(uint16_t engine_leg_port, uint16_t phone_port) {
    engine_to_ = loopback(engine_leg_port);
    phone_to_ = loopback(phone_port);
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    for (int* fd : {&phone_fd_, &engine_fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
  counts figures() const {
    std::lock_guard l(mutex_);
    return counts_;
  }

 private:
  using clock = std::chrono::steady_clock;
  struct pending {
    clock::time_point due;
    bool to_engine;
    std::vector<char> bytes;
    bool operator>(const pending& o) const { return due > o.due; }
  };

  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }
  static int bind_loopback(uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      return -1;
    }
    port = ntohs(a.sin_port);
    return fd;
  }

  void receive(int fd, bool to_engine) {
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    if (to_engine) phone_to_ = from;  // symmetric RTP: answer where the phone sends from
    std::lock_guard l(mutex_);
    if (std::uniform_real_distribution<double>(0, 1)(random_) < options_.loss) {
      ++counts_.dropped;
      return;
    }
    auto delay = std::chrono::microseconds(std::uniform_int_distribution<int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(options_.max_delay).count())(random_));
    queue_.push({clock::now() + delay, to_engine, std::vector<char>(buf, buf + n)});
  }

  void run() {
    while (running_) {
      pollfd fds[2] = {{phone_fd_, POLLIN, 0}, {engine_fd_, POLLIN, 0}};
      int timeout_ms = 2;  // the queue's next due time is never further than this from a poll
      if (::poll(fds, 2, timeout_ms) > 0) {
        if (fds[0].revents & POLLIN) receive(phone_fd_, true);
        if (fds[1].revents & POLLIN) receive(engine_fd_, false);
      }
      std::lock_guard l(mutex_);
      while (!queue_.empty() && queue_.top().due <= clock::now()) {
        const pending& p = queue_.top();
        const sockaddr_in& to = p.to_engine ? engine_to_ : phone_to_;
        int fd = p.to_engine ? engine_fd_ : phone_fd_;
        ::sendto(fd, p.bytes.data(), p.bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        ++counts_.forwarded;
        queue_.pop();
      }
    }
  }

  options options_;
  int phone_fd_ = -1, engine_fd_ = -1;
  uint16_t phone_port_ = 0, engine_port_ = 0;
  sockaddr_in engine_to_{}, phone_to_{};  // the relay thread's, after start()
  std::atomic<bool> running_{true};
  std::thread thread_;
  mutable std::mutex mutex_;  // guards random_, queue_, counts_ (figures() reads counts_)
  std::mt19937 random_;
  std::priority_queue<pending, std::vector<pending>, std::greater<>> queue_;
  counts counts_;
};

}  // namespace hotline::test
