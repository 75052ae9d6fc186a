#pragma once
// A lock-free latency histogram with fixed Prometheus-style buckets (seconds). Written by
// one or many threads, read by the /metrics renderer; relaxed atomics suffice because
// each counter is independent and the figures are monitoring, not accounting.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotline::storage {

class latency_histogram {
 public:
  static constexpr std::array<double, 14> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                 0.025,  0.05,    0.1,    0.25,  0.5,    1.0,  2.5};

  void observe(double seconds) noexcept;

  // Appends the Prometheus text exposition of this histogram under `name` (with an
  // optional label set such as `route="/v1/login"`).
  void render(std::string& out, std::string_view name, std::string_view labels = {}) const;

  uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, bounds.size()> buckets_{};  // non-cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace hotline::storage
