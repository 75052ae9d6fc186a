#include "media/sip/message.hpp"

#include <algorithm>
#include <cctype>

namespace hotline::sip {
namespace {

// ASCII only: header names and tokens; std::tolower's locale lookup showed in profiles.
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// RFC 3261 §25.1: characters that may appear unescaped in a URI's user part / params.
bool user_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("-_.!~*'()&=+$,;?/").find(static_cast<char>(c)) != std::string_view::npos;
}
bool param_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("-_.!~*'()[]/:&+$").find(static_cast<char>(c)) != std::string_view::npos;
}

template <class Pred>
void append_escaped(std::string& out, std::string_view s, Pred allowed) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (allowed(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
}

void append_host(std::string& out, std::string_view host) {
  if (host.find(':') != std::string_view::npos) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
}

// A display name is always printed quoted: no token/quoted-string ambiguity (baddn).
void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// A header parameter's value as a token (RFC 3261 §25.1), a host (received=2001:db8::1,
// maddr=[::1]) or already a quoted-string is printed as it is; anything else is quoted, so
// that a comma or a space in it cannot split the header on the next parse (found by
// sip_message_fuzz: a Via branch holding ", SIP/2.0/UDP ..." became two Vias).
bool prints_bare(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return true;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) continue;
    if (std::string_view("-.!%*_+`'~:[]").find(c) == std::string_view::npos) return false;
  }
  return true;
}

void append_params(std::string& out, const param_list& params, bool escape) {
  for (const auto& [name, value] : params) {
    out += ';';
    out += name;
    if (!value.empty()) {
      out += '=';
      if (escape) append_escaped(out, value, param_char);
      else if (prints_bare(value)) out += value;
      else append_quoted(out, value);
    }
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

const std::string* find_param(const param_list& params, std::string_view name) {
  for (const auto& p : params)
    if (iequals(p.first, name)) return &p.second;
  return nullptr;
}

void set_param(param_list& params, std::string_view name, std::string value) {
  for (auto& p : params)
    if (iequals(p.first, name)) {
      p.second = std::move(value);
      return;
    }
  params.emplace_back(std::string(name), std::move(value));
}

std::string uri::host_port() const {
  std::string out;
  append_host(out, host);
  if (port != 0) out += ':' + std::to_string(port);
  return out;
}

std::string uri::to_string() const {
  std::string out = scheme;
  out += ':';
  if (!is_sip()) return out + opaque;  // tel: and other schemes print as they came
  if (!user.empty()) {
    append_escaped(out, user, user_char);
    if (!password.empty()) {
      out += ':';
      append_escaped(out, password, user_char);
    }
    out += '@';
  }
  out += host_port();
  append_params(out, params, true);
  char sep = '?';
  for (const auto& [name, value] : headers) {
    out += sep;
    sep = '&';
    append_escaped(out, name, param_char);
    out += '=';
    append_escaped(out, value, param_char);
  }
  return out;
}

std::string name_addr::to_string() const {
  std::string out;
  if (!display.empty()) {
    append_quoted(out, display);
    out += ' ';
  }
  out += '<';
  out += uri.to_string();
  out += '>';
  append_params(out, params, false);
  return out;
}

std::string via::branch() const {
  const std::string* b = find_param(params, "branch");
  return b ? *b : std::string();
}

std::string via::to_string() const {
  std::string out = "SIP/2.0/" + transport + ' ';
  append_host(out, host);
  if (port != 0) out += ':' + std::to_string(port);
  append_params(out, params, false);
  return out;
}

const std::string* message::header_value(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

std::vector<std::string_view> message::header_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& h : headers)
    if (iequals(h.name, name)) out.emplace_back(h.value);
  return out;
}

bool message::has_option(std::string_view header_name, std::string_view tag) const {
  for (std::string_view v : header_values(header_name)) {
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
      if (iequals(item, tag)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::string message::to_string() const {
  std::string out;
  out.reserve(512 + body.size());
  if (is_request()) {
    out += method + ' ' + request_uri.to_string() + " SIP/2.0\r\n";
  } else {
    out += "SIP/2.0 " + std::to_string(status) + ' ' + reason + "\r\n";
  }
  for (const auto& v : vias) out += "Via: " + v.to_string() + "\r\n";
  for (const auto& r : record_routes) out += "Record-Route: " + r.to_string() + "\r\n";
  for (const auto& r : routes) out += "Route: " + r.to_string() + "\r\n";
  if (max_forwards >= 0) out += "Max-Forwards: " + std::to_string(max_forwards) + "\r\n";
  out += "From: " + from.to_string() + "\r\n";
  out += "To: " + to.to_string() + "\r\n";
  out += "Call-ID: " + call_id + "\r\n";
  out += "CSeq: " + std::to_string(cseq) + ' ' + cseq_method + "\r\n";
  if (contact_star) out += "Contact: *\r\n";
  for (const auto& c : contacts) out += "Contact: " + c.to_string() + "\r\n";
  if (expires) out += "Expires: " + std::to_string(*expires) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  if (!body.empty()) out += "Content-Type: " + content_type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

message make_response(const message& request, int status, std::string_view reason, std::string_view to_tag) {
  message r;
  r.status = status;
  r.reason = reason.empty() ? std::string(default_reason(status)) : std::string(reason);
  r.vias = request.vias;
  r.from = request.from;
  r.to = request.to;
  if (!to_tag.empty() && status != 100 && !r.to.tag()) set_param(r.to.params, "tag", std::string(to_tag));
  r.call_id = request.call_id;
  r.cseq = request.cseq;
  r.cseq_method = request.cseq_method;
  return r;
}

std::string_view default_reason(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 420: return "Bad Extension";
    case 422: return "Session Interval Too Small";
    case 423: return "Interval Too Brief";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 491: return "Request Pending";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    default:
      if (status < 200) return "Session Progress";
      if (status < 300) return "OK";
      if (status < 400) return "Redirect";
      if (status < 500) return "Request Failure";
      if (status < 600) return "Server Failure";
      return "Global Failure";
  }
}

}  // namespace hotline::sip
