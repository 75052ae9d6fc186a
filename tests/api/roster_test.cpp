// The roster and queues files of `calls`: what a site writes, and the errors it gets.
#include <gtest/gtest.h>

#include "api/calls/roster.hpp"

namespace hotline::api {
namespace {

TEST(Roster, AgentsWithSkillsPostsQueuesAndLanguages) {
  auto r = parse_roster(R"([{"id":"1023","name":"王芳","phone":"8001",
    "skills":[{"skill":"pension","level":4,"post":"A"},{"skill":"medical","level":2,"post":"B"}],
    "languages":["mandarin","cantonese"]}])");
  ASSERT_TRUE(std::holds_alternative<std::vector<calls::agent_record>>(r)) << std::get<std::string>(r);
  const auto& a = std::get<0>(r).at(0);
  EXPECT_EQ(a.profile.id, "1023");
  EXPECT_EQ(a.phone, "8001");
  ASSERT_EQ(a.profile.skills.size(), 2u);
  EXPECT_EQ(a.profile.skills[1].role, acd::post::b);
  ASSERT_EQ(a.profile.queues.size(), 2u);  // the skills' queues, in order
  EXPECT_EQ(a.profile.queues[1].queue, "medical");
  EXPECT_EQ(a.profile.queues[1].priority, 2);
  EXPECT_EQ(a.profile.languages.size(), 2u);
}

TEST(Roster, ErrorsNameTheAgentAndTheField) {
  auto err = [](std::string_view json) {
    auto r = parse_roster(json);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("(parsed)");
  };
  EXPECT_EQ(err("{"), "agents: not valid JSON: incomplete JSON");
  EXPECT_EQ(err(R"([{"phone":"8001","skills":[{"skill":"x"}]}])"), "agents[0]: \"id\" is missing");
  EXPECT_EQ(err(R"([{"id":"7","phone":"8001","skills":[{"skill":"x","level":9}]}])"),
            "agents[0] (7): skill level must be 1-5");
  EXPECT_EQ(err(R"([{"id":"7","phone":"8001","skills":[{"skill":"x","post":"C"}]}])"),
            "agents[0] (7): post must be \"A\" or \"B\"");
  EXPECT_EQ(err(R"([{"id":"7","phone":"1","skills":[{"skill":"x"}]},{"id":"7","phone":"2","skills":[{"skill":"x"}]}])"),
            "agents[1] (7): the id is used twice");
}

TEST(Queues, HoursStrategyOverflowAndTimers) {
  auto r = parse_queues(R"([{"id":"general"},
    {"id":"pension","strategy":"skill_level","hours":{"mon-fri":"08:00-21:00","sat-sun":["09:00-12:00","13:00-17:00"]},
     "max_wait_s":300,"overflow_to":"general","min_agents":3,"ring_timeout_s":20,"wrap_up_s":0}])");
  ASSERT_TRUE(std::holds_alternative<std::vector<acd::queue_config>>(r)) << std::get<std::string>(r);
  const auto& q = std::get<0>(r).at(1);
  EXPECT_EQ(q.skill, "pension");
  EXPECT_EQ(q.strategy, acd::strategy::skill_level);
  EXPECT_EQ(q.hours.by_weekday[0].size(), 1u);
  EXPECT_EQ(q.hours.by_weekday[6].size(), 2u);
  EXPECT_EQ(q.hours.by_weekday[6][1].begin, std::chrono::minutes(13 * 60));
  EXPECT_EQ(q.max_wait, std::chrono::seconds(300));
  EXPECT_EQ(q.overflow_to, "general");
  EXPECT_EQ(q.min_agents, 3);
  EXPECT_EQ(q.ring_timeout, std::chrono::seconds(20));
  EXPECT_EQ(q.wrap_up, std::chrono::seconds(0));
}

TEST(Queues, ErrorsNameTheQueueAndTheField) {
  auto err = [](std::string_view json) {
    auto r = parse_queues(json);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("(parsed)");
  };
  EXPECT_EQ(err(R"([{"id":"p","strategy":"random"}])"),
            "queues[0] (p): \"strategy\" must be longest_idle, fewest_calls_today, least_talk_time or skill_level");
  EXPECT_EQ(err(R"([{"id":"p","hours":{"mon-fri":"21:00-08:00"}}])"),
            "queues[0] (p): \"21:00-08:00\" is not a window HH:MM-HH:MM");
  EXPECT_EQ(err(R"([{"id":"p","hours":{"someday":"08:00-09:00"}}])"),
            "queues[0] (p): hours key \"someday\" must be a day (mon..sun) or a range (mon-fri)");
  EXPECT_EQ(err(R"([{"id":"p","ring_timeout_s":1}])"), "queues[0] (p): \"ring_timeout_s\" must be a whole number from 5 to 120");
  EXPECT_EQ(err(R"([{"id":"p"},{"id":"p"}])"), "queues[1] (p): the id is used twice");
}

}  // namespace
}  // namespace hotline::api
