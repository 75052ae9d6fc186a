#include "actors/console/commands.hpp"

namespace hotline::console {

std::string_view to_string(monitor_mode m) {
  switch (m) {
    case monitor_mode::listen: return "listen";
    case monitor_mode::whisper: return "whisper";
    case monitor_mode::barge: return "barge";
    case monitor_mode::takeover: return "takeover";
  }
  return "listen";
}

std::optional<monitor_mode> parse_monitor_mode(std::string_view s) {
  for (auto m : {monitor_mode::listen, monitor_mode::whisper, monitor_mode::barge, monitor_mode::takeover})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

}  // namespace hotline::console
