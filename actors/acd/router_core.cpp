// The router's inner steps: time, indexes, agent states, offers. The public operations in
// router.cpp (agents, queues, queries) and router_calls.cpp (calls, timers) validate
// their input first and then combine these steps.
#include <algorithm>
#include <cassert>

#include "actors/acd/router_state.hpp"

namespace hotline::acd {

using namespace detail;

namespace {

void bump(std::uint32_t& v, int sign) {
  if (sign > 0)
    ++v;
  else
    --v;
}

agent_set& set_at(std::vector<agent_set>& sets, lang_ix l) {
  if (sets.size() <= l) sets.resize(l + 1);
  return sets[l];
}

}  // namespace

agent_rec* router::state::find_agent(const agent_id& id) {
  auto it = agent_by_id.find(id);
  return it == agent_by_id.end() ? nullptr : &agents[it->second];
}

call_rec* router::state::find_call(call_id id) {
  auto it = calls.find(id);
  return it == calls.end() ? nullptr : &it->second;
}

const queue_rec* router::state::find_queue(const queue_id& id) const {
  auto it = queue_by_id.find(id);
  return it == queue_by_id.end() ? nullptr : &queues[it->second];
}

lang_ix router::state::intern(const std::string& language) {
  return lang_by_name.try_emplace(language, static_cast<lang_ix>(lang_by_name.size())).first->second;
}

// --- time ---

time_point router::state::advance(time_point now, actions& out) {
  now = std::max(now, last_now);
  last_now = now;
  const auto day = std::chrono::floor<std::chrono::days>(local(now));
  if (!today)
    today = day;
  else if (day > *today)
    roll_day(day);
  for (queue_ix q = 0; q < queues.size(); ++q)
    if (queues[q].hours_change && *queues[q].hours_change <= local(now)) refresh_hours(q, now, out, false);
  return now;
}

// A new local day: the "today" figures restart, and the strategies that rank by them
// re-rank every available agent (once a day, O(n log n)).
void router::state::roll_day(std::chrono::sys_days day) {
  today = day;
  for (agent_ix a = 0; a < agents.size(); ++a) {
    const bool was_indexed = agents[a].indexed;
    if (was_indexed) unindex(a);
    agents[a].calls_today = 0;
    agents[a].talk_today = milliseconds{0};
    agents[a].missed_today = 0;
    if (was_indexed) index(a);
  }
  for (auto& q : queues) q.counters = {};
}

void router::state::refresh_hours(queue_ix qi, time_point now, actions& out, bool announce) {
  auto& q = queues[qi];
  const bool open = q.cfg.hours.open_at(local(now));
  q.hours_change = q.cfg.hours.next_change(local(now));
  if (open != q.open || announce) out.push_back(service_hours_changed{q.cfg.id, open});
  q.open = open;
}

void router::state::evaluate_alarms(time_point now, actions& out) {
  for (auto& q : queues) {
    const int minimum = q.cfg.min_agents;
    const int working = static_cast<int>(q.working);
    const milliseconds longest =
        q.unanswered.empty() ? milliseconds{0} : now - time_point{milliseconds{q.unanswered.begin()->first}};
    const bool below = q.open && minimum > 0 && working < minimum;
    if (below != q.alarm_below_minimum) {
      q.alarm_below_minimum = below;
      if (below)
        out.push_back(alarm_raised{q.cfg.id, alarm_kind::below_minimum_agents, working, minimum, longest});
      else
        out.push_back(alarm_cleared{q.cfg.id, alarm_kind::below_minimum_agents});
    }
    const bool waiting_long = longest > q.cfg.service_level_threshold;
    if (waiting_long != q.alarm_wait) {
      q.alarm_wait = waiting_long;
      if (waiting_long)
        out.push_back(alarm_raised{q.cfg.id, alarm_kind::wait_over_threshold, working, minimum, longest});
      else
        out.push_back(alarm_cleared{q.cfg.id, alarm_kind::wait_over_threshold});
    }
  }
}

// --- agents ---

void router::state::count(const agent_rec& a, int sign) {
  if (a.state == agent_state::logged_out) return;
  const auto s = static_cast<std::size_t>(a.state);
  const bool working = a.working();
  for (const auto& m : a.queues) {
    bump(queues[m.queue].agents_by_state[s], sign);
    if (working) bump(queues[m.queue].working, sign);
  }
  bump(site_by_state[s], sign);
  if (working) bump(site_working, sign);
}

agent_key router::state::key_for(const agent_rec& a, const membership& m) const {
  agent_key k;
  k.idle_since = ms(a.idle_since);
  k.agent = static_cast<agent_ix>(&a - agents.data());
  switch (queues[m.queue].cfg.strategy) {
    case strategy::longest_idle: k.primary = k.idle_since; break;
    case strategy::fewest_calls_today: k.primary = a.calls_today; break;
    case strategy::least_talk_time: k.primary = a.talk_today.count(); break;
    case strategy::skill_level: k.primary = -m.level; break;
  }
  return k;
}

void router::state::index(agent_ix ai) {
  auto& a = agents[ai];
  assert(!a.indexed && a.available());
  for (auto& m : a.queues) {
    const agent_key k = key_for(a, m);
    auto& sets = queues[m.queue].available[static_cast<std::size_t>(m.role)];
    set_at(sets, 0).insert(k);
    for (lang_ix l : a.langs) set_at(sets, l).insert(k);
    m.key = k;
  }
  a.indexed = true;
}

void router::state::unindex(agent_ix ai) {
  auto& a = agents[ai];
  if (!a.indexed) return;
  for (auto& m : a.queues) {
    if (!m.key) continue;
    auto& sets = queues[m.queue].available[static_cast<std::size_t>(m.role)];
    sets[0].erase(*m.key);
    for (lang_ix l : a.langs) sets[l].erase(*m.key);
    m.key.reset();
  }
  a.indexed = false;
}

void router::state::set_state(agent_ix ai, agent_state to, not_ready_reason why, std::string note, time_point now,
                              actions& out) {
  auto& a = agents[ai];
  unindex(ai);  // whatever the new state, the caller re-indexes a ready agent (serve_or_index)
  count(a, -1);
  const agent_state from = a.state;
  a.state = to;
  a.reason = why;
  a.note = std::move(note);
  a.state_since = now;
  // An offer taken back without the agent's fault (caller hung up) keeps its idle time.
  if (to == agent_state::ready && from != agent_state::ringing) a.idle_since = now;
  count(a, +1);
  out.push_back(agent_state_changed{a.profile.id, from, to, why, a.note, now});
}

void router::state::serve_or_index(agent_ix ai, time_point now, actions& out) {
  if (!agents[ai].available()) return;
  if (auto c = pick_call(ai))
    offer(calls.at(*c), ai, now, out);
  else
    index(ai);
}

void router::state::cancel_wrap_up(agent_ix ai) {
  auto& a = agents[ai];
  if (!a.wrap_up_end) return;
  timers.erase({*a.wrap_up_end, timer_kind::wrap_up, ai});
  a.wrap_up_end.reset();
}

void router::state::make_ready(agent_ix ai, time_point now, actions& out) {
  cancel_wrap_up(ai);
  if (agents[ai].state == agent_state::wrap_up) agents[ai].call.reset();
  set_state(ai, agent_state::ready, not_ready_reason::none, {}, now, out);
  serve_or_index(ai, now, out);
}

// --- calls ---

// N-12: an A agent if any is available, else a B agent; N-13: among those speaking the
// call's language. The first in the set is the strategy's choice.
std::optional<agent_ix> router::state::pick_agent(const call_rec& c) const {
  const auto& q = queues[c.queue];
  for (const auto& sets : q.available) {
    if (c.lang < sets.size() && !sets[c.lang].empty()) return sets[c.lang].begin()->agent;
  }
  return std::nullopt;
}

// The freed agent's queues in its priority order; among queues of equal priority, the
// call first in (priority, arrival) order; only calls without a language or in one the
// agent speaks. No A/B check is needed: a call still waits only because no agent able to
// take it was available, A or B.
std::optional<call_id> router::state::pick_call(agent_ix ai) const {
  const auto& a = agents[ai];
  std::optional<call_key> best;
  int group = 0;
  for (const auto& m : a.queues) {
    if (best && m.priority != group) break;
    group = m.priority;
    const auto& q = queues[m.queue];
    auto consider = [&](lang_ix l) {
      if (l >= q.waiting_by_lang.size()) return;
      const auto& calls_in = q.waiting_by_lang[l];
      if (!calls_in.empty() && (!best || *calls_in.begin() < *best)) best = *calls_in.begin();
    };
    consider(0);
    for (lang_ix l : a.langs) consider(l);
  }
  if (!best) return std::nullopt;
  return best->call;
}

void router::state::add_waiting(call_rec& c) {
  auto& q = queues[c.queue];
  q.waiting.insert(c.key());
  if (q.waiting_by_lang.size() <= c.lang) q.waiting_by_lang.resize(c.lang + 1);
  q.waiting_by_lang[c.lang].insert(c.key());
}

void router::state::remove_waiting(const call_rec& c) {
  auto& q = queues[c.queue];
  q.waiting.erase(c.key());
  if (c.lang < q.waiting_by_lang.size()) q.waiting_by_lang[c.lang].erase(c.key());
}

void router::state::offer(call_rec& c, agent_ix ai, time_point now, actions& out) {
  remove_waiting(c);
  const auto& q = queues[c.queue];
  c.phase = call_phase::ringing;
  c.agent = ai;
  c.ring_deadline = now + q.cfg.ring_timeout;
  timers.insert({*c.ring_deadline, timer_kind::ring, c.req.id});
  agents[ai].call = c.req.id;
  agents[ai].call_queue = c.queue;
  set_state(ai, agent_state::ringing, not_ready_reason::none, {}, now, out);
  out.push_back(offer_call{c.req.id, agents[ai].profile.id, q.cfg.id, *c.ring_deadline});
}

void router::state::enqueue(call_rec& c, time_point now, actions& out, bool announce) {
  auto& q = queues[c.queue];
  q.unanswered.insert({ms(c.arrived_at), c.req.id});
  c.phase = call_phase::waiting;
  add_waiting(c);
  if (auto a = pick_agent(c)) {
    offer(c, *a, now, out);
    return;
  }
  if (announce) out.push_back(call_queued{c.req.id, q.cfg.id, position_of(c)});
}

void router::state::requeue(call_rec& c, time_point now, actions& out) {
  enqueue(c, now, out, false);
  // The max-wait timer fired while the call rang and left max_wait_at as a marker.
  if (c.phase == call_phase::waiting && c.max_wait_at && *c.max_wait_at <= now) max_wait(c, now, out);
}

agent_ix router::state::withdraw(call_rec& c, withdraw_reason why, actions& out) {
  const agent_ix ai = *c.agent;
  if (c.ring_deadline) timers.erase({*c.ring_deadline, timer_kind::ring, c.req.id});
  out.push_back(withdraw_offer{c.req.id, agents[ai].profile.id, why});
  agents[ai].call.reset();
  c.agent.reset();
  c.ring_deadline.reset();
  c.phase = call_phase::waiting;  // not in the waiting sets until enqueued again
  return ai;
}

void router::state::miss(call_rec& c, withdraw_reason why, time_point now, actions& out) {
  const agent_ix ai = withdraw(c, why, out);
  auto& a = agents[ai];
  ++a.missed_today;
  ++queues[c.queue].counters.offers_missed;
  out.push_back(missed_offer{a.profile.id, c.req.id, a.missed_today});
  if (cfg.not_ready_after_missed_offer)
    set_state(ai, agent_state::not_ready, not_ready_reason::other, "missed offer", now, out);
  else
    set_state(ai, agent_state::ready, not_ready_reason::none, {}, now, out);
  // The agent is not in the available sets yet, so the call goes to another agent if any
  // is available (N-03), before the agent, if left ready, is served below.
  requeue(c, now, out);
  // An agent left ready gets the next call, even the one it missed if nobody else took it.
  if (a.state == agent_state::ready) serve_or_index(ai, now, out);
}

void router::state::max_wait(call_rec& c, time_point now, actions& out) {
  if (c.max_wait_at) timers.erase({*c.max_wait_at, timer_kind::max_wait, c.req.id});
  c.max_wait_at.reset();
  auto& from = queues[c.queue];
  if (!from.cfg.overflow_to.empty()) {
    const queue_ix ti = queue_by_id.at(from.cfg.overflow_to);
    auto& to = queues[ti];
    if (to.open) {
      remove_waiting(c);
      from.unanswered.erase({ms(c.arrived_at), c.req.id});
      ++from.counters.overflowed_out;
      ++to.counters.entered;
      ++to.counters.overflowed_in;
      c.queue = ti;
      c.queued_at = now;
      c.max_wait_reported = false;
      if (to.cfg.max_wait > seconds{0}) {
        c.max_wait_at = now + to.cfg.max_wait;
        timers.insert({*c.max_wait_at, timer_kind::max_wait, c.req.id});
      }
      out.push_back(call_overflowed{c.req.id, from.cfg.id, to.cfg.id});
      enqueue(c, now, out, true);
      return;
    }
  }
  if (!c.max_wait_reported) {
    c.max_wait_reported = true;
    out.push_back(max_wait_reached{c.req.id, from.cfg.id});
  }
}

void router::state::leave(call_rec& c, leave_reason why, time_point now, actions& out) {
  auto& q = queues[c.queue];
  std::optional<agent_ix> freed;
  if (c.phase == call_phase::ringing)
    freed = withdraw(
        c, why == leave_reason::abandoned ? withdraw_reason::abandoned : withdraw_reason::callback_requested, out);
  else
    remove_waiting(c);
  q.unanswered.erase({ms(c.arrived_at), c.req.id});
  if (c.max_wait_at) timers.erase({*c.max_wait_at, timer_kind::max_wait, c.req.id});
  const milliseconds waited = now - c.arrived_at;
  const call_id id = c.req.id;
  if (why == leave_reason::abandoned)
    q.counters.record_abandon(id, waited, now);
  else
    ++q.counters.callbacks_requested;
  out.push_back(call_left_queue{id, q.cfg.id, why, waited});
  calls.erase(id);
  if (freed) {
    set_state(*freed, agent_state::ready, not_ready_reason::none, {}, now, out);
    serve_or_index(*freed, now, out);
  }
}

queue_position router::state::position_of(const call_rec& c) const {
  if (c.phase != call_phase::waiting) return {0, seconds{0}};
  const auto& q = queues[c.queue];
  queue_position p;
  p.position = static_cast<std::uint32_t>(q.waiting.order_of_key(c.key()) + 1);
  if (q.working > 0) {
    const milliseconds handle =
        q.handle_time > milliseconds{0} ? q.handle_time : milliseconds{q.cfg.initial_handle_time};
    p.expected_wait = std::chrono::ceil<seconds>(handle * p.position / q.working);
  }
  return p;
}

}  // namespace hotline::acd
