#pragma once
// A router, a manual clock (the test moves `now`), and helpers that read the returned
// actions. The site is in UTC+8; the clock starts on Monday 2026-11-23, 10:00 local.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "actors/acd/router.hpp"

namespace hotline::acd::test {

using namespace std::chrono_literals;

// Local wall time of the UTC+8 site as the router's time_point (UTC).
inline time_point local_time(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  return time_point{std::chrono::sys_days{std::chrono::year{y} / m / d}} + std::chrono::hours{hh} + minutes{mm} +
         seconds{ss} - std::chrono::hours{8};
}

template <class T>
std::vector<T> all_of(const actions& as) {
  std::vector<T> out;
  for (const auto& a : as)
    if (const auto* t = std::get_if<T>(&a)) out.push_back(*t);
  return out;
}

// The agent offered `call` in these actions, or "" if none.
inline std::string offered_to(const actions& as, call_id call) {
  for (const auto& o : all_of<offer_call>(as))
    if (o.call == call) return o.agent;
  return {};
}

inline std::vector<agent_state> states_of(const actions& as, const agent_id& agent) {
  std::vector<agent_state> out;
  for (const auto& c : all_of<agent_state_changed>(as))
    if (c.agent == agent) out.push_back(c.to);
  return out;
}

class AcdTest : public ::testing::Test {
 protected:
  explicit AcdTest(router_config cfg = {}) : r(cfg) {}

  router r;
  time_point now = local_time(2026, 11, 23, 10, 0);  // a Monday, in service hours

  actions ok(outcome o) {
    if (const auto* e = std::get_if<acd_error>(&o)) {
      ADD_FAILURE() << "unexpected error: " << e->message;
      return {};
    }
    return std::get<actions>(std::move(o));
  }

  // The error's kind; the message must say something.
  acd_error::kind fails(outcome o) {
    const auto* e = std::get_if<acd_error>(&o);
    if (!e) {
      ADD_FAILURE() << "expected an error";
      return acd_error::kind::invalid_config;
    }
    EXPECT_FALSE(e->message.empty());
    return e->what;
  }

  actions tick(milliseconds d) {
    now += d;
    return r.on_tick(now);
  }

  // A queue named after its skill; no bottom-line alarm unless the test asks for one.
  static queue_config queue(const std::string& id, strategy s = strategy::longest_idle) {
    queue_config q;
    q.id = id;
    q.skill = id;
    q.strategy = s;
    q.min_agents = 0;
    return q;
  }

  actions add_queue(const queue_config& q) { return ok(r.configure_queue(q, now)); }

  static agent_profile agent(const std::string& id, const std::string& q, int level = 3, post role = post::a,
                             std::vector<std::string> languages = {"zh"}) {
    agent_profile p;
    p.id = id;
    p.skills = {{q, level, role}};
    p.queues = {{q, 1}};
    p.languages = std::move(languages);
    p.phone_registered = true;
    return p;
  }

  // Log in and make ready, one second later than the previous agent (longest idle order).
  actions ready(const agent_profile& p) {
    ok(r.login(p, now));
    now += 1s;
    return ok(r.on_agent_available(p.id, now));
  }

  actions arrive(call_id id, const std::string& q, int prio = priority::normal, std::string lang = {}) {
    return ok(r.on_call_arrived({id, q, prio, std::move(lang)}, now));
  }

  agent_state state_of(const agent_id& a) { return r.agent(a).value().state; }
};

}  // namespace hotline::acd::test
