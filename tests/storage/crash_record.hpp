#pragma once
// What crash_writer writes and crash_test expects: key be64(id), a value derived from
// the id alone, so the parent can check every acknowledged record byte for byte.
#include <cstdint>
#include <string>

namespace hotline::test {

inline constexpr int crash_writers = 32;                         // concurrent logical writers
inline constexpr uint64_t crash_ids_per_writer = 1'000'000'000;  // id = writer * 1e9 + n

inline std::string crash_value(uint64_t id) {
  std::string v = "crash-record " + std::to_string(id) + " ";
  uint64_t x = id * 0x9E3779B97F4A7C15ull + 1;  // cheap deterministic filler
  while (v.size() < 100) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v.push_back(static_cast<char>('a' + x % 26));
  }
  return v;
}

}  // namespace hotline::test
