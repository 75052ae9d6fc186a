#pragma once
// Files built into the binary (api/CMakeLists.txt generates the table): the web console
// (api/web/*, served under /console/) and data the API serves as is (/v1/phrases).
// `hotline serve` needs nothing from the source tree at run time.
#include <span>
#include <string_view>

namespace hotline::api {

struct asset {
  std::string_view path;  // "console/index.html", "v1/phrases.json"
  std::string_view content_type;
  std::string_view body;
};

std::span<const asset> embedded_assets();
const asset* find_asset(std::string_view path);
std::string_view content_type_of(std::string_view file_name);

}  // namespace hotline::api
