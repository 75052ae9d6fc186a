#pragma once
// Reads what a recording left on disk: the Ogg Opus file's stream, up to its last whole
// page. Used to finish a recording after a crash (recorder_pool::recover): the stream is
// continued after that page, and anything after it (a page cut short by the kill) goes.
#include <cstdint>
#include <string>

namespace hotline::record {

struct ogg_opus_scan {
  bool exists = false;         // the file is there (possibly empty)
  bool has_head = false;       // its first page carries a valid OpusHead
  uint32_t serial = 0;
  int pre_skip = 0;            // 48 kHz samples (OpusHead)
  uint32_t input_rate = 0;     // OpusHead's "input sample rate"
  int channels = 0;
  int64_t last_granule = 0;    // of the last whole page with a granule position (48 kHz)
  int64_t last_pageno = -1;    // sequence number of the last whole page
  bool eos = false;            // the last whole page ends the stream: the file is finished
  uint64_t good_bytes = 0;     // the file up to the end of its last whole page
  uint64_t file_bytes = 0;
  std::string error;           // set: unreadable, or not one Ogg Opus stream of ours
};

ogg_opus_scan scan_ogg_opus(const std::string& path);

}  // namespace hotline::record
