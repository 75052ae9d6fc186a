// Queue configuration, agent operations (N-04) and the read-only queries. Every operation
// checks its input against the current state before it changes anything, so an error
// leaves the router as it was.
#include "actors/acd/router.hpp"

#include <algorithm>

#include "actors/acd/router_state.hpp"

namespace hotline::acd {

using namespace detail;

namespace {

acd_error fail(acd_error::kind k, std::string message) { return {k, std::move(message)}; }

// Appends rather than `"'" + std::string(s)`: GCC 12 -O3 warns (-Wrestrict) on the latter.
std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '\'';
  q += s;
  q += '\'';
  return q;
}

}  // namespace

router::router(router_config cfg) : s_(std::make_unique<state>(cfg)) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

router router::clone() const {
  router r(s_->cfg);
  r.s_ = std::make_unique<state>(*s_);
  return r;
}

// --- queues ---

outcome router::configure_queue(const queue_config& q, time_point now) {
  if (auto e = validate(q); !e.empty()) return fail(acd_error::kind::invalid_config, e);
  if (!q.overflow_to.empty()) {
    if (!s_->find_queue(q.overflow_to))
      return fail(acd_error::kind::invalid_config,
                  "queue " + q.id + ": overflow_to names " + quoted(q.overflow_to) + ", which is not configured");
    // The existing overflow graph has no cycle, so following the chain from the new
    // target either ends or comes back here.
    std::string next = q.overflow_to;
    for (std::size_t steps = 0; !next.empty() && steps <= s_->queues.size(); ++steps) {
      if (next == q.id)
        return fail(acd_error::kind::invalid_config,
                    "queue " + q.id + ": overflow to " + q.overflow_to + " would make calls overflow in a circle");
      next = s_->find_queue(next)->cfg.overflow_to;
    }
  }
  const auto existing = s_->queue_by_id.find(q.id);
  if (existing != s_->queue_by_id.end()) {
    const auto& old = s_->queues[existing->second];
    if (old.cfg.skill != q.skill && old.members > 0)
      return fail(acd_error::kind::invalid_config, "queue " + q.id + ": the skill cannot change while " +
                                                       std::to_string(old.members) + " agents are logged in to it");
  }

  actions out;
  now = s_->advance(now, out);
  if (existing == s_->queue_by_id.end()) {
    const auto qi = static_cast<queue_ix>(s_->queues.size());
    s_->queues.emplace_back().cfg = q;
    s_->queue_by_id.emplace(q.id, qi);
    s_->refresh_hours(qi, now, out, true);
  } else {
    const queue_ix qi = existing->second;
    // A new strategy ranks the queue's available agents by another key.
    std::vector<agent_ix> reindex;
    if (s_->queues[qi].cfg.strategy != q.strategy)
      for (agent_ix a = 0; a < s_->agents.size(); ++a) {
        const auto& ms = s_->agents[a].queues;
        if (s_->agents[a].indexed &&
            std::any_of(ms.begin(), ms.end(), [&](const membership& m) { return m.queue == qi; }))
          reindex.push_back(a);
      }
    for (agent_ix a : reindex) s_->unindex(a);
    s_->queues[qi].cfg = q;
    for (agent_ix a : reindex) s_->index(a);
    s_->refresh_hours(qi, now, out, false);
  }
  s_->evaluate_alarms(now, out);
  return out;
}

// --- agents ---

outcome router::login(const agent_profile& p, time_point now) {
  if (auto e = validate(p); !e.empty()) return fail(acd_error::kind::invalid_config, e);
  auto* existing = s_->find_agent(p.id);
  if (existing && existing->state != agent_state::logged_out)
    return fail(acd_error::kind::duplicate, "agent " + p.id + " is already logged in");
  std::vector<membership> memberships;
  for (const auto& m : p.queues) {
    const auto q = s_->queue_by_id.find(m.queue);
    if (q == s_->queue_by_id.end())
      return fail(acd_error::kind::unknown_queue,
                  "agent " + p.id + ": queue " + quoted(m.queue) + " is not configured");
    const std::string& needed = s_->queues[q->second].cfg.skill;
    const auto sk = std::find_if(p.skills.begin(), p.skills.end(), [&](const skill& s) { return s.name == needed; });
    if (sk == p.skills.end())
      return fail(acd_error::kind::invalid_config,
                  "agent " + p.id + " has no skill " + quoted(needed) + ", which queue " + m.queue + " needs");
    memberships.push_back({q->second, m.priority, sk->level, sk->role, std::nullopt});
  }
  std::stable_sort(memberships.begin(), memberships.end(),
                   [](const membership& a, const membership& b) { return a.priority < b.priority; });

  actions out;
  now = s_->advance(now, out);
  agent_ix ai;
  if (existing) {
    ai = static_cast<agent_ix>(existing - s_->agents.data());
  } else {
    ai = static_cast<agent_ix>(s_->agents.size());
    s_->agents.emplace_back();
    s_->agent_by_id.emplace(p.id, ai);
  }
  auto& a = s_->agents[ai];
  a.profile = p;
  a.langs.clear();
  for (const auto& l : p.languages) a.langs.push_back(s_->intern(l));
  a.queues = std::move(memberships);
  for (const auto& m : a.queues) ++s_->queues[m.queue].members;
  a.call.reset();
  a.idle_since = now;
  s_->set_state(ai, agent_state::logged_in, not_ready_reason::none, {}, now, out);
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::logout(const agent_id& id, time_point now) {
  auto* a = s_->find_agent(id);
  if (!a) return fail(acd_error::kind::unknown_agent, "agent " + id + " is not known");
  if (a->state == agent_state::logged_out)
    return fail(acd_error::kind::bad_state, "agent " + id + " is not logged in");
  if (a->state == agent_state::talking)
    return fail(acd_error::kind::bad_state, "agent " + id + " is talking; the call must end before logout");

  actions out;
  now = s_->advance(now, out);
  const auto ai = static_cast<agent_ix>(a - s_->agents.data());
  call_rec* ringing = a->state == agent_state::ringing ? s_->find_call(*a->call) : nullptr;
  if (ringing) s_->withdraw(*ringing, withdraw_reason::agent_logged_out, out);
  s_->cancel_wrap_up(ai);
  a->call.reset();
  s_->set_state(ai, agent_state::logged_out, not_ready_reason::none, {}, now, out);
  for (const auto& m : a->queues) --s_->queues[m.queue].members;
  a->queues.clear();
  if (ringing) s_->requeue(*ringing, now, out);
  s_->evaluate_alarms(now, out);
  return out;
}

namespace {

// Ringing and talking are left by the call's own events, never by the agent's buttons.
std::optional<acd_error> check_free_to_change(const agent_rec* a, const agent_id& id) {
  if (!a) return acd_error{acd_error::kind::unknown_agent, "agent " + id + " is not known"};
  switch (a->state) {
    case agent_state::logged_out: return acd_error{acd_error::kind::bad_state, "agent " + id + " is not logged in"};
    case agent_state::ringing:
      return acd_error{acd_error::kind::bad_state,
                       "agent " + id + " is ringing; answer the call or let the offer time out"};
    case agent_state::talking:
      return acd_error{acd_error::kind::bad_state, "agent " + id + " is talking; the call must end first"};
    default: return std::nullopt;
  }
}

}  // namespace

outcome router::on_agent_available(const agent_id& id, time_point now) {
  auto* a = s_->find_agent(id);
  if (auto e = check_free_to_change(a, id)) return *e;
  actions out;
  now = s_->advance(now, out);
  if (a->state != agent_state::ready) s_->make_ready(static_cast<agent_ix>(a - s_->agents.data()), now, out);
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::end_wrap_up(const agent_id& id, time_point now) {
  auto* a = s_->find_agent(id);
  if (!a) return fail(acd_error::kind::unknown_agent, "agent " + id + " is not known");
  if (a->state != agent_state::wrap_up)
    return fail(acd_error::kind::bad_state,
                "agent " + id + " is not in wrap-up (" + std::string(to_string(a->state)) + ")");
  return on_agent_available(id, now);
}

outcome router::set_not_ready(const agent_id& id, not_ready_reason why, time_point now) {
  if (why == not_ready_reason::none)
    return fail(acd_error::kind::invalid_argument, "not ready needs a reason (N-04: break, training, meeting, ...)");
  auto* a = s_->find_agent(id);
  if (auto e = check_free_to_change(a, id)) return *e;
  actions out;
  now = s_->advance(now, out);
  const auto ai = static_cast<agent_ix>(a - s_->agents.data());
  s_->cancel_wrap_up(ai);
  if (a->state == agent_state::wrap_up) a->call.reset();
  s_->set_state(ai, agent_state::not_ready, why, {}, now, out);
  s_->evaluate_alarms(now, out);
  return out;
}

outcome router::set_phone_registered(const agent_id& id, bool registered, time_point now) {
  auto* a = s_->find_agent(id);
  if (!a) return fail(acd_error::kind::unknown_agent, "agent " + id + " is not known");
  actions out;
  now = s_->advance(now, out);
  const auto ai = static_cast<agent_ix>(a - s_->agents.data());
  if (a->profile.phone_registered != registered) {
    s_->unindex(ai);
    s_->count(*a, -1);
    a->profile.phone_registered = registered;
    s_->count(*a, +1);
    if (!registered && a->state == agent_state::ringing) {
      // The phone is gone: the call goes to someone else; not the agent's miss.
      auto& c = s_->calls.at(*a->call);
      s_->withdraw(c, withdraw_reason::phone_unregistered, out);
      s_->set_state(ai, agent_state::ready, not_ready_reason::none, {}, now, out);
      s_->requeue(c, now, out);
    } else if (registered && a->state == agent_state::ready) {
      s_->serve_or_index(ai, now, out);
    }
  }
  s_->evaluate_alarms(now, out);
  return out;
}

// --- queries ---

std::optional<queue_position> router::position(call_id c) const {
  const auto it = s_->calls.find(c);
  if (it == s_->calls.end() || it->second.phase == call_phase::talking) return std::nullopt;
  return s_->position_of(it->second);
}

std::optional<queue_id> router::queue_of(call_id c) const {
  const auto it = s_->calls.find(c);
  if (it == s_->calls.end()) return std::nullopt;
  return s_->queues[it->second.queue].cfg.id;
}

std::optional<router::call_view> router::call(call_id c) const {
  const auto it = s_->calls.find(c);
  if (it == s_->calls.end()) return std::nullopt;
  const auto& rec = it->second;
  call_view v;
  v.queue = s_->queues[rec.queue].cfg.id;
  v.at = rec.phase == detail::call_phase::waiting   ? call_view::phase::waiting
         : rec.phase == detail::call_phase::ringing ? call_view::phase::ringing
                                                    : call_view::phase::talking;
  if (rec.agent) v.agent = s_->agents[*rec.agent].profile.id;
  return v;
}

std::optional<agent_view> router::agent(const agent_id& id) const {
  const auto it = s_->agent_by_id.find(id);
  if (it == s_->agent_by_id.end()) return std::nullopt;
  const auto& a = s_->agents[it->second];
  agent_view v;
  v.id = a.profile.id;
  v.state = a.state;
  v.reason = a.reason;
  v.note = a.note;
  v.state_since = a.state_since;
  v.phone_registered = a.profile.phone_registered;
  v.call = a.call;
  v.calls_today = a.calls_today;
  v.talk_today = a.talk_today;
  v.missed_today = a.missed_today;
  v.idle_since = a.idle_since;
  return v;
}

namespace {

milliseconds waited_since(const std::set<std::pair<std::int64_t, call_id>>& unanswered, time_point now) {
  if (unanswered.empty()) return milliseconds{0};
  return std::max(milliseconds{0}, now - time_point{milliseconds{unanswered.begin()->first}});
}

}  // namespace

std::optional<figures> router::queue_figures(const queue_id& id, time_point now) const {
  const auto* q = s_->find_queue(id);
  if (!q) return std::nullopt;
  figures f;
  f.open = q->open;
  f.waiting = static_cast<std::uint32_t>(q->unanswered.size());
  f.longest_wait = waited_since(q->unanswered, now);
  f.agents_by_state = q->agents_by_state;
  f.working_agents = q->working;
  f.counters = q->counters;
  f.rates = rates_of(f.counters);
  return f;
}

figures router::site_figures(time_point now) const {
  figures f;
  for (const auto& q : s_->queues) {
    f.open = f.open || q.open;
    f.waiting += static_cast<std::uint32_t>(q.unanswered.size());
    f.longest_wait = std::max(f.longest_wait, waited_since(q.unanswered, now));
    f.counters += q.counters;
  }
  f.agents_by_state = s_->site_by_state;  // each agent once, whatever its number of queues
  f.working_agents = s_->site_working;
  f.rates = rates_of(f.counters);
  return f;
}

}  // namespace hotline::acd
