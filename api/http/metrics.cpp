#include "api/http/metrics.hpp"

namespace hotline::api {

void metric_line(std::string& out, std::string_view name, std::string_view type, std::string_view help, double v) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
  out += '\n';
}

namespace {
constexpr auto line = metric_line;
}  // namespace

std::string server_metrics::render(const storage::env& env) const {
  std::string out;
  auto r = [](const auto& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
  line(out, "hotline_http_connections_open", "gauge", "Open HTTP connections.", r(http_connections_open));
  line(out, "hotline_http_connections_total", "counter", "Accepted HTTP connections.", r(http_connections_total));
  line(out, "hotline_ws_connections_open", "gauge", "Open WebSocket connections.", r(ws_connections_open));
  line(out, "hotline_ws_connections_total", "counter", "Accepted WebSocket connections.", r(ws_connections_total));
  line(out, "hotline_ws_frames_in_total", "counter", "WebSocket messages received.", r(ws_frames_in));
  line(out, "hotline_ws_frames_out_total", "counter", "WebSocket messages sent.", r(ws_frames_out));
  line(out, "hotline_ws_dropped_slow_total", "counter", "WebSocket clients dropped for not reading.", r(ws_dropped_slow));
  out += "# HELP hotline_http_responses_total HTTP responses by status class.\n# TYPE hotline_http_responses_total counter\n";
  for (size_t i = 1; i < responses_by_class.size(); ++i)
    out += "hotline_http_responses_total{class=\"" + std::to_string(i) + "xx\"} " +
           std::to_string(responses_by_class[i].load(std::memory_order_relaxed)) + "\n";
  out += "# HELP hotline_http_request_seconds Time from request read to response queued.\n";
  out += "# TYPE hotline_http_request_seconds histogram\n";
  request_seconds.render(out, "hotline_http_request_seconds");
  const auto& st = env.stats();
  out += "# HELP hotline_storage_commit_seconds Durable LMDB commit latency (incl. fsync).\n";
  out += "# TYPE hotline_storage_commit_seconds histogram\n";
  st.commit_seconds.render(out, "hotline_storage_commit_seconds");
  line(out, "hotline_storage_commits_total", "counter", "Durable commits.", r(st.commits));
  line(out, "hotline_storage_batches_total", "counter", "Write batches committed (group commit: >= commits).", r(st.batches));
  line(out, "hotline_storage_commit_failures_total", "counter", "Commits that failed (disk full, I/O).", r(st.failures));
  line(out, "hotline_storage_map_grows_total", "counter", "Times the LMDB map doubled.", r(st.map_grows));
  line(out, "hotline_storage_map_bytes", "gauge", "Current LMDB map size.", static_cast<double>(env.map_bytes()));
  std::lock_guard lock(extra_mutex_);
  if (extra_) extra_(out);
  return out;
}

}  // namespace hotline::api
