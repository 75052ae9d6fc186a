#include "storage/latency_histogram.hpp"

#include <cstdio>

namespace hotline::storage {

void latency_histogram::observe(double seconds) noexcept {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      buckets_[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void latency_histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  char line[256];
  std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(line, sizeof line, "%.*s_bucket{%.*s%sle=\"%g\"} %llu\n", int(name.size()), name.data(),
                  int(labels.size()), labels.data(), sep.c_str(), bounds[i],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  auto total = count_.load(std::memory_order_relaxed);
  std::snprintf(line, sizeof line, "%.*s_bucket{%.*s%sle=\"+Inf\"} %llu\n", int(name.size()), name.data(),
                int(labels.size()), labels.data(), sep.c_str(), static_cast<unsigned long long>(total));
  out += line;
  std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  std::snprintf(line, sizeof line, "%.*s_sum%s %.9f\n%.*s_count%s %llu\n", int(name.size()), name.data(),
                braces.c_str(), sum_ns_.load(std::memory_order_relaxed) / 1e9, int(name.size()), name.data(),
                braces.c_str(), static_cast<unsigned long long>(total));
  out += line;
}

}  // namespace hotline::storage
