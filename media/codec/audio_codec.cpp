#include "media/codec/audio_codec.hpp"

#include <opus/opus.h>

#include <algorithm>
#include <cctype>

#include "media/codec/g711.hpp"

namespace hotline::codec {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool opus_rate(uint32_t r) { return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000; }

// The narrowest Opus bandwidth that carries `hz` of audio.
int bandwidth_for(uint32_t hz) {
  if (hz <= 4000) return OPUS_BANDWIDTH_NARROWBAND;
  if (hz <= 6000) return OPUS_BANDWIDTH_MEDIUMBAND;
  if (hz <= 8000) return OPUS_BANDWIDTH_WIDEBAND;
  if (hz <= 12000) return OPUS_BANDWIDTH_SUPERWIDEBAND;
  return OPUS_BANDWIDTH_FULLBAND;
}

int bitrate_for(int bandwidth) {
  switch (bandwidth) {
    // A G.711 source's 4 kHz on the speech probe (docs/PERFORMANCE.md, session 13): SILK
    // at 16 / 24 kbit/s 0.993 / 0.998; CELT at 32 / 40 / 48 kbit/s 0.9992 / 0.9996 / 0.9997.
    case OPUS_BANDWIDTH_NARROWBAND: return 40000;
    case OPUS_BANDWIDTH_MEDIUMBAND: return 20000;
    case OPUS_BANDWIDTH_WIDEBAND: return 24000;
    case OPUS_BANDWIDTH_SUPERWIDEBAND: return 28000;
    default: return 32000;
  }
}

}  // namespace

std::optional<kind> kind_of(std::string_view name, uint32_t clock_rate) {
  if (iequals(name, "PCMU") && clock_rate == 8000) return kind::pcmu;
  if (iequals(name, "PCMA") && clock_rate == 8000) return kind::pcma;
  if (iequals(name, "opus") && clock_rate == 48000) return kind::opus;
  return std::nullopt;
}

std::string_view name_of(kind k) {
  switch (k) {
    case kind::pcmu: return "PCMU";
    case kind::pcma: return "PCMA";
    case kind::opus: return "opus";
  }
  return "";
}

std::variant<std::unique_ptr<audio_codec>, std::string> audio_codec::create(const codec_params& p) {
  if (p.ptime_ms != 10 && p.ptime_ms != 20 && p.ptime_ms != 40 && p.ptime_ms != 60)
    return std::string("unsupported ptime ") + std::to_string(p.ptime_ms) + " ms";
  if (!opus_rate(p.pcm_rate)) return "unsupported PCM rate " + std::to_string(p.pcm_rate);
  std::unique_ptr<audio_codec> c(new audio_codec(p));
  if (p.codec == kind::opus) {
    int err = 0;
    c->enc_ = opus_encoder_create(static_cast<opus_int32>(p.pcm_rate), 1, OPUS_APPLICATION_VOIP, &err);
    if (err != OPUS_OK) return std::string("opus encoder: ") + opus_strerror(err);
    c->dec_ = opus_decoder_create(static_cast<opus_int32>(p.pcm_rate), 1, &err);
    if (err != OPUS_OK) return std::string("opus decoder: ") + opus_strerror(err);
    opus_encoder_ctl(c->enc_, OPUS_SET_INBAND_FEC(p.fec ? 1 : 0));
    c->tune_opus_bandwidth();
  } else {
    c->last_.assign(8 * p.ptime_ms, 0);
    c->scratch_.assign(8 * p.ptime_ms, 0);
    if (p.pcm_rate != 8000) {
      c->up_.emplace(8000, p.pcm_rate);
      c->down_.emplace(p.pcm_rate, 8000);
    }
  }
  return c;
}

audio_codec::~audio_codec() {
  if (enc_) opus_encoder_destroy(enc_);
  if (dec_) opus_decoder_destroy(dec_);
}

void audio_codec::tune_opus_bandwidth() {
  // The narrowest of: what the PCM can hold, what the peer plays, what the source has.
  uint32_t hz = params_.pcm_rate / 2;
  hz = std::min(hz, params_.max_playback_rate / 2);
  if (params_.source_bandwidth_hz) hz = std::min(hz, params_.source_bandwidth_hz);
  int bw = bandwidth_for(hz);
  int complexity = bw == OPUS_BANDWIDTH_NARROWBAND ? params_.narrowband_complexity : params_.complexity;
  opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(std::clamp(complexity, 0, 10)));
  opus_encoder_ctl(enc_, OPUS_SET_MAX_BANDWIDTH(bw));
  opus_encoder_ctl(enc_, OPUS_SET_BITRATE(params_.bitrate ? static_cast<opus_int32>(params_.bitrate) : bitrate_for(bw)));
  // A G.711 source's 4 kHz: VOIP's speech tuning (its high-pass above all) takes away
  // what the caller's line carried; AUDIO keeps it (the speech probe: 0.9981 against
  // 0.9974, the same CPU). libopus takes the application only before the first frame, so
  // an encoder whose bandwidth changes later keeps the one it started with.
  opus_encoder_ctl(enc_, OPUS_SET_APPLICATION(bw == OPUS_BANDWIDTH_NARROWBAND ? OPUS_APPLICATION_AUDIO : OPUS_APPLICATION_VOIP));
  // Narrowband with no loss to cover: libopus picks CELT at this bitrate (the signal left
  // to it). With loss reported and FEC wanted: "voice" makes it SILK, the mode with FEC.
  const int loss = std::clamp(params_.expected_loss_percent, 0, 100);
  const bool silk_for_fec = params_.fec && loss > 0;
  opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(bw == OPUS_BANDWIDTH_NARROWBAND && !silk_for_fec ? OPUS_AUTO : OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(loss));
}

void audio_codec::on_peer_loss(int percent) {
  percent = std::clamp(percent, 0, 100);
  if (percent < params_.expected_loss_percent) percent = (params_.expected_loss_percent + percent) / 2;
  if (params_.codec != kind::opus || percent == params_.expected_loss_percent) return;
  params_.expected_loss_percent = percent;
  tune_opus_bandwidth();
}

void audio_codec::set_source_bandwidth(uint32_t hz) {
  if (params_.codec != kind::opus || hz == params_.source_bandwidth_hz) return;
  params_.source_bandwidth_hz = hz;
  tune_opus_bandwidth();
}

bool audio_codec::decode(std::span<const std::byte> payload, std::span<int16_t> out) {
  const size_t n = pcm_samples_per_frame();
  if (out.size() < n) return false;
  if (params_.codec == kind::opus) {
    int got = opus_decode(dec_, reinterpret_cast<const unsigned char*>(payload.data()),
                          static_cast<opus_int32>(payload.size()), out.data(), static_cast<int>(n), 0);
    if (got < 0) {
      ++counters_.corrupt;
      conceal({}, out);
      return false;
    }
    for (size_t i = static_cast<size_t>(got); i < n; ++i) out[i] = 0;  // a shorter packet (10 ms in a 20 ms slot)
    ++counters_.decoded;
    return true;
  }
  const size_t g = scratch_.size();
  if (payload.size() != g) {  // another ptime than negotiated: take what fits
    ++counters_.corrupt;
    if (payload.empty()) {
      conceal({}, out);
      return false;
    }
  }
  const size_t m = std::min(g, payload.size());
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(payload.data()), m);
  auto pcm8 = std::span(scratch_).first(m);
  if (params_.codec == kind::pcmu) decode_ulaw(bytes, pcm8);
  else decode_alaw(bytes, pcm8);
  std::fill(scratch_.begin() + static_cast<std::ptrdiff_t>(m), scratch_.end(), int16_t{0});
  last_ = scratch_;
  lost_in_row_ = 0;
  if (up_) up_->process(scratch_, out.first(n));
  else std::copy(scratch_.begin(), scratch_.end(), out.begin());
  ++counters_.decoded;
  return true;
}

void audio_codec::conceal(std::span<const std::byte> next, std::span<int16_t> out) {
  const size_t n = pcm_samples_per_frame();
  if (out.size() < n) return;
  ++counters_.concealed;
  if (params_.codec == kind::opus) {
    if (!next.empty()) {
      // RFC 7587 §3.1 / libopus: decode_fec=1 on the next packet yields the lost frame.
      int got = opus_decode(dec_, reinterpret_cast<const unsigned char*>(next.data()),
                            static_cast<opus_int32>(next.size()), out.data(), static_cast<int>(n), 1);
      if (got == static_cast<int>(n)) {
        ++counters_.fec_recovered;
        return;
      }
    }
    int got = opus_decode(dec_, nullptr, 0, out.data(), static_cast<int>(n), 0);  // PLC
    for (size_t i = got < 0 ? 0 : static_cast<size_t>(got); i < n; ++i) out[i] = 0;
    return;
  }
  // G.711: repeat the last frame, fading 20 % more each lost frame (silent after 5).
  ++lost_in_row_;
  float gain = std::max(0.0f, 1.0f - 0.2f * static_cast<float>(lost_in_row_));
  for (size_t i = 0; i < scratch_.size(); ++i) {
    // Fade within the frame too, so consecutive repeats do not step.
    float g = gain + 0.2f * (1.0f - static_cast<float>(i) / static_cast<float>(scratch_.size()));
    g = std::min(g, 1.0f);
    scratch_[i] = static_cast<int16_t>(static_cast<float>(last_[i]) * (lost_in_row_ > 5 ? 0.0f : g));
  }
  if (up_) up_->process(scratch_, out.first(n));
  else std::copy(scratch_.begin(), scratch_.end(), out.begin());
}

size_t audio_codec::encode(std::span<const int16_t> pcm, std::span<std::byte> out) {
  const size_t n = pcm_samples_per_frame();
  if (pcm.size() < n) return 0;
  if (params_.codec == kind::opus) {
    opus_int32 got = opus_encode(enc_, pcm.data(), static_cast<int>(n), reinterpret_cast<unsigned char*>(out.data()),
                                 static_cast<opus_int32>(out.size()));
    if (got < 0) return 0;
    ++counters_.encoded;
    return static_cast<size_t>(got);
  }
  const size_t g = scratch_.size();
  if (out.size() < g) return 0;
  std::span<const int16_t> pcm8 = pcm.first(n);
  if (down_) {
    down_->process(pcm.first(n), scratch_);
    pcm8 = scratch_;
  }
  auto bytes = std::span(reinterpret_cast<uint8_t*>(out.data()), g);
  if (params_.codec == kind::pcmu) encode_ulaw(pcm8, bytes);
  else encode_alaw(pcm8, bytes);
  ++counters_.encoded;
  return g;
}

}  // namespace hotline::codec
