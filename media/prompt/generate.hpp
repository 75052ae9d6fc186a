#pragma once
// Setup time, not call time: speak the prompts into WAV files with espeak-ng, once.
// For each prompt (and every number prompt, always) whose <dir>/<name>.wav does not exist
// yet, runs `espeak-ng -v <voice> -s <speed> -w <dir>/<name>.wav.tmp <text>` (posix_spawn,
// no shell: the text is one argv entry), checks the exit status and that a readable WAV
// came out, and renames it into place, so an interrupted setup never leaves half a file
// that counts as done. Existing files are kept: a centre may replace any prompt with a
// studio recording of the same name.
//
// The voice: espeak-ng 1.51 (Debian 12) `cmn` turns Hanzi into pinyin and then reads the
// pinyin's tone digits as English numbers ("ni2 hao3" -> "ni two hao three"), upstream
// espeak-ng issues #1028/#1236; `cmn-latn-pinyin` is the same Mandarin voice reading that
// pinyin as Mandarin. Check with `espeak-ng -q -x -v cmn 您好`.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <variant>

#include "media/prompt/default_prompts.hpp"
#include "media/prompt/errors.hpp"

namespace hotline::prompt {

struct generate_options {
  std::string espeak = "espeak-ng";       // looked up on PATH unless it has a '/'
  std::string voice = "cmn-latn-pinyin";  // see above: not plain `cmn`
  int words_per_minute = 150;             // a little slower than espeak's 175: a phone line
};

struct generate_report {
  size_t generated = 0;
  size_t already_there = 0;
};

// Creates `dir` if needed. Errors: dir_unwritable, tool_missing, tool_failed, bad_argument
// (a name that is not [a-z0-9_]+, or an empty text).
std::variant<generate_report, prompt_error> generate_prompts(const std::filesystem::path& dir,
                                                             std::span<const prompt_text> prompts = default_prompts(),
                                                             const generate_options& options = {});

}  // namespace hotline::prompt
