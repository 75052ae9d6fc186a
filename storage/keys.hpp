#pragma once
// Key encodings that keep LMDB's byte order equal to the order reports want:
// big-endian integers, and time-ordered ids (milliseconds since the epoch in the
// high 48 bits, a sequence number in the low 16 bits) for event tables.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotline::storage {

std::string be64(uint64_t v);
std::optional<uint64_t> from_be64(std::string_view key);

// A time-ordered id: ms since the Unix epoch << 16 | seq. Unique per process as long as
// fewer than 65,536 ids are made per millisecond (the generator spills into the next ms).
class time_ordered_ids {
 public:
  uint64_t next(uint64_t now_ms);

 private:
  uint64_t last_ = 0;
};

inline uint64_t millis_of(uint64_t time_ordered_id) { return time_ordered_id >> 16; }

}  // namespace hotline::storage
