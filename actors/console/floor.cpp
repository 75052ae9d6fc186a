// The floor actor: the site's live picture (floor_model) and its fan-out to consoles.
// Every change gets the next sequence number and is rendered once per form (caller
// numbers whole or masked); supervisors' connections get the frames directly (no actor
// hop per console), agents' sessions get the changes about their agent. The last
// `kept` deltas stay for consoles that reconnect and resume.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <deque>
#include <map>
#include <random>

#include "actors/console/internal.hpp"
#include "actors/runtime/log.hpp"

namespace hotline::console {

namespace json = boost::json;

namespace {

constexpr size_t kept = 20000;

// Caller numbers go masked to wallboards and to everyone who is not handling the call.
json::object masked(kind k, json::object o) {
  if (k == kind::call || k == kind::alarm)
    for (auto field : {"from", "dialled"}) {
      bool outbound = o.contains("direction") && o.at("direction") == "outbound";  // a callback dials the citizen
      if (auto* f = o.if_contains(field); f && f->is_string() && (field[0] == 'f' || outbound))
        *f = mask_number(f->as_string());
    }
  return o;
}

// The hub's subscriber for the floor: hands each frame to the actor.
class floor_tap final : public actors::subscriber {
 public:
  explicit floor_tap(caf::actor floor) : floor_(std::move(floor)) {}
  uint64_t id() const override { return floor_subscriber_id; }
  bool deliver(std::shared_ptr<const std::string> frame) override {
    caf::anon_send(floor_, hub_frame{std::move(frame)});
    return true;
  }

 private:
  caf::actor floor_;
};

struct rendered {
  uint64_t seq = 0;
  std::shared_ptr<const std::string> full, masked;
};

class floor_actor : public caf::event_based_actor {
 public:
  floor_actor(caf::actor_config& cfg, std::shared_ptr<console_context> ctx) : caf::event_based_actor(cfg), ctx_(std::move(ctx)) {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    epoch_ = buf;
  }

  caf::behavior make_behavior() override {
    return {
        [this](hub_frame& f) {
          try {
            on_frame(*f.frame);
          } catch (const std::exception& e) {  // a malformed event must not stop the floor
            log::error("console", "floor: event not applied", {{"error", e.what()}, {"event", f.frame->substr(0, 300)}});
          }
        },
        [this](join_supervisor& j) { join(j); },
        [this](leave_supervisor& l) {
          std::erase_if(supervisors_, [&](const auto& s) { return s.conn->id() == l.conn_id; });
        },
        [this](join_agent& j) {
          // Its agent now, and the call it is on.
          if (auto* a = model_.find(kind::agent, j.agent)) {
            send(j.session, agent_change{{kind::agent, false, j.agent, *a, j.agent}});
            if (auto* call = a->if_contains("call"); call && call->is_string())
              if (auto* c = model_.find(kind::call, std::string(call->as_string())))
                send(j.session, agent_change{{kind::call, false, std::string(call->as_string()), *c, j.agent}});
          }
          agents_.emplace(j.agent, j.session);
        },
        [this](leave_agent& l) {
          auto [b, e] = agents_.equal_range(l.agent);
          for (auto it = b; it != e; ++it)
            if (it->second.address() == l.session) {
              agents_.erase(it);
              break;
            }
        },
        [this](to_agent& m) {
          size_t n = 0;
          auto [b, e] = agents_.equal_range(m.agent);
          for (auto it = b; it != e; ++it, ++n) send(it->second, agent_frame{m.frame});
          if (m.reply_to) {
            json::object r{{"type", "result"}, {"id", m.id}, {"ok", n > 0}, {"delivered", n}};
            if (!n) r["error"] = json::object{{"code", "not_connected"}, {"message", "agent " + m.agent + " has no console open"}};
            m.reply_to->deliver(std::make_shared<const std::string>(json::serialize(r)));
          }
        },
    };
  }

  static void attach(const caf::actor& self, actors::event_hub& hub) {
    auto tap = std::make_shared<floor_tap>(self);
    for (auto topic : {"queues", "agents", "calls", "alarms"}) hub.subscribe(topic, tap);
  }

 private:
  void on_frame(const std::string& frame) {
    json::error_code ec;
    auto v = json::parse(frame, ec);
    if (ec || !v.is_object()) return;
    auto& o = v.as_object();
    auto* topic = o.if_contains("topic");
    auto* data = o.if_contains("data");
    if (!topic || !topic->is_string() || !data || !data->is_object()) return;
    for (auto& c : model_.apply(topic->as_string(), data->as_object(), now_ms())) publish(std::move(c));
  }

  void publish(change c) {
    rendered r;
    r.seq = ++seq_;
    auto frame = [&](const json::object& data) {
      return std::make_shared<const std::string>(json::serialize(json::object{
          {"type", "delta"}, {"seq", r.seq}, {"kind", to_string(c.kind)}, {"op", c.removed ? "remove" : "upsert"},
          {"data", data}}));
    };
    r.full = frame(c.data);
    bool has_number = (c.kind == kind::call || c.kind == kind::alarm) && c.data.contains("from");
    r.masked = has_number ? frame(masked(c.kind, c.data)) : r.full;
    ring_.push_back(r);
    if (ring_.size() > kept) ring_.pop_front();
    std::erase_if(supervisors_, [&](const auto& s) { return !s.conn->deliver(s.masked ? r.masked : r.full); });
    for (const auto* agent : {&c.agent, &c.previous_agent}) {
      if (agent->empty()) continue;
      auto [b, e] = agents_.equal_range(*agent);
      for (auto it = b; it != e; ++it) send(it->second, agent_change{c});
    }
  }

  void join(join_supervisor& j) {
    bool resumable = j.epoch && *j.epoch == epoch_ && j.seq <= seq_ && seq_ - j.seq <= ctx_->opt.replay_max &&
                     (j.seq == seq_ || (!ring_.empty() && ring_.front().seq <= j.seq + 1));
    if (resumable) {
      j.conn->deliver(std::make_shared<const std::string>(
          json::serialize(json::object{{"type", "resumed"}, {"epoch", epoch_}, {"from", j.seq + 1}})));
      for (const auto& r : ring_)
        if (r.seq > j.seq) j.conn->deliver(j.masked ? r.masked : r.full);
    } else {
      j.conn->deliver(snapshot(j.masked));
    }
    supervisors_.push_back({j.conn, j.masked});
  }

  std::shared_ptr<const std::string> snapshot(bool mask) const {
    json::object s{{"type", "snapshot"}, {"epoch", epoch_}, {"seq", seq_}};
    auto list = [&](kind k, const char* name) {
      json::array a;
      for (const auto& [key, o] : model_.objects(k)) a.push_back(mask ? masked(k, o) : o);
      s[name] = std::move(a);
    };
    list(kind::queue, "queues");
    list(kind::agent, "agents");
    list(kind::call, "calls");
    list(kind::alarm, "alarms");
    return std::make_shared<const std::string>(json::serialize(s));
  }

  struct supervisor {
    std::shared_ptr<actors::subscriber> conn;
    bool masked = true;
  };

  std::shared_ptr<console_context> ctx_;
  floor_model model_;
  std::string epoch_;
  uint64_t seq_ = 0;
  std::deque<rendered> ring_;
  std::vector<supervisor> supervisors_;
  std::multimap<std::string, caf::actor> agents_;
};

}  // namespace

caf::actor spawn_floor(const std::shared_ptr<console_context>& ctx, actors::event_hub& hub) {
  auto a = ctx->sys.spawn<floor_actor>(ctx);
  floor_actor::attach(a, hub);
  return a;
}

std::shared_ptr<const std::string> result_frame(int64_t id, const std::string& code, const std::string& message) {
  json::object r{{"type", "result"}, {"id", id}, {"ok", code.empty()}};
  if (!code.empty()) r["error"] = json::object{{"code", code}, {"message", message}};
  return std::make_shared<const std::string>(json::serialize(r));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<uint64_t> parse_call_id(const std::string& s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !v) return std::nullopt;
  return v;
}

void send_text(const std::weak_ptr<actors::subscriber>& conn, std::shared_ptr<const std::string> frame) {
  if (auto c = conn.lock()) c->deliver(std::move(frame));
}

}  // namespace hotline::console
