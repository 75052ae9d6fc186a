#pragma once
// A SIP message as a plain value (RFC 3261 §7). The parser (parser.hpp) builds it from
// bytes; the rest of the stack reads it and never touches raw buffers. Outgoing
// messages are built the same way (make_response, or field by field) and printed with
// to_string(): we never re-print a parsed message, because oSIP's printer is lossy
// (DEPENDENCIES.md §4).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotline::sip {

using param = std::pair<std::string, std::string>;  // value empty for a flag (";lr", ";rport")
using param_list = std::vector<param>;

const std::string* find_param(const param_list& params, std::string_view name);
void set_param(param_list& params, std::string_view name, std::string value);

// sip: and sips: are structured; any other scheme (tel: too) keeps its text in
// `opaque` (for tel:, `user` also holds the number).
struct uri {
  std::string scheme = "sip";
  std::string user;
  std::string password;
  std::string host;  // IPv6 without brackets
  uint16_t port = 0;  // 0 = not given
  param_list params;
  param_list headers;  // ?h=v (never allowed in a Request-URI)
  std::string opaque;  // non-SIP schemes: everything after "scheme:"

  bool is_sip() const { return scheme == "sip" || scheme == "sips"; }
  std::string host_port() const;
  std::string to_string() const;
};

struct name_addr {
  std::string display;  // unquoted
  struct uri uri;
  param_list params;  // header params: tag, expires, q, +sip.instance, ...

  const std::string* tag() const { return find_param(params, "tag"); }
  std::string to_string() const;
};

struct via {
  std::string transport = "UDP";  // UDP, TCP, TLS, ...
  std::string host;
  uint16_t port = 0;
  param_list params;  // branch, received, rport, ...

  std::string branch() const;
  std::string to_string() const;
};

struct header {
  std::string name;  // as received; compared case-insensitively
  std::string value;
};

struct message {
  // Start line: a request has a method, a response a status.
  std::string method;
  struct uri request_uri;
  int status = 0;
  std::string reason;

  std::vector<via> vias;  // top first
  name_addr from, to;
  std::string call_id;
  uint32_t cseq = 0;
  std::string cseq_method;
  std::vector<name_addr> contacts;
  bool contact_star = false;           // "Contact: *" (un-REGISTER all)
  std::vector<name_addr> routes;        // Route
  std::vector<name_addr> record_routes; // Record-Route
  int max_forwards = -1;                // -1 = absent
  std::optional<uint32_t> expires;
  std::string content_type;  // "application/sdp", empty when no body
  std::string body;
  std::vector<header> headers;  // every other header, in order (Authorization, Supported, ...)

  bool is_request() const { return status == 0; }
  bool is_response() const { return status != 0; }
  // First header of that name (case-insensitive, compact forms not expanded: the parser
  // stores long names), or nullptr.
  const std::string* header_value(std::string_view name) const;
  std::vector<std::string_view> header_values(std::string_view name) const;
  // Comma-separated option tags of Supported/Require/... contain `tag`.
  bool has_option(std::string_view header_name, std::string_view tag) const;
  void add_header(std::string name, std::string value) { headers.push_back({std::move(name), std::move(value)}); }

  std::string to_string() const;
};

// RFC 3261 §8.2.6: a response to `request`: Via list, From, To (+ our tag when given and
// the To has none), Call-ID and CSeq copied; the rest is for the caller to add.
message make_response(const message& request, int status, std::string_view reason = {},
                      std::string_view to_tag = {});
std::string_view default_reason(int status);

bool iequals(std::string_view a, std::string_view b);
// RFC 3261 §17.2.3: a branch that starts with the magic cookie identifies a transaction.
inline constexpr std::string_view magic_cookie = "z9hG4bK";

}  // namespace hotline::sip
