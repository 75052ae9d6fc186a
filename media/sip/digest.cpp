#include "media/sip/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace hotline::sip::digest {
namespace {

constexpr size_t max_header = 8192;

// One EVP_MD per process: fetching per call costs more than the hash (OpenSSL 3).
const EVP_MD* md(algorithm a) {
  static const EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  static const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return a == algorithm::md5 ? md5 : sha256;
}

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

// H(a:b:c...) in lowercase hex, without building the joined string twice.
std::string h(algorithm alg, std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md(alg), nullptr);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) EVP_DigestUpdate(ctx, ":", 1);
    first = false;
    EVP_DigestUpdate(ctx, p.data(), p.size());
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  return hex(out, len);
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<algorithm> algorithm_from(std::string_view s) {
  if (s.empty() || iequal(s, "MD5")) return algorithm::md5;
  if (iequal(s, "SHA-256")) return algorithm::sha256;
  return std::nullopt;
}

// "Digest a=b, c="d, e"" -> pairs; false on a syntax error (unterminated quote).
bool parse_params(std::string_view value, std::vector<std::pair<std::string, std::string>>& out, std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  if (value.size() > max_header) return fail("header too long");
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' || value[i] == '\n')) ++i;
  };
  skip_ws();
  size_t scheme_end = i;
  while (scheme_end < value.size() && value[scheme_end] != ' ' && value[scheme_end] != '\t') ++scheme_end;
  if (!iequal(value.substr(i, scheme_end - i), "Digest")) return fail("not Digest");
  i = scheme_end;
  while (true) {
    skip_ws();
    while (i < value.size() && value[i] == ',') {
      ++i;
      skip_ws();
    }
    if (i >= value.size()) break;
    size_t name_start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ',' && value[i] != ' ' && value[i] != '\t') ++i;
    std::string name(value.substr(name_start, i - name_start));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    skip_ws();
    if (i >= value.size() || value[i] != '=') return fail("parameter " + name + " without a value");
    ++i;
    skip_ws();
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      bool closed = false;
      while (i < value.size()) {
        char c = value[i++];
        if (c == '\\' && i < value.size()) {
          v += value[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          v += c;
        }
      }
      if (!closed) return fail("unterminated quoted string in " + name);
    } else {
      size_t start = i;
      while (i < value.size() && value[i] != ',' && value[i] != ' ' && value[i] != '\t') ++i;
      v = std::string(value.substr(start, i - start));
    }
    if (name.empty()) return fail("empty parameter name");
    for (const auto& p : out)
      if (p.first == name) return fail("duplicate parameter " + name);
    out.emplace_back(std::move(name), std::move(v));
  }
  return true;
}

const std::string* get(const std::vector<std::pair<std::string, std::string>>& ps, std::string_view name) {
  for (const auto& p : ps)
    if (p.first == name) return &p.second;
  return nullptr;
}

void append_quoted(std::string& out, std::string_view name, std::string_view v) {
  out += name;
  out += "=\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// RFC 4648 §5 (base64url, no padding).
std::string b64url(const unsigned char* p, size_t n) {
  static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += a[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += a[(acc << (6 - bits)) & 63];
  return out;
}

bool unb64url(std::string_view s, std::vector<unsigned char>& out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

constexpr size_t nonce_bytes = 8 + 8 + 16;

}  // namespace

std::string_view name(algorithm a) { return a == algorithm::md5 ? "MD5" : "SHA-256"; }

std::string ha1(algorithm alg, std::string_view username, std::string_view realm, std::string_view password) {
  return h(alg, {username, realm, password});
}

stored_credentials make_credentials(std::string_view username, std::string_view realm, std::string_view password) {
  return {std::string(username), std::string(realm), ha1(algorithm::md5, username, realm, password),
          ha1(algorithm::sha256, username, realm, password)};
}

std::string compute_response(algorithm alg, std::string_view ha1_hex, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop, std::string_view method,
                             std::string_view digest_uri) {
  std::string ha2 = h(alg, {method, digest_uri});
  if (qop.empty()) return h(alg, {ha1_hex, nonce, ha2});
  return h(alg, {ha1_hex, nonce, nc, cnonce, qop, ha2});
}

std::optional<credentials> parse_authorization(std::string_view value, std::string* error) {
  std::vector<std::pair<std::string, std::string>> ps;
  if (!parse_params(value, ps, error)) return std::nullopt;
  credentials c;
  for (auto [field, key] : {std::pair{&c.username, "username"}, std::pair{&c.realm, "realm"},
                            std::pair{&c.nonce, "nonce"}, std::pair{&c.uri, "uri"}, std::pair{&c.response, "response"}}) {
    const std::string* v = get(ps, key);
    if (!v) {
      if (error) *error = std::string("missing ") + key;
      return std::nullopt;
    }
    *field = *v;
  }
  if (const auto* v = get(ps, "algorithm")) c.algorithm_name = *v;
  auto alg = algorithm_from(c.algorithm_name);
  if (!alg) {
    if (error) *error = "unsupported algorithm " + c.algorithm_name;
    return std::nullopt;
  }
  c.alg = *alg;
  if (const auto* v = get(ps, "cnonce")) c.cnonce = *v;
  if (const auto* v = get(ps, "opaque")) c.opaque = *v;
  if (const auto* v = get(ps, "qop")) c.qop = *v;
  if (const auto* v = get(ps, "nc")) c.nc = *v;
  if (!c.qop.empty() && (c.qop != "auth" || c.cnonce.empty() || c.nc.empty())) {
    if (error) *error = c.qop != "auth" ? "unsupported qop " + c.qop : std::string("qop=auth without cnonce or nc");
    return std::nullopt;
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
  out += ", algorithm=";
  out += c.algorithm_name.empty() ? name(c.alg) : std::string_view(c.algorithm_name);
  if (!c.opaque.empty()) {
    out += ", ";
    append_quoted(out, "opaque", c.opaque);
  }
  if (!c.qop.empty()) {
    out += ", qop=" + c.qop + ", nc=" + c.nc + ", ";
    append_quoted(out, "cnonce", c.cnonce);
  }
  return out;
}

std::optional<challenge> parse_challenge(std::string_view value, std::string* error) {
  std::vector<std::pair<std::string, std::string>> ps;
  if (!parse_params(value, ps, error)) return std::nullopt;
  challenge c;
  const std::string* realm = get(ps, "realm");
  const std::string* nonce = get(ps, "nonce");
  if (!realm || !nonce) {
    if (error) *error = realm ? "missing nonce" : "missing realm";
    return std::nullopt;
  }
  c.realm = *realm;
  c.nonce = *nonce;
  if (const auto* v = get(ps, "opaque")) c.opaque = *v;
  auto alg = algorithm_from(get(ps, "algorithm") ? *get(ps, "algorithm") : std::string());
  if (!alg) {
    if (error) *error = "unsupported algorithm " + *get(ps, "algorithm");
    return std::nullopt;
  }
  c.alg = *alg;
  if (const auto* v = get(ps, "stale")) c.stale = iequal(*v, "true");
  if (const auto* v = get(ps, "qop")) {
    // "auth,auth-int": we speak auth.
    if (v->find("auth") != std::string::npos) c.qop = "auth";
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

nonce_issuer::nonce_issuer(std::span<const std::byte> secret, std::chrono::seconds max_age)
    : secret_(secret.begin(), secret.end()), max_age_(max_age) {}

std::string nonce_issuer::issue(std::chrono::system_clock::time_point now, std::span<const std::byte, 8> random,
                                std::string_view realm) const {
  unsigned char buf[nonce_bytes];
  uint64_t t = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<unsigned char>(t >> (56 - 8 * i));
  std::memcpy(buf + 8, random.data(), 8);
  std::string mac_input(reinterpret_cast<const char*>(buf), 16);
  mac_input += realm;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(mac_input.data()), mac_input.size(), mac, &mac_len);
  std::memcpy(buf + 16, mac, 16);
  return b64url(buf, sizeof buf);
}

nonce_issuer::verdict nonce_issuer::check(std::string_view nonce, std::chrono::system_clock::time_point now,
                                          std::string_view realm) const {
  std::vector<unsigned char> raw;
  if (nonce.size() > 64 || !unb64url(nonce, raw) || raw.size() != nonce_bytes) return verdict::forged;
  std::string mac_input(reinterpret_cast<const char*>(raw.data()), 16);
  mac_input += realm;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(mac_input.data()), mac_input.size(), mac, &mac_len);
  if (CRYPTO_memcmp(mac, raw.data() + 16, 16) != 0) return verdict::forged;
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | raw[static_cast<size_t>(i)];
  auto issued = std::chrono::system_clock::time_point(std::chrono::seconds(t));
  if (now - issued > max_age_ || issued - now > std::chrono::seconds(60)) return verdict::stale;
  return verdict::valid;
}

outcome verify(const credentials& c, const stored_credentials& stored, std::string_view method,
               const nonce_issuer& nonces, std::chrono::system_clock::time_point now) {
  if (c.realm != stored.realm) return outcome::wrong_realm;
  switch (nonces.check(c.nonce, now, c.realm)) {
    case nonce_issuer::verdict::forged: return outcome::bad_nonce;
    case nonce_issuer::verdict::stale: return outcome::stale_nonce;
    case nonce_issuer::verdict::valid: break;
  }
  const std::string& ha1_hex = c.alg == algorithm::md5 ? stored.ha1_md5 : stored.ha1_sha256;
  if (ha1_hex.empty()) return outcome::unsupported;
  std::string expected = compute_response(c.alg, ha1_hex, c.nonce, c.nc, c.cnonce, c.qop, method, c.uri);
  std::string given = c.response;
  std::transform(given.begin(), given.end(), given.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0)
    return outcome::wrong_response;
  return outcome::ok;
}

}  // namespace hotline::sip::digest
