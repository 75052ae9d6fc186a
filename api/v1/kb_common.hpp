#pragma once
// Helpers shared by the knowledge-base endpoint files (kb_routes.cpp, kb_reports.cpp).
#include <boost/json/object.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "actors/kb/workflow.hpp"
#include "actors/runtime/clock.hpp"
#include "api/auth/accounts.hpp"
#include "api/http/error.hpp"

namespace hotline::api::kb_common {

namespace json = boost::json;
using auth::role;

inline api_error from_kb(const kb::kb_error& e) {
  switch (e.what) {
    case kb::kb_error::kind::not_found: return {404, "not_found", e.message, e.field};
    case kb::kb_error::kind::forbidden: return {403, "forbidden", e.message, e.field};
    case kb::kb_error::kind::conflict: return {409, "conflict", e.message, e.field};
    case kb::kb_error::kind::invalid: return {400, "invalid_value", e.message, e.field};
  }
  return {500, "internal", e.message};
}

inline bool curator(const auth::principal& p) { return p.has(role::curator) || p.is_admin(); }
inline bool reviewer(const auth::principal& p) { return p.has(role::curator) || p.has(role::expert) || p.is_admin(); }
inline bool analyst(const auth::principal& p) { return p.has(role::supervisor) || curator(p); }

inline std::string today() { return local_day(std::chrono::system_clock::now()); }

inline json::object counts_json(const std::map<std::string, size_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

}  // namespace hotline::api::kb_common
