#pragma once
// Speech activity per leg and the conversation measures of quality scoring: dead air
// (both sides silent longer than a threshold, N-41; a silent line, N-06) and talk-over
// (both speaking at once). Energy-based: a frame is speech when its level is above an
// absolute floor and well above the leg's tracked noise floor; a hangover bridges the
// short pauses between words so one sentence is one talkspurt. Pure computation, one
// call per 20 ms tick; the media thread owns it.
#include <cstdint>
#include <span>

namespace hotline::media {

class voice_detector {
 public:
  // True when this frame is (part of) speech.
  bool update(std::span<const int16_t> frame);
  bool speaking() const { return hangover_ > 0; }
  double level_dbov() const { return level_; }

 private:
  double noise_ = -60;  // tracked noise floor, dBov
  double level_ = -96;
  int hangover_ = 0;  // frames left in the current talkspurt
};

struct activity_totals {
  uint64_t caller_speech_ms = 0, agent_speech_ms = 0;
  uint64_t dead_air_ms = 0;    // within stretches longer than the threshold
  uint64_t talk_over_ms = 0;   // both speaking
  uint32_t dead_air_events = 0, talk_over_events = 0;
  uint64_t longest_dead_air_ms = 0;
};

class conversation_activity {
 public:
  conversation_activity(uint32_t dead_air_ms = 5000, uint32_t talk_over_ms = 1000, uint32_t frame_ms = 20)
      : dead_air_threshold_(dead_air_ms), talk_over_threshold_(talk_over_ms), frame_ms_(frame_ms) {}

  enum class event { none, dead_air, talk_over };
  // One tick of a bridged conversation; returns an event when a stretch crosses its
  // threshold (once per stretch).
  event tick(bool caller_speaking, bool agent_speaking);
  // Closes a stretch of dead air still open (the call ends or is unbridged).
  void flush();
  const activity_totals& totals() const { return totals_; }

 private:
  uint32_t dead_air_threshold_, talk_over_threshold_, frame_ms_;
  uint64_t silent_ms_ = 0, overlap_ms_ = 0;
  activity_totals totals_;
};

}  // namespace hotline::media
