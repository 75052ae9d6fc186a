#include "media/prompt/wav.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

namespace hotline::prompt {

namespace {

constexpr uint16_t format_pcm = 1;
constexpr uint16_t format_extensible = 0xfffe;
constexpr size_t max_channels = 8;

uint16_t le16(std::span<const std::byte> b, size_t at) {
  return static_cast<uint16_t>(std::to_integer<unsigned>(b[at]) | std::to_integer<unsigned>(b[at + 1]) << 8);
}
uint32_t le32(std::span<const std::byte> b, size_t at) {
  return static_cast<uint32_t>(le16(b, at)) | static_cast<uint32_t>(le16(b, at + 2)) << 16;
}
bool tag_is(std::span<const std::byte> b, size_t at, const char (&tag)[5]) {
  for (size_t i = 0; i < 4; ++i)
    if (std::to_integer<char>(b[at + i]) != tag[i]) return false;
  return true;
}
prompt_error bad(std::string what) { return {errc::bad_wav, std::move(what)}; }

}  // namespace

std::variant<mono_pcm, prompt_error> parse_wav(std::span<const std::byte> file) {
  if (file.size() < 12 || !tag_is(file, 0, "RIFF") || !tag_is(file, 8, "WAVE")) return bad("not a RIFF/WAVE file");
  uint32_t rate = 0;
  uint16_t channels = 0;
  bool have_format = false;
  size_t at = 12;
  while (at + 8 <= file.size()) {
    const uint32_t size = le32(file, at + 4);
    const size_t body = at + 8;
    const size_t available = file.size() - body;
    if (tag_is(file, at, "fmt ")) {
      if (size < 16 || available < 16) return bad("fmt chunk too short");
      uint16_t format = le16(file, body);
      channels = le16(file, body + 2);
      rate = le32(file, body + 4);
      const uint16_t bits = le16(file, body + 14);
      if (format == format_extensible) {
        if (size < 40 || available < 40) return bad("WAVE_FORMAT_EXTENSIBLE chunk too short");
        format = le16(file, body + 24);  // the subformat GUID's first two bytes
      }
      if (format != format_pcm) return bad("WAV format " + std::to_string(format) + ": only PCM is read");
      if (bits != 16) return bad("WAV with " + std::to_string(bits) + "-bit samples: only 16-bit is read");
      if (channels == 0 || channels > max_channels) return bad("WAV with " + std::to_string(channels) + " channels");
      if (rate < 1000 || rate > 192000) return bad("WAV sample rate " + std::to_string(rate) + " Hz");
      have_format = true;
    } else if (tag_is(file, at, "data")) {
      if (!have_format) return bad("data chunk before fmt chunk");
      const size_t bytes = std::min<size_t>(size, available);
      const size_t frames = bytes / (2u * channels);
      mono_pcm out;
      out.rate = rate;
      out.samples.resize(frames);
      for (size_t f = 0; f < frames; ++f) {
        int32_t sum = 0;
        for (size_t c = 0; c < channels; ++c) sum += static_cast<int16_t>(le16(file, body + (f * channels + c) * 2));
        out.samples[f] = static_cast<int16_t>(sum / static_cast<int32_t>(channels));
      }
      return out;
    }
    if (size > available) break;
    at = body + size + (size & 1);  // chunks are padded to even sizes
  }
  return bad(have_format ? "no data chunk" : "no fmt chunk");
}

std::variant<mono_pcm, prompt_error> read_wav(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return prompt_error{errc::missing_prompt, "cannot open " + path.string()};
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return prompt_error{errc::bad_wav, "cannot read " + path.string()};
  auto parsed = parse_wav(std::as_bytes(std::span<const char>(bytes)));
  if (auto* e = std::get_if<prompt_error>(&parsed)) e->message = path.string() + ": " + e->message;
  return parsed;
}

}  // namespace hotline::prompt
