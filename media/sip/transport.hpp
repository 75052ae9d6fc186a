#pragma once
// Where a SIP message came from or goes to, and the seam every transport implements.
// No Asio here: the SIP core is sans-I/O and is tested with a fake transport.
#include <cstdint>
#include <string>
#include <string_view>

namespace hotline::sip {

enum class transport_kind : uint8_t { udp, tcp };

struct address {
  std::string ip;  // textual IPv4 or IPv6 (no brackets)
  uint16_t port = 0;
  transport_kind kind = transport_kind::udp;
  uint64_t connection = 0;  // TCP: the accepted/connected flow it belongs to (0 = any)

  bool reliable() const { return kind != transport_kind::udp; }
  bool operator==(const address&) const = default;
};

std::string to_string(const address& a);          // "udp:192.0.2.1:5060", "tcp:[::1]:5060"
std::string_view via_transport(transport_kind k);  // "UDP", "TCP"

// Puts bytes on the wire. Implemented by the Asio transport (service.cpp) and by the
// test fake. Called on the SIP thread only; must not block.
class transport_sender {
 public:
  virtual ~transport_sender() = default;
  virtual void send(const address& to, std::string bytes) = 0;
  // The address our Via/Contact should carry for messages sent over `kind`.
  virtual address local_address(transport_kind kind) const = 0;
};

}  // namespace hotline::sip
