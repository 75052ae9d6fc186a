#include "api/http/json_body.hpp"

#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>

namespace hotline::api {

namespace json = boost::json;

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "?";
}

result<json::object> parse_object(std::string_view body, size_t max_depth) {
  if (body.empty()) return bad_request("bad_json", "the request body is empty; a JSON object is expected");
  json::parse_options opt;
  opt.max_depth = max_depth;
  json::stream_parser p({}, opt);
  boost::system::error_code ec;
  size_t used = p.write_some(body.data(), body.size(), ec);
  if (!ec) p.finish(ec);
  if (ec) {
    return bad_request("bad_json",
                       "malformed JSON at byte " + std::to_string(used) + " of " + std::to_string(body.size()) +
                           ": " + ec.message());
  }
  if (used != body.size()) return bad_request("bad_json", "trailing bytes after the JSON value at byte " + std::to_string(used));
  auto v = p.release();
  if (!v.is_object())
    return bad_request("bad_json", "the body must be a JSON object, got " + std::string(kind_name(v)));
  return std::move(v.as_object());
}

namespace {
api_error missing(std::string_view name) {
  return bad_request("missing_field", "field '" + std::string(name) + "' is required", std::string(name));
}
api_error wrong(std::string_view name, std::string_view want, const json::value& got) {
  return bad_request("wrong_type",
                     "field '" + std::string(name) + "' must be " + std::string(want) + ", got " +
                         std::string(kind_name(got)),
                     std::string(name));
}
}  // namespace

std::optional<std::string> field_reader::string(std::string_view name, bool required, size_t max_len) {
  auto* v = obj.if_contains(name);
  if (!v) {
    if (required && !error) error = missing(name);
    return std::nullopt;
  }
  if (!v->is_string()) {
    if (!error) error = wrong(name, "a string", *v);
    return std::nullopt;
  }
  if (v->as_string().size() > max_len) {
    if (!error)
      error = bad_request("too_long", "field '" + std::string(name) + "' is longer than " + std::to_string(max_len) +
                                          " bytes", std::string(name));
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<int64_t> field_reader::integer(std::string_view name, bool required, int64_t min, int64_t max) {
  auto* v = obj.if_contains(name);
  if (!v) {
    if (required && !error) error = missing(name);
    return std::nullopt;
  }
  std::optional<int64_t> n;
  if (v->is_int64()) n = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= uint64_t(INT64_MAX)) n = static_cast<int64_t>(v->as_uint64());
  if (!n) {
    if (!error) error = wrong(name, "an integer", *v);
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    if (!error)
      error = bad_request("out_of_range", "field '" + std::string(name) + "' must be between " + std::to_string(min) +
                                              " and " + std::to_string(max), std::string(name));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> field_reader::boolean(std::string_view name, bool required) {
  auto* v = obj.if_contains(name);
  if (!v) {
    if (required && !error) error = missing(name);
    return std::nullopt;
  }
  if (!v->is_bool()) {
    if (!error) error = wrong(name, "true or false", *v);
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<std::vector<std::string>> field_reader::strings(std::string_view name, bool required, size_t max_items) {
  auto* v = obj.if_contains(name);
  if (!v) {
    if (required && !error) error = missing(name);
    return std::nullopt;
  }
  if (!v->is_array()) {
    if (!error) error = wrong(name, "an array of strings", *v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (auto& e : v->as_array()) {
    if (!e.is_string() || out.size() >= max_items) {
      if (!error) error = wrong(name, "an array of at most " + std::to_string(max_items) + " strings", *v);
      return std::nullopt;
    }
    out.emplace_back(e.as_string());
  }
  return out;
}

void field_reader::only(std::initializer_list<std::string_view> known) {
  for (auto& [k, v] : obj) {
    bool ok = false;
    for (auto n : known) ok = ok || n == std::string_view(k);
    if (!ok && !error)
      error = bad_request("unknown_field", "unknown field '" + std::string(std::string_view(k)) + "'", std::string(std::string_view(k)));
  }
}

}  // namespace hotline::api
