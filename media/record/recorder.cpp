// The recorder pool (recorder.hpp): its threads, each recording's passes over its ring,
// the media thread's side of a recording, and recovery after a crash.
#include "media/record/recorder.hpp"

#include <sys/stat.h>

#include <fcntl.h>
#include <ogg/ogg.h>
#include <openssl/evp.h>
#include <opus/opus.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "media/record/ogg_scan.hpp"
#include "media/record/recording_state.hpp"

namespace hotline::record {
namespace detail {
namespace {

// One pass over a recording: start it (live, or spilling when `behind`), take what is
// queued, note when its producer is done. Returns true when it is complete: its producer
// closed it (or the pool is stopping) and nothing is left to encode, or it failed.
bool service(recording_state& r, bool stopping, bool behind, size_t spill_lag) {
  // `closing` before `tail`: once closed, the tail read after it is the final one.
  const bool closed = r.closing.load(std::memory_order_acquire);
  const uint64_t tail = r.tail.load(std::memory_order_acquire);
  uint64_t head = r.head.load(std::memory_order_relaxed);
  if (!r.error && !r.drained) {
    const bool lagging = tail - head > spill_lag || (spill_lag == 0 && r.started);
    if (!r.spilling && ((!r.started && behind) || (lagging && tail > head))) r.spilling = try_spill(r);
    if (!r.spilling && !r.started && !r.error) start(r);
  }
  for (; head < tail; ++head) {
    const size_t slot = head % r.capacity;
    if (!r.error) {
      const int16_t* frame = r.ring.data() + slot * 2 * r.frame_samples;
      if (r.spilling) {
        if (r.gap_before[slot]) spill_frames(r, nullptr, r.gap_before[slot]);
        spill_frames(r, frame, 1);
      } else {
        encode_silence(r, r.gap_before[slot]);
        const unsigned char* given = r.packets.data() + slot * 2 * recording::max_packet_bytes;
        encode(r, frame, {given, r.packet_len[2 * slot]},
               {given + recording::max_packet_bytes, r.packet_len[2 * slot + 1]});
      }
    }
    // Hand each slot back at once, so the producer sees space as soon as possible.
    r.head.store(head + 1, std::memory_order_release);
  }
  if (closed && !r.drained) {
    if (r.trailing_gap && !r.error) {
      if (r.spilling) spill_frames(r, nullptr, r.trailing_gap);
      else encode_silence(r, r.trailing_gap);
    }
    r.drained = true;
    // The producer is gone: the ring's memory goes now, not when the backlog is encoded.
    std::vector<int16_t>().swap(r.ring);
    std::vector<uint32_t>().swap(r.gap_before);
    std::vector<unsigned char>().swap(r.packets);
    std::vector<uint16_t>().swap(r.packet_len);
  }
  if (r.spilling && !r.error) {
    // Written half a second at a time (as the Ogg pages are), not at every pass: a
    // thousand spilling calls would otherwise cost ~20,000 small writes a second.
    if (r.spill_buffer.size() >= spill_write_frames * 2 * r.frame_samples || (r.drained && !r.spill_buffer.empty()))
      flush_spill(r);
    if (r.drained && r.spill_fd >= 0) {  // waiting for the pool: no descriptor, no buffer held
      ::close(r.spill_fd);
      r.spill_fd = -1;
      std::vector<int16_t>().swap(r.spill_buffer);
    }
  }
  // A failed recording is reported at once, not at the end of the call: the owner can
  // raise it while the call is still on (N-42 wants every call recorded).
  if (r.error) return true;
  if (!r.drained && !stopping) return false;
  return r.backlog() == 0;
}

// Finishes the file and reports it.
void complete(recording_state& r) {
  if (!r.started && !r.error) start(r);  // spilled from the start and never caught up to (empty)
  recording_result result = finish(r);
  result.frames_spilled = r.spilled_total;
  drop_spill(r);
  r.finished.store(true, std::memory_order_release);
  if (r.options.on_done) {
    try {
      r.options.on_done(result);
    } catch (...) {
      // The owner's handler must not take the pool down with it.
    }
  }
}

}  // namespace

struct pool_thread {
  std::shared_ptr<waker> bell = std::make_shared<waker>();
  std::atomic<uint64_t> backlog_frames{0};  // spilled and not yet encoded, after the last pass
  std::thread thread;
};

}  // namespace detail

using detail::errno_text;
using detail::frames_per_second;
using detail::hex_digest;

// ---- recording (the media thread's side) ------------------------------------------------

recording::recording(std::shared_ptr<detail::recording_state> state, size_t frame_samples)
    : state_(std::move(state)), frame_samples_(frame_samples) {}

recording::~recording() { close(); }

bool recording::write(std::span<const int16_t> caller, std::span<const int16_t> agent,
                      std::span<const std::byte> caller_opus, std::span<const std::byte> agent_opus) noexcept {
  auto& r = *state_;
  if (closed_ || r.failed.load(std::memory_order_relaxed) || r.finished.load(std::memory_order_relaxed)) return false;
  const uint64_t tail = r.tail.load(std::memory_order_relaxed);
  if (tail - r.head.load(std::memory_order_acquire) >= r.capacity) {
    ++pending_gap_;
    r.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const size_t slot = tail % r.capacity;
  int16_t* out = r.ring.data() + slot * 2 * frame_samples_;
  const size_t n_caller = std::min(caller.size(), frame_samples_);
  const size_t n_agent = std::min(agent.size(), frame_samples_);
  for (size_t i = 0; i < frame_samples_; ++i) {
    out[2 * i] = i < n_caller ? caller[i] : int16_t{0};
    out[2 * i + 1] = i < n_agent ? agent[i] : int16_t{0};
  }
  for (size_t side = 0; side < 2; ++side) {
    const auto given = side == 0 ? caller_opus : agent_opus;
    const bool fits = given.size() <= max_packet_bytes;
    r.packet_len[2 * slot + side] = static_cast<uint16_t>(fits ? given.size() : 0);
    if (fits && !given.empty())
      std::memcpy(r.packets.data() + (2 * slot + side) * max_packet_bytes, given.data(), given.size());
  }
  r.gap_before[slot] = pending_gap_;
  pending_gap_ = 0;
  r.tail.store(tail + 1, std::memory_order_release);
  return true;
}

void recording::close() noexcept {
  if (closed_) return;
  closed_ = true;
  state_->trailing_gap = pending_gap_;
  state_->closing.store(true, std::memory_order_release);
  state_->bell->ring();  // finish now rather than at the next poll
}

size_t recording::queued() const noexcept {
  return static_cast<size_t>(state_->tail.load(std::memory_order_relaxed) -
                             state_->head.load(std::memory_order_acquire));
}
uint64_t recording::frames_dropped() const noexcept { return state_->dropped.load(std::memory_order_relaxed); }
bool recording::failed() const noexcept { return state_->failed.load(std::memory_order_relaxed); }

// ---- the pool ---------------------------------------------------------------------------------

namespace {

void run_pool_thread(detail::pool_thread& self, const pool_config& config, std::atomic<size_t>& active) {
  // Below the media threads: a busy recorder must never cost a media tick.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), config.nice);
  auto& bell = *self.bell;
  std::vector<std::shared_ptr<detail::recording_state>> mine;  // in the order they were opened
  auto done = [&](detail::recording_state& r) {
    detail::complete(r);
    active.fetch_sub(1, std::memory_order_relaxed);
  };
  for (;;) {
    const bool behind = self.backlog_frames.load(std::memory_order_relaxed) > 0;
    const bool catching_up = behind && config.catch_up_slice.count() > 0;
    bool stopping = false;
    {
      std::unique_lock lk(bell.m);
      // Behind: only a look at the doorbell, then back to encoding the backlog.
      bell.cv.wait_for(lk, catching_up ? std::chrono::milliseconds(0) : config.poll_interval,
                       [&] { return bell.pending || bell.stop; });
      bell.pending = false;
      stopping = bell.stop;
      for (auto& r : bell.incoming) mine.push_back(std::move(r));
      bell.incoming.clear();
    }
    // Finished recordings are completed after the backlog figure is updated: a completion
    // handler that reads backlog_ms() no longer finds its own recording in it.
    std::vector<std::shared_ptr<detail::recording_state>> finished;
    std::erase_if(mine, [&](const std::shared_ptr<detail::recording_state>& r) {
      if (!detail::service(*r, stopping, behind, config.spill_lag)) return false;
      finished.push_back(r);
      return true;
    });
    // The backlog, oldest recording first, for a slice (all of it when stopping).
    const auto deadline = stopping ? std::chrono::steady_clock::time_point::max()
                                   : std::chrono::steady_clock::now() + config.catch_up_slice;
    std::erase_if(mine, [&](const std::shared_ptr<detail::recording_state>& r) {
      if (r->backlog() == 0 && !stopping) return false;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (!detail::catch_up(*r, deadline) && !stopping) return false;
      finished.push_back(r);
      return true;
    });
    uint64_t backlog = 0;
    for (const auto& r : mine) backlog += r->backlog();
    self.backlog_frames.store(backlog, std::memory_order_relaxed);
    for (const auto& r : finished) done(*r);
    if (stopping) return;  // every recording was finished in the passes above
  }
}

}  // namespace

recorder_pool::recorder_pool(pool_config config) : config_(config) {
  const unsigned n = std::max(1u, config_.threads);
  for (unsigned i = 0; i < n; ++i) {
    auto t = std::make_unique<detail::pool_thread>();
    t->thread = std::thread(run_pool_thread, std::ref(*t), std::cref(config_), std::ref(active_));
    threads_.push_back(std::move(t));
  }
}

recorder_pool::~recorder_pool() {
  stopping_.store(true);
  for (auto& t : threads_) {
    {
      std::lock_guard lk(t->bell->m);
      t->bell->stop = true;
    }
    t->bell->cv.notify_one();
  }
  for (auto& t : threads_) t->thread.join();
}

uint64_t recorder_pool::backlog_ms() const noexcept {
  uint64_t frames = 0;
  for (const auto& t : threads_) frames += t->backlog_frames.load(std::memory_order_relaxed);
  return frames * (1000 / frames_per_second);
}

std::variant<std::unique_ptr<recording>, record_error> recorder_pool::open(recording_options options) {
  if (options.path.empty()) return record_error{errc::bad_argument, "recording path is empty"};
  const uint32_t rate = options.sample_rate;
  if (rate != 8000 && rate != 16000 && rate != 48000)
    return record_error{errc::bad_argument,
                        "recording sample rate " + std::to_string(rate) + " Hz: must be 8000, 16000 or 48000"};
  if (options.queue_frames < 2) return record_error{errc::bad_argument, "recording queue must hold at least 2 frames"};
  if (options.complexity < 0 || options.complexity > 10)
    return record_error{errc::bad_argument, "Opus complexity " + std::to_string(options.complexity) + ": must be 0-10"};
  if (stopping_.load()) return record_error{errc::pool_stopped, "recorder pool is shutting down"};

  auto& t = *threads_[next_thread_.fetch_add(1, std::memory_order_relaxed) % threads_.size()];
  const size_t frame = rate / frames_per_second;
  const size_t capacity = options.queue_frames;
  auto state = std::make_shared<detail::recording_state>(std::move(options), frame, capacity, t.bell);
  active_.fetch_add(1, std::memory_order_relaxed);  // before the thread can finish it
  {
    std::lock_guard lk(t.bell->m);
    // Checked under the bell's lock: the thread reads `stop` and takes `incoming` in one go.
    if (t.bell->stop) {
      active_.fetch_sub(1, std::memory_order_relaxed);
      return record_error{errc::pool_stopped, "recorder pool is shutting down"};
    }
    t.bell->incoming.push_back(state);
    t.bell->pending = true;  // create the file now, not at the first poll
  }
  t.bell->cv.notify_one();
  return std::unique_ptr<recording>(new recording(std::move(state), frame));
}

namespace {

// `<path>.pcm.from`: "frame N" (frames encoded before the spill) and "rate R".
bool read_spill_start(const std::string& path, uint64_t& frame, uint32_t& rate) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  unsigned long long f = 0;
  unsigned r = 0;
  if (std::sscanf(buf, "hotline-spill 1\nframe %llu\nrate %u", &f, &r) != 2) return false;
  frame = f;
  rate = r;
  return true;
}

// The SHA-256 of a file's first `bytes` into a fresh context.
bool hash_prefix(int fd, uint64_t bytes, EVP_MD_CTX*& sha) {
  sha = EVP_MD_CTX_new();
  if (!sha || EVP_DigestInit_ex(sha, EVP_sha256(), nullptr) != 1) return false;
  std::vector<unsigned char> buf(1 << 16);
  for (uint64_t at = 0; at < bytes;) {
    ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), bytes - at), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    EVP_DigestUpdate(sha, buf.data(), static_cast<size_t>(n));
    at += static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

std::optional<record_error> recorder_pool::recover(const std::string& path, int complexity, completion_handler on_done) {
  if (stopping_.load()) return record_error{errc::pool_stopped, "recorder pool is shutting down"};
  const std::string pcm = path + ".pcm", from_path = path + ".pcm.from";
  uint64_t from = 0;
  uint32_t rate = 0;
  if (!read_spill_start(from_path, from, rate) || (rate != 8000 && rate != 16000 && rate != 48000))
    return record_error{errc::bad_argument, from_path + " is missing or unreadable: where the spill starts is unknown"};
  struct stat st {};
  if (::stat(pcm.c_str(), &st) != 0) return record_error{errc::cannot_open, "cannot read " + pcm + ": " + errno_text(errno)};
  const size_t frame = rate / frames_per_second;
  const uint64_t spilled = static_cast<uint64_t>(st.st_size) / (2 * frame * sizeof(int16_t));  // a torn last frame goes
  ogg_opus_scan scan = scan_ogg_opus(path);
  if (!scan.error.empty()) return record_error{errc::cannot_open, scan.error};

  recording_options o;
  o.path = path;
  o.sample_rate = rate;
  o.complexity = std::clamp(complexity, 0, 10);
  o.queue_frames = 1;
  o.on_done = std::move(on_done);
  auto& t = *threads_[next_thread_.fetch_add(1, std::memory_order_relaxed) % threads_.size()];
  auto state = std::make_shared<detail::recording_state>(std::move(o), frame, 1, t.bell);
  auto& r = *state;
  const int64_t frame_48k = static_cast<int64_t>(frame) * (48000 / rate);
  uint64_t encoded = 0;  // of the spilled frames, those already in the file
  if (scan.has_head && (scan.channels != 2 || scan.input_rate != rate))
    return record_error{errc::cannot_open, path + " is not the recording its spill file belongs to (" +
                                               std::to_string(scan.channels) + " channels at " +
                                               std::to_string(scan.input_rate) + " Hz)"};
  // Killed between its two header pages: nothing to continue.
  const bool has_headers = scan.has_head && scan.last_pageno >= 1;
  if (has_headers && scan.eos) {
    // Finished before the crash; only the spill files were still there.
    recording_result result;
    result.path = path;
    result.duration_ms = static_cast<uint64_t>(std::max<int64_t>(0, scan.last_granule - scan.pre_skip) / 48);
    result.bytes = scan.file_bytes;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EVP_MD_CTX* sha = nullptr;
    const bool hashed = fd >= 0 && hash_prefix(fd, scan.file_bytes, sha);
    if (fd >= 0) ::close(fd);
    if (!hashed) {
      if (sha) EVP_MD_CTX_free(sha);
      return record_error{errc::cannot_open, "cannot read " + path + ": " + errno_text(errno)};
    }
    result.sha256 = hex_digest(sha);
    EVP_MD_CTX_free(sha);
    ::unlink(pcm.c_str());
    ::unlink(from_path.c_str());
    if (r.options.on_done) r.options.on_done(result);
    return std::nullopt;
  }
  if (has_headers) {
    // Continue the stream after its last whole page, with encoders of our own (theirs
    // died with the process: a few ms of the encoder's warm-up at the seam).
    const auto in_file = static_cast<uint64_t>(scan.last_granule / frame_48k);
    if (in_file < from)
      return record_error{errc::cannot_open, path + " ends before its spill starts (frame " +
                                                 std::to_string(in_file) + " of " + std::to_string(from) + ")"};
    encoded = std::min(in_file - from, spilled);
    r.fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (r.fd < 0 || ::ftruncate(r.fd, static_cast<off_t>(scan.good_bytes)) != 0 ||
        ::lseek(r.fd, 0, SEEK_END) < 0 || !hash_prefix(r.fd, scan.good_bytes, r.sha))
      return record_error{errc::cannot_open, "cannot continue " + path + ": " + errno_text(errno)};
    if (!detail::make_encoders(r)) return r.error;
    r.pre_skip = scan.pre_skip;  // what the file's header says
    if (ogg_stream_init(&r.ogg, static_cast<int>(scan.serial)) != 0)
      return record_error{errc::encoder, "libogg: cannot start a stream"};
    r.ogg_open = true;
    // Mid-stream: libogg would otherwise open with a "beginning of stream" page.
    r.ogg.b_o_s = 1;
    r.ogg.pageno = static_cast<long>(scan.last_pageno + 1);
    r.packetno = 2 + static_cast<int64_t>(in_file);
    r.granule = r.page_granule = scan.last_granule;
    r.samples_written = in_file * frame;
    r.bytes = scan.good_bytes;
    r.started = true;
  } else {
    // Spilled from its start: no audio page was written (maybe not even the file).
    if (from != 0)
      return record_error{errc::cannot_open, path + " lost its first " + std::to_string(from) + " frames"};
    if (scan.exists) ::unlink(path.c_str());  // headers at most; start() writes them again
  }
  r.spilling = true;
  r.drained = true;
  r.closing.store(true, std::memory_order_release);
  r.spilled = spilled;
  r.unspilled = encoded;
  r.spilled_total = spilled - encoded;
  active_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lk(t.bell->m);
    if (t.bell->stop) {
      active_.fetch_sub(1, std::memory_order_relaxed);
      return record_error{errc::pool_stopped, "recorder pool is shutting down"};
    }
    t.bell->incoming.push_back(state);
    t.bell->pending = true;
  }
  t.bell->cv.notify_one();
  return std::nullopt;
}

}  // namespace hotline::record
