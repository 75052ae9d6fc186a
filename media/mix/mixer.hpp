#pragma once
// A call's conference point: each leg's output is the sum of the legs it hears, under a
// per-pair gain matrix (hears[to][from]). Presets give the monitoring modes of N-40:
// bridge (caller <-> agent), listen (the supervisor hears both, nobody hears the
// supervisor), whisper (the agent also hears the supervisor, the caller does not), barge
// (everyone hears everyone). A playback source (prompt, hold music) is a leg too.
// A change of matrix is ramped over one frame, so switching modes mid-call does not click.
// Pure computation on 16-bit PCM at one rate: the media thread calls it every tick.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

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
  explicit mixer(size_t frame_samples) : frame_samples_(frame_samples) {}

  void set(const matrix& m);  // takes effect, ramped, with the next mix()
  const matrix& current() const { return target_; }

  // inputs[i]: leg i's decoded frame (empty span: the leg sent nothing this tick).
  // outputs[i]: what leg i hears; must hold frame_samples. Legs that hear nobody get
  // silence. Sums saturate to int16 instead of wrapping.
  void mix(std::span<const std::span<const int16_t>> inputs, std::span<const std::span<int16_t>> outputs);

 private:
  size_t frame_samples_;
  matrix from_{};    // gains at the start of the next frame
  matrix target_{};  // gains at its end
};

}  // namespace hotline::mix
