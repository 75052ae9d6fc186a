#include "media/dtmf/inband.hpp"

#include <spandsp.h>

#include <algorithm>
#include <climits>
#include <new>

namespace hotline::dtmf {

// ---- detector ------------------------------------------------------------------------

void inband_detector::free_rx::operator()(dtmf_rx_state_s* s) const { dtmf_rx_free(s); }

inband_detector::inband_detector() {
  // Without a callback spandsp queues the digits it has confirmed: each digit once, at
  // its start (after the minimum on-time), never again while the tone lasts.
  state_.reset(dtmf_rx_init(nullptr, nullptr, nullptr));
  if (!state_) throw std::bad_alloc();
}

inband_detector::~inband_detector() = default;
inband_detector::inband_detector(inband_detector&&) noexcept = default;
inband_detector& inband_detector::operator=(inband_detector&&) noexcept = default;

std::string_view inband_detector::process(std::span<const int16_t> pcm) {
  if (!state_) return {};
  // spandsp takes an int count; split absurdly long inputs rather than truncate.
  while (!pcm.empty()) {
    size_t n = std::min<size_t>(pcm.size(), INT_MAX);
    dtmf_rx(state_.get(), pcm.data(), static_cast<int>(n));
    pcm = pcm.subspan(n);
  }
  // dtmf_rx_get() writes a terminating NUL after the digits: leave room for it.
  size_t n = dtmf_rx_get(state_.get(), found_.data(), static_cast<int>(found_.size() - 1));
  return {found_.data(), std::min(n, found_.size() - 1)};
}

void inband_detector::missing(size_t samples) {
  if (state_) dtmf_rx_fillin(state_.get(), static_cast<int>(std::min<size_t>(samples, INT_MAX)));
}

// ---- generator -----------------------------------------------------------------------

void inband_generator::free_tx::operator()(dtmf_tx_state_s* s) const { dtmf_tx_free(s); }

inband_generator::inband_generator(config c) {
  state_.reset(dtmf_tx_init(nullptr));
  if (!state_) throw std::bad_alloc();
  dtmf_tx_set_level(state_.get(), c.level_dbm0, c.twist_db);
  dtmf_tx_set_timing(state_.get(), c.on_ms, c.off_ms);
}

inband_generator::~inband_generator() = default;
inband_generator::inband_generator(inband_generator&&) noexcept = default;
inband_generator& inband_generator::operator=(inband_generator&&) noexcept = default;

bool inband_generator::put(std::string_view digits) {
  if (!state_ || digits.size() > INT_MAX) return false;
  // spandsp queues all the digits or none; it returns how many did not fit.
  return dtmf_tx_put(state_.get(), digits.data(), static_cast<int>(digits.size())) == 0;
}

size_t inband_generator::generate(std::span<int16_t> pcm) {
  size_t written = 0;
  if (state_) {
    while (written < pcm.size()) {
      int want = static_cast<int>(std::min<size_t>(pcm.size() - written, INT_MAX));
      int got = dtmf_tx(state_.get(), pcm.data() + written, want);
      if (got <= 0) break;
      written += static_cast<size_t>(got);
    }
  }
  std::fill(pcm.begin() + static_cast<ptrdiff_t>(written), pcm.end(), int16_t{0});
  return written;
}

}  // namespace hotline::dtmf
