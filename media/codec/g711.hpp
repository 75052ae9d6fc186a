#pragma once
// G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711: 8 kHz, one byte per sample.
// Decoding is a 256-entry table; encoding is the segment search of the reference
// implementation. Both are branch-light and allocation-free (the media path).
#include <cstddef>
#include <cstdint>
#include <span>

namespace hotline::codec {

uint8_t linear_to_ulaw(int16_t pcm);
int16_t ulaw_to_linear(uint8_t u);
uint8_t linear_to_alaw(int16_t pcm);
int16_t alaw_to_linear(uint8_t a);

// Whole frames; `out` must be as long as `in`.
void encode_ulaw(std::span<const int16_t> in, std::span<uint8_t> out);
void decode_ulaw(std::span<const uint8_t> in, std::span<int16_t> out);
void encode_alaw(std::span<const int16_t> in, std::span<uint8_t> out);
void decode_alaw(std::span<const uint8_t> in, std::span<int16_t> out);

// The code for digital silence, for comfort and padding.
inline constexpr uint8_t ulaw_silence = 0xff;
inline constexpr uint8_t alaw_silence = 0xd5;

}  // namespace hotline::codec
