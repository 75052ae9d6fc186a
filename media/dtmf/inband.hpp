#pragma once
// DTMF carried as tones inside the audio (trunks that send no telephone-events): the
// detector runs on decoded 8 kHz PCM of a G.711 leg, the generator makes tones for tests
// and for sending in-band should a peer ever need it. Both wrap spandsp (Q.23/Q.24
// compliant, good talk-off figures), whose headers stay inside inband.cpp.
//
// Single-threaded; spandsp's state is allocated once at construction, nothing per frame.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

struct dtmf_rx_state_s;
struct dtmf_tx_state_s;

namespace hotline::dtmf {

class inband_detector {
 public:
  inband_detector();
  ~inband_detector();
  inband_detector(inband_detector&&) noexcept;
  inband_detector& operator=(inband_detector&&) noexcept;
  inband_detector(const inband_detector&) = delete;
  inband_detector& operator=(const inband_detector&) = delete;

  // One frame of 8 kHz PCM (any length; 160 samples per 20 ms). Returns the digits
  // that completed in it, each reported once, in order; the view is valid until the next
  // call. A tone spanning several frames is reported in the frame it is confirmed.
  std::string_view process(std::span<const int16_t> pcm);

  // A frame lost before decoding: the detector carries on as if it had not been there,
  // so a tone interrupted by one lost frame stays one digit.
  void missing(size_t samples);

 private:
  struct free_rx {
    void operator()(dtmf_rx_state_s* s) const;
  };

  std::unique_ptr<dtmf_rx_state_s, free_rx> state_;
  std::array<char, 32> found_{};  // digits completed in the current call
};

class inband_generator {
 public:
  struct config {
    int level_dbm0 = -10;  // the low tone; the high one is `twist_db` above it
    int twist_db = 0;
    int on_ms = 100;
    int off_ms = 60;
  };

  inband_generator() : inband_generator(config{}) {}
  explicit inband_generator(config c);
  ~inband_generator();
  inband_generator(inband_generator&&) noexcept;
  inband_generator& operator=(inband_generator&&) noexcept;
  inband_generator(const inband_generator&) = delete;
  inband_generator& operator=(const inband_generator&) = delete;

  // Queues digits (0-9 * # A-D); false if spandsp's queue (128) could not take them all.
  bool put(std::string_view digits);

  // Fills `pcm` (8 kHz) with tones and the gaps between them, then silence once the
  // queue is empty. Returns the samples of tone/gap written; the rest are zero.
  size_t generate(std::span<int16_t> pcm);

 private:
  struct free_tx {
    void operator()(dtmf_tx_state_s* s) const;
  };
  std::unique_ptr<dtmf_tx_state_s, free_tx> state_;
};

}  // namespace hotline::dtmf
