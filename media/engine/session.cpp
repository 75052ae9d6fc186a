#include "media/engine/session.hpp"

#include <arpa/inet.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "media/codec/g711.hpp"
#include "media/codec/resampler.hpp"
#include "media/prompt/library.hpp"
#include "media/rtp/packet.hpp"

namespace hotline::media::detail {
namespace {

template <class T>
T random_value() {
  T v{};
  if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = static_cast<T>(reinterpret_cast<uintptr_t>(&v));
  return v;
}

// RTP clock units from the monotonic clock (no overflow for centuries of uptime).
uint64_t clock_units(int64_t now_ns, uint32_t clock) {
  return static_cast<uint64_t>(now_ns / 1000) * (clock / 1000) / 1000;
}

std::optional<endpoint> make_endpoint(const std::string& address, uint16_t port) {
  endpoint e;
  if (port == 0 || address.empty() || address == "0.0.0.0" || address == "::") return std::nullopt;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.len = sizeof(sockaddr_in);
    return e;
  }
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  return std::nullopt;  // a host name: SDP from our peers carries addresses
}

constexpr int64_t relatch_after_ns = 2'000'000'000;  // NAT rebinding: the old source silent 2 s

}  // namespace

bool endpoint::same(const sockaddr_storage& a, socklen_t l) const {
  if (l != len || a.ss_family != addr.ss_family) return false;
  if (a.ss_family == AF_INET) {
    auto& x = reinterpret_cast<const sockaddr_in&>(a);
    auto& y = reinterpret_cast<const sockaddr_in&>(addr);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  auto& y = reinterpret_cast<const sockaddr_in6&>(addr);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

std::string endpoint::to_string() const {
  if (!len) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port));
  }
  auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
  inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a.sin6_port));
}

session::session(session_id id, uint32_t mix_rate, event_sink sink, const engine_config& config, packet_io& io)
    : id_(id),
      mix_rate_(mix_rate),
      frame_(mix_rate / 50),
      sink_(std::move(sink)),
      config_(config),
      io_(io),
      legs_(max_call_legs),
      mixer_(mix_rate / 50),
      base_(mix::preset(mix::mode::bridge)),
      playback_to_(max_call_legs, false),
      playback_pcm_(mix_rate / 50),
      silence_(mix_rate / 50),
      activity_(config.dead_air_ms, config.talk_over_ms),
      packet_(2048) {
  mixer_.set(base_);
}

session::~session() {
  for (auto& l : legs_) {
    if (!l) continue;
    if (l->rtp_fd >= 0) ::close(l->rtp_fd);
    if (l->rtcp_fd >= 0) ::close(l->rtcp_fd);
  }
}

void session::emit(media_event e) {
  e.session = id_;
  if (sink_) sink_(e);
}

leg* session::add_leg(leg_role role, int rtp_fd, int rtcp_fd, bool ipv6) {
  auto& slot = legs_[static_cast<size_t>(role)];
  if (slot) return nullptr;  // the thread closes the fds
  slot = std::make_unique<leg>();
  leg& l = *slot;
  l.owner = this;
  l.role = role;
  l.rtp_fd = rtp_fd;
  l.rtcp_fd = rtcp_fd;
  l.ipv6 = ipv6;
  l.rtp_ref = {&l, false};
  l.rtcp_ref = {&l, true};
  l.ssrc = random_value<uint32_t>();
  l.sequence = random_value<uint16_t>();
  l.timestamp = random_value<uint32_t>();
  l.in_pcm.assign(frame_, 0);
  l.out_pcm.assign(frame_, 0);
  return &l;
}

std::unique_ptr<leg> session::remove_leg(leg_role role) {
  auto l = std::move(legs_[static_cast<size_t>(role)]);
  if (l && l->configured) closed_reports_.push_back(report(*l));  // the call record keeps every leg
  playback_to_[static_cast<size_t>(role)] = false;
  return l;
}

void session::configure(leg_role role, const sdp::negotiated& m, uint32_t source_bandwidth_hz, int64_t now_ns) {
  leg* lp = find(role);
  if (!lp) return;
  hold_direct();  // codec, direction or keys may change: the next tick decides again
  leg& l = *lp;
  auto fail = [&](std::string why) {
    l.configured = false;
    media_event e;
    e.what = media_event::kind::leg_error;
    e.leg = role;
    e.detail = std::move(why);
    emit(std::move(e));
  };
  auto k = codec::kind_of(m.audio.name, m.audio.clock_rate);
  if (!k) return fail("unsupported codec " + m.audio.name + "/" + std::to_string(m.audio.clock_rate));
  bool same_codec = l.codec && l.codec->codec() == *k && l.configured;
  if (!same_codec) {
    codec::codec_params p;
    p.codec = *k;
    p.pcm_rate = mix_rate_;
    p.ptime_ms = 20;  // the tick: we send 20 ms frames whatever ptime asks for
    p.fec = m.opus_useinbandfec;
    p.max_playback_rate = m.opus_maxplaybackrate;
    p.source_bandwidth_hz = source_bandwidth_hz;
    p.complexity = config_.opus_complexity;
    p.narrowband_complexity = config_.opus_narrowband_complexity;
    auto c = codec::audio_codec::create(p);
    if (auto* err = std::get_if<std::string>(&c)) return fail(*err);
    l.codec = std::move(std::get<0>(c));
    rtp::jitter_config jc;
    jc.clock_rate = l.codec->rtp_clock();
    jc.frame_samples = l.codec->rtp_samples_per_frame();
    l.jitter = std::make_unique<rtp::jitter_buffer>(jc);
    l.rtp_clock = l.codec->rtp_clock();
  } else if (source_bandwidth_hz) {
    l.codec->set_source_bandwidth(source_bandwidth_hz);
  }
  // SRTP: keep the contexts (replay window, rollover counter) while the keys stay.
  bool want_srtp = m.local_crypto && m.remote_crypto;
  bool keys_same = l.configured && l.media.local_crypto == m.local_crypto && l.media.remote_crypto == m.remote_crypto;
  if (!want_srtp) {
    l.srtp_out.reset();
    l.srtp_in.reset();
  } else if (!keys_same || !l.srtp_out) {
    auto out_key = sdp::decode_key_salt(*m.local_crypto);
    auto in_key = sdp::decode_key_salt(*m.remote_crypto);
    if (!out_key || !in_key) return fail("SRTP key does not decode");
    auto out = rtp::srtp_session::create(m.local_crypto->suite, *out_key, rtp::srtp_session::direction::outbound);
    auto in = rtp::srtp_session::create(m.remote_crypto->suite, *in_key, rtp::srtp_session::direction::inbound);
    if (auto* err = std::get_if<std::string>(&out)) return fail(*err);
    if (auto* err = std::get_if<std::string>(&in)) return fail(*err);
    l.srtp_out.emplace(std::move(std::get<0>(out)));
    l.srtp_in.emplace(std::move(std::get<0>(in)));
  }
  // Where to send: the SDP's address until the peer's own packets show where it is.
  bool address_same = l.configured && l.media.remote_address == m.remote_address && l.media.remote_port == m.remote_port;
  if (!address_same) {
    auto r = make_endpoint(m.remote_address, m.remote_port);
    l.remote = r ? *r : endpoint{};
    l.latched = false;
    auto rc = m.rtcp_mux ? r : make_endpoint(m.remote_address, m.remote_rtcp_port);
    l.remote_rtcp = rc ? *rc : endpoint{};
    l.rtcp_latched = false;
  }
  l.payload_type = m.audio.payload_type;
  l.dtmf_pt = m.telephone_event ? std::optional<uint8_t>(m.telephone_event->payload_type) : std::nullopt;
  if (!same_codec || !l.dtmf_rx) {
    l.dtmf_rx.emplace(dtmf::telephone_event_receiver::config{l.rtp_clock, 60});
    dtmf::telephone_event_sender::config tx;
    tx.clock_rate = l.rtp_clock;
    l.dtmf_tx.emplace(tx);
  }
  // A trunk without telephone-event sends its tones in the audio: listen for them there
  // (G.711 in a narrowband session, where the decoded frame is 8 kHz already).
  bool inband = !l.dtmf_pt && *k != codec::kind::opus && mix_rate_ == 8000;
  if (inband && !l.inband) l.inband.emplace();
  if (!inband) l.inband.reset();
  l.sends = m.local_direction == sdp::direction::sendrecv || m.local_direction == sdp::direction::sendonly;
  l.expects = m.local_direction == sdp::direction::sendrecv || m.local_direction == sdp::direction::recvonly;
  if (!l.configured) {
    l.next_rtcp_ns = now_ns + config_.rtcp_interval.count() * 500'000;  // the first report after half an interval
    l.marker_next = true;
  }
  if (!l.sends) l.marker_next = true;  // the first packet after hold starts a talkspurt
  l.watch_since_ns = now_ns;
  l.timed_out = false;
  l.media = m;
  l.configured = true;
}

void session::set_mix(const mix::matrix& m) {
  base_ = m;
  apply_matrix();
}

void session::apply_matrix() {
  hold_direct();  // who hears whom may change: the next tick decides again
  mix::matrix m = base_;
  for (size_t i = 0; i < max_call_legs; ++i) m[i][mix::playback] = (clip_ && playback_to_[i]) ? 1.0f : 0.0f;
  mixer_.set(m);
}

void session::play(std::shared_ptr<const pcm_clip> clip, const std::vector<leg_role>& to, bool loop) {
  if (clip && clip->rate != mix_rate_) {
    // Prompts should be loaded at the mix rate; a clip that is not is converted once here.
    auto c = std::make_shared<pcm_clip>();
    c->rate = mix_rate_;
    c->samples = prompt::resample_clip(clip->samples, clip->rate, mix_rate_);
    clip = std::move(c);
  }
  clip_ = clip && !clip->samples.empty() ? std::move(clip) : nullptr;
  clip_pos_ = 0;
  loop_ = loop;
  std::fill(playback_to_.begin(), playback_to_.end(), false);
  for (leg_role r : to) playback_to_[static_cast<size_t>(r)] = true;
  apply_matrix();
}

void session::stop_playback() {
  clip_.reset();
  apply_matrix();
}

void session::send_dtmf(leg_role role, const std::string& digits) {
  leg* l = find(role);
  if (!l) return;
  if (!l->dtmf_pt || !l->dtmf_tx) {
    media_event e;
    e.what = media_event::kind::leg_error;
    e.leg = role;
    e.detail = "DTMF not sent: the leg negotiated no telephone-event";
    emit(std::move(e));
    return;
  }
  hold_direct();  // the digits replace this leg's audio from the next tick
  if (!l->dtmf_tx->start(digits)) {
    media_event e;
    e.what = media_event::kind::leg_error;
    e.leg = role;
    e.detail = "DTMF not sent: no valid digits, or the queue is full";
    emit(std::move(e));
  }
}

void session::set_tap(tap_sink sink) {
  tap_ = std::move(sink);
  if (tap_ && !tap_codec_) {
    codec::codec_params p;
    p.codec = codec::kind::opus;
    p.pcm_rate = mix_rate_;
    p.complexity = config_.opus_complexity;
    p.narrowband_complexity = config_.opus_narrowband_complexity;
    auto c = codec::audio_codec::create(p);
    if (auto* ok = std::get_if<0>(&c)) tap_codec_ = std::move(*ok);
    tap_pcm_.assign(frame_, 0);
    tap_ts_ = random_value<uint32_t>();
  }
}

void session::on_datagram(leg& l, bool rtcp_socket, std::span<std::byte> data, size_t len, const sockaddr_storage& from,
                          socklen_t from_len, int64_t now_ns, int64_t arrival_ns, engine_stats& stats) {
  ++stats.packets_in;
  if (!l.configured || len < 8) {
    ++l.foreign;
    return;
  }
  auto second = static_cast<uint8_t>(data[1]);
  bool is_rtcp = rtcp_socket || (second >= 192 && second <= 223);  // RFC 5761 §4
  if (l.srtp_in) {
    auto r = is_rtcp ? l.srtp_in->unprotect_rtcp(data, len) : l.srtp_in->unprotect(data, len);
    if (r != rtp::srtp_session::result::ok) {
      if (r == rtp::srtp_session::result::replayed) ++l.replays;
      else {
        ++l.auth_failures;
        ++stats.srtp_auth_failures;
      }
      return;
    }
  }
  if (is_rtcp) {
    if (!l.rtcp_latched || !l.remote_rtcp.valid()) {
      std::memcpy(&l.remote_rtcp.addr, &from, sizeof from);
      l.remote_rtcp.len = from_len;
      l.rtcp_latched = true;
    }
    on_rtcp(l, std::span<const std::byte>(data.data(), len), now_ns);
    return;
  }
  rtp::packet_view pv;
  if (rtp::parse(std::span<const std::byte>(data.data(), len), pv) != rtp::parse_status::ok) {
    ++stats.malformed;
    return;
  }
  bool known_pt = pv.h.payload_type == l.payload_type || (l.dtmf_pt && pv.h.payload_type == *l.dtmf_pt);
  if (!known_pt) {
    ++l.foreign;  // comfort noise, a stray stream: not ours to play
    return;
  }
  // Symmetric RTP: send where the peer really sends from (NAT), once its media proves it.
  if (!l.remote.same(from, from_len)) {
    if (l.latched && now_ns - l.last_from_remote_ns < relatch_after_ns) {
      ++l.foreign;
      return;
    }
    std::memcpy(&l.remote.addr, &from, sizeof from);
    l.remote.len = from_len;
    l.latched = true;
    if (l.media.rtcp_mux) l.remote_rtcp = l.remote;
  }
  l.latched = true;
  l.last_from_remote_ns = now_ns;
  l.last_rx_ns = now_ns;
  if (l.timed_out) {
    l.timed_out = false;
    media_event e;
    e.what = media_event::kind::stream_resumed;
    e.leg = l.role;
    emit(std::move(e));
  }
  if (pv.h.payload_type == l.payload_type) {
    l.rx.on_packet(pv.h.ssrc, pv.h.sequence, pv.h.timestamp, clock_units(arrival_ns, l.rtp_clock));
    auto r = l.jitter->insert(pv.h.sequence, pv.h.timestamp, pv.payload, clock_units(now_ns, l.rtp_clock));
    l.last_audio_ns = now_ns;
    l.last_audio_bytes = pv.payload.size();
    l.last_audio_ssrc = pv.h.ssrc;
    forward_on_arrival(l, pv, r == rtp::jitter_buffer::insert_result::duplicate, now_ns, stats);
  } else {
    on_telephone_event(l, pv.h, pv.payload, now_ns);
  }
}

void session::emit_digit(leg& l, char digit, uint32_t duration_ms) {
  ++l.dtmf_received;
  media_event e;
  e.what = media_event::kind::dtmf;
  e.leg = l.role;
  e.digit = digit;
  e.duration_ms = duration_ms;
  emit(std::move(e));
}

void session::on_telephone_event(leg& l, const rtp::header& h, std::span<const std::byte> payload, int64_t now_ns) {
  if (!l.dtmf_rx) return;
  auto now = static_cast<uint32_t>(clock_units(now_ns, l.rtp_clock));
  for (const auto& d : l.dtmf_rx->on_packet({h.timestamp, h.sequence, h.marker, payload}, now))
    emit_digit(l, d.digit, d.duration_ms);
}

void session::on_rtcp(leg& l, std::span<const std::byte> data, int64_t now_ns) {
  (void)now_ns;
  std::vector<rtp::rtcp_report> reports;
  bool bye = false;
  rtp::parse_rtcp(data, reports, bye);
  uint64_t now = rtp::ntp_now();
  for (const auto& r : reports) {
    if (r.sender) l.rx.on_sender_report(*r.sender, now);
    for (const auto& b : r.blocks) {
      if (b.ssrc != l.ssrc) continue;
      ++l.peer.peer_reports;
      l.peer.peer_fraction_lost = b.fraction_lost / 256.0;
      if (l.codec) l.codec->on_peer_loss((b.fraction_lost * 100 + 255) / 256);  // Opus FEC follows it
      l.peer.peer_cumulative_lost = b.cumulative_lost;
      l.peer.peer_jitter_ms = static_cast<double>(b.jitter) * 1000.0 / l.rtp_clock;
      if (b.last_sr) {  // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s
        uint32_t a = rtp::ntp_middle(now);
        int64_t rtt = static_cast<int64_t>(static_cast<uint32_t>(a - b.last_sr - b.delay_since_last_sr));
        if (rtt >= 0 && rtt < 65536 * 10) l.peer.round_trip_ms = static_cast<double>(rtt) * 1000.0 / 65536.0;
      }
    }
  }
}

void session::send_rtp(leg& l, std::span<const std::byte> payload, uint8_t pt, bool marker, uint32_t ts,
                       engine_stats& stats, std::optional<uint16_t> sequence) {
  rtp::header h;
  h.marker = marker;
  h.payload_type = pt;
  h.sequence = sequence ? *sequence : l.sequence++;
  h.timestamp = ts;
  h.ssrc = l.ssrc;
  size_t len = rtp::build(h, payload, std::span(packet_).first(packet_.size() - rtp::srtp_max_trailer));
  if (!len) return;
  if (l.srtp_out && l.srtp_out->protect(packet_, len) != rtp::srtp_session::result::ok) return;
  if (io_.send(l.rtp_ref, std::span(packet_).first(len), l.remote.addr, l.remote.len)) {
    ++stats.packets_out;
    ++l.sent_packets;
    l.sent_octets += payload.size();
  }
}

void session::send_rtcp(leg& l, int64_t now_ns, engine_stats& stats) {
  (void)now_ns;
  rtp::rtcp_report r;
  r.ssrc = l.ssrc;
  uint64_t ntp = rtp::ntp_now();
  if (l.sent_packets) {
    rtp::sender_info si;
    si.ntp_timestamp = ntp;
    si.rtp_timestamp = l.timestamp;
    si.packets = static_cast<uint32_t>(l.sent_packets);
    si.octets = static_cast<uint32_t>(l.sent_octets);
    r.sender = si;
  }
  if (l.rx.any()) r.blocks.push_back(l.rx.make_block(ntp));
  size_t len = rtp::build_rtcp(r, config_.cname, std::span(packet_).first(packet_.size() - rtp::srtp_max_trailer));
  if (!len) return;
  if (l.srtp_out && l.srtp_out->protect_rtcp(packet_, len) != rtp::srtp_session::result::ok) return;
  socket_ref& from = l.media.rtcp_mux || l.rtcp_fd < 0 ? l.rtp_ref : l.rtcp_ref;
  const endpoint& to = l.media.rtcp_mux ? l.remote : l.remote_rtcp;
  if (!to.valid()) return;
  if (io_.send(from, std::span(packet_).first(len), to.addr, to.len)) ++stats.packets_out;
}

bool session::mixes(const leg& l) const {
  return l.configured && l.codec && l.sends && l.remote.valid() && l.forward_from < 0 && l.direct_from < 0;
}

bool session::pcm_needed(size_t from) const {
  const leg& l = *legs_[from];
  if (l.inband) return true;
  if ((tap_ || recording_) && from < 2) return true;  // both hear caller + agent
  // After a transfer (N-11) the supervisor's leg takes the agent's place in the recording.
  if (recording_ && from == 2 && !(legs_[1] && legs_[1]->configured)) return true;
  for (size_t to = 0; to < max_call_legs; ++to) {
    const leg* o = legs_[to].get();
    if (to != from && o && mixes(*o) && mixer_.hears(to, from)) return true;
  }
  return false;
}

// An Opus stream that has lost a packet plays one frame later from then on, so that the
// packet after a lost one is usually here when the lost one is played and its in-band FEC
// data recovers it (codec::audio_codec::conceal): 20 ms more delay on a lossy leg only.
void session::hold_for_fec(leg& l) {
  if (l.jitter->stats().lost > 0) l.jitter->set_extra_delay(1);
}

void session::decode_frame(leg& l) {
  if (l.rx_frame.lost) {
    // G.711 concealment repeats the last frame: first show the codec the one forwarded.
    if (l.decoder_behind) l.codec->decode(l.undecoded, l.in_pcm);
    l.codec->conceal(l.jitter->peek(), l.in_pcm);
  } else {
    l.codec->decode(l.rx_frame.payload, l.in_pcm);
  }
  l.decoder_behind = false;
  l.has_input = true;
}

void session::update_vad(leg& l) {
  // The detector measures a frame's energy; one sample in four (40 per 20 ms) measures it
  // well enough for speech at a quarter of the work, and a forwarded G.711 frame needs
  // only those samples decoded. The pick rotates through the four positions of each group
  // (0, 5, 10, 15, 16, ...): with a fixed stride a tone at a multiple of a quarter of the
  // rate would read as silence (every 4th sample of 1 kHz at 8 kHz is a zero crossing).
  auto pick = [](size_t k, size_t stride) { return k * stride + (k % 4) * (stride / 4); };
  std::array<int16_t, vad_samples> v;
  if (l.has_input) {
    const size_t stride = l.in_pcm.size() / vad_samples;
    for (size_t k = 0; k < vad_samples; ++k) v[k] = l.in_pcm[pick(k, stride)];
  } else if (l.has_frame && !l.rx_frame.lost && l.rx_frame.payload.size() >= vad_samples) {
    const auto& p = l.rx_frame.payload;
    const size_t stride = p.size() / vad_samples;
    const bool ulaw = l.codec->codec() == codec::kind::pcmu;
    for (size_t k = 0; k < vad_samples; ++k) {
      auto b = static_cast<uint8_t>(p[pick(k, stride)]);
      v[k] = ulaw ? codec::ulaw_to_linear(b) : codec::alaw_to_linear(b);
    }
  } else {
    l.vad.update({});
    return;
  }
  l.vad.update(v);
}

// Recording (N-42): what each party said, caller left, agent right (or whoever took the
// call over by transfer, N-11). The pool encodes, unless a side is already Opus here: the
// agent's own packet as received, and the caller's voice as encoded for the agent when
// the agent hears the caller alone (bridge or listen; not whisper or barge, not during a
// prompt to the agent). That spares the pool both encodes of an Opus agent's call.
void session::record_frame(size_t agent, bool agent_hears_caller_alone) {
  if (!recording_) return;
  leg* c = legs_[0].get();
  leg* a = legs_[agent].get();
  std::span<const std::byte> caller_opus, agent_opus;
  if (a && a->configured && a->codec && a->codec->codec() == codec::kind::opus) {
    if (a->encoded_len && c && c->has_input && agent_hears_caller_alone)
      caller_opus = std::span<const std::byte>(a->encoded.data(), a->encoded_len);
    if (a->has_frame && a->has_input) {
      if (!a->rx_frame.lost && !a->rx_frame.payload.empty()) {
        agent_opus = a->rx_frame.payload;
        a->last_toc = static_cast<std::byte>(std::to_integer<unsigned>(a->rx_frame.payload[0]) & ~3u);
      } else if (a->last_toc != std::byte{0}) {
        // Lost: the TOC byte alone, a lost frame to the player's decoder, which conceals
        // it from the phone's own stream as the agent's listener heard it concealed.
        agent_opus = std::span<const std::byte>(&a->last_toc, 1);
      }
    }
  }
  recording_->write(c && c->has_input ? std::span<const int16_t>(c->in_pcm) : std::span<const int16_t>(),
                    a && a->has_input ? std::span<const int16_t>(a->in_pcm) : std::span<const int16_t>(),
                    caller_opus, agent_opus);
}

void session::tick(int64_t now_ns, engine_stats& stats) {
  std::array<std::span<const int16_t>, mix::max_legs> inputs{};
  std::array<std::span<int16_t>, mix::max_legs> outputs{};
  // 1. Take out what each leg received: one frame per tick (or a lost one to conceal).
  for (auto& lp : legs_) {
    if (!lp) continue;
    lp->has_input = false;
    lp->encoded_len = 0;
    lp->has_frame = lp->configured && lp->expects && lp->jitter && lp->jitter->pop(lp->rx_frame);
    if (lp->has_frame && lp->rx_frame.lost && lp->codec && lp->codec->codec() == codec::kind::opus) hold_for_fec(*lp);
  }
  // 2. Forwarding on arrival ends where it no longer applies (the tick sends from here);
  //    G.711 pass-through at the tick where a leg hears just one other on the same codec.
  for (size_t to = 0; to < max_call_legs; ++to) {
    leg* l = legs_[to].get();
    if (l && l->direct_from >= 0 &&
        (l->direct_held || direct_source(to, now_ns) != static_cast<size_t>(l->direct_from)))
      end_direct(*l, now_ns);
  }
  plan_forwarding();
  // 3. Decode (or conceal) the frames someone needs as PCM: the mix, the tap, the
  //    recording, in-band DTMF. A frame that is only forwarded stays undecoded.
  for (size_t i = 0; i < max_call_legs; ++i) {
    leg* l = legs_[i].get();
    if (!l) continue;
    if (l->has_frame) {
      if (l->rx_frame.lost || pcm_needed(i)) {
        decode_frame(*l);
      } else {
        l->undecoded.assign(l->rx_frame.payload.begin(), l->rx_frame.payload.end());
        l->decoder_behind = true;
      }
    }
    update_vad(*l);
    if (l->inband) {
      if (l->has_input) {
        for (char d : l->inband->process(l->in_pcm)) emit_digit(*l, d, 0);
      } else {
        l->inband->missing(frame_);
      }
    }
    if (l->dtmf_rx)
      if (auto d = l->dtmf_rx->tick(static_cast<uint32_t>(clock_units(now_ns, l->rtp_clock))))
        emit_digit(*l, d->digit, d->duration_ms);
    if (l->has_input) inputs[i] = l->in_pcm;
    if (mixes(*l)) outputs[i] = l->out_pcm;  // else empty: the mixer skips it
  }
  // 4. Playback (prompt, announcement, hold music).
  bool playback_ended = false;
  if (clip_) {
    size_t n = 0;
    while (n < frame_ && clip_) {
      size_t take = std::min(frame_ - n, clip_->samples.size() - clip_pos_);
      std::copy_n(clip_->samples.begin() + static_cast<std::ptrdiff_t>(clip_pos_), take, playback_pcm_.begin() + static_cast<std::ptrdiff_t>(n));
      n += take;
      clip_pos_ += take;
      if (clip_pos_ >= clip_->samples.size()) {
        if (loop_) clip_pos_ = 0;
        else break;
      }
    }
    std::fill(playback_pcm_.begin() + static_cast<std::ptrdiff_t>(n), playback_pcm_.end(), int16_t{0});
    inputs[mix::playback] = playback_pcm_;
    if (!loop_ && clip_pos_ >= clip_->samples.size()) playback_ended = true;
  }
  // 5. Mix: who hears whom. (Asked before: mix() ends a ramp, and the frame it makes
  //    still carries the ramp, e.g. a whisper fading out.)
  // The recording's right side: the agent, or whoever took the call over (N-11).
  const size_t recorded_agent = legs_[1] && legs_[1]->configured ? 1 : 2;
  const bool agent_hears_caller_alone = recording_ && mixer_.sole_unity_source(recorded_agent) == size_t{0};
  mixer_.mix(inputs, outputs);
  // 6. Send each leg its frame (or the DTMF event it is sending).
  for (size_t i = 0; i < max_call_legs; ++i) {
    leg* l = legs_[i].get();
    if (!l || !l->configured || !l->codec) continue;
    if (l->direct_from >= 0) continue;  // its packets went as they came
    if (l->skip_from >= 0) {
      // Forwarding just ended: the frames it sent already are not sent again.
      const leg* src = legs_[static_cast<size_t>(l->skip_from)].get();
      if (src && src->has_frame && rtp::ts_diff(src->rx_frame.timestamp, l->skip_through) <= 0) continue;
      l->skip_from = -1;
    }
    const uint32_t ts = l->timestamp;
    l->timestamp += l->codec->rtp_samples_per_frame();  // the clock runs whether we send or not
    if (!l->sends || !l->remote.valid()) {
      l->marker_next = true;
      continue;
    }
    if (l->dtmf_pt && l->dtmf_tx) {
      if (auto p = l->dtmf_tx->next(ts)) {  // an event packet goes instead of this tick's audio
        send_rtp(*l, p->payload, *l->dtmf_pt, p->marker, p->timestamp, stats);
        if (p->marker) ++l->dtmf_sent;
        l->dtmf_sending = true;
        continue;
      }
      if (l->dtmf_sending && l->dtmf_tx->idle()) {
        l->dtmf_sending = false;
        media_event e;
        e.what = media_event::kind::dtmf_sent;
        e.leg = l->role;
        emit(std::move(e));
      }
    }
    if (l->forward_from >= 0) {
      // G.711 pass-through: the other party's payload as it came (decoding and encoding
      // it again would give the same bytes).
      send_rtp(*l, legs_[static_cast<size_t>(l->forward_from)]->rx_frame.payload, l->payload_type, l->marker_next, ts, stats);
      l->marker_next = false;
      continue;
    }
    size_t n = l->codec->encode(l->out_pcm, l->encoded);
    if (!n) continue;
    l->encoded_len = n;
    send_rtp(*l, std::span<const std::byte>(l->encoded.data(), n), l->payload_type, l->marker_next, ts, stats);
    l->marker_next = false;
  }
  // 6b. Forwarding on arrival begins where the tick just sent a source's frame alone.
  for (size_t to = 0; to < max_call_legs; ++to) {
    leg* l = legs_[to].get();
    if (!l || l->direct_from >= 0 || l->skip_from >= 0) continue;
    auto from = direct_source(to, now_ns);
    if (!from) continue;
    const leg* src = legs_[*from].get();
    if (src->has_frame && !src->rx_frame.lost && l->forward_from == static_cast<int>(*from))
      begin_direct(to, *from, now_ns, stats);
  }
  record_frame(recorded_agent, agent_hears_caller_alone);
  // 7. Conversation measures while caller and agent are both up (N-41, N-06).
  leg* caller = legs_[0].get();
  leg* agent = legs_[1].get();
  if (caller && agent && caller->configured && agent->configured) {
    auto ev = activity_.tick(caller->vad.speaking(), agent->vad.speaking());
    if (ev != conversation_activity::event::none) {
      media_event e;
      e.what = ev == conversation_activity::event::dead_air ? media_event::kind::dead_air : media_event::kind::talk_over;
      e.duration_ms = ev == conversation_activity::event::dead_air ? config_.dead_air_ms : config_.talk_over_ms;
      emit(std::move(e));
    }
  }
  // 8. The listen-in tap: what the supervisor position hears (caller + agent).
  if (tap_ && tap_codec_) {
    for (size_t k = 0; k < frame_; ++k) {
      int sum = 0;
      if (caller && caller->has_input) sum += caller->in_pcm[k];
      if (agent && agent->has_input) sum += agent->in_pcm[k];
      tap_pcm_[k] = static_cast<int16_t>(std::clamp(sum, -32768, 32767));
    }
    std::array<std::byte, 512> opus;
    size_t n = tap_codec_->encode(tap_pcm_, opus);
    if (n) tap_(std::span<const std::byte>(opus.data(), n), tap_ts_);
    tap_ts_ += 960;
  }
  if (playback_ended) {
    clip_.reset();
    apply_matrix();
    media_event e;
    e.what = media_event::kind::playback_done;
    emit(std::move(e));
  }
  // 9. Timers: silent streams, RTCP.
  for (auto& lp : legs_) {
    if (!lp || !lp->configured) continue;
    leg& l = *lp;
    bool watching = l.expects && l.remote.valid();
    int64_t since = std::max(l.last_rx_ns, l.watch_since_ns);
    if (watching && !l.timed_out && now_ns - since > std::chrono::nanoseconds(config_.stream_timeout).count()) {
      l.timed_out = true;
      media_event e;
      e.what = media_event::kind::stream_timeout;
      e.leg = l.role;
      e.duration_ms = static_cast<uint32_t>((now_ns - since) / 1'000'000);
      emit(std::move(e));
    }
    if (now_ns >= l.next_rtcp_ns) {
      // RFC 3550 §6.3.5: randomized over [0.5, 1.5] of the interval.
      int64_t interval = std::chrono::nanoseconds(config_.rtcp_interval).count();
      l.next_rtcp_ns = now_ns + interval / 2 + static_cast<int64_t>(random_value<uint32_t>() % static_cast<uint64_t>(interval));
      if (l.remote.valid()) send_rtcp(l, now_ns, stats);
    }
  }
}

leg_report session::report(const leg& l) const {
  leg_report r;
  r.role = l.role;
  r.codec = l.codec ? std::string(codec::name_of(l.codec->codec())) : "";
  r.remote = l.remote.to_string();
  r.srtp = l.srtp_out.has_value();
  r.quality = l.peer;
  r.quality.packets_received = l.rx.received();
  r.quality.packets_expected = l.rx.expected();
  r.quality.packets_lost = l.rx.lost();
  r.quality.jitter_ms = l.rx.jitter() * 1000.0 / l.rtp_clock;
  r.packets_sent = l.sent_packets;
  r.packets_received = l.rx.received();
  r.srtp_auth_failures = l.auth_failures;
  r.srtp_replays = l.replays;
  r.dropped_foreign = l.foreign;
  if (l.jitter) {
    r.playout_stretched = l.jitter->stats().stretched;
    r.playout_shed = l.jitter->stats().dropped_for_delay;
    r.late_packets = l.jitter->stats().late;
  }
  if (l.codec) {
    r.concealed_frames = l.codec->stats().concealed;
    r.fec_recovered = l.codec->stats().fec_recovered;
  }
  r.dtmf_received = l.dtmf_received;
  r.dtmf_sent = l.dtmf_sent;
  return r;
}

void session::set_recording(std::shared_ptr<record::recording> r) {
  if (recording_) recording_->close();
  recording_ = std::move(r);
}

media_event session::closing_event() {
  if (recording_) {
    recording_->close();
    recording_.reset();
  }
  activity_.flush();
  media_event e;
  e.what = media_event::kind::closed;
  e.session = id_;
  e.reports = closed_reports_;
  for (auto& l : legs_)
    if (l) e.reports.push_back(report(*l));
  e.activity = activity_.totals();
  return e;
}

}  // namespace hotline::media::detail
