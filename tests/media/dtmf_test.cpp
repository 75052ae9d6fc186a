// DTMF: the RFC 4733 receiver against each way packets arrive on a real network, the
// sender's packets against the RFC's rules, round trips of all 16 digits, and in-band
// tones through G.711 into spandsp's detector (and nothing detected in speech).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "media/codec/g711.hpp"
#include "media/dtmf/inband.hpp"
#include "media/dtmf/telephone_event_receiver.hpp"
#include "media/dtmf/telephone_event_sender.hpp"
#include "media/rtp/packet.hpp"
#include "tests/media/speech_material.hpp"

namespace hotline {
namespace {

using dtmf::end_reason;
using dtmf::received_digit;

constexpr uint32_t tick = 160;  // 20 ms at 8 kHz

std::array<std::byte, 4> event_block(uint8_t event, bool end, uint16_t duration) {
  std::array<std::byte, 4> b{};
  rtp::build_telephone_event({.event = event, .end = end, .volume = 10, .duration = duration}, b);
  return b;
}

// Drives a receiver the way the media thread does: packets with their arrival time on
// the leg's clock, and a tick every 20 ms. Collects what it reports.
struct receiver_harness {
  dtmf::telephone_event_receiver rx;
  uint32_t now = 0;
  std::vector<received_digit> digits;

  explicit receiver_harness(dtmf::telephone_event_receiver::config c = {}) : rx(c) {}

  void packet(uint16_t seq, uint32_t ts, uint8_t event, bool end, uint16_t duration, bool marker = false) {
    auto block = event_block(event, end, duration);
    for (auto d : rx.on_packet({.timestamp = ts, .sequence = seq, .marker = marker, .payload = block}, now))
      digits.push_back(d);
  }
  void advance(uint32_t samples) {
    for (uint32_t t = 0; t < samples; t += tick) {
      now += tick;
      if (auto d = rx.tick(now)) digits.push_back(*d);
    }
  }
  // One event as a well-behaved sender emits it: a packet per 20 ms, three end packets.
  uint16_t press(uint16_t seq, uint32_t ts, uint8_t event, uint16_t duration) {
    for (uint16_t d = tick; d < duration; d += tick) {
      packet(seq++, ts, event, false, d, d == tick);
      advance(tick);
    }
    for (int i = 0; i < 3; ++i) {
      packet(seq++, ts, event, true, duration, duration <= tick && i == 0);
      advance(tick);
    }
    return seq;
  }
};

// ---- receiver: RFC 4733 §2.5.2 -------------------------------------------------------

TEST(telephone_event_receiver, one_digit_with_its_three_end_packets_is_reported_once) {
  receiver_harness h;
  h.press(1000, 48000, 5, 800);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'5', 100, end_reason::end_packet}));
  h.advance(10 * tick);
  EXPECT_EQ(h.digits.size(), 1u) << "no timeout after an ended event";
  EXPECT_FALSE(h.rx.in_event());
}

TEST(telephone_event_receiver, in_event_while_a_digit_is_held) {
  receiver_harness h;
  h.packet(1, 0, 1, false, 160, true);
  EXPECT_TRUE(h.rx.in_event());
  h.packet(2, 0, 1, true, 320);
  EXPECT_FALSE(h.rx.in_event());
}

TEST(telephone_event_receiver, lost_start_packet_the_first_update_starts_the_event) {
  receiver_harness h;
  h.packet(11, 8000, 9, false, 480);  // packets with 160 and 320 lost, marker with them
  h.advance(tick);
  h.packet(12, 8000, 9, false, 640);
  h.advance(tick);
  h.packet(13, 8000, 9, true, 800);
  h.packet(14, 8000, 9, true, 800);
  h.packet(15, 8000, 9, true, 800);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'9', 100, end_reason::end_packet}));
}

TEST(telephone_event_receiver, only_an_end_packet_arrives) {
  receiver_harness h;
  h.packet(20, 16000, 11, true, 1200);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'#', 150, end_reason::end_packet}));
  h.packet(21, 16000, 11, true, 1200);
  h.advance(10 * tick);
  EXPECT_EQ(h.digits.size(), 1u);
}

TEST(telephone_event_receiver, all_end_packets_lost_the_event_times_out_after_three_packet_times) {
  receiver_harness h;
  h.packet(1, 0, 3, false, 160, true);
  h.advance(tick);
  h.packet(2, 0, 3, false, 320);
  h.advance(tick);
  h.packet(3, 0, 3, false, 480);
  h.advance(2 * tick);
  EXPECT_TRUE(h.digits.empty()) << "40 ms without a packet is still the event";
  h.advance(tick);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'3', 60, end_reason::timeout}));
  // The end packets turning up late do not report the digit again.
  h.packet(4, 0, 3, true, 800);
  h.packet(5, 0, 3, true, 800);
  h.advance(10 * tick);
  EXPECT_EQ(h.digits.size(), 1u);
}

TEST(telephone_event_receiver, timeout_is_configurable_for_senders_updating_every_50_ms) {
  receiver_harness h({.clock_rate = 8000, .timeout_ms = 150});
  h.packet(1, 0, 7, false, 400, true);
  h.advance(400);  // 50 ms later (rounded to ticks)
  h.packet(2, 0, 7, false, 800);
  h.advance(400);
  h.packet(3, 0, 7, true, 1200);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'7', 150, end_reason::end_packet}));
}

TEST(telephone_event_receiver, a_new_timestamp_ends_the_previous_event) {
  receiver_harness h;
  h.packet(1, 0, 1, false, 160, true);
  h.advance(tick);
  h.packet(2, 0, 1, false, 320);  // then the end packets are all lost
  h.advance(tick);
  h.packet(3, 800, 2, false, 160, true);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'1', 40, end_reason::next_event}));
  h.advance(tick);
  h.packet(4, 800, 2, true, 320);
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[1], (received_digit{'2', 40, end_reason::end_packet}));
}

TEST(telephone_event_receiver, the_next_event_seen_only_by_its_end_reports_both) {
  receiver_harness h;
  h.packet(1, 0, 4, false, 160, true);
  h.packet(9, 1600, 6, true, 640);  // everything else lost
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[0], (received_digit{'4', 20, end_reason::next_event}));
  EXPECT_EQ(h.digits[1], (received_digit{'6', 80, end_reason::end_packet}));
}

TEST(telephone_event_receiver, reordered_and_duplicated_packets_of_one_event) {
  receiver_harness h;
  h.packet(2, 4000, 0, false, 320);  // before the start
  h.packet(1, 4000, 0, false, 160, true);
  h.packet(2, 4000, 0, false, 320);  // duplicate
  h.packet(4, 4000, 0, false, 640);
  h.packet(3, 4000, 0, false, 480);  // late update: duration does not shrink
  EXPECT_TRUE(h.digits.empty());
  h.packet(6, 4000, 0, true, 800);
  h.packet(5, 4000, 0, false, 800);  // the last update after the end
  h.packet(7, 4000, 0, true, 800);
  h.packet(6, 4000, 0, true, 800);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'0', 100, end_reason::end_packet}));
}

TEST(telephone_event_receiver, late_packets_of_an_earlier_event_are_ignored) {
  receiver_harness h;
  uint16_t seq = h.press(100, 0, 1, 800);
  seq = h.press(seq, 1280, 2, 800);
  h.packet(101, 0, 1, false, 320);  // the first event's update, delayed
  h.packet(104, 0, 1, true, 800);   // and a copy of its end
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[0].digit, '1');
  EXPECT_EQ(h.digits[1].digit, '2');
  EXPECT_EQ(h.rx.stale(), 2u);
}

TEST(telephone_event_receiver, late_start_of_an_event_after_the_next_began) {
  // Event A's first packet overtaken by event B's (reordering across events): A's
  // packets, older in timestamp and sequence, are dropped; B is reported.
  receiver_harness h;
  h.packet(10, 800, 8, false, 160, true);
  h.packet(9, 0, 7, true, 640);
  h.packet(11, 800, 8, true, 320);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'8', 40, end_reason::end_packet}));
}

TEST(telephone_event_receiver, the_same_digit_twice_is_two_events) {
  receiver_harness h;
  uint16_t seq = h.press(1, 0, 5, 800);
  h.press(seq, 1280, 5, 800);
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[0].digit, '5');
  EXPECT_EQ(h.digits[1].digit, '5');
}

TEST(telephone_event_receiver, the_same_digit_twice_with_the_first_end_lost) {
  receiver_harness h;
  h.packet(1, 0, 5, false, 160, true);
  h.advance(tick);
  h.packet(2, 0, 5, false, 320);
  h.advance(tick);
  h.packet(6, 960, 5, false, 160, true);  // the second press, marker set
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'5', 40, end_reason::next_event}));
  h.packet(7, 960, 5, true, 320);
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[1], (received_digit{'5', 40, end_reason::end_packet}));
}

TEST(telephone_event_receiver, long_event_in_segments_is_one_digit) {
  // RFC 4733 §2.5.1.3: 10 s of '*' at 8 kHz is 80000 units; the first segment reports
  // 0xFFFF, the second starts at timestamp + 0xFFFF without the marker.
  receiver_harness h;
  uint32_t ts = 1'000'000;
  uint16_t seq = 1;
  for (uint32_t d = tick; d < 0xFFFF; d += tick) {
    h.packet(seq++, ts, 10, false, static_cast<uint16_t>(d), d == tick);
    h.advance(tick);
  }
  h.packet(seq++, ts, 10, false, 0xFFFF);
  h.advance(tick);
  uint32_t second = ts + 0xFFFF;
  uint32_t rest = 80000 - 0xFFFF;  // 14465
  for (uint32_t d = 65; d < rest; d += tick) {
    h.packet(seq++, second, 10, false, static_cast<uint16_t>(d));
    h.advance(tick);
  }
  EXPECT_TRUE(h.digits.empty());
  for (int i = 0; i < 3; ++i) h.packet(seq++, second, 10, true, static_cast<uint16_t>(rest));
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'*', 10000, end_reason::end_packet}));
}

TEST(telephone_event_receiver, long_event_whose_segment_boundary_packets_were_lost) {
  receiver_harness h;
  h.packet(1, 0, 12, false, 64000, true);
  h.advance(tick);
  h.packet(5, 0xFFFF, 12, false, 300);  // 0xFFFF report and the segment's first lost
  h.advance(tick);
  h.packet(6, 0xFFFF, 12, true, 465);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'A', (0xFFFF + 465) * 1000 / 8000, end_reason::end_packet}));
}

TEST(telephone_event_receiver, timestamps_and_sequences_wrap) {
  receiver_harness h;
  uint16_t seq = h.press(65534, 0xFFFFFF00u, 1, 800);  // the sequence wraps during this event
  h.press(seq, 0xFFFFFF00u + 1280, 2, 800);            // and this one's timestamp is past 2^32
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[1], (received_digit{'2', 100, end_reason::end_packet}));
}

TEST(telephone_event_receiver, a_stream_restart_with_an_older_timestamp_is_a_new_event) {
  // After a re-INVITE the peer may restart its timestamps; sequence numbers go on.
  receiver_harness h;
  uint16_t seq = h.press(500, 900000, 1, 800);
  h.press(seq, 1000, 2, 800);
  ASSERT_EQ(h.digits.size(), 2u);
  EXPECT_EQ(h.digits[1].digit, '2');
}

TEST(telephone_event_receiver, other_clock_rates_and_flash) {
  receiver_harness h({.clock_rate = 48000, .timeout_ms = 60});
  h.packet(1, 0, 16, false, 960, true);
  h.packet(2, 0, 16, true, 4800);
  ASSERT_EQ(h.digits.size(), 1u);
  EXPECT_EQ(h.digits[0], (received_digit{'!', 100, end_reason::end_packet}));
}

TEST(telephone_event_receiver, payloads_that_are_no_dtmf_event_are_counted_and_ignored) {
  dtmf::telephone_event_receiver rx;
  std::array<std::byte, 4> not_dtmf{std::byte{40}, std::byte{0x80}, std::byte{0}, std::byte{160}};
  std::array<std::byte, 2> short_payload{};
  EXPECT_TRUE(rx.on_packet({.timestamp = 0, .sequence = 1, .payload = not_dtmf}, 0).empty());
  EXPECT_TRUE(rx.on_packet({.timestamp = 0, .sequence = 2, .payload = short_payload}, 0).empty());
  EXPECT_EQ(rx.malformed(), 2u);
  EXPECT_FALSE(rx.in_event());
}

// ---- sender: RFC 4733 §2.5.1 ---------------------------------------------------------

struct sent {
  uint8_t event;
  bool end;
  uint8_t volume;
  uint16_t duration;
  bool marker;
  uint32_t timestamp;
  uint32_t tick_timestamp;
};

std::vector<sent> drain(dtmf::telephone_event_sender& tx, uint32_t& now, uint32_t step, size_t max_ticks = 100000) {
  std::vector<sent> out;
  for (size_t i = 0; i < max_ticks && !tx.idle(); ++i, now += step) {
    auto p = tx.next(now);
    EXPECT_EQ(tx.suppress_audio(), p.has_value());
    if (!p) continue;
    auto e = rtp::parse_telephone_event(p->payload);
    EXPECT_TRUE(e);
    out.push_back({e->event, e->end, e->volume, e->duration, p->marker, p->timestamp, now});
  }
  return out;
}

TEST(telephone_event_sender, one_digit_follows_rfc4733) {
  dtmf::telephone_event_sender tx;
  ASSERT_TRUE(tx.start("5"));
  uint32_t now = 123456;
  auto p = drain(tx, now, tick);
  // 100 ms: updates at 20, 40, 60, 80 ms of duration, then the end three times.
  ASSERT_EQ(p.size(), 7u);
  const uint16_t durations[] = {160, 320, 480, 640, 800, 800, 800};
  for (size_t i = 0; i < p.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(p[i].event, 5);
    EXPECT_EQ(p[i].marker, i == 0) << "marker on the first packet only (§2.5.1.2)";
    EXPECT_EQ(p[i].timestamp, 123456u) << "the event's start, in every packet";
    EXPECT_EQ(p[i].duration, durations[i]);
    EXPECT_EQ(p[i].end, i >= 4) << "the end packet sent three times (§2.5.1.4)";
    EXPECT_EQ(p[i].volume, 10);
    EXPECT_EQ(p[i].tick_timestamp, 123456u + i * tick) << "one packet per tick";
  }
  EXPECT_TRUE(tx.idle());
  EXPECT_FALSE(tx.next(now));
  EXPECT_FALSE(tx.suppress_audio());
}

TEST(telephone_event_sender, digits_are_100_ms_apart_by_a_60_ms_gap_with_audio_in_it) {
  dtmf::telephone_event_sender tx;
  ASSERT_TRUE(tx.start("12"));
  uint32_t now = 0;
  std::vector<bool> audio;
  std::vector<uint32_t> starts;
  for (int i = 0; i < 20; ++i, now += tick) {
    auto p = tx.next(now);
    audio.push_back(!p);
    if (p && p->marker) starts.push_back(p->timestamp);
  }
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1] - starts[0], 1280u) << "100 ms tone + 60 ms gap";
  // ticks 0-6: first digit (5 + 2 more ends); 7: audio; 8-14: second digit.
  const std::vector<bool> expected = {false, false, false, false, false, false, false, true,
                                      false, false, false, false, false, false, false, true,
                                      true,  true,  true,  true};
  EXPECT_EQ(audio, expected);
}

TEST(telephone_event_sender, configurable_tone_gap_volume_and_clock_rate) {
  dtmf::telephone_event_sender tx({.clock_rate = 48000, .packet_ms = 20, .tone_ms = 90, .gap_ms = 40, .volume = 20});
  ASSERT_TRUE(tx.start("#"));
  uint32_t now = 0;
  auto p = drain(tx, now, 960);
  ASSERT_EQ(p.size(), 7u);  // 960, 1920, 2880, 3840, then 4320 (90 ms) x3
  EXPECT_EQ(p[3].duration, 3840);
  EXPECT_EQ(p[4].duration, 4320);
  EXPECT_TRUE(p[4].end && p[5].end && p[6].end);
  EXPECT_EQ(p[0].volume, 20);
  EXPECT_EQ(p[0].event, 11);
}

TEST(telephone_event_sender, refuses_what_is_no_digit_and_queue_overflow) {
  dtmf::telephone_event_sender tx;
  EXPECT_FALSE(tx.start("12x"));
  EXPECT_TRUE(tx.idle()) << "nothing queued from a refused string";
  EXPECT_TRUE(tx.start(std::string(dtmf::telephone_event_sender::queue_capacity, '1')));
  EXPECT_FALSE(tx.start("2"));
  tx.clear();
  EXPECT_TRUE(tx.idle());
  EXPECT_TRUE(tx.start("abcd"));  // lower case accepted
}

TEST(telephone_event_sender, long_tone_goes_out_in_segments) {
  dtmf::telephone_event_sender tx({.tone_ms = 10000});
  ASSERT_TRUE(tx.start("*"));
  uint32_t now = 5000;
  auto p = drain(tx, now, tick);
  size_t boundary = 0;
  while (boundary < p.size() && p[boundary].timestamp == 5000) ++boundary;
  ASSERT_LT(boundary, p.size());
  EXPECT_EQ(p[boundary - 1].duration, 0xFFFF) << "the first segment ends at the field's maximum";
  EXPECT_FALSE(p[boundary - 1].end);
  EXPECT_EQ(p[boundary].timestamp, 5000u + 0xFFFF) << "next segment: timestamp + 0xFFFF (§2.5.1.3)";
  EXPECT_FALSE(p[boundary].marker);
  EXPECT_EQ(p.back().duration, 80000 - 0xFFFF);
  EXPECT_TRUE(p.back().end);
  for (size_t i = 1; i < p.size(); ++i) EXPECT_FALSE(p[i].marker);
}

// ---- round trips ---------------------------------------------------------------------

// The sender's packets, numbered as the leg would number them, into a receiver; each
// tick the receiver ticks too. `drop` decides per packet whether the network loses it.
template <class Drop>
std::vector<received_digit> round_trip(dtmf::telephone_event_sender& tx, dtmf::telephone_event_receiver& rx,
                                       uint32_t step, Drop drop) {
  std::vector<received_digit> got;
  uint32_t now = 777;
  uint16_t seq = 60000;
  for (int i = 0; i < 200000 && !(tx.idle() && !rx.in_event()); ++i, now += step) {
    auto p = tx.next(now);
    uint16_t this_seq = seq++;  // audio or event, every tick sends one packet
    if (p && !drop())
      for (auto d : rx.on_packet(
               {.timestamp = p->timestamp, .sequence = this_seq, .marker = p->marker, .payload = p->payload}, now))
        got.push_back(d);
    if (auto d = rx.tick(now)) got.push_back(*d);
  }
  return got;
}

TEST(telephone_event_round_trip, all_16_digits_with_their_durations) {
  for (uint32_t tone_ms : {40u, 100u, 250u}) {
    SCOPED_TRACE(tone_ms);
    dtmf::telephone_event_sender tx({.tone_ms = tone_ms});
    dtmf::telephone_event_receiver rx;
    ASSERT_TRUE(tx.start("0123456789*#ABCD"));
    auto got = round_trip(tx, rx, tick, [] { return false; });
    std::string digits;
    for (const auto& d : got) {
      digits += d.digit;
      EXPECT_EQ(d.duration_ms, tone_ms);
      EXPECT_EQ(d.ended_by, end_reason::end_packet);
    }
    EXPECT_EQ(digits, "0123456789*#ABCD");
  }
}

TEST(telephone_event_round_trip, at_48_khz) {
  dtmf::telephone_event_sender tx({.clock_rate = 48000});
  dtmf::telephone_event_receiver rx({.clock_rate = 48000});
  ASSERT_TRUE(tx.start("159#"));
  auto got = round_trip(tx, rx, 960, [] { return false; });
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3], (received_digit{'#', 100, end_reason::end_packet}));
}

TEST(telephone_event_round_trip, a_ten_second_digit) {
  dtmf::telephone_event_sender tx({.tone_ms = 10000});
  dtmf::telephone_event_receiver rx;
  ASSERT_TRUE(tx.start("0"));
  auto got = round_trip(tx, rx, tick, [] { return false; });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (received_digit{'0', 10000, end_reason::end_packet}));
}

TEST(telephone_event_round_trip, every_digit_exactly_once_through_30_percent_loss) {
  std::mt19937 rng(4733);
  std::bernoulli_distribution lose(0.3);
  dtmf::telephone_event_sender tx;
  dtmf::telephone_event_receiver rx;
  std::string sent;
  for (int i = 0; i < 4; ++i) sent += "0123456789*#ABCD";
  ASSERT_TRUE(tx.start(sent));
  auto got = round_trip(tx, rx, tick, [&] { return lose(rng); });
  std::string digits;
  for (const auto& d : got) {
    digits += d.digit;
    EXPECT_LE(d.duration_ms, 100u);
  }
  EXPECT_EQ(digits, sent);
}

// ---- in-band -------------------------------------------------------------------------

using encode_fn = void (*)(std::span<const int16_t>, std::span<uint8_t>);
using decode_fn = void (*)(std::span<const uint8_t>, std::span<int16_t>);

// 20 ms frames through G.711 and into the detector; `lost` frames never reach it.
template <class Lost>
std::string detect_through_g711(std::span<const int16_t> pcm, encode_fn encode, decode_fn decode, Lost lost) {
  dtmf::inband_detector detector;
  std::string digits;
  std::array<uint8_t, tick> coded{};
  std::array<int16_t, tick> decoded{};
  for (size_t at = 0; at + tick <= pcm.size(); at += tick) {
    if (lost()) {
      detector.missing(tick);
      continue;
    }
    encode(pcm.subspan(at, tick), coded);
    decode(coded, decoded);
    digits += detector.process(decoded);
  }
  return digits;
}

std::vector<int16_t> tones(std::string_view digits, dtmf::inband_generator::config c = {}) {
  dtmf::inband_generator gen(c);
  EXPECT_TRUE(gen.put(digits));
  std::vector<int16_t> pcm;
  std::array<int16_t, tick> frame{};
  while (gen.generate(frame) > 0) pcm.insert(pcm.end(), frame.begin(), frame.end());
  pcm.insert(pcm.end(), 10 * tick, 0);  // silence after, for the last digit's end
  return pcm;
}

TEST(inband_dtmf, all_16_digits_through_ulaw_and_alaw) {
  auto pcm = tones("0123456789*#ABCD");
  auto never = [] { return false; };
  EXPECT_EQ(detect_through_g711(pcm, codec::encode_ulaw, codec::decode_ulaw, never), "0123456789*#ABCD");
  EXPECT_EQ(detect_through_g711(pcm, codec::encode_alaw, codec::decode_alaw, never), "0123456789*#ABCD");
}

TEST(inband_dtmf, quiet_and_fast_digits) {
  // -25 dBm0 and 50 ms on / 50 ms off: the limits of Q.24 that trunks still use.
  auto pcm = tones("147*2580369#", {.level_dbm0 = -25, .twist_db = 0, .on_ms = 50, .off_ms = 50});
  EXPECT_EQ(detect_through_g711(pcm, codec::encode_ulaw, codec::decode_ulaw, [] { return false; }), "147*2580369#");
}

TEST(inband_dtmf, with_3_percent_of_frames_lost) {
  std::string sent;
  for (int i = 0; i < 3; ++i) sent += "0123456789*#ABCD";
  auto pcm = tones(sent);
  std::mt19937 rng(1733);
  std::bernoulli_distribution lose(0.03);
  size_t lost = 0;
  auto got = detect_through_g711(pcm, codec::encode_alaw, codec::decode_alaw, [&] { return lose(rng) && ++lost; });
  EXPECT_GT(lost, 3u) << "the seed must actually lose frames";
  EXPECT_EQ(got, sent);
}

TEST(inband_dtmf, no_digits_in_mandarin_speech) {
  std::vector<int16_t> speech = test::mandarin_speech(test::greeting_text);
  ASSERT_FALSE(speech.empty()) << "espeak-ng -v cmn and sox are needed (deploy/install-deps.sh)";
  const auto& more = test::mandarin_speech(test::unrelated_text);
  speech.insert(speech.end(), more.begin(), more.end());
  EXPECT_EQ(detect_through_g711(speech, codec::encode_ulaw, codec::decode_ulaw, [] { return false; }), "");
  // Louder: talk-off must not depend on the level.
  for (auto& s : speech) s = static_cast<int16_t>(std::clamp(s * 4, -32768, 32767));
  EXPECT_EQ(detect_through_g711(speech, codec::encode_alaw, codec::decode_alaw, [] { return false; }), "");
}

TEST(inband_dtmf, no_digits_in_a_melody_with_harmonics) {
  // Hold music: notes of a scale with two overtones, 200 ms each, for 20 s.
  const double notes[] = {261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3, 587.3, 659.3};
  std::vector<int16_t> pcm;
  std::mt19937 rng(7);
  double phase = 0;
  for (int n = 0; n < 100; ++n) {
    double f = notes[rng() % std::size(notes)];
    for (int i = 0; i < 1600; ++i) {
      phase += 2 * std::numbers::pi * f / 8000;
      double s = std::sin(phase) + 0.5 * std::sin(2 * phase) + 0.25 * std::sin(3 * phase);
      pcm.push_back(static_cast<int16_t>(6000 * s));
    }
  }
  EXPECT_EQ(detect_through_g711(pcm, codec::encode_ulaw, codec::decode_ulaw, [] { return false; }), "");
}

TEST(inband_dtmf, a_digit_spanning_many_frames_is_reported_once_and_moves_keep_state) {
  auto pcm = tones("8", {.level_dbm0 = -10, .twist_db = 0, .on_ms = 1000, .off_ms = 100});
  dtmf::inband_detector first;
  std::string digits;
  size_t at = 0;
  for (; at + tick <= pcm.size() / 2; at += tick) digits += first.process(std::span(pcm).subspan(at, tick));
  dtmf::inband_detector moved = std::move(first);
  for (; at + tick <= pcm.size(); at += tick) digits += moved.process(std::span(pcm).subspan(at, tick));
  EXPECT_EQ(digits, "8");
}

}  // namespace
}  // namespace hotline
