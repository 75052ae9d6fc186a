#pragma once
// RFC 4733 §2.5.1: sending digits as telephone-events on one leg. The media thread asks
// once per packet time (20 ms) with the leg's current RTP timestamp; while a digit is
// going out each tick yields one event packet, sent instead of that tick's audio:
//   - the first packet carries the marker bit (§2.5.1.2);
//   - every packet of an event carries the event's start timestamp, and the duration
//     grows by one packet time each tick (§2.5.1.2);
//   - the final duration goes out with the E bit three times (§2.5.1.4);
//   - an event longer than 0xFFFF timestamp units continues in a new segment, its
//     timestamp advanced by 0xFFFF, without the marker (§2.5.1.3);
// then a gap (audio flows again) before the next digit.
//
// Sans-I/O, single-threaded, no allocation: digits wait in a fixed queue.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hotline::dtmf {

struct packet_out {
  std::array<std::byte, 4> payload{};  // the RFC 4733 event block
  bool marker = false;
  uint32_t timestamp = 0;  // the event's (segment's) start, not the tick's
};

class telephone_event_sender {
 public:
  struct config {
    uint32_t clock_rate = 8000;  // the telephone-event rtpmap rate
    uint32_t packet_ms = 20;     // the leg's packet time: one packet per tick
    uint32_t tone_ms = 100;
    uint32_t gap_ms = 60;        // between the end of one tone and the start of the next
    uint8_t volume = 10;         // -dBm0 (0-63)
  };
  static constexpr size_t queue_capacity = 64;

  telephone_event_sender() : telephone_event_sender(config{}) {}
  explicit telephone_event_sender(config c);

  // Queues digits (0-9 * # A-D, a-d) behind any still queued or in progress. False,
  // and nothing queued, when one is no DTMF digit or the queue would overflow.
  bool start(std::string_view digits);

  // Called once per tick with the timestamp this tick's audio packet would carry.
  // A packet: send it with the telephone-event payload type and no audio this tick.
  std::optional<packet_out> next(uint32_t rtp_timestamp_now);

  // The last next() yielded an event packet: the leg's audio is suppressed this tick.
  bool suppress_audio() const { return sent_this_tick_; }

  // Nothing queued and nothing in flight (the last end packet went out).
  bool idle() const { return (phase_ == phase::idle || phase_ == phase::gap) && queued_ == 0; }

  // Drops the digits not yet started; an event in progress still ends properly.
  void clear() { queued_ = 0; }

 private:
  enum class phase : uint8_t { idle, tone, ending, gap };

  packet_out tone_packet(uint32_t now);
  packet_out make(uint16_t duration, bool end);

  config config_;
  uint32_t packet_samples_;
  uint32_t tone_samples_;
  uint32_t gap_samples_;

  std::array<uint8_t, queue_capacity> queue_{};  // event codes, a ring
  size_t head_ = 0;
  size_t queued_ = 0;

  phase phase_ = phase::idle;
  uint8_t event_ = 0;
  bool first_packet_ = false;
  bool sent_this_tick_ = false;
  uint32_t start_timestamp_ = 0;    // the event's start
  uint32_t segment_timestamp_ = 0;  // the current segment's start
  uint16_t end_duration_ = 0;
  int ends_sent_ = 0;
  uint32_t next_start_ = 0;  // the earliest timestamp for the next digit
};

}  // namespace hotline::dtmf
