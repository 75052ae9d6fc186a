#include "media/codec/g711.hpp"

#include <array>

namespace hotline::codec {
namespace {

constexpr int ulaw_bias = 0x84;   // 132: shifts the segments so zero maps to 0xff
constexpr int ulaw_clip = 32635;

// The segment (exponent) of a biased magnitude: index of its highest bit above bit 7.
constexpr int segment(int v) {
  int seg = 0;
  for (v >>= 8; v != 0 && seg < 7; v >>= 1) ++seg;
  return seg;
}

constexpr int16_t ulaw_decode_one(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int t = ((u & 0x0f) << 3) + ulaw_bias;
  t <<= (u & 0x70) >> 4;
  return static_cast<int16_t>((u & 0x80) ? (ulaw_bias - t) : (t - ulaw_bias));
}

constexpr int16_t alaw_decode_one(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  int seg = (a & 0x70) >> 4;
  if (seg == 0) t += 8;
  else if (seg == 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return static_cast<int16_t>((a & 0x80) ? t : -t);
}

constexpr auto make_table(int16_t (*f)(uint8_t)) {
  std::array<int16_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = f(static_cast<uint8_t>(i));
  return t;
}

constexpr auto ulaw_table = make_table(ulaw_decode_one);
constexpr auto alaw_table = make_table(alaw_decode_one);

}  // namespace

uint8_t linear_to_ulaw(int16_t pcm) {
  int v = pcm;
  int sign = v < 0 ? 0x80 : 0;
  if (v < 0) v = -v;
  if (v > ulaw_clip) v = ulaw_clip;
  v += ulaw_bias;
  int seg = segment(v);
  int mantissa = (v >> (seg + 3)) & 0x0f;
  return static_cast<uint8_t>(~(sign | (seg << 4) | mantissa));
}

int16_t ulaw_to_linear(uint8_t u) { return ulaw_table[u]; }

uint8_t linear_to_alaw(int16_t pcm) {
  // The reference (Sun's g711.c): 13-bit magnitude, segment ends 0x1F..0xFFF.
  static constexpr int segment_end[8] = {0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff};
  int v = pcm >> 3;
  int mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  int seg = 0;
  while (seg < 8 && v > segment_end[seg]) ++seg;
  if (seg >= 8) return static_cast<uint8_t>(0x7f ^ mask);
  int code = (seg << 4) | (seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t alaw_to_linear(uint8_t a) { return alaw_table[a]; }

void encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out) {
  for (size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = linear_to_ulaw(in[i]);
}
void decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out) {
  for (size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = ulaw_table[in[i]];
}
void encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out) {
  for (size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = linear_to_alaw(in[i]);
}
void decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out) {
  for (size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = alaw_table[in[i]];
}

}  // namespace hotline::codec
