#include "api/calls/roster.hpp"

#include <boost/json.hpp>

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

}  // namespace hotline::api
