// The floor's live picture from the center's events (N-50, N-32, N-02, N-14).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "actors/console/floor_model.hpp"

namespace hotline::console {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(floor_model, a_call_moves_through_states_and_its_agent_follows) {
  floor_model m;
  m.apply("agents", obj(R"({"agent":"1001","name":"王芳","phone":"8001","state":"ready","reason":"none","note":"",
                            "at_ms":1000,"phone_online":true,"queues":["pension"]})"), 1000);
  auto c1 = m.apply("calls", obj(R"({"call":281474976710656001,"state":"queued","from":"13812345678",
                                     "dialled":"12333","queue":"pension","agent":"","at_ms":2000,"ivr_path":"1"})"), 2000);
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].kind, kind::call);
  EXPECT_EQ(c1[0].key, "281474976710656001");  // 64-bit ids travel as strings (JavaScript numbers are doubles)
  EXPECT_EQ(c1[0].data.at("started_ms").as_int64(), 2000);
  auto c2 = m.apply("calls", obj(R"({"call":281474976710656001,"state":"connected","from":"13812345678",
                                     "dialled":"12333","queue":"pension","agent":"1001","at_ms":9000})"), 9000);
  ASSERT_EQ(c2.size(), 2u);  // the call, then its agent now on it
  EXPECT_EQ(c2[0].data.at("state_since_ms").as_int64(), 9000);
  EXPECT_EQ(c2[0].data.at("started_ms").as_int64(), 2000);
  EXPECT_EQ(c2[1].kind, kind::agent);
  EXPECT_EQ(c2[1].data.at("call").as_string(), "281474976710656001");
  auto c3 = m.apply("calls", obj(R"({"call":281474976710656001,"state":"ended","agent":"1001"})"), 12000);
  ASSERT_EQ(c3.size(), 2u);
  EXPECT_TRUE(c3[0].removed);
  EXPECT_TRUE(c3[1].data.at("call").is_null());
  EXPECT_TRUE(m.objects(kind::call).empty());
}

// A call rung at one agent, then (ring timeout) at another: the first agent's desk hears of
// it with the call's change, which names them as the agent it left.
TEST(floor_model, a_call_rung_elsewhere_tells_the_agent_it_left) {
  floor_model m;
  for (auto id : {"1001", "1002"})
    m.apply("agents", obj(std::string(R"({"agent":")") + id + R"(","state":"ready","phone_online":true})"), 1);
  m.apply("calls", obj(R"({"call":7,"state":"ringing","from":"138","queue":"pension","agent":"1001"})"), 2);
  auto c = m.apply("calls", obj(R"({"call":7,"state":"ringing","from":"138","queue":"pension","agent":"1002"})"), 3);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].kind, kind::call);
  EXPECT_EQ(c[0].agent, "1002");
  EXPECT_EQ(c[0].previous_agent, "1001");
}

// The ACD's missed_offer on the agents topic is not an agent record: it changes nothing.
TEST(floor_model, a_missed_offer_event_does_not_blank_the_agent) {
  floor_model m;
  m.apply("agents", obj(R"({"agent":"1001","name":"王芳","phone":"8001","state":"not_ready","phone_online":true})"), 1);
  EXPECT_TRUE(m.apply("agents", obj(R"({"agent":"1001","event":"missed_offer","call":7,"missed_today":1})"), 2).empty());
  EXPECT_EQ(m.objects(kind::agent).at("1001").at("name").as_string(), "王芳");
}

TEST(floor_model, an_unchanged_event_makes_no_change) {
  floor_model m;
  auto q = R"({"queue":"pension","event":"figures","open":true,"waiting":0,"at_ms":5})";
  EXPECT_EQ(m.apply("queues", obj(q), 5).size(), 1u);
  EXPECT_EQ(m.apply("queues", obj(q), 6).size(), 0u);
  EXPECT_EQ(m.apply("queues", obj(R"({"queue":"pension","event":"answered","call":1})"), 7).size(), 0u);
}

TEST(floor_model, alarms_rise_and_clear_with_the_wallboard_names) {
  floor_model m;
  auto up = m.apply("alarms", obj(R"({"queue":"pension","alarm":"below_minimum_agents","raised":true,
                                      "working_agents":1,"minimum":2,"at_ms":100})"), 100);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].key, "pension:bottom_line");
  EXPECT_EQ(up[0].data.at("detail").as_string(), "1 of minimum 2 agents available");
  auto down = m.apply("alarms", obj(R"({"queue":"pension","alarm":"below_minimum_agents","raised":false})"), 200);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_TRUE(down[0].removed);
}

TEST(floor_model, a_logged_in_agent_without_a_registered_phone_is_an_alarm) {  // N-32
  floor_model m;
  auto c = m.apply("agents", obj(R"({"agent":"1002","state":"ready","phone":"8002","phone_online":false})"), 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].key, "agent_offline:1002");
  c = m.apply("agents", obj(R"({"agent":"1002","state":"ready","phone":"8002","phone_online":true})"), 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(c[1].removed);
  c = m.apply("agents", obj(R"({"agent":"1002","state":"logged_out","phone":"8002","phone_online":false})"), 3);
  EXPECT_EQ(c.size(), 1u);  // logged out: nobody expects the phone
}

TEST(floor_model, a_dangerous_call_is_marked_and_alarmed_until_it_ends) {  // N-14
  floor_model m;
  m.apply("calls", obj(R"({"call":7,"state":"connected","from":"13812345678","queue":"pension","agent":"1001"})"), 1);
  auto c = m.apply("alarms", obj(R"({"alarm":"dangerous_call","raised":true,"call":7,"agent":"1001",
                                     "from":"13812345678","queue":"pension"})"), 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].key, "dangerous_call:7");
  EXPECT_EQ(c[0].data.at("from").as_string(), "13812345678");
  EXPECT_TRUE(c[1].data.at("dangerous").as_bool());
  c = m.apply("calls", obj(R"({"call":7,"state":"ended"})"), 3);
  EXPECT_EQ(m.find(kind::alarm, "dangerous_call:7"), nullptr);
}

TEST(floor_model, numbers_are_masked_in_the_middle) {
  EXPECT_EQ(mask_number("13812345678"), "138****5678");
  EXPECT_EQ(mask_number("02887654321"), "028****4321");
  EXPECT_EQ(mask_number("8765432"), "87***32");
  EXPECT_EQ(mask_number("8001"), "8***");
  EXPECT_EQ(mask_number(""), "");
}

}  // namespace
}  // namespace hotline::console
