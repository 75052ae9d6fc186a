#pragma once
// A call's conference point: each leg's output is the sum of the legs it hears, under a
// per-pair gain matrix (hears[to][from]). Presets give the monitoring modes of N-40:
// bridge (caller <-> agent), listen (the supervisor hears both, nobody hears the
// supervisor), whisper (the agent also hears the supervisor, the caller does not), barge
// (everyone hears everyone). A playback source (prompt, hold music) is a leg too.
// A change of matrix is ramped over one frame, so switching modes mid-call does not click.
// Pure computation on 16-bit PCM at one rate: the media thread calls it every tick.
//
// Cost: the work is per (to, from) pair with a nonzero gain, not per sample over all legs:
// a leg hearing one source at unity gain (a bridged call) is a copy, zero gains cost
// nothing, and only a pair whose gain changes this frame pays for the ramp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hotline::mix {

inline constexpr size_t max_legs = 6;
enum leg : size_t { caller = 0, agent = 1, supervisor = 2, playback = 3 };

enum class mode { bridge, listen, whisper, barge };

using matrix = std::array<std::array<float, max_legs>, max_legs>;  // gain [to][from]

// The matrix of a monitoring mode (playback is heard by nobody; see with_playback).
matrix preset(mode m);
// Adds the playback leg to the ears of `to` (IVR prompt to the caller, work-id
// announcement to both, hold music to the caller only).
matrix with_playback(matrix m, std::initializer_list<size_t> to, float gain = 1.0f);

class mixer {
 public:
  explicit mixer(size_t frame_samples) : frame_samples_(frame_samples), sum_(frame_samples) {}

  void set(const matrix& m);  // takes effect, ramped, with the next mix()
  const matrix& current() const { return target_; }

  // inputs[i]: leg i's decoded frame (empty span: the leg sent nothing this tick).
  // outputs[i]: what leg i hears; must hold frame_samples. Legs that hear nobody get
  // silence. Sums saturate to int16 instead of wrapping.
  // An empty output span: that leg's frame is not needed this tick (the engine forwards
  // its payload instead); it is skipped, the ramp still advances.
  void mix(std::span<const std::span<const int16_t>> inputs, std::span<const std::span<int16_t>> outputs);

  // The one leg `to` hears, when it hears exactly one at gain 1 and no change of matrix is
  // pending for it (its next frame would be a plain copy of that leg's input).
  std::optional<size_t> sole_unity_source(size_t to) const;
  // Whether `from` is in `to`'s next frame at all (a gain now or ramping to or from one).
  bool hears(size_t to, size_t from) const {
    return to < max_legs && from < max_legs && to != from && (from_[to][from] != 0 || target_[to][from] != 0);
  }

 private:
  size_t frame_samples_;
  std::vector<float> sum_;  // one frame of the sum being built
  matrix from_{};    // gains at the start of the next frame
  matrix target_{};  // gains at its end
};

}  // namespace hotline::mix
