#pragma once
// The composition root: opens storage, boots the actor runtime, wires the services and
// starts the HTTP/WebSocket server. `hotline serve` and the in-process tests use it.
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "api/config/config.hpp"

namespace hotline::auth {
class accounts;
}
namespace hotline::storage {
class env;
}
namespace hotline::actors {
class event_hub;
}
namespace hotline::calls {
class center;
}

namespace hotline::app {

class application {
 public:
  // Starts everything; on failure returns nullptr and says why in `error`.
  static std::unique_ptr<application> start(const config::config& cfg, std::string& error);
  virtual ~application() = default;

  virtual uint16_t http_port() const = 0;
  virtual auth::accounts& accounts() = 0;
  virtual storage::env& env() = 0;
  virtual actors::event_hub& hub() = 0;
  virtual calls::center* calls() = 0;  // null when calls are off
  // On an empty data dir: creates the first admin and returns its generated password.
  virtual std::optional<std::string> bootstrap_admin() = 0;
  // Clean shutdown: stop the server, drain and commit, stop actors. Within ~5 s.
  virtual void stop() = 0;
};

}  // namespace hotline::app
