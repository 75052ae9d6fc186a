#pragma once
// Structured logs: one logfmt line per event on stderr (journald keeps stderr lines as
// they are). Levels per module, set from the [log] section of the config.
//
//   log::info("http", "listening", {{"addr", "0.0.0.0:8080"}});
//   -> ts=2026-11-23T03:40:01.123Z level=info module=http msg=listening addr=0.0.0.0:8080
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace hotline::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

std::string_view to_string(level l);
bool parse_level(std::string_view s, level& out);

void set_default_level(level l);
void set_module_level(std::string_view module, level l);
bool enabled(std::string_view module, level l);

using field = std::pair<std::string_view, std::string>;
void write(level l, std::string_view module, std::string_view msg, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::string_view msg, std::initializer_list<field> f = {}) {
  if (enabled(m, level::debug)) write(level::debug, m, msg, f);
}
inline void info(std::string_view m, std::string_view msg, std::initializer_list<field> f = {}) {
  if (enabled(m, level::info)) write(level::info, m, msg, f);
}
inline void warn(std::string_view m, std::string_view msg, std::initializer_list<field> f = {}) {
  if (enabled(m, level::warn)) write(level::warn, m, msg, f);
}
inline void error(std::string_view m, std::string_view msg, std::initializer_list<field> f = {}) {
  if (enabled(m, level::error)) write(level::error, m, msg, f);
}

}  // namespace hotline::log
