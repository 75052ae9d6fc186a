#pragma once
// The IVR as data (the calls issue): a small tree per dialled number — greeting, menus
// chosen by DTMF, each option naming a skill (queue) or a sub-menu; no input or a wrong
// key repeats the menu up to max_tries, then the call goes to the fallback queue. Parsed
// from JSON (config `calls.ivr_file`) over an embedded 12333/12370 default; every problem
// is reported with the place it is in. The walker is pure: the call actor feeds it digits
// and timeouts and carries out what it returns.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hotline::calls {

struct ivr_option {
  std::string label;    // for the CDR and the wallboard: "养老保险"
  std::string skill;    // route to this queue ...
  std::string submenu;  // ... or go to this menu
  bool callback = false;  // ... or leave a callback request (N-18)
  bool repeat = false;    // ... or hear the menu again
};

struct ivr_menu {
  std::string prompt;  // prompt name in the prompt library
  std::map<char, ivr_option> options;
  uint32_t timeout_s = 6;  // no digit this long after the prompt: a try is used up
  uint32_t max_tries = 3;  // then the fallback queue (N-02: a caller always reaches a person)
  std::string fallback_skill = "general";
};

struct ivr_number {
  std::string dialled;   // "12333"
  std::string greeting;  // prompt name
  std::string menu;      // the root menu
  std::string after_hours_prompt = "after_hours";  // N-01
};

struct ivr_config {
  std::vector<ivr_number> numbers;
  std::map<std::string, ivr_menu> menus;
  const ivr_number* number(std::string_view dialled) const;
  std::vector<std::string> skills() const;  // every queue the tree can route to
};

// The embedded default: 12333 (human resources and social security, ten topics) and
// 12370 (civil-service recruitment, a shorter menu).
ivr_config default_ivr();
std::string default_ivr_json();
// Parses and validates (every menu reachable target exists, digits are 0-9 * #, ...).
std::variant<ivr_config, std::string> parse_ivr(std::string_view json);

// One caller's walk through the tree.
class ivr_walk {
 public:
  ivr_walk(const ivr_config& cfg, const ivr_number& number);

  struct action {
    enum class kind { play_menu, route, callback } what = kind::play_menu;
    std::vector<std::string> prompts;  // play_menu: in order (greeting first on the first time)
    uint32_t timeout_s = 0;            // play_menu: how long to wait for a digit after it
    std::string skill;                 // route
  };
  action start();
  action on_digit(char digit);
  action on_timeout();  // no digit within the menu's timeout after its prompt

  const std::string& path() const { return path_; }      // "main>1:养老保险" for the CDR
  const std::string& digits() const { return digits_; }  // every key pressed in the IVR

 private:
  action replay(bool invalid);
  const ivr_config& cfg_;
  const ivr_number& number_;
  std::string menu_;
  uint32_t tries_ = 0;
  std::string path_, digits_;
};

}  // namespace hotline::calls
