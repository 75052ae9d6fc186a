#pragma once
// The media engine: every call's audio, on media threads with a 20 ms tick (DESIGN.md,
// "Threads"). A call actor owns one media *session*: the call's legs (caller, agent,
// supervisor), each an RTP/SRTP stream on its own port, meeting in the session's mixer.
// The actor drives it with the commands below; they are queued lock-free to the session's
// thread and never block. Packets never leave the media thread. What happens in the
// session comes back as media_event values through the session's sink, called on the
// media thread: the sink must not block (the actor layer forwards it to the call actor).
//
// Per leg: port from the configured range (RTCP on port + 1 unless rtcp-mux), symmetric
// RTP (latches onto where the peer really sends from), SRTP from the SDES keys, an adaptive
// jitter buffer with concealment, the negotiated codec (G.711, Opus with FEC) transcoded
// to the session's mix rate, RTCP SR/RR with loss and jitter both ways, RFC 4733 DTMF in
// and out, a stream timeout when the peer goes silent at the packet level. Continuous
// SSRC/sequence/timestamp for the life of a leg across re-INVITEs, prompts and bridging.
//
// The cheapest path first: a leg that hears exactly one other leg at gain 1 (a plain
// bridge: no playback, no supervisor heard, no mix change ramping, no digits to send) on
// the same G.711 law at 20 ms is sent that leg's packets the moment they are read, mapped
// onto its own stream (forwarding on arrival: the far end's jitter buffer conceals the
// source's losses, as behind any relay); the tick hands over to it, and takes over again
// when the mix changes or the source pauses, without a gap or a repeat in the stream. In
// the tick, a leg in that position whose source was not forwarded yet gets the payload as
// it left the jitter buffer (a lost frame concealed and encoded). A received frame is
// decoded only when something needs its PCM: a leg that mixes it, the tap, the recording,
// in-band DTMF. Speech activity (dead air, talk-over) reads 40 samples per frame, so a
// forwarded frame is only partly decoded. The jitter buffer plays a packet on the first
// tick after it is read while the jitter is low (rtp/jitter_buffer.hpp). Legs' sockets
// stay unconnected: a connected UDP socket drops datagrams from any other source, and
// symmetric RTP must see a NAT's new source to relatch.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "media/engine/activity.hpp"
#include "media/mix/mixer.hpp"
#include "media/rtp/rtcp_stats.hpp"
#include "media/sdp/negotiate.hpp"

namespace hotline::record {
class recording;
}

namespace hotline::media {

struct engine_config {
  unsigned threads = 1;
  std::string bind_v4 = "0.0.0.0";  // RTP sockets; empty: no IPv4 legs
  std::string bind_v6 = "::";       // empty: no IPv6 legs
  uint16_t port_min = 20000;        // even ports are RTP, the next odd one RTCP
  uint16_t port_max = 29999;
  std::chrono::milliseconds stream_timeout{30000};
  uint32_t dead_air_ms = 5000;   // N-41 / N-06
  uint32_t talk_over_ms = 1000;
  std::chrono::milliseconds rtcp_interval{5000};
  int opus_complexity = 5;              // libopus 0-10, Opus legs that carry wideband audio
  int opus_narrowband_complexity = 0;   // ... and those that carry a G.711 source's 4 kHz
  // Sub-ticks per 20 ms (1-4): sessions take turns, a quarter each at 4, so one wake-up
  // does a quarter of the work. Measured (docs/PERFORMANCE.md): 4 did not lower the
  // transcoded output jitter (near saturation it raised it: a sub-tick overruns its 5 ms
  // and the next one is late), so the default stays one burst per 20 ms.
  unsigned tick_phases = 1;
  // On io_uring the thread reads its sockets when it wakes: this many times per 20 ms
  // (1-4; at least tick_phases). Forwarded G.711 waits for the next read: 5 ms at 4.
  unsigned reads_per_tick = 4;
  // A leg that hears exactly one other leg on the same G.711 law (a plain bridge) is sent
  // that leg's packets as they are read, not at its tick through the jitter buffer: the
  // added delay is the wait for the read, the far end's jitter buffer does the rest (as
  // with any relay). False: through the jitter buffer at the tick (for comparison).
  bool forward_on_arrival = true;
  // Sockets through io_uring (multishot receives, sends submitted together: one system
  // call per wake-up instead of one per packet); where the kernel or a seccomp profile
  // refuses it, or when false, epoll with a recvmmsg per socket and a sendto per packet.
  bool io_uring = true;
  unsigned io_uring_buffers = 4096;  // receive buffers per thread (2 KiB each; a power of two)
  std::string cname = "hotline";
};

using session_id = uint64_t;
enum class leg_role : uint8_t { caller = 0, agent = 1, supervisor = 2 };
inline constexpr size_t max_call_legs = 3;
std::string_view to_string(leg_role r);

struct pcm_clip {  // a prompt, a work-id announcement, hold music: mono 16-bit
  uint32_t rate = 8000;
  std::vector<int16_t> samples;
};

// A leg's figures for the call record.
struct leg_report {
  leg_role role = leg_role::caller;
  std::string codec;
  std::string remote;  // address:port media came from (after latching), or the SDP's
  bool srtp = false;
  rtp::leg_quality quality;
  uint64_t packets_sent = 0, packets_received = 0;
  uint64_t srtp_auth_failures = 0, srtp_replays = 0, dropped_foreign = 0;
  uint64_t concealed_frames = 0, fec_recovered = 0;
  // The jitter buffer's own moves: frames of concealment played to grow its delay, frames
  // skipped to shrink it, packets that came after their slot was played.
  uint64_t playout_stretched = 0, playout_shed = 0, late_packets = 0;
  uint64_t dtmf_received = 0, dtmf_sent = 0;
};

struct media_event {
  enum class kind {
    dtmf,            // digit, duration_ms (RFC 4733 or in-band)
    stream_timeout,  // no packet from the leg for the configured time
    stream_resumed,  // packets again after a timeout
    dead_air,        // both parties silent for dead_air_ms (N-41)
    talk_over,       // both speaking for talk_over_ms
    playback_done,   // the current prompt finished (not for looped playback)
    dtmf_sent,       // a send_dtmf string went out completely
    leg_error,       // detail says what (bad SRTP key, codec, socket)
    closed,          // close_session done: reports + activity totals
  };
  kind what = kind::closed;
  session_id session = 0;
  leg_role leg = leg_role::caller;
  char digit = 0;
  uint32_t duration_ms = 0;
  std::string detail;
  std::vector<leg_report> reports;  // closed
  activity_totals activity;         // closed
};
using event_sink = std::function<void(const media_event&)>;

// A listen-in tap: Opus frames (20 ms, mono, the session's mix rate) of what a listener
// at the supervisor's position hears (caller + agent), called on the media thread; must
// not block (copy and hand off). Timestamp in 48 kHz units (RFC 7587).
using tap_sink = std::function<void(std::span<const std::byte> opus, uint32_t timestamp)>;

struct engine_stats {
  uint64_t sessions = 0, legs = 0;
  uint64_t packets_in = 0, packets_out = 0;
  uint64_t srtp_auth_failures = 0, malformed = 0;
  uint64_t ticks = 0, late_ticks = 0;  // late: a whole tick behind (the thread stalled)
  double busy_fraction = 0;           // media threads' CPU over wall time, averaged
  uint64_t send_errors = 0;           // datagrams the kernel refused (no route, buffer full)
  uint64_t forwarded_on_arrival = 0;  // packets sent the moment they were read (engine_config)
};

class engine {
 public:
  explicit engine(engine_config config);
  ~engine();  // stops the threads; sessions still open are dropped without events
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Starts the media threads; an error names what failed.
  std::optional<std::string> start();
  const engine_config& config() const { return config_; }
  // How the threads do their socket I/O: "io_uring", or "epoll" with why not io_uring.
  std::string io_description() const;

  // A new session on one of the threads (round robin). mix_rate: 8000 when a leg is
  // narrowband (the usual trunk caller), 16000 for wideband-only calls.
  session_id create_session(uint32_t mix_rate, event_sink sink);
  // Binds the leg's sockets now so its port can go into SDP. The leg stays idle until
  // configure_leg. An error when no port in the range is free.
  std::variant<sdp::local_media, std::string> open_leg(session_id s, leg_role role, bool ipv6,
                                                       const std::string& advertise_address);
  // Starts the leg, or changes it after a re-INVITE (hold, codec, address, keys).
  // source_bandwidth_hz: what the audio this leg is sent carries (4000 when the caller
  // is on G.711), so Opus is encoded no wider than that.
  void configure_leg(session_id s, leg_role role, const sdp::negotiated& media, uint32_t source_bandwidth_hz = 0);
  void close_leg(session_id s, leg_role role);
  // Who hears whom (mix::preset(mode) for bridge/listen/whisper/barge); ramped.
  void set_mix(session_id s, const mix::matrix& m);
  // Plays a clip into the listed legs (replacing any playback); looped for hold music.
  void play(session_id s, std::shared_ptr<const pcm_clip> clip, std::vector<leg_role> to, bool loop = false);
  void stop_playback(session_id s);
  // RFC 4733 digits out on a leg (the trunk's IVR, a transfer target).
  void send_dtmf(session_id s, leg_role role, std::string digits);
  void set_tap(session_id s, tap_sink sink);  // empty sink: tap off
  // N-42: from now on every tick writes what the caller and the agent said (left/right)
  // into the recording (record/recorder.hpp); nullptr stops. Closed with the session.
  void record(session_id s, std::shared_ptr<record::recording> r);
  // Ends the session: a `closed` event with the legs' reports follows.
  void close_session(session_id s);

  engine_stats stats() const;

  struct thread;  // internal
 private:
  struct command;
  void post(session_id s, std::unique_ptr<command> c);
  engine_config config_;
  std::vector<std::unique_ptr<thread>> threads_;
  struct ports;
  std::unique_ptr<ports> ports_;
  std::atomic<uint64_t> next_session_{1};
};

}  // namespace hotline::media
