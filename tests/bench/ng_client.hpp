#pragma once
// A minimal client for rtpengine's "ng" control protocol, for benchmarks that drive
// rtpengine as the reference media relay: bencode over UDP, each request a cookie, a
// space and one bencoded dictionary; the reply echoes the cookie (rtpengine's
// docs/ng_control_protocol.md). Just what `offer`, `answer`, `delete` and `ping` need.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hotline::test::ng {

// A bencode value: integer, byte string, list or dictionary (keys sorted, as bencode wants).
struct value {
  using list = std::vector<value>;
  using dict = std::map<std::string, value>;
  std::variant<int64_t, std::string, list, dict> v;

  value() : v(std::string()) {}
  value(int64_t i) : v(i) {}
  value(const char* s) : v(std::string(s)) {}
  value(std::string s) : v(std::move(s)) {}
  value(list l) : v(std::move(l)) {}
  value(dict d) : v(std::move(d)) {}

  const std::string* str() const { return std::get_if<std::string>(&v); }
  const dict* map() const { return std::get_if<dict>(&v); }
  // A dictionary member's string, empty when absent or not a string.
  std::string get(const std::string& key) const {
    if (const dict* d = map())
      if (auto it = d->find(key); it != d->end())
        if (const std::string* s = it->second.str()) return *s;
    return {};
  }
};

inline void encode(const value& x, std::string& out) {
  if (auto* i = std::get_if<int64_t>(&x.v)) {
    out += 'i' + std::to_string(*i) + 'e';
  } else if (auto* s = std::get_if<std::string>(&x.v)) {
    out += std::to_string(s->size()) + ':' + *s;
  } else if (auto* l = std::get_if<value::list>(&x.v)) {
    out += 'l';
    for (const auto& e : *l) encode(e, out);
    out += 'e';
  } else {
    out += 'd';
    for (const auto& [k, e] : std::get<value::dict>(x.v)) {
      encode(value(k), out);
      encode(e, out);
    }
    out += 'e';
  }
}

// Parses one value at `pos`; nullopt on malformed input (the reply is untrusted bytes).
inline std::optional<value> decode(const std::string& in, size_t& pos, int depth = 0) {
  if (pos >= in.size() || depth > 32) return std::nullopt;
  char c = in[pos];
  if (c == 'i') {
    size_t end = in.find('e', pos);
    if (end == std::string::npos) return std::nullopt;
    int64_t v = std::strtoll(in.c_str() + pos + 1, nullptr, 10);
    pos = end + 1;
    return value(v);
  }
  if (c == 'l' || c == 'd') {
    ++pos;
    value::list l;
    value::dict d;
    while (pos < in.size() && in[pos] != 'e') {
      auto k = decode(in, pos, depth + 1);
      if (!k) return std::nullopt;
      if (c == 'l') {
        l.push_back(std::move(*k));
        continue;
      }
      auto e = decode(in, pos, depth + 1);
      if (!e || !k->str()) return std::nullopt;
      d.emplace(*k->str(), std::move(*e));
    }
    if (pos >= in.size()) return std::nullopt;
    ++pos;
    return c == 'l' ? value(std::move(l)) : value(std::move(d));
  }
  size_t colon = in.find(':', pos);
  if (colon == std::string::npos || colon == pos || colon - pos > 9) return std::nullopt;
  size_t n = std::stoul(in.substr(pos, colon - pos));
  if (colon + 1 + n > in.size()) return std::nullopt;
  value s(in.substr(colon + 1, n));
  pos = colon + 1 + n;
  return s;
}

class client {
 public:
  explicit client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(port);
  }
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends one command and waits for its reply; nullopt on timeout or a malformed reply.
  std::optional<value> call(const value::dict& request, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    std::string cookie = std::to_string(getpid()) + "_" + std::to_string(++serial_);
    std::string msg = cookie + ' ';
    encode(value(request), msg);
    ::sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
    auto until = std::chrono::steady_clock::now() + timeout;
    std::string buf(65536, '\0');
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n <= 0) continue;
      std::string reply(buf.data(), static_cast<size_t>(n));
      if (reply.compare(0, cookie.size() + 1, cookie + ' ') != 0) continue;  // a stale reply
      size_t pos = cookie.size() + 1;
      return decode(reply, pos);
    }
  }

 private:
  int fd_ = -1;
  sockaddr_in to_{};
  uint64_t serial_ = 0;
};

}  // namespace hotline::test::ng
