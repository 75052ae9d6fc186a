#pragma once
// The consoles as api/ sees them (no CAF here): one *session* per console on a WebSocket,
// run by a CAF actor (a supervisor session or an agent session), fed by the *floor* actor
// that keeps the site's live picture — queues, agents, calls, alarms — from the center's
// events and numbers every change (docs/api.md, "Consoles on /ws").
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "actors/console/commands.hpp"
#include "actors/pubsub/subscriber.hpp"

namespace hotline::calls {
class center;
}

namespace hotline::console {

struct user {
  std::string username, display_name, work_id, site;
  bool supervisor = false;  // supervisor, site admin or province admin
  bool agent = false;
  bool province = false;  // sees every site
};

struct open_error {
  int status = 403;
  std::string code, message;
};

// One open console. Its methods are called on the connection's I/O thread and never
// block; replies go to the connection given to open(). Destroying it ends the session
// (a monitor in progress is stopped and audited).
class session {
 public:
  virtual ~session() = default;
  virtual void on_command(command c) = 0;
  virtual void on_audio(std::string frame) = 0;  // a binary message: [4-byte ts][Opus]
};

// An audit entry for monitoring and supervisor actions (api/ writes it durably).
struct audit_entry {
  std::string actor, action, target, site, detail_json;
};

struct options {
  std::string site;                          // this node's site (config server.site)
  std::function<void(audit_entry)> audit;    // N-40, N-60: every monitoring action
  // A supervisor console that resumes is replayed at most this many deltas; further
  // behind, it gets a snapshot. More than its connection queues (http.ws_queue_limit)
  // would close it as a slow consumer, and it would reconnect and fall behind again.
  size_t replay_max = 128;
};

class service {
 public:
  virtual ~service() = default;
  virtual std::variant<std::unique_ptr<session>, open_error> open(const user& who, const hello& h,
                                                                  std::weak_ptr<actors::subscriber> conn) = 0;
  // The center the consoles command; set once, before the server lets consoles open.
  // The floor follows the hub from construction on, so it sees the center start.
  virtual void attach(calls::center* center) = 0;
  // Consoles open now (supervisor, agent).
  virtual std::pair<size_t, size_t> sessions() const = 0;
};

}  // namespace hotline::console
