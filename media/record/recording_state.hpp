#pragma once
// Internal to the recorder (media/record/*.cpp): one recording's state, shared by the
// media thread (the producer side of its ring) and a pool thread (everything else), and
// the pool thread's steps over it: the Ogg Opus stream (stream.cpp) and the spill file
// (spill.cpp). Not for other components.
#include <ogg/ogg.h>
#include <openssl/evp.h>
#include <opus/opus.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/record/recorder.hpp"

namespace hotline::record::detail {

inline constexpr uint32_t frames_per_second = 50;  // 20 ms media ticks
// Ogg pages are cut at most every 500 ms of audio (48 kHz granule units): with the pool's
// poll interval this keeps what a SIGKILL can lose under a second.
inline constexpr int page_interval_48k = 24000;
// A side quieter than this (peak, 16-bit: about -57 dBFS; G.711 silence decodes to 0 or
// a few units) for more than `silent_hangover` frames is not encoded: its sub-packet is
// the TOC byte alone, which decoders play as a lost frame (silence after silence), as
// Opus DTX does. libopus spends 17 us on a frame of digital silence at complexity 1 and
// ~25 on low noise: on a real call each side is silent about half the time.
inline constexpr int silent_peak = 48;
inline constexpr uint32_t silent_hangover = 5;  // 100 ms of silence encoded before skipping: the tail of a word
// Spilled frames are written to the spill file in batches of this many (500 ms, as pages).
inline constexpr size_t spill_write_frames = 25;

inline std::string errno_text(int e) { return std::strerror(e); }

// The digest so far as lowercase hex (empty if OpenSSL fails); ends the context's use.
inline std::string hex_digest(EVP_MD_CTX* sha) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (EVP_DigestFinal_ex(sha, digest, &len) != 1) return out;
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) (out += hex[digest[i] >> 4]) += hex[digest[i] & 0xf];
  return out;
}


// A pool thread's doorbell. Shared with its recordings, so a handle that outlives the
// pool rings a bell nobody listens to instead of a freed one.
struct waker {
  std::mutex m;
  std::condition_variable cv;
  bool pending = false;                                    // guarded by m
  bool stop = false;                                       // guarded by m
  std::vector<std::shared_ptr<recording_state>> incoming;  // guarded by m

  void ring() {
    {
      std::lock_guard lk(m);
      pending = true;
    }
    cv.notify_one();
  }
};

struct recording_state {
  recording_state(recording_options o, size_t frame, size_t capacity, std::shared_ptr<waker> w)
      : options(std::move(o)),
        frame_samples(frame),
        capacity(capacity),
        ring(capacity * 2 * frame),
        gap_before(capacity),
        packets(capacity * 2 * recording::max_packet_bytes),
        packet_len(capacity * 2),
        silence(2 * frame),
        bell(std::move(w)) {}

  const recording_options options;
  const size_t frame_samples;  // per channel
  const size_t capacity;       // frames

  // ---- the SPSC ring: the producer owns tail, the consumer head -----------------------
  std::vector<int16_t> ring;         // capacity frames, interleaved L/R
  std::vector<uint32_t> gap_before;  // frames dropped just before each slot
  // Per slot and side, an Opus packet the producer already had (recording::write); 0: none.
  std::vector<unsigned char> packets;  // capacity * 2 * recording::max_packet_bytes
  std::vector<uint16_t> packet_len;    // capacity * 2
  alignas(64) std::atomic<uint64_t> head{0};
  alignas(64) std::atomic<uint64_t> tail{0};
  std::atomic<uint64_t> dropped{0};
  uint32_t trailing_gap = 0;  // written by the producer before `closing` (release)
  std::atomic<bool> closing{false};
  std::atomic<bool> failed{false};
  std::atomic<bool> finished{false};

  // ---- consumer (pool thread) only ----------------------------------------------------
  const std::vector<int16_t> silence;
  std::shared_ptr<waker> bell;
  bool started = false;
  int fd = -1;
  // Two uncoupled mono Opus streams at the call's own rate, one encoder each, framed into
  // one multistream packet per 20 ms (RFC 7845 §5.1.1: every stream but the last
  // self-delimited, RFC 6716 Appendix B) and muxed into Ogg pages here. libopus encodes
  // 8 kHz directly; libopusenc, used before, resampled every call to 48 kHz first and
  // cost half as much again (tests/bench/record_bench).
  std::array<OpusEncoder*, 2> enc{};
  std::array<uint32_t, 2> silent_run{};   // frames each side has been silent
  std::array<unsigned char, 2> toc{};     // each side's last TOC byte (for its skipped frames)
  std::array<bool, 2> given_last{};       // each side's last frame came encoded (recording::write)
  uint64_t frames_skipped = 0;            // side-frames not encoded (silence)
  std::vector<int16_t> mono = std::vector<int16_t>(frame_samples);
  ogg_stream_state ogg{};
  bool ogg_open = false;
  int64_t granule = 0;            // 48 kHz samples encoded so far, the pre-skip included
  int64_t page_granule = 0;       // where the last page was cut
  int64_t packetno = 0;
  int pre_skip = 0;               // 48 kHz samples the decoder drops (the encoder's lookahead)
  std::vector<unsigned char> packet;  // one multistream packet (allocated at start)
  EVP_MD_CTX* sha = nullptr;
  uint64_t bytes = 0;
  uint64_t samples_written = 0;  // per channel
  // The spill file (recorder.hpp): frames written to it and frames encoded back from it.
  // `spilling` while frames go there; the descriptor is closed while the recording waits
  // for the pool, once its producer is done (`drained`).
  bool spilling = false;
  bool drained = false;  // closed by the producer and its ring emptied: no frame will come
  int spill_fd = -1;
  uint64_t spilled = 0;
  uint64_t unspilled = 0;
  uint64_t spilled_total = 0;
  std::vector<int16_t> spill_buffer;  // frames on their way to the spill file (spill_write_frames)
  int write_errno = 0;
  std::optional<record_error> error;

  ~recording_state() {
    for (auto* e : enc)
      if (e) opus_encoder_destroy(e);
    if (ogg_open) ogg_stream_clear(&ogg);
    if (fd >= 0) ::close(fd);
    if (spill_fd >= 0) ::close(spill_fd);
    if (sha) EVP_MD_CTX_free(sha);
  }

  std::string spill_path() const { return options.path + ".pcm"; }
  std::string spill_start_path() const { return options.path + ".pcm.from"; }
  size_t frame_bytes() const { return 2 * frame_samples * sizeof(int16_t); }
  uint64_t backlog() const { return spilled - unspilled; }

  void fail(errc code, std::string message) {
    if (!error) error = record_error{code, std::move(message)};
    failed.store(true, std::memory_order_relaxed);
  }
};

// ---- the Ogg Opus stream (stream.cpp) ---------------------------------------------------

// The two encoders (one per side) and the pre-skip they imply. Errors go into r.error.
bool make_encoders(recording_state& r);
// Opens the file and writes the Ogg Opus headers.
void start(recording_state& r);
// Writes the pages ready (`flush`: also the partial one, cutting a page here).
void write_pages(recording_state& r, bool flush);
// One stereo frame (interleaved), or the Opus packets the producer already had per side.
void encode(recording_state& r, const int16_t* interleaved, std::span<const unsigned char> left_given = {},
            std::span<const unsigned char> right_given = {});
void encode_silence(recording_state& r, uint32_t frames);
// Ends the stream, syncs and closes the file: the recording's result.
recording_result finish(recording_state& r);

// ---- the spill file (spill.cpp) ---------------------------------------------------------

bool try_spill(recording_state& r);
void spill_frames(recording_state& r, const int16_t* interleaved, uint32_t count);
void flush_spill(recording_state& r);
void drop_spill(recording_state& r);
bool catch_up(recording_state& r, std::chrono::steady_clock::time_point deadline);

}  // namespace hotline::record::detail
