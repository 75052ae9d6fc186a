#pragma once
// The router's private state and its indexes; included only by the router's .cpp files.
//
// Indexes (what makes a decision O(log n)):
//  - per queue, per post (A, B), per language: the *available* agents (ready, phone
//    registered, not ringing) in a std::set ordered by the queue's strategy key, then by
//    idle time, then by agent. Language 0 is "any" and holds every available agent; an
//    agent is also in the set of each language it speaks (N-13).
//  - per queue: the *waiting* calls (queued, not ringing) ordered by (priority desc,
//    arrival, sequence) in an order-statistics tree (position in O(log n), N-18), and per
//    language (0 = calls without a language) in std::sets for the freed-agent lookup.
//  - per queue: every unanswered call (waiting or ringing) by arrival time (longest wait).
//  - one timer set for ring timeouts, wrap-up ends and max waits.
#include <array>
#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/acd/actions.hpp"
#include "actors/acd/model.hpp"
#include "actors/acd/router.hpp"
#include "actors/acd/stats.hpp"

namespace hotline::acd::detail {

using agent_ix = std::uint32_t;
using queue_ix = std::uint32_t;
using lang_ix = std::uint32_t;  // 0 = any language / no language

inline std::int64_t ms(time_point t) { return t.time_since_epoch().count(); }

// Smaller is better: the strategy's figure, then longest idle, then the lower index.
struct agent_key {
  std::int64_t primary = 0;
  std::int64_t idle_since = 0;
  agent_ix agent = 0;
  auto operator<=>(const agent_key&) const = default;
};

// Smaller is served first: higher priority, then earlier arrival (an overflowed call
// keeps its arrival), then sequence.
struct call_key {
  int neg_priority = 0;
  std::int64_t arrived = 0;
  std::uint64_t seq = 0;
  call_id call = 0;
  auto operator<=>(const call_key&) const = default;
};

using agent_set = std::set<agent_key>;
using call_set = std::set<call_key>;
using ranked_call_set = __gnu_pbds::tree<call_key, __gnu_pbds::null_type, std::less<call_key>,
                                         __gnu_pbds::rb_tree_tag, __gnu_pbds::tree_order_statistics_node_update>;

struct membership {
  queue_ix queue = 0;
  int priority = 1;
  int level = 1;
  post role = post::a;
  std::optional<agent_key> key;  // set while the agent is in this queue's available sets
};

struct agent_rec {
  agent_profile profile;
  std::vector<lang_ix> langs;  // interned profile.languages
  std::vector<membership> queues;  // by priority, first served first; empty when logged out
  agent_state state = agent_state::logged_out;
  not_ready_reason reason = not_ready_reason::none;
  std::string note;
  time_point state_since;
  bool indexed = false;
  std::optional<call_id> call;  // ringing, talking, or the call being wrapped up
  queue_ix call_queue = 0;
  time_point idle_since;
  time_point talk_started;
  std::optional<time_point> wrap_up_end;
  std::uint32_t calls_today = 0;
  milliseconds talk_today{0};
  std::uint32_t missed_today = 0;

  bool available() const { return state == agent_state::ready && profile.phone_registered; }
  // N-02: logged in, phone registered, not set not ready (a busy agent still counts).
  bool working() const {
    return profile.phone_registered && (state == agent_state::ready || state == agent_state::ringing ||
                                        state == agent_state::talking || state == agent_state::wrap_up);
  }
};

enum class call_phase : std::uint8_t { waiting, ringing, talking };

struct call_rec {
  call_request req;
  queue_ix queue = 0;
  lang_ix lang = 0;
  call_phase phase = call_phase::waiting;
  time_point arrived_at;  // the first queue: waits and service level run from here (N-03)
  time_point queued_at;  // this queue: max wait runs from here
  std::uint64_t seq = 0;
  std::optional<agent_ix> agent;
  std::optional<time_point> ring_deadline;
  std::optional<time_point> max_wait_at;
  bool max_wait_reported = false;

  call_key key() const { return {-req.priority, ms(arrived_at), seq, req.id}; }
};

struct queue_rec {
  queue_config cfg;
  std::array<std::vector<agent_set>, 2> available;  // [post][language]
  ranked_call_set waiting;
  std::vector<call_set> waiting_by_lang;  // [language]
  std::set<std::pair<std::int64_t, call_id>> unanswered;  // (arrival, call): waiting or ringing
  std::array<std::uint32_t, agent_state_count> agents_by_state{};  // logged-in members
  std::uint32_t working = 0;
  std::uint32_t members = 0;
  queue_counters counters;
  milliseconds handle_time{0};  // moving average of talk + wrap-up; 0 until the first call
  bool open = false;
  std::optional<time_point> hours_change;  // when `open` flips next (site local time axis)
  bool alarm_below_minimum = false;
  bool alarm_wait = false;
};

enum class timer_kind : std::uint8_t { ring, wrap_up, max_wait };

struct timer {
  time_point at;
  timer_kind kind = timer_kind::ring;
  std::uint64_t id = 0;  // call id (ring, max_wait) or agent index (wrap_up)
  auto operator<=>(const timer&) const = default;
};

}  // namespace hotline::acd::detail

namespace hotline::acd {

struct router::state {
  using agent_ix = detail::agent_ix;
  using queue_ix = detail::queue_ix;
  using lang_ix = detail::lang_ix;

  router_config cfg;
  std::vector<detail::agent_rec> agents;
  std::unordered_map<agent_id, agent_ix> agent_by_id;
  std::vector<detail::queue_rec> queues;
  std::unordered_map<queue_id, queue_ix> queue_by_id;
  std::unordered_map<call_id, detail::call_rec> calls;
  std::unordered_map<std::string, lang_ix> lang_by_name{{"", 0}};
  std::set<detail::timer> timers;
  std::array<std::uint32_t, agent_state_count> site_by_state{};
  std::uint32_t site_working = 0;
  std::uint64_t next_seq = 1;
  time_point last_now{};
  std::optional<std::chrono::sys_days> today;  // local day of the counters

  explicit state(router_config c) : cfg(c) {}

  // Lookups returning null for unknown ids.
  detail::agent_rec* find_agent(const agent_id& id);
  detail::call_rec* find_call(call_id id);
  const detail::queue_rec* find_queue(const queue_id& id) const;
  lang_ix intern(const std::string& language);
  time_point local(time_point now) const { return now + cfg.utc_offset; }

  // Time: clamp, roll the day, flip service hours (emitting service_hours_changed).
  time_point advance(time_point now, actions& out);
  void roll_day(std::chrono::sys_days day);
  void refresh_hours(queue_ix q, time_point now, actions& out, bool announce);
  // After every operation: raise or clear the N-02 alarms.
  void evaluate_alarms(time_point now, actions& out);

  // Agents: state counts, indexes, state changes.
  void count(const detail::agent_rec& a, int sign);
  detail::agent_key key_for(const detail::agent_rec& a, const detail::membership& m) const;
  void index(agent_ix a);
  void unindex(agent_ix a);
  void set_state(agent_ix a, agent_state to, not_ready_reason why, std::string note, time_point now, actions& out);
  // The agent just became ready: give it the best waiting call or index it as available.
  void serve_or_index(agent_ix a, time_point now, actions& out);
  // Ready from logged in, not ready or wrap-up.
  void make_ready(agent_ix a, time_point now, actions& out);
  void cancel_wrap_up(agent_ix a);

  // Calls.
  std::optional<agent_ix> pick_agent(const detail::call_rec& c) const;
  std::optional<call_id> pick_call(agent_ix a) const;
  void offer(detail::call_rec& c, agent_ix a, time_point now, actions& out);
  void add_waiting(detail::call_rec& c);
  void remove_waiting(const detail::call_rec& c);
  // Put a call into its queue (new, overflowed or back from a failed offer) and offer it
  // to the best available agent if there is one.
  void enqueue(detail::call_rec& c, time_point now, actions& out, bool announce);
  // Back to the queue after an offer was withdrawn: offered to the next available agent, or
  // overflowed at once if its max wait passed while it rang.
  void requeue(detail::call_rec& c, time_point now, actions& out);
  // The ringing agent did not answer (timeout or failure): N-03.
  void miss(detail::call_rec& c, withdraw_reason why, time_point now, actions& out);
  // Take the offer back (withdraw_offer); the caller decides the agent's next state and
  // re-queues the call. Returns the agent.
  agent_ix withdraw(detail::call_rec& c, withdraw_reason why, actions& out);
  void max_wait(detail::call_rec& c, time_point now, actions& out);
  // Removes a waiting or ringing call that the caller left (abandon, callback).
  void leave(detail::call_rec& c, leave_reason why, time_point now, actions& out);
  // call_abandoned and callback_requested: checks, then leave().
  outcome leave_queue(call_id id, leave_reason why, time_point now);
  queue_position position_of(const detail::call_rec& c) const;
};

}  // namespace hotline::acd
