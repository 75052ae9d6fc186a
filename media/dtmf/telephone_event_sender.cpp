#include "media/dtmf/telephone_event_sender.hpp"

#include <algorithm>

#include "media/rtp/packet.hpp"

namespace hotline::dtmf {
namespace {

constexpr uint32_t max_segment = 0xFFFF;
constexpr int end_copies = 3;  // RFC 4733 §2.5.1.4

uint32_t samples(uint32_t ms, uint32_t clock_rate) {
  return static_cast<uint32_t>(uint64_t{ms} * clock_rate / 1000);
}

int32_t timestamp_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

}  // namespace

telephone_event_sender::telephone_event_sender(config c)
    : config_(c),
      packet_samples_(std::max<uint32_t>(1, samples(c.packet_ms, c.clock_rate))),
      tone_samples_(std::max<uint32_t>(1, samples(c.tone_ms, c.clock_rate))),
      gap_samples_(samples(c.gap_ms, c.clock_rate)) {}

bool telephone_event_sender::start(std::string_view digits) {
  if (digits.size() > queue_capacity - queued_) return false;
  for (char d : digits)
    if (!rtp::digit_to_event(d)) return false;
  for (char d : digits) queue_[(head_ + queued_++) % queue_capacity] = *rtp::digit_to_event(d);
  return true;
}

packet_out telephone_event_sender::make(uint16_t duration, bool end) {
  packet_out p;
  rtp::build_telephone_event({.event = event_, .end = end, .volume = static_cast<uint8_t>(config_.volume & 0x3f),
                              .duration = duration},
                             p.payload);
  p.marker = first_packet_;
  p.timestamp = segment_timestamp_;
  first_packet_ = false;
  return p;
}

// The duration reported covers the event up to the end of this tick's packet time, the
// way an audio packet stamped `now` carries the samples up to now + packet time.
packet_out telephone_event_sender::tone_packet(uint32_t now) {
  int64_t elapsed = std::max<int64_t>(0, timestamp_diff(now, start_timestamp_)) + packet_samples_;
  uint64_t total = std::min<uint64_t>(static_cast<uint64_t>(elapsed), tone_samples_);
  uint64_t in_segment = total - static_cast<uint32_t>(segment_timestamp_ - start_timestamp_);
  if (in_segment > max_segment) {
    packet_out p = make(static_cast<uint16_t>(max_segment), false);
    segment_timestamp_ += max_segment;  // the next tick opens the next segment
    return p;
  }
  if (total >= tone_samples_) {
    end_duration_ = static_cast<uint16_t>(in_segment);
    ends_sent_ = 1;
    phase_ = phase::ending;
    return make(end_duration_, true);
  }
  return make(static_cast<uint16_t>(in_segment), false);
}

std::optional<packet_out> telephone_event_sender::next(uint32_t now) {
  sent_this_tick_ = false;
  std::optional<packet_out> out;
  switch (phase_) {
    case phase::ending:
      out = make(end_duration_, true);
      if (++ends_sent_ == end_copies) {
        phase_ = phase::gap;
        uint32_t after_tone = start_timestamp_ + tone_samples_ + gap_samples_;
        uint32_t after_ends = now + packet_samples_;
        next_start_ = timestamp_diff(after_tone, after_ends) > 0 ? after_tone : after_ends;
      }
      break;
    case phase::tone:
      out = tone_packet(now);
      break;
    case phase::gap:
      if (timestamp_diff(now, next_start_) < 0) break;
      phase_ = phase::idle;
      [[fallthrough]];
    case phase::idle:
      if (queued_ == 0) break;
      event_ = queue_[head_];
      head_ = (head_ + 1) % queue_capacity;
      --queued_;
      start_timestamp_ = segment_timestamp_ = now;
      first_packet_ = true;
      phase_ = phase::tone;
      out = tone_packet(now);
      break;
  }
  sent_this_tick_ = out.has_value();
  return out;
}

}  // namespace hotline::dtmf
