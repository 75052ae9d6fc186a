// Agent states with reasons and timestamps (N-04), the ring timeout with re-offer and the
// missed-offer count (N-03), wrap-up by timer and ended early, logout while ringing, and
// every error an agent operation can return (state left unchanged).
#include "tests/acd/acd_fixture.hpp"

namespace hotline::acd::test {
namespace {

class AcdAgent : public AcdTest {};

// N-04: logged out -> logged in -> ready / not ready -> ringing -> talking -> wrap-up -> ready.
TEST_F(AcdAgent, StatesFollowN04WithTimestamps) {
  add_queue(queue("pension"));
  const time_point t_login = now;
  auto a = ok(r.login(agent("1001", "pension"), now));
  ASSERT_EQ(all_of<agent_state_changed>(a).size(), 1u);
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].from, agent_state::logged_out);
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].to, agent_state::logged_in);
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].at, t_login);
  EXPECT_EQ(r.agent("1001")->state_since, t_login);

  now += 60s;
  a = ok(r.set_not_ready("1001", not_ready_reason::training, now));
  ASSERT_EQ(all_of<agent_state_changed>(a).size(), 1u);
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].reason, not_ready_reason::training);
  EXPECT_EQ(r.agent("1001")->reason, not_ready_reason::training);
  EXPECT_EQ(r.agent("1001")->state_since, now);

  now += 60s;
  ok(r.on_agent_available("1001", now));
  a = arrive(1, "pension");
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::ringing});
  now += 4s;
  a = ok(r.call_answered(1, now));
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::talking});
  ASSERT_EQ(all_of<call_connected>(a).size(), 1u);
  EXPECT_EQ(all_of<call_connected>(a)[0].waited, 4s);
  now += 120s;
  a = ok(r.call_ended(1, now));
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::wrap_up});
  EXPECT_EQ(r.agent("1001")->call, std::optional<call_id>{1});  // the call being wrapped up
  a = tick(30s);  // N-04 default wrap-up
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::ready});
  EXPECT_EQ(r.agent("1001")->call, std::nullopt);
  now += 10s;
  a = ok(r.logout("1001", now));
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::logged_out});
}

TEST_F(AcdAgent, NotReadyReasonCanChangeWhileNotReady) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  ok(r.set_not_ready("1001", not_ready_reason::break_time, now));
  now += 5s;
  auto a = ok(r.set_not_ready("1001", not_ready_reason::meeting, now));
  ASSERT_EQ(all_of<agent_state_changed>(a).size(), 1u);
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].from, agent_state::not_ready);
  EXPECT_EQ(r.agent("1001")->reason, not_ready_reason::meeting);
}

// N-03: not answered within 15 s -> withdrawn, re-offered to the next agent, the miss
// recorded against the first; the norms' reason list has no "missed call", so the agent
// goes not ready with `other` and the note "missed offer".
TEST_F(AcdAgent, RingTimeoutReoffersToTheNextAgentAndCountsTheMiss) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  const time_point offered_at = now;
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  EXPECT_EQ(r.next_deadline(), offered_at + 15s);
  auto a = tick(14999ms);
  EXPECT_TRUE(all_of<withdraw_offer>(a).empty());
  a = tick(1ms);
  ASSERT_EQ(all_of<withdraw_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].agent, "1001");
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].why, withdraw_reason::ring_timeout);
  ASSERT_EQ(all_of<missed_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<missed_offer>(a)[0].agent, "1001");
  EXPECT_EQ(all_of<missed_offer>(a)[0].missed_today, 1u);
  EXPECT_EQ(offered_to(a, 1), "1002");
  const auto v = r.agent("1001").value();
  EXPECT_EQ(v.state, agent_state::not_ready);
  EXPECT_EQ(v.reason, not_ready_reason::other);
  EXPECT_EQ(v.note, "missed offer");
  EXPECT_EQ(v.missed_today, 1u);
  EXPECT_EQ(r.queue_figures("pension", now)->counters.offers_missed, 1u);
}

TEST_F(AcdAgent, MissesAccumulatePerAgent) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  tick(15s);  // missed, not ready; the call waits
  EXPECT_EQ(r.position(1)->position, 1u);
  now += 1s;
  // Back to ready: the lone agent gets the call again (nobody else could take it).
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 1), "1001");
  auto a = tick(15s);
  ASSERT_EQ(all_of<missed_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<missed_offer>(a)[0].missed_today, 2u);
}

TEST_F(AcdAgent, OfferFailedIsAMissLikeATimeout) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");
  now += 2s;
  auto a = ok(r.offer_failed(1, now));
  ASSERT_EQ(all_of<withdraw_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].why, withdraw_reason::offer_failed);
  EXPECT_EQ(r.agent("1001")->missed_today, 1u);
  EXPECT_EQ(offered_to(a, 1), "1002");
  // The withdrawn offer's timer is gone: nothing happens for 1001 at the old deadline.
  a = tick(13s);
  EXPECT_TRUE(all_of<missed_offer>(a).empty());
}

class AcdAgentStaysReady : public AcdTest {
 protected:
  AcdAgentStaysReady() : AcdTest(router_config{minutes{8 * 60}, false}) {}
};

TEST_F(AcdAgentStaysReady, MissedOfferGoesToAnotherAgentFirst) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");
  auto a = tick(15s);
  EXPECT_EQ(offered_to(a, 1), "1002");
  EXPECT_EQ(state_of("1001"), agent_state::ready);
  EXPECT_EQ(r.agent("1001")->missed_today, 1u);
  // 1001 is available again for the next call.
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1001");
}

TEST_F(AcdAgentStaysReady, LoneAgentIsOfferedTheCallAgain) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  auto a = tick(15s);
  EXPECT_EQ(offered_to(a, 1), "1001");
}

TEST_F(AcdAgent, WrapUpEndsByTimerAndTakesTheWaitingCall) {
  auto q = queue("pension");
  q.wrap_up = 45s;
  add_queue(q);
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  ok(r.call_answered(1, now));
  now += 100s;
  ok(r.call_ended(1, now));
  arrive(2, "pension");  // waits: the only agent is wrapping up
  auto a = tick(44s);
  EXPECT_TRUE(states_of(a, "1001").empty());
  a = tick(1s);
  EXPECT_EQ(states_of(a, "1001"), (std::vector{agent_state::ready, agent_state::ringing}));
  EXPECT_EQ(offered_to(a, 2), "1001");
}

TEST_F(AcdAgent, WrapUpEndedEarlyCancelsTheTimer) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  ok(r.call_answered(1, now));
  now += 60s;
  ok(r.call_ended(1, now));
  now += 5s;
  auto a = ok(r.end_wrap_up("1001", now));
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::ready});
  EXPECT_EQ(r.agent("1001")->idle_since, now);
  a = tick(30s);
  EXPECT_TRUE(all_of<agent_state_changed>(a).empty());
}

TEST_F(AcdAgent, NotReadyDuringWrapUpCancelsTheTimer) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  ok(r.call_answered(1, now));
  ok(r.call_ended(1, now));
  ok(r.set_not_ready("1001", not_ready_reason::after_call, now));
  auto a = tick(60s);
  EXPECT_TRUE(all_of<agent_state_changed>(a).empty());
  EXPECT_EQ(state_of("1001"), agent_state::not_ready);
}

TEST_F(AcdAgent, ZeroWrapUpGoesStraightToReady) {
  auto q = queue("pension");
  q.wrap_up = 0s;
  add_queue(q);
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  ok(r.call_answered(1, now));
  now += 10s;
  auto a = ok(r.call_ended(1, now));
  EXPECT_EQ(states_of(a, "1001"), std::vector{agent_state::ready});
}

TEST_F(AcdAgent, LogoutWhileRingingReoffersWithoutAMiss) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");
  auto a = ok(r.logout("1001", now));
  ASSERT_EQ(all_of<withdraw_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].why, withdraw_reason::agent_logged_out);
  EXPECT_EQ(offered_to(a, 1), "1002");
  EXPECT_EQ(r.agent("1001")->missed_today, 0u);
  EXPECT_EQ(state_of("1001"), agent_state::logged_out);
}

TEST_F(AcdAgent, ReloginKeepsTodaysFiguresAndTakesTheNewProfile) {
  add_queue(queue("pension"));
  add_queue(queue("medical"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");
  tick(15s);
  ok(r.logout("1001", now));
  ready(agent("1001", "medical"));
  EXPECT_EQ(r.agent("1001")->missed_today, 1u);
  EXPECT_EQ(offered_to(arrive(2, "medical"), 2), "1001");
}

// Bad input: an error value with a message, and nothing changed.
TEST_F(AcdAgent, ErrorsLeaveTheStateUnchanged) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  arrive(1, "pension");  // 1001 ringing
  const auto before = r.agent("1001").value();
  const auto figures_before = r.queue_figures("pension", now).value();

  EXPECT_EQ(fails(r.login(agent("1001", "pension"), now)), acd_error::kind::duplicate);
  EXPECT_EQ(fails(r.on_agent_available("1001", now)), acd_error::kind::bad_state);  // ringing
  EXPECT_EQ(fails(r.set_not_ready("1001", not_ready_reason::break_time, now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.end_wrap_up("1001", now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.set_not_ready("1001", not_ready_reason::none, now)), acd_error::kind::invalid_argument);
  ok(r.call_answered(1, now));
  EXPECT_EQ(fails(r.logout("1001", now)), acd_error::kind::bad_state);  // talking
  EXPECT_EQ(fails(r.on_agent_available("1001", now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.set_not_ready("1001", not_ready_reason::after_call, now)), acd_error::kind::bad_state);

  const auto after = r.agent("1001").value();
  EXPECT_EQ(after.state, agent_state::talking);
  EXPECT_EQ(after.missed_today, before.missed_today);
  EXPECT_EQ(r.queue_figures("pension", now)->agents_by_state[static_cast<std::size_t>(agent_state::talking)], 1u);
  EXPECT_EQ(figures_before.agents_in(agent_state::ringing), 1u);
}

TEST_F(AcdAgent, UnknownAgentsAreReported) {
  add_queue(queue("pension"));
  EXPECT_EQ(fails(r.logout("9999", now)), acd_error::kind::unknown_agent);
  EXPECT_EQ(fails(r.on_agent_available("9999", now)), acd_error::kind::unknown_agent);
  EXPECT_EQ(fails(r.end_wrap_up("9999", now)), acd_error::kind::unknown_agent);
  EXPECT_EQ(fails(r.set_not_ready("9999", not_ready_reason::break_time, now)), acd_error::kind::unknown_agent);
  EXPECT_EQ(fails(r.set_phone_registered("9999", true, now)), acd_error::kind::unknown_agent);
  EXPECT_FALSE(r.agent("9999").has_value());
}

TEST_F(AcdAgent, LoggedOutAgentCannotChangeState) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  ok(r.logout("1001", now));
  EXPECT_EQ(fails(r.logout("1001", now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.on_agent_available("1001", now)), acd_error::kind::bad_state);
  EXPECT_EQ(fails(r.set_not_ready("1001", not_ready_reason::break_time, now)), acd_error::kind::bad_state);
}

TEST_F(AcdAgent, MalformedProfilesAreRejected) {
  add_queue(queue("pension"));
  auto p = agent("1001", "pension");
  p.skills[0].level = 6;
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.skills[0].level = 0;
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("", "pension");
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.queues.push_back({"pension", 2});
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.queues[0].priority = 0;
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension", 3, post::a, {"zh", "zh"});
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.skills.push_back({"pension", 2, post::b});  // the same skill twice
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.skills.push_back({"", 2, post::b});
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.queues.push_back({"", 2});
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension", 3, post::a, {""});
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "pension");
  p.skills[0].name = "medical";  // no skill for the queue's skill
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::invalid_config);
  p = agent("1001", "nowhere");
  EXPECT_EQ(fails(r.login(p, now)), acd_error::kind::unknown_queue);
  // None of these logged anyone in.
  EXPECT_FALSE(r.agent("1001").has_value());
  EXPECT_EQ(r.site_figures(now).agents_in(agent_state::logged_in), 0u);
}

TEST_F(AcdAgent, TimeNeverRunsBackwards) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  const time_point later = now;
  auto a = ok(r.set_not_ready("1001", not_ready_reason::break_time, now - 1h));
  EXPECT_EQ(all_of<agent_state_changed>(a)[0].at, later);
}

}  // namespace
}  // namespace hotline::acd::test
