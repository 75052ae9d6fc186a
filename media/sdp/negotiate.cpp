#include "media/sdp/negotiate.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>
#include <system_error>

namespace hotline::sdp {
namespace {


// Encoding names are MIME subtypes, compared case-insensitively (RFC 4855 §3): equals_nocase.

bool is_named(const codec& c, std::string_view name) { return equals_nocase(c.name, name); }

// Reasons end up in logs and SIP Warning headers: keep the peer's text in them short.
std::string clipped(std::string_view peer_text) {
  constexpr size_t max_echo = 32;
  return std::string(peer_text.substr(0, max_echo)) + (peer_text.size() > max_echo ? "..." : "");
}

template <typename T>
std::optional<T> parse_uint(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const std::byte> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t chunk = std::to_integer<uint32_t>(in[i]) << 16;
    if (i + 1 < in.size()) chunk |= std::to_integer<uint32_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) chunk |= std::to_integer<uint32_t>(in[i + 2]);
    out += base64_alphabet[(chunk >> 18) & 63];
    out += base64_alphabet[(chunk >> 12) & 63];
    out += i + 1 < in.size() ? base64_alphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < in.size() ? base64_alphabet[chunk & 63] : '=';
  }
  return out;
}

// Padding is optional: RFC 4568 keys are 40 characters for 30 bytes, and some phones
// drop the "==" of a 28-byte GCM key.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view in) {
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (pad > 0 && in.size() % 4 != 0) return std::nullopt;
  in.remove_suffix(pad);
  if (in.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    size_t v = base64_alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<uint8_t>((bits >> count) & 0xff));
    }
  }
  return out;
}

uint64_t random_u64(const random_bytes& random) {
  std::array<std::byte, 8> b{};
  random(b);
  uint64_t v = 0;
  for (auto x : b) v = (v << 8) | std::to_integer<uint64_t>(x);
  return v & 0x7fffffffffffffffULL;  // some stacks read o= numbers into a signed 64-bit
}

crypto fresh_crypto(uint32_t tag, crypto_suite suite, const random_bytes& random) {
  std::vector<std::byte> key(key_salt_length(suite));
  random(key);
  return crypto{.tag = tag, .suite = suite, .suite_name = std::string(suite_name(suite)),
                .key_salt_base64 = base64_encode(key)};
}

bool lifetime_ok(std::string_view lifetime) {
  constexpr uint64_t minimum = uint64_t{1} << 31;
  if (lifetime.empty()) return true;
  if (lifetime.substr(0, 2) == "2^") {
    auto exponent = parse_uint<uint32_t>(lifetime.substr(2));
    return exponent ? *exponent >= 31 : lifetime.size() > 12;  // overflowed: huge
  }
  if (lifetime.find_first_not_of("0123456789") != std::string_view::npos) return false;
  auto packets = parse_uint<uint64_t>(lifetime);
  return packets ? *packets >= minimum : true;  // overflowed: more than 2^64
}

// RFC 3551 §4.5 clock rates of the codecs we run; any other name in the preference list
// is trusted as the operator configured it.
bool codec_matches(const codec& c, std::string_view wanted) {
  if (!is_named(c, wanted)) return false;
  if (equals_nocase(wanted, "opus")) return c.clock_rate == 48000;  // RFC 7587 §7
  for (std::string_view narrow : {"PCMU", "PCMA", "G722", "G729"})
    if (equals_nocase(wanted, narrow)) return c.clock_rate == 8000;
  return true;
}

// RFC 3264 §6.1 lets the answerer pick from the offer; we pick by our own preference so
// that every call prefers wideband when both sides can.
const codec* choose_codec(const media_description& m, const endpoint_policy& policy) {
  for (const auto& wanted : policy.codec_preference)
    for (const auto& c : m.codecs)
      if (codec_matches(c, wanted)) return &c;
  return nullptr;
}

const codec* find_telephone_event(const media_description& m, uint32_t clock_rate) {
  for (const auto& c : m.codecs)
    if (is_named(c, "telephone-event") && c.clock_rate == clock_rate) return &c;
  return nullptr;
}

constexpr std::string_view opus_fmtp = "maxplaybackrate=48000;stereo=0;useinbandfec=1";
constexpr std::string_view telephone_event_fmtp = "0-16";  // DTMF digits and flash (RFC 4733 §3.2)

void read_opus_fmtp(std::string_view fmtp, negotiated& out) {
  while (!fmtp.empty()) {
    size_t semi = fmtp.find(';');
    std::string_view param = fmtp.substr(0, semi);
    fmtp.remove_prefix(semi == std::string_view::npos ? fmtp.size() : semi + 1);
    param.remove_prefix(std::min(param.find_first_not_of(' '), param.size()));
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = param.substr(0, eq);
    std::string_view value = param.substr(eq + 1);
    value = value.substr(0, value.find(' '));
    if (equals_nocase(name, "maxplaybackrate")) {
      if (auto rate = parse_uint<uint32_t>(value)) out.opus_maxplaybackrate = std::clamp<uint32_t>(*rate, 8000, 48000);
    } else if (equals_nocase(name, "useinbandfec")) {
      out.opus_useinbandfec = value == "1";
    } else if (equals_nocase(name, "stereo")) {
      out.opus_stereo = value == "1";
    }
  }
}

bool sends(direction d) { return d == direction::sendrecv || d == direction::sendonly; }
bool receives(direction d) { return d == direction::sendrecv || d == direction::recvonly; }

direction make_direction(bool send, bool receive) {
  if (send && receive) return direction::sendrecv;
  if (send) return direction::sendonly;
  if (receive) return direction::recvonly;
  return direction::inactive;
}

// The peer's a=ptime is what it wants to receive (RFC 4566 §6); packet sizes every codec we
// run can produce, capped by its a=maxptime.
uint32_t send_ptime(const media_description& remote, const endpoint_policy& policy) {
  uint32_t ptime = policy.ptime_ms ? policy.ptime_ms : 20;
  if (remote.ptime_ms >= 10 && remote.ptime_ms <= 120 && remote.ptime_ms % 10 == 0) ptime = remote.ptime_ms;
  if (remote.maxptime_ms >= 10 && ptime > remote.maxptime_ms) ptime = remote.maxptime_ms / 10 * 10;
  return ptime;
}

uint16_t rtcp_port_of(const media_description& m, bool mux) {
  if (mux) return m.port;
  if (m.rtcp_port) return *m.rtcp_port;
  return m.port < 65535 ? static_cast<uint16_t>(m.port + 1) : 0;  // RFC 4566 §5.14
}

bool supported_proto(std::string_view proto) {
  // AVPF without feedback messages interworks as AVP (RFC 4585); DTLS-SRTP (UDP/TLS/...)
  // is not ours.
  return proto == "RTP/AVP" || proto == "RTP/AVPF" || proto == "RTP/SAVP" || proto == "RTP/SAVPF";
}

bool secure_proto(std::string_view proto) { return proto.find("SAVP") != std::string_view::npos; }

const media_description* first_active_audio(const session_description* sd) {
  if (!sd) return nullptr;
  for (const auto& m : sd->media)
    if (m.media == "audio" && m.port != 0) return &m;
  return nullptr;
}

struct srtp_choice {
  const crypto* remote = nullptr;  // nullptr and no failure: plain RTP
  std::string failure;
};

// RFC 4568 §7.1.2: the answerer takes the first crypto line it supports. An RTP/AVP offer
// with crypto is "best effort" SRTP (baresip mediaenc=srtp, Linphone, Asterisk): taken
// when we can, ignored otherwise.
srtp_choice choose_srtp(const media_description& m, srtp_policy policy) {
  bool savp = secure_proto(m.proto);
  if (policy == srtp_policy::off) return {nullptr, savp ? "SRTP is not enabled" : ""};
  for (const auto& c : m.cryptos)
    if (!unusable_crypto_reason(c)) return {&c, ""};
  if (savp) return {nullptr, m.cryptos.empty() ? "RTP/SAVP offered without a=crypto" : "no usable crypto suite"};
  if (policy == srtp_policy::required) return {nullptr, "SRTP required"};
  return {};
}

// RFC 3264 §6: a stream we do not take stays in its place with port 0.
media_description rejected(const media_description& offered, const local_media& local) {
  media_description m{.media = offered.media, .port = 0, .proto = offered.proto, .formats = offered.formats};
  for (const auto& c : offered.codecs)
    m.codecs.push_back(codec{c.payload_type, c.name, c.clock_rate, c.channels, ""});
  m.connection_address = local.address;
  m.ipv6 = local.ipv6;
  m.dir = direction::inactive;
  return m;
}

struct accepted_stream {
  media_description answer;
  negotiated session;
};

std::variant<accepted_stream, std::string> answer_audio(const media_description& m, const endpoint_policy& policy,
                                                        const local_media& local, const random_bytes& random,
                                                        const crypto* previous_local_crypto) {
  if (m.connection_address.empty()) return std::string("no connection address");
  auto srtp = choose_srtp(m, policy.srtp);
  if (!srtp.failure.empty()) return srtp.failure;
  const codec* chosen = choose_codec(m, policy);
  if (!chosen) return std::string("no common codec");
  const codec* event = find_telephone_event(m, chosen->clock_rate);

  accepted_stream out;
  negotiated& s = out.session;
  s.audio = *chosen;
  if (is_named(*chosen, "opus")) read_opus_fmtp(chosen->fmtp, s);
  if (event) s.telephone_event = *event;
  s.remote_address = m.connection_address;
  s.remote_port = m.port;
  s.rtcp_mux = m.rtcp_mux;  // RFC 5761 §5.1.1: only when offered
  s.remote_rtcp_port = rtcp_port_of(m, s.rtcp_mux);
  // RFC 3264 §6.1 mirrors the direction; an old-style hold (c=0.0.0.0, §8.4) means the
  // peer receives nothing, whatever the attribute says.
  bool peer_receives = receives(m.dir) && !is_hold_address(m.connection_address);
  s.local_direction = make_direction(peer_receives, sends(m.dir));
  s.ptime_ms = send_ptime(m, policy);

  media_description& a = out.answer;
  a.media = m.media;
  a.port = local.port;
  a.proto = m.proto;  // mirrored, also RTP/AVP with crypto
  codec answered = *chosen;
  if (is_named(answered, "opus")) {
    answered.channels = 2;
    answered.fmtp = std::string(opus_fmtp);
  }
  a.codecs.push_back(std::move(answered));
  if (event) a.codecs.push_back(codec{event->payload_type, event->name, event->clock_rate, 1, std::string(telephone_event_fmtp)});
  a.connection_address = local.address;
  a.ipv6 = local.ipv6;
  a.dir = s.local_direction;
  a.rtcp_mux = s.rtcp_mux;
  a.ptime_ms = policy.ptime_ms;
  if (srtp.remote) {
    const crypto& r = *srtp.remote;
    bool keep = previous_local_crypto && previous_local_crypto->tag == r.tag && previous_local_crypto->suite == r.suite;
    crypto ours = keep ? *previous_local_crypto : fresh_crypto(r.tag, r.suite, random);
    s.local_crypto = ours;
    s.remote_crypto = r;
    a.cryptos.push_back(std::move(ours));
  }
  return out;
}

// RFC 3264 §8: a re-offer or re-answer keeps the o= session id, and its version grows by
// one exactly when the description changed.
void continue_origin(session_description& sd, const session_description* previous) {
  if (!previous) return;
  sd.origin_username = previous->origin_username;
  sd.session_id = previous->session_id;
  sd.session_version = previous->session_version;
  if (!(sd == *previous)) sd.session_version = previous->session_version + 1;
}

session_description base_description(const local_media& local, const random_bytes& random) {
  session_description sd;
  sd.origin_username = "hotline";
  sd.session_id = random_u64(random);
  sd.session_version = 1;
  sd.origin_address = local.address;
  sd.origin_ipv6 = local.ipv6;
  sd.session_name = "-";
  sd.connection_address = local.address;
  sd.connection_ipv6 = local.ipv6;
  return sd;
}

struct offer_codec {
  std::string_view name;
  uint8_t payload_type;
  uint32_t clock_rate;
  uint8_t channels;
  std::string_view fmtp;
};
constexpr std::array<offer_codec, 4> offer_codecs{{
    {"opus", 111, 48000, 2, opus_fmtp},  // 111: what most phones and browsers use
    {"PCMA", 8, 8000, 1, ""},
    {"PCMU", 0, 8000, 1, ""},
    {"G722", 9, 8000, 1, ""},
}};

// The answerer's first voice codec is what it wants to receive (RFC 3264 §6.1); it must be
// one of ours, under the number we gave it. Returns why not, or "".
std::string take_answered_codec(const media_description& ours, const media_description& theirs, negotiated& s) {
  const codec* offered = nullptr;
  for (const auto& c : theirs.codecs) {
    if (is_named(c, "telephone-event") || is_named(c, "CN")) continue;
    offered = find_codec(ours, c.payload_type);
    std::string pt = std::to_string(c.payload_type);
    if (!offered) return "the answer chose payload type " + pt + ", which we did not offer";
    // An answer may leave out the rtpmap of a type it takes from the offer as is.
    if (!c.name.empty() && (!is_named(c, offered->name) || c.clock_rate != offered->clock_rate))
      return "the answer maps payload type " + pt + " to " + clipped(c.name) + ", we offered " + offered->name;
    s.audio = c;
    if (c.name.empty()) {
      s.audio.name = offered->name;
      s.audio.clock_rate = offered->clock_rate;
      s.audio.channels = offered->channels;
    }
    break;
  }
  if (!offered) return "the answer has no audio codec";
  if (is_named(s.audio, "opus")) read_opus_fmtp(s.audio.fmtp, s);
  if (const codec* event = find_telephone_event(theirs, s.audio.clock_rate)) {
    const codec* mine = find_codec(ours, event->payload_type);
    if (mine && is_named(*mine, "telephone-event")) s.telephone_event = *event;
  }
  return "";
}

// RFC 4568 §7.1.3: the answer carries exactly one crypto line, with the tag and suite of
// one we offered. Returns why it cannot be used, or "".
std::string take_answered_crypto(const media_description& ours, const media_description& theirs,
                                 const endpoint_policy& policy, negotiated& s) {
  if (theirs.cryptos.empty()) {
    if (secure_proto(ours.proto)) return "the answer has no a=crypto for " + ours.proto;
    if (policy.srtp == srtp_policy::required) return "SRTP required";
    return "";  // best-effort SRTP declined: plain RTP
  }
  if (ours.cryptos.empty()) return "the answer has a=crypto but we offered none";
  if (theirs.cryptos.size() > 1) return "the answer has more than one a=crypto";
  const crypto& remote = theirs.cryptos.front();
  auto mine = std::find_if(ours.cryptos.begin(), ours.cryptos.end(),
                           [&](const crypto& c) { return c.tag == remote.tag; });
  std::string tag = std::to_string(remote.tag);
  if (mine == ours.cryptos.end()) return "the answer's crypto tag " + tag + " was not offered";
  if (mine->suite != remote.suite || remote.suite == crypto_suite::unknown)
    return "the answer's crypto tag " + tag + " names another suite";
  if (const char* why = unusable_crypto_reason(remote)) return std::string("the answer's crypto: ") + why;
  s.local_crypto = *mine;
  s.remote_crypto = remote;
  return "";
}

}  // namespace

size_t key_salt_length(crypto_suite s) {
  switch (s) {
    case crypto_suite::aes_cm_128_hmac_sha1_80:
    case crypto_suite::aes_cm_128_hmac_sha1_32: return 30;  // 16 key + 14 salt (RFC 4568 §6.2)
    case crypto_suite::aead_aes_128_gcm: return 28;          // 16 key + 12 salt (RFC 7714 §12)
    case crypto_suite::unknown: return 0;
  }
  return 0;
}

std::optional<std::vector<uint8_t>> decode_key_salt(const crypto& c) {
  size_t length = key_salt_length(c.suite);
  if (length == 0) return std::nullopt;
  auto bytes = base64_decode(c.key_salt_base64);
  if (!bytes || bytes->size() != length) return std::nullopt;
  return bytes;
}

const char* unusable_crypto_reason(const crypto& c) {
  if (c.suite == crypto_suite::unknown) return "unknown crypto suite";
  if (!decode_key_salt(c)) return "key||salt is not the suite's length";
  if (!c.mki.empty()) return "MKI is not supported";
  if (!lifetime_ok(c.lifetime)) return "key lifetime under 2^31 packets";
  if (!c.session_params.empty()) return "session parameters are not supported";
  return nullptr;
}

std::variant<answer_result, negotiation_error> answer_offer(const session_description& offer,
                                                            const endpoint_policy& policy,
                                                            const local_media& local,
                                                            const random_bytes& random,
                                                            const session_description* previous_answer) {
  answer_result result;
  result.answer = base_description(local, random);
  const media_description* previous_audio = first_active_audio(previous_answer);
  // Only a key we could have generated is worth keeping (previous_answer is normally ours).
  const crypto* previous_crypto = previous_audio && !previous_audio->cryptos.empty() &&
                                          !unusable_crypto_reason(previous_audio->cryptos.front())
                                      ? &previous_audio->cryptos.front()
                                      : nullptr;

  bool accepted = false;
  std::string failure;
  for (const auto& m : offer.media) {
    // One audio stream is all a contact-center call carries; the first acceptable one wins.
    bool candidate = !accepted && m.media == "audio" && m.port != 0;
    if (candidate && !supported_proto(m.proto)) {
      if (failure.empty()) failure = "transport " + clipped(m.proto) + " is not supported";
      candidate = false;
    }
    if (!candidate) {
      result.answer.media.push_back(rejected(m, local));
      continue;
    }
    auto stream = answer_audio(m, policy, local, random, previous_crypto);
    if (auto* why = std::get_if<std::string>(&stream)) {
      if (failure.empty()) failure = std::move(*why);
      result.answer.media.push_back(rejected(m, local));
      continue;
    }
    auto& ok = std::get<accepted_stream>(stream);
    result.answer.media.push_back(std::move(ok.answer));
    result.session = std::move(ok.session);
    accepted = true;
  }
  if (!accepted) return negotiation_error{488, failure.empty() ? "no audio stream" : failure};
  continue_origin(result.answer, previous_answer);
  return result;
}

session_description make_offer(const endpoint_policy& policy, const local_media& local, const random_bytes& random,
                               const session_description* previous_offer, direction dir) {
  session_description sd = base_description(local, random);
  // Best-effort SRTP rides on RTP/AVP: an RTP/SAVP offer is refused outright by phones
  // without SRTP, and SDP capability negotiation (RFC 5939) is rarely implemented, so
  // "optional" would otherwise mean "plain" for half the phones and "failed" for the rest.
  media_description m{.media = "audio", .port = local.port,
                      .proto = policy.srtp == srtp_policy::required ? "RTP/SAVP" : "RTP/AVP"};
  for (const auto& wanted : policy.codec_preference)
    for (const auto& known : offer_codecs)
      if (equals_nocase(wanted, known.name) && !find_codec(m, known.payload_type))
        m.codecs.push_back(codec{known.payload_type, std::string(known.name), known.clock_rate, known.channels,
                                 std::string(known.fmtp)});
  // An empty or unknown preference list is a configuration slip; every phone has PCMU.
  if (m.codecs.empty()) m.codecs.push_back(codec{0, "PCMU", 8000, 1, ""});
  bool wideband = std::any_of(m.codecs.begin(), m.codecs.end(), [](const codec& c) { return c.clock_rate == 48000; });
  bool narrowband = std::any_of(m.codecs.begin(), m.codecs.end(), [](const codec& c) { return c.clock_rate == 8000; });
  if (wideband) m.codecs.push_back(codec{101, "telephone-event", 48000, 1, std::string(telephone_event_fmtp)});
  if (narrowband) m.codecs.push_back(codec{100, "telephone-event", 8000, 1, std::string(telephone_event_fmtp)});
  m.connection_address = local.address;
  m.ipv6 = local.ipv6;
  m.dir = dir;
  m.rtcp_mux = policy.offer_rtcp_mux;
  m.ptime_ms = policy.ptime_ms;
  if (policy.srtp != srtp_policy::off) {
    const media_description* previous = first_active_audio(previous_offer);
    uint32_t tag = 1;
    for (auto suite : {crypto_suite::aes_cm_128_hmac_sha1_80, crypto_suite::aes_cm_128_hmac_sha1_32,
                       crypto_suite::aead_aes_128_gcm}) {
      const crypto* kept = nullptr;
      if (previous)
        for (const auto& c : previous->cryptos)
          if (c.suite == suite && c.tag == tag && !unusable_crypto_reason(c)) kept = &c;
      m.cryptos.push_back(kept ? *kept : fresh_crypto(tag, suite, random));
      ++tag;
    }
  }
  sd.media.push_back(std::move(m));
  continue_origin(sd, previous_offer);
  return sd;
}

std::variant<negotiated, negotiation_error> accept_answer(const session_description& our_offer,
                                                          const session_description& answer,
                                                          const endpoint_policy& policy) {
  auto fail = [](std::string reason) { return negotiation_error{488, std::move(reason)}; };
  if (answer.media.size() != our_offer.media.size())  // RFC 3264 §6
    return fail("the answer has " + std::to_string(answer.media.size()) + " m= lines, the offer had " +
                std::to_string(our_offer.media.size()));
  size_t index = our_offer.media.size();
  for (size_t i = 0; i < our_offer.media.size(); ++i) {
    if (answer.media[i].media != our_offer.media[i].media)
      return fail("m= line " + std::to_string(i + 1) + " of the answer is not " + our_offer.media[i].media);
    if (index == our_offer.media.size() && our_offer.media[i].media == "audio" && our_offer.media[i].port != 0)
      index = i;
  }
  if (index == our_offer.media.size()) return fail("our offer has no audio stream");
  const media_description& ours = our_offer.media[index];
  const media_description& theirs = answer.media[index];
  if (theirs.port == 0) return fail("the answer rejected the audio stream");
  if (theirs.proto != ours.proto) return fail("the answer changed the transport to " + clipped(theirs.proto));
  if (theirs.connection_address.empty()) return fail("the answer has no connection address");

  negotiated s;
  if (auto why = take_answered_codec(ours, theirs, s); !why.empty()) return fail(std::move(why));
  if (auto why = take_answered_crypto(ours, theirs, policy, s); !why.empty()) return fail(std::move(why));
  s.remote_address = theirs.connection_address;
  s.remote_port = theirs.port;
  s.rtcp_mux = ours.rtcp_mux && theirs.rtcp_mux;
  s.remote_rtcp_port = rtcp_port_of(theirs, s.rtcp_mux);
  bool we_send = sends(ours.dir) && receives(theirs.dir) && !is_hold_address(theirs.connection_address);
  bool we_receive = receives(ours.dir) && sends(theirs.dir);
  s.local_direction = make_direction(we_send, we_receive);
  s.ptime_ms = send_ptime(theirs, policy);
  return s;
}

}  // namespace hotline::sdp
