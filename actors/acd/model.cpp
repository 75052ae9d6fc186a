#include "actors/acd/model.hpp"

#include <algorithm>
#include <set>

#include "actors/acd/actions.hpp"

namespace hotline::acd {

namespace {

using std::chrono::days;

constexpr minutes whole_day{24 * 60};

std::size_t weekday_index(std::chrono::sys_days d) {
  return std::chrono::weekday{d}.iso_encoding() - 1;  // Monday = 0
}

template <class T, class Key>
bool has_duplicates(const std::vector<T>& items, Key key) {
  std::set<std::string> seen;
  for (const auto& i : items)
    if (!seen.insert(key(i)).second) return true;
  return false;
}

}  // namespace

service_hours service_hours::every_day(minutes begin, minutes end) {
  service_hours h;
  for (auto& d : h.by_weekday) d = {{begin, end}};
  return h;
}

service_hours service_hours::always() { return every_day(minutes{0}, whole_day); }

bool service_hours::open_at(time_point local) const {
  const auto day = std::chrono::floor<days>(local);
  const auto m = std::chrono::floor<minutes>(local - day);
  const auto& windows = by_weekday[weekday_index(day)];
  return std::any_of(windows.begin(), windows.end(), [&](const time_window& w) { return w.begin <= m && m < w.end; });
}

std::optional<time_point> service_hours::next_change(time_point local) const {
  // open_at is constant between window boundaries, so the first boundary after `local`
  // with the other state is the change. A week and a day covers every weekday.
  const bool now_open = open_at(local);
  const auto today = std::chrono::floor<days>(local);
  std::vector<time_point> boundaries;
  for (int d = 0; d <= 7; ++d) {
    const auto day = today + days{d};
    for (const auto& w : by_weekday[weekday_index(day)])
      for (auto b : {w.begin, w.end})
        if (time_point t = day + b; t > local) boundaries.push_back(t);
  }
  std::sort(boundaries.begin(), boundaries.end());
  for (auto t : boundaries)
    if (open_at(t) != now_open) return t;
  return std::nullopt;
}

std::string validate(const service_hours& h) {
  static constexpr const char* names[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  for (std::size_t d = 0; d < h.by_weekday.size(); ++d)
    for (const auto& w : h.by_weekday[d])
      if (w.begin < minutes{0} || w.end > whole_day || w.begin >= w.end)
        return std::string("hours.") + names[d] + ": a window must satisfy 00:00 <= begin < end <= 24:00";
  return {};
}

std::string validate(const queue_config& q) {
  if (q.id.empty()) return "queue id is required";
  const std::string where = "queue " + q.id + ": ";
  if (q.skill.empty()) return where + "skill is required";
  if (auto e = validate(q.hours); !e.empty()) return where + e;
  if (q.max_wait < seconds{0}) return where + "max_wait must not be negative";
  if (q.overflow_to == q.id) return where + "overflow_to must name another queue";
  if (!q.overflow_to.empty() && q.max_wait == seconds{0}) return where + "overflow_to needs a max_wait";
  if (q.min_agents < 0) return where + "min_agents must not be negative";
  if (q.ring_timeout <= seconds{0}) return where + "ring_timeout must be positive";
  if (q.wrap_up < seconds{0}) return where + "wrap_up must not be negative";
  if (q.service_level_threshold <= seconds{0}) return where + "service_level_threshold must be positive";
  if (q.initial_handle_time <= seconds{0}) return where + "initial_handle_time must be positive";
  return {};
}

std::string validate(const agent_profile& a) {
  if (a.id.empty()) return "agent id (work id) is required";
  const std::string where = "agent " + a.id + ": ";
  for (const auto& s : a.skills) {
    if (s.name.empty()) return where + "a skill needs a name";
    if (s.level < 1 || s.level > 5) return where + "skill " + s.name + ": level must be 1-5";
  }
  if (has_duplicates(a.skills, [](const skill& s) { return s.name; })) return where + "a skill is listed twice";
  for (const auto& m : a.queues) {
    if (m.queue.empty()) return where + "a queue membership needs a queue";
    if (m.priority < 1) return where + "queue " + m.queue + ": priority must be 1 or more";
  }
  if (has_duplicates(a.queues, [](const queue_membership& m) { return m.queue; }))
    return where + "a queue is listed twice";
  for (const auto& l : a.languages)
    if (l.empty()) return where + "a language must not be empty";
  if (has_duplicates(a.languages, [](const std::string& l) { return l; })) return where + "a language is listed twice";
  return {};
}

std::string_view to_string(agent_state s) {
  switch (s) {
    case agent_state::logged_out: return "logged_out";
    case agent_state::logged_in: return "logged_in";
    case agent_state::ready: return "ready";
    case agent_state::not_ready: return "not_ready";
    case agent_state::ringing: return "ringing";
    case agent_state::talking: return "talking";
    case agent_state::wrap_up: return "wrap_up";
  }
  return "?";
}

std::optional<not_ready_reason> parse_not_ready_reason(std::string_view s) {
  for (auto r : {not_ready_reason::break_time, not_ready_reason::training, not_ready_reason::meeting,
                 not_ready_reason::after_call, not_ready_reason::other})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::string_view to_string(not_ready_reason r) {
  switch (r) {
    case not_ready_reason::none: return "none";
    case not_ready_reason::break_time: return "break";
    case not_ready_reason::training: return "training";
    case not_ready_reason::meeting: return "meeting";
    case not_ready_reason::after_call: return "after_call";
    case not_ready_reason::other: return "other";
  }
  return "?";
}

std::string_view to_string(strategy s) {
  switch (s) {
    case strategy::longest_idle: return "longest_idle";
    case strategy::fewest_calls_today: return "fewest_calls_today";
    case strategy::least_talk_time: return "least_talk_time";
    case strategy::skill_level: return "skill_level";
  }
  return "?";
}

std::string_view to_string(post p) { return p == post::a ? "A" : "B"; }

std::string_view to_string(withdraw_reason r) {
  switch (r) {
    case withdraw_reason::ring_timeout: return "ring_timeout";
    case withdraw_reason::offer_failed: return "offer_failed";
    case withdraw_reason::abandoned: return "abandoned";
    case withdraw_reason::callback_requested: return "callback_requested";
    case withdraw_reason::agent_logged_out: return "agent_logged_out";
    case withdraw_reason::phone_unregistered: return "phone_unregistered";
  }
  return "?";
}

std::string_view to_string(leave_reason r) {
  return r == leave_reason::abandoned ? "abandoned" : "callback_requested";
}

std::string_view to_string(alarm_kind k) {
  return k == alarm_kind::below_minimum_agents ? "below_minimum_agents" : "wait_over_threshold";
}

std::string_view to_string(acd_error::kind k) {
  switch (k) {
    case acd_error::kind::unknown_agent: return "unknown_agent";
    case acd_error::kind::unknown_queue: return "unknown_queue";
    case acd_error::kind::unknown_call: return "unknown_call";
    case acd_error::kind::bad_state: return "bad_state";
    case acd_error::kind::invalid_config: return "invalid_config";
    case acd_error::kind::invalid_argument: return "invalid_argument";
    case acd_error::kind::duplicate: return "duplicate";
  }
  return "?";
}

}  // namespace hotline::acd
