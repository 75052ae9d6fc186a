#pragma once
// SDP offer/answer (RFC 3264) for one audio stream, with SDES-SRTP keying (RFC 4568).
// Pure functions over session_description values: the call actor keeps the last offer and
// answer, the media engine gets a `negotiated`. Randomness (session ids, SRTP keys) is
// injected so tests are deterministic; production passes OpenSSL's RAND_bytes.
//
// What we accept: one audio stream over RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF; every
// other stream (video, T.38, DTLS-SRTP, a second audio) is answered with port 0. Crypto
// lines are skipped when the suite is not one of the three below, the key||salt does not
// decode to the suite's length, or they carry an MKI, a lifetime under 2^31 packets or
// any session parameter (KDR, UNENCRYPTED_*, FEC_*, WSH): our SRTP contexts use none of
// these, and a lifetime of 2^31 packets at 50 packets/s is over a year.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/sdp/session.hpp"

namespace hotline::sdp {

enum class srtp_policy {
  off,       // plain RTP only; an RTP/SAVP-only offer gets 488
  optional,  // SRTP whenever the peer offers or accepts it
  required,  // 488 when the peer does not offer or accept SRTP
};

struct endpoint_policy {
  std::vector<std::string> codec_preference = {"opus", "PCMA", "PCMU"};  // also known: "G722"
  srtp_policy srtp = srtp_policy::optional;
  uint32_t ptime_ms = 20;  // what we ask to receive; 0: no a=ptime (and we send 20 ms)
  bool offer_rtcp_mux = true;
};

struct local_media {  // our RTP socket; without rtcp-mux RTCP is on port + 1
  std::string address;
  bool ipv6 = false;
  uint16_t port = 0;
};

// Fills the span with cryptographically strong random bytes (RAND_bytes in production).
using random_bytes = std::function<void(std::span<std::byte>)>;

// What the media engine needs for the stream.
struct negotiated {
  codec audio;  // payload type, name and rate as the peer writes them; fmtp: the peer's
  std::optional<codec> telephone_event;  // same clock rate as `audio` (RFC 4733)
  std::string remote_address;            // 0.0.0.0 when the peer holds the old way
  uint16_t remote_port = 0;
  uint16_t remote_rtcp_port = 0;  // = remote_port with rtcp-mux; 0: none (port 65535 without a=rtcp)
  bool rtcp_mux = false;
  direction local_direction = direction::sendrecv;  // what we do: sendonly = we send, do not expect
  uint32_t ptime_ms = 20;                           // what we send with
  std::optional<crypto> local_crypto;   // we encrypt with this (our key)
  std::optional<crypto> remote_crypto;  // we decrypt with this (the peer's key)
  // Opus (RFC 7587 §6.1): what the peer says about what it receives.
  uint32_t opus_maxplaybackrate = 48000;
  bool opus_useinbandfec = false;
  bool opus_stereo = false;

  bool operator==(const negotiated&) const = default;
};

struct answer_result {
  session_description answer;
  negotiated session;
};

struct negotiation_error {
  int sip_status = 488;
  std::string reason;  // "no common codec", "SRTP required", ...
};

// We are the answerer (incoming INVITE with SDP, or a re-INVITE). With `previous_answer`
// (re-INVITE): same o= session id and username, version + 1 when anything changed (RFC
// 3264 §8), and our SRTP key is kept while the peer still offers the tag and suite we
// answered last time (the peer's key is always taken from the new offer).
std::variant<answer_result, negotiation_error> answer_offer(const session_description& offer,
                                                            const endpoint_policy& policy,
                                                            const local_media& local,
                                                            const random_bytes& random,
                                                            const session_description* previous_answer = nullptr);

// We are the offerer (outgoing INVITE, or a re-INVITE for hold: dir = sendonly, unhold:
// sendrecv). With `previous_offer`: same session id, version + 1 when anything changed,
// and the same SRTP keys.
session_description make_offer(const endpoint_policy& policy, const local_media& local,
                               const random_bytes& random, const session_description* previous_offer = nullptr,
                               direction dir = direction::sendrecv);

// Checks the peer's answer against what we offered and says what to run.
std::variant<negotiated, negotiation_error> accept_answer(const session_description& our_offer,
                                                          const session_description& answer,
                                                          const endpoint_policy& policy);

// The raw key||salt for the SRTP library, or nullopt when the inline key is not valid
// base64 of exactly the suite's length (30 bytes for AES_CM_128_*, 28 for AEAD_AES_128_GCM).
std::optional<std::vector<uint8_t>> decode_key_salt(const crypto& c);
size_t key_salt_length(crypto_suite s);  // 0 for unknown

// Why a crypto line cannot be used, or nullptr when it can.
const char* unusable_crypto_reason(const crypto& c);

}  // namespace hotline::sdp
