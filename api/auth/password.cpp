#include "api/auth/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace hotline::auth {

namespace {
constexpr std::string_view scheme = "pbkdf2-sha256";
constexpr size_t salt_bytes = 16;
constexpr size_t hash_bytes = 32;

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");  // no entropy: nothing safe to do
  return out;
}

std::string derive(std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(hash_bytes, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  std::vector<unsigned char> buf(in.size());
  int n = EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.assign(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n) - pad);
  return true;
}

struct parsed {
  uint32_t iterations = 0;
  std::string salt, hash;
};

bool parse(std::string_view stored, parsed& p) {
  auto next = [&](std::string_view& part) {
    auto pos = stored.find('$');
    part = stored.substr(0, pos);
    stored = pos == std::string_view::npos ? std::string_view{} : stored.substr(pos + 1);
  };
  std::string_view name, iter, salt, hash;
  next(name), next(iter), next(salt), next(hash);
  if (name != scheme || iter.empty() || salt.empty() || hash.empty()) return false;
  auto [ptr, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), p.iterations);
  if (ec != std::errc{} || ptr != iter.data() + iter.size() || p.iterations == 0) return false;
  return base64_decode(salt, p.salt) && base64_decode(hash, p.hash) && p.hash.size() == hash_bytes;
}
}  // namespace

std::string base64_encode(std::string_view bytes, bool url) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  if (url) {
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string hash_password(std::string_view password, uint32_t iterations) {
  auto salt = random_bytes(salt_bytes);
  return std::string(scheme) + "$" + std::to_string(iterations) + "$" + base64_encode(salt) + "$" +
         base64_encode(derive(password, salt, iterations));
}

bool verify_password(std::string_view password, std::string_view stored) {
  parsed p;
  if (!parse(stored, p)) return false;
  auto candidate = derive(password, p.salt, p.iterations);
  return CRYPTO_memcmp(candidate.data(), p.hash.data(), hash_bytes) == 0;
}

bool needs_rehash(std::string_view stored, uint32_t iterations) {
  parsed p;
  return !parse(stored, p) || p.iterations < iterations;
}

std::string random_token(size_t bytes) { return base64_encode(random_bytes(bytes), true); }

std::string sha256(std::string_view s) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace hotline::auth
