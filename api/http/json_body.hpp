#pragma once
// Decoding JSON from the network with errors that name the problem: where the syntax
// broke, which field has the wrong type, which required field is missing. Never throws.
// (Fuzzed by tests/fuzz/json_request_fuzz.cpp.)
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/error.hpp"

namespace hotline::api {

// The body must be one JSON object, at most `max_depth` deep.
result<boost::json::object> parse_object(std::string_view body, size_t max_depth = 32);

// Field readers: absent and not required -> nullopt; wrong type -> wrong_type error.
struct field_reader {
  const boost::json::object& obj;
  std::optional<api_error> error;  // the first problem found

  std::optional<std::string> string(std::string_view name, bool required, size_t max_len = 4096);
  std::optional<int64_t> integer(std::string_view name, bool required, int64_t min, int64_t max);
  std::optional<bool> boolean(std::string_view name, bool required);
  std::optional<std::vector<std::string>> strings(std::string_view name, bool required, size_t max_items = 64);
  // Reports every key not in `known` (a typo is an error, not silently ignored).
  void only(std::initializer_list<std::string_view> known);
};

std::string_view kind_name(const boost::json::value& v);

}  // namespace hotline::api
