#include "tests/support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hotline::test {
namespace {

// Binds a socket of `type` to ip:port (0: any); returns the port, or 0 if it is taken.
uint16_t try_bind(const std::string& ip, int type, uint16_t port) {
  bool v6 = ip.find(':') != std::string::npos;
  int s = ::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  uint16_t got = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    got = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  ::close(s);
  return got;
}

}  // namespace

uint16_t free_port(const std::string& ip) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t p = try_bind(ip, SOCK_DGRAM, 0);
    if (p != 0 && try_bind(ip, SOCK_STREAM, p) == p) return p;
  }
  return 0;
}

bool port_is_free(const std::string& ip, uint16_t port) {
  return port != 0 && try_bind(ip, SOCK_DGRAM, port) == port && try_bind(ip, SOCK_STREAM, port) == port;
}

bool port_in_use(uint16_t port, bool tcp) {
  // Named arrays, not an initializer_list in a conditional: the list's backing array
  // would die at the end of the range-for's init expression (GCC's -Wdangling-pointer).
  static constexpr std::array<const char*, 2> udp_tables = {"/proc/net/udp", "/proc/net/udp6"};
  static constexpr std::array<const char*, 2> tcp_tables = {"/proc/net/tcp", "/proc/net/tcp6"};
  for (const char* table : tcp ? tcp_tables : udp_tables) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // "  12: 0100007F:3AFC 00000000:0000 07 ...": slot, local address:port (hex), remote, state
      std::istringstream row(line);
      std::string slot, local, remote, state;
      row >> slot >> local >> remote >> state;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) != port) continue;
      if (!tcp || state == "0A") return true;  // 0A: TCP_LISTEN
    }
  }
  return false;
}

}  // namespace hotline::test
