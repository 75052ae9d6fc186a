#pragma once
// Small measurements for the recorder and prompt tests: tone power (Goertzel), RMS,
// a SHA-256 of a file, running a tool without a shell, and decoding a recording with
// opusdec and splitting its channels with sox (the tools a supervisor's player and an
// auditor would use: deploy/install-deps.sh --test).
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/prompt/wav.hpp"

extern char** environ;

namespace hotline::test {

// Power of `hz` in `pcm` (Goertzel), normalised by length: comparable across windows.
inline double tone_power(std::span<const int16_t> pcm, double hz, uint32_t rate) {
  const double coeff = 2 * std::cos(2 * std::numbers::pi * hz / rate);
  double s1 = 0, s2 = 0;
  for (int16_t x : pcm) {
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return pcm.empty() ? 0 : power / (static_cast<double>(pcm.size()) * pcm.size());
}

inline double rms(std::span<const int16_t> pcm) {
  double sum = 0;
  for (int16_t x : pcm) sum += static_cast<double>(x) * x;
  return pcm.empty() ? 0 : std::sqrt(sum / pcm.size());
}

inline double db(double ratio) { return 10 * std::log10(ratio); }

inline std::vector<int16_t> sine(double hz, uint32_t rate, size_t n, size_t start = 0, double amplitude = 8000) {
  std::vector<int16_t> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * (start + i) / rate));
  return out;
}

// Exit status of `args[0]` run with args (PATH lookup, no shell), or -1 if it did not run.
inline int run_tool(const std::vector<std::string>& args, bool quiet = true) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

inline std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 0xf];
  }
  return hex;
}

struct decoded_call {
  std::vector<int16_t> left, right;  // at `rate`
};

// opusdec to a stereo WAV at `rate`, then sox splits it into two mono files. nullopt
// when a tool fails (the caller names the step).
inline std::optional<decoded_call> decode_recording(const std::string& opus, const std::string& work_dir,
                                                    uint32_t rate) {
  const std::string both = work_dir + "/decoded.wav", left = work_dir + "/left.wav", right = work_dir + "/right.wav";
  if (run_tool({"opusdec", "--quiet", "--rate", std::to_string(rate), opus, both}) != 0) return std::nullopt;
  if (run_tool({"sox", both, left, "remix", "1"}) != 0) return std::nullopt;
  if (run_tool({"sox", both, right, "remix", "2"}) != 0) return std::nullopt;
  auto l = prompt::read_wav(left);
  auto r = prompt::read_wav(right);
  if (!std::holds_alternative<prompt::mono_pcm>(l) || !std::holds_alternative<prompt::mono_pcm>(r)) return std::nullopt;
  return decoded_call{std::move(std::get<prompt::mono_pcm>(l).samples),
                      std::move(std::get<prompt::mono_pcm>(r).samples)};
}

}  // namespace hotline::test
