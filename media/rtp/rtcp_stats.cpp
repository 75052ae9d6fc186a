#include "media/rtp/rtcp_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace hotline::rtp {

uint64_t ntp_now() {
  using namespace std::chrono;
  auto since_epoch = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  constexpr uint64_t unix_to_ntp = 2208988800ull;
  uint64_t secs = static_cast<uint64_t>(since_epoch / 1'000'000'000) + unix_to_ntp;
  uint64_t frac = (static_cast<uint64_t>(since_epoch % 1'000'000'000) << 32) / 1'000'000'000;
  return (secs << 32) | frac;
}

void reception_stats::on_packet(uint32_t ssrc, uint16_t sequence, uint32_t timestamp, uint64_t arrival) {
  if (!have_ || ssrc != ssrc_) {  // first packet, or a new source (re-INVITE, another phone)
    *this = reception_stats{};
    have_ = true;
    ssrc_ = ssrc;
    max_seq_ = sequence;
    base_seq_ = sequence;
  } else {
    int16_t d = seq_diff(sequence, max_seq_);
    if (d > 0) {
      if (sequence < max_seq_) cycles_ += 1u << 16;  // wrapped
      max_seq_ = sequence;
    } else if (d < -3000) {
      // A large jump back: the source restarted its sequence; resynchronize (A.1).
      *this = reception_stats{};
      have_ = true;
      ssrc_ = ssrc;
      max_seq_ = base_seq_ = sequence;
    }
  }
  ++received_;
  // Interarrival jitter (A.8).
  int64_t transit = static_cast<int64_t>(arrival) - static_cast<int64_t>(timestamp);
  if (last_transit_) {
    double dd = std::fabs(static_cast<double>(static_cast<int32_t>(transit - *last_transit_)));
    jitter_ += (dd - jitter_) / 16.0;
  }
  last_transit_ = transit;
}

void reception_stats::on_sender_report(const sender_info& sr, uint64_t now_ntp) {
  last_sr_ = ntp_middle(sr.ntp_timestamp);
  last_sr_arrival_ = now_ntp;
}

uint64_t reception_stats::expected() const {
  if (!have_) return 0;
  return static_cast<uint64_t>(cycles_) + max_seq_ - base_seq_ + 1;
}

int64_t reception_stats::lost() const { return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_); }

report_block reception_stats::make_block(uint64_t now_ntp) {
  report_block b;
  b.ssrc = ssrc_;
  uint64_t expected_now = expected();
  uint64_t expected_interval = expected_now - expected_prior_;
  uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected_now;
  received_prior_ = received_;
  int64_t lost_interval = static_cast<int64_t>(expected_interval) - static_cast<int64_t>(received_interval);
  b.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                        ? 0
                        : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / static_cast<int64_t>(expected_interval)));
  b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost(), -0x800000, 0x7fffff));
  b.highest_sequence = cycles_ + max_seq_;
  b.jitter = static_cast<uint32_t>(jitter_);
  b.last_sr = last_sr_;
  if (last_sr_arrival_) b.delay_since_last_sr = static_cast<uint32_t>((now_ntp - last_sr_arrival_) >> 16);
  return b;
}

}  // namespace hotline::rtp
