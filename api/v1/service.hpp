#pragma once
// The JSON API v1 and the /ws console endpoint: routing, authentication of every
// request, role checks. Plain C++ over the interfaces in http/message.hpp; no Beast.
#include <functional>
#include <memory>
#include <string>

#include "actors/kb/service.hpp"
#include "actors/pubsub/subscriber.hpp"
#include "api/auth/accounts.hpp"
#include "api/auth/audit.hpp"
#include "api/config/config.hpp"
#include "api/http/message.hpp"
#include "api/http/metrics.hpp"

namespace hotline::console {
class service;
}

namespace hotline::api {

struct service_deps {
  const config::config& cfg;
  storage::env& env;
  auth::accounts& accounts;
  actors::event_hub& hub;
  server_metrics& metrics;
  const wall_clock& clock;
  kb::service* kb = nullptr;  // the knowledge base's endpoints, when it runs
  // Writes an audit entry (N-60) for an action of the API's own (a recording played).
  std::function<void(auth::audit_event)> audit;
};

class api_service final : public http_handler, public ws_acceptor {
 public:
  explicit api_service(service_deps deps);
  ~api_service() override;
  void handle(request req, respond_fn respond) override;
  result<std::unique_ptr<ws_endpoint>> accept(const request& req, std::weak_ptr<ws_connection> conn) override;
  // The consoles, once the contact center runs (nullptr: hello is refused with 503).
  // The service must outlive every connection that opened a console.
  void attach_consoles(console::service* consoles);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hotline::api
