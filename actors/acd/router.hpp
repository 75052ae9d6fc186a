#pragma once
// The ACD routing engine, sans I/O: it knows queues, agents and waiting calls and decides
// who gets which call. No CAF, no clock, no threads — the queue/agent actors own one
// router per site, feed it every event with the time it happened, and execute the
// returned actions (actions.hpp). docs/acd.md describes the design.
//
// Contract:
//  - Single-threaded: one owner (an actor) calls it; nothing inside blocks or allocates
//    on another thread.
//  - Time only moves forward: an earlier `now` than already seen is taken as the latest.
//    Timers (ring timeout, wrap-up end, max wait) fire only in on_tick; call on_tick at
//    next_deadline() (and at least once a second for the N-02 wait alarm and N-50 waits).
//  - A call that returns acd_error changed nothing. Successful calls return the actions
//    to carry out, in order.
//  - Decisions are O(log n) in agents and calls per queue the agent or call touches: the
//    available agents of each queue sit in ordered sets keyed by the queue's strategy, per
//    post (A/B) and language; waiting calls in sets keyed by (priority, arrival).
//
// Rules carried out (NORMS.md): N-01 service hours, N-02 bottom-line alarm, N-03 ring
// timeout with re-offer and missed-offer count, N-04 agent states with timestamps, N-12
// A/B posts, N-13 language seats, N-14 priority for dangerous-call callbacks, N-18
// position/expected wait and callback instead of waiting, N-50 live figures.
#include <memory>
#include <optional>

#include "actors/acd/actions.hpp"
#include "actors/acd/model.hpp"
#include "actors/acd/stats.hpp"

namespace hotline::acd {

struct router_config {
  minutes utc_offset{8 * 60};  // the site's local time (China Standard Time by default)
  // N-03 says a missed offer is re-offered and recorded against the agent; it does not say
  // what happens to the agent. Default: not ready (`other`, note "missed offer") so an
  // absent agent stops receiving calls. false: the agent stays ready; the call still goes
  // to another available agent first.
  bool not_ready_after_missed_offer = true;
};

class router {
 public:
  explicit router(router_config cfg = {});
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;
  router(const router&) = delete;
  router& operator=(const router&) = delete;
  // A deep copy (the ACD actor's checkpoint, which outlives a failed actor).
  router clone() const;

  // Adds a queue or replaces its config. Errors: invalid_config (malformed, unknown or
  // cyclic overflow target, a skill change while agents are members).
  outcome configure_queue(const queue_config& q, time_point now);

  // --- agents (N-04) ---
  // Logged out -> logged in. Errors: invalid_config (profile; no skill for a queue),
  // unknown_queue, duplicate (already logged in).
  outcome login(const agent_profile& a, time_point now);
  // From any state but talking; a ringing offer is withdrawn and re-offered (no miss).
  outcome logout(const agent_id& a, time_point now);
  // The agent is ready (console or phone *21; from logged in, not ready, or wrap-up ending
  // early). A freed agent gets the best waiting call of its highest-priority queue at once.
  outcome on_agent_available(const agent_id& a, time_point now);
  // The console's "end wrap-up": like on_agent_available, but only from wrap-up.
  outcome end_wrap_up(const agent_id& a, time_point now);
  // Not ready with a reason (not `none`), from logged in, ready, not ready or wrap-up.
  outcome set_not_ready(const agent_id& a, not_ready_reason why, time_point now);
  // From the registrar. Unregistered: no offers; a ringing offer is withdrawn, no miss.
  outcome set_phone_registered(const agent_id& a, bool registered, time_point now);

  // --- calls ---
  // The IVR hands a call to a queue: offered to an agent, queued, or after hours (N-01).
  outcome on_call_arrived(const call_request& c, time_point now);
  // The ringing agent answered.
  outcome call_answered(call_id c, time_point now);
  // The ringing phone declined or failed before the ring timeout: same as a timeout.
  outcome offer_failed(call_id c, time_point now);
  // An answered call was released: the agent goes to wrap-up (or ready if wrap_up is 0).
  outcome call_ended(call_id c, time_point now);
  // The caller hung up while waiting or ringing: counted with its wait (N-50).
  outcome call_abandoned(call_id c, time_point now);
  // N-18: the caller pressed the key for a callback instead of waiting.
  outcome callback_requested(call_id c, time_point now);

  // Ring timeouts, wrap-up ends, max waits, service hours, alarms, the local day.
  actions on_tick(time_point now);
  // The earliest time on_tick has something to do (timers, hours, the wait alarm).
  std::optional<time_point> next_deadline() const;

  // --- queries (no state change) ---
  // N-18: position and expected wait of a queued call; nullopt for unknown or answered calls.
  std::optional<queue_position> position(call_id c) const;
  std::optional<agent_view> agent(const agent_id& a) const;
  std::optional<queue_id> queue_of(call_id c) const;
  // Where a call the router holds stands: waiting, ringing `agent`, or talking to `agent`.
  struct call_view {
    enum class phase { waiting, ringing, talking } at = phase::waiting;
    queue_id queue;
    agent_id agent;  // ringing, talking
  };
  std::optional<call_view> call(call_id c) const;
  // N-50 figures of one queue (nullopt: unknown queue), or of the whole site.
  std::optional<figures> queue_figures(const queue_id& q, time_point now) const;
  figures site_figures(time_point now) const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace hotline::acd
