#pragma once
// Mandarin speech for tests and benchmarks that score what a peer heard: espeak-ng, then
// sox to the rate wanted (PEERS.md: feed baresip WAVs at the codec's rate).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/audio_similarity.hpp"

namespace hotline::test {

// Two different sentences of a few seconds each: one side says the first, the other the
// second, so each side's score is against its own speech and not the other's.
inline constexpr const char* caller_text = "您好，欢迎致电一二三三三人力资源和社会保障服务热线。";
inline constexpr const char* agent_text = "今天天气很好，我们一起去公园散步，然后在湖边喝茶聊天。";

// `text` spoken at `rate`, mono 16-bit (files in `dir`); empty if a tool failed.
inline std::vector<int16_t> speech_at(const std::string& text, uint32_t rate, const std::string& dir) {
  std::string raw = dir + "/raw.wav", out = dir + "/speech-" + std::to_string(rate) + ".wav";
  std::string speak = "espeak-ng -v cmn -w '" + raw + "' '" + text + "' >/dev/null 2>&1";
  std::string convert = "sox '" + raw + "' -r " + std::to_string(rate) + " -c 1 -b 16 '" + out + "' >/dev/null 2>&1";
  if (std::system(speak.c_str()) != 0 || std::system(convert.c_str()) != 0) return {};
  auto wav = read_wav(out);
  return wav ? channel_of(*wav, 0) : std::vector<int16_t>{};
}

}  // namespace hotline::test
