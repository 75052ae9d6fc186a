#include "media/mix/mixer.hpp"

#include <algorithm>

namespace hotline::mix {

matrix preset(mode m) {
  matrix g{};
  g[caller][agent] = 1;  // every mode keeps the conversation itself
  g[agent][caller] = 1;
  switch (m) {
    case mode::bridge:
      break;
    case mode::listen:
      g[supervisor][caller] = g[supervisor][agent] = 1;
      break;
    case mode::whisper:
      g[supervisor][caller] = g[supervisor][agent] = 1;
      g[agent][supervisor] = 1;
      break;
    case mode::barge:
      g[supervisor][caller] = g[supervisor][agent] = 1;
      g[agent][supervisor] = g[caller][supervisor] = 1;
      break;
  }
  return g;
}

matrix with_playback(matrix m, std::initializer_list<size_t> to, float gain) {
  for (size_t t : to)
    if (t < max_legs) m[t][playback] = gain;
  return m;
}

void mixer::set(const matrix& m) { target_ = m; }

void mixer::mix(std::span<const std::span<const int16_t>> inputs, std::span<const std::span<int16_t>> outputs) {
  size_t legs = std::min({inputs.size(), outputs.size(), max_legs});
  const float step = 1.0f / static_cast<float>(frame_samples_);
  for (size_t to = 0; to < legs; ++to) {
    std::span<int16_t> out = outputs[to];
    size_t n = std::min(out.size(), frame_samples_);
    for (size_t i = 0; i < n; ++i) {
      float sum = 0;
      float t = static_cast<float>(i + 1) * step;  // ramp position across the frame
      for (size_t from = 0; from < legs; ++from) {
        if (from == to) continue;  // nobody hears their own voice (N-1 mixing)
        float a = from_[to][from], b = target_[to][from];
        if (a == 0 && b == 0) continue;
        const auto& in = inputs[from];
        if (i >= in.size()) continue;
        sum += (a + (b - a) * t) * static_cast<float>(in[i]);
      }
      out[i] = static_cast<int16_t>(std::clamp(sum, -32768.0f, 32767.0f));
    }
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), int16_t{0});
  }
  from_ = target_;
}

}  // namespace hotline::mix
