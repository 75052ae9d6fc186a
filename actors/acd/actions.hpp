#pragma once
// What the router decides: plain values that the queue and agent actors execute (ring a
// phone, stop ringing, play an announcement, publish an event, alert supervisors). The
// router has already changed its own state when it returns them; an actor that cannot
// carry one out reports back (e.g. offer_missed) instead of undoing it.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/acd/model.hpp"

namespace hotline::acd {

// Ring `agent`'s phone with `call`; unanswered by `ring_deadline` it is withdrawn (N-03).
struct offer_call {
  call_id call = 0;
  agent_id agent;
  queue_id queue;
  time_point ring_deadline;
};

enum class withdraw_reason : std::uint8_t {
  ring_timeout,  // N-03: not answered in time; a missed_offer follows
  offer_failed,  // the phone rejected or could not ring
  abandoned,  // the caller hung up while it rang
  callback_requested,  // the caller chose a callback while it rang (N-18)
  agent_logged_out,
  phone_unregistered,
};

// Stop ringing `agent`'s phone; the call goes back to the queue or is gone.
struct withdraw_offer {
  call_id call = 0;
  agent_id agent;
  withdraw_reason why = withdraw_reason::ring_timeout;
};

// N-03: the miss is recorded against the agent who did not answer.
struct missed_offer {
  agent_id agent;
  call_id call = 0;
  std::uint32_t missed_today = 0;
};

// For N-18 announcements: position 1 is next; 0 while the call is ringing an agent.
struct queue_position {
  std::uint32_t position = 0;
  // Unknown (nullopt) while no agent of the queue is working.
  std::optional<seconds> expected_wait;
};

// The call waits in `queue` (no agent could take it now).
struct call_queued {
  call_id call = 0;
  queue_id queue;
  queue_position where;
};

// N-01: outside manual service hours; the IVR plays the hours and offers self-service or
// a callback. The call was not queued.
struct call_after_hours {
  call_id call = 0;
  queue_id queue;
  std::optional<time_point> opens_at;
};

// The agent answered.
struct call_connected {
  call_id call = 0;
  agent_id agent;
  queue_id queue;
  milliseconds waited{0};  // since the first queue took the call
};

enum class leave_reason : std::uint8_t { abandoned, callback_requested };

// The caller left the queue: hung up, or took a callback instead of waiting (N-18; the
// actor stores the callback request, N-17).
struct call_left_queue {
  call_id call = 0;
  queue_id queue;
  leave_reason why = leave_reason::abandoned;
  milliseconds waited{0};
};

// Max wait reached: the call moved to another queue (it keeps its priority and its place
// in time; it may be offered at once, an offer_call follows).
struct call_overflowed {
  call_id call = 0;
  queue_id from;
  queue_id to;
};

// Max wait reached and no open overflow target: the IVR should offer a callback.
struct max_wait_reached {
  call_id call = 0;
  queue_id queue;
};

struct agent_state_changed {
  agent_id agent;
  agent_state from = agent_state::logged_out;
  agent_state to = agent_state::logged_out;
  not_ready_reason reason = not_ready_reason::none;
  std::string note;
  time_point at;
};

enum class alarm_kind : std::uint8_t {
  below_minimum_agents,  // N-02: working agents of an open queue below its minimum
  wait_over_threshold,  // N-02: a call waits longer than the service-level threshold
};

struct alarm_raised {
  queue_id queue;
  alarm_kind kind = alarm_kind::below_minimum_agents;
  int working_agents = 0;
  int minimum = 0;
  milliseconds longest_wait{0};
};

struct alarm_cleared {
  queue_id queue;
  alarm_kind kind = alarm_kind::below_minimum_agents;
};

// N-01: a queue's manual service hours began or ended.
struct service_hours_changed {
  queue_id queue;
  bool open = false;
};

using action = std::variant<offer_call, withdraw_offer, missed_offer, call_queued, call_after_hours, call_connected,
                            call_left_queue, call_overflowed, max_wait_reached, agent_state_changed, alarm_raised,
                            alarm_cleared, service_hours_changed>;
using actions = std::vector<action>;

// Bad input from outside (console, phone, config, a confused actor): reported, never
// thrown, and the router's state is left as it was.
struct acd_error {
  enum class kind : std::uint8_t {
    unknown_agent,
    unknown_queue,
    unknown_call,
    bad_state,  // an impossible state change, e.g. ready while talking
    invalid_config,  // a malformed queue config or agent profile
    invalid_argument,  // e.g. not ready without a reason
    duplicate,  // a call id already in the router, an agent already logged in
  };
  kind what = kind::invalid_config;
  std::string message;
};

using outcome = std::variant<actions, acd_error>;

std::string_view to_string(withdraw_reason r);
std::string_view to_string(leave_reason r);
std::string_view to_string(alarm_kind k);
std::string_view to_string(acd_error::kind k);

}  // namespace hotline::acd
