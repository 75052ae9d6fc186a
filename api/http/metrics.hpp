#pragma once
// Counters of the HTTP/WebSocket server, rendered with the storage figures in the
// Prometheus text format at /metrics.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

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
};

}  // namespace hotline::api
