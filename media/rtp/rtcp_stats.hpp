#pragma once
// RTP reception statistics for RTCP receiver reports (RFC 3550 §6.4, Appendix A.1/A.3):
// extended highest sequence, cumulative and interval loss, interarrival jitter, and the
// LSR/DLSR pair from the peer's last sender report. Also what the peer reports about us.
// The call record keeps both per leg (the "SR/RR with loss and jitter").
#include <cstdint>
#include <optional>

#include "media/rtp/packet.hpp"

namespace hotline::rtp {

class reception_stats {
 public:
  // Each RTP packet accepted from the peer; arrival in RTP clock units.
  void on_packet(uint32_t ssrc, uint16_t sequence, uint32_t timestamp, uint64_t arrival);
  // The peer's SR arrived at `now_ntp` (our NTP-format clock).
  void on_sender_report(const sender_info& sr, uint64_t now_ntp);

  bool any() const { return received_ > 0; }
  uint32_t ssrc() const { return ssrc_; }
  uint64_t received() const { return received_; }
  uint64_t expected() const;
  int64_t lost() const;  // cumulative (may be negative with duplicates, RFC 3550 A.3)
  double jitter() const { return jitter_; }  // RTP clock units

  // The report block for our next RR/SR; advances the interval (fraction lost).
  report_block make_block(uint64_t now_ntp);

 private:
  bool have_ = false;
  uint32_t ssrc_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0, received_prior_ = 0;
  double jitter_ = 0;
  std::optional<int64_t> last_transit_;
  uint32_t last_sr_ = 0;        // middle 32 bits of the SR's NTP time
  uint64_t last_sr_arrival_ = 0;  // our NTP time when it came
};

// What a leg's peer told us in its reports about our stream, and what we measured.
struct leg_quality {
  uint64_t packets_received = 0, packets_expected = 0;
  int64_t packets_lost = 0;
  double jitter_ms = 0;
  // From the peer's RR about us:
  uint32_t peer_reports = 0;
  double peer_fraction_lost = 0;  // last report, 0..1
  int64_t peer_cumulative_lost = 0;
  double peer_jitter_ms = 0;
  double round_trip_ms = -1;  // from LSR/DLSR; -1: unknown
};

// NTP time (RFC 3550 §4) from a steady-clock-free source: seconds since 1900 << 32.
uint64_t ntp_now();
inline uint32_t ntp_middle(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

}  // namespace hotline::rtp
