#pragma once
// One leg's codec as the media thread uses it: RTP payload <-> 20 ms PCM frames at the
// session's mix rate. G.711 (µ-law/A-law, 8 kHz; resampled when the mix is wideband)
// and Opus (RFC 7587: RTP clock 48 kHz whatever the audio; libopus decodes straight to
// the mix rate and encodes from it).
//
// Bandwidth-matched Opus: the encoder is told what the audio really carries. A caller on
// G.711 has 4 kHz of audio, so the agent's Opus stream is encoded narrowband from 8 kHz
// PCM (libopus: ~54 µs a frame at complexity 5 against ~231 µs for 48 kHz complexity 10)
// and the agent hears exactly what there is to hear. Narrowband at 40 kbit/s with the
// signal type left to libopus is CELT (~15 µs a frame at complexity 0): a waveform coder
// that keeps a G.711 line's 4 kHz closer than SILK's speech model at 24 kbit/s (speech
// probe 0.9996 against 0.998). When the peer asked for in-band FEC and its RTCP reports
// loss, the encoder is told the loss and to code speech: SILK with FEC (LBRR) data.
//
// Loss: G.711 repeats the last frame with a fade (silent after 5 lost frames in a row);
// Opus uses in-band FEC from the next packet when it is already buffered, else its PLC.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "media/codec/resampler.hpp"

struct OpusEncoder;
struct OpusDecoder;

namespace hotline::codec {

enum class kind { pcmu, pcma, opus };
// From an SDP rtpmap (name case-insensitive, clock rate as written).
std::optional<kind> kind_of(std::string_view name, uint32_t clock_rate);
std::string_view name_of(kind k);

struct codec_params {
  kind codec = kind::pcmu;
  uint32_t pcm_rate = 8000;  // the PCM handed in and out: the session's mix rate (8000/16000/48000)
  uint32_t ptime_ms = 20;
  // Opus only. What the peer says it decodes (RFC 7587 fmtp), and what the audio has.
  bool fec = false;                 // peer's useinbandfec=1: we add FEC to what we send
  uint32_t max_playback_rate = 48000;
  uint32_t source_bandwidth_hz = 0;  // 0: as wide as pcm_rate allows; 4000: a G.711 source
  int complexity = 5;              // wideband and wider
  // Narrowband (a G.711 source, CELT at 40 kbit/s): complexity 0 scores as well as 5 on
  // the speech probe (0.9996) for a third of the CPU (narrowband_opus_bench).
  int narrowband_complexity = 0;
  // What the peer's receiver reports lost (RTCP; on_peer_loss): with `fec`, the encoder
  // spends bits on FEC in proportion. 0 until a report says otherwise: FEC data costs the
  // clean stream its quality (SILK at 32 kbit/s with FEC for 3 %: 0.9971, without 0.9992).
  int expected_loss_percent = 0;
  uint32_t bitrate = 0;  // 0: chosen from the bandwidth (narrowband 40 kb/s, wideband 24 kb/s, ...)
};

class audio_codec {
 public:
  // A clear reason when the parameters are unusable (unsupported rate, libopus error).
  static std::variant<std::unique_ptr<audio_codec>, std::string> create(const codec_params& p);
  ~audio_codec();
  audio_codec(const audio_codec&) = delete;
  audio_codec& operator=(const audio_codec&) = delete;

  kind codec() const { return params_.codec; }
  uint32_t rtp_clock() const { return params_.codec == kind::opus ? 48000 : 8000; }
  uint32_t rtp_samples_per_frame() const { return rtp_clock() * params_.ptime_ms / 1000; }
  size_t pcm_samples_per_frame() const { return params_.pcm_rate * params_.ptime_ms / 1000; }
  size_t max_payload_bytes() const { return params_.codec == kind::opus ? 400 : 8 * params_.ptime_ms; }

  // One received packet → one frame of PCM (out holds pcm_samples_per_frame). A corrupt
  // packet is concealed instead and false returned.
  bool decode(std::span<const std::byte> payload, std::span<int16_t> out);
  // A lost frame. `next`: the following packet if it is already in the jitter buffer
  // (Opus recovers the lost frame from its FEC data), else empty.
  void conceal(std::span<const std::byte> next, std::span<int16_t> out);
  // One frame of PCM → payload; returns its size (0 on an encoder error).
  size_t encode(std::span<const int16_t> pcm, std::span<std::byte> out);

  // The source feeding this leg's encoder changed (caller on G.711 → 4000 Hz; a
  // wideband phone → 8000): Opus re-tunes its bandwidth, G.711 ignores it.
  void set_source_bandwidth(uint32_t hz);
  // The fraction of our packets the peer reports lost (an RTCP report block), in percent:
  // Opus adds FEC data in proportion when the peer asked for it; G.711 ignores it. The
  // figure the encoder uses rises with a report at once and falls halfway per report.
  void on_peer_loss(int percent);

  struct counters {
    uint64_t decoded = 0, concealed = 0, fec_recovered = 0, corrupt = 0, encoded = 0;
  };
  const counters& stats() const { return counters_; }

 private:
  explicit audio_codec(const codec_params& p) : params_(p) {}
  void tune_opus_bandwidth();

  codec_params params_;
  OpusEncoder* enc_ = nullptr;
  OpusDecoder* dec_ = nullptr;
  // G.711 at a wideband mix rate: 8 kHz <-> pcm_rate.
  std::optional<resampler> up_, down_;
  std::vector<int16_t> last_;     // G.711 concealment: the last good frame (8 kHz)
  std::vector<int16_t> scratch_;  // 8 kHz frame
  uint32_t lost_in_row_ = 0;
  counters counters_;
};

}  // namespace hotline::codec
