#pragma once
// The call recorder (N-42): every bridged call as ONE Ogg Opus file with two channels,
// the caller on the left and the agent on the right.
//
// Threading contract, stated up front:
// - A `recorder_pool` owns a few background threads (default 1) at a lower priority
//   (nice +10). They do all the encoding and all the file I/O.
// - A `recording` belongs to ONE producer thread, the call's media thread: `write` and
//   `close` are called from that thread only (never concurrently). `write` never blocks,
//   never allocates and makes no system call: it copies one 20 ms frame into a ring
//   preallocated at `open`. When the pool falls behind and the ring is full, the frame is
//   dropped and counted; the file keeps the call's timeline (a dropped frame becomes 20 ms
//   of silence when the pool catches up).
// - When encoding cannot keep up (more calls than the pool's cores can encode), the pool
//   does not let rings fill: a recording whose ring lags by `spill_lag` frames, and every
//   recording that starts while the thread has such a backlog, goes to a spill file beside
//   it (`<path>.pcm`, raw 16-bit little-endian, caller/agent interleaved, at the call's
//   rate), which costs a copy and a write instead of two encodes. The thread encodes spilled
//   audio, oldest recording first, whenever its rings are drained; a recording that has
//   caught up is encoded live again. The file holds the same packets as if encoded live
//   (a spill only starts a new Ogg page; a frame whose packets came with write() is
//   encoded from its PCM when spilled); only its completion comes later (at a peak).
//   Memory stays bounded (a closed recording waiting to be encoded holds no ring and no
//   descriptor); the backlog is on disk (32 kB/s of call at 8 kHz) until encoded. A
//   process killed meanwhile leaves the spill file with the audio not yet encoded, and
//   `<path>.pcm.from` saying where it starts: the next start finishes it (recover()).
//   `recording_result.frames_spilled` says how much went that way.
// - `open` is not for the media thread: it allocates the ring (no file I/O; the pool
//   creates the file). Call it from the thread that sets the call up.
// - The completion handler runs once per recording, on a pool thread: after close() once
//   the file is complete, or as soon as the recording fails (cannot create the file, disk
//   full) so the owner hears of it during the call. It must not block for long: it delays
//   the pool's other recordings.
//
// The file: two uncoupled mono Opus streams (channel mapping family 1, map [0, 1]), not
// a coupled stereo stream. Opus stereo at speech bit rates narrows the stereo image
// (measured with libopus 1.3.1 at 32 kb/s: a 440 Hz tone on the left came out on the
// right only 1 dB down), and N-42 wants the two sides kept apart. Two mono streams keep
// them > 40 dB apart at the same bit rate (opusdec/opusfile decode family 1 to stereo).
// Pages are flushed every 500 ms of audio and written straight to the file descriptor
// (no stdio buffer), so a process killed mid-call leaves a playable file up to the last
// poll interval + 500 ms. The SHA-256 is computed over the bytes as they are written.
// The file is created with O_EXCL and mode 0640: a recording is evidence (N-42, N-60)
// and is never overwritten.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace hotline::record {

enum class errc {
  bad_argument = 1,  // open(): rate not 8000/16000/48000, empty path, ...
  pool_stopped,      // open() after the pool began shutting down
  cannot_open,       // the file could not be created (directory missing, permissions)
  encoder,           // libopus refused a setting or failed to encode
  write_failed,      // a write to the file failed (disk full, I/O error): file cut there
};

struct record_error {
  errc code = errc::bad_argument;
  std::string message;  // "cannot create /rec/x.opus: No such file or directory"
};

// What the owner puts in the call record.
struct recording_result {
  std::string path;
  uint64_t duration_ms = 0;           // audio in the file, dropped frames (silence) included
  std::string sha256;                 // lowercase hex of the whole file as written
  uint64_t bytes = 0;                 // file size
  uint64_t frames_dropped = 0;        // frames the pool could not take in time
  uint64_t silent_frames = 0;         // one side's frames stored as silence, not encoded (per side)
  uint64_t frames_spilled = 0;        // frames encoded later, from the spill file (the pool was behind)
  std::optional<record_error> error;  // set: the file is incomplete or missing
};

using completion_handler = std::function<void(const recording_result&)>;

struct recording_options {
  std::string path;             // the file to create (its directory must exist)
  uint32_t sample_rate = 8000;  // of the PCM handed to write(): 8000, 16000 or 48000
  // Ogg comments (Vorbis comment fields). The start time comes from the caller's clock
  // (STYLE.md habit 7), as text, e.g. ISO 8601 "2026-11-23T08:55:26+08:00".
  std::string call_id;
  std::string start_time;
  std::vector<std::pair<std::string, std::string>> extra_comments;  // e.g. {"AGENT_WORK_ID", "1024"}
  uint32_t bitrate = 0;        // total bits/s for both channels; 0: 32000 (16 kbit/s a side)
  // libopus 0-10; the pool, not the media thread, pays for it. Espeak-ng Mandarin at 8 kHz
  // through one side (docs/PERFORMANCE.md): 16 kbit/s at 1 scores 0.994 for 29 µs a frame,
  // 12 kbit/s at 4 (the earlier default) 0.991 for 58 µs.
  int complexity = 1;
  // Ring: 5 s of slack for the pool (160 KB at 8 kHz, 960 KB at 48 kHz, and 100 KB for
  // the sides' Opus packets, recording::write).
  size_t queue_frames = 250;
  completion_handler on_done;  // called once, on a pool thread
};

struct pool_config {
  unsigned threads = 1;
  int nice = 10;  // setpriority() for each pool thread; ignored if the OS refuses
  // How often a pool thread drains its recordings' rings. With 500 ms pages this bounds
  // what a SIGKILL can lose to well under a second.
  std::chrono::milliseconds poll_interval{100};
  // Frames waiting in a recording's ring (its lag) that make it spill; 0: every recording
  // spills whatever is queued when the pool comes to it (tests).
  size_t spill_lag = 50;
  // How long a thread encodes spilled audio before it drains its rings again; 0: spilled
  // audio is encoded only when the pool stops (tests).
  std::chrono::milliseconds catch_up_slice{50};
};

namespace detail {
struct recording_state;
struct pool_thread;
}  // namespace detail

class recorder_pool;

class recording {
 public:
  ~recording();  // closes if still open
  recording(const recording&) = delete;
  recording& operator=(const recording&) = delete;

  // One frame (sample_rate / 50 samples per side) from the media thread. An empty span
  // is silence for that side (the leg sent nothing this tick); a shorter one is padded
  // with silence, a longer one cut. Returns false when the frame was not queued: the
  // ring was full (counted in frames_dropped), or the recording is closed or has failed.
  //
  // A side's frame may come already encoded (`caller_opus`, `agent_opus`: one 20 ms Opus
  // packet, mono or stereo, any bandwidth, up to `max_packet_bytes`): what the media thread
  // sent the agent (the caller's voice) or received from the agent's phone. The pool then
  // stores that packet in the side's stream instead of encoding the PCM again; the PCM
  // still goes to the spill file when the pool is behind. Anything else is encoded.
  bool write(std::span<const int16_t> caller, std::span<const int16_t> agent,
             std::span<const std::byte> caller_opus = {}, std::span<const std::byte> agent_opus = {}) noexcept;
  static constexpr size_t max_packet_bytes = 200;  // 80 kbit/s at 20 ms

  // No more frames: the pool finishes the file and calls the completion handler. Never
  // waits for the pool (it takes the pool thread's doorbell lock for an instant to wake
  // it). Idempotent; the destructor calls it.
  void close() noexcept;

  size_t frame_samples() const noexcept { return frame_samples_; }
  // Frames written and not yet taken by the pool: how far behind the pool is.
  size_t queued() const noexcept;
  uint64_t frames_dropped() const noexcept;
  bool failed() const noexcept;  // the pool hit an error; write() now returns false

 private:
  friend class recorder_pool;
  recording(std::shared_ptr<detail::recording_state> state, size_t frame_samples);
  std::shared_ptr<detail::recording_state> state_;
  size_t frame_samples_;
  uint32_t pending_gap_ = 0;  // frames dropped since the last queued one (producer only)
  bool closed_ = false;       // producer only
};

class recorder_pool {
 public:
  explicit recorder_pool(pool_config config = {});
  // Finishes every recording still open with what was queued (their handlers run), then
  // joins the threads. recording handles may outlive the pool: their writes return false.
  ~recorder_pool();
  recorder_pool(const recorder_pool&) = delete;
  recorder_pool& operator=(const recorder_pool&) = delete;

  std::variant<std::unique_ptr<recording>, record_error> open(recording_options options);

  // After a crash: finishes the recording at `path` whose audio waits in the spill file it
  // left (`<path>.pcm`, and `<path>.pcm.from`: where the spill starts). The Ogg file is
  // continued after its last whole page (a page the crash cut short goes) with the spilled
  // frames it lacks, then ended; the spill files are removed. `on_done` runs once, on a
  // pool thread (at once, on this one, when the file had been finished and only the spill
  // files were left), with the file's length and checksum. An error changes nothing.
  std::optional<record_error> recover(const std::string& path, int complexity, completion_handler on_done);

  // Recordings opened and not yet completed.
  size_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
  // Audio spilled and not yet encoded, in milliseconds (stereo frames × 20): how far behind
  // the pool is. Updated by the pool threads once per pass.
  uint64_t backlog_ms() const noexcept;

 private:
  pool_config config_;
  std::vector<std::unique_ptr<detail::pool_thread>> threads_;
  std::atomic<size_t> next_thread_{0};
  std::atomic<size_t> active_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace hotline::record
