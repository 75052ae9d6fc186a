#pragma once
// How alike two recordings of the same speech are, for the media tests with real peers:
// what one side played against what the other side recorded, after codecs (G.711,
// Opus), resampling, packet loss and its concealment, and an unknown delay.
//
// The score is the correlation of short-time spectral envelopes, not of waveforms:
// 20 ms Hann frames every 10 ms, power in 20 mel-spaced bands from 100 Hz to 3.8 kHz,
// cube-root compressed (loudness-like, and a lost frame costs in proportion to its
// energy, not the -inf of a logarithm), each band's mean over time removed (so the
// common long-term spectrum of all speech does not count as a match), then Pearson's r
// over every (frame, band) cell of the overlap. Waveform correlation would punish what
// a listener never hears: Opus and resamplers keep the spectrum but not the phase, and
// half a sample of misalignment at 8 kHz costs a third of the correlation at 3 kHz.
// The band envelopes only follow the audio to 3.8 kHz, the band both G.711 and Opus
// carry: everything is analysed at 8 kHz.
//
// The delay is found on the envelopes too: correlation over every 10 ms lag up to
// max_lag, then the envelope at 1.25 ms steps around the best, then the waveform
// cross-correlation for the last samples (reported lag only). 10 s of audio against
// ±3 s of lag takes a few tens of milliseconds.
//
// Calibration on 18 s of espeak-ng Mandarin (tests/media/audio_similarity_test.cpp, and
// by hand with opusenc/opusdec): identical 1.0; G.711 0.9998; Opus at 12-32 kbit/s
// 0.99-0.999, and 0.973-0.984 with 3 % loss concealed by Opus PLC; 3 % / 10 % of 20 ms
// frames zeroed 0.98 / 0.94 (0.99 / 0.97 when the frame is repeated at half level);
// speech with white noise at ~10 dB SNR 0.97; two different sentences 0.12; white
// noise 0.02. So the peers' thresholds (0.9 clean, 0.75 at 3 % loss) pass on
// concealment glitches and fail on the wrong audio, silence, or lost stretches.
//
// Standard library only.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hotline::test {

// ---- WAV files (PCM 16-bit, any rate and channel count) ------------------------------

struct wav_audio {
  uint32_t sample_rate = 8000;
  uint16_t channels = 1;
  std::vector<int16_t> samples;  // interleaved
};

// Reads RIFF/WAVE with 16-bit PCM (WAVE_FORMAT_PCM or EXTENSIBLE); other chunks are
// skipped, and a data size past the end of the file (a writer that never finished) is
// cut to what is there. On failure: nullopt and, if given, the reason in `error`.
std::optional<wav_audio> read_wav(const std::string& path, std::string* error = nullptr);
bool write_wav(const std::string& path, const wav_audio& audio);

// One channel of an interleaved file (0 = left).
std::vector<int16_t> channel_of(const wav_audio& audio, uint16_t channel);

// Windowed-sinc resampling (a low-pass at the lower Nyquist frequency, so downsampling
// does not alias): good enough to compare audio, not a production resampler.
std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate);

// ---- similarity ----------------------------------------------------------------------

struct similarity_options {
  double max_lag_s = 3.0;      // the received audio may trail or lead by up to this
  double min_overlap_s = 1.0;  // lags leaving less overlap (or half the shorter) are not tried
};

struct similarity_result {
  double score = 0;         // [0, 1]: 1 identical, < 0.3 unrelated
  int64_t lag_samples = 0;  // received[t + lag] matches reference[t]; reference-rate samples
  double lag_ms = 0;
  double overlap_s = 0;  // how much of the two was compared
  // The plain normalised waveform cross-correlation at that lag, for diagnostics: 0.9999
  // through G.711, 0.92-0.95 through Opus (phase not kept), 0.02 for other speech.
  double waveform = 0;
};

similarity_result audio_similarity(std::span<const int16_t> reference, uint32_t reference_rate,
                                   std::span<const int16_t> received, uint32_t received_rate,
                                   const similarity_options& options = {});

}  // namespace hotline::test
