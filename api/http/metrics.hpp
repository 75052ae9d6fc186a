#pragma once
// Counters of the HTTP/WebSocket server, rendered with the storage figures in the
// Prometheus text format at /metrics.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/env.hpp"
#include "storage/latency_histogram.hpp"

namespace hotline::api {

struct server_metrics {
  std::atomic<int64_t> http_connections_open{0};
  std::atomic<uint64_t> http_connections_total{0};
  std::atomic<int64_t> ws_connections_open{0};
  std::atomic<uint64_t> ws_connections_total{0};
  std::atomic<uint64_t> ws_frames_in{0};
  std::atomic<uint64_t> ws_frames_out{0};
  std::atomic<uint64_t> ws_dropped_slow{0};
  std::array<std::atomic<uint64_t>, 6> responses_by_class{};  // index = status / 100
  storage::latency_histogram request_seconds;

  void count_response(int status) {
    auto i = static_cast<size_t>(status / 100);
    if (i < responses_by_class.size()) responses_by_class[i].fetch_add(1, std::memory_order_relaxed);
  }
  std::string render(const storage::env& env) const;

  // More figures from parts that start after the server (the SIP edge, the contact
  // center): appended to every scrape. Clear it before those parts go away.
  using source = std::function<void(std::string& out)>;
  void set_extra(source f) {
    std::lock_guard lock(extra_mutex_);
    extra_ = std::move(f);
  }

 private:
  mutable std::mutex extra_mutex_;
  source extra_;
};

// One Prometheus sample with its HELP and TYPE lines.
void metric_line(std::string& out, std::string_view name, std::string_view type, std::string_view help, double v);

}  // namespace hotline::api
