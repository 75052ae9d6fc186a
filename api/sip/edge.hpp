#pragma once
// The SIP edge inside `hotline serve`: the sip::service with credentials from storage,
// registration changes published on the event hub (topic "phones": an agent's phone
// going offline matters to supervisors and, later, to routing).
//
// Calls go to the contact center once it is attached (actors/call/center.hpp); before
// that, or with calls disabled, an inbound call is answered 480 Temporarily Unavailable.
#include <memory>
#include <string>

#include "api/config/config.hpp"

namespace hotline::storage {
class env;
}
namespace hotline::actors {
class event_hub;
}

namespace hotline::calls {
class center;
}

namespace hotline::sipedge {

class edge {
 public:
  // nullptr with `error` set when a socket cannot be bound or the config is wrong.
  static std::unique_ptr<edge> start(const config::sip_section& cfg, storage::env& env, actors::event_hub& hub,
                                     std::string& error);
  virtual ~edge() = default;
  virtual uint16_t port() const = 0;
  virtual std::string advertised_address() const = 0;
  // From now on calls go to the contact center (until then: 480). It must outlive the edge's
  // events: detach (nullptr) before destroying it.
  virtual void attach_calls(calls::center* center) = 0;
  // Appends the edge's figures to a /metrics scrape (asks the SIP thread; waits for it).
  virtual void render_metrics(std::string& out) = 0;
};

}  // namespace hotline::sipedge
