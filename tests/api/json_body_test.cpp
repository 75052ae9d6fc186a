#include <gtest/gtest.h>

#include "api/http/json_body.hpp"
#include "api/ws/protocol.hpp"

using namespace hotline::api;

namespace {
api_error err(const result<boost::json::object>& r) { return *error_of(r); }
}  // namespace

TEST(JsonBody, SyntaxErrorsNameTheBytePosition) {
  auto e = err(parse_object(R"({"a": 1,})"));
  EXPECT_EQ(e.code, "bad_json");
  EXPECT_NE(e.message.find("at byte"), std::string::npos) << e.message;
}

TEST(JsonBody, EmptyAndNonObjectBodiesAreRejected) {
  EXPECT_EQ(err(parse_object("")).code, "bad_json");
  EXPECT_NE(err(parse_object("[1,2]")).message.find("got array"), std::string::npos);
  EXPECT_EQ(err(parse_object(R"({} {})")).code, "bad_json");
}

TEST(JsonBody, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep(10000, '[');
  EXPECT_EQ(err(parse_object("{\"a\":" + deep)).code, "bad_json");
}

TEST(JsonBody, FieldReaderReportsFirstProblemWithField) {
  auto obj = std::get<boost::json::object>(parse_object(R"({"name": 5, "n": "x", "extra": true})"));
  field_reader r{obj};
  r.only({"name", "n"});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, "unknown_field");
  EXPECT_EQ(r.error->field, "extra");

  field_reader r2{obj};
  r2.string("name", true);
  EXPECT_EQ(r2.error->code, "wrong_type");
  EXPECT_EQ(r2.error->message, "field 'name' must be a string, got number");

  field_reader r3{obj};
  r3.string("missing", true);
  EXPECT_EQ(r3.error->code, "missing_field");
}

TEST(JsonBody, IntegersAreRangeChecked) {
  auto obj = std::get<boost::json::object>(parse_object(R"({"n": 70000})"));
  field_reader r{obj};
  EXPECT_FALSE(r.integer("n", true, 1, 65535));
  EXPECT_EQ(r.error->code, "out_of_range");
}

TEST(WsProtocol, DecodesTheThreeClientMessages) {
  auto s = ws::decode(R"({"type":"subscribe","topic":"queue.pension"})");
  ASSERT_FALSE(error_of(s));
  EXPECT_EQ(std::get<ws::subscribe>(std::get<ws::client_message>(s)).topic, "queue.pension");
  auto p = ws::decode(R"({"type":"ping","id":7})");
  EXPECT_EQ(std::get<ws::ping>(std::get<ws::client_message>(p)).id, 7);
  auto u = ws::decode(R"({"type":"unsubscribe","topic":"audit"})");
  EXPECT_TRUE(std::holds_alternative<ws::unsubscribe>(std::get<ws::client_message>(u)));
}

TEST(WsProtocol, BadMessagesGetNamedErrors) {
  EXPECT_EQ(error_of(ws::decode("nope"))->code, "bad_json");
  EXPECT_EQ(error_of(ws::decode(R"({"type":"dance"})"))->code, "unknown_type");
  EXPECT_EQ(error_of(ws::decode(R"({"type":"subscribe"})"))->code, "missing_field");
  EXPECT_EQ(error_of(ws::decode(R"({"type":"subscribe","topic":"A B"})"))->code, "invalid_value");
  EXPECT_EQ(error_of(ws::decode(R"({"type":"subscribe","topic":"x","y":1})"))->code, "unknown_field");
}
