#pragma once
// Bytes -> sip::message. GNU oSIP 5.3 does the grammar; we frame the message, keep the
// body ourselves and validate what oSIP lets through (DEPENDENCIES.md §4: version,
// status range, CSeq, strict numbers, Content-Length, required headers). Whatever oSIP
// cannot parse still gets a 400 when its Via/From/To/Call-ID/CSeq lines can be found.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "media/sip/message.hpp"

namespace hotline::sip {

inline constexpr size_t max_message_bytes = 65535;

struct parse_error {
  int status = 400;     // the answer a request deserves; 0 = drop silently
  std::string reason;   // names the problem: "CSeq method OPTIONS does not match INVITE"
  std::string reply;    // ready-to-send response; empty when the message cannot be answered
};

struct keepalive {};  // CRLF / CRLFCRLF pings (RFC 5626 §3.5.1): nothing to answer

enum class framing { datagram, stream };

using parse_result = std::variant<message, parse_error, keepalive>;

// One whole message (UDP datagram, or one frame cut by find_stream_frame for TCP).
// Never throws; safe on any input.
parse_result parse(std::string_view bytes, framing f = framing::datagram);

// TCP: the length of the first complete message in `buffer` (headers + Content-Length
// body), 0 when more bytes are needed, or npos when the stream is beyond repair
// (no or bad Content-Length, oversized): the connection must be closed.
size_t find_stream_frame(std::string_view buffer);

// A URI on its own ("sip:8001@192.0.2.7:5062;transport=tcp"), e.g. from configuration
// or an API call. nullopt when it does not parse.
std::optional<uri> parse_uri(std::string_view text);

}  // namespace hotline::sip
