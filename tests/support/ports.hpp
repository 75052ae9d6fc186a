#pragma once
// Loopback ports for peers started by tests: a free one to hand to a peer, and whether a
// peer has bound the one it was given yet.
#include <cstdint>
#include <string>

namespace hotline::test {

// A port on `ip` that nobody holds right now for UDP nor TCP (bound to 0, read, closed).
// Another process can still take it before the peer does; tests live with that.
uint16_t free_port(const std::string& ip = "127.0.0.1");
// Whether `port` on `ip` can be bound for both UDP and TCP right now.
bool port_is_free(const std::string& ip, uint16_t port);
// Whether some socket is bound to `port` (UDP) or listens on it (TCP), from /proc/net.
// Unlike a probe bind, looking cannot take the port from under the peer.
bool port_in_use(uint16_t port, bool tcp);

}  // namespace hotline::test
