#include "api/ws/protocol.hpp"

#include <boost/json/serialize.hpp>

#include "api/http/json_body.hpp"

namespace hotline::api::ws {

bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > 64 || t.front() == '.' || t.back() == '.') return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

namespace {

bool one_of(const std::string& v, std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed)
    if (v == a) return true;
  return false;
}

api_error not_one_of(std::string_view field, const std::string& v, std::string_view allowed) {
  return bad_request("invalid_value", std::string(field) + " '" + v + "' is not one of " + std::string(allowed),
                     std::string(field));
}

result<client_message> decode_hello(field_reader& r) {
  r.only({"type", "v", "console", "display", "resume"});
  console::hello h;
  h.version = static_cast<int>(r.integer("v", true, 1, 1000).value_or(1));
  h.console = r.string("console", true, 16).value_or("");
  auto display = r.string("display", false, 16).value_or("desk");
  if (r.error) return *r.error;
  if (!one_of(h.console, {"supervisor", "agent"})) return not_one_of("console", h.console, "supervisor, agent");
  if (!one_of(display, {"desk", "wallboard"})) return not_one_of("display", display, "desk, wallboard");
  h.wallboard = display == "wallboard";
  if (auto* resume = r.obj.if_contains("resume"); resume && !resume->is_null()) {
    if (!resume->is_object()) return bad_request("wrong_type", "field 'resume' must be an object", "resume");
    field_reader rr{resume->as_object()};
    rr.only({"epoch", "seq"});
    h.resume_epoch = rr.string("epoch", true, 64);
    h.resume_seq = static_cast<uint64_t>(rr.integer("seq", true, 0, INT64_MAX).value_or(0));
    if (rr.error) {
      rr.error->field = "resume." + rr.error->field;
      return *rr.error;
    }
  }
  return client_message{std::move(h)};
}

// The console commands; every field checked, every enumeration closed.
result<client_message> decode_command(const std::string& type, field_reader& r) {
  using namespace console;
  auto id = r.integer("id", false, INT64_MIN, INT64_MAX).value_or(0);
  auto mode_of = [&](bool required) -> std::optional<monitor_mode> {
    auto m = r.string("mode", required, 16);
    if (!m) return std::nullopt;
    auto parsed = parse_monitor_mode(*m);
    if (!parsed && !r.error) r.error = not_one_of("mode", *m, "listen, whisper, barge, takeover");
    return parsed;
  };
  if (type == "monitor") {
    r.only({"type", "id", "call", "mode", "via", "phone"});
    monitor m{id};
    m.call = r.string("call", true, 24).value_or("");
    auto mode = mode_of(true);
    auto via = r.string("via", false, 16).value_or("browser");
    m.phone = r.string("phone", false, 64).value_or("");
    if (r.error) return *r.error;
    if (!one_of(via, {"browser", "phone"})) return not_one_of("via", via, "browser, phone");
    m.mode = *mode;
    m.via_phone = via == "phone";
    if (m.via_phone && m.phone.empty()) return bad_request("missing_field", "via 'phone' needs the field 'phone'", "phone");
    return client_message{command{std::move(m)}};
  }
  if (type == "monitor_mode") {
    r.only({"type", "id", "mode"});
    auto mode = mode_of(true);
    if (r.error) return *r.error;
    return client_message{command{monitor_mode_change{id, *mode}}};
  }
  if (type == "monitor_stop") {
    r.only({"type", "id"});
    if (r.error) return *r.error;
    return client_message{command{monitor_stop{id}}};
  }
  if (type == "agent_state") {
    r.only({"type", "id", "agent", "state", "reason"});
    agent_state a{id};
    a.agent = r.string("agent", true, 16).value_or("");
    a.state = r.string("state", true, 16).value_or("");
    a.reason = r.string("reason", false, 16).value_or("");
    if (r.error) return *r.error;
    if (!one_of(a.state, {"not_ready", "logout"})) return not_one_of("state", a.state, "not_ready, logout");
    return client_message{command{std::move(a)}};
  }
  if (type == "agent_message") {
    r.only({"type", "id", "agent", "text"});
    agent_message a{id};
    a.agent = r.string("agent", true, 16).value_or("");
    a.text = r.string("text", true, 1000).value_or("");
    if (r.error) return *r.error;
    return client_message{command{std::move(a)}};
  }
  if (type == "state") {
    r.only({"type", "id", "state", "reason"});
    state_change s{id};
    s.state = r.string("state", true, 16).value_or("");
    s.reason = r.string("reason", false, 16).value_or("");
    if (r.error) return *r.error;
    if (!one_of(s.state, {"login", "ready", "not_ready", "wrap_up_done", "logout"}))
      return not_one_of("state", s.state, "login, ready, not_ready, wrap_up_done, logout");
    if (!s.reason.empty() && !one_of(s.reason, {"break", "training", "meeting", "after_call", "other"}))
      return not_one_of("reason", s.reason, "break, training, meeting, after_call, other");
    return client_message{command{std::move(s)}};
  }
  if (type == "classify") {
    r.only({"type", "id", "call", "classification", "topic", "note"});
    classify c{id};
    c.call = r.string("call", true, 24).value_or("");
    c.classification = r.string("classification", true, 24).value_or("");
    c.topic = r.string("topic", false, 24).value_or("");
    c.note = r.string("note", false, 2000).value_or("");
    if (r.error) return *r.error;
    if (!one_of(c.classification, {"consultation", "complaint", "report", "suggestion", "query", "callback", "other"}))
      return not_one_of("classification", c.classification,
                        "consultation, complaint, report, suggestion, query, callback, other");
    if (!c.topic.empty() &&
        !one_of(c.topic, {"pension", "medical", "unemployment", "work_injury", "maternity", "employment",
                          "labour_relations", "card", "exams", "other"}))
      return not_one_of("topic", c.topic,
                        "pension, medical, unemployment, work_injury, maternity, employment, labour_relations, card, "
                        "exams, other");
    return client_message{command{std::move(c)}};
  }
  if (type == "transfer") {
    r.only({"type", "id", "to", "target"});
    transfer t{id};
    t.to = r.string("to", true, 16).value_or("");
    t.target = r.string("target", true, 64).value_or("");
    if (r.error) return *r.error;
    if (!one_of(t.to, {"supervisor", "expert", "queue"})) return not_one_of("to", t.to, "supervisor, expert, queue");
    return client_message{command{std::move(t)}};
  }
  if (type == "flag") {
    r.only({"type", "id", "call", "kind"});
    flag f{id};
    f.call = r.string("call", true, 24).value_or("");
    f.kind = r.string("kind", true, 16).value_or("");
    if (r.error) return *r.error;
    if (!one_of(f.kind, {"dangerous", "harassing"})) return not_one_of("kind", f.kind, "dangerous, harassing");
    return client_message{command{std::move(f)}};
  }
  if (type == "callbacks") {
    r.only({"type", "id"});
    if (r.error) return *r.error;
    return client_message{command{callbacks_list{id}}};
  }
  if (type == "callback") {
    r.only({"type", "id", "request"});
    callback_dial c{id};
    c.request = r.string("request", true, 24).value_or("");
    if (r.error) return *r.error;
    return client_message{command{std::move(c)}};
  }
  return bad_request("unknown_type", "unknown message type '" + type + "'", "type");
}

}  // namespace

result<client_message> decode(std::string_view text) {
  auto parsed = parse_object(text, 8);
  if (auto* e = error_of(parsed)) return *e;
  const auto& obj = std::get<boost::json::object>(parsed);
  field_reader r{obj};
  auto type = r.string("type", true, 32);
  if (r.error) return *r.error;
  if (*type == "subscribe" || *type == "unsubscribe") {
    r.only({"type", "topic"});
    auto topic = r.string("topic", true, 64);
    if (r.error) return *r.error;
    if (!valid_topic(*topic))
      return bad_request("invalid_value", "topic must be dotted lowercase words (a-z 0-9 _ -)", "topic");
    if (*type == "subscribe") return client_message{subscribe{std::move(*topic)}};
    return client_message{unsubscribe{std::move(*topic)}};
  }
  if (*type == "ping") {
    r.only({"type", "id"});
    auto id = r.integer("id", false, INT64_MIN, INT64_MAX);
    if (r.error) return *r.error;
    return client_message{ping{id.value_or(0)}};
  }
  if (*type == "hello") return decode_hello(r);
  return decode_command(*type, r);
}

std::string error_frame(const api_error& e) {
  boost::json::object o{{"type", "error"}, {"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) o["field"] = e.field;
  return boost::json::serialize(o);
}

}  // namespace hotline::api::ws
