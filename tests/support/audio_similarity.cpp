#include "tests/support/audio_similarity.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numbers>

namespace hotline::test {

// ---- WAV -----------------------------------------------------------------------------

namespace {

uint32_t le32(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t{p[3]} << 24; }
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

std::optional<wav_audio> fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return std::nullopt;
}

void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

}  // namespace

std::optional<wav_audio> read_wav(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(error, "cannot open " + path);
  std::vector<unsigned char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 12 || std::memcmp(file.data(), "RIFF", 4) != 0 || std::memcmp(file.data() + 8, "WAVE", 4) != 0)
    return fail(error, path + ": not a RIFF/WAVE file");
  wav_audio out;
  bool have_format = false;
  size_t at = 12;
  while (at + 8 <= file.size()) {
    const unsigned char* chunk = file.data() + at;
    size_t size = le32(chunk + 4);
    size_t body = at + 8;
    size_t available = file.size() - body;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (size < 16 || size > available) return fail(error, path + ": short fmt chunk");
      uint16_t format = le16(chunk + 8);
      if (format == 0xFFFE && size >= 26) format = le16(chunk + 8 + 24);  // EXTENSIBLE: the sub-format GUID
      out.channels = le16(chunk + 10);
      out.sample_rate = le32(chunk + 12);
      uint16_t bits = le16(chunk + 22);
      if (format != 1 || bits != 16 || out.channels == 0 || out.sample_rate == 0)
        return fail(error, path + ": only 16-bit PCM is read (format " + std::to_string(format) + ", " +
                               std::to_string(bits) + " bits)");
      have_format = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_format) return fail(error, path + ": data before fmt");
      size = std::min(size, available) & ~size_t{1};
      out.samples.resize(size / 2);
      for (size_t i = 0; i < out.samples.size(); ++i)
        out.samples[i] = static_cast<int16_t>(le16(file.data() + body + 2 * i));
      out.samples.resize(out.samples.size() - out.samples.size() % out.channels);
      return out;
    }
    at = body + size + (size & 1);  // chunks are padded to even sizes
  }
  return fail(error, path + ": no data chunk");
}

bool write_wav(const std::string& path, const wav_audio& audio) {
  uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  out += "RIFF";
  put32(out, 36 + data_bytes);
  out += "WAVEfmt ";
  put32(out, 16);
  put16(out, 1);
  put16(out, audio.channels);
  put32(out, audio.sample_rate);
  put32(out, audio.sample_rate * audio.channels * 2);
  put16(out, static_cast<uint16_t>(audio.channels * 2));
  put16(out, 16);
  out += "data";
  put32(out, data_bytes);
  for (int16_t s : audio.samples) put16(out, static_cast<uint16_t>(s));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  return static_cast<bool>(f);
}

std::vector<int16_t> channel_of(const wav_audio& audio, uint16_t channel) {
  std::vector<int16_t> out;
  if (channel >= audio.channels) return out;
  out.reserve(audio.samples.size() / audio.channels);
  for (size_t i = channel; i < audio.samples.size(); i += audio.channels) out.push_back(audio.samples[i]);
  return out;
}

namespace {

// The resampler's kernel, a Hann-windowed sinc 16 zero crossings wide each side,
// tabulated (512 steps per crossing) once rather than evaluated per tap.
constexpr int kernel_crossings = 16;
constexpr int kernel_steps = 512;

const std::vector<double>& sinc_table() {
  static const std::vector<double> table = [] {
    std::vector<double> t(kernel_crossings * kernel_steps + 2, 0.0);
    for (size_t i = 0; i <= kernel_crossings * kernel_steps; ++i) {
      double u = static_cast<double>(i) / kernel_steps;  // in zero crossings
      double sinc = i == 0 ? 1.0 : std::sin(std::numbers::pi * u) / (std::numbers::pi * u);
      t[i] = sinc * (0.5 + 0.5 * std::cos(std::numbers::pi * u / kernel_crossings));
    }
    return t;
  }();
  return table;
}

}  // namespace

std::vector<int16_t> resample(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate) {
  if (from_rate == to_rate || from_rate == 0 || to_rate == 0) return {in.begin(), in.end()};
  const auto& table = sinc_table();
  const double ratio = static_cast<double>(to_rate) / from_rate;
  const double cutoff = std::min(1.0, ratio);        // of the input's Nyquist frequency
  const double half_width = kernel_crossings / cutoff;  // in input samples
  size_t out_size = static_cast<size_t>(static_cast<double>(in.size()) * ratio);
  std::vector<int16_t> out(out_size);
  for (size_t m = 0; m < out_size; ++m) {
    double x = static_cast<double>(m) / ratio;
    auto first = std::max<int64_t>(static_cast<int64_t>(std::ceil(x - half_width)), 0);
    auto last = std::min<int64_t>(static_cast<int64_t>(std::floor(x + half_width)), static_cast<int64_t>(in.size()) - 1);
    double acc = 0;
    for (int64_t i = first; i <= last; ++i) {
      double pos = std::abs(static_cast<double>(i) - x) * cutoff * kernel_steps;
      auto k = static_cast<size_t>(pos);
      if (k >= kernel_crossings * kernel_steps) continue;
      double frac = pos - static_cast<double>(k);
      acc += in[static_cast<size_t>(i)] * (table[k] + (table[k + 1] - table[k]) * frac);
    }
    out[m] = static_cast<int16_t>(std::clamp(std::lround(acc * cutoff), -32768L, 32767L));
  }
  return out;
}

// ---- similarity ----------------------------------------------------------------------

namespace {

constexpr uint32_t analysis_rate = 8000;
constexpr size_t frame_size = 160;  // 20 ms
constexpr size_t hop = 80;          // 10 ms
constexpr size_t fft_size = 256;
constexpr size_t band_count = 20;
constexpr int64_t fine_step = 10;   // samples between envelope alignments tried around the coarse lag

// Band envelopes of one signal: frame t starts at sample `offset + t * hop`; samples
// outside the signal count as silence.
struct envelope {
  size_t frames = 0;
  std::vector<double> cells;  // frames × band_count
  const double* row(size_t t) const { return cells.data() + t * band_count; }
};

class analyser {
 public:
  analyser() {
    for (size_t i = 0; i < frame_size; ++i)
      window_[i] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / frame_size);
    for (size_t k = 0; k < fft_size / 2; ++k)
      twiddle_[k] = std::polar(1.0, -2 * std::numbers::pi * static_cast<double>(k) / fft_size);
    auto mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
    auto hz = [](double m) { return 700 * (std::pow(10, m / 2595) - 1); };
    double lo = mel(100), hi = mel(3800);
    size_t previous = 0;
    for (size_t b = 0; b <= band_count; ++b) {
      auto bin = static_cast<size_t>(std::lround(hz(lo + (hi - lo) * b / band_count) * fft_size / analysis_rate));
      edges_[b] = std::max(bin, b == 0 ? bin : previous + 1);  // every band at least one bin
      previous = edges_[b];
    }
  }

  envelope compute(std::span<const int16_t> x, int64_t offset, size_t frames) const {
    envelope e;
    e.frames = frames;
    e.cells.resize(frames * band_count);
    std::array<std::complex<double>, fft_size> buf;
    for (size_t t = 0; t < frames; ++t) {
      buf.fill({});
      int64_t start = offset + static_cast<int64_t>(t * hop);
      for (size_t i = 0; i < frame_size; ++i) {
        int64_t at = start + static_cast<int64_t>(i);
        if (at >= 0 && at < static_cast<int64_t>(x.size())) buf[i] = x[static_cast<size_t>(at)] * window_[i];
      }
      fft(buf);
      double* row = e.cells.data() + t * band_count;
      for (size_t b = 0; b < band_count; ++b) {
        double power = 0;
        for (size_t k = edges_[b]; k < edges_[b + 1]; ++k) power += std::norm(buf[k]);
        row[b] = std::cbrt(power / static_cast<double>(edges_[b + 1] - edges_[b]));
      }
    }
    return e;
  }

 private:
  void fft(std::array<std::complex<double>, fft_size>& a) const {
    for (size_t i = 1, j = 0; i < fft_size; ++i) {  // bit reversal
      size_t bit = fft_size >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(a[i], a[j]);
    }
    for (size_t len = 2; len <= fft_size; len <<= 1) {
      size_t step = fft_size / len;
      for (size_t i = 0; i < fft_size; i += len)
        for (size_t k = 0; k < len / 2; ++k) {
          auto u = a[i + k], v = a[i + k + len / 2] * twiddle_[k * step];
          a[i + k] = u + v;
          a[i + k + len / 2] = u - v;
        }
    }
  }

  std::array<double, frame_size> window_{};
  std::array<std::complex<double>, fft_size / 2> twiddle_{};
  std::array<size_t, band_count + 1> edges_{};
};

size_t frame_count(size_t samples) { return samples < frame_size ? 0 : (samples - frame_size) / hop + 1; }

// Pearson's r over frames [t0, t1) of two envelopes, each band's mean removed first.
double envelope_correlation(const envelope& a, const envelope& b, size_t t0, size_t t1) {
  if (t1 <= t0 + 1) return 0;
  double n = static_cast<double>(t1 - t0);
  std::array<double, band_count> mean_a{}, mean_b{};
  for (size_t t = t0; t < t1; ++t)
    for (size_t k = 0; k < band_count; ++k) {
      mean_a[k] += a.row(t)[k] / n;
      mean_b[k] += b.row(t)[k] / n;
    }
  double ab = 0, aa = 0, bb = 0;
  for (size_t t = t0; t < t1; ++t)
    for (size_t k = 0; k < band_count; ++k) {
      double x = a.row(t)[k] - mean_a[k], y = b.row(t)[k] - mean_b[k];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0;
}

// Frames t of the reference for which the received frame at `lag` lies inside the
// received signal.
std::pair<size_t, size_t> overlap(size_t reference_frames, size_t received_samples, int64_t lag) {
  int64_t first = lag >= 0 ? 0 : (-lag + static_cast<int64_t>(hop) - 1) / static_cast<int64_t>(hop);
  int64_t room = static_cast<int64_t>(received_samples) - lag - static_cast<int64_t>(frame_size);
  int64_t last = room < 0 ? -1 : room / static_cast<int64_t>(hop);  // inclusive
  int64_t end = std::min<int64_t>(static_cast<int64_t>(reference_frames), last + 1);
  if (end <= first) return {0, 0};
  return {static_cast<size_t>(first), static_cast<size_t>(end)};
}

// The best lag in whole frames: every band's series made zero-mean over the whole
// signal, then the normalised dot product at each lag (frame energies from prefix sums).
int64_t coarse_lag(const envelope& r, const envelope& x, int64_t max_lag_frames, size_t min_overlap_frames) {
  auto centred = [](const envelope& e) {
    envelope c = e;
    if (e.frames == 0) return c;
    std::array<double, band_count> mean{};
    for (size_t t = 0; t < e.frames; ++t)
      for (size_t k = 0; k < band_count; ++k) mean[k] += e.row(t)[k] / static_cast<double>(e.frames);
    for (size_t t = 0; t < e.frames; ++t)
      for (size_t k = 0; k < band_count; ++k) c.cells[t * band_count + k] -= mean[k];
    return c;
  };
  auto energy_prefix = [](const envelope& e) {
    std::vector<double> p(e.frames + 1, 0);
    for (size_t t = 0; t < e.frames; ++t) {
      double s = 0;
      for (size_t k = 0; k < band_count; ++k) s += e.row(t)[k] * e.row(t)[k];
      p[t + 1] = p[t] + s;
    }
    return p;
  };
  envelope rc = centred(r), xc = centred(x);
  auto pr = energy_prefix(rc), px = energy_prefix(xc);
  int64_t best_lag = 0;
  double best = -2;
  for (int64_t lag = -max_lag_frames; lag <= max_lag_frames; ++lag) {
    int64_t t0 = std::max<int64_t>(0, -lag);
    int64_t t1 = std::min<int64_t>(static_cast<int64_t>(r.frames), static_cast<int64_t>(x.frames) - lag);
    if (t1 - t0 < static_cast<int64_t>(min_overlap_frames) || t1 <= t0) continue;
    double dot = 0;
    for (int64_t t = t0; t < t1; ++t) {
      const double* a = rc.row(static_cast<size_t>(t));
      const double* b = xc.row(static_cast<size_t>(t + lag));
      for (size_t k = 0; k < band_count; ++k) dot += a[k] * b[k];
    }
    double norm = (pr[static_cast<size_t>(t1)] - pr[static_cast<size_t>(t0)]) *
                  (px[static_cast<size_t>(t1 + lag)] - px[static_cast<size_t>(t0 + lag)]);
    double c = norm > 0 ? dot / std::sqrt(norm) : 0;
    if (c > best) {
      best = c;
      best_lag = lag;
    }
  }
  return best_lag;
}

// Normalised waveform cross-correlation at one lag, over the samples both have.
double waveform_correlation(std::span<const int16_t> r, std::span<const int16_t> x, int64_t lag) {
  int64_t t0 = std::max<int64_t>(0, -lag);
  int64_t t1 = std::min<int64_t>(static_cast<int64_t>(r.size()), static_cast<int64_t>(x.size()) - lag);
  double dot = 0, rr = 0, xx = 0;
  for (int64_t t = t0; t < t1; ++t) {
    double a = r[static_cast<size_t>(t)], b = x[static_cast<size_t>(t + lag)];
    dot += a * b;
    rr += a * a;
    xx += b * b;
  }
  return rr > 0 && xx > 0 ? dot / std::sqrt(rr * xx) : 0;
}

// The waveform's own peak within ±radius samples of `around` (normalised, so the
// shrinking overlap at the edges does not bias it).
int64_t waveform_lag(std::span<const int16_t> r, std::span<const int16_t> x, int64_t around, int64_t radius) {
  int64_t best_lag = around;
  double best = -2;
  for (int64_t lag = around - radius; lag <= around + radius; ++lag) {
    double c = waveform_correlation(r, x, lag);
    if (c > best) {
      best = c;
      best_lag = lag;
    }
  }
  return best_lag;
}

}  // namespace

similarity_result audio_similarity(std::span<const int16_t> reference, uint32_t reference_rate,
                                   std::span<const int16_t> received, uint32_t received_rate,
                                   const similarity_options& options) {
  similarity_result result;
  if (reference_rate == 0 || received_rate == 0) return result;
  std::vector<int16_t> r = resample(reference, reference_rate, analysis_rate);
  std::vector<int16_t> x = resample(received, received_rate, analysis_rate);
  const analyser analyse;
  envelope er = analyse.compute(r, 0, frame_count(r.size()));
  envelope ex = analyse.compute(x, 0, frame_count(x.size()));
  if (er.frames < 2 || ex.frames < 2) return result;

  auto max_lag_frames = static_cast<int64_t>(options.max_lag_s * 1000 / 10);
  size_t min_overlap = std::min<size_t>(static_cast<size_t>(options.min_overlap_s * 100),
                                        std::min(er.frames, ex.frames) / 2);
  int64_t coarse = coarse_lag(er, ex, max_lag_frames, std::max<size_t>(min_overlap, 2)) * static_cast<int64_t>(hop);

  // Re-analyse the received signal at each candidate lag so its frames line up with the
  // reference's exactly, and keep the lag whose envelopes agree best.
  auto score_at = [&](int64_t lag) {
    auto [t0, t1] = overlap(er.frames, x.size(), lag);
    if (t1 <= t0 + 1) return std::pair<double, size_t>{0.0, 0};
    envelope shifted = analyse.compute(x, lag, er.frames);
    return std::pair<double, size_t>{envelope_correlation(er, shifted, t0, t1), t1 - t0};
  };
  int64_t best_lag = coarse;
  auto [best, best_frames] = score_at(coarse);
  for (int64_t lag = coarse - static_cast<int64_t>(hop); lag <= coarse + static_cast<int64_t>(hop); lag += fine_step) {
    if (lag == coarse) continue;
    auto [s, frames] = score_at(lag);
    if (s > best) {
      best = s;
      best_lag = lag;
      best_frames = frames;
    }
  }
  int64_t exact = waveform_lag(r, x, best_lag, fine_step);
  if (exact != best_lag) {
    auto [s, frames] = score_at(exact);
    if (s >= best - 0.01) {  // the waveform's peak, unless the codec scrambled the phase
      best = std::max(best, s);
      best_lag = exact;
      best_frames = frames;
    }
  }

  result.score = std::clamp(best, 0.0, 1.0);
  result.waveform = std::clamp(waveform_correlation(r, x, best_lag), 0.0, 1.0);
  result.lag_samples = best_lag * static_cast<int64_t>(reference_rate) / static_cast<int64_t>(analysis_rate);
  result.lag_ms = static_cast<double>(best_lag) * 1000.0 / analysis_rate;
  result.overlap_s = static_cast<double>(best_frames * hop) / analysis_rate;
  return result;
}

}  // namespace hotline::test
