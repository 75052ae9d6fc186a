#include "media/codec/resampler.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <utility>

namespace hotline::codec {

resampler::resampler(uint32_t from_rate, uint32_t to_rate, int quality) : from_(from_rate), to_(to_rate) {
  int err = 0;
  state_ = speex_resampler_init(1, from_rate, to_rate, quality, &err);
  if (err != RESAMPLER_ERR_SUCCESS) state_ = nullptr;
  else speex_resampler_skip_zeros(state_);  // no leading run of filter-delay zeros
}

resampler::~resampler() {
  if (state_) speex_resampler_destroy(state_);
}

resampler::resampler(resampler&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)), from_(other.from_), to_(other.to_) {}

resampler& resampler::operator=(resampler&& other) noexcept {
  if (this != &other) {
    if (state_) speex_resampler_destroy(state_);
    state_ = std::exchange(other.state_, nullptr);
    from_ = other.from_;
    to_ = other.to_;
  }
  return *this;
}

size_t resampler::process(std::span<const int16_t> in, std::span<int16_t> out) {
  size_t want = std::min(out.size(), static_cast<size_t>(static_cast<uint64_t>(in.size()) * to_ / from_));
  if (!state_) {
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(want), int16_t{0});
    return want;
  }
  spx_uint32_t in_len = static_cast<spx_uint32_t>(in.size());
  spx_uint32_t out_len = static_cast<spx_uint32_t>(want);
  speex_resampler_process_int(state_, 0, in.data(), &in_len, out.data(), &out_len);
  // With skip_zeros the first frames come out a little short: pad by repeating the
  // last sample rather than hand the mixer a short frame.
  for (size_t i = out_len; i < want; ++i) out[i] = out_len > 0 ? out[out_len - 1] : int16_t{0};
  return want;
}

}  // namespace hotline::codec
