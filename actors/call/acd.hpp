#pragma once
// Internal to actors/call: the ACD actor (the site's routing engine in one actor), the
// messages it exchanges with call and agent actors, and the site it runs for. CAF in this
// header: actor TUs and the actor tests only.
//
// Failure: the ACD is restarted with its state when it fails (an exception in a handler,
// or killed). Its routing state is kept outside the actor as a checkpoint of the router
// and a journal of every router call since (acd_site); a new ACD copies the checkpoint,
// replays the journal (the message it failed on is not in it) and asks every call it
// knew where it is now, so updates lost in the dead actor's mailbox are made good
// (docs/acd.md, "When the ACD fails").
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/acd/actions.hpp"
#include "actors/acd/router.hpp"
#include "actors/call/center.hpp"
#include "actors/pubsub/subscriber.hpp"

namespace hotline::calls {

// call -> ACD
struct enqueue_msg {
  acd::call_request req;
  caf::actor call;
};
enum class call_update { answered, offer_failed, ended, abandoned, callback };
struct call_update_msg {
  acd::call_id id = 0;
  call_update what = call_update::ended;
  // answered, offer_failed: the agent whose phone it was. The ACD ignores one about an
  // agent it no longer offers the call to: the answer or the failure crossed the ring
  // timeout, and the call learns of that from the withdraw already on its way.
  std::string agent;
};
struct position_req {
  acd::call_id id = 0;
};

// ACD -> call
struct offer_msg {
  std::string agent, phone, name;
};
struct withdraw_msg {
  acd::withdraw_reason why = acd::withdraw_reason::ring_timeout;
  std::string agent;  // whose offer
};
struct queue_msg {
  enum class kind { queued, position, after_hours, max_wait, overflowed } what = kind::queued;
  acd::queue_position where;
  std::string queue;
  std::optional<acd::time_point> opens_at;
};

// A restarted ACD asks each call it knew (acd_hello_msg); the call answers where it is
// and the last update it sent, which may have been lost with the old ACD.
struct acd_hello_msg {};
struct acd_recover_msg {};  // to a restarted ACD once it is the site's handle
struct call_status_msg {
  enum class where { waiting, ringing, connected, elsewhere } at = where::elsewhere;
  acd::call_id id = 0;
  acd::call_request req;  // waiting: the request to queue it again
  std::string agent;      // ringing, connected
  std::optional<call_update> last;
  caf::actor call;
};

// Agents and queries (facade -> ACD -> agent actors).
struct add_agent_msg {
  agent_record a;
};
struct agent_cmd_msg {
  std::string agent;
  agent_command c = agent_command::ready;
  acd::not_ready_reason why = acd::not_ready_reason::none;
  center::result_fn done;
};
struct phone_msg {
  std::string user;
  bool registered = false;
};
struct figures_req {
  std::string queue;
  std::function<void(std::optional<acd::figures>)> done;
};
struct agent_req {
  std::string agent;
  std::function<void(std::optional<acd::agent_view>)> done;
};
// The agent's console asks for something on its current call (via the ACD, which knows it).
struct call_request_msg {
  enum class kind { transfer, to_queue, dangerous } what = kind::transfer;
  std::string agent;
  std::string target;  // transfer: the phone (SIP user) of a supervisor or expert seat; to_queue: the queue
  center::result_fn done;
};
struct agent_changed_msg {  // ACD -> agent actor
  acd::agent_state_changed change;
  bool phone_online = false;
};
struct acd_tick {};

// The site the ACD routes for, and what survives the ACD actor (its handle is swapped
// when it is restarted). Shared by the center, the call actors and the ACD.
class acd_site {
 public:
  acd_site(actors::event_hub& hub, std::function<std::chrono::system_clock::time_point()> clock,
           acd::router_config router, std::vector<acd::queue_config> queues)
      : hub(hub), clock(std::move(clock)), router_cfg(router), queues(std::move(queues)) {}

  actors::event_hub& hub;
  std::function<std::chrono::system_clock::time_point()> clock;
  acd::router_config router_cfg;
  std::vector<acd::queue_config> queues;  // every queue, overflow targets included
  std::chrono::milliseconds tick{250};    // timers (ring timeout, wrap-up, max wait) run this often
  size_t checkpoint_every = 4096;         // router calls between checkpoints (bounds a replay)
  int max_restarts_per_minute = 5;        // beyond: start from the configuration alone

  acd::time_point now() const { return std::chrono::time_point_cast<std::chrono::milliseconds>(clock()); }
  // The running ACD (thread-safe; a new one after a restart).
  caf::actor handle() const {
    std::lock_guard lock(mutex_);
    return handle_;
  }
  uint64_t restarts() const {
    std::lock_guard lock(mutex_);
    return restarts_;
  }

  struct memory;  // acd_actor.cpp
  std::shared_ptr<memory> mem;

 private:
  friend void set_acd_handle(acd_site& s, caf::actor a, bool restarted);
  mutable std::mutex mutex_;
  caf::actor handle_;
  uint64_t restarts_ = 0;
};

// Spawns the site's ACD (queues configured, restarted when it fails); empty with `error`
// when a queue's configuration is refused. Stop it with an exit of reason user_shutdown:
// its agent actors go with it.
caf::actor spawn_acd(caf::actor_system& sys, const std::shared_ptr<acd_site>& site, std::string& error);
// The running ACD's handle (spawn_acd and restarts; the center clears it when it stops).
void set_acd_handle(acd_site& s, caf::actor a, bool restarted);
// Where a restarted ACD finds every live call actor (also those whose enqueue it lost).
void set_live_calls(acd_site& site, std::function<std::vector<caf::actor>()> f);

}  // namespace hotline::calls

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::enqueue_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::call_update_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::position_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::offer_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::withdraw_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::queue_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::acd_hello_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::acd_recover_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::call_status_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::add_agent_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::agent_cmd_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::phone_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::figures_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::agent_req)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::agent_changed_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::acd_tick)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::call_request_msg)
