// libFuzzer target: knowledge-base entries as they arrive over the network (POST/PUT
// /v1/kb/entries bodies, JSON Lines imports): JSON decoding, then the entry decoder and
// its re-encoding. Crashes, leaks, UB and escaping exceptions are failures.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http/json_body.hpp"
#include "search/entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = hotline::api::parse_object(text);
  auto* obj = std::get_if<boost::json::object>(&body);
  if (!obj) return 0;
  std::string error;
  auto e = hotline::kb::entry_from_json(*obj, error);
  if (!e) return 0;
  // What decodes must encode and decode again to the same entry.
  auto again = hotline::kb::entry_from_json(hotline::kb::to_json(*e), error);
  if (!again || boost::json::serialize(hotline::kb::to_json(*again)) != boost::json::serialize(hotline::kb::to_json(*e)))
    __builtin_trap();
  (void)e->in_force_on("2026-11-23");
  (void)hotline::kb::region_rank(e->region, "杭州");
  return 0;
}
