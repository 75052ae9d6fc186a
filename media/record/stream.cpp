// A recording's Ogg Opus stream on its pool thread: two mono Opus encoders framed into one
// multistream packet per 20 ms, Ogg pages written straight to the file and hashed.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "media/record/recording_state.hpp"

namespace hotline::record::detail {


// Each finished Ogg page goes straight to the kernel (a SIGKILL loses nothing already
// here) and into the running hash.
static bool write_bytes(recording_state& r, const unsigned char* data, long len) {
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

static void put_packet(recording_state& r, const unsigned char* data, long len, int64_t granule, bool bos, bool eos) {
  ogg_packet op{};
  op.packet = const_cast<unsigned char*>(data);
  op.bytes = len;
  op.b_o_s = bos ? 1 : 0;
  op.e_o_s = eos ? 1 : 0;
  op.granulepos = granule;
  op.packetno = r.packetno++;
  ogg_stream_packetin(&r.ogg, &op);
}

static void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

static std::string opus_text(int rc) { return opus_strerror(rc); }

static int max_bandwidth_for(uint32_t rate) {
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
static int normalize_packet(recording_state& r, size_t side, unsigned char* out, int n) {
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
static int encode_side(recording_state& r, size_t side, const int16_t* interleaved, unsigned char* out, int room,
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
static bool encode_frame(recording_state& r, const int16_t* interleaved, bool last, int64_t end_granule,
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

void encode(recording_state& r, const int16_t* interleaved, std::span<const unsigned char> left_given,
            std::span<const unsigned char> right_given) {
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

}  // namespace hotline::record::detail
