#pragma once
// A WAV reader for prompts: RIFF/WAVE, 16-bit PCM (WAVE_FORMAT_PCM or EXTENSIBLE with a
// PCM subformat), any rate, one or more channels mixed down to mono. Unknown chunks are
// skipped; a data chunk whose size runs past the end of the file (a writer that never
// went back to fix the header, e.g. espeak-ng writing to a pipe) is cut to what is there.
// Never reads outside the bytes it is given.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <variant>
#include <vector>

#include "media/prompt/errors.hpp"

namespace hotline::prompt {

struct mono_pcm {
  uint32_t rate = 0;
  std::vector<int16_t> samples;
};

std::variant<mono_pcm, prompt_error> parse_wav(std::span<const std::byte> file);
std::variant<mono_pcm, prompt_error> read_wav(const std::filesystem::path& path);

}  // namespace hotline::prompt
