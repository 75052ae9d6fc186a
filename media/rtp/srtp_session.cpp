#include "media/rtp/srtp_session.hpp"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>
#include <utility>

namespace hotline::rtp {
namespace {

std::once_flag srtp_initialized;

srtp_session::result map(srtp_err_status_t s) {
  switch (s) {
    case srtp_err_status_ok: return srtp_session::result::ok;
    case srtp_err_status_auth_fail: return srtp_session::result::auth_failed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return srtp_session::result::replayed;
    default: return srtp_session::result::malformed;
  }
}

}  // namespace

std::variant<srtp_session, std::string> srtp_session::create(sdp::crypto_suite suite, std::span<const uint8_t> key_salt,
                                                             direction dir) {
  std::call_once(srtp_initialized, [] { srtp_init(); });
  srtp_policy_t p;
  std::memset(&p, 0, sizeof p);
  size_t want = 0;
  switch (suite) {
    case sdp::crypto_suite::aes_cm_128_hmac_sha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
      want = 30;
      break;
    case sdp::crypto_suite::aes_cm_128_hmac_sha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);  // RFC 4568 §6.2.2: SRTCP keeps the 80-bit tag
      want = 30;
      break;
    case sdp::crypto_suite::aead_aes_128_gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
      want = 28;
      break;
    default: return std::string("unsupported SRTP suite");
  }
  if (key_salt.size() != want)
    return "SRTP key||salt is " + std::to_string(key_salt.size()) + " bytes, the suite needs " + std::to_string(want);
  p.ssrc.type = dir == direction::outbound ? ssrc_any_outbound : ssrc_any_inbound;
  p.key = const_cast<unsigned char*>(key_salt.data());
  p.window_size = 128;
  p.allow_repeat_tx = 0;
  p.next = nullptr;
  srtp_session s;
  srtp_t ctx = nullptr;
  if (auto err = srtp_create(&ctx, &p); err != srtp_err_status_ok)
    return "srtp_create failed (libsrtp status " + std::to_string(static_cast<int>(err)) + ")";
  s.ctx_ = ctx;
  return s;
}

srtp_session::srtp_session(srtp_session&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
srtp_session& srtp_session::operator=(srtp_session&& other) noexcept {
  if (this != &other) {
    if (ctx_) srtp_dealloc(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}
srtp_session::~srtp_session() {
  if (ctx_) srtp_dealloc(ctx_);
}

srtp_session::result srtp_session::protect(std::span<std::byte> buffer, size_t& len) {
  if (len < 12 || len + SRTP_MAX_TRAILER_LEN > buffer.size()) return result::malformed;
  int n = static_cast<int>(len);
  auto r = map(srtp_protect(ctx_, buffer.data(), &n));
  if (r == result::ok) len = static_cast<size_t>(n);
  return r;
}

srtp_session::result srtp_session::unprotect(std::span<std::byte> buffer, size_t& len) {
  if (len < 12 || len > buffer.size()) return result::malformed;
  int n = static_cast<int>(len);
  auto r = map(srtp_unprotect(ctx_, buffer.data(), &n));
  if (r == result::ok) len = static_cast<size_t>(n);
  return r;
}

srtp_session::result srtp_session::protect_rtcp(std::span<std::byte> buffer, size_t& len) {
  if (len < 8 || len + SRTP_MAX_TRAILER_LEN + 4 > buffer.size()) return result::malformed;
  int n = static_cast<int>(len);
  auto r = map(srtp_protect_rtcp(ctx_, buffer.data(), &n));
  if (r == result::ok) len = static_cast<size_t>(n);
  return r;
}

srtp_session::result srtp_session::unprotect_rtcp(std::span<std::byte> buffer, size_t& len) {
  if (len < 8 || len > buffer.size()) return result::malformed;
  int n = static_cast<int>(len);
  auto r = map(srtp_unprotect_rtcp(ctx_, buffer.data(), &n));
  if (r == result::ok) len = static_cast<size_t>(n);
  return r;
}

}  // namespace hotline::rtp
