#pragma once
// The prompts in memory, ready to play: loaded once at start-up from the WAV files that
// generate_prompts (or a studio) left in the prompt directory, silence trimmed at both
// ends, resampled with speexdsp (quality 5) to every mix rate the media engine runs at
// (8, 16 and 48 kHz), mono 16-bit. Playing a prompt is then a copy of samples: no
// decoding or resampling per call. Hold music is synthesized here, not spoken.
//
// Immutable after load(): any number of threads may read it at once. Announcements with
// numbers in them (work id N-05, queue position, expected wait, service hours N-01) are
// composed from clips with short gaps; composing allocates, so do it off the media
// thread and hand the engine the finished clip.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "media/prompt/default_prompts.hpp"
#include "media/prompt/errors.hpp"

namespace hotline::prompt {

inline constexpr std::array<uint32_t, 3> library_rates{8000, 16000, 48000};

class prompt_library {
 public:
  // Loads <dir>/<name>.wav for every prompt in `prompts` and every number prompt.
  // Errors: missing_prompt (names the file; run generate_prompts first), bad_wav.
  static std::variant<prompt_library, prompt_error> load(const std::filesystem::path& dir,
                                                         std::span<const prompt_text> prompts = default_prompts());

  // The clip at `rate` (8000, 16000 or 48000); empty for an unknown name or rate.
  std::span<const int16_t> clip(std::string_view name, uint32_t rate) const;
  bool contains(std::string_view name) const;
  size_t size() const { return clips_.size(); }

  // The clips one after another with `gap_ms` of silence between them. Errors:
  // unknown_clip, bad_argument (rate).
  std::variant<std::vector<int16_t>, prompt_error> compose(std::span<const std::string_view> names, uint32_t rate,
                                                           uint32_t gap_ms = default_gap_ms) const;

  // N-05: "工号 1 0 2 3" (digit by digit, 1 as 幺), with_closing adds "为您服务，请讲".
  // Errors: bad_argument (empty, longer than 16, or not all digits).
  std::variant<std::vector<int16_t>, prompt_error> work_id_announcement(std::string_view work_id, uint32_t rate,
                                                                        bool with_closing = false) const;
  // "您前面还有 <n> 位来电在等待，请耐心等候。"
  std::variant<std::vector<int16_t>, prompt_error> queue_position_announcement(uint32_t callers_ahead,
                                                                               uint32_t rate) const;
  // "预计等待时间约 <n> 分钟。"
  std::variant<std::vector<int16_t>, prompt_error> expected_wait_announcement(uint32_t minutes, uint32_t rate) const;
  // N-01: "…人工服务时间为每天 <8> 点至 <21> 点。" and the after-hours options.
  std::variant<std::vector<int16_t>, prompt_error> after_hours_announcement(uint32_t open_hour, uint32_t close_hour,
                                                                            uint32_t rate) const;

  static constexpr uint32_t default_gap_ms = 120;
  static constexpr uint32_t sentence_gap_ms = 300;

 private:
  using clip_set = std::array<std::vector<int16_t>, library_rates.size()>;  // by library_rates index
  std::map<std::string, clip_set, std::less<>> clips_;
};

// Loopable hold music: a slow pentatonic phrase of soft sine notes (8 s), so a caller on
// hold hears that the line is alive. Mono at `rate`.
std::vector<int16_t> synthesize_hold_music(uint32_t rate);

// Removes leading and trailing silence (below about -45 dBFS), keeping `margin_ms`.
std::vector<int16_t> trim_silence(std::span<const int16_t> pcm, uint32_t rate, uint32_t margin_ms = 20);

// One-shot speexdsp resampling of a whole clip (quality 5); the output has
// in.size() * to / from samples, filter delay removed and tail flushed.
std::vector<int16_t> resample_clip(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate);

}  // namespace hotline::prompt
