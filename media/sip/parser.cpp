#include "media/sip/parser.hpp"

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>

namespace hotline::sip {
namespace {

// ---- oSIP set-up --------------------------------------------------------------------

void quiet_trace(const char*, int, osip_trace_level_t, const char*, va_list) {}

void init_osip() {
  static std::once_flag once;
  std::call_once(once, [] {
    parser_init();
    // oSIP prints to stdout at the first parse error by default: a flood of bad packets
    // must not become a flood of log lines (we log with the source ourselves).
    osip_trace_initialize_func(END_TRACE_LEVEL, quiet_trace);
  });
}

struct osip_deleter {
  void operator()(osip_message_t* m) const { osip_message_free(m); }
};

std::string str(const char* p) { return p ? std::string(p) : std::string(); }

template <class Fn>
void for_each(const osip_list_t& list, Fn fn) {
  osip_list_iterator_t it;
  for (void* p = osip_list_get_first(&list, &it); p; p = osip_list_get_next(&it)) fn(p);
}

template <class T>
void to_headers(std::vector<header>& out, const osip_list_t& list, const char* name,
                int (*printer)(const T*, char**)) {
  for_each(list, [&](void* p) {
    char* s = nullptr;
    if (printer(static_cast<const T*>(p), &s) == OSIP_SUCCESS && s) {
      out.push_back({name, s});
      osip_free(s);
    }
  });
}

// ---- strict scalars ------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Digits only, no sign, value <= max (RFC 4475 scalar02/ncl: no wrap-around, no minus).
template <class T>
std::optional<T> strict_number(std::string_view s, uint64_t max) {
  s = trim(s);
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (max - static_cast<uint64_t>(c - '0')) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return static_cast<T>(v);
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("-.!%*_+`'~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// RFC 3261 §25.1: host = hostname / IPv4address / IPv6reference. oSIP takes whatever
// sits between the delimiters it looks for, so a host can arrive holding a quote, a space
// or bytes >= 0x80 (found by sip_message_fuzz: a Via host '"   spindle.example.com'
// opened a quote that, printed back bare, paired with the next quoted parameter and
// moved the comma between two Vias). A host cannot be quoted or escaped, so one that is
// not made of host characters is refused here. The characters are checked, not the
// label rules (a leading '-', a numeric top label): those do not matter for printing.
// Returns the host without brackets, as the model holds it.
std::optional<std::string> to_host(const char* p) {
  std::string_view h = p ? std::string_view(p) : std::string_view();
  bool bracketed = h.size() >= 2 && h.front() == '[' && h.back() == ']';
  if (bracketed) h = h.substr(1, h.size() - 2);
  if (h.empty()) return std::nullopt;
  bool ipv6 = bracketed || h.find(':') != std::string_view::npos;
  bool ok = std::all_of(h.begin(), h.end(), [ipv6](unsigned char c) {
    if (ipv6) return std::isxdigit(c) || c == ':' || c == '.';
    return std::isalnum(c) || c == '-' || c == '.';
  });
  if (!ok) return std::nullopt;
  return std::string(h);
}

// ---- conversion ----------------------------------------------------------------------

struct conversion_error {
  std::string reason;
};

param_list to_params(const osip_list_t& list) {
  param_list out;
  for_each(list, [&](void* p) {
    auto* gp = static_cast<osip_generic_param_t*>(p);
    out.emplace_back(str(gp->gname), str(gp->gvalue));
  });
  return out;
}

std::optional<uint16_t> to_port(const char* p) {
  if (!p || !*p) return uint16_t{0};
  auto v = strict_number<uint32_t>(p, 65535);
  if (!v) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool to_uri(const osip_uri_t* u, uri& out, std::string& why) {
  if (!u) {
    why = "missing URI";
    return false;
  }
  out.scheme = str(u->scheme);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!u->string && out.scheme != "sip" && out.scheme != "sips") {
    // tel: and unknown schemes oSIP structures anyway ("sipisbn:..."): keep the text.
    char* text = nullptr;
    if (osip_uri_to_str(u, &text) == OSIP_SUCCESS && text) {
      std::string_view t(text);
      out.opaque = std::string(t.substr(std::min(t.find(':') + 1, t.size())));
      osip_free(text);
    }
    if (out.scheme == "tel") out.user = out.opaque.substr(0, out.opaque.find(';'));  // the number
    return true;
  }
  if (u->string) {  // a scheme oSIP does not structure
    out.opaque = u->string;
    if (auto colon = out.opaque.find(':'); colon != std::string::npos && out.scheme.empty()) {
      out.scheme = out.opaque.substr(0, colon);
      out.opaque.erase(0, colon + 1);
    }
    if (out.scheme == "tel") out.user = out.opaque.substr(0, out.opaque.find(';'));
    return true;
  }
  // oSIP keeps %-escapes in the user part; the model holds the real characters.
  out.user = unescape(str(u->username));
  out.password = unescape(str(u->password));
  auto host = to_host(u->host);
  if (!host) {
    why = "bad host in URI";
    return false;
  }
  out.host = std::move(*host);
  auto port = to_port(u->port);
  if (!port) {
    why = "bad port in URI";
    return false;
  }
  out.port = *port;
  out.params = to_params(u->url_params);
  for_each(u->url_headers, [&](void* p) {
    auto* h = static_cast<osip_uri_header_t*>(p);
    out.headers.emplace_back(unescape(str(h->gname)), unescape(str(h->gvalue)));
  });
  return true;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\\' && i + 2 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

bool to_name_addr(const osip_from_t* f, name_addr& out, std::string& why) {
  out.display = unquote(str(f->displayname));
  out.params = to_params(f->gen_params);
  return to_uri(f->url, out.uri, why);
}

// Compact header names (RFC 3261 §7.3.3 and later RFCs) that oSIP leaves as they are;
// other names oSIP lowercases, so we print them Title-Cased (names compare
// case-insensitively anyway).
std::string long_name(std::string name) {
  if (name.size() != 1) {
    bool word_start = true;
    for (char& c : name) {
      c = static_cast<char>(word_start ? std::toupper(static_cast<unsigned char>(c)) : c);
      word_start = c == '-';
    }
    return name;
  }
  switch (std::tolower(static_cast<unsigned char>(name[0]))) {
    case 'k': return "Supported";
    case 'x': return "Session-Expires";
    case 's': return "Subject";
    case 'o': return "Event";
    case 'u': return "Allow-Events";
    case 'r': return "Refer-To";
    case 'b': return "Referred-By";
    case 'a': return "Accept-Contact";
    case 'j': return "Reject-Contact";
    case 'd': return "Request-Disposition";
    default: return name;
  }
}

bool is_known_transport(std::string_view t) {
  for (std::string_view k : {"UDP", "TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS"})
    if (iequals(t, k)) return true;
  return is_token(t);  // extension transports are legal (RFC 4475 transports)
}

// Fills `m` from oSIP's tree and checks what oSIP does not (DEPENDENCIES.md §4).
// Returns the failure status and reason, status 0 when fine.
std::pair<int, std::string> convert(const osip_message_t* o, message& m) {
  std::string why;
  if (MSG_IS_REQUEST(o)) {
    m.method = str(o->sip_method);
    if (!is_token(m.method)) return {400, "bad method"};
    if (str(o->sip_version) != "SIP/2.0") return {505, "SIP version " + str(o->sip_version) + " not supported"};
    if (!to_uri(o->req_uri, m.request_uri, why)) return {400, "Request-URI: " + why};
    // RFC 3261 §19.1.5: headers in a Request-URI are for building requests, never
    // valid in one (RFC 4475 escruri).
    if (!m.request_uri.headers.empty()) return {400, "headers in the Request-URI"};
  } else {
    if (o->status_code < 100 || o->status_code > 699) return {0, "status code out of range"};
    if (str(o->sip_version) != "SIP/2.0") return {0, "SIP version " + str(o->sip_version)};
    m.status = o->status_code;
    m.reason = str(o->reason_phrase);
  }
  bool bad = false;
  for_each(o->vias, [&](void* p) {
    auto* v = static_cast<osip_via_t*>(p);
    via out;
    if (str(v->version) != "2.0") bad = true;
    out.transport = str(v->protocol);
    std::transform(out.transport.begin(), out.transport.end(), out.transport.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    auto host = to_host(v->host);
    out.host = host.value_or(std::string());
    auto port = to_port(v->port);
    if (!port || !host || !is_known_transport(out.transport)) bad = true;
    out.port = port.value_or(0);
    out.params = to_params(v->via_params);
    m.vias.push_back(std::move(out));
  });
  if (bad) return {m.is_request() ? 400 : 0, "bad Via"};
  if (m.vias.empty()) return {0, "no Via"};  // cannot be answered
  if (!o->from || !o->to || !o->call_id || !o->cseq) {
    std::string missing;
    if (!o->from) missing += " From";
    if (!o->to) missing += " To";
    if (!o->call_id) missing += " Call-ID";
    if (!o->cseq) missing += " CSeq";
    return {400, "missing" + missing};
  }
  if (!to_name_addr(o->from, m.from, why)) return {400, "From: " + why};
  if (!to_name_addr(o->to, m.to, why)) return {400, "To: " + why};
  m.call_id = str(o->call_id->number);
  if (o->call_id->host) m.call_id += '@' + str(o->call_id->host);
  auto cseq = strict_number<uint32_t>(str(o->cseq->number), 0x7fffffffu);  // RFC 3261 §8.1.1.5: < 2**31
  if (!cseq) return {400, "CSeq number out of range"};
  m.cseq = *cseq;
  m.cseq_method = str(o->cseq->method);
  if (m.is_request() && m.cseq_method != m.method)
    return {400, "CSeq method " + m.cseq_method + " does not match " + m.method};
  for_each(o->contacts, [&](void* p) {
    auto* c = static_cast<osip_contact_t*>(p);
    if (c->displayname && std::string_view(c->displayname) == "*") {
      m.contact_star = true;
      return;
    }
    name_addr out;
    if (!to_name_addr(c, out, why)) bad = true;
    m.contacts.push_back(std::move(out));
  });
  if (bad) return {400, "bad Contact"};
  for (auto [list, target] : {std::pair{&o->routes, &m.routes}, std::pair{&o->record_routes, &m.record_routes}}) {
    for_each(*list, [&, target = target](void* p) {
      name_addr out;
      if (!to_name_addr(static_cast<osip_from_t*>(p), out, why)) bad = true;
      target->push_back(std::move(out));
    });
  }
  if (bad) return {400, "bad Route"};
  if (o->content_type) {
    char* s = nullptr;
    if (osip_content_type_to_str(o->content_type, &s) == OSIP_SUCCESS && s) {
      m.content_type = s;
      osip_free(s);
    }
  }
  to_headers<osip_authorization_t>(m.headers, o->authorizations, "Authorization", osip_authorization_to_str);
  to_headers<osip_authorization_t>(m.headers, o->proxy_authorizations, "Proxy-Authorization", osip_authorization_to_str);
  to_headers<osip_www_authenticate_t>(m.headers, o->www_authenticates, "WWW-Authenticate", osip_www_authenticate_to_str);
  to_headers<osip_www_authenticate_t>(m.headers, o->proxy_authenticates, "Proxy-Authenticate", osip_www_authenticate_to_str);
  to_headers<osip_content_length_t>(m.headers, o->allows, "Allow", osip_content_length_to_str);
  to_headers<osip_content_type_t>(m.headers, o->accepts, "Accept", osip_content_type_to_str);
  to_headers<osip_content_length_t>(m.headers, o->content_encodings, "Content-Encoding", osip_content_length_to_str);
  to_headers<osip_call_info_t>(m.headers, o->call_infos, "Call-Info", osip_call_info_to_str);
  to_headers<osip_call_info_t>(m.headers, o->alert_infos, "Alert-Info", osip_call_info_to_str);
  to_headers<osip_call_info_t>(m.headers, o->error_infos, "Error-Info", osip_call_info_to_str);
  for_each(o->headers, [&](void* p) {
    auto* h = static_cast<osip_header_t*>(p);
    std::string name = long_name(str(h->hname));
    std::string value = str(h->hvalue);
    if (iequals(name, "Max-Forwards")) {
      auto v = strict_number<int>(value, 255);
      if (!v || m.max_forwards >= 0) bad = true;
      m.max_forwards = v.value_or(0);
    } else if (iequals(name, "Expires")) {
      auto v = strict_number<uint32_t>(value, 0xffffffffu);
      if (!v) bad = true;
      m.expires = v;
    } else {
      m.headers.push_back({std::move(name), std::move(value)});
    }
  });
  if (bad) return {400, "bad Max-Forwards or Expires"};
  return {0, {}};
}

// ---- framing and the raw fallback ------------------------------------------------------

// Offset just past the blank line ending the header section, or npos.
size_t header_end(std::string_view b) {
  size_t crlf = b.find("\r\n\r\n");
  size_t lf = b.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) return crlf + 4;
  return lf + 2;
}

// Header lines (unfolded) of the header section, for the cases oSIP cannot parse.
struct raw_headers {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> lines;

  std::vector<std::string> all(std::initializer_list<std::string_view> names) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : lines)
      for (auto want : names)
        if (iequals(n, want)) out.push_back(v);
    return out;
  }
};

raw_headers scan(std::string_view head) {
  raw_headers out;
  bool first = true;
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (first) continue;  // leading CRLFs
      break;
    }
    if (first) {
      out.start_line = std::string(line);
      first = false;
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !out.lines.empty()) {
      out.lines.back().second += ' ';
      out.lines.back().second += trim(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.lines.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return out;
}

std::optional<std::string> control_outside_quotes(std::string_view head) {
  bool quoted = false, escaped = false;
  for (unsigned char c : head) {
    if (quoted) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') quoted = false;
      else if (c == '\r' || c == '\n') quoted = false;  // a quote never spans lines
      continue;
    }
    if (c == '"') quoted = true;
    else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) return "control character in a header";
  }
  return std::nullopt;
}

// The header section without its Content-Length line: oSIP would otherwise look for a
// body we keep from it.
std::string without_content_length(std::string_view head) {
  std::string out;
  out.reserve(head.size());
  while (!head.empty()) {
    size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol + 1);
    head.remove_prefix(line.size());
    std::string_view name = line.substr(0, std::min(line.find(':'), line.size()));
    name = trim(name);
    if (!iequals(name, "Content-Length") && !iequals(name, "l")) out += line;
  }
  return out;
}

// A response built from the raw lines of a request we could not parse, or "" when the
// message is a response, an ACK, or lacks what a response must echo.
std::string raw_reply(const raw_headers& raw, int status, std::string_view reason) {
  if (raw.start_line.rfind("SIP/", 0) == 0) return {};
  if (raw.start_line.rfind("ACK ", 0) == 0) return {};
  auto vias = raw.all({"Via", "v"});
  auto from = raw.all({"From", "f"});
  auto to = raw.all({"To", "t"});
  auto call_id = raw.all({"Call-ID", "i"});
  auto cseq = raw.all({"CSeq"});
  // Via and CSeq are the least a sender needs to match the answer to its request (RFC
  // 4475 insuf: no From, To or Call-ID, still "ideally" a 400).
  if (vias.empty() || cseq.empty()) return {};
  std::string out = "SIP/2.0 " + std::to_string(status) + ' ' + std::string(reason) + "\r\n";
  for (const auto& v : vias) out += "Via: " + v + "\r\n";
  if (!from.empty()) out += "From: " + from[0] + "\r\n";
  if (!to.empty()) out += "To: " + to[0] + "\r\n";
  if (!call_id.empty()) out += "Call-ID: " + call_id[0] + "\r\n";
  out += "CSeq: " + cseq[0] + "\r\nContent-Length: 0\r\n\r\n";
  return out;
}

// oSIP says only "no". To tell the sender (and the log) what was wrong, parse the
// start line and the core headers one by one with oSIP's own header parsers.
std::string name_the_problem(const raw_headers& raw) {
  std::string_view start = raw.start_line;
  if (start.rfind("SIP/", 0) != 0) {
    size_t sp1 = start.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || start.find(' ', sp2 + 1) != std::string_view::npos || sp2 == sp1 + 1)
      return "malformed request line";
    osip_uri_t* u = nullptr;
    osip_uri_init(&u);
    std::string text(start.substr(sp1 + 1, sp2 - sp1 - 1));
    int rc = osip_uri_parse(u, text.c_str());
    osip_uri_free(u);
    if (rc != OSIP_SUCCESS) return "malformed Request-URI";
  }
  struct check {
    std::initializer_list<std::string_view> names;
    const char* label;
    int (*fn)(const char*);
  };
  static const check checks[] = {
      {{"Via", "v"}, "Via", [](const char* v) { osip_via_t* x; osip_via_init(&x); int r = osip_via_parse(x, v); osip_via_free(x); return r; }},
      {{"From", "f"}, "From", [](const char* v) { osip_from_t* x; osip_from_init(&x); int r = osip_from_parse(x, v); osip_from_free(x); return r; }},
      {{"To", "t"}, "To", [](const char* v) { osip_to_t* x; osip_to_init(&x); int r = osip_to_parse(x, v); osip_to_free(x); return r; }},
      {{"Contact", "m"}, "Contact", [](const char* v) { osip_contact_t* x; osip_contact_init(&x); int r = osip_contact_parse(x, v); osip_contact_free(x); return r; }},
      {{"CSeq"}, "CSeq", [](const char* v) { osip_cseq_t* x; osip_cseq_init(&x); int r = osip_cseq_parse(x, v); osip_cseq_free(x); return r; }},
  };
  for (const check& c : checks)
    for (const std::string& v : raw.all(c.names))
      if (c.fn(v.c_str()) != OSIP_SUCCESS) return std::string("malformed ") + c.label + " header";
  return "malformed message";
}

parse_error fail(const raw_headers& raw, int status, std::string reason) {
  parse_error e;
  e.status = status;
  e.reason = std::move(reason);
  if (status != 0) e.reply = raw_reply(raw, status, e.reason);
  if (e.reply.empty()) e.status = 0;
  return e;
}

// "OPTIONS soap.beep://..." : a scheme oSIP refuses is still a well-formed request
// that deserves 416 rather than 400 (RFC 4475 novelsc).
bool unsupported_scheme(std::string_view start_line) {
  size_t sp = start_line.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view rest = start_line.substr(sp + 1);
  size_t colon = rest.find(':');
  size_t sp2 = rest.find(' ');
  if (colon == std::string_view::npos || colon > sp2) return false;
  std::string_view scheme = rest.substr(0, colon);
  if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
  if (!std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; }))
    return false;
  return !iequals(scheme, "sip") && !iequals(scheme, "sips") && !iequals(scheme, "tel");
}

}  // namespace

parse_result parse(std::string_view bytes, framing f) {
  init_osip();
  // Keep-alives: a datagram or stream chunk of only CR/LF.
  if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\r' || c == '\n'; })) return keepalive{};
  while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) bytes.remove_prefix(1);
  if (bytes.size() > max_message_bytes) return fail(scan(bytes.substr(0, 8192)), 513, "message too large");

  size_t end = header_end(bytes);
  if (end == std::string_view::npos) {
    // A datagram that stops after its last header line has no body: accept it.
    if (f == framing::stream) return fail(scan(bytes), 400, "no blank line after the headers");
    end = bytes.size();
  }
  std::string_view head = bytes.substr(0, end);
  raw_headers raw = scan(head);

  // Content-Length framing (RFC 3261 §18.3), checked on the raw lines: oSIP folds
  // conflicting values (mcl01) and wraps large ones (ncl).
  std::string_view body = bytes.substr(end);
  auto lengths = raw.all({"Content-Length", "l"});
  if (lengths.size() > 1) return fail(raw, 400, "more than one Content-Length");
  if (lengths.size() == 1) {
    auto len = strict_number<size_t>(lengths[0], max_message_bytes);
    if (!len) return fail(raw, 400, "bad Content-Length");
    if (*len > body.size()) return fail(raw, 400, "Content-Length larger than the body");
    body = body.substr(0, *len);  // extra octets in a datagram are discarded (dblreq)
  } else if (f == framing::stream) {
    return fail(raw, 400, "missing Content-Length on a stream transport");
  }
  for (std::string_view single : {"From", "To", "Call-ID", "CSeq", "Max-Forwards"}) {
    std::string_view compact = single == "From" ? "f" : single == "To" ? "t" : single == "Call-ID" ? "i" : "";
    auto values = compact.empty() ? raw.all({single}) : raw.all({single, compact});
    if (values.size() > 1) return fail(raw, 400, "more than one " + std::string(single));
  }

  // Control characters are legal only inside quoted strings (RFC 3261 §25.1: TEXT-UTF8
  // in quoted-string; RFC 4475 intmeth); anywhere else they are garbage oSIP may keep.
  if (auto bad = control_outside_quotes(head)) return fail(raw, 400, *bad);

  // oSIP sees the header section only: the body is ours (binary MIME parts with NULs,
  // and a leak in oSIP's multipart parser, DEPENDENCIES.md §4). A NUL inside a quoted
  // string (intmeth) is legal but stops oSIP's C strings: it becomes a space.
  std::string head_copy = without_content_length(head);
  std::replace(head_copy.begin(), head_copy.end(), '\0', ' ');
  osip_message_t* raw_msg = nullptr;
  if (osip_message_init(&raw_msg) != OSIP_SUCCESS) return fail(raw, 500, "out of memory");
  std::unique_ptr<osip_message_t, osip_deleter> o(raw_msg);
  if (osip_message_parse(o.get(), head_copy.data(), head_copy.size()) != OSIP_SUCCESS) {
    if (unsupported_scheme(raw.start_line)) return fail(raw, 416, "unsupported URI scheme");
    return fail(raw, 400, name_the_problem(raw));
  }
  message m;
  auto [status, reason] = convert(o.get(), m);
  if (!reason.empty()) {
    if (status == 0 || !m.is_request()) return parse_error{0, std::move(reason), {}};
    // Without the headers a response echoes, build it from the raw lines instead.
    if (m.vias.empty() || m.call_id.empty() || m.cseq_method.empty()) return fail(raw, status, std::move(reason));
    if (m.method == "ACK") return parse_error{0, std::move(reason), {}};
    parse_error e{status, reason, {}};
    e.reply = make_response(m, status, reason).to_string();
    return e;
  }
  m.body = std::string(body);
  if (m.body.empty()) m.content_type.clear();
  return m;
}

std::optional<uri> parse_uri(std::string_view text) {
  init_osip();
  if (text.empty() || text.size() > 2048) return std::nullopt;
  osip_uri_t* u = nullptr;
  if (osip_uri_init(&u) != OSIP_SUCCESS) return std::nullopt;
  std::string copy(text);
  std::optional<uri> out;
  if (osip_uri_parse(u, copy.c_str()) == OSIP_SUCCESS) {
    uri parsed;
    std::string why;
    if (to_uri(u, parsed, why)) out = std::move(parsed);
  }
  osip_uri_free(u);
  return out;
}

size_t find_stream_frame(std::string_view buffer) {
  size_t skip = 0;
  while (skip < buffer.size() && (buffer[skip] == '\r' || buffer[skip] == '\n')) ++skip;
  if (skip == buffer.size()) return skip;  // keep-alive CRLFs: consume them
  std::string_view rest = buffer.substr(skip);
  size_t end = header_end(rest);
  if (end == std::string_view::npos) return rest.size() > max_message_bytes ? std::string_view::npos : 0;
  raw_headers raw = scan(rest.substr(0, end));
  auto lengths = raw.all({"Content-Length", "l"});
  if (lengths.size() != 1) return std::string_view::npos;
  auto len = strict_number<size_t>(lengths[0], max_message_bytes);
  if (!len || end + *len > max_message_bytes) return std::string_view::npos;
  if (rest.size() < end + *len) return 0;
  return skip + end + *len;
}

}  // namespace hotline::sip
