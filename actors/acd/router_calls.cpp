// Call operations (arrive, answer, end, abandon, callback) and the timers of on_tick.
#include <algorithm>

#include "actors/acd/router.hpp"
#include "actors/acd/router_state.hpp"

namespace hotline::acd {

using namespace detail;

namespace {

acd_error unknown_call(call_id c) {
  return {acd_error::kind::unknown_call, "call " + std::to_string(c) + " is not waiting, ringing or talking"};
}

std::string_view phase_name(call_phase p) {
  switch (p) {
    case call_phase::waiting: return "waiting";
    case call_phase::ringing: return "ringing";
    case call_phase::talking: return "talking";
  }
  return "?";
}

acd_error wrong_phase(call_id c, call_phase p, std::string_view hint) {
  return {acd_error::kind::bad_state,
          "call " + std::to_string(c) + " is " + std::string(phase_name(p)) + "; " + std::string(hint)};
}

}  // namespace

outcome router::on_call_arrived(const call_request& r, time_point now) {
  if (const auto* c = s_->find_call(r.id))
    return acd_error{acd_error::kind::duplicate,
                     "call " + std::to_string(r.id) + " is already in queue " + s_->queues[c->queue].cfg.id};
  const auto qit = s_->queue_by_id.find(r.queue);
  if (qit == s_->queue_by_id.end())
    return acd_error{acd_error::kind::unknown_queue, "queue '" + r.queue + "' is not configured"};

  actions out;
  now = s_->advance(now, out);
  auto& q = s_->queues[qit->second];
  if (!q.open) {
    // N-01: the IVR plays the hours and offers self-service or a callback.
    ++q.counters.after_hours;
    std::optional<time_point> opens;
    if (q.hours_change) opens = *q.hours_change - s_->cfg.utc_offset;
    out.push_back(call_after_hours{r.id, q.cfg.id, opens});
    s_->evaluate_alarms(now, out);
    return out;
  }
  call_rec c;
  c.req = r;
  c.queue = qit->second;
  c.lang = s_->intern(r.language);
  c.arrived_at = c.queued_at = now;
  c.seq = s_->next_seq++;
  if (q.cfg.max_wait > seconds{0}) {
    c.max_wait_at = now + q.cfg.max_wait;
    s_->timers.insert({*c.max_wait_at, timer_kind::max_wait, r.id});
  }
  ++q.counters.entered;
  s_->enqueue(s_->calls.emplace(r.id, std::move(c)).first->second, now, out, true);
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::call_answered(call_id id, time_point now) {
  auto* c = s_->find_call(id);
  if (!c) return unknown_call(id);
  if (c->phase != call_phase::ringing) return wrong_phase(id, c->phase, "only a ringing call can be answered");

  actions out;
  now = s_->advance(now, out);
  auto& q = s_->queues[c->queue];
  const agent_ix ai = *c->agent;
  s_->timers.erase({*c->ring_deadline, timer_kind::ring, id});
  c->ring_deadline.reset();
  if (c->max_wait_at) s_->timers.erase({*c->max_wait_at, timer_kind::max_wait, id});
  c->max_wait_at.reset();
  q.unanswered.erase({ms(c->arrived_at), id});
  const milliseconds waited = now - c->arrived_at;
  q.counters.record_answer(waited, q.cfg.service_level_threshold);
  c->phase = call_phase::talking;
  auto& a = s_->agents[ai];
  a.talk_started = now;
  ++a.calls_today;
  s_->set_state(ai, agent_state::talking, not_ready_reason::none, {}, now, out);
  out.push_back(call_connected{id, a.profile.id, q.cfg.id, waited});
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::offer_failed(call_id id, time_point now) {
  auto* c = s_->find_call(id);
  if (!c) return unknown_call(id);
  if (c->phase != call_phase::ringing) return wrong_phase(id, c->phase, "only a ringing offer can fail");
  actions out;
  now = s_->advance(now, out);
  s_->miss(*c, withdraw_reason::offer_failed, now, out);
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::call_ended(call_id id, time_point now) {
  auto* c = s_->find_call(id);
  if (!c) return unknown_call(id);
  if (c->phase != call_phase::talking)
    return wrong_phase(id, c->phase, "a call that was not answered ends with call_abandoned");

  actions out;
  now = s_->advance(now, out);
  const agent_ix ai = *c->agent;
  auto& a = s_->agents[ai];
  auto& q = s_->queues[c->queue];
  const milliseconds talk = now - a.talk_started;
  a.talk_today += talk;
  // Expected waits (N-18) use a moving average of talk + wrap-up (weight 1/8 per call).
  const milliseconds handle = talk + milliseconds{q.cfg.wrap_up};
  q.handle_time = q.handle_time == milliseconds{0} ? handle : (q.handle_time * 7 + handle) / 8;
  s_->calls.erase(id);
  if (q.cfg.wrap_up > seconds{0}) {
    a.wrap_up_end = now + q.cfg.wrap_up;
    s_->timers.insert({*a.wrap_up_end, timer_kind::wrap_up, ai});
    s_->set_state(ai, agent_state::wrap_up, not_ready_reason::none, {}, now, out);
  } else {
    a.call.reset();
    s_->set_state(ai, agent_state::ready, not_ready_reason::none, {}, now, out);
    s_->serve_or_index(ai, now, out);
  }
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::state::leave_queue(call_id id, leave_reason why, time_point now) {
  auto* c = find_call(id);
  if (!c) return unknown_call(id);
  if (c->phase == call_phase::talking)
    return wrong_phase(id, c->phase, "the caller is connected to an agent; the call ends with call_ended");
  actions out;
  now = advance(now, out);
  leave(*c, why, now, out);
  evaluate_alarms(now, out);
  return out;
}

outcome router::call_abandoned(call_id id, time_point now) { return s_->leave_queue(id, leave_reason::abandoned, now); }

outcome router::callback_requested(call_id id, time_point now) {
  return s_->leave_queue(id, leave_reason::callback_requested, now);
}

actions router::on_tick(time_point now) {
  actions out;
  now = s_->advance(now, out);
  while (!s_->timers.empty() && s_->timers.begin()->at <= now) {
    const timer t = *s_->timers.begin();
    s_->timers.erase(s_->timers.begin());
    switch (t.kind) {
      case timer_kind::ring:
        if (auto* c = s_->find_call(t.id); c && c->phase == call_phase::ringing) {
          c->ring_deadline.reset();
          s_->miss(*c, withdraw_reason::ring_timeout, now, out);  // N-03
        }
        break;
      case timer_kind::wrap_up: {
        const auto ai = static_cast<agent_ix>(t.id);
        s_->agents[ai].wrap_up_end.reset();
        if (s_->agents[ai].state == agent_state::wrap_up) s_->make_ready(ai, now, out);
        break;
      }
      case timer_kind::max_wait:
        // A ringing call keeps max_wait_at as a marker; requeue() handles it if the offer
        // is withdrawn.
        if (auto* c = s_->find_call(t.id); c && c->phase == call_phase::waiting) s_->max_wait(*c, now, out);
        break;
    }
  }
  s_->evaluate_alarms(now, out);
  return out;
}

std::optional<time_point> router::next_deadline() const {
  std::optional<time_point> next;
  auto take = [&](time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!s_->timers.empty()) take(s_->timers.begin()->at);
  for (const auto& q : s_->queues) {
    if (q.hours_change) take(*q.hours_change - s_->cfg.utc_offset);
    // The N-02 wait alarm is due once the oldest call waits longer than the threshold.
    if (!q.alarm_wait && !q.unanswered.empty())
      take(time_point{milliseconds{q.unanswered.begin()->first}} + q.cfg.service_level_threshold + milliseconds{1});
  }
  if (s_->today) take(time_point{*s_->today + std::chrono::days{1}} - s_->cfg.utc_offset);
  return next;
}

}  // namespace hotline::acd
