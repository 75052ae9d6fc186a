#pragma once
// Wall-clock time behind an interface, so tests can set the time (STYLE.md habit 7).
// Durations and timeouts inside actors use CAF's clock, which the test coordinator drives.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace hotline {

// The calendar day of `t` in the centre's local time zone, as YYYY-MM-DD: publish and
// expiry dates, report ranges and service hours follow the local calendar.
inline std::string local_day(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm;
  localtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

class wall_clock {
 public:
  virtual ~wall_clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  uint64_t now_ms() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count());
  }
  std::string today() const { return local_day(now()); }
};

class system_wall_clock final : public wall_clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock that stands still until the test moves it.
class manual_wall_clock final : public wall_clock {
 public:
  explicit manual_wall_clock(std::chrono::system_clock::time_point t) : t_(t) {}
  std::chrono::system_clock::time_point now() const override { return t_; }
  void advance(std::chrono::milliseconds d) { t_ += d; }
  void set(std::chrono::system_clock::time_point t) { t_ = t; }

 private:
  std::chrono::system_clock::time_point t_;
};

}  // namespace hotline
