#pragma once
// Speech quality under load, for media_relay_bench: one call of a transcoding step is a
// probe whose caller sends Mandarin speech as PCMU (8 kHz) and whose callee sends other
// speech as Opus (48 kHz); each keeps what the relay delivers (rtp_load's capture). After
// the step both directions are decoded as a phone would (µ-law; Opus with its PLC for a
// missing packet) and scored against the speech that was sent with the tests' similarity
// measure (tests/support/audio_similarity.hpp: 1 identical, ~0.9 through a good codec,
// < 0.3 unrelated). The same probe runs through every relay, so the scores compare them.
// Scored per 1.5 s of speech, each piece aligned on its own around the whole's lag, and
// averaged: a jitter buffer that grows by a frame mid-call shifts what follows by 20 ms,
// which a listener does not hear but one alignment for the whole would punish.
#include <opus/opus.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/codec/g711.hpp"
#include "tests/bench/rtp_load.hpp"
#include "tests/support/audio_similarity.hpp"
#include "tests/support/speech.hpp"

namespace hotline::test {

struct probe_speech {
  std::vector<int16_t> caller_8k;   // what the PCMU caller says
  std::vector<int16_t> callee_48k;  // what the Opus callee says
};

// The media tests' two sentences (tests/support/speech.hpp); nullopt if espeak-ng or sox
// is missing (the bench then runs without the probe and says so).
inline std::optional<probe_speech> make_probe_speech(const std::string& dir) {
  probe_speech s{speech_at(caller_text, 8000, dir), speech_at(agent_text, 48000, dir)};
  if (s.caller_8k.size() < 8000 || s.callee_48k.size() < 48000) return std::nullopt;  // under a second: not speech
  return s;
}

namespace detail {

// The speech an endpoint sent over `frames` 20 ms frames: its loop, frame by frame.
inline std::vector<int16_t> looped(const std::vector<int16_t>& speech, size_t frame_samples, uint32_t frames) {
  size_t loop_frames = speech.size() / frame_samples;
  std::vector<int16_t> out;
  if (loop_frames == 0) return out;
  out.reserve(static_cast<size_t>(frames) * frame_samples);
  for (uint32_t f = 0; f < frames; ++f) {
    auto at = speech.begin() + static_cast<std::ptrdiff_t>((f % loop_frames) * frame_samples);
    out.insert(out.end(), at, at + static_cast<std::ptrdiff_t>(frame_samples));
  }
  return out;
}

// Received packets in RTP timestamp order, one slot per `frame_ts` (a missing one is a
// nullptr): the playout a jitter buffer deep enough for any reordering would give.
inline std::vector<const std::vector<uint8_t>*> slots(const std::vector<rtp_load::captured_packet>& rx, uint32_t frame_ts) {
  std::vector<const std::vector<uint8_t>*> out;
  if (rx.empty()) return out;
  const uint32_t first = rx.front().ts;
  int64_t lo = 0, hi = 0;
  for (const auto& p : rx) {
    int64_t d = static_cast<int32_t>(p.ts - first);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  if ((hi - lo) / frame_ts > 50 * 600) return out;  // not one stream: ten minutes of slots
  out.assign(static_cast<size_t>((hi - lo) / frame_ts) + 1, nullptr);
  for (const auto& p : rx) {
    int64_t d = static_cast<int32_t>(p.ts - first) - lo;
    out[static_cast<size_t>(d / frame_ts)] = &p.payload;
  }
  return out;
}

// The mean similarity of 1.5 s pieces of `sent` (those with speech in them), each aligned
// within 0.2 s of where the whole aligns.
inline double piecewise_similarity(const std::vector<int16_t>& sent, uint32_t sent_rate, const std::vector<int16_t>& heard,
                                   uint32_t heard_rate) {
  auto whole = audio_similarity(sent, sent_rate, heard, heard_rate);
  if (whole.overlap_s <= 0) return whole.score;
  const auto piece = static_cast<size_t>(1.5 * sent_rate);
  const double slack_s = 0.2;
  double sum = 0;
  int pieces = 0;
  for (size_t at = 0; at + piece <= sent.size(); at += piece) {
    double energy = 0;
    for (size_t i = at; i < at + piece; ++i) energy += static_cast<double>(sent[i]) * sent[i];
    if (std::sqrt(energy / static_cast<double>(piece)) < 300) continue;  // a pause: nothing to compare
    // Where this piece lies in `heard` by the whole's alignment, with slack both sides.
    double start_s = static_cast<double>(at) / sent_rate + whole.lag_ms / 1000 - slack_s;
    if (start_s < 0) continue;
    auto from = static_cast<size_t>(start_s * heard_rate);
    auto len = static_cast<size_t>((1.5 + 2 * slack_s) * heard_rate);
    if (from + len > heard.size()) break;
    similarity_options o;
    o.max_lag_s = 2 * slack_s;
    o.min_overlap_s = 1.0;
    auto r = audio_similarity(std::span(sent).subspan(at, piece), sent_rate, std::span(heard).subspan(from, len), heard_rate, o);
    sum += r.score;
    ++pieces;
  }
  return pieces ? sum / pieces : whole.score;
}

}  // namespace detail

struct probe_scores {
  double to_callee = -1;  // the caller's PCMU speech as the Opus callee heard it
  double to_caller = -1;  // the callee's Opus speech as the PCMU caller heard it
};

// Scores the probe call (caller endpoint `a`, callee `b`) of the run `gen` just did.
inline probe_scores score_probe(const rtp_load& gen, size_t a, size_t b, const probe_speech& speech) {
  probe_scores s;
  // Caller -> callee: Opus at 48 kHz, PLC for a lost packet.
  {
    std::vector<int16_t> heard;
    int err = 0;
    OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
    std::vector<int16_t> frame(960 * 6);
    for (const auto* p : detail::slots(gen.captured(b), 960)) {
      int n = p ? opus_decode(dec, p->data(), static_cast<opus_int32>(p->size()), frame.data(), 960 * 6, 0)
                : opus_decode(dec, nullptr, 0, frame.data(), 960, 0);
      if (n > 0) heard.insert(heard.end(), frame.begin(), frame.begin() + n);
    }
    opus_decoder_destroy(dec);
    auto sent = detail::looped(speech.caller_8k, 160, gen.frames_sent(a));
    if (!heard.empty() && !sent.empty()) s.to_callee = detail::piecewise_similarity(sent, 8000, heard, 48000);
  }
  // Callee -> caller: µ-law at 8 kHz, silence for a lost packet.
  {
    std::vector<int16_t> heard;
    std::array<int16_t, 160> frame{};
    for (const auto* p : detail::slots(gen.captured(a), 160)) {
      frame.fill(0);
      if (p && p->size() == 160) codec::decode_ulaw(std::span<const uint8_t>(*p), frame);
      heard.insert(heard.end(), frame.begin(), frame.end());
    }
    auto sent = detail::looped(speech.callee_48k, 960, gen.frames_sent(b));
    if (!heard.empty() && !sent.empty()) s.to_caller = detail::piecewise_similarity(sent, 48000, heard, 8000);
  }
  return s;
}

}  // namespace hotline::test
