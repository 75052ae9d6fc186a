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

std::optional<size_t> mixer::sole_unity_source(size_t to) const {
  if (to >= max_legs) return std::nullopt;
  std::optional<size_t> only;
  for (size_t from = 0; from < max_legs; ++from) {
    if (from == to) continue;
    float a = from_[to][from], b = target_[to][from];
    if (a == 0 && b == 0) continue;
    if (a != 1 || b != 1 || only) return std::nullopt;
    only = from;
  }
  return only;
}

void mixer::mix(std::span<const std::span<const int16_t>> inputs, std::span<const std::span<int16_t>> outputs) {
  const size_t legs = std::min({inputs.size(), outputs.size(), max_legs});
  const float step = 1.0f / static_cast<float>(frame_samples_);
  for (size_t to = 0; to < legs; ++to) {
    std::span<int16_t> out = outputs[to];
    const size_t n = std::min(out.size(), frame_samples_);
    if (n == 0) continue;
    // The sources this leg hears this frame (nobody hears their own voice: N-1 mixing).
    std::array<size_t, max_legs> heard{};
    size_t count = 0;
    for (size_t from = 0; from < legs; ++from)
      if (from != to && !inputs[from].empty() && (from_[to][from] != 0 || target_[to][from] != 0)) heard[count++] = from;
    if (count == 0) {
      std::fill(out.begin(), out.end(), int16_t{0});
      continue;
    }
    if (count == 1 && from_[to][heard[0]] == 1 && target_[to][heard[0]] == 1) {
      // A bridged call: the frame is the other party's, unchanged.
      const auto& in = inputs[heard[0]];
      size_t m = std::min(n, in.size());
      std::copy_n(in.begin(), m, out.begin());
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(m), out.end(), int16_t{0});
      continue;
    }
    std::fill_n(sum_.begin(), n, 0.0f);
    for (size_t k = 0; k < count; ++k) {
      const size_t from = heard[k];
      const auto& in = inputs[from];
      const size_t m = std::min(n, in.size());
      const float a = from_[to][from], b = target_[to][from];
      if (a == b) {
        for (size_t i = 0; i < m; ++i) sum_[i] += a * static_cast<float>(in[i]);
      } else {  // the matrix changed: ramp this pair's gain across the frame
        const float d = (b - a) * step;
        for (size_t i = 0; i < m; ++i) sum_[i] += (a + d * static_cast<float>(i + 1)) * static_cast<float>(in[i]);
      }
    }
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(std::clamp(sum_[i], -32768.0f, 32767.0f));
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), int16_t{0});
  }
  from_ = target_;
}

}  // namespace hotline::mix
