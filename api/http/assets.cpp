#include "api/http/assets.hpp"

#include <algorithm>

namespace hotline::api {

std::string_view content_type_of(std::string_view n) {
  auto ends = [&](std::string_view x) { return n.size() >= x.size() && n.substr(n.size() - x.size()) == x; };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".wav")) return "audio/wav";
  return "application/octet-stream";
}

const asset* find_asset(std::string_view path) {
  auto all = embedded_assets();
  auto it = std::find_if(all.begin(), all.end(), [&](const asset& a) { return a.path == path; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace hotline::api
