#include "media/rtp/loopback_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "media/rtp/packet.hpp"

namespace hotline::rtp {

struct loopback_peer::state {
  int fd = -1;
  sink_fn sink;
  std::atomic<bool> stop{false};
  std::atomic<uint16_t> remote_port{0};
  std::atomic<uint64_t> received{0}, sent{0};
  std::mutex send_mutex;  // sequence numbers; send() may come from any thread
  uint16_t sequence = 0;
  uint32_t ssrc = 0;
  std::thread thread;

  void run() {
    std::byte buf[1500];
    while (!stop.load(std::memory_order_acquire)) {
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, 100);
      if (n <= 0 || !(p.revents & POLLIN)) continue;
      ssize_t len = ::recv(fd, buf, sizeof buf, 0);
      if (len <= 0) continue;
      packet_view v;
      if (parse(std::span<const std::byte>(buf, static_cast<size_t>(len)), v) != parse_status::ok) continue;
      if (v.h.payload_type != payload_type || v.payload.empty()) continue;  // RTCP, DTMF, comfort noise
      received.fetch_add(1, std::memory_order_relaxed);
      sink(v.payload, v.h.timestamp);
    }
  }
};

std::unique_ptr<loopback_peer> loopback_peer::open(sink_fn sink, std::string& error) {
  auto s = std::make_unique<state>();
  s->sink = std::move(sink);
  s->fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (::bind(s->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s->fd, reinterpret_cast<sockaddr*>(&a), &alen) != 0) {
    error = std::string("bind 127.0.0.1: ") + std::strerror(errno);
    ::close(s->fd);
    return nullptr;
  }
  std::random_device rd;
  s->ssrc = rd();
  s->sequence = static_cast<uint16_t>(rd());
  auto port = ntohs(a.sin_port);
  s->thread = std::thread([st = s.get()] { st->run(); });
  std::unique_ptr<loopback_peer> p(new loopback_peer(std::move(s)));
  p->port_ = port;
  return p;
}

loopback_peer::loopback_peer(std::unique_ptr<state> s) : s_(std::move(s)) {}

loopback_peer::~loopback_peer() {
  s_->stop.store(true, std::memory_order_release);
  if (s_->thread.joinable()) s_->thread.join();
  ::close(s_->fd);
}

void loopback_peer::set_remote(uint16_t port) { s_->remote_port.store(port, std::memory_order_release); }

void loopback_peer::send(std::span<const std::byte> opus, uint32_t timestamp) {
  auto port = s_->remote_port.load(std::memory_order_acquire);
  if (!port || opus.empty() || opus.size() > 1275) return;  // RFC 6716: at most 1275 bytes a frame
  std::byte out[header_bytes + 1276];
  header h;
  h.payload_type = payload_type;
  h.timestamp = timestamp;
  h.ssrc = s_->ssrc;
  {
    std::lock_guard lock(s_->send_mutex);
    h.sequence = s_->sequence++;
  }
  size_t n = build(h, opus, out);
  if (!n) return;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::sendto(s_->fd, out, n, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) > 0)
    s_->sent.fetch_add(1, std::memory_order_relaxed);
}

uint64_t loopback_peer::received() const { return s_->received.load(std::memory_order_relaxed); }
uint64_t loopback_peer::sent() const { return s_->sent.load(std::memory_order_relaxed); }

}  // namespace hotline::rtp
