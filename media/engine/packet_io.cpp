#include "media/engine/packet_io.hpp"

#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <vector>

#include "media/engine/session.hpp"
#include "media/rtp/srtp_session.hpp"

namespace hotline::media::detail {

namespace {

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------
// epoll: a recvmmsg per ready socket, a sendto per packet.

char wake_marker, tick_marker;  // epoll data.ptr values that are not sockets

class epoll_io final : public packet_io {
 public:
  epoll_io(int epoll_fd, int wake_fd, int timer_fd) : epoll_fd_(epoll_fd) {
    add(wake_fd, &wake_marker);
    add(timer_fd, &tick_marker);
  }
  ~epoll_io() override { ::close(epoll_fd_); }

  const char* name() const override { return "epoll"; }

  void watch(socket_ref& ref, int fd) override { add(fd, &ref); }
  void unwatch(socket_ref&, int fd) override { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

  bool send(socket_ref& from, std::span<const std::byte> packet, const sockaddr_storage& to,
            socklen_t to_len) override {
    const int fd = from.rtcp ? from.owner->rtcp_fd : from.owner->rtp_fd;
    if (::sendto(fd, packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), to_len) > 0)
      return true;
    ++send_errors_;
    return false;
  }

  void wait(handler& h) override {
    std::array<epoll_event, 64> events;
    int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    bool wake = false, ticked = false;
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == &wake_marker) wake = true;
      else if (p == &tick_marker) ticked = true;
      else receive(*static_cast<socket_ref*>(p), h);
    }
    if (wake) h.on_wake();
    if (ticked) h.on_tick();
  }

 private:
  void add(int fd, void* ptr) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = ptr;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void receive(socket_ref& ref, handler& h) {
    const int fd = ref.rtcp ? ref.owner->rtcp_fd : ref.owner->rtp_fd;
    constexpr int batch = 16;
    for (;;) {
      for (int i = 0; i < batch; ++i) {
        iov_[i] = {bufs_[i].data(), bufs_[i].size() - rtp::srtp_max_trailer};
        msgs_[i].msg_hdr = {};
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
        msgs_[i].msg_hdr.msg_name = &from_[i];
        msgs_[i].msg_hdr.msg_namelen = sizeof from_[i];
      }
      int n = recvmmsg(fd, msgs_.data(), batch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i)
        h.on_datagram(ref, bufs_[i], msgs_[i].msg_len, from_[i], msgs_[i].msg_hdr.msg_namelen, 0);
      if (n < batch) return;
    }
  }

  int epoll_fd_;
  std::array<std::array<std::byte, 2048>, 16> bufs_;
  std::array<mmsghdr, 16> msgs_{};
  std::array<iovec, 16> iov_{};
  std::array<sockaddr_storage, 16> from_{};
};

// ---------------------------------------------------------------------------------------
// io_uring: multishot receives into provided buffers; sends queued, submitted with the wait.

// user_data: kind in the top two bits; for receives a slot's generation and index.
enum class kind : uint64_t { receive = 0, send = 1, control = 2 };
constexpr uint64_t make_data(kind k, uint32_t gen, uint32_t index) {
  return static_cast<uint64_t>(k) << 62 | (static_cast<uint64_t>(gen) & 0x3fffffff) << 32 | index;
}
constexpr kind kind_of(uint64_t d) { return static_cast<kind>(d >> 62); }
constexpr uint32_t gen_of(uint64_t d) { return static_cast<uint32_t>(d >> 32) & 0x3fffffff; }
constexpr uint32_t index_of(uint64_t d) { return static_cast<uint32_t>(d); }
enum control_index : uint32_t { wake_poll = 0, tick_poll = 1, cancel_done = 2 };

constexpr unsigned ring_entries = 4096;       // submission queue
constexpr unsigned completion_entries = 16384;
constexpr unsigned buffer_size = 2048;        // recvmsg_out + address + datagram
constexpr uint16_t buffer_group = 0;

class uring_io final : public packet_io {
 public:
  explicit uring_io(unsigned buffers) {
    buffer_count_ = std::bit_ceil(std::clamp(buffers, 1u, 32768u));
  }
  ~uring_io() override {
    if (ring_ok_) {
      // Cancel every receive and poll and reap them here: the ring holds each socket it
      // receives on, and io_uring_queue_exit would let them go later, on a kernel worker,
      // so a restarted engine could not bind the same ports yet.
      io_uring_sqe* sqe = get_sqe();
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, make_data(kind::control, 0, cancel_done));
      for (int quiet = 0, round = 0; quiet < 2 && round < 100; ++round) {
        __kernel_timespec ts{0, 2'000'000};
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        unsigned seen = 0, head;
        io_uring_for_each_cqe(&ring_, head, cqe) ++seen;
        io_uring_cq_advance(&ring_, seen);
        quiet = seen ? 0 : quiet + 1;
      }
      io_uring_queue_exit(&ring_);
    }
    if (buf_ring_) munmap(buf_ring_, buf_ring_bytes());
  }

  // Sets up the ring; empty on success, else why not.
  std::string open(int wake_fd, int timer_fd) {
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = completion_entries;
    int r = io_uring_queue_init_params(ring_entries, &ring_, &p);
    if (r == -EINVAL) {  // before 6.1: no deferred task work; cooperative task work (5.19)
      p = {};
      p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
      p.cq_entries = completion_entries;
      r = io_uring_queue_init_params(ring_entries, &ring_, &p);
    }
    if (r < 0) return std::string("io_uring_setup: ") + std::strerror(-r);
    ring_ok_ = true;
    if (!(p.features & IORING_FEAT_NODROP)) return "io_uring without IORING_FEAT_NODROP (kernel before 5.5)";

    void* mem = mmap(nullptr, buf_ring_bytes(), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return std::string("mmap: ") + std::strerror(errno);
    buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
    reg.ring_entries = buffer_count_;
    reg.bgid = buffer_group;
    if ((r = io_uring_register_buf_ring(&ring_, &reg, 0)) < 0)
      return std::string("io_uring provided buffer ring: ") + std::strerror(-r);
    buffers_.resize(static_cast<size_t>(buffer_count_) * buffer_size);
    io_uring_buf_ring_init(buf_ring_);
    for (unsigned i = 0; i < buffer_count_; ++i) give_back(static_cast<uint16_t>(i));
    publish_buffers();

    receive_template_.msg_namelen = sizeof(sockaddr_storage);
    receive_template_.msg_controllen = CMSG_SPACE(sizeof(timespec));
    wake_fd_ = wake_fd;
    timer_fd_ = timer_fd;
    arm_poll(wake_fd_, wake_poll);
    arm_poll(timer_fd_, tick_poll);
    if (std::string why = self_test(); !why.empty()) return why;
    return {};
  }

  const char* name() const override { return "io_uring"; }

  void watch(socket_ref& ref, int fd) override {
    const uint32_t index = take(free_slots_, slots_);
    slot& s = slots_[index];
    s.ref = &ref;
    s.fd = fd;
    ref.io_slot = index;
    int on = 1;  // the arrival time: datagrams are read at the tick, not as they come
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    // No registered (fixed) files: before 6.13 the kernel lets go of a file taken out of
    // the table only once every request issued before that is done, and the other
    // sockets' multishot receives never are: closed calls' ports would stay bound.
    arm_receive(index);
  }

  void unwatch(socket_ref& ref, int) override {
    slot& s = slots_[ref.io_slot];
    if (!s.ref) return;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, make_data(kind::receive, s.gen, ref.io_slot), 0);
    io_uring_sqe_set_data64(sqe, make_data(kind::control, 0, cancel_done));
    // The ring holds the socket until the receive is cancelled and its completion run
    // (deferred task work runs only when asked): do both now, so the port is free when
    // the caller closes the fd.
    io_uring_submit(&ring_);
    io_uring_get_events(&ring_);
    s.ref = nullptr;
    s.fd = -1;
    s.gen = (s.gen + 1) & 0x3fffffff;  // a completion already queued for it is stale now
    free_slots_.push_back(ref.io_slot);
  }

  bool send(socket_ref& from, std::span<const std::byte> packet, const sockaddr_storage& to,
            socklen_t to_len) override {
    if (packet.size() > sizeof(send_slot::data) || from.io_slot >= slots_.size() || slots_[from.io_slot].ref != &from) {
      ++send_errors_;  // too large, or a socket this io does not watch
      return false;
    }
    const uint32_t index = take(free_sends_, sends_);
    send_slot& s = sends_[index];
    std::memcpy(s.data, packet.data(), packet.size());
    std::memcpy(&s.to, &to, to_len);
    io_uring_sqe* sqe = get_sqe();
    if (send_with_address_) {  // IORING_OP_SEND with a destination (6.6): no msghdr to copy
      io_uring_prep_send(sqe, 0, s.data, packet.size(), MSG_DONTWAIT);
      io_uring_prep_send_set_addr(sqe, reinterpret_cast<const sockaddr*>(&s.to), static_cast<uint16_t>(to_len));
    } else {
      s.iov = {s.data, packet.size()};
      s.msg = {};
      s.msg.msg_name = &s.to;
      s.msg.msg_namelen = to_len;
      s.msg.msg_iov = &s.iov;
      s.msg.msg_iovlen = 1;
      io_uring_prep_sendmsg(sqe, 0, &s.msg, MSG_DONTWAIT);
    }
    set_file(sqe, from.io_slot);
    io_uring_sqe_set_data64(sqe, make_data(kind::send, 0, index));
    return true;
  }

  void wait(handler& h) override {
    // Sleep until the timer's next expiry, then take every datagram at once. Only a burst
    // that fills half the completion queue ends the wait sooner: the wait counts
    // completions, so a command's eventfd (one completion) is taken at the tick too, before
    // the tick runs, which is where its effect would start anyway.
    //
    // The tick's sends first: submitting them inside the wait would start its relative
    // timeout only after they were all sent (milliseconds at a few hundred calls).
    io_uring_submit(&ring_);
    // A tick that came due while the last one ran is not waited for: the timerfd's time
    // "left" is then to the expiry after it, and sleeping that long would put every other
    // tick a whole period late.
    // (The time left first: an expiry between the two calls then shows in the poll.)
    itimerspec left{};
    timerfd_gettime(timer_fd_, &left);
    int64_t sleep_ns = static_cast<int64_t>(left.it_value.tv_sec) * 1'000'000'000 + left.it_value.tv_nsec;
    if (pollfd due_now{timer_fd_, POLLIN, 0}; ::poll(&due_now, 1, 0) != 0) sleep_ns = 0;
    const int64_t deadline = mono_ns() + sleep_ns;
    int r = 0;
    if (sleep_ns > 0) {
      __kernel_timespec ts{sleep_ns / 1'000'000'000, sleep_ns % 1'000'000'000};
      io_uring_cqe* first = nullptr;
      r = io_uring_wait_cqes(&ring_, &first, completion_entries / 2, &ts, nullptr);
    } else {
      // Due already (the last round overran, or the thread stalled): run every deferred
      // receive, without waiting. Not io_uring_get_events: since Linux 6.1x the kernel
      // then runs at most 20 task-work items (about 20 sockets' datagrams) and leaves the
      // rest for later, so after a stall the tick played most streams' waiting packets
      // as lost and then dropped them as late (speech 0.86 at 250 transcoded calls after
      // one 60 ms stall). A wait for many completions with an expired timeout runs that
      // many items first.
      r = run_deferred_now();
    }
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) return;
    timespec real, mono;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    real_to_mono_ns_ = (static_cast<int64_t>(mono.tv_sec) - real.tv_sec) * 1'000'000'000 + (mono.tv_nsec - real.tv_nsec);
    // At the deadline the tick is due whether or not the timer's completion has been run
    // yet (the kernel runs deferred work when it likes; a missed one would cost a whole
    // tick): the handler reads the timerfd and the eventfd itself, and a read that finds
    // nothing does nothing.
    const bool due = static_cast<int64_t>(mono.tv_sec) * 1'000'000'000 + mono.tv_nsec >= deadline;
    bool wake = due, ticked = due;
    take_completions(h, wake, ticked);
    // Receives that ended for want of a free buffer (a burst after a stall) leave their
    // datagrams in the sockets. Before a tick, start them again with this round's buffers
    // back and take what they read (a receive tries at once when submitted), a bounded
    // number of rounds: the tick must not play those streams' packets as lost.
    for (int round = 0; ticked && !rearm_.empty() && round < 64; ++round) {
      rearm_receives();
      run_deferred_now();
      take_completions(h, wake, ticked);
    }
    rearm_receives();
    if (wake) h.on_wake();
    if (ticked) h.on_tick();
  }

 private:
  // Submits what is queued and runs up to half a completion queue of deferred task work
  // (receives) without waiting: a wait for that many completions with an expired timeout.
  int run_deferred_now() {
    __kernel_timespec now_ts{0, 0};
    io_uring_cqe* first = nullptr;
    return io_uring_submit_and_wait_timeout(&ring_, &first, completion_entries / 2, &now_ts, nullptr);
  }

  // Every completion the ring holds: datagrams to the handler, sends' slots back, and
  // whether the eventfd or the timer fired.
  void take_completions(handler& h, bool& wake, bool& ticked) {
    unsigned seen = 0, head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const uint64_t d = cqe->user_data;
      switch (kind_of(d)) {
        case kind::receive: on_receive(*cqe, d, h); break;
        case kind::send:
          if (cqe->res < 0) ++send_errors_;
          free_sends_.push_back(index_of(d));
          break;
        case kind::control:
          if (index_of(d) == wake_poll) {
            wake = true;
            if (!(cqe->flags & IORING_CQE_F_MORE)) arm_poll(wake_fd_, wake_poll);
          } else if (index_of(d) == tick_poll) {
            ticked = true;
            if (!(cqe->flags & IORING_CQE_F_MORE)) arm_poll(timer_fd_, tick_poll);
          }
          break;
      }
    }
    io_uring_cq_advance(&ring_, seen);
  }

  void rearm_receives() {
    publish_buffers();
    for (uint32_t index : rearm_) arm_receive(index);  // after the buffers are back
    rearm_.clear();
  }

  struct slot {
    socket_ref* ref = nullptr;
    int fd = -1;
    uint32_t gen = 0;
  };

  void set_file(io_uring_sqe* sqe, uint32_t index) { sqe->fd = slots_[index].fd; }
  struct send_slot {
    std::byte data[2048];
    sockaddr_storage to;
    iovec iov;
    msghdr msg;
  };

  // A free entry's index, or a new entry's at the end.
  template <typename Entries>
  static uint32_t take(std::vector<uint32_t>& free, Entries& entries) {
    if (free.empty()) {
      entries.emplace_back();
      return static_cast<uint32_t>(entries.size() - 1);
    }
    const uint32_t index = free.back();
    free.pop_back();
    return index;
  }

  size_t buf_ring_bytes() const { return sizeof(io_uring_buf) * buffer_count_; }
  std::byte* buffer(uint16_t id) { return buffers_.data() + static_cast<size_t>(id) * buffer_size; }

  void give_back(uint16_t id) {
    io_uring_buf_ring_add(buf_ring_, buffer(id), buffer_size, id, io_uring_buf_ring_mask(buffer_count_), pending_buffers_++);
  }
  void publish_buffers() {
    if (pending_buffers_) io_uring_buf_ring_advance(buf_ring_, pending_buffers_);
    pending_buffers_ = 0;
  }

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (!sqe) {  // the queue is full: hand it to the kernel and take a fresh entry
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void arm_poll(int fd, control_index which) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, make_data(kind::control, 0, which));
  }

  void arm_receive(uint32_t index) {
    slot& s = slots_[index];
    if (!s.ref) return;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_recvmsg_multishot(sqe, 0, &receive_template_, 0);
    set_file(sqe, index);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data64(sqe, make_data(kind::receive, s.gen, index));
  }

  void on_receive(const io_uring_cqe& cqe, uint64_t d, handler& h) {
    const uint32_t index = index_of(d);
    const bool current = index < slots_.size() && slots_[index].ref && slots_[index].gen == gen_of(d);
    if (cqe.flags & IORING_CQE_F_BUFFER) {
      const auto id = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (current && cqe.res > 0) deliver(*slots_[index].ref, buffer(id), cqe.res, h);
      give_back(id);
    }
    // The multishot receive ended (no buffer was free, the completion queue overflowed):
    // start it again once this round's buffers are back.
    if (current && !(cqe.flags & IORING_CQE_F_MORE)) rearm_.push_back(index);
  }

  void deliver(socket_ref& ref, std::byte* buf, int res, handler& h) {
    auto* out = io_uring_recvmsg_validate(buf, res, &receive_template_);
    if (!out || (out->flags & MSG_TRUNC)) return;  // larger than a buffer: no RTP packet is
    auto* payload = static_cast<std::byte*>(io_uring_recvmsg_payload(out, &receive_template_));
    const size_t len = io_uring_recvmsg_payload_length(out, res, &receive_template_);
    sockaddr_storage from{};
    const socklen_t from_len = std::min<socklen_t>(out->namelen, sizeof from);
    std::memcpy(&from, io_uring_recvmsg_name(out), from_len);
    int64_t arrival_ns = 0;
    for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(out, &receive_template_); c;
         c = io_uring_recvmsg_cmsg_nexthdr(out, &receive_template_, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec t;
      std::memcpy(&t, CMSG_DATA(c), sizeof t);
      arrival_ns = static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec + real_to_mono_ns_;
    }
    h.on_datagram(ref, std::span(payload, buf + buffer_size), len, from, from_len, arrival_ns);
  }

  // Multishot receives and provided buffer rings exist since 6.0; ask the kernel rather
  // than its version: one datagram through a socket of our own.
  std::string self_test() {
    int a = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a < 0) return std::string("socket: ") + std::strerror(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    std::string why;
    socket_ref probe;
    if (::bind(a, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(a, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      why = std::string("loopback socket: ") + std::strerror(errno);
    } else {
      static constexpr char hello[] = "hotline";
      sockaddr_storage to{};
      std::memcpy(&to, &addr, len);
      watch(probe, a);
      send(probe, std::as_bytes(std::span(hello)), to, len);
      struct catcher final : handler {
        bool got = false;
        void on_datagram(socket_ref&, std::span<std::byte> b, size_t n, const sockaddr_storage&, socklen_t,
                         int64_t) override {
          got = n == sizeof hello && std::memcmp(b.data(), hello, n) == 0;
        }
        void on_tick() override {}
        void on_wake() override {}
      } c;
      for (int i = 0; i < 50 && !c.got; ++i) {
        __kernel_timespec ts{0, 10'000'000};
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        // Only datagrams and sends are expected this early; the polls' completions wait.
        unsigned seen = 0, head;
        std::vector<uint64_t> later;
        io_uring_for_each_cqe(&ring_, head, cqe) {
          ++seen;
          if (kind_of(cqe->user_data) == kind::receive) {
            if (cqe->res < 0 && cqe->res != -ENOBUFS) why = std::string("multishot recvmsg: ") + std::strerror(-cqe->res);
            on_receive(*cqe, cqe->user_data, c);
          } else if (kind_of(cqe->user_data) == kind::send) {
            free_sends_.push_back(index_of(cqe->user_data));
            if (cqe->res == -EINVAL && send_with_address_) {  // a kernel before 6.6: sendmsg
              send_with_address_ = false;
              send(probe, std::as_bytes(std::span(hello)), to, len);
            } else if (cqe->res < 0) {
              why = std::string("sendmsg: ") + std::strerror(-cqe->res);
            }
          } else if (!(cqe->flags & IORING_CQE_F_MORE)) {
            later.push_back(cqe->user_data);
          }
        }
        io_uring_cq_advance(&ring_, seen);
        publish_buffers();
        // A poll that ended now is armed again; one that fired goes on (nothing reads the
        // eventfd or timerfd yet: no command is posted and the timer is set after this).
        for (uint64_t u : later)
          if (index_of(u) == wake_poll) arm_poll(wake_fd_, wake_poll);
          else if (index_of(u) == tick_poll) arm_poll(timer_fd_, tick_poll);
        if (!why.empty()) break;
      }
      unwatch(probe, a);
      if (!c.got && why.empty()) why = "io_uring delivered no datagram within 0.5 s";
    }
    ::close(a);
    return why;
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  unsigned buffer_count_ = 4096;  // provided receive buffers (a power of two)
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::vector<std::byte> buffers_;
  int pending_buffers_ = 0;
  msghdr receive_template_{};
  int wake_fd_ = -1, timer_fd_ = -1;
  int64_t real_to_mono_ns_ = 0;  // this round's CLOCK_MONOTONIC - CLOCK_REALTIME
  bool send_with_address_ = true;  // IORING_OP_SEND takes a destination (6.6+); else sendmsg
  std::vector<slot> slots_;
  std::vector<uint32_t> free_slots_, rearm_;
  std::deque<send_slot> sends_;  // stable addresses: the kernel reads them until completion
  std::vector<uint32_t> free_sends_;
};

}  // namespace

std::unique_ptr<packet_io> packet_io::make_uring(int wake_fd, int timer_fd, unsigned buffers, std::string& why) {
  auto io = std::make_unique<uring_io>(buffers);
  why = io->open(wake_fd, timer_fd);
  if (!why.empty()) return nullptr;
  return io;
}

std::unique_ptr<packet_io> packet_io::make_epoll(int wake_fd, int timer_fd, std::string& why) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    why = std::string("epoll_create1: ") + std::strerror(errno);
    return nullptr;
  }
  return std::make_unique<epoll_io>(fd, wake_fd, timer_fd);
}

}  // namespace hotline::media::detail
