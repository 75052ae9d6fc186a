#include "actors/call/ivr.hpp"

#include <boost/json.hpp>

#include <set>

namespace hotline::calls {
namespace {

namespace json = boost::json;

bool valid_digit(char d) { return (d >= '0' && d <= '9') || d == '*' || d == '#'; }

}  // namespace

const ivr_number* ivr_config::number(std::string_view dialled) const {
  for (const auto& n : numbers)
    if (n.dialled == dialled) return &n;
  return nullptr;
}

std::vector<std::string> ivr_config::skills() const {
  std::set<std::string> s;
  for (const auto& [id, m] : menus) {
    s.insert(m.fallback_skill);
    for (const auto& [d, o] : m.options)
      if (!o.skill.empty()) s.insert(o.skill);
  }
  return {s.begin(), s.end()};
}

std::string default_ivr_json() {
  // N-01..N-18 topics of a 12333 line; the prompt "menu" says them in this order.
  return R"({
  "numbers": [
    {"dialled": "12333", "greeting": "greeting", "menu": "main", "after_hours_prompt": "after_hours"}
  ],
  "menus": {
    "main": {
      "prompt": "menu", "timeout_s": 6, "max_tries": 3, "fallback_skill": "general",
      "options": {
        "1": {"label": "养老保险", "skill": "pension"},
        "2": {"label": "医疗保险", "skill": "medical"},
        "3": {"label": "失业保险", "skill": "unemployment"},
        "4": {"label": "工伤保险", "skill": "work_injury"},
        "5": {"label": "就业服务", "skill": "employment"},
        "6": {"label": "劳动关系", "skill": "labour_relations"},
        "7": {"label": "社保卡", "skill": "social_security_card"},
        "8": {"label": "人事人才", "skill": "personnel"},
        "9": {"label": "投诉举报", "skill": "complaint"},
        "0": {"label": "其他", "skill": "general"},
        "*": {"label": "重听", "repeat": true}
      }
    }
  }
})";
}

ivr_config default_ivr() { return std::get<ivr_config>(parse_ivr(default_ivr_json())); }

std::variant<ivr_config, std::string> parse_ivr(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return "IVR: not valid JSON: " + ec.message();
  if (!v.is_object()) return std::string("IVR: the document must be an object with \"numbers\" and \"menus\"");
  const auto& root = v.as_object();
  auto str = [](const json::object& o, std::string_view key, std::string& out, bool required,
                const std::string& where) -> std::optional<std::string> {
    auto* f = o.if_contains(key);
    if (!f) {
      if (required) return where + ": \"" + std::string(key) + "\" is missing";
      return std::nullopt;
    }
    if (!f->is_string()) return where + ": \"" + std::string(key) + "\" must be a string";
    out = std::string(f->as_string());
    return std::nullopt;
  };
  auto num = [](const json::object& o, std::string_view key, uint32_t& out, uint32_t lo, uint32_t hi,
                const std::string& where) -> std::optional<std::string> {
    auto* f = o.if_contains(key);
    if (!f) return std::nullopt;
    if (!f->is_int64() || f->as_int64() < lo || f->as_int64() > hi)
      return where + ": \"" + std::string(key) + "\" must be a whole number from " + std::to_string(lo) + " to " +
             std::to_string(hi);
    out = static_cast<uint32_t>(f->as_int64());
    return std::nullopt;
  };
  ivr_config cfg;
  auto* menus = root.if_contains("menus");
  if (!menus || !menus->is_object() || menus->as_object().empty())
    return std::string("IVR: \"menus\" must be a non-empty object of menus by id");
  for (const auto& [id, mv] : menus->as_object()) {
    std::string where = "IVR menu \"" + std::string(id) + "\"";
    if (!mv.is_object()) return where + ": must be an object";
    const auto& mo = mv.as_object();
    ivr_menu m;
    if (auto e = str(mo, "prompt", m.prompt, true, where)) return *e;
    if (auto e = str(mo, "fallback_skill", m.fallback_skill, false, where)) return *e;
    if (auto e = num(mo, "timeout_s", m.timeout_s, 1, 60, where)) return *e;
    if (auto e = num(mo, "max_tries", m.max_tries, 1, 10, where)) return *e;
    if (m.fallback_skill.empty()) return where + ": \"fallback_skill\" must name a queue";
    auto* opts = mo.if_contains("options");
    if (!opts || !opts->is_object() || opts->as_object().empty())
      return where + ": \"options\" must be a non-empty object keyed by digit";
    for (const auto& [key, ov] : opts->as_object()) {
      std::string ow = where + " option \"" + std::string(key) + "\"";
      if (key.size() != 1 || !valid_digit(key[0])) return ow + ": the key must be one of 0-9, * or #";
      if (!ov.is_object()) return ow + ": must be an object";
      const auto& oo = ov.as_object();
      ivr_option o;
      if (auto e = str(oo, "label", o.label, false, ow)) return *e;
      if (auto e = str(oo, "skill", o.skill, false, ow)) return *e;
      if (auto e = str(oo, "menu", o.submenu, false, ow)) return *e;
      if (auto* f = oo.if_contains("callback")) o.callback = f->is_bool() && f->as_bool();
      if (auto* f = oo.if_contains("repeat")) o.repeat = f->is_bool() && f->as_bool();
      int targets = !o.skill.empty() + !o.submenu.empty() + o.callback + o.repeat;
      if (targets != 1) return ow + ": give exactly one of \"skill\", \"menu\", \"callback\": true, \"repeat\": true";
      m.options[key[0]] = std::move(o);
    }
    cfg.menus[std::string(id)] = std::move(m);
  }
  for (const auto& [id, m] : cfg.menus)
    for (const auto& [d, o] : m.options)
      if (!o.submenu.empty() && !cfg.menus.count(o.submenu))
        return "IVR menu \"" + id + "\" option \"" + std::string(1, d) + "\": no menu \"" + o.submenu + "\"";
  auto* numbers = root.if_contains("numbers");
  if (!numbers || !numbers->is_array() || numbers->as_array().empty())
    return std::string("IVR: \"numbers\" must be a non-empty array");
  std::set<std::string> seen;
  for (const auto& nv : numbers->as_array()) {
    std::string where = "IVR number #" + std::to_string(cfg.numbers.size() + 1);
    if (!nv.is_object()) return where + ": must be an object";
    ivr_number n;
    const auto& no = nv.as_object();
    if (auto e = str(no, "dialled", n.dialled, true, where)) return *e;
    if (auto e = str(no, "greeting", n.greeting, false, where)) return *e;
    if (auto e = str(no, "menu", n.menu, true, where)) return *e;
    if (auto e = str(no, "after_hours_prompt", n.after_hours_prompt, false, where)) return *e;
    if (n.dialled.empty()) return where + ": \"dialled\" is empty";
    if (!seen.insert(n.dialled).second) return where + ": " + n.dialled + " is configured twice";
    if (!cfg.menus.count(n.menu)) return where + " (" + n.dialled + "): no menu \"" + n.menu + "\"";
    cfg.numbers.push_back(std::move(n));
  }
  return cfg;
}

ivr_walk::ivr_walk(const ivr_config& cfg, const ivr_number& number) : cfg_(cfg), number_(number), menu_(number.menu) {
  path_ = menu_;
}

ivr_walk::action ivr_walk::start() {
  action a;
  a.what = action::kind::play_menu;
  if (!number_.greeting.empty()) a.prompts.push_back(number_.greeting);
  const auto& m = cfg_.menus.at(menu_);
  a.prompts.push_back(m.prompt);
  a.timeout_s = m.timeout_s;
  return a;
}

ivr_walk::action ivr_walk::replay(bool invalid) {
  const auto& m = cfg_.menus.at(menu_);
  if (++tries_ >= m.max_tries) {
    // N-02: the caller always reaches a person, whatever they press (or do not).
    path_ += ">fallback";
    action a;
    a.what = action::kind::route;
    a.skill = m.fallback_skill;
    return a;
  }
  action a;
  a.what = action::kind::play_menu;
  a.prompts = {invalid ? "invalid_input" : "no_input", m.prompt};
  a.timeout_s = m.timeout_s;
  return a;
}

ivr_walk::action ivr_walk::on_digit(char digit) {
  digits_ += digit;
  const auto& m = cfg_.menus.at(menu_);
  auto it = m.options.find(digit);
  if (it == m.options.end()) return replay(true);
  const ivr_option& o = it->second;
  path_ += ">" + std::string(1, digit) + (o.label.empty() ? "" : ":" + o.label);
  action a;
  if (o.repeat) {
    a.what = action::kind::play_menu;
    a.prompts = {m.prompt};
    a.timeout_s = m.timeout_s;
    return a;
  }
  if (o.callback) {
    a.what = action::kind::callback;
    return a;
  }
  if (!o.submenu.empty()) {
    menu_ = o.submenu;
    tries_ = 0;
    path_ += ">" + menu_;
    const auto& sub = cfg_.menus.at(menu_);
    a.what = action::kind::play_menu;
    a.prompts = {sub.prompt};
    a.timeout_s = sub.timeout_s;
    return a;
  }
  a.what = action::kind::route;
  a.skill = o.skill;
  return a;
}

ivr_walk::action ivr_walk::on_timeout() { return replay(false); }

}  // namespace hotline::calls
