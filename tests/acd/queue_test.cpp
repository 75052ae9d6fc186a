// Queues: service hours (N-01), max wait and overflow, the bottom-line alarms (N-02),
// abandoned calls and callbacks (N-18, N-50), position and expected wait (N-18), the
// live figures (N-50), and every error a call or queue operation can return.
#include "tests/acd/acd_fixture.hpp"

namespace hotline::acd::test {
namespace {

class AcdQueue : public AcdTest {};

// --- N-01 service hours ---

TEST_F(AcdQueue, CallBeforeOpeningIsAfterHours) {
  now = local_time(2026, 11, 23, 7, 59);
  add_queue(queue("pension"));
  auto a = arrive(1, "pension");
  ASSERT_EQ(all_of<call_after_hours>(a).size(), 1u);
  EXPECT_EQ(all_of<call_after_hours>(a)[0].opens_at, local_time(2026, 11, 23, 8, 0));
  EXPECT_FALSE(r.position(1).has_value());
  EXPECT_EQ(r.queue_figures("pension", now)->counters.after_hours, 1u);
  EXPECT_EQ(r.queue_figures("pension", now)->counters.entered, 0u);
}

TEST_F(AcdQueue, DefaultHoursAreEightToTwentyOneEveryDay) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  now = local_time(2026, 11, 29, 8, 0);  // a Sunday
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  now = local_time(2026, 11, 29, 20, 59, 59);
  EXPECT_TRUE(all_of<call_after_hours>(arrive(2, "pension")).empty());
  now = local_time(2026, 11, 29, 21, 0);
  auto a = arrive(3, "pension");
  ASSERT_EQ(all_of<call_after_hours>(a).size(), 1u);
  EXPECT_EQ(all_of<call_after_hours>(a)[0].opens_at, local_time(2026, 11, 30, 8, 0));
}

TEST_F(AcdQueue, PerWeekdayWindowsWithALunchBreakAndClosedWeekend) {
  auto q = queue("pension");
  for (int d = 0; d < 5; ++d) q.hours.by_weekday[d] = {{8h + 30min, 12h}, {13h + 30min, 17h + 30min}};
  q.hours.by_weekday[5].clear();
  q.hours.by_weekday[6].clear();
  now = local_time(2026, 11, 27, 12, 30);  // Friday lunch
  add_queue(q);
  auto a = arrive(1, "pension");
  ASSERT_EQ(all_of<call_after_hours>(a).size(), 1u);
  EXPECT_EQ(all_of<call_after_hours>(a)[0].opens_at, local_time(2026, 11, 27, 13, 30));
  now = local_time(2026, 11, 28, 10, 0);  // Saturday
  a = arrive(2, "pension");
  ASSERT_EQ(all_of<call_after_hours>(a).size(), 1u);
  EXPECT_EQ(all_of<call_after_hours>(a)[0].opens_at, local_time(2026, 11, 30, 8, 30));  // Monday
  now = local_time(2026, 11, 30, 8, 30);
  EXPECT_TRUE(all_of<call_after_hours>(arrive(3, "pension")).empty());
}

TEST_F(AcdQueue, TickAnnouncesOpeningAndClosing) {
  now = local_time(2026, 11, 23, 7, 0);
  auto a = add_queue(queue("pension"));
  ASSERT_EQ(all_of<service_hours_changed>(a).size(), 1u);
  EXPECT_FALSE(all_of<service_hours_changed>(a)[0].open);
  EXPECT_EQ(r.next_deadline(), local_time(2026, 11, 23, 8, 0));
  a = tick(59min);
  EXPECT_TRUE(all_of<service_hours_changed>(a).empty());
  a = tick(1min);
  ASSERT_EQ(all_of<service_hours_changed>(a).size(), 1u);
  EXPECT_TRUE(all_of<service_hours_changed>(a)[0].open);
  EXPECT_TRUE(r.queue_figures("pension", now)->open);
  now = local_time(2026, 11, 23, 21, 0);
  a = r.on_tick(now);
  ASSERT_EQ(all_of<service_hours_changed>(a).size(), 1u);
  EXPECT_FALSE(all_of<service_hours_changed>(a)[0].open);
}

TEST_F(AcdQueue, CallsWaitingAtClosingAreStillServed) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  now = local_time(2026, 11, 23, 20, 59, 50);
  arrive(1, "pension");
  now = local_time(2026, 11, 23, 21, 0, 5);
  r.on_tick(now);
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 1), "1001");
}

TEST(AcdServiceHours, NextChange) {
  const auto monday_10 = local_time(2026, 11, 23, 10, 0) + 8h;  // local axis
  EXPECT_EQ(service_hours::always().next_change(monday_10), std::nullopt);
  EXPECT_TRUE(service_hours::always().open_at(monday_10));
  const auto h = service_hours::every_day(8h, 21h);
  EXPECT_EQ(h.next_change(monday_10), local_time(2026, 11, 23, 21, 0) + 8h);
  EXPECT_EQ(h.next_change(local_time(2026, 11, 23, 21, 0) + 8h), local_time(2026, 11, 24, 8, 0) + 8h);
  service_hours closed;
  EXPECT_FALSE(closed.open_at(monday_10));
  EXPECT_EQ(closed.next_change(monday_10), std::nullopt);
}

// --- max wait and overflow ---

class AcdOverflow : public AcdTest {
 protected:
  void SetUp() override {
    add_queue(queue("general"));
    auto p = queue("pension");
    p.max_wait = 60s;
    p.overflow_to = "general";
    add_queue(p);
  }
};

TEST_F(AcdOverflow, MaxWaitMovesTheCallToTheOverflowQueue) {
  ready(agent("2001", "general"));
  const time_point arrived = now;
  arrive(1, "pension");
  EXPECT_EQ(r.next_deadline(), arrived + 30s + 1ms);  // N-02 wait alarm comes first
  auto a = tick(59s);
  EXPECT_TRUE(all_of<call_overflowed>(a).empty());
  a = tick(1s);
  ASSERT_EQ(all_of<call_overflowed>(a).size(), 1u);
  EXPECT_EQ(all_of<call_overflowed>(a)[0].from, "pension");
  EXPECT_EQ(all_of<call_overflowed>(a)[0].to, "general");
  EXPECT_EQ(offered_to(a, 1), "2001");
  EXPECT_EQ(r.queue_of(1), "general");
  EXPECT_EQ(r.queue_figures("pension", now)->counters.overflowed_out, 1u);
  EXPECT_EQ(r.queue_figures("pension", now)->waiting, 0u);
  EXPECT_EQ(r.queue_figures("general", now)->counters.overflowed_in, 1u);
  EXPECT_EQ(r.queue_figures("general", now)->counters.entered, 1u);
  now += 5s;
  a = ok(r.call_answered(1, now));
  EXPECT_EQ(all_of<call_connected>(a)[0].waited, 65s);  // N-03 counts from the IVR hand-off
}

TEST_F(AcdOverflow, OverflowedCallKeepsItsPlaceInTime) {
  ok(r.login(agent("2001", "general"), now));
  arrive(1, "pension");
  now += 30s;
  arrive(2, "general");
  tick(30s);  // call 1 overflows: it arrived before call 2
  EXPECT_EQ(r.position(1)->position, 1u);
  EXPECT_EQ(r.position(2)->position, 2u);
}

TEST_F(AcdOverflow, MaxWaitWithoutOverflowAsksForACallbackOnce) {
  auto q = queue("medical");
  q.max_wait = 60s;
  add_queue(q);
  arrive(1, "medical");
  auto a = tick(60s);
  ASSERT_EQ(all_of<max_wait_reached>(a).size(), 1u);
  EXPECT_EQ(all_of<max_wait_reached>(a)[0].call, 1u);
  a = tick(60s);
  EXPECT_TRUE(all_of<max_wait_reached>(a).empty());
  EXPECT_EQ(r.position(1)->position, 1u);  // still waiting
}

TEST_F(AcdOverflow, ClosedOverflowQueueKeepsTheCall) {
  auto g = queue("general");
  g.hours = service_hours::every_day(0h, 1h);  // closed at 10:00
  add_queue(g);
  arrive(1, "pension");
  auto a = tick(60s);
  EXPECT_TRUE(all_of<call_overflowed>(a).empty());
  EXPECT_EQ(all_of<max_wait_reached>(a).size(), 1u);
  EXPECT_EQ(r.queue_of(1), "pension");
}

TEST_F(AcdOverflow, MaxWaitWhileRingingWaitsForTheOfferToFail) {
  ready(agent("2001", "general"));
  ok(r.login(agent("1001", "pension"), now));
  arrive(1, "pension");
  now += 50s;
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 1), "1001");  // rings until +65 s
  auto a = tick(10s);  // +60 s: max wait, but it rings
  EXPECT_TRUE(all_of<call_overflowed>(a).empty());
  a = tick(5s);  // +65 s: missed, and now it overflows
  EXPECT_EQ(all_of<missed_offer>(a).size(), 1u);
  ASSERT_EQ(all_of<call_overflowed>(a).size(), 1u);
  EXPECT_EQ(offered_to(a, 1), "2001");
}

TEST_F(AcdOverflow, MaxWaitPassedWhileRingingOverflowsWhenTheAgentLogsOut) {
  ready(agent("2001", "general"));
  ok(r.login(agent("1001", "pension"), now));
  arrive(1, "pension");
  now += 55s;
  ok(r.on_agent_available("1001", now));
  tick(10s);  // max wait passes while 1001's phone rings
  auto a = ok(r.logout("1001", now));
  ASSERT_EQ(all_of<call_overflowed>(a).size(), 1u);
  EXPECT_EQ(offered_to(a, 1), "2001");
}

TEST_F(AcdOverflow, OverflowConfigErrors) {
  auto q = queue("medical");
  q.max_wait = 60s;
  q.overflow_to = "medical";
  EXPECT_EQ(fails(r.configure_queue(q, now)), acd_error::kind::invalid_config);
  q.overflow_to = "nowhere";
  EXPECT_EQ(fails(r.configure_queue(q, now)), acd_error::kind::invalid_config);
  q.overflow_to = "general";
  q.max_wait = 0s;
  EXPECT_EQ(fails(r.configure_queue(q, now)), acd_error::kind::invalid_config);
  // pension -> general exists; general -> pension would be a circle.
  auto g = queue("general");
  g.max_wait = 60s;
  g.overflow_to = "pension";
  EXPECT_EQ(fails(r.configure_queue(g, now)), acd_error::kind::invalid_config);
  EXPECT_FALSE(r.queue_figures("medical", now).has_value());
}

// --- N-02 bottom line ---

TEST_F(AcdQueue, BottomLineAlarmIsRaisedAndCleared) {
  auto q = queue("pension");
  q.min_agents = 2;
  auto a = add_queue(q);
  ASSERT_EQ(all_of<alarm_raised>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].kind, alarm_kind::below_minimum_agents);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].working_agents, 0);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].minimum, 2);

  a = ready(agent("1001", "pension"));
  EXPECT_TRUE(all_of<alarm_cleared>(a).empty());
  a = ready(agent("1002", "pension"));
  ASSERT_EQ(all_of<alarm_cleared>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_cleared>(a)[0].kind, alarm_kind::below_minimum_agents);

  a = ok(r.set_not_ready("1001", not_ready_reason::break_time, now));
  ASSERT_EQ(all_of<alarm_raised>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].working_agents, 1);
  a = ok(r.on_agent_available("1001", now));
  EXPECT_EQ(all_of<alarm_cleared>(a).size(), 1u);

  // Agents busy with calls still count: the bottom line is about people on duty.
  a = arrive(1, "pension");
  ok(r.call_answered(1, now));
  a = arrive(2, "pension");
  EXPECT_TRUE(all_of<alarm_raised>(a).empty());
}

TEST_F(AcdQueue, BottomLineAlarmOnlyInServiceHours) {
  now = local_time(2026, 11, 23, 7, 0);
  auto q = queue("pension");
  q.min_agents = 2;
  auto a = add_queue(q);
  EXPECT_TRUE(all_of<alarm_raised>(a).empty());
  now = local_time(2026, 11, 23, 8, 0);
  a = r.on_tick(now);
  ASSERT_EQ(all_of<alarm_raised>(a).size(), 1u);
  now = local_time(2026, 11, 23, 21, 0);
  a = r.on_tick(now);
  ASSERT_EQ(all_of<alarm_cleared>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_cleared>(a)[0].kind, alarm_kind::below_minimum_agents);
}

TEST_F(AcdQueue, UnregisteredPhoneDoesNotCountForTheBottomLine) {
  auto q = queue("pension");
  q.min_agents = 1;
  add_queue(q);
  auto p = agent("1001", "pension");
  p.phone_registered = false;
  auto a = ready(p);
  EXPECT_TRUE(all_of<alarm_cleared>(a).empty());
  a = ok(r.set_phone_registered("1001", true, now));
  EXPECT_EQ(all_of<alarm_cleared>(a).size(), 1u);
}

// N-02: "and when any call waits longer than the service-level threshold".
TEST_F(AcdQueue, WaitOverThresholdAlarm) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  arrive(1, "pension");
  auto a = tick(30s);
  EXPECT_TRUE(all_of<alarm_raised>(a).empty());
  a = tick(1ms);
  ASSERT_EQ(all_of<alarm_raised>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].kind, alarm_kind::wait_over_threshold);
  EXPECT_EQ(all_of<alarm_raised>(a)[0].longest_wait, 30001ms);
  a = ok(r.on_agent_available("1001", now));
  EXPECT_TRUE(all_of<alarm_cleared>(a).empty());  // ringing is still waiting for a person
  a = ok(r.call_answered(1, now));
  ASSERT_EQ(all_of<alarm_cleared>(a).size(), 1u);
  EXPECT_EQ(all_of<alarm_cleared>(a)[0].kind, alarm_kind::wait_over_threshold);
}

// --- leaving the queue: abandon (N-50), callback (N-18) ---

TEST_F(AcdQueue, AbandonedCallsAreCountedWithTheirWait) {
  add_queue(queue("pension"));
  arrive(1, "pension");
  now += 12s;
  auto a = ok(r.call_abandoned(1, now));
  ASSERT_EQ(all_of<call_left_queue>(a).size(), 1u);
  EXPECT_EQ(all_of<call_left_queue>(a)[0].why, leave_reason::abandoned);
  EXPECT_EQ(all_of<call_left_queue>(a)[0].waited, 12s);
  const auto f = r.queue_figures("pension", now).value();
  EXPECT_EQ(f.counters.abandoned, 1u);
  EXPECT_EQ(f.counters.abandoned_wait_total, 12s);
  EXPECT_EQ(f.counters.abandoned_wait_max, 12s);
  ASSERT_EQ(f.counters.recent_abandoned.size(), 1u);
  EXPECT_EQ(f.counters.recent_abandoned[0].call, 1u);
  EXPECT_EQ(f.counters.recent_abandoned[0].waited, 12s);
  EXPECT_EQ(f.waiting, 0u);
  EXPECT_FALSE(r.position(1).has_value());
}

TEST_F(AcdQueue, AbandonWhileRingingFreesTheAgentForTheNextCall) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  arrive(2, "pension");
  now += 3s;
  auto a = ok(r.call_abandoned(1, now));
  ASSERT_EQ(all_of<withdraw_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].why, withdraw_reason::abandoned);
  EXPECT_TRUE(all_of<missed_offer>(a).empty());
  EXPECT_EQ(offered_to(a, 2), "1001");
  EXPECT_EQ(r.agent("1001")->missed_today, 0u);
}

TEST_F(AcdQueue, CallbackRequestLeavesTheQueueWithAResult) {
  add_queue(queue("pension"));
  arrive(1, "pension");
  arrive(2, "pension");
  now += 90s;
  auto a = ok(r.callback_requested(1, now));
  ASSERT_EQ(all_of<call_left_queue>(a).size(), 1u);
  EXPECT_EQ(all_of<call_left_queue>(a)[0].why, leave_reason::callback_requested);
  EXPECT_EQ(all_of<call_left_queue>(a)[0].waited, 90s);
  EXPECT_EQ(r.position(2)->position, 1u);
  const auto f = r.queue_figures("pension", now).value();
  EXPECT_EQ(f.counters.callbacks_requested, 1u);
  EXPECT_EQ(f.counters.abandoned, 0u);
}

// --- N-18 position and expected wait ---

TEST_F(AcdQueue, PositionAndExpectedWait) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");
  arrive(2, "pension");
  EXPECT_EQ(r.position(1)->position, 0u);  // ringing
  ok(r.call_answered(1, now));
  ok(r.call_answered(2, now));
  EXPECT_FALSE(r.position(1).has_value());  // connected
  arrive(3, "pension");
  arrive(4, "pension");
  auto a = arrive(5, "pension");
  ASSERT_EQ(all_of<call_queued>(a).size(), 1u);
  EXPECT_EQ(all_of<call_queued>(a)[0].where.position, 3u);
  // No handled call yet: 180 s per call, 2 agents working -> 90 s per position.
  EXPECT_EQ(all_of<call_queued>(a)[0].where.expected_wait, 270s);
  EXPECT_EQ(r.position(3)->expected_wait, 90s);
  ok(r.call_abandoned(3, now));
  EXPECT_EQ(r.position(5)->position, 2u);
  // A handled call: 100 s talk + 30 s wrap-up = 130 s -> 65 s per position.
  now += 100s;
  ok(r.call_ended(1, now));
  EXPECT_EQ(r.position(4)->expected_wait, 65s);
}

TEST_F(AcdQueue, ExpectedWaitIsUnknownWithNobodyWorking) {
  add_queue(queue("pension"));
  arrive(1, "pension");
  EXPECT_EQ(r.position(1)->position, 1u);
  EXPECT_EQ(r.position(1)->expected_wait, std::nullopt);
  EXPECT_EQ(offered_to(ready(agent("1001", "pension")), 1), "1001");
  ok(r.call_answered(1, now));
  arrive(2, "pension");
  EXPECT_EQ(r.position(2)->expected_wait, 180s);  // one agent working: one handle time per position
}

// --- N-50 live figures ---

TEST_F(AcdQueue, LiveFiguresPerQueueAndSite) {
  auto p = queue("pension");
  p.ring_timeout = 60s;
  add_queue(p);
  add_queue(queue("medical"));
  agent_profile both;
  both.id = "1001";
  both.skills = {{"pension", 3, post::a}, {"medical", 3, post::a}};
  both.queues = {{"pension", 1}, {"medical", 1}};
  both.phone_registered = true;
  ready(both);
  ready(agent("1002", "pension"));
  ok(r.login(agent("1003", "medical"), now));
  ok(r.set_not_ready("1003", not_ready_reason::break_time, now));

  arrive(1, "pension");  // -> 1001
  now += 10s;
  ok(r.call_answered(1, now));  // waited 10 s
  arrive(2, "pension");  // -> 1002
  now += 35s;
  ok(r.call_answered(2, now));  // waited 35 s: over the threshold
  arrive(3, "pension");
  now += 20s;
  ok(r.call_abandoned(3, now));  // waited 20 s
  arrive(4, "pension");
  now += 30s;

  const auto f = r.queue_figures("pension", now).value();
  EXPECT_TRUE(f.open);
  EXPECT_EQ(f.waiting, 1u);
  EXPECT_EQ(f.longest_wait, 30s);
  EXPECT_EQ(f.agents_in(agent_state::talking), 2u);
  EXPECT_EQ(f.agents_in(agent_state::ready), 0u);
  EXPECT_EQ(f.working_agents, 2u);
  EXPECT_EQ(f.counters.entered, 4u);
  EXPECT_EQ(f.counters.answered, 2u);
  EXPECT_EQ(f.counters.answered_within_threshold, 1u);
  EXPECT_DOUBLE_EQ(f.rates.service_level.value(), 0.5);
  EXPECT_DOUBLE_EQ(f.rates.answer_rate.value(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(f.rates.abandon_rate.value(), 1.0 / 3);
  EXPECT_EQ(f.rates.average_answer_wait, std::optional<milliseconds>{22500ms});

  const auto m = r.queue_figures("medical", now).value();
  EXPECT_EQ(m.agents_in(agent_state::talking), 1u);
  EXPECT_EQ(m.agents_in(agent_state::not_ready), 1u);
  EXPECT_FALSE(m.rates.service_level.has_value());

  const auto site = r.site_figures(now);
  EXPECT_EQ(site.agents_in(agent_state::talking), 2u);  // 1001 once, though in two queues
  EXPECT_EQ(site.agents_in(agent_state::not_ready), 1u);
  EXPECT_EQ(site.working_agents, 2u);
  EXPECT_EQ(site.waiting, 1u);
  EXPECT_EQ(site.longest_wait, 30s);
  EXPECT_EQ(site.counters.entered, 4u);
  EXPECT_EQ(site.counters.recent_abandoned.size(), 1u);
  EXPECT_FALSE(r.queue_figures("nowhere", now).has_value());
}

TEST_F(AcdQueue, FiguresRestartAtLocalMidnight) {
  auto q = queue("pension");
  q.hours = service_hours::always();
  add_queue(q);
  arrive(1, "pension");
  ok(r.call_abandoned(1, now));
  EXPECT_EQ(r.next_deadline(), local_time(2026, 11, 24, 0, 0));
  now = local_time(2026, 11, 24, 0, 0);
  r.on_tick(now);
  EXPECT_EQ(r.queue_figures("pension", now)->counters.abandoned, 0u);
}

// --- errors ---

TEST_F(AcdQueue, CallErrorsLeaveTheStateUnchanged) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  EXPECT_EQ(fails(r.on_call_arrived({1, "nowhere"}, now)), acd_error::kind::unknown_queue);
  arrive(1, "pension");  // ringing 1001
  arrive(2, "pension");  // waiting
  EXPECT_EQ(fails(r.on_call_arrived({2, "pension"}, now)), acd_error::kind::duplicate);
  EXPECT_EQ(fails(r.call_answered(2, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.offer_failed(2, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.call_ended(2, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.call_ended(1, now)), acd_error::kind::bad_state);  // ringing, not answered
  ok(r.call_answered(1, now));
  EXPECT_EQ(fails(r.call_answered(1, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.call_abandoned(1, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.callback_requested(1, now)), acd_error::kind::bad_state);
  for (call_id unknown : {call_id{99}}) {
    EXPECT_EQ(fails(r.call_answered(unknown, now)), acd_error::kind::unknown_call);
    EXPECT_EQ(fails(r.offer_failed(unknown, now)), acd_error::kind::unknown_call);
    EXPECT_EQ(fails(r.call_ended(unknown, now)), acd_error::kind::unknown_call);
    EXPECT_EQ(fails(r.call_abandoned(unknown, now)), acd_error::kind::unknown_call);
    EXPECT_EQ(fails(r.callback_requested(unknown, now)), acd_error::kind::unknown_call);
  }
  const auto f = r.queue_figures("pension", now).value();
  EXPECT_EQ(f.counters.entered, 2u);
  EXPECT_EQ(f.counters.answered, 1u);
  EXPECT_EQ(f.waiting, 1u);
  EXPECT_EQ(r.position(2)->position, 1u);
  EXPECT_EQ(state_of("1001"), agent_state::talking);
}

TEST_F(AcdQueue, MalformedQueueConfigsAreRejected) {
  auto bad = [&](auto change) {
    auto q = queue("pension");
    change(q);
    return fails(r.configure_queue(q, now));
  };
  EXPECT_EQ(bad([](queue_config& q) { q.id.clear(); }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.skill.clear(); }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.ring_timeout = 0s; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.wrap_up = -1s; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.min_agents = -1; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.max_wait = -1s; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.service_level_threshold = 0s; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.initial_handle_time = 0s; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.hours.by_weekday[2] = {{21h, 8h}}; }), acd_error::kind::invalid_config);
  EXPECT_EQ(bad([](queue_config& q) { q.hours.by_weekday[6] = {{20h, 25h}}; }), acd_error::kind::invalid_config);
  EXPECT_FALSE(r.queue_figures("pension", now).has_value());
}

TEST_F(AcdQueue, SkillCannotChangeUnderLoggedInAgents) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  auto q = queue("pension");
  q.skill = "medical";
  EXPECT_EQ(fails(r.configure_queue(q, now)), acd_error::kind::invalid_config);
  ok(r.logout("1001", now));
  ok(r.configure_queue(q, now));
}

}  // namespace
}  // namespace hotline::acd::test
