#pragma once
// The SIP edge inside `hotline serve`: the sip::service with credentials from storage,
// registration changes published on the event hub (topic "phones": an agent's phone
// going offline matters to supervisors and, later, to routing).
//
// Until the call actors exist (the calls/queues issue), an inbound call is answered
// 480 Temporarily Unavailable with a log line: the registrar, OPTIONS keep-alives and
// the trunk allow-list are live, calls are not yet routed.
#include <memory>
#include <string>

#include "api/config/config.hpp"

namespace hotline::storage {
class env;
}
namespace hotline::actors {
class event_hub;
}

namespace hotline::sipedge {

class edge {
 public:
  // nullptr with `error` set when a socket cannot be bound or the config is wrong.
  static std::unique_ptr<edge> start(const config::sip_section& cfg, storage::env& env, actors::event_hub& hub,
                                     std::string& error);
  virtual ~edge() = default;
  virtual uint16_t port() const = 0;
};

}  // namespace hotline::sipedge
