#pragma once
// An adaptive jitter buffer for one receiving leg. The media thread inserts packets as
// they arrive and pops one frame per 20 ms tick. Missing frames come out as `lost`, so
// the decoder conceals them (Opus PLC/FEC, G.711 repeat-and-fade). The target delay
// follows the measured interarrival jitter (RFC 3550 §6.4.1): one frame while the jitter
// is low (under ~1/6 frame), one more per third of a frame of jitter; surplus delay is
// shed one frame at a time. An underrun grows it: a packet that arrives just after its
// slot was played as lost is played next instead of dropped (the playout point moves one
// frame back), so a stream whose packets land close to the tick settles one frame later.
// Single-threaded (its media thread); no locks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/packet.hpp"

namespace hotline::rtp {

struct jitter_config {
  uint32_t clock_rate = 8000;
  uint32_t frame_samples = 160;  // 20 ms at 8 kHz
  uint32_t min_delay_frames = 1;  // at low jitter: the next tick after the packet
  uint32_t max_delay_frames = 12;  // 240 ms
  size_t capacity = 64;            // frames held at most; beyond, the oldest go
};

struct jitter_stats {
  uint64_t received = 0, played = 0, lost = 0, late = 0, duplicates = 0, resets = 0;
  uint64_t stretched = 0;          // concealment frames played to grow the delay
  uint64_t rewound = 0;            // late packets played after their concealment (delay +1 frame)
  uint64_t dropped_for_delay = 0;  // frames skipped to shrink it
  double jitter_samples = 0;  // RFC 3550 interarrival jitter, timestamp units
  uint32_t target_delay_frames = 0;
};

class jitter_buffer {
 public:
  explicit jitter_buffer(jitter_config config = {});

  enum class insert_result { queued, duplicate, late, reset };
  // `arrival_samples` is the arrival time in timestamp units (the media thread's clock
  // scaled to the codec rate); it drives the jitter estimate.
  insert_result insert(uint16_t sequence, uint32_t timestamp, std::span<const std::byte> payload,
                       uint64_t arrival_samples);

  struct frame {
    bool lost = false;  // nothing arrived for this slot: conceal
    uint32_t timestamp = 0;
    uint16_t sequence = 0;  // the packet's (a lost frame: none)
    std::vector<std::byte> payload;
  };
  // One frame per tick, or nullopt while the buffer is still filling (play silence).
  std::optional<frame> pop();
  // The same without allocating: `out`'s payload buffer is swapped with the slot's, so
  // buffers are recycled. False while the buffer is still filling.
  bool pop(frame& out);

  // The payload the next pop() will play, if it is already here (empty otherwise): a
  // lost frame is recovered from the next packet's Opus FEC data.
  std::span<const std::byte> peek() const;

  // The packets already here that later pops will play, oldest first: f(sequence,
  // timestamp, payload).
  template <class F>
  void for_each_ahead(F&& f) const {
    if (!have_first_) return;
    for (uint32_t ts = next_ts_; ts_diff(newest_ts_, ts) >= 0; ts += config_.frame_samples) {
      const slot& s = ring_[(ts / config_.frame_samples) % ring_.size()];
      if (s.filled && s.timestamp == ts) f(s.sequence, s.timestamp, std::span<const std::byte>(s.payload));
    }
  }

  // Frames of delay above what the jitter asks for, added by playing that many concealment
  // frames (stretched) and kept until the stream restarts. One for an Opus stream that
  // lost a packet: the next packet is then here when a lost one is played, and its FEC
  // data recovers the lost frame (at the 1-frame minimum it has not arrived yet).
  void set_extra_delay(uint32_t frames) { extra_delay_frames_ = std::min(frames, config_.max_delay_frames); }

  const jitter_stats& stats() const { return stats_; }
  size_t depth() const;  // frames buffered ahead of the playout point

 private:
  struct slot {
    bool filled = false;
    uint32_t timestamp = 0;
    uint16_t sequence = 0;
    std::vector<std::byte> payload;
  };
  slot& slot_for(uint32_t timestamp);
  void update_jitter(uint32_t timestamp, uint64_t arrival);
  void restart();

  jitter_config config_;
  std::vector<slot> ring_;
  bool playing_ = false;
  bool have_first_ = false;
  uint32_t next_ts_ = 0;           // the timestamp the next pop() plays
  uint32_t newest_ts_ = 0;         // the newest timestamp buffered
  std::optional<uint32_t> last_ts_;  // for the jitter estimate
  uint64_t last_arrival_ = 0;
  uint32_t underruns_in_row_ = 0;
  uint32_t surplus_ticks_ = 0;
  uint32_t stretch_ticks_ = 0;
  uint32_t extra_delay_frames_ = 0, extra_delay_applied_ = 0;
  std::optional<uint32_t> last_lost_ts_;  // the frame last played as lost (an underrun)
  jitter_stats stats_;
};

}  // namespace hotline::rtp
