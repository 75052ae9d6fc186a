// The ACD actor under CAF 0.17's deterministic test coordinator, with a simulated clock:
// messages run only inside sched_.run(), the ACD's 250 ms timer fires when the test
// advances CAF's clock, and the router reads the same simulated wall time. Calls are
// probe actors that record what the ACD sends them; the hub records what is published.
// Routing is also tested without actors (routing_test.cpp and friends); here each rule is
// driven through the actor's messages, and the ACD is made to fail: restarted by its
// supervisor with its state, no call dropped (the calls issue's "an actor that fails").
#include "actors/call/acd.hpp"

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/runtime/type_ids.hpp"

namespace hotline::calls {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

struct test_config : caf::actor_system_config {
  test_config() {
    add_message_types<caf::id_block::hotline>();
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// Every published event, parsed.
struct recording_hub final : actors::event_hub {
  std::vector<std::pair<std::string, json::object>> events;
  void subscribe(const std::string&, std::shared_ptr<actors::subscriber>) override {}
  void unsubscribe(const std::string&, uint64_t) override {}
  void drop(uint64_t) override {}
  void publish(const std::string& topic, std::string data) override {
    events.emplace_back(topic, json::parse(data).as_object());
  }
  // Events on `topic` whose `key` is `value`.
  std::vector<json::object> where(const std::string& topic, const std::string& key, const std::string& value) const {
    std::vector<json::object> out;
    for (const auto& [t, o] : events) {
      auto* v = o.if_contains(key);
      if (t == topic && v && v->is_string() && v->as_string() == value) out.push_back(o);
    }
    return out;
  }
};

// What a call actor got from the ACD, and how it answers a restarted ACD.
struct call_probe {
  std::vector<offer_msg> offers;
  std::vector<withdraw_msg> withdrawals;
  std::vector<queue_msg> queue;
  int hellos = 0;
  call_status_msg status;  // where it says it is (id and handle filled in)
};

caf::behavior probe_call(caf::event_based_actor* self, std::shared_ptr<call_probe> p, acd::call_id id) {
  return {
      [=](offer_msg& m) { p->offers.push_back(m); },
      [=](withdraw_msg& m) { p->withdrawals.push_back(m); },
      [=](queue_msg& m) { p->queue.push_back(m); },
      [=](acd_hello_msg&) {
        ++p->hellos;
        auto s = p->status;
        s.id = id;
        s.call = caf::actor_cast<caf::actor>(self);
        self->send(caf::actor_cast<caf::actor>(self->current_sender()), std::move(s));
      },
  };
}

struct probe {
  acd::call_id id = 0;
  caf::actor actor;
  std::shared_ptr<call_probe> got;
};

// Monday 2026-11-23 in the UTC+8 site, `hh:mm` local.
std::chrono::system_clock::time_point local(int hh, int mm) {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} + std::chrono::hours{hh - 8} +
         std::chrono::minutes{mm};
}

acd::queue_config queue(const std::string& id) {
  acd::queue_config q;
  q.id = q.skill = id;
  q.min_agents = 0;
  q.wrap_up = 10s;
  return q;
}

class AcdActorTest : public ::testing::Test {
 protected:
  ~AcdActorTest() override {
    if (site_) {
      caf::anon_send_exit(site_->handle(), caf::exit_reason::user_shutdown);
      for (auto& c : calls_) caf::anon_send_exit(c.actor, caf::exit_reason::user_shutdown);
      sched_.run();
      sched_.trigger_timeouts();
      sched_.run();
    }
  }

  void start(std::vector<acd::queue_config> queues) {
    site_ = std::make_shared<acd_site>(hub_, [this] { return now_; }, acd::router_config{}, std::move(queues));
    std::string error;
    ASSERT_TRUE(spawn_acd(sys_, site_, error)) << error;
    set_live_calls(*site_, [this] {
      std::vector<caf::actor> out;
      for (auto& c : calls_) out.push_back(c.actor);
      return out;
    });
    sched_.run();
  }

  caf::actor acd() { return site_->handle(); }

  template <class T>
  void tell(T msg) {
    caf::anon_send(acd(), std::move(msg));
    sched_.run();
  }

  // Command result: "" or the ACD's error.
  std::string command(const std::string& agent, agent_command c,
                      acd::not_ready_reason why = acd::not_ready_reason::none) {
    std::string result = "(no answer)";
    tell(agent_cmd_msg{agent, c, why, [&](std::string e) { result = std::move(e); }});
    return result;
  }

  // An agent in `queues` (first = priority 1), phone registered, logged in and ready.
  void agent(const std::string& id, std::vector<std::string> queues, acd::post role = acd::post::a, int level = 3) {
    agent_record r;
    r.profile.id = id;
    int prio = 1;
    for (const auto& q : queues) {
      r.profile.skills.push_back({q, level, role});
      r.profile.queues.push_back({q, prio++});
    }
    r.name = "agent " + id;
    r.phone = "phone" + id;
    tell(add_agent_msg{r});
    tell(phone_msg{r.phone, true});
    EXPECT_EQ(command(id, agent_command::login), "");
    EXPECT_EQ(command(id, agent_command::ready), "");
  }

  probe call(acd::call_id id, const std::string& q, int priority = acd::priority::normal) {
    probe p{id, {}, std::make_shared<call_probe>()};
    p.actor = sys_.spawn(probe_call, p.got, id);
    calls_.push_back(p);
    tell(enqueue_msg{{id, q, priority, {}}, p.actor});
    return p;
  }

  void update(acd::call_id id, call_update u, std::string agent = {}) { tell(call_update_msg{id, u, std::move(agent)}); }

  std::optional<acd::agent_view> view(const std::string& id) {
    std::optional<acd::agent_view> v;
    tell(agent_req{id, [&](std::optional<acd::agent_view> x) { v = std::move(x); }});
    return v;
  }
  acd::agent_state state(const std::string& id) {
    auto v = view(id);
    return v ? v->state : acd::agent_state::logged_out;
  }
  std::optional<acd::figures> figures(const std::string& q) {
    std::optional<acd::figures> f;
    tell(figures_req{q, [&](std::optional<acd::figures> x) { f = std::move(x); }});
    return f;
  }

  // Simulated time: the wall clock the router reads and CAF's clock for the ACD's timer.
  void advance(std::chrono::milliseconds d) {
    for (auto left = d; left > 0ms; left -= 250ms) {
      auto step = std::min<std::chrono::milliseconds>(left, 250ms);
      now_ += step;
      sched_.advance_time(step);
      sched_.run();
    }
  }

  // The ACD fails (killed); its supervisor starts the next one.
  void kill_acd() {
    auto old = acd();
    caf::anon_send_exit(old, caf::exit_reason::kill);
    sched_.run();
    ASSERT_NE(acd(), old);
  }

  test_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scheduler::test_coordinator& sched_ = dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler());
  recording_hub hub_;
  std::chrono::system_clock::time_point now_ = local(10, 0);
  std::shared_ptr<acd_site> site_;
  std::vector<probe> calls_;
};

TEST_F(AcdActorTest, OffersTheLongestIdleAgentAndPublishesTheAnswer) {
  start({queue("pension")});
  agent("1001", {"pension"});
  advance(5s);
  agent("1002", {"pension"});
  auto c = call(1, "pension");
  ASSERT_EQ(c.got->offers.size(), 1u);
  EXPECT_EQ(c.got->offers[0].agent, "1001");  // idle 5 s longer
  EXPECT_EQ(c.got->offers[0].phone, "phone1001");
  EXPECT_EQ(state("1001"), acd::agent_state::ringing);
  advance(3s);
  update(1, call_update::answered);
  EXPECT_EQ(state("1001"), acd::agent_state::talking);
  auto answered = hub_.where("queues", "event", "answered");
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0].at("agent").as_string(), "1001");
  EXPECT_EQ(answered[0].at("waited_ms").as_int64(), 3000);
}

TEST_F(AcdActorTest, FewestCallsTodayAndSkillLevelStrategies) {
  auto fewest = queue("medical");
  fewest.strategy = acd::strategy::fewest_calls_today;
  auto expert = queue("injury");
  expert.strategy = acd::strategy::skill_level;
  start({fewest, expert});
  agent("2001", {"medical"});
  agent("2002", {"medical"});
  auto first = call(1, "medical");
  ASSERT_EQ(first.got->offers.size(), 1u);
  auto busy = first.got->offers[0].agent;
  update(1, call_update::answered);
  update(1, call_update::ended);
  advance(10s);  // wrap-up over: both ready, `busy` has one call today
  EXPECT_EQ(state(busy), acd::agent_state::ready);
  auto second = call(2, "medical");
  ASSERT_EQ(second.got->offers.size(), 1u);
  EXPECT_NE(second.got->offers[0].agent, busy);

  agent("3001", {"injury"}, acd::post::a, 2);
  agent("3002", {"injury"}, acd::post::a, 5);
  auto third = call(3, "injury");
  ASSERT_EQ(third.got->offers.size(), 1u);
  EXPECT_EQ(third.got->offers[0].agent, "3002");  // the higher level, though idle less long
}

TEST_F(AcdActorTest, BPostsGetCallsOnlyWhenNoAAgentIsFree) {  // N-12
  start({queue("pension")});
  agent("4002", {"pension"}, acd::post::b);
  advance(5s);
  agent("4001", {"pension"}, acd::post::a);
  auto c1 = call(1, "pension");
  ASSERT_EQ(c1.got->offers.size(), 1u);
  EXPECT_EQ(c1.got->offers[0].agent, "4001");  // A first, though B waited longer
  auto c2 = call(2, "pension");
  ASSERT_EQ(c2.got->offers.size(), 1u);
  EXPECT_EQ(c2.got->offers[0].agent, "4002");  // the A agent is ringing
}

TEST_F(AcdActorTest, RingTimeoutReoffersToTheNextAgentAndCountsTheMiss) {  // N-03
  start({queue("pension")});
  agent("1001", {"pension"});
  advance(1s);
  agent("1002", {"pension"});
  auto c = call(7, "pension");
  ASSERT_EQ(c.got->offers.size(), 1u);
  EXPECT_EQ(c.got->offers[0].agent, "1001");
  advance(14s);
  EXPECT_TRUE(c.got->withdrawals.empty());
  advance(1s);  // 15 s: the ACD's timer withdraws and re-offers
  ASSERT_EQ(c.got->withdrawals.size(), 1u);
  EXPECT_EQ(c.got->withdrawals[0].why, acd::withdraw_reason::ring_timeout);
  ASSERT_EQ(c.got->offers.size(), 2u);
  EXPECT_EQ(c.got->offers[1].agent, "1002");
  auto v = view("1001");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->missed_today, 1u);
  EXPECT_EQ(v->state, acd::agent_state::not_ready);
  auto missed = hub_.where("agents", "event", "missed_offer");
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].at("agent").as_string(), "1001");
}

// An agent's answer (or the phone's refusal) that crossed the ring timeout reaches the
// ACD after it re-offered the call: it is about an offer no longer standing and changes
// nothing; the call hears of it by the withdraw, which names the agent.
TEST_F(AcdActorTest, AnAnswerThatCrossedTheRingTimeoutIsIgnored) {  // N-03
  start({queue("pension")});
  agent("1001", {"pension"});
  advance(1s);
  agent("1002", {"pension"});
  auto c = call(7, "pension");
  advance(15s);
  ASSERT_EQ(c.got->withdrawals.size(), 1u);
  EXPECT_EQ(c.got->withdrawals[0].agent, "1001");
  ASSERT_EQ(c.got->offers.size(), 2u);
  ASSERT_EQ(c.got->offers[1].agent, "1002");
  update(7, call_update::answered, "1001");
  update(7, call_update::offer_failed, "1001");
  EXPECT_EQ(state("1002"), acd::agent_state::ringing) << "1001's late answer taken for 1002's";
  EXPECT_EQ(view("1002")->missed_today, 0u) << "1001's late refusal charged to 1002";
  EXPECT_EQ(state("1001"), acd::agent_state::not_ready);
  update(7, call_update::answered, "1002");
  EXPECT_EQ(state("1002"), acd::agent_state::talking);
}

TEST_F(AcdActorTest, WrapUpEndsOnTimeOrEarlyAndTheAgentTakesTheNextCall) {  // N-04
  start({queue("pension")});
  agent("1001", {"pension"});
  auto c1 = call(1, "pension");
  update(1, call_update::answered);
  auto c2 = call(2, "pension");
  EXPECT_TRUE(c2.got->offers.empty());
  ASSERT_EQ(c2.got->queue.size(), 1u);
  EXPECT_EQ(c2.got->queue[0].what, queue_msg::kind::queued);
  EXPECT_EQ(c2.got->queue[0].where.position, 1u);
  update(1, call_update::ended);
  EXPECT_EQ(state("1001"), acd::agent_state::wrap_up);
  advance(9s);
  EXPECT_TRUE(c2.got->offers.empty());
  advance(1s);  // the queue's 10 s wrap-up
  ASSERT_EQ(c2.got->offers.size(), 1u);
  EXPECT_EQ(c2.got->offers[0].agent, "1001");

  update(2, call_update::answered);
  update(2, call_update::ended);
  auto c3 = call(3, "pension");
  EXPECT_EQ(command("1001", agent_command::end_wrap_up), "");  // the agent ends it early
  ASSERT_EQ(c3.got->offers.size(), 1u);
  EXPECT_NE(command("1001", agent_command::end_wrap_up), "");  // not in wrap-up any more
}

TEST_F(AcdActorTest, MaxWaitOverflowsToTheNextQueue) {
  auto first = queue("pension");
  first.max_wait = 20s;
  first.overflow_to = "general";
  start({first, queue("general")});
  agent("9001", {"general"});
  EXPECT_EQ(command("9001", agent_command::not_ready, acd::not_ready_reason::meeting), "");
  auto c = call(1, "pension");
  advance(19s);
  auto overflowed = [&] {
    return std::count_if(c.got->queue.begin(), c.got->queue.end(),
                         [](const queue_msg& m) { return m.what == queue_msg::kind::overflowed && m.queue == "general"; });
  };
  EXPECT_EQ(overflowed(), 0);
  advance(1s);
  EXPECT_EQ(overflowed(), 1);
  EXPECT_EQ(command("9001", agent_command::ready), "");
  ASSERT_EQ(c.got->offers.size(), 1u);
  EXPECT_EQ(c.got->offers[0].agent, "9001");
}

TEST_F(AcdActorTest, AfterHoursCallsGetTheAfterHoursBranch) {  // N-01
  now_ = local(20, 59);
  start({queue("pension")});
  agent("1001", {"pension"});
  advance(60s);  // 21:00: the queue closes
  auto closed = hub_.where("queues", "event", "service_hours");
  ASSERT_FALSE(closed.empty());
  EXPECT_FALSE(closed.back().at("open").as_bool());
  auto c = call(1, "pension");
  EXPECT_TRUE(c.got->offers.empty());
  ASSERT_EQ(c.got->queue.size(), 1u);
  EXPECT_EQ(c.got->queue[0].what, queue_msg::kind::after_hours);
  ASSERT_TRUE(c.got->queue[0].opens_at);
  EXPECT_EQ(*c.got->queue[0].opens_at,
            std::chrono::time_point_cast<std::chrono::milliseconds>(local(24 + 8, 0)));  // 08:00 on Tuesday
}

TEST_F(AcdActorTest, BottomLineAlarmRaisedAndCleared) {  // N-02
  auto q = queue("pension");
  q.min_agents = 2;
  start({q});
  auto raised = [&] { return hub_.where("alarms", "alarm", "below_minimum_agents"); };
  ASSERT_EQ(raised().size(), 1u);  // no agents at the start of service hours
  EXPECT_TRUE(raised()[0].at("raised").as_bool());
  agent("1001", {"pension"});
  EXPECT_EQ(raised().size(), 1u);
  agent("1002", {"pension"});
  ASSERT_EQ(raised().size(), 2u);
  EXPECT_FALSE(raised()[1].at("raised").as_bool());
  EXPECT_EQ(command("1002", agent_command::not_ready, acd::not_ready_reason::break_time), "");
  ASSERT_EQ(raised().size(), 3u);
  EXPECT_TRUE(raised()[2].at("raised").as_bool());
  EXPECT_EQ(raised()[2].at("working_agents").as_int64(), 1);
}

TEST_F(AcdActorTest, BadCommandsAreAnsweredAndTheActorKeepsRunning) {
  start({queue("pension"), queue("general")});
  agent("1001", {"pension"});
  EXPECT_NE(command("nobody", agent_command::ready), "");
  EXPECT_NE(command("1001", agent_command::login), "");  // already logged in
  EXPECT_NE(command("1001", agent_command::end_wrap_up), "");
  auto c = call(1, "no-such-queue");  // taken by the general queue
  EXPECT_TRUE(c.got->offers.empty());
  EXPECT_EQ(figures("general")->waiting, 1u);
  EXPECT_EQ(site_->restarts(), 0u);
}

TEST_F(AcdActorTest, RestartedWithItsStateAfterItIsKilled) {
  start({queue("pension")});
  agent("1001", {"pension"});
  auto talking = call(1, "pension");
  update(1, call_update::answered);
  auto waiting = call(2, "pension");
  advance(2s);
  talking.got->status.at = call_status_msg::where::connected;
  talking.got->status.agent = "1001";
  talking.got->status.last = call_update::answered;
  waiting.got->status.at = call_status_msg::where::waiting;
  waiting.got->status.req = {2, "pension", acd::priority::normal, {}};

  kill_acd();
  EXPECT_EQ(site_->restarts(), 1u);
  EXPECT_EQ(talking.got->hellos, 1);
  EXPECT_EQ(waiting.got->hellos, 1);
  auto alarm = hub_.where("alarms", "alarm", "acd_restarted");
  ASSERT_EQ(alarm.size(), 1u);
  EXPECT_TRUE(alarm[0].at("raised").as_bool());
  // Nothing forgotten: the agent still talks, the call still waits (not queued again).
  auto v = view("1001");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->state, acd::agent_state::talking);
  EXPECT_EQ(v->call, 1u);
  auto f = figures("pension");
  EXPECT_EQ(f->waiting, 1u);
  EXPECT_EQ(f->counters.entered, 2u);
  EXPECT_EQ(waiting.got->queue.size(), 1u);
  // And it goes on routing.
  update(1, call_update::ended);
  advance(10s);
  ASSERT_EQ(waiting.got->offers.size(), 1u);
  EXPECT_EQ(waiting.got->offers[0].agent, "1001");
  advance(5min);
  alarm = hub_.where("alarms", "alarm", "acd_restarted");
  ASSERT_EQ(alarm.size(), 2u);
  EXPECT_FALSE(alarm[1].at("raised").as_bool());
}

TEST_F(AcdActorTest, AHandlerThatThrowsIsSkippedAndTheRestKept) {
  start({queue("pension")});
  agent("1001", {"pension"});
  agent("1002", {"pension"});
  // A console's callback that throws inside the ACD (a bug elsewhere): the ACD fails
  // after the router made the change; the change is kept, nothing else is lost.
  tell(agent_cmd_msg{"1002", agent_command::not_ready, acd::not_ready_reason::training,
                     [](std::string) { throw std::runtime_error("console bug"); }});
  EXPECT_EQ(site_->restarts(), 1u);
  EXPECT_EQ(state("1002"), acd::agent_state::not_ready);
  EXPECT_EQ(state("1001"), acd::agent_state::ready);
  auto c = call(1, "pension");
  ASSERT_EQ(c.got->offers.size(), 1u);
  EXPECT_EQ(c.got->offers[0].agent, "1001");
}

TEST_F(AcdActorTest, UpdatesLostWithTheFailedAcdAreMadeGood) {
  start({queue("pension")});
  agent("1001", {"pension"});
  agent("1002", {"pension"});
  auto answered = call(1, "pension");  // rings 1001
  auto lost_enqueue = probe{2, {}, std::make_shared<call_probe>()};
  lost_enqueue.actor = sys_.spawn(probe_call, lost_enqueue.got, acd::call_id{2});
  calls_.push_back(lost_enqueue);

  // The ACD dies with these in its mailbox: the answer and a new call's enqueue.
  auto old = acd();
  caf::anon_send_exit(old, caf::exit_reason::kill);
  caf::anon_send(old, call_update_msg{1, call_update::answered});
  caf::anon_send(old, enqueue_msg{{2, "pension", acd::priority::normal, {}}, lost_enqueue.actor});
  answered.got->status.at = call_status_msg::where::connected;
  answered.got->status.agent = "1001";
  answered.got->status.last = call_update::answered;
  lost_enqueue.got->status.at = call_status_msg::where::waiting;
  lost_enqueue.got->status.req = {2, "pension", acd::priority::normal, {}};
  sched_.run();
  ASSERT_NE(acd(), old);

  EXPECT_EQ(state("1001"), acd::agent_state::talking);  // the lost answer, applied
  ASSERT_EQ(lost_enqueue.got->offers.size(), 1u);       // the lost call, queued and offered
  EXPECT_EQ(lost_enqueue.got->offers[0].agent, "1002");
  EXPECT_EQ(state("1002"), acd::agent_state::ringing);
}

TEST_F(AcdActorTest, AnOfferLostWithTheFailedAcdIsSentAgain) {
  start({queue("pension")});
  agent("1001", {"pension"});
  auto c = call(1, "pension");
  ASSERT_EQ(c.got->offers.size(), 1u);
  c.got->offers.clear();  // as if the offer had not arrived: the call says it waits
  c.got->status.at = call_status_msg::where::waiting;
  c.got->status.req = {1, "pension", acd::priority::normal, {}};
  kill_acd();
  ASSERT_EQ(c.got->offers.size(), 1u);
  EXPECT_EQ(c.got->offers[0].agent, "1001");
  EXPECT_EQ(view("1001")->missed_today, 0u);
}

TEST_F(AcdActorTest, ACallActorThatFailsReleasesItsAgentAndItsPlace) {
  start({queue("pension")});
  agent("1001", {"pension"});
  auto talking = call(1, "pension");
  update(1, call_update::answered);
  auto waiting = call(2, "pension");
  caf::anon_send_exit(talking.actor, caf::exit_reason::kill);
  sched_.run();
  EXPECT_EQ(state("1001"), acd::agent_state::wrap_up);  // not stuck talking
  caf::anon_send_exit(waiting.actor, caf::exit_reason::kill);
  sched_.run();
  auto f = figures("pension");
  EXPECT_EQ(f->waiting, 0u);
  EXPECT_EQ(f->counters.abandoned, 1u);
  EXPECT_EQ(site_->restarts(), 0u);
}

TEST_F(AcdActorTest, RepeatedFailuresStartFromTheConfiguration) {
  start({queue("pension")});
  agent("1001", {"pension"});
  for (int i = 0; i < 5; ++i) kill_acd();
  EXPECT_EQ(state("1001"), acd::agent_state::ready);  // five restarts in a minute: state kept
  kill_acd();  // the sixth: the journal may be what fails
  EXPECT_EQ(site_->restarts(), 6u);
  EXPECT_EQ(state("1001"), acd::agent_state::logged_out);
  auto alarm = hub_.where("alarms", "alarm", "acd_restarted");
  ASSERT_FALSE(alarm.empty());
  EXPECT_NE(std::string(alarm.back().at("detail").as_string()).find("log in again"), std::string::npos);
  EXPECT_EQ(command("1001", agent_command::login), "");  // the roster survived
  EXPECT_EQ(command("1001", agent_command::ready), "");
  auto c = call(1, "pension");
  ASSERT_EQ(c.got->offers.size(), 1u);
}

TEST_F(AcdActorTest, JournalIsCheckpointedAndReplayedAcrossTheBoundary) {
  start({queue("pension")});
  site_->checkpoint_every = 8;  // a checkpoint every few router calls
  agent("1001", {"pension"});
  agent("1002", {"pension"});
  for (acd::call_id id = 1; id <= 5; ++id) {
    call(id, "pension");
    update(id, call_update::answered);
    update(id, call_update::ended);
    advance(10s);
  }
  auto before_1 = view("1001"), before_2 = view("1002");
  kill_acd();
  auto after_1 = view("1001"), after_2 = view("1002");
  ASSERT_TRUE(before_1 && after_1 && before_2 && after_2);
  EXPECT_EQ(after_1->calls_today + after_2->calls_today, 5u);
  EXPECT_EQ(after_1->calls_today, before_1->calls_today);
  EXPECT_EQ(after_1->state_since, before_1->state_since);
  EXPECT_EQ(after_2->idle_since, before_2->idle_since);
  EXPECT_EQ(figures("pension")->counters.answered, 5u);
}

}  // namespace
}  // namespace hotline::calls
