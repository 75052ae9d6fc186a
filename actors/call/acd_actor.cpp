// The ACD actor: the site's routing engine (actors/acd/router.hpp) in one actor, so every
// decision sees one consistent picture of queues and agents. It executes the router's
// actions (offer to a call actor, withdraw, announce), ticks its timers (ring timeout
// N-03, wrap-up N-04, max wait, service hours N-01, alarms N-02) and publishes every
// change. Each agent has an actor of its own (below) that carries the agent's commands
// from the console and the phone into the ACD and publishes the agent's state.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/acd/router.hpp"
#include "actors/call/internal.hpp"
#include "actors/runtime/log.hpp"

namespace hotline::calls {
namespace {

int64_t ms_of(acd::time_point t) { return t.time_since_epoch().count(); }

// An agent as the consoles see it (the "agents" topic): roster record and live state.
boost::json::object agent_json(const agent_record& rec, std::string_view state, std::string_view reason,
                               const std::string& note, int64_t since_ms, bool phone_online) {
  boost::json::array queues;
  for (const auto& q : rec.profile.queues) queues.emplace_back(q.queue);
  return {{"agent", rec.profile.id}, {"name", rec.name},     {"phone", rec.phone},
          {"state", state},          {"reason", reason},     {"note", note},
          {"at_ms", since_ms},       {"phone_online", phone_online}, {"queues", std::move(queues)}};
}

// One agent: its roster record and live state, published on "agents" for the consoles.
caf::behavior agent_actor(caf::event_based_actor* self, std::shared_ptr<call_context> ctx, agent_record rec) {
  return {
      [=](agent_changed_msg& m) {
        auto o = agent_json(rec, acd::to_string(m.change.to), acd::to_string(m.change.reason), m.change.note,
                            ms_of(m.change.at), m.phone_online);
        o["from"] = std::string(acd::to_string(m.change.from));
        ctx->hub.publish("agents", boost::json::serialize(o));
      },
      [=](agent_cmd_msg& m) {
        // Commands pass through the agent's actor so per-agent rules can live here
        // (e.g. a not-ready reason the roster forbids); routing state is the ACD's.
        caf::anon_send(ctx->acd, std::move(m));
      },
      [self](caf::exit_msg&) { self->quit(); },
  };
}

class acd_actor : public caf::event_based_actor {
 public:
  acd_actor(caf::actor_config& cfg, std::shared_ptr<call_context> ctx, acd::router r, std::vector<std::string> queues,
            std::map<std::string, int> minimum, acd::actions initial)
      : caf::event_based_actor(cfg),
        initial_(std::move(initial)),
        queues_(std::move(queues)),
        minimum_(std::move(minimum)),
        ctx_(std::move(ctx)),
        router_(std::move(r)) {}

  caf::behavior make_behavior() override {
    delayed_send(this, std::chrono::milliseconds(250), acd_tick{});
    // What configuring the queues decided (service hours, N-02 alarms of queues that
    // start below their minimum) is published like any later decision.
    apply(std::move(initial_));
    return {
        [this](add_agent_msg& m) {
          auto id = m.a.profile.id;
          auto& slot = agents_[id];
          if (!slot.actor) slot.actor = spawn<caf::linked>(agent_actor, ctx_, m.a);  // they go with the ACD
          slot.rec = m.a;
          phone_to_agent_[m.a.phone] = id;
          publish_agent(id, "roster");
        },
        [this](agent_cmd_msg& m) { command(m); },
        [this](phone_msg& m) {
          registered_[m.user] = m.registered;
          auto it = phone_to_agent_.find(m.user);
          if (it == phone_to_agent_.end()) return;
          if (auto v = router_.agent(it->second); v && v->state != acd::agent_state::logged_out)
            apply(router_.set_phone_registered(it->second, m.registered, ctx_->now()));
          publish_agent(it->second, "phone");
        },
        [this](enqueue_msg& m) {
          calls_[m.req.id] = m.call;
          auto out = router_.on_call_arrived(m.req, ctx_->now());
          if (auto* err = std::get_if<acd::acd_error>(&out)) {
            log::warn("acd", "call not queued", {{"queue", m.req.queue}, {"error", err->message}});
            // An unknown queue: the general queue takes it rather than nobody (N-02).
            if (m.req.queue != "general") {
              m.req.queue = "general";
              out = router_.on_call_arrived(m.req, ctx_->now());
            }
          }
          apply(std::move(out));
        },
        [this](call_update_msg& m) {
          auto now = ctx_->now();
          switch (m.what) {
            case call_update::answered: apply(router_.call_answered(m.id, now)); break;
            case call_update::offer_failed: apply(router_.offer_failed(m.id, now)); break;
            case call_update::ended:
              apply(router_.call_ended(m.id, now));
              calls_.erase(m.id);
              break;
            case call_update::abandoned:
              apply(router_.call_abandoned(m.id, now));
              calls_.erase(m.id);
              break;
            case call_update::callback:
              apply(router_.callback_requested(m.id, now));
              calls_.erase(m.id);
              break;
          }
        },
        [this](position_req& m) {
          auto it = calls_.find(m.id);
          if (it == calls_.end()) return;
          if (auto p = router_.position(m.id)) {
            queue_msg q;
            q.what = queue_msg::kind::position;
            q.where = *p;
            send(it->second, std::move(q));
          }
        },
        [this](call_request_msg& m) {
          auto v = router_.agent(m.agent);
          if (!v) {
            if (m.done) m.done("unknown agent " + m.agent);
            return;
          }
          auto it = v->call && v->state == acd::agent_state::talking ? calls_.find(*v->call) : calls_.end();
          if (it == calls_.end()) {
            if (m.done) m.done("agent " + m.agent + " is not on a call");
            return;
          }
          send(it->second, std::move(m));
        },
        [this](figures_req& m) { m.done(router_.queue_figures(m.queue, ctx_->now())); },
        [this](agent_req& m) { m.done(router_.agent(m.agent)); },
        [this](acd_tick&) {
          apply(router_.on_tick(ctx_->now()));
          publish_figures();
          delayed_send(this, std::chrono::milliseconds(250), acd_tick{});
        },
    };
  }

 private:
  struct agent_slot {
    agent_record rec;
    caf::actor actor;
  };

  void command(agent_cmd_msg& m) {
    auto it = agents_.find(m.agent);
    if (it == agents_.end()) {
      if (m.done) m.done("unknown agent " + m.agent);
      return;
    }
    auto now = ctx_->now();
    acd::outcome out;
    switch (m.c) {
      case agent_command::login: {
        auto profile = it->second.rec.profile;
        profile.phone_registered = registered_[it->second.rec.phone];
        out = router_.login(profile, now);
        break;
      }
      case agent_command::ready: out = router_.on_agent_available(m.agent, now); break;
      case agent_command::not_ready:
        out = router_.set_not_ready(m.agent, m.why == acd::not_ready_reason::none ? acd::not_ready_reason::other : m.why, now);
        break;
      case agent_command::end_wrap_up: out = router_.end_wrap_up(m.agent, now); break;
      case agent_command::logout: out = router_.logout(m.agent, now); break;
    }
    std::string error;
    if (auto* err = std::get_if<acd::acd_error>(&out)) error = err->message;
    apply(std::move(out));
    if (m.done) m.done(std::move(error));
  }

  void apply(acd::outcome out) {
    if (auto* acts = std::get_if<acd::actions>(&out)) apply(std::move(*acts));
  }

  void to_call(acd::call_id id, caf::message msg) {
    auto it = calls_.find(id);
    if (it != calls_.end()) send(it->second, std::move(msg));
  }

  void apply(acd::actions acts) {
    for (auto& a : acts) {
      std::visit(
          [this](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, acd::offer_call>) {
              auto it = agents_.find(x.agent);
              if (it == agents_.end()) return;
              to_call(x.call, caf::make_message(offer_msg{x.agent, it->second.rec.phone, it->second.rec.name}));
            } else if constexpr (std::is_same_v<T, acd::withdraw_offer>) {
              to_call(x.call, caf::make_message(withdraw_msg{x.why}));
            } else if constexpr (std::is_same_v<T, acd::missed_offer>) {
              publish("agents", boost::json::object{{"agent", x.agent}, {"event", "missed_offer"},
                                                    {"call", x.call}, {"missed_today", x.missed_today}});
            } else if constexpr (std::is_same_v<T, acd::call_queued>) {
              queue_msg q;
              q.what = queue_msg::kind::queued;
              q.where = x.where;
              q.queue = x.queue;
              to_call(x.call, caf::make_message(std::move(q)));
            } else if constexpr (std::is_same_v<T, acd::call_after_hours>) {
              queue_msg q;
              q.what = queue_msg::kind::after_hours;
              q.queue = x.queue;
              q.opens_at = x.opens_at;
              to_call(x.call, caf::make_message(std::move(q)));
              calls_.erase(x.call);
            } else if constexpr (std::is_same_v<T, acd::call_connected>) {
              publish("queues", boost::json::object{{"queue", x.queue}, {"event", "answered"}, {"call", x.call},
                                                    {"agent", x.agent}, {"waited_ms", x.waited.count()}});
            } else if constexpr (std::is_same_v<T, acd::call_left_queue>) {
              publish("queues", boost::json::object{{"queue", x.queue}, {"event", std::string(acd::to_string(x.why))},
                                                    {"call", x.call}, {"waited_ms", x.waited.count()}});
            } else if constexpr (std::is_same_v<T, acd::call_overflowed>) {
              queue_msg q;
              q.what = queue_msg::kind::overflowed;
              q.queue = x.to;
              to_call(x.call, caf::make_message(std::move(q)));
            } else if constexpr (std::is_same_v<T, acd::max_wait_reached>) {
              queue_msg q;
              q.what = queue_msg::kind::max_wait;
              q.queue = x.queue;
              to_call(x.call, caf::make_message(std::move(q)));
            } else if constexpr (std::is_same_v<T, acd::agent_state_changed>) {
              auto it = agents_.find(x.agent);
              if (it != agents_.end()) send(it->second.actor, agent_changed_msg{x, phone_online(x.agent)});
            } else if constexpr (std::is_same_v<T, acd::alarm_raised>) {
              log::warn("acd", "alarm", {{"queue", x.queue}, {"kind", std::string(acd::to_string(x.kind))}});
              publish("alarms", boost::json::object{{"queue", x.queue}, {"alarm", std::string(acd::to_string(x.kind))},
                                                    {"raised", true}, {"working_agents", x.working_agents},
                                                    {"minimum", x.minimum}, {"longest_wait_ms", x.longest_wait.count()}});
            } else if constexpr (std::is_same_v<T, acd::alarm_cleared>) {
              publish("alarms", boost::json::object{{"queue", x.queue}, {"alarm", std::string(acd::to_string(x.kind))},
                                                    {"raised", false}});
            } else if constexpr (std::is_same_v<T, acd::service_hours_changed>) {
              publish("queues", boost::json::object{{"queue", x.queue}, {"event", "service_hours"}, {"open", x.open}});
            }
          },
          a);
    }
  }

  bool phone_online(const std::string& agent) const {
    auto it = agents_.find(agent);
    if (it == agents_.end()) return false;
    auto r = registered_.find(it->second.rec.phone);
    return r != registered_.end() && r->second;
  }

  // The agent's whole record (roster additions, phone registrations).
  void publish_agent(const std::string& id, std::string_view why) {
    auto it = agents_.find(id);
    if (it == agents_.end()) return;
    auto v = router_.agent(id);
    auto o = agent_json(it->second.rec, acd::to_string(v ? v->state : acd::agent_state::logged_out),
                        acd::to_string(v ? v->reason : acd::not_ready_reason::none), v ? v->note : std::string(),
                        v ? ms_of(v->state_since) : ms_of(ctx_->now()), phone_online(id));
    o["event"] = why;
    ctx_->hub.publish("agents", boost::json::serialize(o));
  }

  void publish(const std::string& topic, boost::json::object o) {
    o["at_ms"] = ms_of(ctx_->now());
    ctx_->hub.publish(topic, boost::json::serialize(o));
  }

  // N-50 figures once a second per queue (the wallboard's live numbers).
  void publish_figures() {
    if (++ticks_ % 4) return;
    for (const auto& q : queues_) {
      auto f = router_.queue_figures(q, ctx_->now());
      if (!f) continue;
      boost::json::object o{{"queue", q},
                            {"event", "figures"},
                            {"open", f->open},
                            {"waiting", f->waiting},
                            {"longest_wait_ms", f->longest_wait.count()},
                            {"working_agents", f->working_agents},
                            {"ready", f->agents_in(acd::agent_state::ready)},
                            {"talking", f->agents_in(acd::agent_state::talking)},
                            {"ringing", f->agents_in(acd::agent_state::ringing)},
                            {"wrap_up", f->agents_in(acd::agent_state::wrap_up)},
                            {"not_ready", f->agents_in(acd::agent_state::not_ready)},
                            {"answered", f->counters.answered},
                            {"abandoned", f->counters.abandoned}};
      if (f->rates.service_level) o["service_level"] = *f->rates.service_level;
      if (f->rates.abandon_rate) o["abandon_rate"] = *f->rates.abandon_rate;
      if (f->rates.answer_rate) o["answer_rate"] = *f->rates.answer_rate;
      o["offered"] = f->counters.entered;
      o["minimum"] = minimum_[q];
      std::string body = boost::json::serialize(o);
      if (last_figures_[q] == body) continue;  // publish changes only
      last_figures_[q] = body;
      publish("queues", std::move(o));
    }
  }

  acd::actions initial_;
  std::vector<std::string> queues_;
  std::map<std::string, int> minimum_;  // N-02 bottom line per queue
  std::shared_ptr<call_context> ctx_;
  acd::router router_;
  std::map<std::string, agent_slot> agents_;
  std::map<std::string, std::string> phone_to_agent_;
  std::map<std::string, bool> registered_;
  std::unordered_map<acd::call_id, caf::actor> calls_;
  std::map<std::string, std::string> last_figures_;
  uint64_t ticks_ = 0;
};

}  // namespace

caf::actor spawn_acd(const std::shared_ptr<call_context>& ctx, std::string& error) {
  acd::router r(ctx->options.router);
  std::map<std::string, acd::queue_config> queues;
  for (const auto& q : ctx->options.queues) queues[q.id] = q;
  for (const auto& skill : ctx->options.ivr.skills()) {
    if (queues.count(skill)) continue;
    acd::queue_config q;
    q.id = skill;
    q.skill = skill;
    queues[skill] = q;
  }
  if (!queues.count("general")) {
    acd::queue_config q;
    q.id = q.skill = "general";
    queues["general"] = q;
  }
  auto now = ctx->now();
  // Overflow targets must exist before the queues that name them: configure the ones
  // without a target first.
  std::vector<std::string> ids;
  acd::actions initial;
  std::map<std::string, int> minimum;
  for (const auto& [id, q] : queues) minimum[id] = q.min_agents;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& [id, q] : queues) {
      if ((pass == 0) != q.overflow_to.empty()) continue;
      auto out = r.configure_queue(q, now);
      if (auto* err = std::get_if<acd::acd_error>(&out)) {
        error = "queue " + id + ": " + err->message;
        return {};
      }
      ids.push_back(id);
      auto& acts = std::get<acd::actions>(out);
      initial.insert(initial.end(), acts.begin(), acts.end());
    }
  return ctx->sys.spawn<acd_actor>(ctx, std::move(r), std::move(ids), std::move(minimum), std::move(initial));
}

}  // namespace hotline::calls
