// The only TU of media/sip that includes Asio: sockets, the SIP thread and its tick.
#include "media/sip/service.hpp"

#include <ifaddrs.h>
#include <sys/socket.h>
#include <net/if.h>
#include <openssl/rand.h>
#include <time.h>

#include <boost/asio.hpp>
#include <array>
#include <cstring>
#include <deque>
#include <future>
#include <thread>
#include <unordered_map>

#include "media/sip/parser.hpp"

namespace hotline::sip {
namespace {

namespace net = boost::asio;
using udp = net::ip::udp;
using tcp = net::ip::tcp;

constexpr auto tick_interval = std::chrono::milliseconds(10);
constexpr size_t udp_batch = 64;             // datagrams drained per wake-up
constexpr size_t udp_mmsg = 16;              // datagrams per recvmmsg / sendmmsg call
constexpr size_t tcp_max_buffer = 4 * max_message_bytes;
constexpr size_t tcp_max_queue = 1024;       // messages waiting to be written to one peer

std::string first_host_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP)) continue;
    if (i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    found = text;
  }
  freeifaddrs(list);
  return found.empty() ? "127.0.0.1" : found;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

struct tcp_connection;

struct service::impl final : transport_sender {
  net::io_context io{1};
  std::vector<std::unique_ptr<udp::socket>> udp_sockets;
  std::unordered_map<const udp::socket*, udp::endpoint> udp_senders;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::unordered_map<uint64_t, std::shared_ptr<tcp_connection>> connections;
  std::unordered_map<std::string, uint64_t> connection_by_peer;  // "ip|port" -> id
  uint64_t next_connection = 1;
  uint64_t connections_total = 0;
  std::unique_ptr<user_agent> ua;
  net::steady_timer tick{io};
  std::thread thread;
  std::string advertise;
  uint16_t udp_port = 0, tcp_port = 0;
  std::array<char, max_message_bytes + 1> udp_buffer{};
  // Per-message costs that add up at 20,000 messages/s: the text of the last source
  // address (inet_ntop formats with sprintf), the parse of the last destination, and
  // each UDP socket's family (local_endpoint() is a getsockname() system call).
  net::ip::address last_from;
  std::string last_from_text;
  std::string last_to_text;
  net::ip::address last_to;
  std::vector<bool> udp_is_v6;
  // While a drained batch of datagrams is handled, the UDP datagrams it answers with are
  // collected and leave together (sendmmsg): one system call per socket and batch.
  struct udp_out {
    size_t socket;
    udp::endpoint to;
    std::string bytes;
  };
  bool batching = false;
  std::vector<udp_out> out_batch;
  using rx_buffer = std::array<char, max_message_bytes + 1>;
  std::vector<rx_buffer> rx_bufs = std::vector<rx_buffer>(udp_mmsg);
  void flush_udp();
  size_t drain_udp(udp::socket& s, address& a);
  const std::string& text_of(const net::ip::address& a) {
    if (a != last_from || last_from_text.empty()) {
      last_from = a;
      last_from_text = a.to_string();
    }
    return last_from_text;
  }
  log_sink log;
  // SIP-thread CPU over the last second, for admission control.
  double cpu_fraction = 0, cpu_mark = 0;
  clock::time_point cpu_window_start{};

  void send(const address& to, std::string bytes) override;
  address local_address(transport_kind kind) const override {
    return {advertise, kind == transport_kind::udp ? udp_port : tcp_port, kind, 0};
  }
  void receive_udp(udp::socket& s);
  void accept(tcp::acceptor& a);
  void on_tick();
  void deliver(std::string_view bytes, const address& from) {
    ua->receive(bytes, from, clock::now(), std::chrono::system_clock::now());
  }
  void forget(uint64_t id);
  std::shared_ptr<tcp_connection> connect(const address& to);
};

// One TCP flow, accepted or opened by us. Lives on the SIP thread; handlers hold a
// shared_ptr so a pending operation keeps it alive (Beast's session pattern).
struct tcp_connection : std::enable_shared_from_this<tcp_connection> {
  tcp_connection(service::impl& owner, tcp::socket socket, uint64_t id)
      : owner_(owner), socket_(std::move(socket)), id_(id) {}

  void start(const tcp::endpoint& peer) {
    peer_.ip = peer.address().to_string();
    peer_.port = peer.port();
    peer_.kind = transport_kind::tcp;
    peer_.connection = id_;
    connected_ = true;
    read();
    flush();
  }

  void read() {
    socket_.async_read_some(net::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return self->close();
      self->in_.append(self->buffer_.data(), n);
      for (;;) {
        size_t frame = find_stream_frame(self->in_);
        if (frame == std::string_view::npos) {
          // The stream cannot be framed any more (RFC 3261 §18.3: close it).
          if (self->owner_.log) self->owner_.log("warn", "unframeable SIP stream from " + to_string(self->peer_));
          return self->close();
        }
        if (frame == 0) break;
        std::string msg = self->in_.substr(0, frame);
        self->in_.erase(0, frame);
        self->owner_.deliver(msg, self->peer_);
        if (self->closed_) return;
      }
      if (self->in_.size() > tcp_max_buffer) return self->close();
      self->read();
    });
  }

  void write(std::string bytes) {
    if (closed_) return;
    if (out_.size() >= tcp_max_queue) return close();  // a peer that does not read
    out_.push_back(std::move(bytes));
    if (connected_) flush();
  }

  void flush() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    net::async_write(socket_, net::buffer(out_.front()), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->close();
      self->out_.pop_front();
      self->flush();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    owner_.forget(id_);
  }

  service::impl& owner_;
  tcp::socket socket_;
  uint64_t id_;
  address peer_;
  std::array<char, 16384> buffer_{};
  std::string in_;
  std::deque<std::string> out_;
  bool writing_ = false, connected_ = false, closed_ = false;
};

void service::impl::forget(uint64_t id) {
  auto it = connections.find(id);
  if (it == connections.end()) return;
  connection_by_peer.erase(it->second->peer_.ip + '|' + std::to_string(it->second->peer_.port));
  connections.erase(it);
}

void service::impl::receive_udp(udp::socket& s) {
  // One receive is outstanding per socket, so its sender endpoint can live beside it.
  udp::endpoint* from = &udp_senders[&s];
  s.async_receive_from(net::buffer(udp_buffer), *from, [this, &s, from](boost::system::error_code ec, size_t n) {
    if (ec == net::error::operation_aborted) return;
    address a;
    a.kind = transport_kind::udp;
    batching = true;
    if (!ec) {
      a.ip = text_of(from->address());
      a.port = from->port();
      deliver(std::string_view(udp_buffer.data(), n), a);
    }
    // Drain what else is queued before going back to the reactor: one wake-up, many
    // datagrams (the 3,000 calls/s budget is mostly parse and system calls), received
    // and answered in batches.
    for (size_t got = 0; got < udp_batch;) {
      size_t n2 = drain_udp(s, a);
      got += n2;
      if (n2 < udp_mmsg) break;
    }
    batching = false;
    flush_udp();
    receive_udp(s);
  });
}

size_t service::impl::drain_udp(udp::socket& s, address& a) {
  std::array<mmsghdr, udp_mmsg> msgs{};
  std::array<iovec, udp_mmsg> iov{};
  std::array<sockaddr_storage, udp_mmsg> from{};
  for (size_t i = 0; i < udp_mmsg; ++i) {
    iov[i] = {rx_bufs[i].data(), max_message_bytes};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int n = ::recvmmsg(s.native_handle(), msgs.data(), udp_mmsg, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    udp::endpoint ep;
    std::memcpy(ep.data(), &from[i], msgs[i].msg_hdr.msg_namelen);
    ep.resize(msgs[i].msg_hdr.msg_namelen);
    a.ip = text_of(ep.address());
    a.port = ep.port();
    deliver(std::string_view(rx_bufs[i].data(), msgs[i].msg_len), a);
  }
  return static_cast<size_t>(n);
}

void service::impl::flush_udp() {
  for (size_t first = 0; first < out_batch.size();) {
    // Consecutive datagrams from one socket go out in one sendmmsg.
    size_t sock = out_batch[first].socket, end = first;
    std::array<mmsghdr, udp_mmsg> msgs{};
    std::array<iovec, udp_mmsg> iov{};
    while (end < out_batch.size() && end - first < udp_mmsg && out_batch[end].socket == sock) {
      auto& o = out_batch[end];
      size_t k = end - first;
      iov[k] = {o.bytes.data(), o.bytes.size()};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = o.to.data();
      msgs[k].msg_hdr.msg_namelen = static_cast<socklen_t>(o.to.size());
      ++end;
    }
    // UDP: what the kernel does not take is a lost packet; the transaction layer retransmits.
    int sent = ::sendmmsg(udp_sockets[sock]->native_handle(), msgs.data(), static_cast<unsigned>(end - first), MSG_DONTWAIT);
    if (sent < static_cast<int>(end - first) && log)
      log("warn", "SIP send: " + std::to_string(end - first - std::max(sent, 0)) + " datagrams not sent");
    first = end;
  }
  out_batch.clear();
}

void service::impl::accept(tcp::acceptor& a) {
  a.async_accept([this, &a](boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      boost::system::error_code pe;
      tcp::endpoint peer = socket.remote_endpoint(pe);
      if (!pe) {
        uint64_t id = next_connection++;
        ++connections_total;
        auto c = std::make_shared<tcp_connection>(*this, std::move(socket), id);
        connections.emplace(id, c);
        connection_by_peer[peer.address().to_string() + '|' + std::to_string(peer.port())] = id;
        c->start(peer);
      }
    }
    accept(a);
  });
}

std::shared_ptr<tcp_connection> service::impl::connect(const address& to) {
  boost::system::error_code ec;
  auto ip = net::ip::make_address(to.ip, ec);
  if (ec) return nullptr;
  uint64_t id = next_connection++;
  ++connections_total;
  auto c = std::make_shared<tcp_connection>(*this, tcp::socket(io), id);
  connections.emplace(id, c);
  connection_by_peer[to.ip + '|' + std::to_string(to.port)] = id;
  tcp::endpoint ep(ip, to.port);
  c->socket_.async_connect(ep, [c, ep](boost::system::error_code cec) {
    if (cec) return c->close();
    c->start(ep);
  });
  return c;
}

void service::impl::send(const address& to, std::string bytes) {
  if (to.kind == transport_kind::tcp) {
    std::shared_ptr<tcp_connection> c;
    if (auto it = connections.find(to.connection); to.connection && it != connections.end()) c = it->second;
    if (!c)
      if (auto it = connection_by_peer.find(to.ip + '|' + std::to_string(to.port)); it != connection_by_peer.end())
        c = connections.at(it->second);
    if (!c) c = connect(to);
    if (c) c->write(std::move(bytes));
    return;
  }
  boost::system::error_code ec;
  if (to.ip != last_to_text || last_to_text.empty()) {
    auto ip = net::ip::make_address(to.ip, ec);
    if (ec) return;
    last_to = ip;
    last_to_text = to.ip;
  }
  const auto& ip = last_to;
  for (size_t i = 0; i < udp_sockets.size(); ++i) {
    auto& s = udp_sockets[i];
    if (udp_is_v6[i] != ip.is_v6()) continue;
    if (batching) {
      out_batch.push_back({i, udp::endpoint(ip, to.port), std::move(bytes)});
      return;
    }
    // UDP: a send that would block is a lost packet; the transaction layer retransmits.
    s->send_to(net::buffer(bytes), udp::endpoint(ip, to.port), 0, ec);
    if (ec && log) log("warn", "SIP send to " + to_string(to) + " failed: " + ec.message());
    return;
  }
}

void service::impl::on_tick() {
  auto now = clock::now();
  ua->poll(now);
  if (now - cpu_window_start >= std::chrono::seconds(1)) {
    double cpu = thread_cpu_seconds();
    double wall = std::chrono::duration<double>(now - cpu_window_start).count();
    if (cpu_window_start != clock::time_point{}) cpu_fraction = (cpu - cpu_mark) / wall;
    cpu_mark = cpu;
    cpu_window_start = now;
  }
  tick.expires_after(tick_interval);
  tick.async_wait([this](boost::system::error_code ec) {
    if (!ec) on_tick();
  });
}

// Opens and binds every listening socket on `port` (0: any, the same for all).
std::error_code bind_sockets(service::impl& p, const service_options& options, uint16_t requested) {
  uint16_t port = requested;
  for (const std::string& host : options.listen) {
    boost::system::error_code bec;
    auto ip = net::ip::make_address(host, bec);
    if (bec) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    auto s = std::make_unique<udp::socket>(p.io);
    s->open(ip.is_v6() ? udp::v6() : udp::v4(), bec);
    if (!bec && ip.is_v6()) s->set_option(net::ip::v6_only(true), bec);
    if (!bec) s->bind(udp::endpoint(ip, port), bec);
    if (bec) {
      return std::error_code(bec.value(), std::system_category());
    }
    // A deep receive buffer rides out bursts (SIPp at thousands of calls/s).
    s->set_option(net::socket_base::receive_buffer_size(4 << 20), bec);
    s->non_blocking(true, bec);
    if (port == 0) port = s->local_endpoint().port();
    p.udp_port = port;
    p.udp_sockets.push_back(std::move(s));
    p.udp_is_v6.push_back(ip.is_v6());
    if (options.tcp) {
      auto a = std::make_unique<tcp::acceptor>(p.io);
      a->open(ip.is_v6() ? tcp::v6() : tcp::v4(), bec);
      if (!bec) a->set_option(net::socket_base::reuse_address(true), bec);
      if (!bec && ip.is_v6()) a->set_option(net::ip::v6_only(true), bec);
      if (!bec) a->bind(tcp::endpoint(ip, port), bec);
      if (!bec) a->listen(net::socket_base::max_listen_connections, bec);
      if (bec) {
        return std::error_code(bec.value(), std::system_category());
      }
      p.tcp_port = port;
      p.acceptors.push_back(std::move(a));
    }
  }
  return {};
}

service::service(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

service::~service() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->connections.clear();
}

std::unique_ptr<service> service::start(service_options options, const credential_store& credentials,
                                        event_handler& events, std::error_code& ec) {
  auto p = std::make_unique<impl>();
  p->log = options.log;
  if (options.nonce_secret.empty()) {
    options.nonce_secret.resize(32);
    RAND_bytes(reinterpret_cast<unsigned char*>(options.nonce_secret.data()), 32);
  }
  // Port 0 (tests): the kernel picks a free UDP port, and TCP must get the same one. If
  // someone holds that number for TCP, try again with another.
  for (int attempt = 0;; ++attempt) {
    ec = bind_sockets(*p, options, options.port);
    if (!ec) break;
    if (options.port != 0 || ec != std::errc::address_in_use || attempt == 20) return nullptr;
    p->udp_sockets.clear();
    p->udp_is_v6.clear();
    p->udp_senders.clear();
    p->acceptors.clear();
  }
  if (!options.advertise.empty()) {
    p->advertise = options.advertise;
  } else {
    const std::string& first = options.listen.empty() ? std::string("0.0.0.0") : options.listen.front();
    p->advertise = first == "0.0.0.0" || first == "::" ? first_host_address() : first;
  }
  impl* raw = p.get();
  p->ua = std::make_unique<user_agent>(
      std::move(options.ua), *raw, credentials, std::span<const std::byte>(options.nonce_secret), events,
      [raw] { return raw->cpu_fraction; }, options.log);
  for (auto& s : p->udp_sockets) p->receive_udp(*s);
  for (auto& a : p->acceptors) p->accept(*a);
  p->on_tick();
  p->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hotline-sip");
    raw->io.run();
  });
  ec.clear();
  return std::unique_ptr<service>(new service(std::move(p)));
}

uint16_t service::udp_port() const { return impl_->udp_port; }
uint16_t service::tcp_port() const { return impl_->tcp_port; }
std::string service::advertised_address() const { return impl_->advertise; }

void service::ring(call_ref ref) {
  net::post(impl_->io, [p = impl_.get(), ref] { p->ua->ring(ref, clock::now()); });
}
void service::answer(call_ref ref, sdp::session_description sdp) {
  net::post(impl_->io, [p = impl_.get(), ref, sdp = std::move(sdp)] { p->ua->answer(ref, sdp, clock::now()); });
}
void service::reject(call_ref ref, int status, std::string reason) {
  net::post(impl_->io, [p = impl_.get(), ref, status, reason = std::move(reason)] {
    p->ua->reject(ref, status, reason, clock::now());
  });
}
call_ref service::originate(originate_request request) {
  call_ref ref = impl_->ua->new_ref();
  net::post(impl_->io, [p = impl_.get(), ref, request = std::move(request)] {
    p->ua->originate(ref, request, clock::now());
  });
  return ref;
}
void service::reinvite(call_ref ref, sdp::session_description sdp) {
  net::post(impl_->io, [p = impl_.get(), ref, sdp = std::move(sdp)] { p->ua->reinvite(ref, sdp, clock::now()); });
}
void service::hangup(call_ref ref) {
  net::post(impl_->io, [p = impl_.get(), ref] { p->ua->hangup(ref, clock::now()); });
}

// Runs `f` on the SIP thread and waits for its result (never call from that thread).
template <class F>
auto on_sip_thread(net::io_context& io, F f) {
  std::promise<decltype(f())> done;
  auto result = done.get_future();
  net::post(io, [&] { done.set_value(f()); });
  return result.get();
}

std::vector<binding> service::lookup(const std::string& user) {
  return on_sip_thread(impl_->io, [&] { return impl_->ua->registrations().lookup(user); });
}

sdp::endpoint_policy service::phone_policy(const std::string& user) {
  return on_sip_thread(impl_->io, [&] { return impl_->ua->phone_policy(user); });
}

service_stats service::stats() {
  return on_sip_thread(impl_->io, [p = impl_.get()] {
    service_stats s;
    s.ua = p->ua->stats();
    s.transactions = p->ua->transaction_counters();
    s.bindings = p->ua->registrations().binding_count();
    s.sip_thread_cpu = p->cpu_fraction;
    s.tcp_connections = p->connections_total;
    return s;
  });
}

}  // namespace hotline::sip
