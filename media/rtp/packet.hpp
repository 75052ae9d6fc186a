#pragma once
// RTP and RTCP on the wire (RFC 3550), and RFC 4733 telephone-events: parsing that
// never reads past the datagram and never trusts a length field, and building into a
// caller's buffer. Views point into the datagram: no copies on the media path.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace hotline::rtp {

inline constexpr size_t header_bytes = 12;

struct header {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  bool has_extension = false;
};

struct packet_view {
  header h;
  std::span<const std::byte> payload;  // without CSRCs, extension and padding
};

enum class parse_status { ok, too_short, bad_version, bad_padding, bad_extension, rtcp };

// RFC 5761 §4: with rtcp-mux, payload types 64-95 (marker bit included: 192-223 in the
// second octet) are RTCP; parse() reports them as parse_status::rtcp.
parse_status parse(std::span<const std::byte> datagram, packet_view& out);

// Writes the 12-byte header (no CSRCs, no extension) and the payload; returns the
// packet's size, or 0 if `out` is too small.
size_t build(const header& h, std::span<const std::byte> payload, std::span<std::byte> out);

// Sequence-number arithmetic modulo 2^16 (RFC 3550 Appendix A.1), and timestamps modulo 2^32.
inline int16_t seq_diff(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(a - b)); }
inline int32_t ts_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

// ---- RTCP ------------------------------------------------------------------------------

struct report_block {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;  // of 256
  int32_t cumulative_lost = 0;  // 24-bit signed
  uint32_t highest_sequence = 0;  // extended
  uint32_t jitter = 0;  // timestamp units
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;  // 1/65536 s
};

struct sender_info {
  uint64_t ntp_timestamp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packets = 0;
  uint32_t octets = 0;
};

struct rtcp_report {  // one SR or RR from a compound packet
  uint32_t ssrc = 0;
  std::optional<sender_info> sender;  // set for an SR
  std::vector<report_block> blocks;
};

// Parses a compound RTCP packet (RFC 3550 §6.1): SRs and RRs are returned, other
// packet types (SDES, BYE, APP, feedback) are stepped over. False on a malformed
// compound (bad version, a length running past the datagram, empty); the reports
// parsed before the fault are kept.
bool parse_rtcp(std::span<const std::byte> datagram, std::vector<rtcp_report>& out, bool& has_bye);

// Builds an SR (when `sender` is set) or RR with up to 31 blocks, followed by an SDES
// CNAME (RFC 3550 §6.1: every compound carries one). Returns the size or 0.
size_t build_rtcp(const rtcp_report& report, std::string_view cname, std::span<std::byte> out);

// ---- RFC 4733 telephone-event ---------------------------------------------------------

struct telephone_event {
  uint8_t event = 0;  // 0-9, 10 = *, 11 = #, 12-15 = A-D, 16 = flash
  bool end = false;
  uint8_t volume = 0;  // -dBm0, 0-63
  uint16_t duration = 0;  // timestamp units
};

std::optional<telephone_event> parse_telephone_event(std::span<const std::byte> payload);
void build_telephone_event(const telephone_event& e, std::span<std::byte, 4> out);
char event_to_digit(uint8_t event);        // '0'-'9', '*', '#', 'A'-'D', '!' for flash, 0 otherwise
std::optional<uint8_t> digit_to_event(char digit);

}  // namespace hotline::rtp
