#include "actors/console/floor_model.hpp"

namespace hotline::console {

namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
int64_t num(const json::object& o, std::string_view k, int64_t otherwise) {
  auto* v = o.if_contains(k);
  if (!v) return otherwise;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return otherwise;
}
std::string id_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return {};
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_string()) return std::string(v->as_string());
  return {};
}

// A call in these states has an agent at the phone (offered, talking, or handing over).
bool with_agent(std::string_view state) {
  return state == "ringing" || state == "dialling" || state == "connected" || state == "on_hold" || state == "transferring" ||
         state == "transfer_returned";
}

}  // namespace

std::string_view to_string(kind k) {
  switch (k) {
    case kind::queue: return "queue";
    case kind::agent: return "agent";
    case kind::call: return "call";
    case kind::alarm: return "alarm";
  }
  return "queue";
}

std::string mask_number(std::string_view n) {
  if (n.size() >= 11) return std::string(n.substr(0, 3)) + "****" + std::string(n.substr(n.size() - 4));
  if (n.size() >= 7) return std::string(n.substr(0, 2)) + std::string(n.size() - 4, '*') + std::string(n.substr(n.size() - 2));
  if (n.size() >= 3) return std::string(n.substr(0, 1)) + std::string(n.size() - 1, '*');
  return std::string(n.size(), '*');
}

const json::object* floor_model::find(kind k, const std::string& key) const {
  auto& m = maps_[static_cast<size_t>(k)];
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

std::vector<change> floor_model::apply(std::string_view topic, const json::object& d, int64_t now_ms) {
  std::vector<change> out;
  if (topic == "calls") on_call(d, now_ms, out);
  else if (topic == "agents") on_agent(d, now_ms, out);
  else if (topic == "queues") on_queue(d, now_ms, out);
  else if (topic == "alarms") on_alarm(d, now_ms, out);
  return out;
}

void floor_model::upsert(kind k, const std::string& key, json::object o, std::string agent, std::vector<change>& out) {
  auto& slot = maps_[static_cast<size_t>(k)][key];
  if (slot == o) return;  // nothing new for the consoles
  slot = o;
  out.push_back({k, false, key, std::move(o), std::move(agent)});
}

void floor_model::remove(kind k, const std::string& key, std::string_view key_field, std::string agent,
                         std::vector<change>& out) {
  auto& m = maps_[static_cast<size_t>(k)];
  if (!m.erase(key)) return;
  out.push_back({k, true, key, json::object{{key_field, key}}, std::move(agent)});
}

void floor_model::on_call(const json::object& d, int64_t now_ms, std::vector<change>& out) {
  auto key = id_of(d, "call");
  if (key.empty()) return;
  auto state = str(d, "state");
  auto at = num(d, "at_ms", now_ms);
  auto* old = find(kind::call, key);
  std::string old_agent = old ? str(*old, "agent") : std::string();
  if (state == "ended") {
    remove(kind::call, key, "call", old_agent, out);
    if (!old_agent.empty()) set_agent_call(old_agent, std::string(), out);
    // A dangerous-call alarm stays until the call ends (N-14: the number is on the alarm).
    remove(kind::alarm, "dangerous_call:" + key, "id", {}, out);
    return;
  }
  json::object o = old ? *old : json::object{{"call", key}, {"started_ms", at}, {"state_since_ms", at}};
  if (str(o, "state") != state) o["state_since_ms"] = at;
  o["state"] = state;
  o["from"] = str(d, "from");
  o["dialled"] = str(d, "dialled");
  o["queue"] = str(d, "queue");
  o["topic"] = str(d, "queue");
  o["ivr_path"] = str(d, "ivr_path");
  o["ivr_digits"] = str(d, "ivr_digits");
  o["direction"] = d.contains("direction") ? str(d, "direction") : std::string("inbound");
  auto agent = with_agent(state) || state == "transferred" ? str(d, "agent") : std::string();
  o["agent"] = agent;
  auto* dangerous = d.if_contains("dangerous");
  o["dangerous"] = dangerous && dangerous->is_bool() && dangerous->as_bool();
  auto* mon = d.if_contains("monitor");
  o["monitor"] = mon && mon->is_object() ? *mon : json::value(nullptr);
  const size_t before = out.size();
  upsert(kind::call, key, std::move(o), agent.empty() ? old_agent : agent, out);
  // Rung elsewhere: the agent it left hears of it too (their desk ends its pop).
  if (out.size() > before && !agent.empty() && !old_agent.empty() && old_agent != agent)
    out.back().previous_agent = old_agent;
  if (!old_agent.empty() && old_agent != agent) set_agent_call(old_agent, std::string(), out);
  if (!agent.empty() && with_agent(state)) set_agent_call(agent, key, out);
}

void floor_model::set_agent_call(const std::string& agent, const std::string& call, std::vector<change>& out) {
  auto* a = find(kind::agent, agent);
  if (!a) return;
  auto* cur = a->if_contains("call");
  std::string now = cur && cur->is_string() ? std::string(cur->as_string()) : std::string();
  if (call.empty() && now.empty()) return;
  if (now == call) return;
  json::object o = *a;
  o["call"] = call.empty() ? json::value(nullptr) : json::value(call);
  upsert(kind::agent, agent, std::move(o), agent, out);
}

void floor_model::on_agent(const json::object& d, int64_t now_ms, std::vector<change>& out) {
  auto key = str(d, "agent");
  // Only state events are agent records; others on the topic (missed_offer) would blank
  // the agent's name, phone and state until the next one.
  if (key.empty() || !d.contains("state")) return;
  auto* old = find(kind::agent, key);
  json::object o = old ? *old : json::object{{"agent", key}, {"call", nullptr}};
  o["name"] = str(d, "name");
  o["phone"] = str(d, "phone");
  o["state"] = str(d, "state");
  auto reason = str(d, "reason");
  o["reason"] = reason == "none" ? std::string() : reason;
  o["note"] = str(d, "note");
  o["since_ms"] = num(d, "at_ms", now_ms);
  auto* online = d.if_contains("phone_online");
  o["phone_online"] = online && online->is_bool() && online->as_bool();
  if (auto* q = d.if_contains("queues"); q && q->is_array()) o["queues"] = *q;
  if (o["state"].as_string() == "logged_out") o["call"] = nullptr;
  upsert(kind::agent, key, std::move(o), key, out);
  check_offline(key, now_ms, out);
}

// N-32: an agent logged in whose phone is not registered cannot take calls.
void floor_model::check_offline(const std::string& agent, int64_t now_ms, std::vector<change>& out) {
  auto* a = find(kind::agent, agent);
  if (!a) return;
  bool logged_in = str(*a, "state") != "logged_out";
  auto* online = a->if_contains("phone_online");
  bool offline = logged_in && !(online && online->is_bool() && online->as_bool());
  auto id = "agent_offline:" + agent;
  if (!offline) return remove(kind::alarm, id, "id", {}, out);
  if (find(kind::alarm, id)) return;
  upsert(kind::alarm, id,
         json::object{{"id", id}, {"alarm", "agent_offline"}, {"agent", agent}, {"queue", ""},
                      {"raised_ms", now_ms},
                      {"detail", "agent " + agent + " is logged in but the phone " + str(*a, "phone") + " is not registered"}},
         {}, out);
}

void floor_model::on_queue(const json::object& d, int64_t now_ms, std::vector<change>& out) {
  auto key = str(d, "queue");
  if (key.empty()) return;
  auto event = str(d, "event");
  auto* old = find(kind::queue, key);
  json::object o = old ? *old : json::object{{"queue", key}};
  if (event == "figures") {
    for (const auto& [k, v] : d)
      if (k != "event") o[k] = v;
    for (auto k : {"service_level", "answer_rate", "abandon_rate"})
      if (!d.contains(k)) o[k] = nullptr;
  } else if (event == "service_hours") {
    o["open"] = d.at("open");
    o["at_ms"] = num(d, "at_ms", now_ms);
  } else {
    return;  // answered, abandoned, ...: the next figures carry them
  }
  upsert(kind::queue, key, std::move(o), {}, out);
}

void floor_model::on_alarm(const json::object& d, int64_t now_ms, std::vector<change>& out) {
  auto alarm = str(d, "alarm");
  if (alarm.empty()) return;
  auto* raised = d.if_contains("raised");
  bool up = raised && raised->is_bool() && raised->as_bool();
  if (alarm == "dangerous_call") {
    auto call = id_of(d, "call");
    auto id = "dangerous_call:" + call;
    if (!up) return remove(kind::alarm, id, "id", {}, out);
    upsert(kind::alarm, id,
           json::object{{"id", id}, {"alarm", alarm}, {"queue", str(d, "queue")}, {"call", call},
                        {"agent", str(d, "agent")}, {"from", str(d, "from")}, {"raised_ms", num(d, "at_ms", now_ms)},
                        {"detail", "agent " + str(d, "agent") + " flagged the call as dangerous"}},
           {}, out);
    if (auto* c = find(kind::call, call)) {
      json::object o = *c;
      o["dangerous"] = true;
      upsert(kind::call, call, std::move(o), str(*c, "agent"), out);
    }
    return;
  }
  // The ACD's names, as the wallboard says them (N-02).
  if (alarm == "below_minimum_agents") alarm = "bottom_line";
  if (alarm == "wait_over_threshold") alarm = "long_wait";
  auto queue = str(d, "queue");
  auto id = queue + ":" + alarm;
  if (!up) return remove(kind::alarm, id, "id", {}, out);
  std::string detail;
  if (alarm == "bottom_line")
    detail = std::to_string(num(d, "working_agents", 0)) + " of minimum " + std::to_string(num(d, "minimum", 0)) +
             " agents available";
  else if (alarm == "long_wait")
    detail = "a call has waited " + std::to_string(num(d, "longest_wait_ms", 0) / 1000) + " s";
  else
    detail = str(d, "detail");  // e.g. acd_restarted
  if (auto* old = find(kind::alarm, id)) {  // still raised: keep when it began
    json::object o = *old;
    o["detail"] = detail;
    return upsert(kind::alarm, id, std::move(o), {}, out);
  }
  upsert(kind::alarm, id,
         json::object{{"id", id}, {"alarm", alarm}, {"queue", queue}, {"raised_ms", num(d, "at_ms", now_ms)},
                      {"detail", detail}},
         {}, out);
}

}  // namespace hotline::console
