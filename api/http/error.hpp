#pragma once
// The one error shape every API response uses (docs/api.md):
//   {"error":{"code":"bad_json","message":"...","field":"password"}}
#include <string>
#include <variant>

namespace hotline::api {

struct api_error {
  int status = 400;
  std::string code;     // stable, machine-readable: bad_json, wrong_type, unauthorized, ...
  std::string message;  // for people; names the problem
  std::string field;    // the offending field, when there is one

  std::string to_json() const;
};

template <class T>
using result = std::variant<T, api_error>;

template <class T>
const api_error* error_of(const result<T>& r) {
  return std::get_if<api_error>(&r);
}

inline api_error bad_request(std::string code, std::string message, std::string field = {}) {
  return {400, std::move(code), std::move(message), std::move(field)};
}

inline api_error forbidden(std::string message) { return {403, "forbidden", std::move(message)}; }

}  // namespace hotline::api
