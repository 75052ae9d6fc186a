// What the kernel's UDP path costs on this machine, per relayed packet: one datagram sent
// over loopback and received, by one pinned thread, in the ways a relay can do it, and
// through Hotline's own packet I/O (media/engine/packet_io: io_uring or epoll) with
// nothing else of the engine. A relay's calls per core cannot beat these figures: the
// figure for its I/O plus its own work per packet is what it costs. The issue's reference
// figures ("a plain sendto+recvfrom pair ~4 µs, batched with sendmmsg/recvmmsg ~1.2 µs")
// are the first and third lines here.
//
//   build/release/tests/bench/udp_floor_bench [--pairs=1200] [--seconds=2] [--cpu=1] [--runs=3]
//
// Modes (CPU time of the thread, user + system, per packet sent and received; a 172-byte
// datagram, a G.711 RTP packet):
//   sendto+recv      unconnected sockets, a system call per packet each way (rtpengine's way)
//   send+recv conn   the same on connected sockets
//   mmsg x32 1 pair  sendmmsg/recvmmsg, 32 packets a call, on one connected pair
//   engine io_uring  --pairs sockets watched by Hotline's io_uring packet_io, each sending
//                    one packet a round to the next; one wait per round (sends submitted
//                    with it, multishot receives into provided buffers, arrival times)
//   engine epoll     the same through the epoll packet_io (recvmmsg per ready socket,
//                    sendto per packet)
//   uring raw ...    io_uring alone, without the engine's bookkeeping, socket pairs sending
//                    to each other: "recvmsg ts" as the engine (multishot recvmsg with the
//                    source address and SO_TIMESTAMPNS, sends with a destination), "recvmsg"
//                    without the timestamps, "conn recv" on connected sockets (multishot
//                    recv, no addresses at all)
// With --pairs sockets (a G.711 call has 2 streams: 1,200 = 600 calls), round robin.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <liburing.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "media/engine/packet_io.hpp"
#include "media/engine/session.hpp"

namespace {

using namespace hotline::media;

constexpr size_t packet_bytes = 172;  // RTP header + 20 ms of G.711

struct options {
  unsigned pairs = 1200;
  double seconds = 2;
  int cpu = 1;
  int runs = 3;
};

struct thread_cpu {
  double user = 0, sys = 0;
  long switches = 0;  // voluntary: the thread slept (waited for the kernel)
};
thread_cpu thread_cpu_now() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return {ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_nvcsw};
}

int udp_socket() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("socket");
    std::exit(1);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int big = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind (raise the open-file limit for many pairs)");
    std::exit(1);
  }
  return fd;
}

sockaddr_storage address_of(int fd, socklen_t& len) {
  sockaddr_storage s{};
  len = sizeof s;
  getsockname(fd, reinterpret_cast<sockaddr*>(&s), &len);
  return s;
}

struct sockets {
  std::vector<int> fds;
  ~sockets() {
    for (int fd : fds) ::close(fd);
  }
  int add() { return fds.emplace_back(udp_socket()); }
};

// Runs `round` (which relays `per_round` packets) until `seconds` of wall time have
// passed; µs of thread CPU per packet, user and system.
struct result {
  double user_us = 0, sys_us = 0;
  double sleeps_per_round = 0;
  double total() const { return user_us + sys_us; }
};
result measure(double seconds, unsigned per_round, const std::function<void()>& round) {
  for (int i = 0; i < 50; ++i) round();  // warm the caches and the socket buffers' memory
  const auto c0 = thread_cpu_now();
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t packets = 0, rounds = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    round();
    packets += per_round;
    ++rounds;
  }
  const auto c1 = thread_cpu_now();
  const auto p = static_cast<double>(packets);
  return {(c1.user - c0.user) * 1e6 / p, (c1.sys - c0.sys) * 1e6 / p,
          static_cast<double>(c1.switches - c0.switches) / static_cast<double>(rounds)};
}

void drain(int fd, std::array<std::byte, 2048>& buf) {
  while (::recv(fd, buf.data(), buf.size(), 0) > 0) {
  }
}

result plain(const options& o, bool connected) {
  sockets s;
  std::vector<std::pair<int, int>> pairs;
  std::vector<sockaddr_storage> to(o.pairs);
  std::vector<socklen_t> to_len(o.pairs);
  for (unsigned i = 0; i < o.pairs; ++i) {
    int a = s.add(), b = s.add();
    to[i] = address_of(b, to_len[i]);
    if (connected) {
      connect(a, reinterpret_cast<sockaddr*>(&to[i]), to_len[i]);
      socklen_t l;
      auto back = address_of(a, l);
      connect(b, reinterpret_cast<sockaddr*>(&back), l);
    }
    pairs.emplace_back(a, b);
  }
  std::array<std::byte, packet_bytes> out{};
  std::array<std::byte, 2048> in{};
  unsigned lost = 0;
  auto r = measure(o.seconds, o.pairs, [&] {
    for (unsigned i = 0; i < o.pairs; ++i) {
      auto [a, b] = pairs[i];
      if (connected) ::send(a, out.data(), out.size(), 0);
      else ::sendto(a, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&to[i]), to_len[i]);
      if (::recv(b, in.data(), in.size(), 0) <= 0) ++lost;
    }
  });
  if (lost) std::fprintf(stderr, "  (%u packets not there at once)\n", lost);
  for (auto [a, b] : pairs) drain(b, in);
  return r;
}

result batched(const options& o) {
  constexpr unsigned batch = 32;
  sockets s;
  int a = s.add(), b = s.add();
  socklen_t la, lb;
  auto addr_a = address_of(a, la), addr_b = address_of(b, lb);
  connect(a, reinterpret_cast<sockaddr*>(&addr_b), lb);
  connect(b, reinterpret_cast<sockaddr*>(&addr_a), la);
  std::array<std::byte, packet_bytes> out{};
  std::array<std::array<std::byte, 2048>, batch> in{};
  std::array<iovec, batch> out_iov{}, in_iov{};
  std::array<mmsghdr, batch> out_msg{}, in_msg{};
  for (unsigned i = 0; i < batch; ++i) {
    out_iov[i] = {out.data(), out.size()};
    out_msg[i].msg_hdr.msg_iov = &out_iov[i];
    out_msg[i].msg_hdr.msg_iovlen = 1;
    in_iov[i] = {in[i].data(), in[i].size()};
    in_msg[i].msg_hdr.msg_iov = &in_iov[i];
    in_msg[i].msg_hdr.msg_iovlen = 1;
  }
  return measure(o.seconds, batch, [&] {
    sendmmsg(a, out_msg.data(), batch, 0);
    for (unsigned got = 0; got < batch;) {
      int n = recvmmsg(b, in_msg.data(), batch - got, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      got += static_cast<unsigned>(n);
    }
  });
}

// Hotline's packet_io with nothing behind it but a counter.
struct counter final : detail::packet_io::handler {
  int wake_fd = -1, timer_fd = -1;
  uint64_t got = 0;
  void on_datagram(detail::socket_ref&, std::span<std::byte>, size_t, const sockaddr_storage&, socklen_t,
                   int64_t) override {
    ++got;
  }
  void on_tick() override {
    uint64_t n;
    [[maybe_unused]] auto r = ::read(timer_fd, &n, sizeof n);
  }
  void on_wake() override {
    uint64_t n;
    [[maybe_unused]] auto r = ::read(wake_fd, &n, sizeof n);
  }
};

result engine_io(const options& o, bool uring) {
  counter h;
  h.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  h.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  std::string why;
  auto io = uring ? detail::packet_io::make_uring(h.wake_fd, h.timer_fd, 4096, why)
                  : detail::packet_io::make_epoll(h.wake_fd, h.timer_fd, why);
  if (!io) {
    std::fprintf(stderr, "packet_io: %s\n", why.c_str());
    std::exit(1);
  }
  // A wait sleeps until the timer at most (io_uring) or returns with the first datagram
  // (epoll): 1 ms, so a round never waits long for its last datagrams.
  itimerspec its{};
  its.it_interval.tv_nsec = its.it_value.tv_nsec = 1'000'000;
  timerfd_settime(h.timer_fd, 0, &its, nullptr);
  std::vector<std::unique_ptr<detail::leg>> legs;
  std::vector<sockaddr_storage> addr(o.pairs);
  std::vector<socklen_t> addr_len(o.pairs);
  for (unsigned i = 0; i < o.pairs; ++i) {
    auto& l = legs.emplace_back(std::make_unique<detail::leg>());
    l->rtp_fd = udp_socket();
    l->rtp_ref.owner = l.get();
    addr[i] = address_of(l->rtp_fd, addr_len[i]);
    io->watch(l->rtp_ref, l->rtp_fd);
  }
  std::array<std::byte, packet_bytes> out{};
  unsigned short_rounds = 0;
  auto r = measure(o.seconds, o.pairs, [&] {
    const uint64_t target = h.got + o.pairs;
    for (unsigned i = 0; i < o.pairs; ++i) {
      const unsigned next = (i + 1) % o.pairs;
      io->send(legs[i]->rtp_ref, out, addr[next], addr_len[next]);
    }
    for (int w = 0; h.got < target && w < 100; ++w) io->wait(h);
    if (h.got < target) ++short_rounds;
  });
  if (short_rounds) std::fprintf(stderr, "  (%u rounds missed packets)\n", short_rounds);
  for (auto& l : legs) {
    io->unwatch(l->rtp_ref, l->rtp_fd);
    ::close(l->rtp_fd);
  }
  io.reset();
  ::close(h.wake_fd);
  ::close(h.timer_fd);
  return r;
}

// io_uring by itself: `sockets` sockets in pairs, each sending its partner one packet a
// round; one submit-and-wait per round.
// `paced`: each wait asks for far more completions than come and ends at a 2 ms timeout,
// as the engine's does (the thread sleeps until its timer): a socket whose datagrams
// woke the thread anyway shows as more than one sleep a round.
result raw_uring(const options& o, bool connected, bool timestamps, bool paced = false) {
  io_uring ring{};
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = 16384;
  if (int r = io_uring_queue_init_params(4096, &ring, &p); r < 0) {
    std::fprintf(stderr, "io_uring: %s\n", std::strerror(-r));
    std::exit(1);
  }
  constexpr unsigned buffers = 4096, buffer_size = 2048;
  // (liburing 2.3: no io_uring_setup_buf_ring yet)
  void* ring_mem = mmap(nullptr, sizeof(io_uring_buf) * buffers, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  auto* br = static_cast<io_uring_buf_ring*>(ring_mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br);
  reg.ring_entries = buffers;
  if (ring_mem == MAP_FAILED || io_uring_register_buf_ring(&ring, &reg, 0) < 0) {
    std::fprintf(stderr, "io_uring buffer ring failed\n");
    std::exit(1);
  }
  io_uring_buf_ring_init(br);
  std::vector<std::byte> memory(static_cast<size_t>(buffers) * buffer_size);
  auto give_back = [&](unsigned id, int offset) {
    io_uring_buf_ring_add(br, memory.data() + static_cast<size_t>(id) * buffer_size, buffer_size,
                          static_cast<unsigned short>(id), io_uring_buf_ring_mask(buffers), offset);
  };
  for (unsigned i = 0; i < buffers; ++i) give_back(i, static_cast<int>(i));
  io_uring_buf_ring_advance(br, buffers);
  const unsigned n = o.pairs & ~1u;
  sockets s;
  std::vector<sockaddr_storage> addr(n);
  std::vector<socklen_t> len(n);
  for (unsigned i = 0; i < n; ++i) {
    s.add();
    addr[i] = address_of(s.fds[i], len[i]);
    if (timestamps) {
      int on = 1;
      setsockopt(s.fds[i], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }
  }
  msghdr tmpl{};
  tmpl.msg_namelen = sizeof(sockaddr_storage);
  tmpl.msg_controllen = timestamps ? CMSG_SPACE(sizeof(timespec)) : 0;
  auto arm = [&](unsigned i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (connected) io_uring_prep_recv_multishot(sqe, s.fds[i], nullptr, 0, 0);
    else io_uring_prep_recvmsg_multishot(sqe, s.fds[i], &tmpl, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_sqe_set_data64(sqe, 1ull << 32 | i);
  };
  for (unsigned i = 0; i < n; ++i) {
    const unsigned partner = i ^ 1u;
    if (connected) connect(s.fds[i], reinterpret_cast<sockaddr*>(&addr[partner]), len[partner]);
    arm(i);
  }
  io_uring_submit(&ring);
  std::array<std::byte, packet_bytes> out{};
  uint64_t got = 0;
  int returned = 0;
  auto r = measure(o.seconds, n, [&] {
    for (unsigned i = 0; i < n; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      while (!sqe) {
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
      }
      io_uring_prep_send(sqe, s.fds[i], out.data(), out.size(), MSG_DONTWAIT);
      if (!connected) io_uring_prep_send_set_addr(sqe, reinterpret_cast<const sockaddr*>(&addr[i ^ 1u]), static_cast<uint16_t>(len[i ^ 1u]));
      io_uring_sqe_set_data64(sqe, 0);
    }
    const uint64_t target = got + n;
    std::vector<unsigned> rearm;
    for (int w = 0; got < target && w < 100; ++w) {
      __kernel_timespec ts{0, paced ? 2'000'000 : 5'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring, &cqe, paced ? 8192 : n, &ts, nullptr);
      unsigned seen = 0, head;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        if (!(cqe->user_data >> 32)) continue;  // a send
        if (cqe->flags & IORING_CQE_F_BUFFER) {
          if (cqe->res > 0) ++got;
          give_back(cqe->flags >> IORING_CQE_BUFFER_SHIFT, returned++);
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) rearm.push_back(static_cast<unsigned>(cqe->user_data));
      }
      io_uring_cq_advance(&ring, seen);
      io_uring_buf_ring_advance(br, returned);
      returned = 0;
      for (unsigned i : rearm) arm(i);
      rearm.clear();
    }
  });
  io_uring_queue_exit(&ring);
  munmap(ring_mem, sizeof(io_uring_buf) * buffers);
  return r;
}

unsigned flag_u(std::string_view arg, std::string_view name, unsigned fallback) {
  return arg.rfind(name, 0) == 0 ? static_cast<unsigned>(std::strtoul(arg.data() + name.size(), nullptr, 10)) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    o.pairs = flag_u(a, "--pairs=", o.pairs);
    o.cpu = static_cast<int>(flag_u(a, "--cpu=", static_cast<unsigned>(o.cpu)));
    o.runs = static_cast<int>(flag_u(a, "--runs=", static_cast<unsigned>(o.runs)));
    if (a.rfind("--seconds=", 0) == 0) o.seconds = std::strtod(a.data() + 10, nullptr);
    if (a == "--help") {
      std::puts("udp_floor_bench [--pairs=1200] [--seconds=2] [--cpu=1] [--runs=3]");
      return 0;
    }
  }
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(o.cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  std::printf("UDP over loopback, %zu-byte datagrams, one thread on cpu %d, %u socket pairs/streams, %d runs\n",
              packet_bytes, o.cpu, o.pairs, o.runs);
  std::printf("%-21s %28s %12s %14s\n", "mode", "µs per packet (median, min-max)", "system share", "sleeps/round");
  struct mode {
    const char* name;
    std::function<result()> run;
  };
  const std::vector<mode> modes = {
      {"sendto+recv", [&] { return plain(o, false); }},
      {"send+recv conn", [&] { return plain(o, true); }},
      {"mmsg x32 1 pair", [&] { return batched(o); }},
      {"engine io_uring", [&] { return engine_io(o, true); }},
      {"engine epoll", [&] { return engine_io(o, false); }},
      {"uring raw recvmsg ts", [&] { return raw_uring(o, false, true); }},
      {"uring raw recvmsg", [&] { return raw_uring(o, false, false); }},
      {"uring raw conn recv", [&] { return raw_uring(o, true, false); }},
      {"... recvmsg, paced", [&] { return raw_uring(o, false, false, true); }},
      {"... conn recv, paced", [&] { return raw_uring(o, true, false, true); }},
  };
  for (const auto& m : modes) {
    std::vector<result> rs;
    for (int k = 0; k < o.runs; ++k) rs.push_back(m.run());
    std::sort(rs.begin(), rs.end(), [](const result& a, const result& b) { return a.total() < b.total(); });
    const result& med = rs[rs.size() / 2];
    std::printf("%-21s %10.2f (%.2f-%.2f) %17.0f %% %14.1f\n", m.name, med.total(), rs.front().total(), rs.back().total(),
                100 * med.sys_us / med.total(), med.sleeps_per_round);
    std::fflush(stdout);
  }
}
