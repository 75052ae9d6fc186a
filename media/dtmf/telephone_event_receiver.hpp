#pragma once
// RFC 4733 §2.5.2: the receiving side of telephone-events on one leg. The media thread
// feeds every packet of the negotiated telephone-event payload type and calls tick()
// once per 20 ms; each digit comes out exactly once with its duration, however the
// packets arrive: start packet lost, only the end seen, the end sent three times,
// reordered or duplicated packets, a long event split into segments (§2.5.1.3), a new
// event cutting the previous one short, or no end at all (a timeout).
//
// Sans-I/O, single-threaded (its media thread), no allocation after construction.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace hotline::dtmf {

enum class end_reason : uint8_t {
  end_packet,  // the sender's E bit (§2.5.1.4)
  timeout,     // no packet for the event within the timeout
  next_event,  // a newer event began before this one's end arrived
};

struct received_digit {
  char digit = 0;  // '0'-'9', '*', '#', 'A'-'D', '!' for flash (event 16)
  uint32_t duration_ms = 0;
  end_reason ended_by = end_reason::end_packet;
  friend bool operator==(const received_digit&, const received_digit&) = default;
};

// The RTP fields the receiver needs; `payload` points into the datagram.
struct event_packet {
  uint32_t timestamp = 0;
  uint16_t sequence = 0;
  bool marker = false;
  std::span<const std::byte> payload;
};

class telephone_event_receiver {
 public:
  struct config {
    uint32_t clock_rate = 8000;  // the telephone-event rtpmap rate (8000, 16000, 48000)
    // No packet for the current event for this long ends it (3 packet times at 20 ms).
    // A sender that updates only every 50 ms (RFC 4733's suggestion) needs ~150.
    uint32_t timeout_ms = 60;
  };

  // At most two digits complete on one packet: the previous event cut short by a new
  // one, and the new one when the first packet seen of it is already an end packet.
  // Iterable: `for (const auto& d : rx.on_packet(...))` keeps the result alive;
  // digits() of a temporary would dangle, so it is refused.
  struct completed {
    std::array<received_digit, 2> items{};
    uint8_t count = 0;
    std::span<const received_digit> digits() const& { return {items.data(), count}; }
    std::span<const received_digit> digits() const&& = delete;
    const received_digit* begin() const { return items.data(); }
    const received_digit* end() const { return items.data() + count; }
    bool empty() const { return count == 0; }
  };

  telephone_event_receiver() : telephone_event_receiver(config{}) {}
  explicit telephone_event_receiver(config c);

  // `now_samples`: the leg's local clock in units of the event clock rate (+160 per
  // 20 ms at 8 kHz); only differences matter, it may wrap.
  completed on_packet(const event_packet& p, uint32_t now_samples);

  // Ends an event whose packets stopped coming (its end packets all lost).
  std::optional<received_digit> tick(uint32_t now_samples);

  // A digit is being received: its audio (a copy of the tone, if the sender also sends
  // it in-band) may be muted on the way to the other legs.
  bool in_event() const { return phase_ == phase::active; }

  uint64_t malformed() const { return malformed_; }  // payloads that are no DTMF event
  uint64_t stale() const { return stale_; }          // late packets of an earlier event

 private:
  enum class phase : uint8_t { idle, active, finished };

  bool is_stale(const event_packet& p) const;
  bool continues_long_event(const event_packet& p, uint8_t event) const;
  void begin(const event_packet& p, uint8_t event, uint16_t duration, uint32_t now);
  received_digit finish(end_reason why);

  config config_;
  uint32_t timeout_samples_;

  phase phase_ = phase::idle;
  uint8_t event_ = 0;
  uint32_t segment_timestamp_ = 0;  // RTP timestamp of the current segment
  uint32_t segment_duration_ = 0;   // the longest duration reported for it so far
  uint64_t earlier_segments_ = 0;   // samples covered by the event's earlier segments
  uint32_t last_heard_ = 0;         // local time of the event's last packet
  uint16_t highest_sequence_ = 0;
  uint64_t malformed_ = 0;
  uint64_t stale_ = 0;
};

}  // namespace hotline::dtmf
