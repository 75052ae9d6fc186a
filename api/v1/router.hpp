#pragma once
// Routes: method + path pattern ("/v1/kb/entries/{}/submit") -> handler. A request
// for a known path with another method gets 405; an unknown path 404. Authenticated
// routes resolve the session first and answer 401 without one.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/auth/accounts.hpp"
#include "api/http/message.hpp"

namespace hotline::api {

struct call {
  const request& req;
  const auth::principal* who;       // null on unauthenticated routes
  std::vector<std::string> params;  // the {} segments, decoded
  respond_fn respond;

  void ok(std::string json_body, int status = 200) const { respond(response::json(status, std::move(json_body))); }
  void fail(const api_error& e) const { respond(response::error(e)); }
  // The query parameter or `def`.
  std::string query(const std::string& name, std::string def = {}) const;
  // ?limit=N clamped to [1, max] (default `def`).
  size_t limit(size_t def = 50, size_t max = 500) const;
};

class router {
 public:
  using handler = std::function<void(call&)>;
  using authenticator = std::function<std::optional<auth::principal>(const request&)>;

  explicit router(authenticator auth) : auth_(std::move(auth)) {}
  void add(std::string method, std::string pattern, bool authenticated, handler h);
  void dispatch(const request& req, respond_fn respond) const;
  // Keeps an object that registered handlers capturing it alive as long as the router.
  void keep_alive(std::shared_ptr<void> owner) { owners_.push_back(std::move(owner)); }

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{}" matches one segment
    bool authenticated;
    handler h;
  };
  static bool match(const route& r, const std::vector<std::string>& path, std::vector<std::string>& params);
  authenticator auth_;
  std::vector<route> routes_;
  std::vector<std::shared_ptr<void>> owners_;
};

std::vector<std::string> split_path(const std::string& path);
// ?limit=N of `req` clamped to [1, max] (default `def`).
size_t limit_param(const request& req, size_t def, size_t max);

}  // namespace hotline::api
