// RFC 4733 telephone-events as a peer may send them: any order, any timestamps, any
// payload, with ticks in between. The receiver must report only real digits, at most
// one per event start, never one twice in a row from the same packet's copies; and the
// sender's packets for digits taken from the input must come back exactly.
//
// Input: 2 bytes of setup (clock rate, timeout), then 12-byte records
//   flags(1: bit0 marker, bits1-3 ticks to advance) seq(2) ts(4) payload(4) digit(1).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "media/dtmf/telephone_event_receiver.hpp"
#include "media/dtmf/telephone_event_sender.hpp"
#include "media/rtp/packet.hpp"

namespace {

using namespace hotline;

uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

bool valid_digit(char c) { return std::string_view("0123456789*#ABCD!").find(c) != std::string_view::npos; }

// Lossless sender → receiver: what goes in comes out, with the configured duration.
void round_trip(const std::string& digits, uint32_t clock_rate, uint32_t tone_ms) {
  dtmf::telephone_event_sender tx({.clock_rate = clock_rate, .tone_ms = tone_ms});
  dtmf::telephone_event_receiver rx({.clock_rate = clock_rate});
  if (!tx.start(digits)) std::abort();
  uint32_t step = clock_rate / 50, now = 0x7ffffff0;  // wraps during the run
  uint16_t seq = 0xfff0;
  std::string got;
  for (int i = 0; i < 100000 && !(tx.idle() && !rx.in_event()); ++i, now += step, ++seq) {
    if (auto p = tx.next(now)) {
      auto done = rx.on_packet({.timestamp = p->timestamp, .sequence = seq, .marker = p->marker, .payload = p->payload}, now);
      for (const auto& d : done.digits()) {
        if (d.ended_by != dtmf::end_reason::end_packet || d.duration_ms + 1 < tone_ms || d.duration_ms > tone_ms) std::abort();
        got += d.digit;
      }
    }
    if (rx.tick(now)) std::abort();  // a lossless stream never times out
  }
  if (got != digits) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr uint32_t rates[] = {8000, 16000, 48000, 8000};
  uint32_t clock_rate = rates[data[0] & 3];
  uint32_t timeout_ms = 20 + (data[1] % 200);
  dtmf::telephone_event_receiver rx({.clock_rate = clock_rate, .timeout_ms = timeout_ms});
  uint32_t now = 0;
  size_t accepted = 0, reported = 0;
  std::string digits;
  for (size_t at = 2; at + 12 <= size; at += 12) {
    const uint8_t* r = data + at;
    std::array<std::byte, 4> payload{};
    for (int i = 0; i < 4; ++i) payload[i] = static_cast<std::byte>(r[7 + i]);
    dtmf::event_packet p{.timestamp = be32(r + 3), .sequence = static_cast<uint16_t>(r[1] << 8 | r[2]),
                         .marker = (r[0] & 1) != 0, .payload = payload};
    if (rtp::parse_telephone_event(payload)) ++accepted;
    auto done = rx.on_packet(p, now);
    for (const auto& d : done.digits()) {
      if (!valid_digit(d.digit)) std::abort();
      ++reported;
    }
    // An end packet leaves no event open.
    if (!done.empty() && done.digits().back().ended_by == dtmf::end_reason::end_packet && rx.in_event()) std::abort();
    for (int t = 0; t < ((r[0] >> 1) & 7); ++t) {
      now += clock_rate / 50;
      if (auto d = rx.tick(now)) {
        if (!valid_digit(d->digit) || d->ended_by != dtmf::end_reason::timeout || rx.in_event()) std::abort();
        ++reported;
        if (rx.tick(now + 1)) std::abort();  // reported once
      }
    }
    if (digits.size() < 6) {
      char c = rtp::event_to_digit(r[11] & 15);
      digits += c;
    }
  }
  // Each digit needs a packet that started its event.
  if (reported > accepted) std::abort();
  if (!digits.empty()) round_trip(digits, clock_rate, 40 + (data[1] % 8) * 20);
  return 0;
}
