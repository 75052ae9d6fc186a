#pragma once
// Errors of media/prompt as values (no exceptions cross the module boundary).
#include <string>

namespace hotline::prompt {

enum class errc {
  tool_missing = 1,  // espeak-ng is not installed (or not where the options say)
  tool_failed,       // espeak-ng ran but failed, or wrote no usable WAV
  dir_unwritable,    // the prompt directory cannot be created or written
  missing_prompt,    // load(): a prompt's WAV file is not there (generate first)
  bad_wav,           // not a RIFF/WAVE file we read (16-bit PCM), or truncated
  bad_argument,      // a prompt name with characters unfit for a file name, a non-digit work id, ...
  unknown_clip,      // compose(): a clip name the library does not have
};

struct prompt_error {
  errc code = errc::bad_argument;
  std::string message;  // "espeak-ng not found on PATH: install the espeak-ng package"
};

}  // namespace hotline::prompt
