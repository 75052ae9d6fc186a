// The ACD actor: the site's routing engine (actors/acd/router.hpp) in one actor, so every
// decision sees one consistent picture of queues and agents. It executes the router's
// actions (offer to a call actor, withdraw, announce), ticks its timers (ring timeout
// N-03, wrap-up N-04, max wait, service hours N-01, alarms N-02) and publishes every
// change. Each agent has an actor of its own (below) that carries the agent's commands
// from the console and the phone into the ACD and publishes the agent's state.
//
// When it fails it is restarted with its state (acd.hpp): every router call is journaled
// after it returned, and the router is checkpointed every `checkpoint_every` calls, both
// in acd_site::memory, outside the actor. The agent actors and the table of calls live
// there too, so they outlive the failed ACD.
#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>

#include <deque>
#include <optional>
#include <set>

#include "actors/acd/router.hpp"
#include "actors/call/acd.hpp"
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
caf::behavior agent_actor(caf::event_based_actor* self, std::shared_ptr<acd_site> site, agent_record rec) {
  return {
      [=](agent_changed_msg& m) {
        auto o = agent_json(rec, acd::to_string(m.change.to), acd::to_string(m.change.reason), m.change.note,
                            ms_of(m.change.at), m.phone_online);
        o["from"] = std::string(acd::to_string(m.change.from));
        site->hub.publish("agents", boost::json::serialize(o));
      },
      [=](agent_cmd_msg& m) {
        // Commands pass through the agent's actor so per-agent rules can live here
        // (e.g. a not-ready reason the roster forbids); routing state is the ACD's.
        caf::anon_send(site->handle(), std::move(m));
      },
      [self](caf::exit_msg&) { self->quit(); },
  };
}

struct agent_slot {
  agent_record rec;
  caf::actor actor;
};

}  // namespace

// What outlives an ACD actor: the routing state as a checkpoint plus a journal, the
// roster with its agent actors, phones, and the calls the ACD knows.
struct acd_site::memory {
  acd::router config_only;  // the queues configured, nothing else: the clean slate
  acd::actions initial;     // what configuring decided, published by the first ACD
  acd::router checkpoint;
  std::vector<std::function<void(acd::router&)>> journal;  // router calls since the checkpoint
  std::vector<std::string> queue_ids;
  std::map<std::string, int> minimum;  // N-02 bottom line per queue
  std::map<std::string, agent_slot> agents;
  std::map<std::string, std::string> phone_to_agent;
  std::map<std::string, bool> registered;
  std::unordered_map<acd::call_id, caf::actor> calls;
  std::map<std::string, std::string> last_figures;
  uint64_t ticks = 0;
  std::deque<acd::time_point> failures;  // restarts within the last minute
  std::function<std::vector<caf::actor>()> live_calls;  // every call actor (the center's registry)
};

void set_acd_handle(acd_site& s, caf::actor a, bool restarted) {
  std::lock_guard lock(s.mutex_);
  s.handle_ = std::move(a);
  if (restarted) ++s.restarts_;
}

namespace {

class acd_actor : public caf::event_based_actor {
 public:
  acd_actor(caf::actor_config& cfg, std::shared_ptr<acd_site> site, bool restarted)
      : caf::event_based_actor(cfg), site_(std::move(site)), mem_(*site_->mem), restarted_(restarted) {}

  caf::behavior make_behavior() override {
    set_down_handler([this](caf::down_msg& d) { on_call_down(d); });
    if (restarted_) {
      recover();
    } else {
      router_ = mem_.checkpoint.clone();
      // What configuring the queues decided (service hours, N-02 alarms of queues that
      // start below their minimum) is published like any later decision.
      apply(std::move(mem_.initial));
      mem_.initial.clear();
    }
    delayed_send(this, site_->tick, acd_tick{});
    return {
        [this](add_agent_msg& m) {
          auto id = m.a.profile.id;
          auto& slot = mem_.agents[id];
          if (!slot.actor) slot.actor = spawn(agent_actor, site_, m.a);  // outlives a failed ACD
          slot.rec = m.a;
          mem_.phone_to_agent[m.a.phone] = id;
          publish_agent(id, "roster");
        },
        [this](agent_cmd_msg& m) { command(m); },
        [this](phone_msg& m) {
          mem_.registered[m.user] = m.registered;
          auto it = mem_.phone_to_agent.find(m.user);
          if (it == mem_.phone_to_agent.end()) return;
          if (auto v = router_.agent(it->second); v && v->state != acd::agent_state::logged_out)
            apply(run([id = it->second, reg = m.registered, now = now()](acd::router& r) {
              return r.set_phone_registered(id, reg, now);
            }));
          publish_agent(it->second, "phone");
        },
        [this](enqueue_msg& m) { enqueue(std::move(m.req), std::move(m.call)); },
        [this](call_update_msg& m) { update(m.id, m.what, m.agent); },
        [this](call_status_msg& m) { reconcile(m); },
        [this](acd_recover_msg&) { ask_calls(); },
        [this](position_req& m) {
          auto it = mem_.calls.find(m.id);
          if (it == mem_.calls.end()) return;
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
          auto it = v->call && v->state == acd::agent_state::talking ? mem_.calls.find(*v->call) : mem_.calls.end();
          if (it == mem_.calls.end()) {
            if (m.done) m.done("agent " + m.agent + " is not on a call");
            return;
          }
          send(it->second, std::move(m));
        },
        [this](figures_req& m) { m.done(router_.queue_figures(m.queue, now())); },
        [this](agent_req& m) { m.done(router_.agent(m.agent)); },
        [this](acd_tick&) {
          apply(run([now = now()](acd::router& r) { return r.on_tick(now); }));
          publish_figures();
          if (alarm_until_ && now() >= *alarm_until_) {
            alarm_until_.reset();
            publish("alarms", boost::json::object{{"queue", ""}, {"alarm", "acd_restarted"}, {"raised", false}});
          }
          delayed_send(this, site_->tick, acd_tick{});
        },
    };
  }

 private:
  acd::time_point now() const { return site_->now(); }

  // Every router call goes through here: once it has returned it is in the journal (an
  // error changed nothing and is left out), so a restarted ACD replays exactly what this
  // one did, without the call it failed on.
  template <class F>
  std::invoke_result_t<F&, acd::router&> run(F f) {
    auto out = f(router_);
    if constexpr (std::is_same_v<decltype(out), acd::outcome>)
      if (std::holds_alternative<acd::acd_error>(out)) return out;
    mem_.journal.emplace_back([f](acd::router& r) mutable { (void)f(r); });
    if (mem_.journal.size() >= site_->checkpoint_every) {
      mem_.checkpoint = router_.clone();
      mem_.journal.clear();
    }
    return out;
  }

  // A new ACD after a failure: the routing state back, then ask every call where it is.
  void recover() {
    auto t = now();
    mem_.failures.push_back(t);
    while (!mem_.failures.empty() && t - mem_.failures.front() > std::chrono::minutes(1)) mem_.failures.pop_front();
    bool clean = mem_.failures.size() > static_cast<size_t>(site_->max_restarts_per_minute);
    if (clean) {
      // Failing again and again: the journal itself may be what fails. Start from the
      // configuration; agents log in again, waiting calls queue again (below).
      log::error("acd", "ACD failed repeatedly; restarted from the configuration",
                 {{"failures_last_minute", std::to_string(mem_.failures.size())}});
      mem_.checkpoint = mem_.config_only.clone();
      mem_.journal.clear();
      router_ = mem_.config_only.clone();
    } else {
      router_ = mem_.checkpoint.clone();
      for (auto& entry : mem_.journal) entry(router_);
      log::warn("acd", "ACD restarted with its state", {{"replayed", std::to_string(mem_.journal.size())}});
    }
    publish("alarms", boost::json::object{
                          {"queue", ""},
                          {"alarm", "acd_restarted"},
                          {"raised", true},
                          {"detail", clean ? "routing failed repeatedly and restarted empty: agents must log in again"
                                           : "routing failed and was restarted with its state"}});
    alarm_until_ = t + std::chrono::minutes(5);
  }

  // Once this ACD is the site's handle (a call answers whoever asks, but sends its later
  // updates to the handle): ask every call where it is.
  void ask_calls() {
    // Offers made just before the failure may not have reached their calls.
    for (const auto& [id, call] : mem_.calls)
      if (auto v = router_.call(id); v && v->at == acd::router::call_view::phase::ringing) rang_[id] = v->agent;
    std::set<caf::actor_addr> asked;
    auto ask = [&](const caf::actor& a) {
      if (a && asked.insert(a.address()).second) send(a, acd_hello_msg{});
    };
    for (const auto& [id, call] : mem_.calls) {
      monitor(call);  // the failed ACD's monitors went with it
      ask(call);
    }
    if (mem_.live_calls)
      for (const auto& call : mem_.live_calls()) ask(call);
    for (const auto& [id, slot] : mem_.agents) publish_agent(id, "acd_restarted");
  }

  void enqueue(acd::call_request req, caf::actor call) {
    if (mem_.calls.emplace(req.id, call).second) monitor(call);
    auto out = run([req, now = now()](acd::router& r) { return r.on_call_arrived(req, now); });
    if (auto* err = std::get_if<acd::acd_error>(&out)) {
      log::warn("acd", "call not queued", {{"queue", req.queue}, {"error", err->message}});
      // An unknown queue: the general queue takes it rather than nobody (N-02).
      if (req.queue != "general") {
        req.queue = "general";
        out = run([req, now = now()](acd::router& r) { return r.on_call_arrived(req, now); });
      }
    }
    apply(std::move(out));
  }

  void update(acd::call_id id, call_update what, const std::string& agent = {}) {
    if ((what == call_update::answered || what == call_update::offer_failed) && !agent.empty()) {
      auto v = router_.call(id);
      if (v && v->at == acd::router::call_view::phase::ringing && v->agent != agent) {
        log::info("acd", "an offer's answer or failure came after the offer was withdrawn: ignored",
                  {{"call", std::to_string(id)}, {"agent", agent}, {"ringing", v->agent}});
        return;
      }
    }
    apply(run([id, what, t = now()](acd::router& r) { return route_update(r, id, what, t); }));
    if (what == call_update::ended || what == call_update::abandoned || what == call_update::callback) forget(id);
  }

  static acd::outcome route_update(acd::router& r, acd::call_id id, call_update what, acd::time_point t) {
    switch (what) {
      case call_update::answered: return r.call_answered(id, t);
      case call_update::offer_failed: return r.offer_failed(id, t);
      case call_update::ended: return r.call_ended(id, t);
      case call_update::abandoned: return r.call_abandoned(id, t);
      case call_update::callback: return r.callback_requested(id, t);
    }
    return acd::acd_error{acd::acd_error::kind::invalid_argument, "unknown call update"};
  }

  void forget(acd::call_id id) {
    auto it = mem_.calls.find(id);
    if (it == mem_.calls.end()) return;
    demonitor(it->second);
    mem_.calls.erase(it);
  }

  // The call left without a word (its actor failed, or ended while the ACD was down):
  // a waiting or ringing call is abandoned, a connected one ended (the agent wraps up).
  void left(acd::call_id id) {
    if (auto v = router_.call(id))
      update(id, v->at == acd::router::call_view::phase::talking ? call_update::ended : call_update::abandoned);
    forget(id);
  }

  void on_call_down(const caf::down_msg& d) {
    for (const auto& [id, call] : mem_.calls)
      if (call.address() == d.source) {
        log::warn("acd", "a call's actor ended without telling routing", {{"call", std::to_string(id)}});
        return left(id);
      }
  }

  // A call's answer to acd_hello_msg: make good what the failed ACD lost.
  void reconcile(const call_status_msg& m) {
    using phase = acd::router::call_view::phase;
    using where = call_status_msg::where;
    auto v = router_.call(m.id);
    if (v && m.last) {
      // The last update the call sent, if routing had not seen it.
      auto last = *m.last;
      bool lost = (last == call_update::answered && v->at == phase::ringing && m.at == where::connected) ||
                  (last == call_update::offer_failed && v->at == phase::ringing && m.at == where::waiting) ||
                  (last == call_update::ended && v->at == phase::talking) ||
                  (last == call_update::abandoned || last == call_update::callback);
      if (lost) {
        log::info("acd", "update lost with the failed ACD applied", {{"call", std::to_string(m.id)}});
        if (last == call_update::abandoned && v->at == phase::talking) last = call_update::ended;
        update(m.id, last, last == call_update::answered ? m.agent : std::string());
        v = router_.call(m.id);
      }
    }
    if (m.at == where::waiting && !v) {
      enqueue(m.req, m.call);  // its enqueue was lost
    } else if (m.at == where::waiting && v && v->at == phase::ringing) {
      auto r = rang_.find(m.id);
      auto slot = mem_.agents.find(v->agent);
      if (r != rang_.end() && r->second == v->agent && slot != mem_.agents.end())
        send(m.call, offer_msg{v->agent, slot->second.rec.phone, slot->second.rec.name});  // the offer was lost
    } else if (m.at == where::elsewhere && v) {
      left(m.id);
    }
    rang_.erase(m.id);
  }

  void command(agent_cmd_msg& m) {
    auto it = mem_.agents.find(m.agent);
    if (it == mem_.agents.end()) {
      if (m.done) m.done("unknown agent " + m.agent);
      return;
    }
    auto t = now();
    acd::outcome out;
    const auto& id = m.agent;
    switch (m.c) {
      case agent_command::login: {
        auto profile = it->second.rec.profile;
        profile.phone_registered = mem_.registered[it->second.rec.phone];
        out = run([profile, t](acd::router& r) { return r.login(profile, t); });
        break;
      }
      case agent_command::ready:
        out = run([id, t](acd::router& r) { return r.on_agent_available(id, t); });
        break;
      case agent_command::not_ready: {
        auto why = m.why == acd::not_ready_reason::none ? acd::not_ready_reason::other : m.why;
        out = run([id, why, t](acd::router& r) { return r.set_not_ready(id, why, t); });
        break;
      }
      case agent_command::end_wrap_up: out = run([id, t](acd::router& r) { return r.end_wrap_up(id, t); }); break;
      case agent_command::logout: out = run([id, t](acd::router& r) { return r.logout(id, t); }); break;
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
    auto it = mem_.calls.find(id);
    if (it != mem_.calls.end()) send(it->second, std::move(msg));
  }
  void apply(acd::actions acts) {
    for (auto& a : acts) {
      std::visit(
          [this](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, acd::offer_call>) {
              auto it = mem_.agents.find(x.agent);
              if (it == mem_.agents.end()) return;
              to_call(x.call, caf::make_message(offer_msg{x.agent, it->second.rec.phone, it->second.rec.name}));
            } else if constexpr (std::is_same_v<T, acd::withdraw_offer>) {
              to_call(x.call, caf::make_message(withdraw_msg{x.why, x.agent}));
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
              forget(x.call);
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
              auto it = mem_.agents.find(x.agent);
              if (it != mem_.agents.end()) send(it->second.actor, agent_changed_msg{x, phone_online(x.agent)});
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
    auto it = mem_.agents.find(agent);
    if (it == mem_.agents.end()) return false;
    auto r = mem_.registered.find(it->second.rec.phone);
    return r != mem_.registered.end() && r->second;
  }

  // The agent's whole record (roster additions, phone registrations).
  void publish_agent(const std::string& id, std::string_view why) {
    auto it = mem_.agents.find(id);
    if (it == mem_.agents.end()) return;
    auto v = router_.agent(id);
    auto o = agent_json(it->second.rec, acd::to_string(v ? v->state : acd::agent_state::logged_out),
                        acd::to_string(v ? v->reason : acd::not_ready_reason::none), v ? v->note : std::string(),
                        v ? ms_of(v->state_since) : ms_of(now()), phone_online(id));
    o["event"] = why;
    site_->hub.publish("agents", boost::json::serialize(o));
  }

  void publish(const std::string& topic, boost::json::object o) {
    o["at_ms"] = ms_of(now());
    site_->hub.publish(topic, boost::json::serialize(o));
  }

  // N-50 figures once a second per queue (the wallboard's live numbers).
  void publish_figures() {
    if (++mem_.ticks % 4) return;
    for (const auto& q : mem_.queue_ids) {
      auto f = router_.queue_figures(q, now());
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
      o["minimum"] = mem_.minimum[q];
      std::string body = boost::json::serialize(o);
      if (mem_.last_figures[q] == body) continue;  // publish changes only
      mem_.last_figures[q] = body;
      publish("queues", std::move(o));
    }
  }

  std::shared_ptr<acd_site> site_;
  acd_site::memory& mem_;
  bool restarted_ = false;
  acd::router router_;
  std::map<acd::call_id, acd::agent_id> rang_;  // recovering: ringing before the failure
  std::optional<acd::time_point> alarm_until_;  // the restart alarm is cleared then
};

// Restarts the ACD when it fails; stops the agent actors when it is shut down.
void supervise(caf::actor_system& sys, const std::weak_ptr<acd_site>& weak, const caf::actor& acd) {
  acd->attach_functor([&sys, weak](const caf::error& reason) {
    auto site = weak.lock();
    if (!site) return;
    if (!reason || reason == caf::exit_reason::normal || reason == caf::exit_reason::user_shutdown) {
      sys.registry().erase(caf::atom("acd"));
      for (auto& [id, slot] : site->mem->agents)
        if (slot.actor) caf::anon_send_exit(slot.actor, caf::exit_reason::user_shutdown);
      return;
    }
    log::error("acd", "ACD failed", {{"reason", sys.render(reason)}});
    auto next = sys.spawn<acd_actor>(site, true);
    set_acd_handle(*site, next, true);
    sys.registry().erase(caf::atom("acd"));  // put() keeps an existing entry
    sys.registry().put(caf::atom("acd"), next);
    supervise(sys, weak, next);
    caf::anon_send(next, acd_recover_msg{});
  });
}

}  // namespace

caf::actor spawn_acd(caf::actor_system& sys, const std::shared_ptr<acd_site>& site, std::string& error) {
  site->mem = std::make_shared<acd_site::memory>();
  auto& mem = *site->mem;
  mem.config_only = acd::router(site->router_cfg);
  auto now = site->now();
  // Overflow targets must exist before the queues that name them: configure the ones
  // without a target first.
  for (const auto& q : site->queues) mem.minimum[q.id] = q.min_agents;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& q : site->queues) {
      if ((pass == 0) != q.overflow_to.empty()) continue;
      auto out = mem.config_only.configure_queue(q, now);
      if (auto* err = std::get_if<acd::acd_error>(&out)) {
        error = "queue " + q.id + ": " + err->message;
        return {};
      }
      mem.queue_ids.push_back(q.id);
      auto& acts = std::get<acd::actions>(out);
      mem.initial.insert(mem.initial.end(), acts.begin(), acts.end());
    }
  mem.checkpoint = mem.config_only.clone();
  auto a = sys.spawn<acd_actor>(site, false);
  set_acd_handle(*site, a, false);
  sys.registry().put(caf::atom("acd"), a);  // by name for operators' tools and tests
  supervise(sys, site, a);
  return a;
}

void set_live_calls(acd_site& site, std::function<std::vector<caf::actor>()> f) { site.mem->live_calls = std::move(f); }

}  // namespace hotline::calls
