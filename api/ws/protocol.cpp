#include "api/ws/protocol.hpp"

#include <boost/json/serialize.hpp>

#include "api/http/json_body.hpp"

namespace hotline::api::ws {

bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > 64 || t.front() == '.' || t.back() == '.') return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

result<client_message> decode(std::string_view text) {
  auto parsed = parse_object(text, 8);
  if (auto* e = error_of(parsed)) return *e;
  const auto& obj = std::get<boost::json::object>(parsed);
  field_reader r{obj};
  auto type = r.string("type", true, 32);
  if (r.error) return *r.error;
  if (*type == "subscribe" || *type == "unsubscribe") {
    r.only({"type", "topic"});
    auto topic = r.string("topic", true, 64);
    if (r.error) return *r.error;
    if (!valid_topic(*topic))
      return bad_request("invalid_value", "topic must be dotted lowercase words (a-z 0-9 _ -)", "topic");
    if (*type == "subscribe") return client_message{subscribe{std::move(*topic)}};
    return client_message{unsubscribe{std::move(*topic)}};
  }
  if (*type == "ping") {
    r.only({"type", "id"});
    auto id = r.integer("id", false, INT64_MIN, INT64_MAX);
    if (r.error) return *r.error;
    return client_message{ping{id.value_or(0)}};
  }
  return bad_request("unknown_type", "unknown message type '" + *type + "'", "type");
}

std::string error_frame(const api_error& e) {
  boost::json::object o{{"type", "error"}, {"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) o["field"] = e.field;
  return boost::json::serialize(o);
}

}  // namespace hotline::api::ws
