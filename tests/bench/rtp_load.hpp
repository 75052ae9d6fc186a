#pragma once
// An RTP load generator for media relay benchmarks, on one thread: N calls, each two
// endpoints (caller, callee) on their own loopback sockets, each sending a 20 ms packet at
// real time (phases spread evenly over the 20 ms) to the relay and taking what the relay
// forwards. The relay learns each endpoint from where it sends (symmetric RTP), so every
// endpoint needs its own (connected) socket: one send per packet, recvmmsg per ready socket. The
// thread wakes once a millisecond (sends what is due, takes what arrived), so latency is
// measured to ~1 ms.
//
// What it measures, over a window after a warm-up:
// - PCMU endpoints send *marked* frames: sender id, sequence number and send time written
//   into the payload as µ-law codes that survive decode -> mix at unity gain -> encode.
//   The listener reads them back: per-stream loss (frames sent in the window that never
//   arrived) and one-way added latency, whatever the relay does to RTP headers.
// - Every endpoint counts packets arriving in the (shifted) window against the frames their
//   RTP timestamps span, and sequence gaps: loss for streams a codec changed (Opus).
// - Its own send lateness (if that grows, the generator, not the relay, is the limit).
// - Speech quality: a *probe* call sends speech instead (set_speech: µ-law at 8 kHz one
//   way, Opus at 48 kHz the other, looped) and keeps every payload it receives
//   (captured()); the bench decodes them and scores them against what was sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "media/codec/g711.hpp"
#include "media/rtp/srtp_session.hpp"

namespace hotline::test {

inline int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A latency histogram in 0.1 ms buckets up to 2 s.
class latency_histogram {
 public:
  void add(int64_t ns) {
    size_t b = static_cast<size_t>(std::max<int64_t>(ns, 0) / 100'000);
    ++buckets_[std::min(b, buckets_.size() - 1)];
    ++count_;
  }
  uint64_t count() const { return count_; }
  double max_ms() const { return static_cast<double>(buckets_.size() - 1) / 10.0; }
  double percentile_ms(double p) const {
    if (!count_) return 0;
    auto target = static_cast<uint64_t>(p * static_cast<double>(count_));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen > target) return static_cast<double>(i) / 10.0 + 0.05;
    }
    return static_cast<double>(buckets_.size()) / 10.0;
  }

 private:
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(20000);
  uint64_t count_ = 0;
};

struct load_window_result {
  uint64_t marked_sent = 0, marked_heard = 0;  // PCMU marker frames sent in the window / heard by the peer
  double worst_stream_loss = 0;                // among marked streams
  uint64_t expected_packets = 0, arrived_packets = 0;  // by the RTP clock of the received streams, in the window
  uint64_t seq_lost = 0, seq_received = 0;     // gaps in the received streams' sequence numbers
  latency_histogram latency;                   // of marker frames sent in the window
  // Arrival jitter of what the relay sends us: each packet's arrival against its RTP
  // timestamp, relative to the stream's first packet in the window, offset by 1 s.
  latency_histogram transit;
  // A stream that drifts a second or more from its clock (a relay dropping whole ticks)
  // lands in the last bucket: report that as 1 s rather than as p99 - p50 = 0.
  double jitter_ms() const {
    double p99 = transit.percentile_ms(0.99);
    return p99 >= transit.max_ms() ? 1000 : p99 - transit.percentile_ms(0.5);
  }
  double send_late_p99_ms = 0;                 // how late the generator sent
  double send_late_max_ms = 0;
  double generator_cpu = 0;                    // of the generator thread, over the window
};

class rtp_load {
 public:
  enum class payload { pcmu_marked, opus, pcmu_speech, opus_speech };
  static bool is_pcmu(payload k) { return k == payload::pcmu_marked || k == payload::pcmu_speech; }
  struct endpoint_setup {
    payload kind = payload::pcmu_marked;
    uint8_t pt = 0;
    uint16_t relay_port = 0;  // where the relay wants this endpoint's packets
    std::optional<rtp::srtp_session> srtp_out;  // protect what we send (the receive side is not decrypted)
    bool capture = false;  // keep every RTP payload received (a speech probe)
  };
  struct captured_packet {
    uint16_t seq;
    uint32_t ts;
    std::vector<uint8_t> payload;
  };

  rtp_load() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    prctl(PR_SET_TIMERSLACK, 1000UL);  // wake on the millisecond, not up to 50 µs after
    // µ-law codes whose decode -> encode round trip is exact (all but the two zeros).
    for (int c = 0x90, k = 0; k < 16; ++c) {
      std::array<uint8_t, 1> u{static_cast<uint8_t>(c)}, back{};
      std::array<int16_t, 1> s{};
      codec::decode_ulaw(u, s);
      codec::encode_ulaw(s, back);
      if (back[0] == u[0]) nibble_code_[k++] = u[0];
    }
    nibble_of_.fill(-1);
    for (int k = 0; k < 16; ++k) nibble_of_[nibble_code_[k]] = static_cast<int8_t>(k);
    // The rest of a marked frame: a quiet 400 Hz tone, so the relay sees ordinary audio.
    std::array<int16_t, 160> tone{};
    for (size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<int16_t>(2000 * std::sin(2 * M_PI * 400 * static_cast<double>(i) / 8000));
    codec::encode_ulaw(tone, filler_);
    // One second of a 440 Hz tone in Opus (48 kHz mono, 20 ms), replayed by Opus endpoints.
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
    std::array<int16_t, 960> pcm{};
    for (int f = 0; f < 50; ++f) {
      for (size_t i = 0; i < pcm.size(); ++i)
        pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * M_PI * 440 * static_cast<double>(static_cast<size_t>(f) * 960 + i) / 48000));
      std::vector<uint8_t> pkt(400);
      int n = opus_encode(enc, pcm.data(), 960, pkt.data(), static_cast<opus_int32>(pkt.size()));
      pkt.resize(static_cast<size_t>(std::max(n, 0)));
      opus_frames_.push_back(std::move(pkt));
    }
    opus_encoder_destroy(enc);
  }
  // The probe's speech, at least a 20 ms frame of each: `pcm8k` sent as µ-law by
  // pcmu_speech endpoints, `pcm48k` encoded like the tone (Opus 48 kHz mono, 24 kbit/s,
  // complexity 5) by opus_speech endpoints.
  void set_speech(std::span<const int16_t> pcm8k, std::span<const int16_t> pcm48k) {
    speech_ulaw_.clear();
    speech_opus_.clear();
    for (size_t at = 0; at + 160 <= pcm8k.size(); at += 160) {
      std::array<uint8_t, 160> f{};
      codec::encode_ulaw(pcm8k.subspan(at, 160), f);
      speech_ulaw_.push_back(f);
    }
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
    for (size_t at = 0; at + 960 <= pcm48k.size(); at += 960) {
      std::vector<uint8_t> pkt(400);
      int n = opus_encode(enc, pcm48k.data() + at, 960, pkt.data(), static_cast<opus_int32>(pkt.size()));
      pkt.resize(static_cast<size_t>(std::max(n, 0)));
      speech_opus_.push_back(std::move(pkt));
    }
    opus_encoder_destroy(enc);
  }
  // What endpoint i received (capture = true), in arrival order.
  const std::vector<captured_packet>& captured(size_t i) const { return eps_[i].rx; }
  // How many frames endpoint i sent in the last run (its speech is frame % length).
  uint32_t frames_sent(size_t i) const { return eps_[i].frame; }

  ~rtp_load() {
    clear();
    ::close(epoll_);
  }
  rtp_load(const rtp_load&) = delete;
  rtp_load& operator=(const rtp_load&) = delete;

  // Binds a new endpoint's socket (port 0: the kernel picks); returns its index and port.
  std::pair<size_t, uint16_t> add_endpoint() {
    endpoint e;
    e.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (e.fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(e.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(e.fd, reinterpret_cast<sockaddr*>(&a), &len);
    e.port = ntohs(a.sin_port);
    e.ssrc = 0x10000000u + static_cast<uint32_t>(eps_.size());
    e.seq = static_cast<uint16_t>(eps_.size() * 7);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = eps_.size();
    epoll_ctl(epoll_, EPOLL_CTL_ADD, e.fd, &ev);
    eps_.push_back(std::move(e));
    return {eps_.size() - 1, eps_.back().port};
  }
  // Pairs two endpoints (a call) and says how each sends.
  void connect(size_t a, size_t b) {
    eps_[a].peer = static_cast<uint32_t>(b);
    eps_[b].peer = static_cast<uint32_t>(a);
  }
  void setup(size_t i, endpoint_setup s) {
    endpoint& e = eps_[i];
    e.kind = s.kind;
    e.pt = s.pt;
    e.to.sin_family = AF_INET;
    e.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.to.sin_port = htons(s.relay_port);
    e.srtp = std::move(s.srtp_out);
    e.capture = s.capture;
    // Connected: send() skips a route lookup per packet (the relay answers from the port
    // it is sent to, so nothing we want is filtered out).
    ::connect(e.fd, reinterpret_cast<const sockaddr*>(&e.to), sizeof e.to);
  }
  size_t endpoints() const { return eps_.size(); }
  std::vector<uint16_t> ports() const {
    std::vector<uint16_t> out;
    for (const auto& e : eps_) out.push_back(e.port);
    return out;
  }
  void clear() {
    for (auto& e : eps_) ::close(e.fd);
    eps_.clear();
  }

  // Sends for warmup + window + a tail (so frames from the window's end can arrive), and
  // measures over the window. at_window(true/false) is called at its start and end (the
  // caller samples the relay's CPU there).
  load_window_result run(double warmup_s, double window_s, const std::function<void(bool)>& at_window) {
    const size_t n = eps_.size();
    const int64_t period = 20'000'000, tick_ns = 1'000'000;
    const int64_t t0 = mono_ns() + 20'000'000;
    const int64_t w0 = t0 + static_cast<int64_t>(warmup_s * 1e9);
    const int64_t w1 = w0 + static_cast<int64_t>(window_s * 1e9);
    const int64_t shift = 100'000'000;  // arrival window = send window + 100 ms
    const int64_t stop_send = w1 + 300'000'000, end = stop_send + 200'000'000;
    window_ = {w0, w1};
    for (auto& e : eps_) e.reset();
    load_window_result r;
    latency_ = &r.latency;
    transit_ = &r.transit;
    std::vector<int64_t> lateness;
    lateness.reserve(static_cast<size_t>(window_s * 50) * n + 16);
    size_t cursor = 0;
    int64_t round = 0;
    bool in_window = false, window_done = false;
    int64_t cpu0 = 0;
    std::array<epoll_event, 256> events;
    for (;;) {
      int64_t now = mono_ns();
      if (!in_window && !window_done && now >= w0) {
        in_window = true;
        at_window(true);
        cpu0 = thread_cpu_ns();
      }
      if (in_window && now >= w1) {
        in_window = false;
        window_done = true;
        r.generator_cpu = static_cast<double>(thread_cpu_ns() - cpu0) / static_cast<double>(now - w0);
        at_window(false);
      }
      if (now >= end) break;
      // Send everything due (endpoint k's phase is k/n of the period), for at most 2 ms
      // at a time so that receiving and the window's bounds keep up when we fall behind.
      int64_t due = 0;
      const int64_t send_until = now + 2'000'000;
      for (;;) {
        due = t0 + round * period + static_cast<int64_t>(cursor) * period / static_cast<int64_t>(n);
        if (due > now || due >= stop_send) break;
        if (due >= w0 && due < w1) lateness.push_back(now - due);
        send(eps_[cursor], now);
        if (++cursor == n) {
          cursor = 0;
          ++round;
        }
        now = mono_ns();
        if (now >= send_until) break;
      }
      // Sleep to the next 1 ms boundary, then take everything that arrived: one wake-up
      // a millisecond instead of one per packet (the phases are spread at 1 ms grain).
      int64_t wake = std::min(t0 + ((std::max(due, now) - t0) / tick_ns + 1) * tick_ns, end);
      timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      for (;;) {
        int k = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 0);
        int64_t at = mono_ns();
        for (int i = 0; i < k; ++i) receive(static_cast<size_t>(events[i].data.u64), at, w0 + shift, w1 + shift);
        if (k < static_cast<int>(events.size())) break;
      }
    }
    latency_ = nullptr;
    // Tally.
    for (const auto& e : eps_) {
      // Expected: the frames the received RTP clock covered (the relay's own clock when it
      // makes the stream: a tick it skipped still advances it), not arrivals at 50/s,
      // which would miscount by a frame per stream at each end of the window.
      const uint32_t frame_ts = is_pcmu(e.kind) ? 160 : 960;
      r.expected_packets += e.arrived_in_window ? (e.last_rx_ts - e.first_rx_ts) / frame_ts + 1 : static_cast<uint64_t>(window_s * 50);
      r.arrived_packets += e.arrived_in_window;
      r.seq_lost += e.seq_lost;
      r.seq_received += e.seq_received;
      if (e.kind == payload::pcmu_marked && e.marked_sent) {
        r.marked_sent += e.marked_sent;
        r.marked_heard += std::min(e.marked_heard, e.marked_sent);
        double loss = 1 - static_cast<double>(e.marked_heard) / static_cast<double>(e.marked_sent);
        r.worst_stream_loss = std::max(r.worst_stream_loss, loss);
      }
    }
    if (!lateness.empty()) {
      auto p = lateness.begin() + static_cast<std::ptrdiff_t>(lateness.size() * 99 / 100);
      std::nth_element(lateness.begin(), p, lateness.end());
      r.send_late_p99_ms = static_cast<double>(*p) / 1e6;
      r.send_late_max_ms = static_cast<double>(*std::max_element(lateness.begin(), lateness.end())) / 1e6;
    }
    return r;
  }

 private:
  struct endpoint {
    int fd = -1;
    uint16_t port = 0;
    uint32_t peer = 0;
    payload kind = payload::pcmu_marked;
    uint8_t pt = 0;
    sockaddr_in to{};
    std::optional<rtp::srtp_session> srtp;
    uint32_t ssrc = 0, ts = 0, frame = 0;
    uint16_t seq = 0;
    bool capture = false;
    std::vector<captured_packet> rx;
    // Per run.
    uint64_t marked_sent = 0, marked_heard = 0, arrived_in_window = 0, seq_lost = 0, seq_received = 0;
    bool have_rx_seq = false;
    uint16_t last_rx_seq = 0;
    uint64_t last_heard_frame = 0;
    uint32_t first_rx_ts = 0, last_rx_ts = 0;
    int64_t first_rx_ns = 0;
    void reset() {
      marked_sent = marked_heard = arrived_in_window = seq_lost = seq_received = last_heard_frame = 0;
      have_rx_seq = false;
      rx.clear();
    }
  };

  void put_nibbles(uint8_t* at, uint64_t v, int count) {
    for (int i = 0; i < count; ++i) at[i] = nibble_code_[(v >> (4 * i)) & 15];
  }
  std::optional<uint64_t> get_nibbles(const std::byte* at, int count) const {
    uint64_t v = 0;
    for (int i = 0; i < count; ++i) {
      int8_t nib = nibble_of_[static_cast<uint8_t>(at[i])];
      if (nib < 0) return std::nullopt;
      v |= static_cast<uint64_t>(nib) << (4 * i);
    }
    return v;
  }

  void send(endpoint& e, int64_t now) {
    std::array<uint8_t, 12 + 400 + rtp::srtp_max_trailer> pkt;
    pkt[0] = 0x80;
    pkt[1] = static_cast<uint8_t>(e.pt | (e.frame == 0 ? 0x80 : 0));
    pkt[2] = static_cast<uint8_t>(e.seq >> 8);
    pkt[3] = static_cast<uint8_t>(e.seq);
    for (int i = 0; i < 4; ++i) pkt[4 + i] = static_cast<uint8_t>(e.ts >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) pkt[8 + i] = static_cast<uint8_t>(e.ssrc >> (24 - 8 * i));
    size_t len = 12;
    if (e.kind == payload::pcmu_marked) {
      std::memcpy(pkt.data() + 12, filler_.data(), filler_.size());
      // sender (8 nibbles), frame number (8), send time (16): 32 marker bytes.
      put_nibbles(pkt.data() + 12, static_cast<uint64_t>(&e - eps_.data()), 8);
      put_nibbles(pkt.data() + 20, e.frame, 8);
      put_nibbles(pkt.data() + 28, static_cast<uint64_t>(now), 16);
      len += filler_.size();
      e.ts += 160;
      if (now >= window_.first && now < window_.second) ++e.marked_sent;
    } else {
      // A frame replayed from a loop: the probe's speech, or the Opus tone.
      std::span<const uint8_t> f =
          e.kind == payload::pcmu_speech   ? std::span<const uint8_t>(speech_ulaw_[e.frame % speech_ulaw_.size()])
          : e.kind == payload::opus_speech ? std::span<const uint8_t>(speech_opus_[e.frame % speech_opus_.size()])
                                           : std::span<const uint8_t>(opus_frames_[e.frame % opus_frames_.size()]);
      std::memcpy(pkt.data() + 12, f.data(), f.size());
      len += f.size();
      e.ts += is_pcmu(e.kind) ? 160 : 960;
    }
    ++e.seq;
    ++e.frame;
    if (e.srtp) e.srtp->protect(std::as_writable_bytes(std::span(pkt)), len);
    ::send(e.fd, pkt.data(), len, 0);
  }

  void receive(size_t index, int64_t now, int64_t a0, int64_t a1) {
    endpoint& e = eps_[index];
    constexpr int batch = 8;
    static std::array<std::array<std::byte, 1500>, batch> bufs;
    std::array<mmsghdr, batch> msgs{};
    std::array<iovec, batch> iov{};
    for (int i = 0; i < batch; ++i) {
      iov[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(e.fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < n; ++i) {
      const std::byte* p = bufs[i].data();
      size_t len = msgs[i].msg_len;
      if (len < 12) continue;
      auto second = static_cast<uint8_t>(p[1]);
      if (second >= 192 && second <= 223) continue;  // RTCP (muxed)
      if (e.capture && !e.srtp) {
        auto u8 = reinterpret_cast<const uint8_t*>(p);
        size_t header = 12 + 4 * (u8[0] & 0x0f), end = len;
        if (u8[0] & 0x10) header += len >= header + 4 ? 4 + 4 * ((u8[header + 2] << 8) | u8[header + 3]) : len;
        if (u8[0] & 0x20) end -= std::min<size_t>(u8[len - 1], len);  // padding
        if (header < end)
          e.rx.push_back({static_cast<uint16_t>((u8[2] << 8) | u8[3]),
                          (uint32_t{u8[4]} << 24) | (uint32_t{u8[5]} << 16) | (uint32_t{u8[6]} << 8) | u8[7],
                          std::vector<uint8_t>(u8 + header, u8 + end)});
      }
      if (now >= a0 && now < a1) {
        ++e.arrived_in_window;
        uint32_t ts = (static_cast<uint32_t>(p[4]) << 24) | (static_cast<uint32_t>(p[5]) << 16) |
                      (static_cast<uint32_t>(p[6]) << 8) | static_cast<uint32_t>(p[7]);
        if (!e.have_rx_seq) {
          e.first_rx_ts = ts;
          e.first_rx_ns = now;
        }
        e.last_rx_ts = ts;
        const int64_t ns_per_unit = is_pcmu(e.kind) ? 125'000 : 125'000 / 6;  // 8 kHz / 48 kHz clocks
        transit_->add(1'000'000'000 + (now - e.first_rx_ns) - static_cast<int64_t>(ts - e.first_rx_ts) * ns_per_unit);
        auto seq = static_cast<uint16_t>((static_cast<unsigned>(p[2]) << 8) | static_cast<unsigned>(p[3]));
        if (e.have_rx_seq) {
          auto step = static_cast<uint16_t>(seq - e.last_rx_seq);
          if (step >= 1 && step < 1000) e.seq_lost += step - 1u;
        }
        ++e.seq_received;
        e.have_rx_seq = true;
        e.last_rx_seq = seq;
      }
      if ((second & 0x7f) != 0 || len < 12 + 32 || e.srtp) continue;
      auto sender = get_nibbles(p + 12, 8);
      auto frame = get_nibbles(p + 20, 8);
      auto sent = get_nibbles(p + 28, 16);
      if (!sender || !frame || !sent || *sender != e.peer) continue;
      auto sent_ns = static_cast<int64_t>(*sent);
      if (sent_ns < window_.first || sent_ns >= window_.second) continue;
      endpoint& from = eps_[*sender];
      // A concealed frame may repeat the last one, mark and all: count each frame once.
      if (from.marked_heard && *frame <= from.last_heard_frame) continue;
      from.last_heard_frame = *frame;
      ++from.marked_heard;
      if (latency_) latency_->add(now - sent_ns);
    }
  }

  int epoll_ = -1;
  std::vector<endpoint> eps_;
  std::array<uint8_t, 16> nibble_code_{};
  std::array<int8_t, 256> nibble_of_{};
  std::array<uint8_t, 160> filler_{};
  std::vector<std::vector<uint8_t>> opus_frames_;
  std::vector<std::array<uint8_t, 160>> speech_ulaw_;
  std::vector<std::vector<uint8_t>> speech_opus_;
  std::pair<int64_t, int64_t> window_{};
  latency_histogram* latency_ = nullptr;
  latency_histogram* transit_ = nullptr;
};

}  // namespace hotline::test
