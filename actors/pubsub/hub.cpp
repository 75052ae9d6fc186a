#include "actors/pubsub/hub.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <map>
#include <unordered_map>

#include "actors/runtime/log.hpp"

namespace hotline::actors {

namespace {

struct topic_state {
  uint64_t seq = 0;
  std::map<uint64_t, std::shared_ptr<subscriber>> subscribers;
};

struct hub_state {
  hub_state() = default;
  std::unordered_map<std::string, topic_state> topics;
  static inline const char* name = "event-hub";
};

using hub_pointer = hub_actor::stateful_pointer<hub_state>;

void forget(hub_pointer self, uint64_t id) {
  for (auto it = self->state.topics.begin(); it != self->state.topics.end();) {
    it->second.subscribers.erase(id);
    // Keep a topic's counter while it has subscribers; an empty topic starts over.
    it = it->second.subscribers.empty() ? self->state.topics.erase(it) : std::next(it);
  }
}

// Takes its limits as an argument (CAF 0.17's spawn also dereferences an empty
// argument tuple when there is none, which UBSan reports).
hub_actor::behavior_type hub_behavior(hub_pointer self, hub_limits limits) {
  return {
      [=](atoms::subscribe_atom, const std::string& topic, std::shared_ptr<subscriber>& s) {
        auto& topics = self->state.topics;
        if (topics.size() >= limits.max_topics && !topics.count(topic)) {
          log::warn("hub", "topic table full: subscription refused", {{"topic", topic}});
          return;
        }
        auto id = s->id();
        topics[topic].subscribers[id] = std::move(s);
      },
      [=](atoms::unsub_atom, const std::string& topic, uint64_t id) {
        auto it = self->state.topics.find(topic);
        if (it == self->state.topics.end()) return;
        it->second.subscribers.erase(id);
        if (it->second.subscribers.empty()) self->state.topics.erase(it);
      },
      [=](atoms::drop_atom, uint64_t id) { forget(self, id); },
      [=](atoms::publish_atom, const std::string& topic, const std::string& data) {
        auto it = self->state.topics.find(topic);
        if (it == self->state.topics.end()) return;  // nobody listens: nothing to number
        auto& t = it->second;
        std::string frame;
        frame.reserve(data.size() + topic.size() + 48);
        frame += R"({"type":"event","topic":")";
        frame += topic;  // topic names are validated dotted words: no escaping needed
        frame += R"(","seq":)";
        frame += std::to_string(++t.seq);
        frame += R"(,"data":)";
        frame += data;
        frame += '}';
        auto shared = std::make_shared<const std::string>(std::move(frame));
        std::vector<uint64_t> refused;
        for (auto& [id, s] : t.subscribers)
          if (!s->deliver(shared)) refused.push_back(id);
        for (auto id : refused) forget(self, id);
      },
      [](atoms::sync_atom) { return true; },
  };
}

}  // namespace

hub_actor spawn_hub(caf::actor_system& sys, hub_limits limits) { return sys.spawn(hub_behavior, limits); }

}  // namespace hotline::actors
