// RTP/RTCP packets, RFC 4733 events and G.711, against the RFCs' layouts and known values.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "media/codec/g711.hpp"
#include "media/rtp/packet.hpp"

namespace hotline {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(rtp_packet, builds_and_parses_a_g711_frame) {
  std::vector<std::byte> payload(160, std::byte{0xff});
  rtp::header h{.marker = true, .payload_type = 0, .sequence = 65535, .timestamp = 0xdeadbeef, .ssrc = 0x01020304};
  std::array<std::byte, 1500> buf{};
  size_t n = rtp::build(h, payload, buf);
  ASSERT_EQ(n, 172u);
  EXPECT_EQ(buf[0], std::byte{0x80});
  EXPECT_EQ(buf[1], std::byte{0x80});  // marker, PT 0
  rtp::packet_view v;
  ASSERT_EQ(rtp::parse(std::span(buf.data(), n), v), rtp::parse_status::ok);
  EXPECT_TRUE(v.h.marker);
  EXPECT_EQ(v.h.sequence, 65535);
  EXPECT_EQ(v.h.timestamp, 0xdeadbeefu);
  EXPECT_EQ(v.h.ssrc, 0x01020304u);
  EXPECT_EQ(v.payload.size(), 160u);
  EXPECT_EQ(rtp::build(h, payload, std::span(buf.data(), 100)), 0u) << "too small a buffer";
}

TEST(rtp_packet, csrcs_extension_and_padding_are_stepped_over) {
  // V=2 P=1 X=1 CC=1, PT 8; CSRC; extension (profile 0xBEDE, 1 word); payload 2; padding 2.
  auto d = bytes({0xB1, 0x08, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, /*csrc*/ 0, 0, 0, 7,
                  /*ext*/ 0xBE, 0xDE, 0, 1, 1, 2, 3, 4, /*payload*/ 0xAA, 0xBB, /*pad*/ 0, 2});
  rtp::packet_view v;
  ASSERT_EQ(rtp::parse(d, v), rtp::parse_status::ok);
  EXPECT_EQ(v.h.payload_type, 8);
  EXPECT_EQ(v.h.csrc_count, 1);
  ASSERT_EQ(v.payload.size(), 2u);
  EXPECT_EQ(v.payload[0], std::byte{0xAA});
}

TEST(rtp_packet, lies_in_length_fields_are_refused) {
  rtp::packet_view v;
  EXPECT_EQ(rtp::parse(bytes({0x80, 0}), v), rtp::parse_status::too_short);
  EXPECT_EQ(rtp::parse(bytes({0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}), v), rtp::parse_status::bad_version);
  EXPECT_EQ(rtp::parse(bytes({0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}), v), rtp::parse_status::too_short);  // 15 CSRCs
  EXPECT_EQ(rtp::parse(bytes({0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0, 9}), v),
            rtp::parse_status::bad_extension);
  EXPECT_EQ(rtp::parse(bytes({0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA, 50}), v), rtp::parse_status::bad_padding);
  EXPECT_EQ(rtp::parse(bytes({0x80, 200, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1}), v), rtp::parse_status::rtcp);  // RFC 5761
}

TEST(rtp_packet, sequence_arithmetic_wraps) {
  EXPECT_EQ(rtp::seq_diff(2, 65534), 4);
  EXPECT_EQ(rtp::seq_diff(65534, 2), -4);
}

TEST(rtcp, sender_report_round_trips_with_sdes) {
  rtp::rtcp_report r;
  r.ssrc = 0x11223344;
  r.sender = rtp::sender_info{0x0102030405060708ull, 160000, 1000, 160000};
  r.blocks.push_back({.ssrc = 9, .fraction_lost = 25, .cumulative_lost = -3, .highest_sequence = 70000,
                      .jitter = 12, .last_sr = 0x03040506, .delay_since_last_sr = 65536});
  std::array<std::byte, 512> buf{};
  size_t n = rtp::build_rtcp(r, "hotline@192.0.2.1", buf);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  std::vector<rtp::rtcp_report> parsed;
  bool bye = true;
  ASSERT_TRUE(rtp::parse_rtcp(std::span(buf.data(), n), parsed, bye));
  EXPECT_FALSE(bye);
  ASSERT_EQ(parsed.size(), 1u);
  ASSERT_TRUE(parsed[0].sender);
  EXPECT_EQ(parsed[0].sender->ntp_timestamp, 0x0102030405060708ull);
  ASSERT_EQ(parsed[0].blocks.size(), 1u);
  EXPECT_EQ(parsed[0].blocks[0].cumulative_lost, -3);  // 24-bit signed
  EXPECT_EQ(parsed[0].blocks[0].fraction_lost, 25);
  EXPECT_EQ(parsed[0].blocks[0].highest_sequence, 70000u);
  // A length that runs past the datagram is refused.
  buf[3] = std::byte{0x7f};
  parsed.clear();
  EXPECT_FALSE(rtp::parse_rtcp(std::span(buf.data(), n), parsed, bye));
}

TEST(telephone_event, rfc4733_layout) {
  // RFC 4733 §2.3: event 5, E bit, volume 10, duration 800 (100 ms at 8 kHz).
  auto d = bytes({5, 0x8A, 0x03, 0x20});
  auto e = rtp::parse_telephone_event(d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, 5);
  EXPECT_TRUE(e->end);
  EXPECT_EQ(e->volume, 10);
  EXPECT_EQ(e->duration, 800);
  std::array<std::byte, 4> out{};
  rtp::build_telephone_event(*e, out);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), d.begin()));
  EXPECT_EQ(rtp::event_to_digit(11), '#');
  EXPECT_EQ(rtp::digit_to_event('*'), 10);
  EXPECT_EQ(rtp::digit_to_event('d'), 15);
  EXPECT_FALSE(rtp::parse_telephone_event(bytes({40, 0, 0, 1})));  // not a DTMF event
  EXPECT_FALSE(rtp::parse_telephone_event(bytes({1, 0})));
}

// G.711: the reference values, and the error after a round trip stays within half a
// quantization step of each segment.
TEST(g711, known_codes) {
  EXPECT_EQ(codec::linear_to_ulaw(0), 0xff);
  EXPECT_EQ(codec::ulaw_to_linear(0xff), 0);
  EXPECT_EQ(codec::ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(codec::ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(codec::linear_to_alaw(0), 0xd5);
  EXPECT_EQ(codec::alaw_to_linear(0xd5), 8);
  EXPECT_EQ(codec::alaw_to_linear(0xaa), 32256);
  EXPECT_EQ(codec::alaw_to_linear(0x2a), -32256);
}

TEST(g711, every_code_decodes_and_reencodes_to_itself) {
  for (int c = 0; c < 256; ++c) {
    auto u = static_cast<uint8_t>(c);
    if (u != 0x7f) {  // µ-law has two zeros (0x7f and 0xff); 0 encodes to 0xff
      EXPECT_EQ(codec::linear_to_ulaw(codec::ulaw_to_linear(u)), u) << c;
    }
    EXPECT_EQ(codec::linear_to_alaw(codec::alaw_to_linear(u)), u) << c;
  }
}

TEST(g711, a_sine_survives_with_g711_snr) {
  std::vector<int16_t> pcm(8000), back(8000);
  std::vector<uint8_t> coded(8000);
  for (size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<int16_t>(10000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 8000));
  for (bool alaw : {false, true}) {
    if (alaw) {
      codec::encode_alaw(pcm, coded);
      codec::decode_alaw(coded, back);
    } else {
      codec::encode_ulaw(pcm, coded);
      codec::decode_ulaw(coded, back);
    }
    double signal = 0, noise = 0;
    for (size_t i = 0; i < pcm.size(); ++i) {
      signal += double(pcm[i]) * pcm[i];
      noise += double(pcm[i] - back[i]) * (pcm[i] - back[i]);
    }
    EXPECT_GT(10 * std::log10(signal / noise), 33.0) << (alaw ? "A-law" : "µ-law");  // G.711 is ~35-38 dB
  }
}

}  // namespace
}  // namespace hotline
