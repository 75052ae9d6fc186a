#include "api/http/message.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace hotline::api {

std::string api_error::to_json() const {
  boost::json::object inner{{"code", code}, {"message", message}};
  if (!field.empty()) inner["field"] = field;
  return boost::json::serialize(boost::json::object{{"error", std::move(inner)}});
}

std::string request::token() const {
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.size() > bearer.size() && authorization.compare(0, bearer.size(), bearer) == 0)
    return authorization.substr(bearer.size());
  constexpr std::string_view name = "hotline_session=";
  for (size_t pos = 0; pos < cookie.size();) {
    while (pos < cookie.size() && (cookie[pos] == ' ' || cookie[pos] == ';')) ++pos;
    auto end = cookie.find(';', pos);
    if (end == std::string::npos) end = cookie.size();
    if (cookie.compare(pos, name.size(), name) == 0) return cookie.substr(pos + name.size(), end - pos - name.size());
    pos = end;
  }
  return {};
}

std::string request::remote_ip() const {
  auto colon = remote.rfind(':');
  auto ip = colon == std::string::npos ? remote : remote.substr(0, colon);
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

response response::json(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }
response response::error(const api_error& e) { return json(e.status, e.to_json()); }
response response::no_content() { return {204, "application/json", {}, {}}; }

}  // namespace hotline::api
