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

namespace hotline::record {

namespace {

constexpr uint32_t frames_per_second = 50;  // 20 ms media ticks
// Ogg pages are cut at most every 500 ms of audio (48 kHz granule units): with the pool's
// poll interval this keeps what a SIGKILL can lose under a second.
constexpr int page_interval_48k = 24000;
// A side quieter than this (peak, 16-bit: about -57 dBFS; G.711 silence decodes to 0 or
// a few units) for more than `silent_hangover` frames is not encoded: its sub-packet is
// the TOC byte alone, which decoders play as a lost frame (silence after silence), as
// Opus DTX does. libopus spends 17 us on a frame of digital silence at complexity 1 and
// ~25 on low noise: on a real call each side is silent about half the time.
constexpr int silent_peak = 48;
constexpr uint32_t silent_hangover = 5;  // 100 ms of silence encoded before skipping: the tail of a word
// Spilled frames are written to the spill file in batches of this many (500 ms, as pages).
constexpr size_t spill_write_frames = 25;

std::string errno_text(int e) { return std::strerror(e); }

// The digest so far as lowercase hex (empty if OpenSSL fails); ends the context's use.
std::string hex_digest(EVP_MD_CTX* sha) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (EVP_DigestFinal_ex(sha, digest, &len) != 1) return out;
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) (out += hex[digest[i] >> 4]) += hex[digest[i] & 0xf];
  return out;
}

}  // namespace

namespace detail {

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

namespace {

// Each finished Ogg page goes straight to the kernel (a SIGKILL loses nothing already
// here) and into the running hash.
bool write_bytes(recording_state& r, const unsigned char* data, long len) {
  while (len > 0) {
    ssize_t n = ::write(r.fd, data, static_cast<size_t>(len));
    if (n < 0) {
      if (errno == EINTR) continue;
      r.write_errno = errno;
      r.fail(errc::write_failed, "writing " + r.options.path + ": " + errno_text(errno));
      return false;
    }
    EVP_DigestUpdate(r.sha, data, static_cast<size_t>(n));
    r.bytes += static_cast<uint64_t>(n);
    data += n;
    len -= n;
  }
  return true;
}

// Writes the pages ready (`flush`: also the partial one, cutting a page here).
void write_pages(recording_state& r, bool flush) {
  ogg_page page;
  while (flush ? ogg_stream_flush(&r.ogg, &page) : ogg_stream_pageout(&r.ogg, &page)) {
    if (!write_bytes(r, page.header, page.header_len) || !write_bytes(r, page.body, page.body_len)) return;
  }
}

void put_packet(recording_state& r, const unsigned char* data, long len, int64_t granule, bool bos, bool eos) {
  ogg_packet op{};
  op.packet = const_cast<unsigned char*>(data);
  op.bytes = len;
  op.b_o_s = bos ? 1 : 0;
  op.e_o_s = eos ? 1 : 0;
  op.granulepos = granule;
  op.packetno = r.packetno++;
  ogg_stream_packetin(&r.ogg, &op);
}

void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::string opus_text(int rc) { return opus_strerror(rc); }

int max_bandwidth_for(uint32_t rate) {
  switch (rate) {
    case 8000:
      return OPUS_BANDWIDTH_NARROWBAND;
    case 16000:
      return OPUS_BANDWIDTH_WIDEBAND;
    default:
      return OPUS_BANDWIDTH_FULLBAND;
  }
}


// The two encoders (one per side) and the pre-skip they imply. Errors go into r.error.
bool make_encoders(recording_state& r) {
  const auto& o = r.options;
  r.packet.resize(4000);
  // Family 1, two uncoupled mono streams (see recorder.hpp: why not stereo).
  const int bitrate = static_cast<int>((o.bitrate ? o.bitrate : 32000) / 2);
  for (auto& e : r.enc) {
    int rc = OPUS_OK;
    e = opus_encoder_create(static_cast<opus_int32>(o.sample_rate), 1, OPUS_APPLICATION_VOIP, &rc);
    if (!e) {
      r.fail(errc::encoder, "libopus: " + opus_text(rc));
      return false;
    }
    struct setting {
      const char* name;
      int rc;
    };
    const setting settings[] = {
        {"signal", opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))},
        {"bitrate", opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate))},
        {"complexity", opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(o.complexity))},
        // Encode no wider than the input: 8 kHz PCM has 4 kHz of audio.
        {"max bandwidth", opus_encoder_ctl(e, OPUS_SET_MAX_BANDWIDTH(max_bandwidth_for(o.sample_rate)))},
    };
    for (const auto& st : settings)
      if (st.rc != OPUS_OK) {
        r.fail(errc::encoder, std::string("libopus ") + st.name + ": " + opus_text(st.rc));
        return false;
      }
  }
  opus_int32 lookahead = 0;
  opus_encoder_ctl(r.enc[0], OPUS_GET_LOOKAHEAD(&lookahead));
  r.pre_skip = static_cast<int>(lookahead * static_cast<opus_int32>(48000 / o.sample_rate));
  return true;
}

// Creates the file and the encoder, writes the header pages. Errors go into r.error.
void start(recording_state& r) {
  r.started = true;
  const auto& o = r.options;
  r.fd = ::open(o.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (r.fd < 0) return r.fail(errc::cannot_open, "cannot create " + o.path + ": " + errno_text(errno));
  r.sha = EVP_MD_CTX_new();
  if (!r.sha || EVP_DigestInit_ex(r.sha, EVP_sha256(), nullptr) != 1)
    return r.fail(errc::encoder, "OpenSSL SHA-256 context unavailable");
  if (!make_encoders(r)) return;

  // Deterministic serial numbers (a hash of the path) instead of rand().
  if (ogg_stream_init(&r.ogg, static_cast<int>(std::hash<std::string>{}(o.path) & 0x7fffffff)) != 0)
    return r.fail(errc::encoder, "libogg: cannot start a stream");
  r.ogg_open = true;
  // RFC 7845 §5.1: the identification header, alone on the first page.
  std::string head = "OpusHead";
  put_le(head, 1, 1);  // version
  put_le(head, 2, 1);  // channels
  put_le(head, static_cast<uint64_t>(r.pre_skip), 2);
  put_le(head, o.sample_rate, 4);  // the input's rate, for players that care
  put_le(head, 0, 2);              // output gain
  put_le(head, 1, 1);              // mapping family 1
  put_le(head, 2, 1);              // streams
  put_le(head, 0, 1);              // coupled streams
  head += static_cast<char>(0);    // left: stream 0
  head += static_cast<char>(1);    // right: stream 1
  put_packet(r, reinterpret_cast<const unsigned char*>(head.data()), static_cast<long>(head.size()), 0, true, false);
  write_pages(r, true);
  // §5.2: the comment header, from the next page on. No padding: nobody edits tags in
  // place; that would change the recorded checksum.
  std::vector<std::string> comments;
  auto add = [&](const std::string& tag, const std::string& value) {
    if (!value.empty()) comments.push_back(tag + "=" + value);
  };
  add("CALL_ID", o.call_id);
  add("DATE", o.start_time);
  add("CHANNELS", "left=caller right=agent");
  for (const auto& [tag, value] : o.extra_comments) add(tag, value);
  std::string tags = "OpusTags";
  std::string vendor = opus_get_version_string();
  put_le(tags, vendor.size(), 4);
  tags += vendor;
  put_le(tags, comments.size(), 4);
  for (const auto& c : comments) {
    put_le(tags, c.size(), 4);
    tags += c;
  }
  put_packet(r, reinterpret_cast<const unsigned char*>(tags.data()), static_cast<long>(tags.size()), 0, false, false);
  // The header pages now, so even a call killed in its first second leaves an Opus file.
  write_pages(r, true);
}

// A one-frame packet as code 0 (the framing encode_frame builds on); notes its TOC for
// the side's skipped frames. Returns the length, or < 0 if it is not one frame.
int normalize_packet(recording_state& r, size_t side, unsigned char* out, int n) {
  if (n > 1 && (out[0] & 3) != 0) {  // code 1-3 around a single frame
    unsigned char toc = 0;
    const unsigned char* frames[48];
    opus_int16 sizes[48];
    if (opus_packet_parse(out, n, &toc, frames, sizes, nullptr) != 1) return OPUS_INTERNAL_ERROR;
    std::memmove(out + 1, frames[0], static_cast<size_t>(sizes[0]));
    out[0] = static_cast<unsigned char>(toc & ~3);
    n = 1 + sizes[0];
  }
  r.toc[side] = static_cast<unsigned char>(out[0] & ~3);
  return n;
}

// One side's 20 ms into `out`: its Opus packet, or the TOC byte alone once the side has
// been silent past the hang-over. Returns the length, or < 0 on an encoder error.
int encode_side(recording_state& r, size_t side, const int16_t* interleaved, unsigned char* out, int room,
                std::span<const unsigned char> given) {
  // One 20 ms frame the producer had encoded already: stored as it is (as code 0 below).
  // Anything else (several frames, not 20 ms, malformed: a phone's packet is network
  // input) is encoded from the PCM instead.
  if (!given.empty() && static_cast<int>(given.size()) <= room &&
      opus_packet_get_nb_frames(given.data(), static_cast<opus_int32>(given.size())) == 1 &&
      opus_packet_get_samples_per_frame(given.data(), 48000) == 960) {
    std::memcpy(out, given.data(), given.size());
    const int n = normalize_packet(r, side, out, static_cast<int>(given.size()));
    if (n > 0) {
      r.silent_run[side] = 0;
      r.given_last[side] = true;
      return n;
    }
  }
  // Back from packets given to our own encoder: its history is stale; start it afresh.
  if (r.given_last[side]) {
    opus_encoder_ctl(r.enc[side], OPUS_RESET_STATE);
    r.given_last[side] = false;
  }
  auto& mono = r.mono;
  int peak = 0;
  for (size_t i = 0; i < r.frame_samples; ++i) {
    mono[i] = interleaved[2 * i + side];
    peak = std::max(peak, std::abs(static_cast<int>(mono[i])));
  }
  auto& run = r.silent_run[side];
  run = peak <= silent_peak ? run + 1 : 0;
  if (run > silent_hangover && r.toc[side]) {
    out[0] = r.toc[side];  // code 0, one frame of length 0
    ++r.frames_skipped;
    return 1;
  }
  int n = opus_encode(r.enc[side], mono.data(), static_cast<int>(r.frame_samples), out, room);
  if (n < 1) return n < 0 ? n : OPUS_INTERNAL_ERROR;
  return normalize_packet(r, side, out, n);
}

// One 20 ms frame into the stream; a page is cut every page_interval_48k.
bool encode_frame(recording_state& r, const int16_t* interleaved, bool last, int64_t end_granule,
                  std::span<const unsigned char> left_given = {}, std::span<const unsigned char> right_given = {}) {
  // The right side's packet as is, after the left's in self-delimited form: the TOC, the
  // frame's length (one byte below 252, else two), the frame. Both are code-0 packets.
  unsigned char* buf = r.packet.data();
  const int half = static_cast<int>(r.packet.size() / 2) - 2;  // room for the length bytes
  int left = encode_side(r, 0, interleaved, buf, half, left_given);
  int right = left < 0 ? left : encode_side(r, 1, interleaved, buf + half, half, right_given);
  if (left < 0 || right < 0) {
    r.fail(errc::encoder, "libopus encode: " + opus_text(left < 0 ? left : right));
    return false;
  }
  const int length = left - 1;
  const int length_bytes = length < 252 ? 1 : 2;
  std::memmove(buf + 1 + length_bytes, buf + 1, static_cast<size_t>(length));
  if (length < 252) {
    buf[1] = static_cast<unsigned char>(length);
  } else {
    buf[1] = static_cast<unsigned char>(252 + (length & 3));
    buf[2] = static_cast<unsigned char>((length - buf[1]) >> 2);
  }
  const int at = 1 + length_bytes + length;
  std::memmove(buf + at, buf + half, static_cast<size_t>(right));
  const int n = at + right;
  r.granule += static_cast<int64_t>(r.frame_samples) * (48000 / r.options.sample_rate);
  put_packet(r, r.packet.data(), n, last ? end_granule : r.granule, false, last);
  bool cut = last || r.granule - r.page_granule >= page_interval_48k;
  if (cut) r.page_granule = r.granule;
  write_pages(r, cut);
  return !r.error;
}

void encode(recording_state& r, const int16_t* interleaved, std::span<const unsigned char> left_given = {},
            std::span<const unsigned char> right_given = {}) {
  if (r.error || !r.enc[0]) return;
  if (encode_frame(r, interleaved, false, 0, left_given, right_given)) r.samples_written += r.frame_samples;
}

void encode_silence(recording_state& r, uint32_t frames) {
  for (uint32_t i = 0; i < frames && !r.error; ++i) encode(r, r.silence.data());
}

recording_result finish(recording_state& r) {
  // A call closed before its first frame gets 20 ms of silence, so every recording has
  // audio to play (as with libopusenc before, which could not end an empty stream).
  if (r.enc[0] && !r.error && r.samples_written == 0) encode_silence(r, 1);
  if (r.enc[0] && !r.error) {
    // Silence to push the encoder's lookahead out, then the end of the stream: its
    // granule position trims the decoded audio to exactly what was recorded (§4.5).
    const int64_t end = r.pre_skip + static_cast<int64_t>(r.samples_written) * (48000 / r.options.sample_rate);
    const int64_t frame_48k = static_cast<int64_t>(r.frame_samples) * (48000 / r.options.sample_rate);
    while (!r.error) {
      bool last = r.granule + frame_48k >= end;
      if (!encode_frame(r, r.silence.data(), last, end) || last) break;
    }
  }
  for (auto& e : r.enc)
    if (e) {
      opus_encoder_destroy(e);
      e = nullptr;
    }
  if (r.fd >= 0) {
    // Once per recording, on the pool: a finished recording survives a power cut.
    if (::fsync(r.fd) != 0 && !r.error)
      r.fail(errc::write_failed, "fsync " + r.options.path + ": " + errno_text(errno));
    if (::close(r.fd) != 0 && !r.error)
      r.fail(errc::write_failed, "close " + r.options.path + ": " + errno_text(errno));
    r.fd = -1;
  }
  recording_result result;
  result.path = r.options.path;
  result.duration_ms = r.samples_written * 1000 / r.options.sample_rate;
  result.bytes = r.bytes;
  result.frames_dropped = r.dropped.load(std::memory_order_relaxed);
  result.silent_frames = r.frames_skipped;
  result.error = r.error;
  if (r.sha) result.sha256 = hex_digest(r.sha);
  return result;
}

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
