#pragma once
// Internal to the media engine: how a media thread waits for its sockets, its tick and its
// command wake-ups, receives datagrams and sends them. Two ways, one interface:
//  - io_uring: each socket has one multishot receive that lands datagrams in a ring of
//    provided buffers; sends are queued and submitted together with the next wait, and the
//    thread sleeps until its timer (the tick, or a read between ticks: reads_per_tick), not
//    until the next datagram or command: one system call per wake-up carries its sends and
//    collects every socket's datagrams, each with the kernel's arrival time
//    (SO_TIMESTAMPNS) for RTCP's jitter. Commands are taken at a wake-up as well (up to
//    5 ms later than epoll takes them; what they change starts at the tick either way);
//  - epoll: a recvmmsg per ready socket and a sendto per packet, where io_uring is not
//    available (a kernel before 6.0, a seccomp profile that forbids it) or not wanted.
// Used only on its media thread; created there (io_uring rings here are single-issuer).
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace hotline::media::detail {

struct socket_ref;

class packet_io {
 public:
  struct handler {
    // arrival_ns: when the kernel received it (CLOCK_MONOTONIC), or 0 for "just now".
    virtual void on_datagram(socket_ref& ref, std::span<std::byte> buffer, size_t len, const sockaddr_storage& from,
                             socklen_t from_len, int64_t arrival_ns) = 0;
    virtual void on_tick() = 0;  // the timer fired (the handler reads the timerfd)
    virtual void on_wake() = 0;  // commands were posted (the handler reads the eventfd)

   protected:
    ~handler() = default;
  };

  virtual ~packet_io() = default;
  // nullptr and `why` when this kernel or process cannot use it.
  static std::unique_ptr<packet_io> make_uring(int wake_fd, int timer_fd, unsigned buffers, std::string& why);
  static std::unique_ptr<packet_io> make_epoll(int wake_fd, int timer_fd, std::string& why);

  virtual const char* name() const = 0;
  virtual void watch(socket_ref& ref, int fd) = 0;
  // Before `fd` is closed: nothing more is delivered for `ref`.
  virtual void unwatch(socket_ref& ref, int fd) = 0;
  // Queues (io_uring) or sends (epoll) one datagram from a watched socket; false if it
  // certainly was not sent.
  virtual bool send(socket_ref& from, std::span<const std::byte> packet, const sockaddr_storage& to,
                    socklen_t to_len) = 0;
  // Waits until something happens and hands it to `h`: datagrams first (in arrival order
  // per socket), then the wake-up, then the tick: a command that closes a leg runs after
  // that leg's datagrams of the same round, and one taken with a tick counts in that tick.
  // epoll returns as soon as anything is ready; io_uring at the tick (see above).
  virtual void wait(handler& h) = 0;

  uint64_t send_errors() const { return send_errors_; }

 protected:
  uint64_t send_errors_ = 0;
};

}  // namespace hotline::media::detail
