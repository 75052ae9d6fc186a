#pragma once
// A session description (RFC 4566) as a plain value, the parser that builds it from an
// untrusted SIP body, and the printer for the descriptions we send. The model keeps what
// offer/answer (negotiate.hpp) and the media engine need, plus every attribute we do not
// interpret, so that parse(to_string(parse(x))) == parse(x) (checked by
// tests/fuzz/sdp_fuzz.cpp). Lines we drop on purpose: i= u= e= p= b= z= k= r=, and the
// t= values (we only do unbounded sessions, t=0 0).
// No dependencies beyond the standard library; nothing here allocates without a bound.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hotline::sdp {

// Limits on what we accept from the network. A real offer is 300-1500 bytes with 1-3
// m= lines; these leave room for unusual phones and refuse anything meant to hurt.
inline constexpr size_t max_body_bytes = 64 * 1024;
inline constexpr size_t max_line_bytes = 4 * 1024;
inline constexpr size_t max_media = 16;
inline constexpr size_t max_formats_per_media = 64;

enum class direction { sendrecv, sendonly, recvonly, inactive };
std::string_view to_string(direction d);

struct codec {
  uint8_t payload_type = 0;
  std::string name;  // as written ("opus", "PCMU", "telephone-event"); empty: dynamic PT without rtpmap
  uint32_t clock_rate = 0;
  uint8_t channels = 1;
  std::string fmtp;  // raw a=fmtp parameters ("0-16", "useinbandfec=1;maxplaybackrate=16000")

  bool operator==(const codec&) const = default;
};

// The SDES suites we can key (RFC 4568 §6.2, RFC 7714 §12); everything else is `unknown`
// and kept with its name so that it prints back as it came.
enum class crypto_suite { aes_cm_128_hmac_sha1_80, aes_cm_128_hmac_sha1_32, aead_aes_128_gcm, unknown };
crypto_suite suite_from_name(std::string_view name);  // case-insensitive (ABNF strings)
std::string_view suite_name(crypto_suite s);           // canonical spelling; "" for unknown

// a=crypto:<tag> <suite> inline:<key||salt>[|<lifetime>][|<mki>:<length>] [<session params>]
// Lines with several key-params (";"-separated) or a key method other than inline do
// not fit here: the parser keeps them verbatim in other_attributes, where nobody uses them.
struct crypto {
  uint32_t tag = 0;
  crypto_suite suite = crypto_suite::unknown;
  std::string suite_name;       // as written; printed as is (canonical name when empty)
  std::string key_salt_base64;  // after "inline:", not decoded (negotiate.hpp decodes)
  std::string lifetime;         // "2^31" or "1048576" as written; empty: not given
  std::string mki;              // "1:4" as written; empty: not given
  std::string session_params;   // "KDR=1 UNENCRYPTED_SRTCP" as written; empty: none

  bool operator==(const crypto&) const = default;
};

struct media_description {
  std::string media;  // "audio", "video", "image", ...
  uint16_t port = 0;  // 0: stream disabled or rejected (RFC 3264 §5.1, §6)
  std::string proto;  // "RTP/AVP", "RTP/SAVP", "RTP/SAVPF", "udptl", ...
  std::vector<codec> codecs;         // RTP protos: one per m= format, in m= order
  std::vector<std::string> formats;  // other protos ("t38", "webrtc-datachannel"): as written
  std::string connection_address;    // media-level c=, or the session-level one; empty: none
  bool ipv6 = false;
  direction dir = direction::sendrecv;  // media-level attribute, else session-level, else sendrecv
  bool rtcp_mux = false;                // a=rtcp-mux (RFC 5761)
  std::optional<uint16_t> rtcp_port;    // a=rtcp (RFC 3605)
  std::string rtcp_address;             // a=rtcp's optional address; empty: the c= address
  uint32_t ptime_ms = 0;                // 0: not given
  uint32_t maxptime_ms = 0;             // 0: not given
  std::vector<crypto> cryptos;
  std::vector<std::string> other_attributes;  // "name:value" without "a=", in arrival order

  bool operator==(const media_description&) const = default;
};

struct session_description {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string origin_username = "-";
  std::string origin_address;
  bool origin_ipv6 = false;
  std::string session_name = "-";  // an empty s= becomes "-" so that what we print is valid
  std::string connection_address;  // session-level c=; empty: none
  bool connection_ipv6 = false;
  std::vector<std::string> attributes;  // session-level a= lines we do not interpret
  std::vector<media_description> media;

  bool operator==(const session_description&) const = default;
};

struct parse_error {
  std::string message;  // "line 7: m= port is not a number"
  size_t line = 0;      // 1-based; 0 when the problem is the whole body ("missing s= line")
};

// Never throws, never reads outside `body`. Accepts CRLF and LF line endings, trailing
// blanks and empty lines; refuses what RFC 4566 §5 requires a parser to refuse (unknown
// line types, lines out of place) and anything past the limits above.
std::variant<session_description, parse_error> parse(std::string_view body);

// CRLF line endings, RFC 4566 order: v o s c t, session attributes, then per m=: c (only
// when it differs from the session's), rtpmap+fmtp per codec, ptime, maxptime, direction,
// rtcp-mux, rtcp, crypto, other attributes. Static payload types get an rtpmap too.
std::string to_string(const session_description& sd);

// RTP-based transport (RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, ...): formats are payload types.
bool is_rtp(std::string_view proto);
// ASCII case-insensitive comparison (encoding names, RFC 4855 §3; attribute tokens).
bool equals_nocase(std::string_view a, std::string_view b);

// The peer puts the stream on hold: a=sendonly, a=inactive, or the pre-RFC 3264
// c=0.0.0.0 (RFC 3264 §8.4; some IPv6 phones send "::" the same way).
bool is_hold(const media_description& m);
// Only the address part: the peer does not want to receive, whatever the attribute says.
bool is_hold_address(std::string_view address);

const codec* find_codec(const media_description& m, uint8_t payload_type);

}  // namespace hotline::sdp
