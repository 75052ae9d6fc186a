#pragma once
// The ACD's data: agents with skills, posts and languages, their states (N-04), queues with
// strategy, service hours (N-01), max wait and overflow, the bottom line (N-02), and the
// calls the IVR hands over. Plain values: the queue and agent actors load them from the
// configuration and the registrar and pass them to the router (router.hpp).
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::acd {

// Wall time in milliseconds. The router never reads a clock: every entry point takes
// `now`. Service hours and "today" use the site's local time (a configured UTC offset).
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

using agent_id = std::string;  // the work id (工号, N-05), e.g. "1024"
using queue_id = std::string;  // e.g. "pension"
using call_id = std::uint64_t;  // the call actor's id

// N-04: logged out -> logged in -> ready / not ready -> ringing -> talking -> wrap-up -> ready.
// `logged_in` is the state between login and the first ready or not-ready: attendance
// (N-31) tells "logged in but never ready" apart from a break.
enum class agent_state : std::uint8_t { logged_out, logged_in, ready, not_ready, ringing, talking, wrap_up };
inline constexpr std::size_t agent_state_count = 7;

// N-04's not-ready reasons. The norms have no "missed call" reason: an agent whose offer
// timed out (N-03) goes not ready with `other` and the note "missed offer" (see router.hpp).
enum class not_ready_reason : std::uint8_t { none, break_time, training, meeting, after_call, other };

// N-12: every skill has primary (A) and backup (B) agents.
enum class post : std::uint8_t { a, b };

struct skill {
  std::string name;  // a queue's skill, e.g. "pension"
  int level = 1;  // 1..5, higher is more expert (the skill_level strategy picks the highest)
  post role = post::a;
};

// An agent serves several queues; a freed agent takes the waiting call of its
// highest-priority queue first (1 = first). Its skill for that queue's skill must exist.
struct queue_membership {
  queue_id queue;
  int priority = 1;
};

struct agent_profile {
  agent_id id;
  std::vector<skill> skills;
  std::vector<queue_membership> queues;
  // N-13: language seats. A call that names a language goes only to agents listing it;
  // a call without one goes to any agent of the queue.
  std::vector<std::string> languages;
  bool phone_registered = false;  // from the registrar: an unregistered phone is not offered calls
};

// A live view of one agent (N-04 with timestamps, N-03 missed offers).
struct agent_view {
  agent_id id;
  agent_state state = agent_state::logged_out;
  not_ready_reason reason = not_ready_reason::none;
  std::string note;  // e.g. "missed offer"
  time_point state_since;
  bool phone_registered = false;
  std::optional<call_id> call;  // ringing, talking or wrapping up
  std::uint32_t calls_today = 0;  // answered
  milliseconds talk_today{0};
  std::uint32_t missed_today = 0;  // offers not answered within the ring timeout (N-03)
  time_point idle_since;  // when the agent last became ready
};

enum class strategy : std::uint8_t { longest_idle, fewest_calls_today, least_talk_time, skill_level };

// A window of manual service on one weekday, in local minutes since midnight [begin, end).
struct time_window {
  minutes begin{0};
  minutes end{0};
};

// N-01: per weekday (index 0 = Monday ... 6 = Sunday), default Mon-Sun 08:00-21:00.
struct service_hours {
  std::array<std::vector<time_window>, 7> by_weekday;

  static service_hours every_day(minutes begin, minutes end);
  static service_hours always();  // 00:00-24:00 every day
  // `local` is the site's local time (UTC + offset) expressed on the sys_time axis.
  bool open_at(time_point local) const;
  // The next instant after `local` at which open_at changes; nullopt if it never does.
  std::optional<time_point> next_change(time_point local) const;
};

struct queue_config {
  queue_id id;
  std::string skill;  // agents serving this queue hold this skill (level, A/B post)
  acd::strategy strategy = strategy::longest_idle;
  service_hours hours = service_hours::every_day(minutes{8 * 60}, minutes{21 * 60});
  // A call waiting this long goes to `overflow_to` (0 = no limit). Without an overflow
  // target the router reports `max_wait_reached` once, for the IVR to offer a callback.
  seconds max_wait{0};
  queue_id overflow_to;
  int min_agents = 2;  // N-02 bottom line; 0 disables the alarm
  seconds ring_timeout{15};  // N-03: ~3 rings
  seconds wrap_up{30};  // N-04 default; 0 = straight back to ready
  seconds service_level_threshold{30};  // N-03: a person within 30 s
  seconds initial_handle_time{180};  // expected-wait estimate before any call was handled
};

// What the IVR hands over (N-14 dangerous-call callbacks and VIPs jump the queue).
namespace priority {
inline constexpr int normal = 0;
inline constexpr int vip = 10;
inline constexpr int dangerous_callback = 20;
}  // namespace priority

struct call_request {
  call_id id = 0;
  queue_id queue;
  int priority = priority::normal;  // higher first; equal priorities in arrival order
  std::string language;  // empty = any agent
};

std::string_view to_string(agent_state s);
std::string_view to_string(not_ready_reason r);
std::optional<not_ready_reason> parse_not_ready_reason(std::string_view s);  // "break", ... (not "none")
std::string_view to_string(strategy s);
std::string_view to_string(post p);

// Config checks, each returning a message naming the bad field (empty when valid).
std::string validate(const service_hours& h);
std::string validate(const queue_config& q);  // without cross-queue checks (router does those)
std::string validate(const agent_profile& a);  // without queue lookups (router does those)

}  // namespace hotline::acd
