// What narrowband Opus gives a G.711 caller's speech, and what it costs: libopus alone,
// no engine. The speech probe's caller sentence (espeak-ng Mandarin at 8 kHz) goes
// through µ-law, then each encoder setting, is decoded at 48 kHz as the agent's phone
// would, and is scored against what was said with the media bench's measure
// (speech_probe.hpp: 1.5 s pieces, tests/support/audio_similarity.hpp). Prints, per
// setting, the score, the encoder's µs per 20 ms frame on this core and the bitrate it
// made. The engine's choice (audio_codec.cpp: CELT at 40 kbit/s, complexity 0; SILK with
// FEC while the peer reports loss) comes from this table; see docs/PERFORMANCE.md.
//
//   build/release/tests/bench/narrowband_opus_bench [--loops=4]
#include <opus/opus.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/bench/speech_probe.hpp"

namespace {

using namespace hotline;

struct setting {
  const char* mode;  // what we ask libopus for
  int signal;        // OPUS_AUTO: libopus decides (CELT at these rates, narrowband)
  int complexity;
  int bitrate;
  bool fec;
  int loss_percent;
};

struct result {
  double score = 0, us_per_frame = 0, kbits = 0;
  int celt_share = 0;  // % of packets CELT (TOC config 16-19)
};

result run(const setting& s, const std::vector<int16_t>& said, const std::vector<int16_t>& line) {
  int err = 0;
  OpusEncoder* e = opus_encoder_create(8000, 1, OPUS_APPLICATION_AUDIO, &err);
  opus_encoder_ctl(e, OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_NARROWBAND));
  opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(s.complexity));
  opus_encoder_ctl(e, OPUS_SET_BITRATE(s.bitrate));
  opus_encoder_ctl(e, OPUS_SET_SIGNAL(s.signal));
  opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(s.fec ? 1 : 0));
  opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(s.loss_percent));
  OpusDecoder* d = opus_decoder_create(48000, 1, &err);
  std::vector<int16_t> heard, frame(960);
  unsigned char packet[1500];
  double encode_ns = 0;
  size_t bytes = 0, frames = 0, celt = 0;
  for (size_t at = 0; at + 160 <= line.size(); at += 160) {
    auto t0 = std::chrono::steady_clock::now();
    int n = opus_encode(e, line.data() + at, 160, packet, sizeof packet);
    encode_ns += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (n <= 0) continue;
    bytes += static_cast<size_t>(n);
    ++frames;
    if ((packet[0] >> 3) >= 16 && (packet[0] >> 3) <= 19) ++celt;
    int m = opus_decode(d, packet, n, frame.data(), 960, 0);
    if (m > 0) heard.insert(heard.end(), frame.begin(), frame.begin() + m);
  }
  opus_encoder_destroy(e);
  opus_decoder_destroy(d);
  result r;
  if (!frames) return r;
  r.score = test::detail::piecewise_similarity(said, 8000, heard, 48000);
  r.us_per_frame = encode_ns / static_cast<double>(frames) / 1000;
  r.kbits = static_cast<double>(bytes) * 8 * 50 / static_cast<double>(frames) / 1000;
  r.celt_share = static_cast<int>(celt * 100 / frames);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int loops = 4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--loops=", 0) == 0) loops = std::stoi(a.substr(8));
  }
  auto dir = std::filesystem::temp_directory_path() / ("narrowband_opus_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto speech = test::make_probe_speech(dir.string());
  std::filesystem::remove_all(dir);
  if (!speech) {
    std::fprintf(stderr, "narrowband_opus_bench: espeak-ng or sox missing (deploy/install-deps.sh)\n");
    return 1;
  }
  std::vector<int16_t> said;
  for (int k = 0; k < loops; ++k) said.insert(said.end(), speech->caller_8k.begin(), speech->caller_8k.end());
  said.resize(said.size() / 160 * 160);
  std::vector<uint8_t> law(said.size());
  std::vector<int16_t> line(said.size());
  codec::encode_ulaw(said, law);
  codec::decode_ulaw(law, line);
  std::printf("the caller's line (µ-law) itself: %.4f; cpu %d\n", test::detail::piecewise_similarity(said, 8000, line, 8000), sched_getcpu());
  std::vector<setting> settings;
  for (int bitrate : {24000, 32000, 40000, 48000}) {
    for (int complexity : {0, 1, 5}) {
      settings.push_back({"SILK", OPUS_SIGNAL_VOICE, complexity, bitrate, false, 0});
      settings.push_back({"auto", OPUS_AUTO, complexity, bitrate, false, 0});
    }
    settings.push_back({"SILK", OPUS_SIGNAL_VOICE, 1, bitrate, true, 3});  // the engine before: FEC for an assumed 3 %
    settings.push_back({"SILK", OPUS_SIGNAL_VOICE, 0, bitrate, true, 5});  // the engine under reported loss
  }
  std::printf("%-5s %-10s %-9s %-8s %-8s %-7s %-12s %s\n", "mode", "complexity", "kbit/s", "FEC", "CELT", "score", "µs/frame", "made kbit/s");
  for (const auto& s : settings) {
    result r = run(s, said, line);
    std::printf("%-5s %-10d %-9d %-8s %3d %%    %.4f  %6.1f       %.1f\n", s.mode, s.complexity, s.bitrate / 1000,
                s.fec ? (std::to_string(s.loss_percent) + " %").c_str() : "-", r.celt_share, r.score, r.us_per_frame, r.kbits);
  }
}
