#include "storage/keys.hpp"

namespace hotline::storage {

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::optional<uint64_t> from_be64(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (unsigned char c : key) v = (v << 8) | c;
  return v;
}

uint64_t time_ordered_ids::next(uint64_t now_ms) {
  uint64_t candidate = now_ms << 16;
  // Never go backwards, even if the wall clock does: keys stay unique and ordered.
  last_ = candidate > last_ ? candidate : last_ + 1;
  return last_;
}

}  // namespace hotline::storage
