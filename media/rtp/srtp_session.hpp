#pragma once
// SRTP/SRTCP for one direction of one leg (RFC 3711), keyed from SDES (RFC 4568) by
// libsrtp2: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 and AEAD_AES_128_GCM
// (RFC 7714). Replay protection is libsrtp's (a 128-packet window). A packet that fails
// authentication or replays is counted and reported, never passed on.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "media/sdp/session.hpp"

struct srtp_ctx_t_;

namespace hotline::rtp {

// Room protect() needs after the packet (libsrtp's SRTP_MAX_TRAILER_LEN).
inline constexpr size_t srtp_max_trailer = 148;  // SRTP_MAX_TRAILER_LEN, + 4 for SRTCP's index

class srtp_session {
 public:
  enum class direction { outbound, inbound };
  // key_salt: 30 bytes (AES-CM) or 28 (GCM), as sdp::decode_key_salt returns it.
  static std::variant<srtp_session, std::string> create(sdp::crypto_suite suite, std::span<const uint8_t> key_salt,
                                                        direction dir);
  srtp_session(srtp_session&& other) noexcept;
  srtp_session& operator=(srtp_session&& other) noexcept;
  ~srtp_session();
  srtp_session(const srtp_session&) = delete;
  srtp_session& operator=(const srtp_session&) = delete;

  enum class result { ok, auth_failed, replayed, malformed };
  // In place: `len` is the packet's length before and after; `buffer` must have room for
  // the trailer (srtp_max_trailer) beyond len.
  result protect(std::span<std::byte> buffer, size_t& len);
  result unprotect(std::span<std::byte> buffer, size_t& len);
  result protect_rtcp(std::span<std::byte> buffer, size_t& len);
  result unprotect_rtcp(std::span<std::byte> buffer, size_t& len);

 private:
  srtp_session() = default;
  srtp_ctx_t_* ctx_ = nullptr;
};

}  // namespace hotline::rtp
