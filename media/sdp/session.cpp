#include "media/sdp/session.hpp"

#include <array>
#include <charconv>
#include <initializer_list>
#include <system_error>

namespace hotline::sdp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }



bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equals_nocase(s.substr(0, prefix.size()), prefix);
}

// Digits only: from_chars alone would accept a leading '-' for signed types and stop
// silently at the first non-digit.
template <typename T>
std::optional<T> parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!is_digit(c)) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Fields are separated by one space in RFC 4566; we accept runs of spaces, as phones do.
std::string_view take_token(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  size_t end = s.find(' ');
  std::string_view token = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return token;
}

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto t = take_token(s); !t.empty(); t = take_token(s)) out.push_back(t);
  return out;
}

// Echoing attacker-chosen text into an error message: keep it short.
std::string quoted(std::string_view s) {
  constexpr size_t max_echo = 32;
  return "'" + std::string(s.substr(0, max_echo)) + (s.size() > max_echo ? "...'" : "'");
}

// c= carries where we will send media, so it must look like an address or a host name
// (RFC 4566 §5.7 allows FQDNs under IP4). o= is only an identifier: any token will do.
bool valid_address(std::string_view a, bool ipv6) {
  if (a.empty() || a.size() > 255) return false;
  for (char c : a) {
    bool ok = ipv6 ? (is_hex(c) || c == ':' || c == '.') : (is_alnum(c) || c == '.' || c == '-');
    if (!ok) return false;
  }
  return true;
}

std::optional<bool> address_type(std::string_view t) {  // true: IP6
  if (t == "IP4") return false;
  if (t == "IP6") return true;
  return std::nullopt;
}

std::optional<direction> direction_from_name(std::string_view name) {
  if (name == "sendrecv") return direction::sendrecv;
  if (name == "sendonly") return direction::sendonly;
  if (name == "recvonly") return direction::recvonly;
  if (name == "inactive") return direction::inactive;
  return std::nullopt;
}

// RFC 3551 §6: payload types that need no a=rtpmap (the audio ones phones still send).
struct static_payload {
  uint8_t payload_type;
  std::string_view name;
  uint32_t clock_rate;
};
constexpr std::array<static_payload, 7> static_payloads{{
    {0, "PCMU", 8000}, {3, "GSM", 8000}, {4, "G723", 8000}, {8, "PCMA", 8000},
    {9, "G722", 8000},  // 8000 by RFC 3551's famous erratum-by-design, though sampled at 16 kHz
    {13, "CN", 8000}, {18, "G729", 8000},
}};

codec static_codec(uint8_t pt) {
  codec c{.payload_type = pt};
  for (const auto& s : static_payloads)
    if (s.payload_type == pt) {
      c.name = std::string(s.name);
      c.clock_rate = s.clock_rate;
    }
  return c;
}

class parser {
 public:
  explicit parser(std::string_view body) : rest_(body) {}

  std::variant<session_description, parse_error> run() {
    std::string_view line;
    bool first = true;
    while (next_line(line)) {
      if (line.empty()) continue;  // some stacks end the body with an extra CRLF
      if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
        return fail("not a <type>=<value> line");
      char type = line[0];
      std::string_view value = line.substr(2);
      if (first) {
        if (type != 'v' || value != "0") return fail("the body must start with v=0");
        first = false;
        continue;
      }
      bool ok = in_media_ ? media_line(type, value) : session_line(type, value);
      if (!ok) return *error_;
    }
    if (error_) return *error_;
    if (first) return parse_error{"empty body", 0};
    if (!seen_o_) return parse_error{"missing o= line", 0};
    if (!seen_s_) return parse_error{"missing s= line", 0};
    if (!seen_t_) return parse_error{"missing t= line", 0};
    return std::move(sd_);
  }

 private:
  // Names the offending line; returns false so that line handlers can `return reject(...)`.
  bool reject(std::string message) {
    error_ = parse_error{"line " + std::to_string(line_) + ": " + std::move(message), line_};
    return false;
  }

  parse_error fail(std::string message) {
    reject(std::move(message));
    return *error_;
  }

  // The next line without its terminator and trailing blanks; false at the end or on error.
  bool next_line(std::string_view& line) {
    if (rest_.empty()) return false;
    size_t nl = rest_.find('\n');
    std::string_view raw = rest_.substr(0, nl);
    rest_.remove_prefix(nl == std::string_view::npos ? rest_.size() : nl + 1);
    ++line_;
    if (raw.size() > max_line_bytes) {
      return reject("line is longer than " + std::to_string(max_line_bytes) + " bytes");
    }
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r'))
      raw.remove_suffix(1);
    for (char c : raw) {
      auto u = static_cast<unsigned char>(c);
      // A stray CR or NUL inside a value would be printed back and change meaning there.
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return reject("control character in line");
      }
    }
    line = raw;
    return true;
  }

  bool session_line(char type, std::string_view value) {
    switch (type) {
      case 'v': return reject("second v= line");
      case 'o': return origin(value);
      case 's':
        if (seen_s_) return reject("second s= line");
        seen_s_ = true;
        sd_.session_name = value.empty() ? "-" : std::string(value);
        return true;
      case 'c':
        if (seen_session_c_) return reject("second session-level c= line");
        seen_session_c_ = true;
        return connection(value, sd_.connection_address, sd_.connection_ipv6);
      case 't': return timing(value);
      case 'r':
        if (!seen_t_) return reject("r= before t=");
        return true;
      case 'i': case 'u': case 'e': case 'p': case 'b': case 'z': case 'k': return true;
      case 'a': return session_attribute(value);
      case 'm':
        if (!seen_o_ || !seen_s_ || !seen_t_) return reject("m= before the o=, s= and t= lines");
        return media(value);
      default: return reject(std::string("unknown line type ") + type + "=");
    }
  }

  bool media_line(char type, std::string_view value) {
    switch (type) {
      case 'm': return media(value);
      case 'c':
        if (media_c_seen_) return reject("second c= line in one media section");
        media_c_seen_ = true;
        return connection(value, sd_.media.back().connection_address, sd_.media.back().ipv6);
      case 'i': case 'b': case 'k': return true;
      case 'a': return media_attribute(value);
      case 'v': case 'o': case 's': case 't': case 'r': case 'z': case 'u': case 'e': case 'p':
        return reject(std::string(1, type) + "= is not allowed after m=");
      default: return reject(std::string("unknown line type ") + type + "=");
    }
  }

  // o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
  bool origin(std::string_view value) {
    if (seen_o_) return reject("second o= line");
    seen_o_ = true;
    auto f = split_fields(value);
    if (f.size() != 6) return reject("o= needs 6 fields");
    auto id = parse_uint<uint64_t>(f[1]);
    auto version = parse_uint<uint64_t>(f[2]);
    if (!id) return reject("o= session id is not a number");
    if (!version) return reject("o= session version is not a number");
    if (f[3] != "IN") return reject("o= network type is not IN");
    auto ipv6 = address_type(f[4]);
    if (!ipv6) return reject("o= address type is not IP4 or IP6");
    sd_.origin_username = std::string(f[0]);
    sd_.session_id = *id;
    sd_.session_version = *version;
    sd_.origin_ipv6 = *ipv6;
    sd_.origin_address = std::string(f[5]);
    return true;
  }

  // c=IN IP4|IP6 <address>
  bool connection(std::string_view value, std::string& address, bool& ipv6) {
    auto f = split_fields(value);
    if (f.size() != 3) return reject("c= needs 3 fields");
    if (f[0] != "IN") return reject("c= network type is not IN");
    auto v6 = address_type(f[1]);
    if (!v6) return reject("c= address type is not IP4 or IP6");
    if (f[2].find('/') != std::string_view::npos)
      return reject("c= multicast addresses (TTL or count) are not supported");
    if (!valid_address(f[2], *v6)) return reject("c= address " + quoted(f[2]) + " is not valid");
    address = std::string(f[2]);
    ipv6 = *v6;
    return true;
  }

  bool timing(std::string_view value) {
    auto f = split_fields(value);
    if (f.size() != 2 || !parse_uint<uint64_t>(f[0]) || !parse_uint<uint64_t>(f[1]))
      return reject("t= needs a start and a stop time");
    seen_t_ = true;
    return true;
  }

  // m=<media> <port> <proto> <fmt> ...
  bool media(std::string_view value) {
    if (sd_.media.size() == max_media)
      return reject("more than " + std::to_string(max_media) + " m= lines");
    auto f = split_fields(value);
    if (f.size() < 4) return reject("m= needs media, port, proto and at least one format");
    if (f[1].find('/') != std::string_view::npos) return reject("m= port counts are not supported");
    auto port = parse_uint<uint16_t>(f[1]);
    if (!port) return reject("m= port is not a number");
    if (f.size() - 3 > max_formats_per_media)
      return reject("more than " + std::to_string(max_formats_per_media) + " formats on m=");

    media_description m{.media = std::string(f[0]), .port = *port, .proto = std::string(f[2])};
    if (is_rtp(m.proto)) {
      for (size_t i = 3; i < f.size(); ++i) {
        auto pt = parse_uint<uint8_t>(f[i]);
        if (!pt || *pt > 127) return reject("m= payload type " + quoted(f[i]) + " is not 0-127");
        if (find_codec(m, *pt)) return reject("m= lists payload type " + std::to_string(*pt) + " twice");
        m.codecs.push_back(static_codec(*pt));
      }
    } else {
      for (size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
    }
    m.connection_address = sd_.connection_address;
    m.ipv6 = sd_.connection_ipv6;
    m.dir = session_dir_;
    sd_.media.push_back(std::move(m));
    in_media_ = true;
    media_c_seen_ = false;
    rtpmap_seen_.assign(sd_.media.back().codecs.size(), false);
    fmtp_seen_.assign(sd_.media.back().codecs.size(), false);
    return true;
  }

  bool session_attribute(std::string_view value) {
    if (value.empty() || value.front() == ':') return reject("attribute without a name");
    // A session-level direction is the default for every m= (RFC 4566 §6); it is printed
    // per m= instead, so it is not kept here.
    if (auto d = direction_from_name(value)) {
      session_dir_ = *d;
      return true;
    }
    sd_.attributes.emplace_back(value);
    return true;
  }

  bool media_attribute(std::string_view whole) {
    if (whole.empty() || whole.front() == ':') return reject("attribute without a name");
    auto& m = sd_.media.back();
    size_t colon = whole.find(':');
    std::string_view name = whole.substr(0, colon);
    if (colon == std::string_view::npos) {
      if (auto d = direction_from_name(name)) {
        m.dir = *d;
        return true;
      }
      if (name == "rtcp-mux") {
        m.rtcp_mux = true;
        return true;
      }
      m.other_attributes.emplace_back(whole);
      return true;
    }
    std::string_view value = whole.substr(colon + 1);
    bool rtp = is_rtp(m.proto);
    if (name == "rtpmap" && rtp) return rtpmap(value, whole);
    if (name == "fmtp" && rtp) return fmtp(value, whole);
    if (name == "ptime") return milliseconds(value, m.ptime_ms, "a=ptime");
    if (name == "maxptime") return milliseconds(value, m.maxptime_ms, "a=maxptime");
    if (name == "rtcp") return rtcp(value);
    if (name == "crypto") return crypto_attribute(value, whole);
    m.other_attributes.emplace_back(whole);
    return true;
  }

  // An rtpmap or fmtp for a payload type that is not on the m= line, or a second one for
  // the same type, changes nothing; it is kept verbatim so that nothing is lost.
  int codec_index(uint8_t pt) const {
    const auto& codecs = sd_.media.back().codecs;
    for (size_t i = 0; i < codecs.size(); ++i)
      if (codecs[i].payload_type == pt) return static_cast<int>(i);
    return -1;
  }

  // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]
  bool rtpmap(std::string_view value, std::string_view whole) {
    std::string_view rest = value;
    auto pt = parse_uint<uint8_t>(take_token(rest));
    if (!pt || *pt > 127) return reject("a=rtpmap payload type is not 0-127");
    rest = skip_spaces(rest);
    std::array<std::string_view, 4> parts{};
    size_t n = 0;
    for (size_t start = 0; n < parts.size();) {
      size_t slash = rest.find('/', start);
      parts[n++] = rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    auto rate = parse_uint<uint32_t>(parts[1]);
    std::optional<uint8_t> channels = uint8_t{1};
    if (n == 3) channels = parse_uint<uint8_t>(parts[2]);
    if (n < 2 || n > 3 || parts[0].empty() || parts[0].find(' ') != std::string_view::npos || !rate ||
        *rate == 0 || !channels || *channels == 0)
      return reject("a=rtpmap is not <pt> <name>/<clock rate>[/<channels>]");
    int i = codec_index(*pt);
    if (i < 0 || rtpmap_seen_[i]) {
      sd_.media.back().other_attributes.emplace_back(whole);
      return true;
    }
    rtpmap_seen_[i] = true;
    auto& c = sd_.media.back().codecs[i];
    c.name = std::string(parts[0]);
    c.clock_rate = *rate;
    c.channels = *channels;
    return true;
  }

  // a=fmtp:<payload type> <format specific parameters>
  bool fmtp(std::string_view value, std::string_view whole) {
    std::string_view rest = value;
    auto pt = parse_uint<uint8_t>(take_token(rest));
    if (!pt || *pt > 127) return reject("a=fmtp payload type is not 0-127");
    rest = skip_spaces(rest);
    // An empty fmtp says nothing; taking it would let a later real one be shadowed here
    // and then win after a print/parse round trip.
    if (rest.empty()) return true;
    int i = codec_index(*pt);
    if (i < 0 || fmtp_seen_[i]) {
      sd_.media.back().other_attributes.emplace_back(whole);
      return true;
    }
    fmtp_seen_[i] = true;
    sd_.media.back().codecs[i].fmtp = std::string(rest);
    return true;
  }

  // Whole milliseconds; a fraction ("20.0", seen from some gateways) is truncated.
  bool milliseconds(std::string_view value, uint32_t& out, std::string_view what) {
    std::string_view whole = value.substr(0, value.find('.'));
    std::string_view fraction = whole.size() < value.size() ? value.substr(whole.size() + 1) : "";
    auto ms = parse_uint<uint32_t>(whole);
    bool fraction_ok = true;
    for (char c : fraction) fraction_ok = fraction_ok && is_digit(c);
    if (!ms || !fraction_ok) return reject(std::string(what) + " is not a number of milliseconds");
    out = *ms;
    return true;
  }

  // a=rtcp:<port> [IN IP4|IP6 <address>] (RFC 3605)
  bool rtcp(std::string_view value) {
    auto f = split_fields(value);
    auto port = f.empty() ? std::nullopt : parse_uint<uint16_t>(f[0]);
    std::optional<bool> ipv6 = f.size() == 4 ? address_type(f[2]) : std::nullopt;
    bool ok = port && (f.size() == 1 || (f.size() == 4 && f[1] == "IN" && ipv6 && valid_address(f[3], *ipv6)));
    if (!ok) return reject("a=rtcp is not <port> [IN IP4|IP6 <address>]");
    auto& m = sd_.media.back();
    m.rtcp_port = *port;
    m.rtcp_address = f.size() == 4 ? std::string(f[3]) : std::string();
    return true;
  }

  // A crypto line we cannot represent is not an error: RFC 4568 §6.3 lets the answerer
  // ignore what it does not understand, and the offer may carry other usable lines.
  bool crypto_attribute(std::string_view value, std::string_view whole) {
    auto c = parse_crypto(value);
    auto& m = sd_.media.back();
    if (c)
      m.cryptos.push_back(std::move(*c));
    else
      m.other_attributes.emplace_back(whole);
    return true;
  }

  static std::optional<crypto> parse_crypto(std::string_view value) {
    std::string_view rest = value;
    std::string_view tag = take_token(rest);
    std::string_view suite = take_token(rest);
    std::string_view key_params = take_token(rest);
    auto tag_number = tag.size() <= 9 ? parse_uint<uint32_t>(tag) : std::nullopt;  // 1*9DIGIT
    constexpr std::string_view method = "inline:";
    if (!tag_number || suite.empty() || !starts_with_nocase(key_params, method) ||
        key_params.find(';') != std::string_view::npos)
      return std::nullopt;
    crypto c{.tag = *tag_number, .suite = suite_from_name(suite), .suite_name = std::string(suite)};
    std::string_view info = key_params.substr(method.size());
    size_t bar = info.find('|');
    c.key_salt_base64 = std::string(info.substr(0, bar));
    if (c.key_salt_base64.empty()) return std::nullopt;
    while (bar != std::string_view::npos) {
      info.remove_prefix(bar + 1);
      bar = info.find('|');
      std::string_view part = info.substr(0, bar);
      size_t colon = part.find(':');
      if (colon != std::string_view::npos) {
        if (!c.mki.empty() || !parse_uint<uint32_t>(part.substr(0, colon)) ||
            !parse_uint<uint8_t>(part.substr(colon + 1)))
          return std::nullopt;
        c.mki = std::string(part);
      } else {
        std::string_view exponent = part.substr(0, 2) == "2^" ? part.substr(2) : part;
        if (!c.lifetime.empty() || exponent.empty() || exponent.size() > 20) return std::nullopt;
        for (char ch : exponent)
          if (!is_digit(ch)) return std::nullopt;
        c.lifetime = std::string(part);
      }
    }
    c.session_params = std::string(skip_spaces(rest));
    return c;
  }

  std::string_view rest_;
  size_t line_ = 0;
  std::optional<parse_error> error_;
  session_description sd_;
  bool seen_o_ = false;
  bool seen_s_ = false;
  bool seen_t_ = false;
  bool seen_session_c_ = false;
  direction session_dir_ = direction::sendrecv;
  bool in_media_ = false;
  bool media_c_seen_ = false;
  std::vector<bool> rtpmap_seen_;  // per codec of the current m=
  std::vector<bool> fmtp_seen_;
};

void add_line(std::string& out, std::initializer_list<std::string_view> parts) {
  for (auto p : parts) out += p;
  out += "\r\n";
}

std::string_view ip(bool ipv6) { return ipv6 ? "IP6" : "IP4"; }

void print_media(std::string& out, const session_description& sd, const media_description& m) {
  std::string formats;
  if (is_rtp(m.proto)) {
    for (const auto& c : m.codecs) formats += " " + std::to_string(c.payload_type);
  } else {
    for (const auto& f : m.formats) formats += " " + f;
  }
  add_line(out, {"m=", m.media, " ", std::to_string(m.port), " ", m.proto, formats});
  // The session-level c= already applies (the parser copies it in): saying it twice is noise.
  if (!m.connection_address.empty() &&
      (m.connection_address != sd.connection_address || m.ipv6 != sd.connection_ipv6))
    add_line(out, {"c=IN ", ip(m.ipv6), " ", m.connection_address});
  for (const auto& c : m.codecs) {
    std::string pt = std::to_string(c.payload_type);
    if (!c.name.empty()) {
      std::string channels = c.channels > 1 ? "/" + std::to_string(c.channels) : "";
      add_line(out, {"a=rtpmap:", pt, " ", c.name, "/", std::to_string(c.clock_rate), channels});
    }
    if (!c.fmtp.empty()) add_line(out, {"a=fmtp:", pt, " ", c.fmtp});
  }
  if (m.ptime_ms) add_line(out, {"a=ptime:", std::to_string(m.ptime_ms)});
  if (m.maxptime_ms) add_line(out, {"a=maxptime:", std::to_string(m.maxptime_ms)});
  add_line(out, {"a=", to_string(m.dir)});
  if (m.rtcp_mux) add_line(out, {"a=rtcp-mux"});
  if (m.rtcp_port) {
    std::string address;
    if (!m.rtcp_address.empty())
      address = " IN " + std::string(ip(m.rtcp_address.find(':') != std::string::npos)) + " " + m.rtcp_address;
    add_line(out, {"a=rtcp:", std::to_string(*m.rtcp_port), address});
  }
  for (const auto& c : m.cryptos) {
    std::string_view name = c.suite_name.empty() ? suite_name(c.suite) : std::string_view(c.suite_name);
    add_line(out, {"a=crypto:", std::to_string(c.tag), " ", name, " inline:", c.key_salt_base64,
                   c.lifetime.empty() ? "" : "|", c.lifetime, c.mki.empty() ? "" : "|", c.mki,
                   c.session_params.empty() ? "" : " ", c.session_params});
  }
  for (const auto& a : m.other_attributes) add_line(out, {"a=", a});
}

}  // namespace

std::string_view to_string(direction d) {
  switch (d) {
    case direction::sendrecv: return "sendrecv";
    case direction::sendonly: return "sendonly";
    case direction::recvonly: return "recvonly";
    case direction::inactive: return "inactive";
  }
  return "sendrecv";
}

crypto_suite suite_from_name(std::string_view name) {
  for (auto s : {crypto_suite::aes_cm_128_hmac_sha1_80, crypto_suite::aes_cm_128_hmac_sha1_32,
                 crypto_suite::aead_aes_128_gcm})
    if (equals_nocase(name, suite_name(s))) return s;
  return crypto_suite::unknown;
}

std::string_view suite_name(crypto_suite s) {
  switch (s) {
    case crypto_suite::aes_cm_128_hmac_sha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case crypto_suite::aes_cm_128_hmac_sha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case crypto_suite::aead_aes_128_gcm: return "AEAD_AES_128_GCM";
    case crypto_suite::unknown: return "";
  }
  return "";
}

std::variant<session_description, parse_error> parse(std::string_view body) {
  if (body.size() > max_body_bytes)
    return parse_error{"body is larger than " + std::to_string(max_body_bytes) + " bytes", 0};
  return parser(body).run();
}

std::string to_string(const session_description& sd) {
  std::string out;
  out.reserve(256 + 512 * sd.media.size());
  add_line(out, {"v=0"});
  add_line(out, {"o=", sd.origin_username.empty() ? "-" : sd.origin_username, " ",
                 std::to_string(sd.session_id), " ", std::to_string(sd.session_version), " IN ",
                 ip(sd.origin_ipv6), " ", sd.origin_address.empty() ? "0.0.0.0" : sd.origin_address});
  add_line(out, {"s=", sd.session_name.empty() ? "-" : sd.session_name});
  if (!sd.connection_address.empty()) add_line(out, {"c=IN ", ip(sd.connection_ipv6), " ", sd.connection_address});
  add_line(out, {"t=0 0"});
  for (const auto& a : sd.attributes) add_line(out, {"a=", a});
  for (const auto& m : sd.media) print_media(out, sd, m);
  return out;
}

bool is_rtp(std::string_view proto) { return proto.find("RTP/") != std::string_view::npos; }

bool is_hold_address(std::string_view address) { return address == "0.0.0.0" || address == "::"; }

bool is_hold(const media_description& m) {
  return m.dir == direction::sendonly || m.dir == direction::inactive || is_hold_address(m.connection_address);
}

const codec* find_codec(const media_description& m, uint8_t payload_type) {
  for (const auto& c : m.codecs)
    if (c.payload_type == payload_type) return &c;
  return nullptr;
}

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

}  // namespace hotline::sdp
