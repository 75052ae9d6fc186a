#pragma once
// Mandarin speech for the media tests, made by espeak-ng and resampled by sox (both are
// build dependencies: deploy/install-deps.sh). Each text is synthesised once per process.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "tests/support/audio_similarity.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::test {

inline constexpr const char* greeting_text =
    "您好，欢迎致电一二三三三人力资源和社会保障服务热线。查询社保缴费请按一，咨询就业政策请按二，人工服务请按零。";
inline constexpr const char* unrelated_text =
    "今天天气很好，我们一起去公园散步，然后在湖边喝茶聊天，看孩子们放风筝，傍晚再回家做饭。";

// 8 kHz mono 16-bit samples of `text`, or empty if espeak-ng or sox failed (the caller
// asserts on it, naming the tool).
inline const std::vector<int16_t>& mandarin_speech(const std::string& text) {
  static std::map<std::string, std::vector<int16_t>> cache;
  auto it = cache.find(text);
  if (it != cache.end()) return it->second;
  temp_dir dir;
  std::string raw = dir.sub("raw.wav"), out = dir.sub("speech.wav");
  std::string speak = "espeak-ng -v cmn -w '" + raw + "' '" + text + "' >/dev/null 2>&1";
  std::string convert = "sox '" + raw + "' -r 8000 -c 1 -b 16 '" + out + "' >/dev/null 2>&1";
  std::vector<int16_t> samples;
  if (std::system(speak.c_str()) == 0 && std::system(convert.c_str()) == 0)
    if (auto wav = read_wav(out)) samples = channel_of(*wav, 0);
  return cache.emplace(text, std::move(samples)).first->second;
}

}  // namespace hotline::test
