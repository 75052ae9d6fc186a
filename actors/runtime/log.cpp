#include "actors/runtime/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace hotline::log {

namespace {
std::atomic<level> default_level{level::info};
std::shared_mutex modules_mutex;
std::map<std::string, level, std::less<>> module_levels;  // guarded by modules_mutex

// Quotes a value when logfmt needs it (spaces, quotes, '=' or empty).
void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty() || v.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}
}  // namespace

std::string_view to_string(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
  }
  return "?";
}

bool parse_level(std::string_view s, level& out) {
  for (auto l : {level::debug, level::info, level::warn, level::error, level::off})
    if (s == to_string(l)) {
      out = l;
      return true;
    }
  return false;
}

void set_default_level(level l) { default_level = l; }

void set_module_level(std::string_view module, level l) {
  std::unique_lock lock(modules_mutex);
  module_levels[std::string(module)] = l;
}

bool enabled(std::string_view module, level l) {
  std::shared_lock lock(modules_mutex);
  if (auto it = module_levels.find(module); it != module_levels.end()) return l >= it->second;
  return l >= default_level.load(std::memory_order_relaxed);
}

void write(level l, std::string_view module, std::string_view msg, std::initializer_list<field> fields) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&secs, &tm);
  char ts[80];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += to_string(l);
  line += " module=";
  line += module;
  line += " msg=";
  append_value(line, msg);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  line += '\n';
  // One write(2) per line: lines from several threads never interleave.
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

}  // namespace hotline::log
