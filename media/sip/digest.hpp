#pragma once
// HTTP digest authentication as SIP uses it (RFC 3261 §22, RFC 8760 over RFC 7616):
// MD5 and SHA-256, qop=auth or no qop. Server side for the registrar (REGISTER from
// agents' phones); client side for answering a trunk's 401/407.
//
// Passwords are never stored: only HA1 = H(username:realm:password) per algorithm.
// Time and randomness are passed in; nothing here reads a clock or an RNG.
// Header values are untrusted bytes: every parser returns an error, never asserts.
//
// Threading: every function is reentrant; a nonce_issuer is immutable after
// construction, so its const members may be called from any number of threads.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX: its headers stay out of ours

namespace hotline::sip::digest {

// "MD5", "SHA-256". SHA-512-256 (RFC 8760) is not offered by the phones we serve, and the
// -sess variants are refused: RFC 3261 does not use them and no SIP phone needs them.
enum class algorithm { md5, sha256 };
std::string_view name(algorithm a);

// Longer Authorization / WWW-Authenticate values are refused before any parsing.
inline constexpr std::size_t max_header_value = 8192;

struct stored_credentials {
  std::string username, realm, ha1_md5, ha1_sha256;  // HA1s in lowercase hex; empty: not provisioned
};
stored_credentials make_credentials(std::string_view username, std::string_view realm, std::string_view password);

// Authorization / Proxy-Authorization: the value, "Digest ...". The scheme and the
// parameter names are case-insensitive, order and spacing (folded lines too) are free,
// quoted strings are unescaped, unknown parameters are ignored. Errors (`*error` says
// which): "not Digest", "missing nonce", "duplicate parameter realm", "unsupported
// algorithm SHA-512-256", "unsupported qop auth-int", a syntax error, "header too long".
struct credentials {
  std::string username, realm, nonce, uri, response;
  std::string algorithm_name;  // as received; empty when absent (which means MD5)
  std::string cnonce, opaque;
  std::string qop;  // "auth" (as the client spelled it) or empty (RFC 2069 style)
  std::string nc;   // 8 hex digits when qop is set
  algorithm alg = algorithm::md5;
};
std::optional<credentials> parse_authorization(std::string_view value, std::string* error = nullptr);
// Client side. Uses name(alg), not algorithm_name. Control characters, which a SIP
// header cannot carry, are dropped.
std::string format_authorization(const credentials& c);

// WWW-Authenticate / Proxy-Authenticate. A qop list that offers "auth" yields qop
// "auth"; one that offers only something else ("auth-int") is an error, since we
// could not answer it.
struct challenge {
  std::string realm, nonce, opaque;
  algorithm alg = algorithm::md5;
  bool stale = false;
  std::string qop;  // "auth" or empty
};
std::optional<challenge> parse_challenge(std::string_view value, std::string* error = nullptr);
// Digest realm="..", nonce="..", algorithm=SHA-256, qop="auth"[, stale=true][, opaque=".."]
std::string format_challenge(const challenge& c);

// Lowercase hex. Both return "" if the hash is unavailable (a FIPS provider refusing
// MD5); verify() then answers `unsupported`.
std::string ha1(algorithm alg, std::string_view username, std::string_view realm, std::string_view password);
// RFC 7616 §3.4.1: with qop=auth, H(HA1:nonce:nc:cnonce:qop:HA2); without qop (RFC 2069),
// H(HA1:nonce:HA2); HA2 = H(method:digest-uri).
std::string compute_response(algorithm alg, std::string_view ha1_hex, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop, std::string_view method,
                             std::string_view digest_uri);

// Stateless nonces: base64url(time_be64 || random(8) || HMAC-SHA256(secret, time||random||realm)[0..16]),
// 43 characters. The server keeps nothing per nonce; one older than max_age is "stale"
// and the phone retries with the fresh nonce of a stale=true challenge without asking
// its user.
// Replay protection with nonce counts is out of scope: it would need per-nonce state.
// A replay inside max_age can only repeat the exact request (method, URI) the phone
// itself sent, and max_age is short.
class nonce_issuer {
 public:
  static constexpr std::size_t min_secret_bytes = 32;
  // A secret shorter than min_secret_bytes gives an issuer that is not usable(): it fails
  // closed (every nonce checks as forged), which shows as phones that never register.
  explicit nonce_issuer(std::span<const std::byte> secret, std::chrono::seconds max_age = std::chrono::seconds(300));
  nonce_issuer(const nonce_issuer& other);
  nonce_issuer& operator=(const nonce_issuer& other);
  nonce_issuer(nonce_issuer&&) noexcept;
  nonce_issuer& operator=(nonce_issuer&&) noexcept;
  ~nonce_issuer();

  bool usable() const noexcept { return mac_ != nullptr; }
  std::string issue(std::chrono::system_clock::time_point now, std::span<const std::byte, 8> random,
                    std::string_view realm) const;
  // forged: not ours, or not for this realm, or malformed. stale: ours, but older than
  // max_age (or more than a minute in the future: our wall clock stepped back).
  enum class verdict { valid, stale, forged };
  verdict check(std::string_view nonce, std::chrono::system_clock::time_point now, std::string_view realm) const;

 private:
  struct mac_ctx_free {
    void operator()(evp_mac_ctx_st* ctx) const noexcept;
  };
  // HMAC-SHA256 keyed once; each use works on a copy, so check() stays const and
  // thread-safe without a lock.
  std::unique_ptr<evp_mac_ctx_st, mac_ctx_free> mac_;
  std::chrono::seconds max_age_;
};

// The whole server-side check, in this order:
//   wrong_realm     credentials for another realm than the account's
//   bad_nonce       a nonce we did not issue (for this realm)
//   unsupported     qop other than auth, or no HA1 stored for the credentials' algorithm
//   wrong_response  the digest does not match (wrong password, username or method)
//   stale_nonce     right digest on an expired nonce: challenge again with stale=true
//   ok
// The response is compared in constant time. The caller still checks that the
// username is the one being registered and, if it cares, that uri is the Request-URI.
enum class outcome { ok, wrong_response, stale_nonce, bad_nonce, wrong_realm, unsupported };
std::string_view to_string(outcome o);
outcome verify(const credentials& c, const stored_credentials& stored, std::string_view method,
               const nonce_issuer& nonces, std::chrono::system_clock::time_point now);

}  // namespace hotline::sip::digest
