#include "media/dtmf/telephone_event_receiver.hpp"

#include <algorithm>

#include "media/rtp/packet.hpp"

namespace hotline::dtmf {
namespace {

constexpr uint32_t max_segment = 0xFFFF;  // the 16-bit duration field (RFC 4733 §2.5.1.3)

int32_t timestamp_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

}  // namespace

telephone_event_receiver::telephone_event_receiver(config c)
    : config_(c),
      timeout_samples_(static_cast<uint32_t>(uint64_t{c.timeout_ms} * c.clock_rate / 1000)) {}

// A packet older than the current event both in timestamp and in sequence is a late
// copy (a redundant end, a delayed update) of something already handled. A timestamp
// that went back while the sequence went forward is the peer restarting its stream
// (re-INVITE, a new source): that is a new event.
bool telephone_event_receiver::is_stale(const event_packet& p) const {
  if (phase_ == phase::idle) return false;
  return timestamp_diff(p.timestamp, segment_timestamp_) < 0 && rtp::seq_diff(p.sequence, highest_sequence_) <= 0;
}

// §2.5.1.3: an event longer than the duration field can carry goes on in a new segment
// whose timestamp is the old one plus the old segment's duration (0xFFFF), without the
// marker bit. A new press of the same digit would carry the marker, and would come
// after a gap, not exactly one full segment later.
bool telephone_event_receiver::continues_long_event(const event_packet& p, uint8_t event) const {
  if (phase_ != phase::active || event != event_ || p.marker) return false;
  int64_t step = timestamp_diff(p.timestamp, segment_timestamp_);
  int64_t slack = std::max<int64_t>(timeout_samples_, config_.clock_rate / 50);
  return step > 0 && step >= int64_t{max_segment} - slack && step <= int64_t{max_segment} + slack;
}

void telephone_event_receiver::begin(const event_packet& p, uint8_t event, uint16_t duration, uint32_t now) {
  phase_ = phase::active;
  event_ = event;
  segment_timestamp_ = p.timestamp;
  segment_duration_ = duration;
  earlier_segments_ = 0;
  last_heard_ = now;
}

received_digit telephone_event_receiver::finish(end_reason why) {
  phase_ = phase::finished;  // later packets with this timestamp are redundant copies
  uint64_t samples = earlier_segments_ + segment_duration_;
  uint64_t ms = config_.clock_rate ? samples * 1000 / config_.clock_rate : 0;
  return {rtp::event_to_digit(event_), static_cast<uint32_t>(std::min<uint64_t>(ms, UINT32_MAX)), why};
}

telephone_event_receiver::completed telephone_event_receiver::on_packet(const event_packet& p, uint32_t now) {
  completed out;
  auto e = rtp::parse_telephone_event(p.payload);
  if (!e) {
    ++malformed_;
    return out;
  }
  if (is_stale(p)) {
    ++stale_;
    return out;
  }
  bool first = phase_ == phase::idle;
  if (first || rtp::seq_diff(p.sequence, highest_sequence_) > 0) highest_sequence_ = p.sequence;

  if (!first && p.timestamp == segment_timestamp_) {
    // Same segment: an update, an end, or a copy of one. Durations only grow (a
    // reordered update carries a smaller one); once ended, the rest are redundancy.
    if (phase_ != phase::active || e->event != event_) return out;
    segment_duration_ = std::max<uint32_t>(segment_duration_, e->duration);
    last_heard_ = now;
    if (e->end) out.items[out.count++] = finish(end_reason::end_packet);
    return out;
  }

  // A newer timestamp: the next segment of a long event, or a new event.
  if (continues_long_event(p, e->event)) {
    earlier_segments_ += static_cast<uint32_t>(timestamp_diff(p.timestamp, segment_timestamp_));
    segment_timestamp_ = p.timestamp;
    segment_duration_ = e->duration;
    last_heard_ = now;
    if (e->end) out.items[out.count++] = finish(end_reason::end_packet);
    return out;
  }
  if (phase_ == phase::active) out.items[out.count++] = finish(end_reason::next_event);
  // The start packet may be lost: whatever arrives first of an event starts it, even
  // its end (then the digit is complete at once).
  begin(p, e->event, e->duration, now);
  if (e->end) out.items[out.count++] = finish(end_reason::end_packet);
  return out;
}

std::optional<received_digit> telephone_event_receiver::tick(uint32_t now) {
  if (phase_ != phase::active) return std::nullopt;
  if (timestamp_diff(now, last_heard_) < static_cast<int32_t>(timeout_samples_)) return std::nullopt;
  return finish(end_reason::timeout);
}

}  // namespace hotline::dtmf
