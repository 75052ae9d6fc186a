#include "api/v1/router.hpp"

namespace hotline::api {

std::string call::query(const std::string& name, std::string def) const {
  auto it = req.query.find(name);
  return it == req.query.end() ? def : it->second;
}

size_t call::limit(size_t def, size_t max) const { return limit_param(req, def, max); }

size_t limit_param(const request& req, size_t def, size_t max) {
  auto it = req.query.find("limit");
  if (it == req.query.end()) return def;
  size_t n = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9' || n > max) return max;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n == 0 ? def : std::min(n, max);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

void router::add(std::string method, std::string pattern, bool authenticated, handler h) {
  routes_.push_back({std::move(method), split_path(pattern), authenticated, std::move(h)});
}

bool router::match(const route& r, const std::vector<std::string>& path, std::vector<std::string>& params) {
  if (r.segments.size() != path.size()) return false;
  params.clear();
  for (size_t i = 0; i < path.size(); ++i) {
    if (r.segments[i] == "{}") params.push_back(path[i]);
    else if (r.segments[i] != path[i]) return false;
  }
  return true;
}

void router::dispatch(const request& req, respond_fn respond) const {
  auto path = split_path(req.path);
  bool path_known = false;
  std::vector<std::string> params;
  for (const auto& r : routes_) {
    if (!match(r, path, params)) continue;
    path_known = true;
    if (r.method != req.method) continue;
    std::optional<auth::principal> who;
    if (r.authenticated) {
      who = auth_(req);
      if (!who) return respond(response::error({401, "unauthorized", "log in first: send 'Authorization: Bearer <token>'"}));
    }
    call c{req, who ? &*who : nullptr, std::move(params), std::move(respond)};
    return r.h(c);
  }
  if (path_known)
    return respond(response::error({405, "method_not_allowed", req.method + " is not allowed on " + req.path}));
  respond(response::error({404, "not_found", "no route for " + req.method + " " + req.path}));
}

}  // namespace hotline::api
