#pragma once
// The site's live picture for supervisors (N-50, N-32, N-02): queues, agents, calls and
// alarms, built from the center's events ("queues", "agents", "calls", "alarms" on the
// event hub) and turned into changes the consoles apply. Plain C++ with Boost.JSON: the
// floor actor (console.cpp) runs it, the tests drive it directly.
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::console {

enum class kind : uint8_t { queue, agent, call, alarm };
std::string_view to_string(kind k);

struct change {
  console::kind kind = kind::queue;
  bool removed = false;
  std::string key;            // queue id, agent work id, call id, alarm id
  boost::json::object data;   // the whole object (removed: just its key field)
  std::string agent;          // the agent this concerns (agent changes; calls offered or talking)
  std::string previous_agent; // a call that left this agent for `agent` (rung elsewhere)
};

class floor_model {
 public:
  // One event from the hub; `now_ms` stamps objects whose event carries no time.
  std::vector<change> apply(std::string_view topic, const boost::json::object& data, int64_t now_ms);

  const std::map<std::string, boost::json::object>& objects(kind k) const { return maps_[static_cast<size_t>(k)]; }
  const boost::json::object* find(kind k, const std::string& key) const;

 private:
  void on_call(const boost::json::object& d, int64_t now_ms, std::vector<change>& out);
  void on_agent(const boost::json::object& d, int64_t now_ms, std::vector<change>& out);
  void on_queue(const boost::json::object& d, int64_t now_ms, std::vector<change>& out);
  void on_alarm(const boost::json::object& d, int64_t now_ms, std::vector<change>& out);
  void set_agent_call(const std::string& agent, const std::string& call, std::vector<change>& out);
  void check_offline(const std::string& agent, int64_t now_ms, std::vector<change>& out);
  void upsert(kind k, const std::string& key, boost::json::object o, std::string agent, std::vector<change>& out);
  void remove(kind k, const std::string& key, std::string_view key_field, std::string agent, std::vector<change>& out);

  std::map<std::string, boost::json::object> maps_[4];
};

// "13812345678" -> "138****5678"; short numbers (extensions) keep their ends only.
std::string mask_number(std::string_view number);

}  // namespace hotline::console
