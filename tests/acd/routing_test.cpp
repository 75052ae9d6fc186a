// Who gets the call: the four strategies, A/B posts (N-12), language seats (N-13), caller
// priority (N-14 dangerous-call callbacks, VIPs), an agent's queue priorities, and the
// registrar's word on the phone. Every test names the exact agent chosen.
#include "tests/acd/acd_fixture.hpp"

namespace hotline::acd::test {
namespace {

class AcdRouting : public AcdTest {};

TEST_F(AcdRouting, LongestIdleOffersTheAgentReadyLongest) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  ready(agent("1003", "pension"));
  const time_point arrived = now;
  auto a = arrive(1, "pension");
  EXPECT_EQ(offered_to(a, 1), "1001");
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
  EXPECT_EQ(offered_to(arrive(3, "pension"), 3), "1003");
  // The offer rings for the queue's ring timeout (N-03: 15 s).
  ASSERT_EQ(all_of<offer_call>(a).size(), 1u);
  EXPECT_EQ(all_of<offer_call>(a)[0].ring_deadline, arrived + 15s);
}

TEST_F(AcdRouting, LongestIdleCountsFromTheEndOfTheLastCall) {
  auto q = queue("pension");
  q.wrap_up = 0s;
  add_queue(q);
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  ok(r.call_answered(1, now));
  now += 60s;
  ok(r.call_ended(1, now));  // 1001 ready again now; 1002 has been idle since login
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
}

TEST_F(AcdRouting, OfferWithdrawnWithoutTheAgentsFaultKeepsItsIdleTime) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");  // 1001 rings
  now += 5s;
  ok(r.call_abandoned(1, now));  // the caller hung up: 1001 is still the longest idle
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1001");
}

TEST_F(AcdRouting, FewestCallsTodayBeatsLongestIdle) {
  auto q = queue("pension", strategy::fewest_calls_today);
  q.wrap_up = 0s;
  add_queue(q);
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  ok(r.call_answered(1, now));
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
  ok(r.call_answered(2, now));
  now += 10s;
  ok(r.call_ended(1, now));
  EXPECT_EQ(offered_to(arrive(3, "pension"), 3), "1001");
  ok(r.call_answered(3, now));
  now += 10s;
  ok(r.call_ended(3, now));  // 1001: 2 calls, idle since +20 s
  now += 80s;
  ok(r.call_ended(2, now));  // 1002: 1 call, idle since +100 s
  // Longest idle would pick 1001; fewest calls picks 1002.
  EXPECT_EQ(offered_to(arrive(4, "pension"), 4), "1002");
  EXPECT_EQ(r.agent("1001")->calls_today, 2u);
  EXPECT_EQ(r.agent("1002")->calls_today, 1u);
}

TEST_F(AcdRouting, LeastTalkTimeBeatsLongestIdle) {
  auto q = queue("pension", strategy::least_talk_time);
  q.wrap_up = 0s;
  add_queue(q);
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  ok(r.call_answered(1, now));
  now += 250s;
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
  ok(r.call_answered(2, now));
  now += 50s;
  ok(r.call_ended(1, now));  // 1001 talked 300 s, idle first
  now += 10s;
  ok(r.call_ended(2, now));  // 1002 talked 60 s
  EXPECT_EQ(r.agent("1001")->talk_today, 300s);
  EXPECT_EQ(r.agent("1002")->talk_today, 60s);
  EXPECT_EQ(offered_to(arrive(3, "pension"), 3), "1002");
}

TEST_F(AcdRouting, SkillLevelOffersTheHighestLevelFirst) {
  add_queue(queue("injury", strategy::skill_level));
  ready(agent("1001", "injury", 2));
  ready(agent("1002", "injury", 5));
  ready(agent("1003", "injury", 3));
  ready(agent("1004", "injury", 5));
  EXPECT_EQ(offered_to(arrive(1, "injury"), 1), "1002");  // level 5, idle longer than 1004
  EXPECT_EQ(offered_to(arrive(2, "injury"), 2), "1004");
  EXPECT_EQ(offered_to(arrive(3, "injury"), 3), "1003");
  EXPECT_EQ(offered_to(arrive(4, "injury"), 4), "1001");
}

// N-12: B agents get calls only when no A agent is available.
TEST_F(AcdRouting, BPostTakesCallsOnlyWhenNoAPostIsAvailable) {
  add_queue(queue("pension"));
  ready(agent("2001", "pension", 3, post::b));  // idle longest, but a backup
  ready(agent("1001", "pension", 3, post::a));
  ready(agent("1002", "pension", 3, post::a));
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "1001");
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
  EXPECT_EQ(offered_to(arrive(3, "pension"), 3), "2001");
  auto queued = arrive(4, "pension");
  EXPECT_EQ(offered_to(queued, 4), "");
  ASSERT_EQ(all_of<call_queued>(queued).size(), 1u);
}

TEST_F(AcdRouting, BPostOutranksAPostOnLevelOnlyWithinItsPost) {
  add_queue(queue("injury", strategy::skill_level));
  ready(agent("2001", "injury", 5, post::b));
  ready(agent("1001", "injury", 1, post::a));
  EXPECT_EQ(offered_to(arrive(1, "injury"), 1), "1001");  // N-12 first, level second
  EXPECT_EQ(offered_to(arrive(2, "injury"), 2), "2001");
}

// N-12: a freed agent takes a waiting call; a waiting call means nobody, A or B, was free.
TEST_F(AcdRouting, FreedBPostTakesTheWaitingCall) {
  add_queue(queue("pension"));
  ok(r.login(agent("2001", "pension", 3, post::b), now));
  ok(r.login(agent("1001", "pension", 3, post::a), now));
  arrive(1, "pension");
  now += 5s;
  auto a = ok(r.on_agent_available("2001", now));
  EXPECT_EQ(offered_to(a, 1), "2001");
  EXPECT_EQ(states_of(a, "2001"), (std::vector{agent_state::ready, agent_state::ringing}));
}

// N-13: a call that names a language goes to an agent who speaks it.
TEST_F(AcdRouting, LanguageCallGoesToAnAgentWhoSpeaksIt) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension", 3, post::a, {"zh"}));
  ready(agent("1002", "pension", 3, post::a, {"zh", "ug"}));
  EXPECT_EQ(offered_to(arrive(1, "pension", priority::normal, "ug"), 1), "1002");
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1001");
}

TEST_F(AcdRouting, LanguageCallWaitsForASpeakerEvenWithAgentsFree) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension", 3, post::a, {"zh"}));
  auto a = arrive(1, "pension", priority::normal, "ug");
  EXPECT_EQ(offered_to(a, 1), "");
  EXPECT_EQ(state_of("1001"), agent_state::ready);
  // A B-post Uyghur speaker is the only one who can take it (N-12 with N-13).
  now += 3s;
  auto b = ready(agent("2001", "pension", 3, post::b, {"ug"}));
  EXPECT_EQ(offered_to(b, 1), "2001");
}

TEST_F(AcdRouting, FreedAgentSkipsCallsInLanguagesItDoesNotSpeak) {
  auto q = queue("pension");
  q.wrap_up = 0s;
  add_queue(q);
  ready(agent("1001", "pension", 3, post::a, {"zh"}));
  ready(agent("1002", "pension", 3, post::a, {"zh", "ug"}));
  arrive(1, "pension");
  arrive(2, "pension");
  ok(r.call_answered(1, now));
  ok(r.call_answered(2, now));
  now += 1s;
  arrive(3, "pension", priority::normal, "ug");  // older, but only 1002 can take it
  now += 1s;
  arrive(4, "pension");
  now += 30s;
  EXPECT_EQ(offered_to(ok(r.call_ended(1, now)), 4), "1001");
  EXPECT_EQ(offered_to(ok(r.call_ended(2, now)), 3), "1002");
}

// N-14: a dangerous-call callback goes first, then VIPs, then arrival order.
TEST_F(AcdRouting, HigherPriorityCallsAreServedFirst) {
  add_queue(queue("pension"));
  ok(r.login(agent("1001", "pension"), now));
  arrive(1, "pension");
  now += 1s;
  arrive(2, "pension", priority::vip);
  now += 1s;
  arrive(3, "pension", priority::dangerous_callback);
  now += 1s;
  arrive(4, "pension");
  EXPECT_EQ(r.position(3)->position, 1u);
  EXPECT_EQ(r.position(2)->position, 2u);
  EXPECT_EQ(r.position(1)->position, 3u);
  EXPECT_EQ(r.position(4)->position, 4u);
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 3), "1001");
}

TEST_F(AcdRouting, FreedAgentServesItsHighestPriorityQueueFirst) {
  add_queue(queue("pension"));
  add_queue(queue("medical"));
  agent_profile p;
  p.id = "1001";
  p.skills = {{"pension", 3, post::a}, {"medical", 3, post::a}};
  p.queues = {{"pension", 2}, {"medical", 1}};
  p.phone_registered = true;
  ok(r.login(p, now));
  arrive(1, "pension");  // older, but in the agent's second queue
  now += 10s;
  arrive(2, "medical");
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 2), "1001");
}

TEST_F(AcdRouting, EqualQueuePrioritiesServeTheOldestCall) {
  add_queue(queue("pension"));
  add_queue(queue("medical"));
  agent_profile p;
  p.id = "1001";
  p.skills = {{"pension", 3, post::a}, {"medical", 3, post::a}};
  p.queues = {{"pension", 1}, {"medical", 1}};
  p.phone_registered = true;
  ok(r.login(p, now));
  arrive(1, "medical");
  now += 10s;
  arrive(2, "pension");
  EXPECT_EQ(offered_to(ok(r.on_agent_available("1001", now)), 1), "1001");
}

TEST_F(AcdRouting, UnregisteredPhoneIsNotOfferedCalls) {
  add_queue(queue("pension"));
  auto p = agent("1001", "pension");
  p.phone_registered = false;
  ready(p);
  EXPECT_EQ(offered_to(arrive(1, "pension"), 1), "");
  now += 2s;
  EXPECT_EQ(offered_to(ok(r.set_phone_registered("1001", true, now)), 1), "1001");
}

TEST_F(AcdRouting, PhoneUnregisteredWhileRingingReoffersWithoutAMiss) {
  add_queue(queue("pension"));
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");
  auto a = ok(r.set_phone_registered("1001", false, now));
  ASSERT_EQ(all_of<withdraw_offer>(a).size(), 1u);
  EXPECT_EQ(all_of<withdraw_offer>(a)[0].why, withdraw_reason::phone_unregistered);
  EXPECT_EQ(offered_to(a, 1), "1002");
  EXPECT_TRUE(all_of<missed_offer>(a).empty());
  EXPECT_EQ(r.agent("1001")->missed_today, 0u);
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "");  // 1001 is ready but unregistered
}

TEST_F(AcdRouting, StrategyChangeReranksAvailableAgents) {
  add_queue(queue("injury"));
  ready(agent("1001", "injury", 1));
  ready(agent("1002", "injury", 4));
  add_queue(queue("injury", strategy::skill_level));
  EXPECT_EQ(offered_to(arrive(1, "injury"), 1), "1002");
}

TEST_F(AcdRouting, NewDayResetsTheCountsTheStrategiesRankBy) {
  auto q = queue("pension", strategy::fewest_calls_today);
  q.wrap_up = 0s;
  q.hours = service_hours::always();
  add_queue(q);
  ready(agent("1001", "pension"));
  ready(agent("1002", "pension"));
  arrive(1, "pension");  // 1001
  ok(r.call_answered(1, now));
  now += 60s;
  ok(r.call_ended(1, now));
  EXPECT_EQ(r.agent("1001")->calls_today, 1u);
  now = local_time(2026, 11, 24, 0, 0, 1);  // next local day
  r.on_tick(now);
  EXPECT_EQ(r.agent("1001")->calls_today, 0u);
  EXPECT_EQ(r.agent("1001")->talk_today, 0s);
  // Both at 0 calls: longest idle decides, which is 1002 (idle since login).
  EXPECT_EQ(offered_to(arrive(2, "pension"), 2), "1002");
}

}  // namespace
}  // namespace hotline::acd::test
