// The media threads: each owns its sessions, their sockets (through packet_io: io_uring
// or epoll), a 20 ms timerfd and an eventfd that wakes it for commands. Commands arrive on a lock-free
// multi-producer stack (Treiber), reversed on the thread so each producer's order holds.
#include "media/engine/engine.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "media/engine/session.hpp"

namespace hotline::media {

std::string_view to_string(leg_role r) {
  switch (r) {
    case leg_role::caller: return "caller";
    case leg_role::agent: return "agent";
    case leg_role::supervisor: return "supervisor";
  }
  return "?";
}

struct engine::command {
  enum class kind { create, add_leg, configure, close_leg, set_mix, play, stop_playback, send_dtmf, set_tap, record, close };
  kind what = kind::create;
  command* next = nullptr;
  session_id session = 0;
  leg_role role = leg_role::caller;
  uint32_t mix_rate = 8000;
  event_sink sink;
  int rtp_fd = -1, rtcp_fd = -1;
  bool ipv6 = false;
  sdp::negotiated media;
  uint32_t bandwidth = 0;
  mix::matrix matrix{};
  std::shared_ptr<const pcm_clip> clip;
  std::vector<leg_role> to;
  bool loop = false;
  std::string digits;
  tap_sink tap;
  std::shared_ptr<record::recording> recording;
};

namespace {

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

struct engine::thread final : detail::packet_io::handler {
  const engine_config& config;
  int wake_fd = -1, timer_fd = -1;
  std::unique_ptr<detail::packet_io> io;  // made and used on the worker
  std::string io_description;             // set before start() returns
  std::atomic<command*> head{nullptr};
  std::atomic<bool> stopping{false};
  std::thread worker;
  std::unordered_map<session_id, std::unique_ptr<detail::session>> sessions;
  engine_stats local;  // this thread's counters, written only here
  mutable std::mutex snapshot_mutex;
  engine_stats snapshot;
  int64_t cpu_mark = 0, wall_mark = 0;
  // Sub-ticks: the timer fires `wakeups` times per 20 ms. Each session ticks on one of
  // `tick_phases` of them (a session's own tick stays exactly 20 ms apart). On io_uring
  // the thread reads its sockets only when it wakes, so it wakes `reads_per_tick` times
  // at least: a forwarded packet waits for the next read, not for the next tick.
  uint64_t subtick = 0;
  unsigned wakeups = 1;
  unsigned next_phase = 0;
  std::array<std::vector<detail::session*>, 4> by_phase;  // the sessions of each phase
  unsigned tick_phases() const { return std::clamp(config.tick_phases, 1u, 4u); }

  explicit thread(const engine_config& c) : config(c) {}
  ~thread() {
    stop();
    sessions.clear();
    for (int fd : {wake_fd, timer_fd})
      if (fd >= 0) ::close(fd);
    // Commands never taken (the engine stopped): close the sockets they carry.
    for (command* c = head.exchange(nullptr); c;) {
      command* n = c->next;
      if (c->rtp_fd >= 0) ::close(c->rtp_fd);
      if (c->rtcp_fd >= 0) ::close(c->rtcp_fd);
      delete c;
      c = n;
    }
  }

  std::optional<std::string> start() {
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (wake_fd < 0 || timer_fd < 0) return std::string("media thread: ") + std::strerror(errno);
    // The io is made on the worker (an io_uring ring here has a single submitter).
    std::promise<std::string> made;
    auto result = made.get_future();
    worker = std::thread([this, &made] {
      std::string why;
      if (config.io_uring) io = detail::packet_io::make_uring(wake_fd, timer_fd, config.io_uring_buffers, why);
      wakeups = tick_phases();
      if (io) {
        io_description = io->name();
        wakeups = std::max(wakeups, std::clamp(config.reads_per_tick, 1u, 4u));
      } else {
        std::string uring_why = why;
        io = detail::packet_io::make_epoll(wake_fd, timer_fd, why);
        io_description = config.io_uring ? "epoll (io_uring: " + uring_why + ")" : "epoll";
      }
      made.set_value(io ? std::string() : why);
      if (io) run();
    });
    if (std::string why = result.get(); !why.empty()) {
      worker.join();
      return "media thread: " + why;
    }
    itimerspec its{};
    its.it_interval.tv_nsec = 20'000'000 / wakeups;
    its.it_value.tv_nsec = 20'000'000 / wakeups;
    timerfd_settime(timer_fd, 0, &its, nullptr);
    return std::nullopt;
  }

  void stop() {
    if (!worker.joinable()) return;
    stopping = true;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
    worker.join();
  }

  void post(command* c) {
    c->next = head.load(std::memory_order_relaxed);
    while (!head.compare_exchange_weak(c->next, c, std::memory_order_release, std::memory_order_relaxed)) {
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void watch(detail::leg& l) {
    if (l.rtp_fd >= 0) io->watch(l.rtp_ref, l.rtp_fd);
    if (l.rtcp_fd >= 0) io->watch(l.rtcp_ref, l.rtcp_fd);
  }

  void unwatch_and_close(detail::leg& l) {
    for (auto [fd, ref] : {std::pair{&l.rtp_fd, &l.rtp_ref}, std::pair{&l.rtcp_fd, &l.rtcp_ref}}) {
      if (*fd < 0) continue;
      io->unwatch(*ref, *fd);
      ::close(*fd);
      *fd = -1;
    }
  }

  void execute(command& c, int64_t now) {
    auto it = sessions.find(c.session);
    detail::session* s = it == sessions.end() ? nullptr : it->second.get();
    switch (c.what) {
      case command::kind::create: {
        auto& slot = sessions[c.session];
        if (slot) return;  // ids are unique; never replace a live session
        slot = std::make_unique<detail::session>(c.session, c.mix_rate, std::move(c.sink), config, *io);
        slot->set_tick_phase(next_phase++ % tick_phases());
        by_phase[slot->tick_phase()].push_back(slot.get());
        ++local.sessions;
        return;
      }
      case command::kind::add_leg: {
        detail::leg* l = s ? s->add_leg(c.role, c.rtp_fd, c.rtcp_fd, c.ipv6) : nullptr;
        if (l) {
          watch(*l);
          ++local.legs;
        } else {  // the session is gone, or the role taken: the sockets are nobody's
          if (c.rtp_fd >= 0) ::close(c.rtp_fd);
          if (c.rtcp_fd >= 0) ::close(c.rtcp_fd);
        }
        c.rtp_fd = c.rtcp_fd = -1;
        return;
      }
      default:
        break;
    }
    if (!s) return;  // a command for a session already closed: nothing to do
    switch (c.what) {
      case command::kind::configure: s->configure(c.role, c.media, c.bandwidth, now); break;
      case command::kind::close_leg:
        if (auto l = s->remove_leg(c.role)) {
          unwatch_and_close(*l);
          --local.legs;
        }
        break;
      case command::kind::set_mix: s->set_mix(c.matrix); break;
      case command::kind::play: s->play(std::move(c.clip), c.to, c.loop); break;
      case command::kind::stop_playback: s->stop_playback(); break;
      case command::kind::send_dtmf: s->send_dtmf(c.role, c.digits); break;
      case command::kind::set_tap: s->set_tap(std::move(c.tap)); break;
      case command::kind::record: s->set_recording(std::move(c.recording)); break;
      case command::kind::close: {
        media_event e = s->closing_event();
        for (auto& l : s->legs())
          if (l) {
            unwatch_and_close(*l);
            --local.legs;
          }
        auto owned = std::move(it->second);
        sessions.erase(it);
        auto& phase = by_phase[owned->tick_phase()];
        phase.erase(std::find(phase.begin(), phase.end(), owned.get()));
        --local.sessions;
        // The session's own sink delivers its last event.
        owned->deliver(std::move(e));
        break;
      }
      default: break;
    }
  }

  void drain_commands() {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(wake_fd, &v, sizeof v);
    command* list = head.exchange(nullptr, std::memory_order_acquire);
    command* ordered = nullptr;  // reverse: oldest first
    while (list) {
      command* n2 = list->next;
      list->next = ordered;
      ordered = list;
      list = n2;
    }
    int64_t now = mono_ns();
    while (ordered) {
      command* n2 = ordered->next;
      execute(*ordered, now);
      delete ordered;
      ordered = n2;
    }
  }

  void on_datagram(detail::socket_ref& ref, std::span<std::byte> buffer, size_t len, const sockaddr_storage& from,
                   socklen_t from_len, int64_t arrival_ns) override {
    detail::leg& l = *ref.owner;
    const int64_t now = mono_ns();
    l.owner->on_datagram(l, ref.rtcp, buffer, len, from, from_len, now, arrival_ns ? arrival_ns : now, local);
  }
  void on_tick() override { tick(); }
  void on_wake() override { drain_commands(); }

  void tick() {
    uint64_t expirations = 0;
    if (::read(timer_fd, &expirations, sizeof expirations) != sizeof expirations) return;
    const unsigned phases = tick_phases(), w = wakeups;
    // Late: a whole 20 ms tick's worth of wake-ups behind (the thread stalled).
    if (expirations > w) local.late_ticks += (expirations - 1) / w;
    // Catch up a short stall (each session's tick is 20 ms of audio); beyond 100 ms, drop the rest.
    uint64_t run = std::min<uint64_t>(expirations, 5 * w);
    for (uint64_t k = 0; k < run; ++k) {
      int64_t now = mono_ns();
      const unsigned sub = subtick++ % w;
      for (unsigned p = 0; p < phases; ++p)
        if (p * w / phases == sub)
          for (detail::session* s : by_phase[p]) s->tick(now, local);
      if (sub == w - 1) ++local.ticks;
    }
    int64_t wall = mono_ns();
    if (wall - wall_mark >= 1'000'000'000) {
      int64_t cpu = thread_cpu_ns();
      if (wall_mark) local.busy_fraction = static_cast<double>(cpu - cpu_mark) / static_cast<double>(wall - wall_mark);
      local.send_errors = io->send_errors();
      cpu_mark = cpu;
      wall_mark = wall;
      std::lock_guard lock(snapshot_mutex);
      snapshot = local;
    }
  }

  void run() {
    while (!stopping.load(std::memory_order_relaxed)) io->wait(*this);
    local.send_errors = io->send_errors();
    io.reset();  // on this thread: an io_uring ring takes submissions from its own thread only
    std::lock_guard lock(snapshot_mutex);
    snapshot = local;
  }
};

struct engine::ports {
  std::atomic<uint32_t> cursor{0};
};

engine::engine(engine_config config) : config_(std::move(config)), ports_(std::make_unique<ports>()) {
  if (config_.threads == 0) config_.threads = 1;
  if (config_.port_min % 2) ++config_.port_min;
}

engine::~engine() { threads_.clear(); }

std::optional<std::string> engine::start() {
  if (config_.port_max <= config_.port_min) return std::string("media port range is empty");
  for (unsigned i = 0; i < config_.threads; ++i) {
    auto t = std::make_unique<thread>(config_);
    if (auto err = t->start()) return err;
    threads_.push_back(std::move(t));
  }
  return std::nullopt;
}

void engine::post(session_id s, std::unique_ptr<command> c) {
  if (threads_.empty()) {
    if (c->rtp_fd >= 0) ::close(c->rtp_fd);
    if (c->rtcp_fd >= 0) ::close(c->rtcp_fd);
    return;
  }
  c->session = s;
  threads_[s % threads_.size()]->post(c.release());
}

session_id engine::create_session(uint32_t mix_rate, event_sink sink) {
  session_id id = next_session_.fetch_add(1);
  auto c = std::make_unique<command>();
  c->what = command::kind::create;
  c->mix_rate = mix_rate == 16000 || mix_rate == 48000 ? mix_rate : 8000;
  c->sink = std::move(sink);
  post(id, std::move(c));
  return id;
}

namespace {

int bind_udp(bool ipv6, const std::string& address, uint16_t port) {
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int tos = 0xb8;  // DSCP EF (46): voice
  if (ipv6) setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  else setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    int only = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    if (inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1) a->sin6_addr = in6addr_any;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1) a->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::variant<sdp::local_media, std::string> engine::open_leg(session_id s, leg_role role, bool ipv6,
                                                             const std::string& advertise_address) {
  const std::string& bind = ipv6 ? config_.bind_v6 : config_.bind_v4;
  if (bind.empty()) return std::string(ipv6 ? "no IPv6 media address configured" : "no IPv4 media address configured");
  const uint32_t pairs = (config_.port_max - config_.port_min + 1) / 2;
  for (uint32_t attempt = 0; attempt < pairs; ++attempt) {
    auto port = static_cast<uint16_t>(config_.port_min + 2 * (ports_->cursor.fetch_add(1) % pairs));
    int rtp = bind_udp(ipv6, bind, port);
    int rtcp = rtp < 0 ? -1 : bind_udp(ipv6, bind, static_cast<uint16_t>(port + 1));
    if (rtcp < 0) {
      const int err = errno;
      if (rtp >= 0) ::close(rtp);
      if (err == EMFILE || err == ENFILE)  // not the port's fault: every other would fail too
        return std::string("no media socket: ") + std::strerror(err) + " (raise the open-file limit)";
      continue;
    }
    auto c = std::make_unique<command>();
    c->what = command::kind::add_leg;
    c->role = role;
    c->rtp_fd = rtp;
    c->rtcp_fd = rtcp;
    c->ipv6 = ipv6;
    post(s, std::move(c));
    sdp::local_media m;
    m.address = advertise_address;
    m.ipv6 = ipv6;
    m.port = port;
    return m;
  }
  return "no free media port in " + std::to_string(config_.port_min) + "-" + std::to_string(config_.port_max);
}

void engine::configure_leg(session_id s, leg_role role, const sdp::negotiated& media, uint32_t source_bandwidth_hz) {
  auto c = std::make_unique<command>();
  c->what = command::kind::configure;
  c->role = role;
  c->media = media;
  c->bandwidth = source_bandwidth_hz;
  post(s, std::move(c));
}

void engine::close_leg(session_id s, leg_role role) {
  auto c = std::make_unique<command>();
  c->what = command::kind::close_leg;
  c->role = role;
  post(s, std::move(c));
}

void engine::set_mix(session_id s, const mix::matrix& m) {
  auto c = std::make_unique<command>();
  c->what = command::kind::set_mix;
  c->matrix = m;
  post(s, std::move(c));
}

void engine::play(session_id s, std::shared_ptr<const pcm_clip> clip, std::vector<leg_role> to, bool loop) {
  auto c = std::make_unique<command>();
  c->what = command::kind::play;
  c->clip = std::move(clip);
  c->to = std::move(to);
  c->loop = loop;
  post(s, std::move(c));
}

void engine::stop_playback(session_id s) {
  auto c = std::make_unique<command>();
  c->what = command::kind::stop_playback;
  post(s, std::move(c));
}

void engine::send_dtmf(session_id s, leg_role role, std::string digits) {
  auto c = std::make_unique<command>();
  c->what = command::kind::send_dtmf;
  c->role = role;
  c->digits = std::move(digits);
  post(s, std::move(c));
}

void engine::set_tap(session_id s, tap_sink sink) {
  auto c = std::make_unique<command>();
  c->what = command::kind::set_tap;
  c->tap = std::move(sink);
  post(s, std::move(c));
}

void engine::record(session_id s, std::shared_ptr<record::recording> r) {
  auto c = std::make_unique<command>();
  c->what = command::kind::record;
  c->recording = std::move(r);
  post(s, std::move(c));
}

void engine::close_session(session_id s) {
  auto c = std::make_unique<command>();
  c->what = command::kind::close;
  post(s, std::move(c));
}

std::string engine::io_description() const {
  return threads_.empty() ? std::string("not started") : threads_.front()->io_description;
}

engine_stats engine::stats() const {
  engine_stats total;
  for (const auto& t : threads_) {
    std::lock_guard lock(t->snapshot_mutex);
    const auto& s = t->snapshot;
    total.sessions += s.sessions;
    total.legs += s.legs;
    total.packets_in += s.packets_in;
    total.packets_out += s.packets_out;
    total.srtp_auth_failures += s.srtp_auth_failures;
    total.malformed += s.malformed;
    total.ticks += s.ticks;
    total.late_ticks += s.late_ticks;
    total.busy_fraction += s.busy_fraction / static_cast<double>(threads_.size());
    total.send_errors += s.send_errors;
    total.forwarded_on_arrival += s.forwarded_on_arrival;
  }
  return total;
}

}  // namespace hotline::media
