// The entry codec (seed JSONL + workflow fields), its validation messages, and the two
// rules entries carry: in force on a day, and region precedence.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "search/entry.hpp"

namespace {

using namespace hotline::kb;
namespace json = boost::json;

// A line as the content writers produce them (search/kb_seed/entries_*.jsonl).
constexpr const char* seed_line =
    R"({"id":"kb-0201","question":"如何办理失业登记？","phrasings":["我没工作了要去哪里登记失业"],)"
    R"("answer":"在常住地的公共就业服务机构办理失业登记。","materials":["本人居民身份证或社会保障卡"],)"
    R"("topic":"employment","subtopic":"unemployment_registration","region":"national",)"
    R"("tags":["失业登记","就业"],"effective":"2023-01-01","expires":null,)"
    R"("sources":[{"title":"就业服务与就业管理规定","issuer":"人力资源和社会保障部","number":"","date":"2022-01-07"}]})";

json::object parse(const std::string& text) { return json::parse(text).as_object(); }

std::string decode_error(json::object o) {
  std::string error;
  auto e = entry_from_json(o, error);
  EXPECT_FALSE(e) << "accepted: " << json::serialize(o);
  return error;
}

TEST(EntryCodec, DecodesASeedLine) {
  std::string error;
  auto e = entry_from_json(parse(seed_line), error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->id, "kb-0201");
  EXPECT_EQ(e->version, 1u);
  EXPECT_EQ(e->phrasings.size(), 1u);
  EXPECT_EQ(e->materials[0], "本人居民身份证或社会保障卡");
  EXPECT_EQ(e->region, "national");
  EXPECT_EQ(e->effective, "2023-01-01");
  EXPECT_TRUE(e->expires.empty());
  ASSERT_EQ(e->sources.size(), 1u);
  EXPECT_EQ(e->sources[0].issuer, "人力资源和社会保障部");
  EXPECT_EQ(e->sources[0].date, "2022-01-07");
  EXPECT_EQ(e->state, status::draft);  // the seed has no workflow fields
}

TEST(EntryCodec, RoundTripsEveryField) {
  entry e;
  e.id = "kb-0042";
  e.version = 7;
  e.question = "工伤认定需要多久？";
  e.phrasings = {"工伤认定要等多长时间", "认定工伤几天出结果"};
  e.answer = "自受理之日起60日内作出认定决定 <含> \"引号\" & 符号。";
  e.materials = {"工伤认定申请表", "劳动合同"};
  e.topic = "work_injury";
  e.subtopic = "recognition";
  e.region = "city:杭州";
  e.tags = {"工伤", "认定"};
  e.effective = "2024-01-01";
  e.expires = "2026-12-31";
  e.sources = {{"工伤保险条例", "国务院", "国务院令第586号", "2010-12-20", "https://example.org/586"},
               {"浙江省实施办法", "浙江省人民政府", "", "2018-01-01", ""}};
  e.supersedes = "kb-0041";
  e.state = status::approved;
  e.author = "cur1";
  e.reviewer = "exp1";
  e.created_ms = 1700000000000;
  e.updated_ms = 1700000000001;
  e.submitted_ms = 1700000000002;
  e.reviewed_ms = 1700000000003;
  e.published_ms = 0;
  e.publish_at = "2024-02-01";

  auto text = json::serialize(to_json(e));
  std::string error;
  auto back = entry_from_json(parse(text), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(json::serialize(to_json(*back)), text);  // same JSON, field by field
  EXPECT_EQ(back->sources[0].link, "https://example.org/586");
  EXPECT_EQ(back->state, status::approved);
  EXPECT_EQ(back->publish_at, "2024-02-01");
  EXPECT_EQ(back->reviewed_ms, 1700000000003u);
  // An empty link is left out, as in the seed; no expiry is null.
  auto o = to_json(entry{});
  EXPECT_TRUE(o.at("expires").is_null());
  EXPECT_FALSE(to_json(e).at("sources").as_array()[1].as_object().contains("link"));
}

TEST(EntryCodec, StatusNames) {
  for (auto s : {status::draft, status::in_review, status::published, status::superseded, status::expired,
                 status::approved})
    EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_EQ(to_string(status::in_review), "in_review");
  EXPECT_FALSE(parse_status("Published"));
  EXPECT_FALSE(parse_status(""));
}

TEST(EntryCodec, NamesTheFieldThatIsWrong) {
  auto good = parse(seed_line);
  auto with = [&](const char* field, json::value v) {
    auto o = good;
    o[field] = std::move(v);
    return o;
  };
  auto without = [&](const char* field) {
    auto o = good;
    o.erase(field);
    return o;
  };
  for (auto f : {"id", "question", "answer", "topic", "region"})
    EXPECT_EQ(decode_error(without(f)), std::string(f) + " is required");
  EXPECT_EQ(decode_error(with("id", "")), "id must not be empty");
  EXPECT_EQ(decode_error(with("question", 5)), "question must be a string");
  EXPECT_EQ(decode_error(with("phrasings", "一句话")), "phrasings must be an array of strings");
  EXPECT_EQ(decode_error(with("tags", json::array{"a", 1})), "tags must be an array of strings");
  EXPECT_EQ(decode_error(with("region", "mars")), "region must be \"national\", \"province\" or \"city:<name>\"");
  EXPECT_EQ(decode_error(with("region", "city:")), "region must be \"national\", \"province\" or \"city:<name>\"");
  EXPECT_EQ(decode_error(with("effective", "2024-13-01")), "effective must be a date YYYY-MM-DD or null");
  EXPECT_EQ(decode_error(with("expires", "2024/01/01")), "expires must be a date YYYY-MM-DD or null");
  EXPECT_EQ(decode_error(with("expires", 20240101)), "expires must be a string or null");
  EXPECT_EQ(decode_error(with("publish_at", "tomorrow")), "publish_at must be a date YYYY-MM-DD or null");
  EXPECT_EQ(decode_error(with("version", 0)), "version must be at least 1");
  EXPECT_EQ(decode_error(with("version", -1)), "version must be a non-negative integer");
  EXPECT_EQ(decode_error(with("version", 1.5)), "version must be a non-negative integer");
  EXPECT_EQ(decode_error(with("version", 5000000000)), "version is out of range");
  EXPECT_EQ(decode_error(with("created_ms", "now")), "created_ms must be a non-negative integer");
  EXPECT_EQ(decode_error(with("status", "live")),
            "status must be one of draft, in_review, approved, published, superseded, expired");
  EXPECT_EQ(decode_error(with("sources", json::object{})), "sources must be an array of objects");
  EXPECT_EQ(decode_error(with("sources", json::array{"国务院令"})), "sources[0] must be an object");
  EXPECT_EQ(decode_error(with("sources", json::array{json::object{{"issuer", "国务院"}}})),
            "sources[0].title is required");
  EXPECT_EQ(decode_error(with("sources", json::array{json::object{
                                             {"title", "条例"}, {"issuer", "国务院"}, {"date", "2010"}}})),
            "sources[0].date must be a date YYYY-MM-DD");
}

TEST(EntryCodec, OptionalFieldsMayBeAbsentOrNull) {
  std::string error;
  auto minimal = parse(R"({"id":"kb-1","question":"q？","answer":"a。","topic":"pension","region":"province"})");
  auto e = entry_from_json(minimal, error);
  ASSERT_TRUE(e) << error;
  EXPECT_TRUE(e->effective.empty());
  EXPECT_TRUE(e->sources.empty());
  auto nulls = parse(R"({"id":"kb-1","question":"q？","answer":"a。","topic":"pension","region":"city:宁波",)"
                     R"("phrasings":null,"effective":null,"supersedes":null,"publish_at":null,"sources":null})");
  EXPECT_TRUE(entry_from_json(nulls, error)) << error;
  EXPECT_TRUE(error.empty());
}

TEST(EntryRules, InForceOn) {
  entry e;
  e.effective = "2024-01-01";
  EXPECT_FALSE(e.in_force_on("2023-12-31"));
  EXPECT_TRUE(e.in_force_on("2024-01-01"));
  EXPECT_TRUE(e.in_force_on("2099-01-01"));  // no expiry
  e.expires = "2025-07-01";
  EXPECT_TRUE(e.in_force_on("2025-06-30"));
  EXPECT_FALSE(e.in_force_on("2025-07-01"));  // the expiry day is the first day out of force
  entry always;
  EXPECT_TRUE(always.in_force_on("1990-01-01"));
}

TEST(EntryRules, RegionRank) {
  EXPECT_EQ(region_rank("city:杭州", "杭州"), 0);
  EXPECT_EQ(region_rank("city:杭州", "city:杭州"), 0);
  EXPECT_EQ(region_rank("province", "杭州"), 1);
  EXPECT_EQ(region_rank("national", "杭州"), 2);
  EXPECT_EQ(region_rank("city:宁波", "杭州"), -1);
  EXPECT_EQ(region_rank("city:杭州", ""), -1);
  EXPECT_EQ(region_rank("national", ""), 2);
  EXPECT_EQ(region_rank("mars", "杭州"), -1);
  EXPECT_EQ(region_rank("city:", ""), -1);
}

}  // namespace
