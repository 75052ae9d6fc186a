#pragma once
// Sample-rate conversion between 8, 16 and 48 kHz (any rates speexdsp takes), one 20 ms
// frame at a time, with speexdsp's windowed-sinc filter: a G.711 leg in a wideband mix,
// a prompt loaded at one rate played into a session at another. Keeps filter state from
// frame to frame, so the output is continuous; one per direction per stream.
#include <cstddef>
#include <cstdint>
#include <span>

struct SpeexResamplerState_;

namespace hotline::codec {

class resampler {
 public:
  // quality 0-10 (speexdsp): 3 is its VoIP default; 5 for prompts and recordings.
  resampler(uint32_t from_rate, uint32_t to_rate, int quality = 3);
  ~resampler();
  resampler(const resampler&) = delete;
  resampler& operator=(const resampler&) = delete;
  resampler(resampler&& other) noexcept;
  resampler& operator=(resampler&& other) noexcept;

  uint32_t from_rate() const { return from_; }
  uint32_t to_rate() const { return to_; }
  bool valid() const { return state_ != nullptr; }

  // Converts `in` (from_rate) into `out`; returns the samples written (in.size() * to/from
  // for whole frames; the filter's delay is absorbed, never shortens a frame).
  size_t process(std::span<const int16_t> in, std::span<int16_t> out);

 private:
  SpeexResamplerState_* state_ = nullptr;
  uint32_t from_ = 0, to_ = 0;
};

}  // namespace hotline::codec
