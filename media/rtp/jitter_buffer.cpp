#include "media/rtp/jitter_buffer.hpp"

#include <algorithm>
#include <cmath>

namespace hotline::rtp {
namespace {

constexpr uint32_t shed_after_ticks = 50;      // 1 s of surplus before a frame is dropped
constexpr uint32_t pause_after_underruns = 25; // 0.5 s with nothing: the stream paused, rebuffer

}  // namespace

jitter_buffer::jitter_buffer(jitter_config config) : config_(config), ring_(std::max<size_t>(config.capacity, 4)) {
  stats_.target_delay_frames = config_.min_delay_frames;
}

jitter_buffer::slot& jitter_buffer::slot_for(uint32_t timestamp) {
  return ring_[(timestamp / config_.frame_samples) % ring_.size()];
}

size_t jitter_buffer::depth() const {
  if (!have_first_) return 0;
  int64_t d = ts_diff(newest_ts_, next_ts_);
  return d < 0 ? 0 : static_cast<size_t>(d / config_.frame_samples + 1);
}

std::span<const std::byte> jitter_buffer::peek() const {
  if (!have_first_) return {};
  const slot& s = ring_[(next_ts_ / config_.frame_samples) % ring_.size()];
  if (s.filled && s.timestamp == next_ts_) return s.payload;
  return {};
}

void jitter_buffer::update_jitter(uint32_t timestamp, uint64_t arrival) {
  // RFC 3550 §6.4.1 / A.8: D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1}); J += (|D| - J)/16.
  if (last_ts_) {
    double d = static_cast<double>(static_cast<int64_t>(arrival - last_arrival_)) -
               static_cast<double>(ts_diff(timestamp, *last_ts_));
    stats_.jitter_samples += (std::fabs(d) - stats_.jitter_samples) / 16.0;
  }
  last_ts_ = timestamp;
  last_arrival_ = arrival;
  // Target: enough frames to cover ~3 jitters above the floor, within the limits. Rounded,
  // not ceiled: a jitter of a few samples must not cost a whole frame (20 ms) of delay.
  auto from_jitter = static_cast<uint32_t>(std::lround(3.0 * stats_.jitter_samples / config_.frame_samples));
  stats_.target_delay_frames =
      std::clamp(config_.min_delay_frames + from_jitter, config_.min_delay_frames, config_.max_delay_frames);
}

void jitter_buffer::restart() {
  for (auto& s : ring_) {
    s.filled = false;
    s.payload.clear();
  }
  playing_ = false;
  have_first_ = false;
  last_ts_.reset();
  last_lost_ts_.reset();
  underruns_in_row_ = 0;
  surplus_ticks_ = 0;
  extra_delay_applied_ = 0;
}

jitter_buffer::insert_result jitter_buffer::insert(uint16_t sequence, uint32_t timestamp,
                                                   std::span<const std::byte> payload, uint64_t arrival_samples) {
  ++stats_.received;
  insert_result result = insert_result::queued;
  if (have_first_) {
    int64_t ahead = ts_diff(timestamp, next_ts_);
    int64_t span = static_cast<int64_t>(ring_.size()) * config_.frame_samples;
    if (ahead >= span || ahead <= -span) {
      // A jump (new source, re-INVITE, a long silence): start over from this packet.
      ++stats_.resets;
      restart();
      result = insert_result::reset;
    } else if (ahead < 0) {
      if (playing_ && last_lost_ts_ == timestamp && ts_diff(next_ts_, timestamp) == static_cast<int64_t>(config_.frame_samples) &&
          depth() + 1 < config_.max_delay_frames) {
        // Just missed its tick (played as lost an instant ago): the playout point was too
        // close to the arrivals. Play it next, one frame later than planned from now on.
        next_ts_ = timestamp;
        last_lost_ts_.reset();
        ++stats_.rewound;
      } else if (playing_) {
        ++stats_.late;
        return insert_result::late;
      } else {
        next_ts_ = timestamp;  // still filling: an earlier packet moves the start back
      }
    }
  }
  update_jitter(timestamp, arrival_samples);
  if (!have_first_) {
    have_first_ = true;
    next_ts_ = newest_ts_ = timestamp;
  }
  slot& s = slot_for(timestamp);
  if (s.filled && s.timestamp == timestamp) {
    ++stats_.duplicates;
    return insert_result::duplicate;
  }
  s.filled = true;
  s.timestamp = timestamp;
  s.sequence = sequence;
  s.payload.assign(payload.begin(), payload.end());
  if (ts_diff(timestamp, newest_ts_) > 0) newest_ts_ = timestamp;
  return result;
}

std::optional<jitter_buffer::frame> jitter_buffer::pop() {
  frame f;
  if (!pop(f)) return std::nullopt;
  return f;
}

bool jitter_buffer::pop(frame& f) {
  f.lost = false;
  f.payload.clear();
  if (!have_first_) return false;
  if (!playing_) {
    if (depth() < stats_.target_delay_frames) return false;
    playing_ = true;
    surplus_ticks_ = 0;
  }
  // Grow the delay: play one concealment frame without moving on. Asked for
  // (set_extra_delay), or because the jitter grew (at most one per 10 ticks, so the
  // stretch is not heard as a stutter).
  const bool asked = extra_delay_applied_ < extra_delay_frames_ && depth() + 1 < config_.max_delay_frames;
  if (asked || (depth() + 1 < stats_.target_delay_frames && ++stretch_ticks_ >= 10)) {
    if (asked) ++extra_delay_applied_;
    else stretch_ticks_ = 0;
    ++stats_.stretched;
    f.lost = true;
    f.timestamp = next_ts_;
    return true;
  }
  // Shed delay the network no longer needs, one frame per second at most.
  if (depth() > stats_.target_delay_frames + 2) {
    if (++surplus_ticks_ >= shed_after_ticks) {
      slot& s = slot_for(next_ts_);
      if (s.filled && s.timestamp == next_ts_) {
        s.filled = false;
        s.payload.clear();
      }
      next_ts_ += config_.frame_samples;
      ++stats_.dropped_for_delay;
      surplus_ticks_ = 0;
    }
  } else {
    surplus_ticks_ = 0;
  }
  f.timestamp = next_ts_;
  slot& s = slot_for(next_ts_);
  if (s.filled && s.timestamp == next_ts_) {
    std::swap(f.payload, s.payload);  // the slot keeps the caller's old buffer for reuse
    f.sequence = s.sequence;
    s.payload.clear();
    s.filled = false;
    ++stats_.played;
    underruns_in_row_ = 0;
    last_lost_ts_.reset();
  } else {
    f.lost = true;
    ++stats_.lost;
    last_lost_ts_ = next_ts_;
    if (ts_diff(next_ts_, newest_ts_) >= 0 && ++underruns_in_row_ >= pause_after_underruns) {
      // Nothing for half a second: the far end paused (DTX, hold). Rebuffer on the
      // next packet instead of counting every tick as a loss.
      playing_ = false;
      have_first_ = false;
      last_ts_.reset();
      underruns_in_row_ = 0;
      stats_.lost -= pause_after_underruns;
      last_lost_ts_.reset();
      return false;
    }
  }
  next_ts_ += config_.frame_samples;
  return true;
}

}  // namespace hotline::rtp
