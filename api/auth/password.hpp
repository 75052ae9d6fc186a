#pragma once
// Password hashing with PBKDF2-HMAC-SHA256 (OpenSSL). Stored form:
//   pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>
// so the iteration count can rise later without invalidating old hashes.
#include <cstdint>
#include <string>
#include <string_view>

namespace hotline::auth {

std::string hash_password(std::string_view password, uint32_t iterations);
bool verify_password(std::string_view password, std::string_view stored);
// True when `stored` was made with fewer iterations than `iterations` (rehash on login).
bool needs_rehash(std::string_view stored, uint32_t iterations);

// Cryptographically random bytes, base64url without padding (session tokens, passwords).
std::string random_token(size_t bytes);
// SHA-256 of `s` as 32 raw bytes (session table keys: a leaked DB holds no live tokens).
std::string sha256(std::string_view s);

std::string base64_encode(std::string_view bytes, bool url = false);

}  // namespace hotline::auth
