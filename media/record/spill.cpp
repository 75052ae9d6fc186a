// A recording's spill file (recorder.hpp): raw PCM written when the pool falls behind,
// encoded back into the Ogg stream when it catches up.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "media/record/recording_state.hpp"

namespace hotline::record::detail {

// ---- the spill file (recorder.hpp) ----------------------------------------------------

// Starts spilling. A spill file that cannot be created (no descriptors left, a stale file
// of the same name) is no failure: the recording stays live and may drop frames instead.
//
// Beside it, `<path>.pcm.from` says where the spill starts in the recording (frames
// encoded before it) and at what rate, for recorder_pool::recover after a crash. The Ogg
// file gets a page boundary there, so every frame before the spill is in a whole page.
bool try_spill(recording_state& r) {
  // Both files first: a spill that cannot start changes nothing in the recording.
  int side = ::open(r.spill_start_path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (side < 0) return false;
  r.spill_fd = ::open(r.spill_path().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (r.spill_fd < 0) {
    ::close(side);
    ::unlink(r.spill_start_path().c_str());
    return false;
  }
  if (r.ogg_open && !r.error) {  // before `from` is written, so it never promises frames not on disk
    write_pages(r, true);
    r.page_granule = r.granule;
  }
  const uint64_t from = r.samples_written / r.frame_samples;
  const std::string text = "hotline-spill 1\nframe " + std::to_string(from) + "\nrate " +
                           std::to_string(r.options.sample_rate) + "\n";
  const bool written = ::write(side, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(side);
  if (!written) {  // without it, recovery could not place the spill: stay live
    ::close(r.spill_fd);
    r.spill_fd = -1;
    ::unlink(r.spill_path().c_str());
    ::unlink(r.spill_start_path().c_str());
    return false;
  }
  return true;
}

// The spill file again, to read it back once its descriptor was closed (drained).
bool reopen_spill(recording_state& r) {
  r.spill_fd = ::open(r.spill_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (r.spill_fd >= 0) return true;
  r.fail(errc::write_failed, "cannot reopen " + r.spill_path() + ": " + errno_text(errno));
  return false;
}

// Appends what spill_buffer holds. Frames follow each other with no header: the file is
// raw PCM an operator can play (`sox -t raw -e signed -b 16 -c 2 -r 8000 x.pcm out.wav`).
void flush_spill(recording_state& r) {
  const auto* p = reinterpret_cast<const char*>(r.spill_buffer.data());
  size_t left = r.spill_buffer.size() * sizeof(int16_t);
  while (left > 0 && !r.error) {
    ssize_t n = ::write(r.spill_fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return r.fail(errc::write_failed, "writing " + r.spill_path() + ": " + errno_text(errno));
    p += n;
    left -= static_cast<size_t>(n);
  }
  r.spill_buffer.clear();
}

void spill_frames(recording_state& r, const int16_t* interleaved, uint32_t count) {
  const size_t samples = 2 * r.frame_samples;
  if (interleaved)
    r.spill_buffer.insert(r.spill_buffer.end(), interleaved, interleaved + samples);
  else
    r.spill_buffer.resize(r.spill_buffer.size() + samples * count, 0);
  r.spilled += count;
  r.spilled_total += count;
}

// Done with the spill file: every frame in it is encoded. It is removed, unless the
// recording failed (then it may hold audio the Ogg file does not).
void drop_spill(recording_state& r) {
  if (r.spill_fd >= 0) ::close(r.spill_fd);
  r.spill_fd = -1;
  if (r.spilling && !r.error) {
    ::unlink(r.spill_path().c_str());
    ::unlink(r.spill_start_path().c_str());
  }
  r.spilling = false;
  r.spilled = r.unspilled = 0;
}

// Encodes spilled frames until the recording has caught up or `deadline` passes. Returns
// true when the recording is complete (its producer is done and every frame encoded).
bool catch_up(recording_state& r, std::chrono::steady_clock::time_point deadline) {
  constexpr uint64_t chunk = 25;  // frames read back at a time (half a second)
  thread_local std::vector<int16_t> frames;
  if (!r.error && !r.spill_buffer.empty()) flush_spill(r);
  if (!r.error && !r.started) start(r);
  if (!r.error && r.spill_fd < 0 && r.unspilled < r.spilled) reopen_spill(r);
  while (!r.error && r.unspilled < r.spilled) {
    const uint64_t n = std::min(chunk, r.spilled - r.unspilled);
    frames.resize(n * 2 * r.frame_samples);
    auto* p = reinterpret_cast<char*>(frames.data());
    size_t want = n * r.frame_bytes();
    auto at = static_cast<off_t>(r.unspilled * r.frame_bytes());
    while (want > 0) {
      ssize_t got = ::pread(r.spill_fd, p, want, at);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        r.fail(errc::write_failed, "reading " + r.spill_path() + " back: " + (got < 0 ? errno_text(errno) : "short file"));
        break;
      }
      p += got;
      at += got;
      want -= static_cast<size_t>(got);
    }
    for (uint64_t f = 0; f < n && !r.error; ++f) encode(r, frames.data() + f * 2 * r.frame_samples);
    r.unspilled += n;
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  if (r.error) return true;
  if (r.unspilled < r.spilled) return false;
  if (r.drained) return true;
  drop_spill(r);  // caught up mid-call: live again
  return false;
}

}  // namespace hotline::record::detail
