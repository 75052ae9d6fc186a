#include "media/engine/activity.hpp"

#include <algorithm>
#include <cmath>

namespace hotline::media {
namespace {
constexpr double speech_floor_dbov = -48;  // quieter than this is never speech
constexpr double above_noise_db = 9;        // speech stands this far above the noise floor
constexpr int hangover_frames = 10;         // 200 ms
}  // namespace

bool voice_detector::update(std::span<const int16_t> frame) {
  if (frame.empty()) {
    level_ = -96;
  } else {
    double sum = 0;
    for (int16_t s : frame) sum += static_cast<double>(s) * s;
    double rms = std::sqrt(sum / static_cast<double>(frame.size()));
    level_ = rms < 1 ? -96 : 20 * std::log10(rms / 32768.0);
  }
  bool loud = level_ > speech_floor_dbov && level_ > noise_ + above_noise_db;
  // The noise floor falls fast and rises slowly (only through non-speech frames), so
  // a long sentence does not become the floor.
  if (level_ < noise_) noise_ = std::max(-96.0, noise_ + (level_ - noise_) * 0.3);
  else if (!loud) noise_ += (level_ - noise_) * 0.02;
  if (loud) hangover_ = hangover_frames;
  else if (hangover_ > 0) --hangover_;
  return speaking();
}

conversation_activity::event conversation_activity::tick(bool caller_speaking, bool agent_speaking) {
  event e = event::none;
  if (caller_speaking) totals_.caller_speech_ms += frame_ms_;
  if (agent_speaking) totals_.agent_speech_ms += frame_ms_;
  if (!caller_speaking && !agent_speaking) {
    silent_ms_ += frame_ms_;
    if (silent_ms_ == dead_air_threshold_) {
      ++totals_.dead_air_events;
      e = event::dead_air;
    }
  } else {
    flush();
  }
  if (caller_speaking && agent_speaking) {
    overlap_ms_ += frame_ms_;
    totals_.talk_over_ms += frame_ms_;
    if (overlap_ms_ == talk_over_threshold_) {
      ++totals_.talk_over_events;
      e = event::talk_over;
    }
  } else {
    overlap_ms_ = 0;
  }
  return e;
}

void conversation_activity::flush() {
  if (silent_ms_ >= dead_air_threshold_) {
    totals_.dead_air_ms += silent_ms_;
    totals_.longest_dead_air_ms = std::max(totals_.longest_dead_air_ms, silent_ms_);
  }
  silent_ms_ = 0;
}

}  // namespace hotline::media
