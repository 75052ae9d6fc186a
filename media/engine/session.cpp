#include "media/engine/session.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "media/codec/resampler.hpp"
#include "media/prompt/library.hpp"
#include "media/rtp/packet.hpp"

namespace hotline::media::detail {
namespace {

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
  const bool same_codec = l.configured && l.codec && codec::kind_of(m.audio.name, m.audio.clock_rate) == l.codec->codec();
  std::optional<std::string> error = configure_codec(l, m, source_bandwidth_hz);
  if (!error) error = configure_srtp(l, m);
  if (error) {
    l.configured = false;
    media_event e;
    e.what = media_event::kind::leg_error;
    e.leg = role;
    e.detail = std::move(*error);
    return emit(std::move(e));
  }
  configure_destination(l, m);
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
  bool inband = !l.dtmf_pt && l.codec->codec() != codec::kind::opus && mix_rate_ == 8000;
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

// A new codec (and its jitter buffer) when the negotiated one changed; the same one is
// kept, with its state, and told the source's bandwidth.
std::optional<std::string> session::configure_codec(leg& l, const sdp::negotiated& m, uint32_t source_bandwidth_hz) {
  auto k = codec::kind_of(m.audio.name, m.audio.clock_rate);
  if (!k) return "unsupported codec " + m.audio.name + "/" + std::to_string(m.audio.clock_rate);
  if (l.configured && l.codec && l.codec->codec() == *k) {
    if (source_bandwidth_hz) l.codec->set_source_bandwidth(source_bandwidth_hz);
    return std::nullopt;
  }
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
  if (auto* err = std::get_if<std::string>(&c)) return std::move(*err);
  l.codec = std::move(std::get<0>(c));
  rtp::jitter_config jc;
  jc.clock_rate = l.codec->rtp_clock();
  jc.frame_samples = l.codec->rtp_samples_per_frame();
  l.jitter = std::make_unique<rtp::jitter_buffer>(jc);
  l.rtp_clock = l.codec->rtp_clock();
  return std::nullopt;
}

// SRTP: keep the contexts (replay window, rollover counter) while the keys stay.
std::optional<std::string> session::configure_srtp(leg& l, const sdp::negotiated& m) {
  bool want_srtp = m.local_crypto && m.remote_crypto;
  bool keys_same = l.configured && l.media.local_crypto == m.local_crypto && l.media.remote_crypto == m.remote_crypto;
  if (!want_srtp) {
    l.srtp_out.reset();
    l.srtp_in.reset();
    return std::nullopt;
  }
  if (keys_same && l.srtp_out) return std::nullopt;
  auto out_key = sdp::decode_key_salt(*m.local_crypto);
  auto in_key = sdp::decode_key_salt(*m.remote_crypto);
  if (!out_key || !in_key) return "SRTP key does not decode";
  auto out = rtp::srtp_session::create(m.local_crypto->suite, *out_key, rtp::srtp_session::direction::outbound);
  auto in = rtp::srtp_session::create(m.remote_crypto->suite, *in_key, rtp::srtp_session::direction::inbound);
  if (auto* err = std::get_if<std::string>(&out)) return std::move(*err);
  if (auto* err = std::get_if<std::string>(&in)) return std::move(*err);
  l.srtp_out.emplace(std::move(std::get<0>(out)));
  l.srtp_in.emplace(std::move(std::get<0>(in)));
  return std::nullopt;
}

// Where to send: the SDP's address until the peer's own packets show where it is (a new
// address in a re-INVITE is latched anew; the same one keeps what was latched).
void session::configure_destination(leg& l, const sdp::negotiated& m) {
  bool address_same = l.configured && l.media.remote_address == m.remote_address && l.media.remote_port == m.remote_port;
  if (address_same) return;
  auto r = make_endpoint(m.remote_address, m.remote_port);
  l.remote = r ? *r : endpoint{};
  l.latched = false;
  auto rc = m.rtcp_mux ? r : make_endpoint(m.remote_address, m.remote_rtcp_port);
  l.remote_rtcp = rc ? *rc : endpoint{};
  l.rtcp_latched = false;
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
