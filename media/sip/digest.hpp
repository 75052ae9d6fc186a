#pragma once
// HTTP digest authentication as SIP uses it (RFC 3261 §22, RFC 8760: MD5 and SHA-256,
// qop=auth). Server side for the registrar; client side for answering a trunk's 401.
// Passwords are never stored: only HA1 = H(username:realm:password) per algorithm.
// Time and randomness are passed in; nothing here reads a clock or an RNG.
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::sip::digest {

enum class algorithm { md5, sha256 };  // "MD5", "SHA-256"; the -sess variants are refused
std::string_view name(algorithm a);

struct stored_credentials {
  std::string username, realm, ha1_md5, ha1_sha256;  // HA1s in lowercase hex
};
stored_credentials make_credentials(std::string_view username, std::string_view realm, std::string_view password);

// Authorization / Proxy-Authorization (the value, "Digest ..."). Unknown parameters are
// ignored; a missing required one, a duplicate, or an unknown algorithm is an error.
struct credentials {
  std::string username, realm, nonce, uri, response, algorithm_name, cnonce, opaque, qop, nc;
  algorithm alg = algorithm::md5;
};
std::optional<credentials> parse_authorization(std::string_view value, std::string* error = nullptr);
std::string format_authorization(const credentials& c);

// WWW-Authenticate / Proxy-Authenticate.
struct challenge {
  std::string realm, nonce, opaque;
  algorithm alg = algorithm::md5;
  bool stale = false;
  std::string qop;  // "auth" or empty
};
std::optional<challenge> parse_challenge(std::string_view value, std::string* error = nullptr);
std::string format_challenge(const challenge& c);

std::string ha1(algorithm alg, std::string_view username, std::string_view realm, std::string_view password);
// RFC 2617 §3.2.2.1 / RFC 8760: with qop=auth, H(HA1:nonce:nc:cnonce:qop:HA2); without
// qop, H(HA1:nonce:HA2); HA2 = H(method:digest-uri).
std::string compute_response(algorithm alg, std::string_view ha1_hex, std::string_view nonce, std::string_view nc,
                             std::string_view cnonce, std::string_view qop, std::string_view method,
                             std::string_view digest_uri);

// Stateless nonces: base64url(time_be64 || random(8) || HMAC-SHA256(secret, time||random||realm)[0..16]).
// The server keeps nothing per nonce; one older than max_age is "stale" and the phone
// retries with the fresh nonce of a stale=true challenge without asking its user.
// Replays inside max_age are not detected (no nonce-count state): a replayed REGISTER
// can only repeat what the phone itself asked for, and max_age is short.
class nonce_issuer {
 public:
  explicit nonce_issuer(std::span<const std::byte> secret, std::chrono::seconds max_age = std::chrono::seconds(300));
  std::string issue(std::chrono::system_clock::time_point now, std::span<const std::byte, 8> random,
                    std::string_view realm) const;
  enum class verdict { valid, stale, forged };
  verdict check(std::string_view nonce, std::chrono::system_clock::time_point now, std::string_view realm) const;

 private:
  std::vector<std::byte> secret_;
  std::chrono::seconds max_age_;
};

enum class outcome { ok, wrong_response, stale_nonce, bad_nonce, wrong_realm, unsupported };
outcome verify(const credentials& c, const stored_credentials& stored, std::string_view method,
               const nonce_issuer& nonces, std::chrono::system_clock::time_point now);

}  // namespace hotline::sip::digest
