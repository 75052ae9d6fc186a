#pragma once
// Internal to the media engine: one call's media on its media thread. Not thread-safe;
// only the owning media thread touches a session.
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/codec/audio_codec.hpp"
#include "media/dtmf/inband.hpp"
#include "media/dtmf/telephone_event_receiver.hpp"
#include "media/dtmf/telephone_event_sender.hpp"
#include "media/engine/activity.hpp"
#include "media/engine/engine.hpp"
#include "media/engine/packet_io.hpp"
#include "media/mix/mixer.hpp"
#include "media/record/recorder.hpp"
#include "media/rtp/jitter_buffer.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/rtcp_stats.hpp"
#include "media/rtp/srtp_session.hpp"

namespace hotline::media::detail {

// Unpredictable initial SSRC, sequence and timestamp (RFC 3550 §5.1), RTCP dither.
template <class T>
T random_value() {
  T v{};
  if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = static_cast<T>(reinterpret_cast<uintptr_t>(&v));
  return v;
}

// RTP clock units from the monotonic clock (no overflow for centuries of uptime).
inline uint64_t clock_units(int64_t now_ns, uint32_t clock) {
  return static_cast<uint64_t>(now_ns / 1000) * (clock / 1000) / 1000;
}

struct leg;
class session;
struct socket_ref {  // what packet_io hands back with a leg's datagram
  leg* owner = nullptr;
  bool rtcp = false;
  uint32_t io_slot = 0;  // packet_io's own bookkeeping
};

struct endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  bool valid() const { return len > 0; }
  bool same(const sockaddr_storage& a, socklen_t l) const;
  std::string to_string() const;
};

struct leg {
  session* owner = nullptr;
  leg_role role = leg_role::caller;
  int rtp_fd = -1, rtcp_fd = -1;
  socket_ref rtp_ref, rtcp_ref;
  bool ipv6 = false;
  bool configured = false;
  sdp::negotiated media;
  bool sends = false, expects = false;
  endpoint remote, remote_rtcp;
  bool latched = false, rtcp_latched = false;
  int64_t last_from_remote_ns = 0;

  std::unique_ptr<codec::audio_codec> codec;
  std::unique_ptr<rtp::jitter_buffer> jitter;
  std::optional<rtp::srtp_session> srtp_out, srtp_in;
  uint8_t payload_type = 0;
  std::optional<uint8_t> dtmf_pt;

  // Outbound stream: one SSRC, continuous sequence and timestamp for the leg's life.
  uint32_t ssrc = 0, timestamp = 0;
  uint16_t sequence = 0;
  bool marker_next = true;
  uint32_t rtp_clock = 8000;
  uint64_t sent_packets = 0, sent_octets = 0;

  // Inbound.
  rtp::reception_stats rx;
  rtp::leg_quality peer;  // what the peer's RRs say about our stream
  int64_t last_rx_ns = 0, watch_since_ns = 0;
  bool timed_out = false;
  int64_t next_rtcp_ns = 0;
  uint64_t auth_failures = 0, replays = 0, foreign = 0;

  // DTMF: RFC 4733 in and out; in-band tones on G.711 legs without telephone-event.
  std::optional<dtmf::telephone_event_receiver> dtmf_rx;
  std::optional<dtmf::telephone_event_sender> dtmf_tx;
  std::optional<dtmf::inband_detector> inband;
  bool dtmf_sending = false;
  uint64_t dtmf_received = 0, dtmf_sent = 0;

  voice_detector vad;
  std::vector<int16_t> in_pcm, out_pcm;  // one frame at the mix rate
  bool has_input = false;                // in_pcm holds this tick's frame (decoded or concealed)

  // This tick's frame from the jitter buffer (has_frame: there was one to play).
  rtp::jitter_buffer::frame rx_frame;
  bool has_frame = false;
  // G.711 pass-through (session::plan_forwarding): the leg whose received payload this leg
  // sends as it is this tick (-1: encode the mix). A forwarded frame that nobody needs as
  // PCM is not decoded; it is kept here so concealing a later loss starts from it.
  int forward_from = -1;
  std::vector<std::byte> undecoded;
  bool decoder_behind = false;  // `undecoded` is newer than what the codec last decoded
  // The audio payload encoded for this leg this tick (0: none: DTMF, forwarded, not sent).
  std::array<std::byte, 512> encoded{};
  size_t encoded_len = 0;
  std::byte last_toc{};  // of the last Opus packet received (0: none yet)

  // Forwarding on arrival (session::forward_on_arrival): the leg whose audio packets this
  // leg sends the moment they are read, mapped onto this leg's own stream (-1: none).
  int direct_from = -1;
  bool direct_held = false;  // a command changed the session: forward nothing until the tick
  uint32_t direct_ts_offset = 0;  // out = in + offset
  uint16_t direct_seq_offset = 0;
  uint32_t direct_in_ssrc = 0;
  uint32_t direct_last_in_ts = 0, direct_last_out_ts = 0;
  uint16_t direct_last_in_seq = 0, direct_last_out_seq = 0;
  int64_t direct_last_send_ns = 0;
  // After forwarding ends: the source's frames up to this timestamp were sent already,
  // so the tick does not send them again.
  int skip_from = -1;
  uint32_t skip_through = 0;
  // As a source: its last audio packet (what forwarding checks: still flowing, 20 ms).
  int64_t last_audio_ns = 0;
  size_t last_audio_bytes = 0;
  uint32_t last_audio_ssrc = 0;
};

class session {
 public:
  session(session_id id, uint32_t mix_rate, event_sink sink, const engine_config& config, packet_io& io);
  ~session();

  session_id id() const { return id_; }
  uint32_t mix_rate() const { return mix_rate_; }
  size_t frame_samples() const { return frame_; }
  // Which of the thread's sub-ticks this session's 20 ms tick runs on.
  unsigned tick_phase() const { return tick_phase_; }
  void set_tick_phase(unsigned p) { tick_phase_ = p; }

  leg* add_leg(leg_role role, int rtp_fd, int rtcp_fd, bool ipv6);
  leg* find(leg_role role) { return legs_[static_cast<size_t>(role)].get(); }
  void configure(leg_role role, const sdp::negotiated& m, uint32_t source_bandwidth_hz, int64_t now_ns);
  // Returns the leg's fds so the thread can unregister them before they are closed.
  std::unique_ptr<leg> remove_leg(leg_role role);
  void set_mix(const mix::matrix& m);
  void play(std::shared_ptr<const pcm_clip> clip, const std::vector<leg_role>& to, bool loop);
  void stop_playback();
  void send_dtmf(leg_role role, const std::string& digits);
  void set_tap(tap_sink sink);
  void set_recording(std::shared_ptr<record::recording> r);

  // A datagram from a leg's socket.
  // `now_ns`: when the thread read it (the jitter buffer plays from that: a tick can only
  // play what was read before it); `arrival_ns`: when the kernel received it, for RTCP's
  // jitter (the same on epoll, which reads datagrams as they come).
  void on_datagram(leg& l, bool rtcp_socket, std::span<std::byte> data, size_t len, const sockaddr_storage& from,
                   socklen_t from_len, int64_t now_ns, int64_t arrival_ns, engine_stats& stats);
  // One 20 ms tick: play out, mix, encode, send; timers.
  void tick(int64_t now_ns, engine_stats& stats);
  // The closing event's content.
  media_event closing_event();
  void deliver(media_event e) { emit(std::move(e)); }
  std::vector<std::unique_ptr<leg>>& legs() { return legs_; }

 private:
  void emit(media_event e);
  void send_rtp(leg& l, std::span<const std::byte> payload, uint8_t pt, bool marker, uint32_t ts, engine_stats& stats,
                std::optional<uint16_t> sequence = std::nullopt);
  void send_rtcp(leg& l, int64_t now_ns, engine_stats& stats);
  void on_rtcp(leg& l, std::span<const std::byte> data, int64_t now_ns);
  void on_telephone_event(leg& l, const rtp::header& h, std::span<const std::byte> payload, int64_t now_ns);
  void emit_digit(leg& l, char digit, uint32_t duration_ms);
  void apply_matrix();
  void plan_forwarding();
  // The leg `to` hears alone at gain 1, when both speak the same G.711 law (and `to` sends).
  std::optional<size_t> sole_g711_source(size_t to) const;
  std::optional<size_t> direct_source(size_t to, int64_t now_ns) const;
  void begin_direct(size_t to, size_t from, int64_t now_ns, engine_stats& stats);
  void end_direct(leg& l, int64_t now_ns);
  void hold_direct();
  std::optional<std::string> configure_codec(leg& l, const sdp::negotiated& m, uint32_t source_bandwidth_hz);
  std::optional<std::string> configure_srtp(leg& l, const sdp::negotiated& m);
  void configure_destination(leg& l, const sdp::negotiated& m);
  void forward_on_arrival(leg& from, const rtp::packet_view& pv, bool duplicate, int64_t now_ns, engine_stats& stats);
  void send_direct(leg& l, uint16_t in_seq, uint32_t in_ts, std::span<const std::byte> payload, bool marker,
                   int64_t now_ns, engine_stats& stats);
  // The tick's steps (tick.cpp), in order.
  using pcm_inputs = std::array<std::span<const int16_t>, mix::max_legs>;
  using pcm_outputs = std::array<std::span<int16_t>, mix::max_legs>;
  void take_frames();
  void hand_over_forwarding(int64_t now_ns);
  void prepare_inputs(int64_t now_ns, pcm_inputs& inputs, pcm_outputs& outputs);
  bool next_playback_frame(pcm_inputs& inputs);  // true: the clip ended with this frame
  void send_frame(leg& l, engine_stats& stats);
  void begin_forwarding(int64_t now_ns, engine_stats& stats);
  void measure_conversation();
  void feed_tap();
  void end_playback();
  void run_timers(int64_t now_ns, engine_stats& stats);
  bool pcm_needed(size_t from) const;
  void decode_frame(leg& l);
  void hold_for_fec(leg& l);
  void update_vad(leg& l);
  bool mixes(const leg& l) const;  // sends audio made by the mixer this tick
  void record_frame(size_t agent, bool agent_hears_caller_alone);
  static constexpr size_t vad_samples = 40;  // per frame, whatever the mix rate
  leg_report report(const leg& l) const;

  session_id id_;
  unsigned tick_phase_ = 0;
  uint32_t mix_rate_;
  size_t frame_;
  event_sink sink_;
  const engine_config& config_;
  packet_io& io_;
  std::vector<std::unique_ptr<leg>> legs_;  // by role
  mix::mixer mixer_;
  mix::matrix base_{};
  std::shared_ptr<const pcm_clip> clip_;  // at mix rate
  std::vector<bool> playback_to_;
  bool loop_ = false;
  size_t clip_pos_ = 0;
  std::vector<int16_t> playback_pcm_, silence_;
  conversation_activity activity_;
  tap_sink tap_;
  std::unique_ptr<codec::audio_codec> tap_codec_;
  std::vector<int16_t> tap_pcm_;
  uint32_t tap_ts_ = 0;
  std::vector<std::byte> packet_;  // scratch for building packets
  std::vector<leg_report> closed_reports_;  // legs closed before the session
  std::shared_ptr<record::recording> recording_;
};

}  // namespace hotline::media::detail
