#include "storage/record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace hotline::storage {

std::string encode_record(boost::json::object body, int version) {
  body["v"] = version;
  return boost::json::serialize(body);
}

std::optional<boost::json::object> decode_record(std::string_view bytes) {
  boost::system::error_code ec;
  auto value = boost::json::parse(bytes, ec);
  if (ec) return std::nullopt;
  auto* obj = value.if_object();
  if (!obj) return std::nullopt;
  auto* v = obj->if_contains("v");
  if (!v || !v->is_int64() || v->as_int64() < 1) return std::nullopt;
  return std::move(*obj);
}

}  // namespace hotline::storage
