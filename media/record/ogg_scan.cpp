#include "media/record/ogg_scan.hpp"

#include <fcntl.h>
#include <ogg/ogg.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hotline::record {

namespace {

uint32_t le(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

ogg_opus_scan scan_ogg_opus(const std::string& path) {
  ogg_opus_scan s;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) s.error = "cannot read " + path + ": " + std::strerror(errno);
    return s;
  }
  s.exists = true;
  ogg_sync_state sync;
  ogg_sync_init(&sync);
  uint64_t offset = 0;  // where the next page (or garbage) starts
  bool first = true;
  for (bool more = true; more && s.error.empty();) {
    ogg_page page;
    long n = ogg_sync_pageseek(&sync, &page);
    if (n == 0) {  // needs more bytes
      char* buf = ogg_sync_buffer(&sync, 65536);
      ssize_t got = ::read(fd, buf, 65536);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) s.error = "reading " + path + ": " + std::strerror(errno);
      if (got <= 0) break;
      ogg_sync_wrote(&sync, got);
      s.file_bytes += static_cast<uint64_t>(got);
      continue;
    }
    if (n < 0) {  // bytes that are no page: a torn write; nothing after it is trusted
      more = false;
      break;
    }
    offset += static_cast<uint64_t>(n);
    if (first) {
      first = false;
      s.serial = static_cast<uint32_t>(ogg_page_serialno(&page));
      ogg_stream_state os;
      ogg_stream_init(&os, static_cast<int>(s.serial));
      ogg_packet op;
      if (ogg_stream_pagein(&os, &page) == 0 && ogg_stream_packetout(&os, &op) == 1 && op.bytes >= 19 &&
          std::memcmp(op.packet, "OpusHead", 8) == 0) {
        s.has_head = true;
        s.channels = op.packet[9];
        s.pre_skip = static_cast<int>(le(op.packet + 10, 2));
        s.input_rate = le(op.packet + 12, 4);
      }
      ogg_stream_clear(&os);
      if (!s.has_head) s.error = path + " is not an Ogg Opus file";
    } else if (static_cast<uint32_t>(ogg_page_serialno(&page)) != s.serial) {
      s.error = path + " holds more than one Ogg stream";
      break;
    }
    if (ogg_page_granulepos(&page) >= 0) s.last_granule = ogg_page_granulepos(&page);
    s.last_pageno = ogg_page_pageno(&page);
    s.eos = ogg_page_eos(&page) != 0;
    s.good_bytes = offset;
  }
  ogg_sync_clear(&sync);
  ::close(fd);
  return s;
}

}  // namespace hotline::record
