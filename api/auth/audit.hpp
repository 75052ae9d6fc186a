#pragma once
// The audit log (N-60, N-40): who did what, when, from where. Each entry is written in
// the same batch as the action it records and, once durable, published on the "audit"
// topic so admins watching the console see it live.
#include <boost/json/object.hpp>
#include <mutex>
#include <string>

#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/clock.hpp"
#include "storage/keys.hpp"
#include "storage/write_batch.hpp"

namespace hotline::auth {

struct audit_event {
  std::string actor;   // username, or "-" before login
  std::string action;  // dotted verb: login.ok, login.failed, login.locked, user.create, ...
  std::string target;  // what it was done to
  std::string remote;  // client address
  std::string site;
  bool ok = true;
  boost::json::object detail;
};

class audit_log {
 public:
  audit_log(actors::event_hub* hub, const wall_clock& clock) : hub_(hub), clock_(clock) {}

  // Adds the entry to `batch`; returns its JSON for publish() after the commit.
  std::string append(storage::write_batch& batch, const audit_event& e);
  // Publishes a committed entry on the "audit" topic.
  void publish(std::string entry_json);

 private:
  actors::event_hub* hub_;
  const wall_clock& clock_;
  std::mutex ids_mutex_;
  storage::time_ordered_ids ids_;  // guarded by ids_mutex_
};

}  // namespace hotline::auth
