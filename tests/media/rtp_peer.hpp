#pragma once
// A scripted RTP endpoint on a loopback socket for the media engine's tests: sends
// G.711/Opus/telephone-event packets the way a phone would, keeps everything it receives.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "media/codec/g711.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/srtp_session.hpp"

namespace hotline::test {

struct received_packet {
  bool rtcp = false;
  rtp::header h;
  std::vector<std::byte> payload;  // RTP payload, or the whole RTCP compound
  std::chrono::steady_clock::time_point at;
};

class rtp_peer {
 public:
  rtp_peer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~rtp_peer() { ::close(fd_); }
  uint16_t port() const { return port_; }
  void target(uint16_t port) { to_port_ = port; }

  std::optional<rtp::srtp_session> srtp_out, srtp_in;

  void send_raw(std::vector<std::byte> pkt, bool rtcp = false) {
    size_t len = pkt.size();
    pkt.resize(len + rtp::srtp_max_trailer);
    if (srtp_out) {
      if (rtcp) srtp_out->protect_rtcp(pkt, len);
      else srtp_out->protect(pkt, len);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(to_port_);
    ::sendto(fd_, pkt.data(), len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }

  void send(uint8_t pt, std::span<const std::byte> payload, bool marker = false) {
    rtp::header h;
    h.payload_type = pt;
    h.sequence = seq_++;
    h.timestamp = ts_;
    h.ssrc = ssrc;
    h.marker = marker;
    std::vector<std::byte> pkt(12 + payload.size());
    pkt.resize(rtp::build(h, payload, pkt));
    send_raw(std::move(pkt));
  }
  void advance(uint32_t samples) { ts_ += samples; }
  void skip_sequence() { ++seq_; }  // a packet lost on the way
  uint32_t timestamp() const { return ts_; }

  // Sends `seconds` of PCMU at real time (20 ms pacing) from a PCM source at 8 kHz.
  void stream_pcmu(const std::vector<int16_t>& pcm8, double seconds, double loss = 0) {
    auto start = std::chrono::steady_clock::now();
    size_t frames = static_cast<size_t>(seconds * 50);
    for (size_t f = 0; f < frames; ++f) {
      std::array<uint8_t, 160> u;
      std::array<int16_t, 160> s{};
      for (size_t i = 0; i < 160; ++i) s[i] = pcm8[(f * 160 + i) % pcm8.size()];
      codec::encode_ulaw(s, u);
      bool drop = loss > 0 && (static_cast<double>(std::rand()) / RAND_MAX) < loss;
      if (!drop) send(0, std::as_bytes(std::span(u)), f == 0);
      else ++seq_;
      ts_ += 160;
      std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * (f + 1)));
      drain();
    }
  }

  // Collects what arrives for `d`.
  void collect(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 10);
      drain();
    }
  }
  void drain() {
    for (;;) {
      std::vector<std::byte> buf(2048);
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0) return;
      size_t len = static_cast<size_t>(n);
      auto second = static_cast<uint8_t>(buf[1]);
      bool rtcp = second >= 192 && second <= 223;
      if (srtp_in) {
        auto r = rtcp ? srtp_in->unprotect_rtcp(buf, len) : srtp_in->unprotect(buf, len);
        if (r != rtp::srtp_session::result::ok) {
          ++undecryptable;
          continue;
        }
      }
      last_from_port = ntohs(from.sin_port);
      received_packet r;
      r.rtcp = rtcp;
      r.at = std::chrono::steady_clock::now();
      if (rtcp) {
        r.payload.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
      } else {
        rtp::packet_view pv;
        if (rtp::parse(std::span<const std::byte>(buf.data(), len), pv) != rtp::parse_status::ok) continue;
        r.h = pv.h;
        r.payload.assign(pv.payload.begin(), pv.payload.end());
      }
      packets.push_back(std::move(r));
    }
  }

  std::vector<received_packet> rtp_with_pt(uint8_t pt) const {
    std::vector<received_packet> out;
    for (const auto& p : packets)
      if (!p.rtcp && p.h.payload_type == pt) out.push_back(p);
    return out;
  }
  // PCMU packets decoded back to 8 kHz PCM, in arrival order.
  std::vector<int16_t> pcmu_audio() const {
    std::vector<int16_t> pcm;
    for (const auto& p : rtp_with_pt(0)) {
      std::vector<int16_t> s(p.payload.size());
      codec::decode_ulaw(std::span(reinterpret_cast<const uint8_t*>(p.payload.data()), p.payload.size()), s);
      pcm.insert(pcm.end(), s.begin(), s.end());
    }
    return pcm;
  }
  std::vector<int16_t> opus_audio(uint8_t pt, int rate) const {
    int err = 0;
    OpusDecoder* d = opus_decoder_create(rate, 1, &err);
    std::vector<int16_t> pcm;
    for (const auto& p : rtp_with_pt(pt)) {
      std::vector<int16_t> s(static_cast<size_t>(rate / 50 * 3));
      int n = opus_decode(d, reinterpret_cast<const unsigned char*>(p.payload.data()), static_cast<opus_int32>(p.payload.size()),
                          s.data(), static_cast<int>(s.size()), 0);
      if (n > 0) pcm.insert(pcm.end(), s.begin(), s.begin() + n);
    }
    opus_decoder_destroy(d);
    return pcm;
  }

  std::vector<received_packet> packets;
  uint64_t undecryptable = 0;
  uint16_t last_from_port = 0;
  uint32_t ssrc = 0x1234abcd;

 private:
  int fd_ = -1;
  uint16_t port_ = 0, to_port_ = 0;
  uint16_t seq_ = 1000;
  uint32_t ts_ = 50000;
};

inline std::vector<int16_t> tone(double hz, uint32_t rate, double seconds, double amplitude = 8000) {
  std::vector<int16_t> s(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  return s;
}

// Power of one frequency (Goertzel), normalized by the signal's total power: ~1 for a
// pure tone at `hz`, ~0 when it is absent.
inline double tone_share(std::span<const int16_t> s, double hz, uint32_t rate) {
  if (s.empty()) return 0;
  double w = 2 * M_PI * hz / rate, c = 2 * std::cos(w), s1 = 0, s2 = 0, total = 0;
  for (int16_t x : s) {
    double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += static_cast<double>(x) * x;
  }
  double power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return total > 0 ? 2 * power / (total * static_cast<double>(s.size())) : 0;
}

inline double rms(std::span<const int16_t> s) {
  double sum = 0;
  for (int16_t x : s) sum += static_cast<double>(x) * x;
  return s.empty() ? 0 : std::sqrt(sum / static_cast<double>(s.size()));
}

}  // namespace hotline::test
