#include "api/calls/roster.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <optional>

namespace hotline::api {

std::variant<std::vector<calls::agent_record>, std::string> parse_roster(std::string_view text) {
  namespace json = boost::json;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return "agents: not valid JSON: " + ec.message();
  if (!v.is_array()) return std::string("agents: the document must be an array of agents");
  std::vector<calls::agent_record> out;
  for (const auto& av : v.as_array()) {
    std::string where = "agents[" + std::to_string(out.size()) + "]";
    if (!av.is_object()) return where + ": must be an object";
    const auto& o = av.as_object();
    auto str = [&](std::string_view k, std::string& dst, bool required) -> std::string {
      auto* f = o.if_contains(k);
      if (!f) return required ? where + ": \"" + std::string(k) + "\" is missing" : "";
      if (!f->is_string() || f->as_string().empty()) return where + ": \"" + std::string(k) + "\" must be a non-empty string";
      dst = std::string(f->as_string());
      return "";
    };
    calls::agent_record a;
    if (auto e = str("id", a.profile.id, true); !e.empty()) return e;
    where += " (" + a.profile.id + ")";
    if (auto e = str("phone", a.phone, true); !e.empty()) return e;
    if (auto e = str("name", a.name, false); !e.empty()) return e;
    auto* skills = o.if_contains("skills");
    if (!skills || !skills->is_array() || skills->as_array().empty()) return where + ": \"skills\" must be a non-empty array";
    for (const auto& sv : skills->as_array()) {
      if (!sv.is_object()) return where + ": each skill must be an object";
      const auto& so = sv.as_object();
      acd::skill s;
      auto* name = so.if_contains("skill");
      if (!name || !name->is_string()) return where + ": a skill needs \"skill\" (the queue's skill name)";
      s.name = std::string(name->as_string());
      if (auto* l = so.if_contains("level")) {
        if (!l->is_int64() || l->as_int64() < 1 || l->as_int64() > 5) return where + ": skill level must be 1-5";
        s.level = static_cast<int>(l->as_int64());
      }
      if (auto* p = so.if_contains("post")) {
        if (!p->is_string() || (p->as_string() != "A" && p->as_string() != "B"))
          return where + ": post must be \"A\" or \"B\"";
        s.role = p->as_string() == "A" ? acd::post::a : acd::post::b;
      }
      a.profile.skills.push_back(std::move(s));
    }
    if (auto* qs = o.if_contains("queues")) {
      if (!qs->is_array()) return where + ": \"queues\" must be an array";
      for (const auto& qv : qs->as_array()) {
        if (!qv.is_object() || !qv.as_object().if_contains("queue") || !qv.as_object().at("queue").is_string())
          return where + ": each queue needs \"queue\"";
        acd::queue_membership m;
        m.queue = std::string(qv.as_object().at("queue").as_string());
        if (auto* p = qv.as_object().if_contains("priority")) {
          if (!p->is_int64() || p->as_int64() < 1) return where + ": queue priority must be a whole number >= 1";
          m.priority = static_cast<int>(p->as_int64());
        }
        a.profile.queues.push_back(std::move(m));
      }
    } else {
      // Without "queues": the queue of each skill, in the order given.
      int prio = 1;
      for (const auto& s : a.profile.skills) a.profile.queues.push_back({s.name, prio++});
    }
    if (auto* ls = o.if_contains("languages")) {
      if (!ls->is_array()) return where + ": \"languages\" must be an array of strings";
      for (const auto& l : ls->as_array()) {
        if (!l.is_string()) return where + ": \"languages\" must be an array of strings";
        a.profile.languages.emplace_back(l.as_string());
      }
    }
    for (const auto& prev : out)
      if (prev.profile.id == a.profile.id) return where + ": the id is used twice";
    out.push_back(std::move(a));
  }
  return out;
}


namespace {

// "08:00" -> minutes since midnight (24:00 allowed as an end).
std::optional<int> hhmm(std::string_view t) {
  if (t.size() != 5 || t[2] != ':') return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(t[0]) || !digit(t[1]) || !digit(t[3]) || !digit(t[4])) return std::nullopt;
  int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::optional<int> weekday(std::string_view d) {
  static constexpr std::string_view names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; ++i)
    if (d == names[i]) return i;
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<acd::queue_config>, std::string> parse_queues(std::string_view text) {
  namespace json = boost::json;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return "queues: not valid JSON: " + ec.message();
  if (!v.is_array()) return std::string("queues: the document must be an array of queues");
  std::vector<acd::queue_config> out;
  for (const auto& qv : v.as_array()) {
    std::string where = "queues[" + std::to_string(out.size()) + "]";
    if (!qv.is_object()) return where + ": must be an object";
    const auto& o = qv.as_object();
    acd::queue_config q;
    auto* id = o.if_contains("id");
    if (!id || !id->is_string() || id->as_string().empty()) return where + ": \"id\" must be a non-empty string";
    q.id = std::string(id->as_string());
    where += " (" + q.id + ")";
    q.skill = q.id;
    if (auto* f = o.if_contains("skill")) {
      if (!f->is_string() || f->as_string().empty()) return where + ": \"skill\" must be a non-empty string";
      q.skill = std::string(f->as_string());
    }
    if (auto* f = o.if_contains("strategy")) {
      std::string_view st = f->is_string() ? std::string_view(f->as_string()) : "";
      if (st == "longest_idle") q.strategy = acd::strategy::longest_idle;
      else if (st == "fewest_calls_today") q.strategy = acd::strategy::fewest_calls_today;
      else if (st == "least_talk_time") q.strategy = acd::strategy::least_talk_time;
      else if (st == "skill_level") q.strategy = acd::strategy::skill_level;
      else return where + ": \"strategy\" must be longest_idle, fewest_calls_today, least_talk_time or skill_level";
    }
    auto seconds = [&](std::string_view key, std::chrono::seconds& dst, int64_t lo, int64_t hi) -> std::string {
      auto* f = o.if_contains(key);
      if (!f) return "";
      if (!f->is_int64() || f->as_int64() < lo || f->as_int64() > hi)
        return where + ": \"" + std::string(key) + "\" must be a whole number from " + std::to_string(lo) + " to " +
               std::to_string(hi);
      dst = std::chrono::seconds(f->as_int64());
      return "";
    };
    if (auto e = seconds("max_wait_s", q.max_wait, 0, 86400); !e.empty()) return e;
    if (auto e = seconds("ring_timeout_s", q.ring_timeout, 5, 120); !e.empty()) return e;
    if (auto e = seconds("wrap_up_s", q.wrap_up, 0, 3600); !e.empty()) return e;
    if (auto e = seconds("service_level_s", q.service_level_threshold, 5, 600); !e.empty()) return e;
    if (auto* f = o.if_contains("min_agents")) {
      if (!f->is_int64() || f->as_int64() < 0 || f->as_int64() > 10000) return where + ": \"min_agents\" must be 0-10000";
      q.min_agents = static_cast<int>(f->as_int64());
    }
    if (auto* f = o.if_contains("overflow_to")) {
      if (!f->is_string()) return where + ": \"overflow_to\" must be a queue id";
      q.overflow_to = std::string(f->as_string());
    }
    if (auto* h = o.if_contains("hours")) {
      if (h->is_string() && h->as_string() == "always") {
        q.hours = acd::service_hours::always();
      } else if (h->is_object()) {
        acd::service_hours hours;
        for (const auto& [days, win] : h->as_object()) {
          std::string_view d = days;
          auto dash = d.find('-');
          auto first = weekday(d.substr(0, dash));
          auto last = dash == std::string_view::npos ? first : weekday(d.substr(dash + 1));
          if (!first || !last || *last < *first)
            return where + ": hours key \"" + std::string(d) + "\" must be a day (mon..sun) or a range (mon-fri)";
          std::vector<std::string_view> windows;
          if (win.is_string()) windows.push_back(win.as_string());
          else if (win.is_array()) {
            for (const auto& w : win.as_array()) {
              if (!w.is_string()) return where + ": hours windows are strings \"08:00-12:00\"";
              windows.push_back(w.as_string());
            }
          } else {
            return where + ": hours for \"" + std::string(d) + "\" must be \"HH:MM-HH:MM\" or a list of them";
          }
          for (auto w : windows) {
            auto b = w.size() == 11 && w[5] == '-' ? hhmm(w.substr(0, 5)) : std::nullopt;
            auto e = w.size() == 11 && w[5] == '-' ? hhmm(w.substr(6, 5)) : std::nullopt;
            if (!b || !e || *e <= *b) return where + ": \"" + std::string(w) + "\" is not a window HH:MM-HH:MM";
            for (int day = *first; day <= *last; ++day)
              hours.by_weekday[static_cast<size_t>(day)].push_back({std::chrono::minutes(*b), std::chrono::minutes(*e)});
          }
        }
        if (auto err = acd::validate(hours); !err.empty()) return where + ": hours: " + err;
        q.hours = std::move(hours);
      } else {
        return where + ": \"hours\" must be \"always\" or an object of day ranges";
      }
    }
    if (auto err = acd::validate(q); !err.empty()) return where + ": " + err;
    for (const auto& prev : out)
      if (prev.id == q.id) return where + ": the id is used twice";
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace hotline::api
