#include "media/sip/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <utility>

namespace hotline::sip::digest {
namespace {

// ---- hashing ---------------------------------------------------------------------------

// The largest digest we produce (SHA-256), in bytes and in hex.
constexpr std::size_t max_digest_bytes = 32;
constexpr std::size_t max_hex = 2 * max_digest_bytes;

std::size_t hex_size(algorithm a) { return a == algorithm::md5 ? 32 : 64; }

// One EVP_MD per process: in OpenSSL 3 an implicit fetch (EVP_md5()) on every call
// costs more than hashing the few dozen bytes we hash. Null if a provider refuses it.
const EVP_MD* md(algorithm a) {
  static const EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return a == algorithm::md5 ? md5 : sha256;
}

constexpr auto hex_table = [] {
  constexpr char digits[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> t{};
  for (std::size_t i = 0; i < 256; ++i) t[i] = {digits[i >> 4], digits[i & 15]};
  return t;
}();

// A digest in lowercase hex, on the stack: verify() runs per REGISTER and should not
// allocate for its intermediate values.
struct hex_digest {
  std::array<char, max_hex> chars{};
  std::size_t size = 0;
  std::string_view view() const { return {chars.data(), size}; }
};

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

// H(p1:p2:...). Fed part by part rather than joined for EVP_Digest: the one-shot call
// allocates the same context inside, and joining would cost a buffer of its own.
bool hash_joined(algorithm alg, std::initializer_list<std::string_view> parts, hex_digest& out) {
  const EVP_MD* type = md(alg);
  if (type == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), type, nullptr) != 1) return false;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first && EVP_DigestUpdate(ctx.get(), ":", 1) != 1) return false;
    first = false;
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return false;
  }
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), raw, &len) != 1 || len > max_digest_bytes) return false;
  for (unsigned int i = 0; i < len; ++i) {
    out.chars[2 * i] = hex_table[raw[i]][0];
    out.chars[2 * i + 1] = hex_table[raw[i]][1];
  }
  out.size = 2 * len;
  return true;
}

bool response_into(algorithm alg, std::string_view ha1_hex, std::string_view nonce, std::string_view nc,
                   std::string_view cnonce, std::string_view qop, std::string_view method, std::string_view uri,
                   hex_digest& out) {
  hex_digest ha2;
  if (!hash_joined(alg, {method, uri}, ha2)) return false;
  if (qop.empty()) return hash_joined(alg, {ha1_hex, nonce, ha2.view()}, out);
  return hash_joined(alg, {ha1_hex, nonce, nc, cnonce, qop, ha2.view()}, out);
}

// ---- characters ------------------------------------------------------------------------

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3261 §25.1 token characters.
bool is_token(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

// LWS, including the CRLF of a folded line (the SIP parser normally unfolds them).
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_control(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// Peer bytes echoed into an error message: short, printable, one line.
std::string printable(std::string_view s) {
  constexpr std::size_t limit = 40;
  std::string out;
  for (char c : s.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > limit) out += "...";
  return out;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// ---- the auth-param list ---------------------------------------------------------------

struct param {
  std::string_view name;
  std::string_view raw;  // between the quotes, still escaped, when quoted
  bool quoted = false;
};

// Digest needs about a dozen parameters; a bound keeps the duplicate check cheap and a
// list of thousands of one-letter parameters out.
constexpr std::size_t max_params = 32;

struct param_list {
  std::array<param, max_params> items;
  std::size_t count = 0;

  const param* find(std::string_view name) const {
    for (std::size_t i = 0; i < count; ++i)
      if (iequal(items[i].name, name)) return &items[i];
    return nullptr;
  }
};

bool fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return false;
}

// One parameter's value at v[i] (after the '='), into p; i ends past it.
bool scan_value(std::string_view v, std::size_t& i, param& p, std::string* error) {
  if (i == v.size() || v[i] != '"') {
    // Tolerant: a token, or an unquoted URI some phones send; printable ASCII anyway.
    std::size_t start = i;
    while (i < v.size() && v[i] > 0x20 && v[i] < 0x7f && v[i] != ',' && v[i] != '"') ++i;
    p.raw = v.substr(start, i - start);
    return !p.raw.empty() || fail(error, "empty value for " + lowered(p.name));
  }
  std::size_t start = ++i;
  while (i < v.size() && v[i] != '"') {
    if (v[i] == '\\') {
      // RFC 3261's quoted-pair excludes only CR and LF (they would end the header); we
      // refuse any escaped control character: no name or nonce needs one, and they
      // would reach logs and our own headers.
      if (i + 1 == v.size() || v[i + 1] == '\r' || v[i + 1] == '\n') break;
      if (is_control(v[i + 1])) return fail(error, "control character in " + lowered(p.name));
      i += 2;
      continue;
    }
    if (is_control(v[i])) return fail(error, "control character in " + lowered(p.name));
    ++i;
  }
  if (i >= v.size() || v[i] != '"') return fail(error, "unterminated quoted string in " + lowered(p.name));
  p.raw = v.substr(start, i - start);
  p.quoted = true;
  ++i;  // the closing quote
  return true;
}

// `Digest name=value, name="quoted", ...` (RFC 3261 §25.1 challenge/credentials). Empty
// list elements are tolerated (RFC 7230 #rule); a missing comma between two parameters
// is not, as it would let one parameter's garbage become another parameter.
bool parse_params(std::string_view v, param_list& out, std::string* error) {
  if (v.size() > max_header_value) return fail(error, "header too long");
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < v.size() && is_space(v[i])) ++i;
  };
  skip_space();
  std::size_t scheme_start = i;
  while (i < v.size() && is_token(v[i])) ++i;
  if (!iequal(v.substr(scheme_start, i - scheme_start), "Digest") || (i < v.size() && !is_space(v[i])))
    return fail(error, "not Digest");
  while (true) {
    skip_space();
    if (i == v.size()) return true;
    if (v[i] == ',') {
      ++i;
      continue;
    }
    std::size_t name_start = i;
    while (i < v.size() && is_token(v[i])) ++i;
    param p{v.substr(name_start, i - name_start), {}, false};
    if (p.name.empty()) return fail(error, "unexpected character in parameter list");
    skip_space();
    if (i == v.size() || v[i] != '=') return fail(error, "parameter " + lowered(p.name) + " without a value");
    ++i;
    skip_space();
    if (!scan_value(v, i, p, error)) return false;
    skip_space();
    if (i < v.size() && v[i] != ',') return fail(error, "expected a comma after " + lowered(p.name));
    if (out.find(p.name)) return fail(error, "duplicate parameter " + lowered(p.name));
    if (out.count == max_params) return fail(error, "too many parameters");
    out.items[out.count++] = p;
  }
}

std::string value_of(const param& p) {
  if (!p.quoted) return std::string(p.raw);
  std::string out;
  out.reserve(p.raw.size());
  for (std::size_t i = 0; i < p.raw.size(); ++i) {
    if (p.raw[i] == '\\' && i + 1 < p.raw.size()) ++i;  // the parser guarantees a successor
    out += p.raw[i];
  }
  return out;
}

std::optional<algorithm> algorithm_from(std::string_view s) {
  if (iequal(s, "MD5")) return algorithm::md5;
  if (iequal(s, "SHA-256")) return algorithm::sha256;
  return std::nullopt;
}

// Absent means MD5 (RFC 7616 §3.3).
bool read_algorithm(const param_list& ps, algorithm& alg, std::string* name_out, std::string* error) {
  const param* p = ps.find("algorithm");
  if (!p) {
    alg = algorithm::md5;
    return true;
  }
  std::string value = value_of(*p);
  auto a = algorithm_from(value);
  if (!a) return fail(error, "unsupported algorithm " + printable(value));
  alg = *a;
  if (name_out) *name_out = std::move(value);
  return true;
}

// ---- formatting ------------------------------------------------------------------------

void append_clean(std::string& out, std::string_view v) {
  for (char c : v)
    if (!is_control(c)) out += c;
}

void append_quoted(std::string& out, std::string_view name, std::string_view v) {
  out += name;
  out += "=\"";
  for (char c : v) {
    if (is_control(c)) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// ---- nonces ----------------------------------------------------------------------------

constexpr std::size_t time_bytes = 8, random_bytes = 8, tag_bytes = 16;
constexpr std::size_t nonce_bytes = time_bytes + random_bytes + tag_bytes;  // 32
constexpr std::size_t nonce_chars = (nonce_bytes * 8 + 5) / 6;             // 43, no padding
// Our own nonce from up to this far in the future is still accepted: the wall clock
// may be stepped back a little by NTP after the nonce went out.
constexpr std::int64_t future_tolerance_s = 60;

constexpr char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr auto b64url_values = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& x : t) x = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(b64url_alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}();

std::string b64url_encode(std::span<const unsigned char> in) {
  std::string out;
  out.reserve((in.size() * 8 + 5) / 6);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : in) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += b64url_alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += b64url_alphabet[(acc << (6 - bits)) & 63];
  return out;
}

// Exactly nonce_bytes, canonical (unused low bits of the last character zero), so one
// nonce has one spelling.
bool b64url_decode_nonce(std::string_view s, std::array<unsigned char, nonce_bytes>& out) {
  if (s.size() != nonce_chars) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t n = 0;
  for (char c : s) {
    std::int8_t v = b64url_values[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = static_cast<unsigned char>((acc >> bits) & 0xff);
    }
  }
  return n == nonce_bytes && (acc & ((1u << bits) - 1)) == 0;
}

EVP_MAC* hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

// tag = HMAC-SHA256(key, time || random || realm)[0..16], on a copy of the keyed template.
bool nonce_tag(EVP_MAC_CTX* keyed, std::span<const unsigned char, time_bytes + random_bytes> head,
               std::string_view realm, unsigned char (&tag)[tag_bytes]) {
  struct mac_free {
    void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
  };
  std::unique_ptr<EVP_MAC_CTX, mac_free> ctx(EVP_MAC_CTX_dup(keyed));
  if (!ctx) return false;
  unsigned char full[max_digest_bytes];
  std::size_t len = 0;
  if (EVP_MAC_update(ctx.get(), head.data(), head.size()) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(realm.data()), realm.size()) != 1 ||
      EVP_MAC_final(ctx.get(), full, &len, sizeof full) != 1 || len < tag_bytes)
    return false;
  std::memcpy(tag, full, tag_bytes);
  return true;
}

// An HA1 as stored, checked and lowercased (an import may have upper case).
bool normalized_ha1(std::string_view stored, algorithm alg, hex_digest& out) {
  if (stored.size() != hex_size(alg)) return false;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (!is_hex(stored[i])) return false;
    out.chars[i] = lower(stored[i]);
  }
  out.size = stored.size();
  return true;
}

}  // namespace

// ---- algorithms and responses ------------------------------------------------------------

std::string_view name(algorithm a) {
  switch (a) {
    case algorithm::md5: return "MD5";
    case algorithm::sha256: return "SHA-256";
  }
  return "MD5";
}

std::string ha1(algorithm alg, std::string_view username, std::string_view realm, std::string_view password) {
  hex_digest out;
  if (!hash_joined(alg, {username, realm, password}, out)) return {};
  return std::string(out.view());
}

stored_credentials make_credentials(std::string_view username, std::string_view realm, std::string_view password) {
  return {std::string(username), std::string(realm), ha1(algorithm::md5, username, realm, password),
          ha1(algorithm::sha256, username, realm, password)};
}

std::string compute_response(algorithm alg, std::string_view ha1_hex, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop, std::string_view method,
                             std::string_view digest_uri) {
  hex_digest out;
  if (!response_into(alg, ha1_hex, nonce, nc, cnonce, qop, method, digest_uri, out)) return {};
  return std::string(out.view());
}

// ---- Authorization ---------------------------------------------------------------------

std::optional<credentials> parse_authorization(std::string_view value, std::string* error) {
  param_list ps;
  if (!parse_params(value, ps, error)) return std::nullopt;
  credentials c;
  const std::pair<std::string*, std::string_view> required[] = {
      {&c.username, "username"}, {&c.realm, "realm"}, {&c.nonce, "nonce"}, {&c.uri, "uri"}, {&c.response, "response"}};
  for (const auto& [field, key] : required) {
    const param* p = ps.find(key);
    if (!p) {
      fail(error, "missing " + std::string(key));
      return std::nullopt;
    }
    *field = value_of(*p);
  }
  if (!read_algorithm(ps, c.alg, &c.algorithm_name, error)) return std::nullopt;
  const std::pair<std::string*, std::string_view> optional[] = {
      {&c.cnonce, "cnonce"}, {&c.opaque, "opaque"}, {&c.qop, "qop"}, {&c.nc, "nc"}};
  for (const auto& [field, key] : optional)
    if (const param* p = ps.find(key)) *field = value_of(*p);
  if (!c.qop.empty()) {
    if (!iequal(c.qop, "auth")) {
      fail(error, "unsupported qop " + printable(c.qop));
      return std::nullopt;
    }
    if (c.cnonce.empty()) {
      fail(error, "qop=auth without cnonce");
      return std::nullopt;
    }
    bool nc_ok = c.nc.size() == 8;
    for (char ch : c.nc) nc_ok = nc_ok && is_hex(ch);
    if (!nc_ok) {
      fail(error, "nc is not 8 hex digits");
      return std::nullopt;
    }
  }
  return c;
}

std::string format_authorization(const credentials& c) {
  std::string out = "Digest ";
  append_quoted(out, "username", c.username);
  out += ", ";
  append_quoted(out, "realm", c.realm);
  out += ", ";
  append_quoted(out, "nonce", c.nonce);
  out += ", ";
  append_quoted(out, "uri", c.uri);
  out += ", ";
  append_quoted(out, "response", c.response);
  // RFC 7616 §3.4: algorithm, qop and nc are never quoted.
  out += ", algorithm=";
  out += name(c.alg);
  if (!c.opaque.empty()) {
    out += ", ";
    append_quoted(out, "opaque", c.opaque);
  }
  if (!c.qop.empty()) {
    out += ", qop=";
    append_clean(out, c.qop);
    out += ", nc=";
    append_clean(out, c.nc);
    out += ", ";
    append_quoted(out, "cnonce", c.cnonce);
  }
  return out;
}

// ---- WWW-Authenticate ------------------------------------------------------------------

std::optional<challenge> parse_challenge(std::string_view value, std::string* error) {
  param_list ps;
  if (!parse_params(value, ps, error)) return std::nullopt;
  challenge c;
  const param* realm = ps.find("realm");
  const param* nonce = ps.find("nonce");
  if (!realm || !nonce) {
    fail(error, realm ? "missing nonce" : "missing realm");
    return std::nullopt;
  }
  c.realm = value_of(*realm);
  c.nonce = value_of(*nonce);
  if (const param* p = ps.find("opaque")) c.opaque = value_of(*p);
  if (!read_algorithm(ps, c.alg, nullptr, error)) return std::nullopt;
  if (const param* p = ps.find("stale")) c.stale = iequal(value_of(*p), "true");
  if (const param* p = ps.find("qop")) {
    // A list, "auth, auth-int": we speak auth, and only auth.
    std::string list = value_of(*p);
    std::string_view rest = list;
    while (!rest.empty() && c.qop.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && is_space(item.front())) item.remove_prefix(1);
      while (!item.empty() && is_space(item.back())) item.remove_suffix(1);
      if (iequal(item, "auth")) c.qop = "auth";
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (c.qop.empty()) {
      fail(error, "unsupported qop " + printable(list));
      return std::nullopt;
    }
  }
  return c;
}

std::string format_challenge(const challenge& c) {
  std::string out = "Digest ";
  append_quoted(out, "realm", c.realm);
  out += ", ";
  append_quoted(out, "nonce", c.nonce);
  out += ", algorithm=";
  out += name(c.alg);
  if (!c.qop.empty()) {
    out += ", ";
    append_quoted(out, "qop", c.qop);
  }
  if (c.stale) out += ", stale=true";
  if (!c.opaque.empty()) {
    out += ", ";
    append_quoted(out, "opaque", c.opaque);
  }
  return out;
}

// ---- nonce_issuer ----------------------------------------------------------------------

void nonce_issuer::mac_ctx_free::operator()(evp_mac_ctx_st* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }

nonce_issuer::nonce_issuer(std::span<const std::byte> secret, std::chrono::seconds max_age)
    : max_age_(max_age < std::chrono::seconds::zero() ? std::chrono::seconds::zero() : max_age) {
  if (secret.size() < min_secret_bytes || hmac() == nullptr) return;  // fails closed: see the header
  mac_.reset(EVP_MAC_CTX_new(hmac()));
  if (!mac_) return;
  char digest_name[] = "SHA2-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(mac_.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params) != 1)
    mac_.reset();
}

nonce_issuer::nonce_issuer(const nonce_issuer& other)
    : mac_(other.mac_ ? EVP_MAC_CTX_dup(other.mac_.get()) : nullptr), max_age_(other.max_age_) {}

nonce_issuer& nonce_issuer::operator=(const nonce_issuer& other) {
  if (this != &other) *this = nonce_issuer(other);
  return *this;
}

nonce_issuer::nonce_issuer(nonce_issuer&&) noexcept = default;
nonce_issuer& nonce_issuer::operator=(nonce_issuer&&) noexcept = default;
nonce_issuer::~nonce_issuer() = default;

std::string nonce_issuer::issue(std::chrono::system_clock::time_point now, std::span<const std::byte, 8> random,
                                std::string_view realm) const {
  std::array<unsigned char, nonce_bytes> raw{};
  std::int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto t = static_cast<std::uint64_t>(seconds < 0 ? 0 : seconds);
  for (std::size_t i = 0; i < time_bytes; ++i) raw[i] = static_cast<unsigned char>(t >> (56 - 8 * i));
  std::memcpy(raw.data() + time_bytes, random.data(), random_bytes);
  unsigned char tag[tag_bytes] = {};
  // Unusable issuer or OpenSSL failure: the zero tag never checks as valid (check()
  // refuses everything without a key), so the phone is simply challenged again.
  if (mac_) nonce_tag(mac_.get(), std::span(raw).first<time_bytes + random_bytes>(), realm, tag);
  std::memcpy(raw.data() + time_bytes + random_bytes, tag, tag_bytes);
  return b64url_encode(raw);
}

nonce_issuer::verdict nonce_issuer::check(std::string_view nonce, std::chrono::system_clock::time_point now,
                                          std::string_view realm) const {
  std::array<unsigned char, nonce_bytes> raw;
  if (!mac_ || !b64url_decode_nonce(nonce, raw)) return verdict::forged;
  unsigned char tag[tag_bytes];
  if (!nonce_tag(mac_.get(), std::span(raw).first<time_bytes + random_bytes>(), realm, tag)) return verdict::forged;
  if (CRYPTO_memcmp(tag, raw.data() + time_bytes + random_bytes, tag_bytes) != 0) return verdict::forged;

  // Authentic from here on, so the time is one we wrote; the unsigned arithmetic below
  // still cannot overflow whatever it holds.
  std::uint64_t issued = 0;
  for (std::size_t i = 0; i < time_bytes; ++i) issued = (issued << 8) | raw[i];
  std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto now_u = static_cast<std::uint64_t>(now_s < 0 ? 0 : now_s);
  const bool too_old = issued <= now_u && now_u - issued > static_cast<std::uint64_t>(max_age_.count());
  const bool too_new = issued > now_u && issued - now_u > static_cast<std::uint64_t>(future_tolerance_s);
  return too_old || too_new ? verdict::stale : verdict::valid;
}

// ---- verify ------------------------------------------------------------------------------

std::string_view to_string(outcome o) {
  switch (o) {
    case outcome::ok: return "ok";
    case outcome::wrong_response: return "wrong response";
    case outcome::stale_nonce: return "stale nonce";
    case outcome::bad_nonce: return "bad nonce";
    case outcome::wrong_realm: return "wrong realm";
    case outcome::unsupported: return "unsupported";
  }
  return "unknown";
}

outcome verify(const credentials& c, const stored_credentials& stored, std::string_view method,
               const nonce_issuer& nonces, std::chrono::system_clock::time_point now) {
  if (c.realm != stored.realm) return outcome::wrong_realm;
  const auto nonce = nonces.check(c.nonce, now, c.realm);
  if (nonce == nonce_issuer::verdict::forged) return outcome::bad_nonce;
  // Credentials built in code rather than parsed may hold anything; parse_authorization
  // lets through only these.
  if (!c.qop.empty() && !iequal(c.qop, "auth")) return outcome::unsupported;
  hex_digest ha1_hex;
  if (!normalized_ha1(c.alg == algorithm::md5 ? stored.ha1_md5 : stored.ha1_sha256, c.alg, ha1_hex))
    return outcome::unsupported;

  hex_digest expected;
  if (!response_into(c.alg, ha1_hex.view(), c.nonce, c.nc, c.cnonce, c.qop, method, c.uri, expected))
    return outcome::unsupported;
  // Clients may send the hex in upper case; the length is public, the digits are not.
  if (c.response.size() != expected.size) return outcome::wrong_response;
  std::array<char, max_hex> given;
  for (std::size_t i = 0; i < expected.size; ++i) given[i] = lower(c.response[i]);
  bool digest_ok = CRYPTO_memcmp(given.data(), expected.chars.data(), expected.size) == 0;
  // Compared after the digest so the name does not answer faster than a wrong password.
  if (!digest_ok || c.username != stored.username) return outcome::wrong_response;
  // RFC 7616 §3.3: stale=true only with a correct digest, so the phone retries on its
  // own instead of asking its user for a password that was right.
  return nonce == nonce_issuer::verdict::stale ? outcome::stale_nonce : outcome::ok;
}

}  // namespace hotline::sip::digest
