// The knowledge base driven over HTTP the way the consoles and curators drive it: the
// real application with its embedded starter content, real sockets on loopback.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "actors/call/call_record.hpp"
#include "api/app/app.hpp"
#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace json = boost::json;
using hotline::test::call;
using hotline::test::reply;

namespace {

std::string today_plus(int days) {
  auto t = std::time(nullptr) + days * 86400;
  std::tm tm;
  localtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string url_encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
    else std::snprintf(buf, sizeof buf, "%%%02X", c), out += buf;
  }
  return out;
}

json::object entry_json(const std::string& question, const std::string& answer, const std::string& region = "national") {
  return {{"question", question}, {"phrasings", json::array{}}, {"answer", answer}, {"materials", json::array{}},
          {"topic", "pension"},   {"subtopic", "test"},         {"region", region}, {"tags", json::array{"测试"}},
          {"effective", "2024-01-01"}, {"expires", nullptr},   {"sources", json::array{}}};
}

class Kb : public ::testing::Test {
 protected:
  void SetUp() override { start(dir_.sub("data")); }

  void start(const std::string& data_dir) {
    cfg_.server.data_dir = data_dir;
    cfg_.http.listen = "127.0.0.1";
    cfg_.http.port = 0;
    cfg_.sip.listen = "127.0.0.1";  // SIP on a free port: tests run side by side
    cfg_.sip.port = 0;
    cfg_.auth.kdf_iterations = 1000;
    cfg_.runtime.workers = 2;
    std::string error;
    app_ = hotline::app::application::start(cfg_, error);
    ASSERT_TRUE(app_) << error;
    port_ = app_->http_port();
    auto pw = app_->bootstrap_admin();
    ASSERT_TRUE(pw);
    admin_ = login("admin", *pw);
    for (auto [name, role] : {std::pair{"cur1", "curator"}, {"cur2", "curator"}, {"exp1", "expert"},
                              {"agent1", "agent"}, {"sup1", "supervisor"}}) {
      auto r = call(port_, "POST", "/v1/users",
                    json::serialize(json::object{{"username", name},
                                                 {"password", "a-long-password"},
                                                 {"roles", json::array{role}}}),
                    admin_);
      ASSERT_EQ(r.status, 201) << r.raw;
      tokens_[name] = login(name, "a-long-password");
    }
  }

  std::string login(const std::string& user, const std::string& pw) {
    auto r = call(port_, "POST", "/v1/auth/login", json::serialize(json::object{{"username", user}, {"password", pw}}));
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.status == 200 ? std::string(r.body.at("token").as_string()) : "";
  }

  reply search(const std::string& who, const std::string& q, const std::string& extra = "") {
    return call(port_, "GET", "/v1/kb/search?q=" + url_encode(q) + extra, {}, tokens_[who]);
  }
  bool finds(const std::string& who, const std::string& q, const std::string& id, const std::string& extra = "") {
    auto ids = hit_ids(search(who, q, extra));
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
  std::vector<std::string> hit_ids(const reply& r) {
    std::vector<std::string> ids;
    if (auto* o = r.body.if_object())
      if (auto* h = o->if_contains("hits"))
        for (auto& x : h->as_array()) ids.emplace_back(x.at("id").as_string());
    return ids;
  }
  std::string create(const std::string& who, const json::object& e) {
    auto r = call(port_, "POST", "/v1/kb/entries", json::serialize(e), tokens_[who]);
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.status == 201 ? std::string(r.body.at("id").as_string()) : "";
  }
  reply step(const std::string& who, const std::string& id, const std::string& action, const std::string& body = "") {
    return call(port_, "POST", "/v1/kb/entries/" + id + "/" + action, body, tokens_[who]);
  }
  std::string publish(const json::object& e) {
    auto id = create("cur1", e);
    EXPECT_EQ(step("cur1", id, "submit").status, 200);
    auto r = step("exp1", id, "approve");
    EXPECT_EQ(r.status, 200) << r.raw;
    return id;
  }

  // A finished call as the call actor leaves it: the CDR and the caller's history row in one
  // batch. `minutes` from now (negative: in the past); returns the call id as consoles send it.
  std::string store_call(const std::string& number, int64_t minutes, const std::string& queue = "pension") {
    namespace storage = hotline::storage;
    auto started = std::chrono::system_clock::now() + std::chrono::minutes(minutes);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count();
    hotline::calls::call_record rec;
    rec.id = call_ids_.next(static_cast<uint64_t>(ms));
    rec.from = number;
    rec.dialled = "12333";
    rec.started = started;
    rec.answered = started + std::chrono::seconds(20);
    rec.agent_answered = rec.answered;
    rec.ended = started + std::chrono::minutes(4);
    rec.queue = queue;
    rec.queues = {queue};
    rec.agent = "1001";
    rec.released_by = "caller";
    rec.outcome = "answered";
    storage::write_batch b;
    b.put(storage::table::calls, storage::be64(rec.id),
          storage::encode_record(json::parse(hotline::calls::to_json(rec)).as_object(), 1));
    b.put(storage::table::calls_by_caller, rec.from + '\0' + storage::be64(rec.id), std::string());
    commit(b);
    return std::to_string(rec.id);
  }
  // The agent's classification of a call (N-07), as the agent console stores it.
  void classify(const std::string& call_id, const std::string& classification) {
    namespace storage = hotline::storage;
    storage::write_batch b;
    b.put(storage::table::call_notes, storage::be64(std::stoull(call_id)),
          storage::encode_record(json::object{{"call", call_id},
                                              {"classification", classification},
                                              {"topic", "pension"},
                                              {"note", ""},
                                              {"agent", "1001"},
                                              {"updated_ms", std::time(nullptr) * 1000}},
                                 1));
    commit(b);
  }
  void commit(const hotline::storage::write_batch& b) {
    auto errors = app_->env().commit(std::span<const hotline::storage::write_batch>(&b, 1));
    ASSERT_EQ(errors.size(), 1u);
    ASSERT_FALSE(errors[0]) << errors[0].message();
  }
  void use_on_call(const std::string& entry, const std::string& call_id, const std::string& action = "used") {
    auto r = call(port_, "POST", "/v1/kb/usage",
                  json::serialize(json::object{{"entry", entry}, {"action", action}, {"call_id", call_id}}),
                  tokens_["agent1"]);
    ASSERT_EQ(r.status, 201) << r.raw;
  }

  hotline::storage::time_ordered_ids call_ids_;
  hotline::test::temp_dir dir_;
  hotline::config::config cfg_;
  std::unique_ptr<hotline::app::application> app_;
  uint16_t port_ = 0;
  std::string admin_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(Kb, StarterContentIsSearchableOnFirstStart) {
  auto r = search("agent1", "我换城市工作了养老保险怎么办");
  ASSERT_EQ(r.status, 200) << r.raw;
  auto ids = hit_ids(r);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(r.body.at("hits").as_array()[0].at("topic").as_string(), "pension");
  EXPECT_FALSE(r.body.at("search_id").as_string().empty());
  EXPECT_GT(r.body.at("facets").at("topic").as_object().size(), 0u);
  EXPECT_NE(std::string(r.body.at("hits").as_array()[0].at("snippet").as_string()).find("<b>"), std::string::npos);
  // An agent in a hurry types the initials: sbk is 社保卡.
  auto initials = search("agent1", "sbk");
  ASSERT_EQ(initials.status, 200) << initials.raw;
  ASSERT_FALSE(hit_ids(initials).empty()) << initials.raw;
  EXPECT_EQ(initials.body.at("hits").as_array()[0].at("topic").as_string(), "ss_card") << initials.raw;
}

// N-28: draft -> review by a second person -> published; every version kept.
TEST_F(Kb, CurationWorkflowFromDraftToPublishedToNextVersion) {
  auto id = create("cur1", entry_json("量子补贴怎么申请？", "量子补贴到街道窗口申请，带身份证。"));
  EXPECT_FALSE(finds("agent1", "量子补贴", id));  // a draft is not shown to agents
  EXPECT_EQ(call(port_, "GET", "/v1/kb/entries/" + id, {}, tokens_["agent1"]).status, 404);

  ASSERT_EQ(step("cur1", id, "submit").body.at("status").as_string(), "in_review");
  auto self = step("cur1", id, "approve");
  EXPECT_EQ(self.status, 403);  // no self-review
  auto approved = step("exp1", id, "approve");
  ASSERT_EQ(approved.status, 200) << approved.raw;
  EXPECT_EQ(approved.body.at("status").as_string(), "published");
  EXPECT_EQ(approved.body.at("reviewer").as_string(), "exp1");
  auto ids = hit_ids(search("agent1", "量子补贴"));
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], id);  // published -> searchable at once

  auto v2 = call(port_, "PUT", "/v1/kb/entries/" + id,
                 json::serialize(entry_json("量子补贴怎么申请？", "量子补贴在网上办理，带身份证和银行卡。")), tokens_["cur2"]);
  ASSERT_EQ(v2.status, 200) << v2.raw;
  EXPECT_EQ(v2.body.at("version").as_int64(), 2);
  auto agent_view = call(port_, "GET", "/v1/kb/entries/" + id, {}, tokens_["agent1"]);
  EXPECT_NE(std::string(agent_view.body.at("answer").as_string()).find("街道窗口"), std::string::npos);  // still v1

  auto d = call(port_, "GET", "/v1/kb/entries/" + id + "/diff?from=1&to=2", {}, tokens_["exp1"]);
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body.at("changes").as_array()[0].at("field").as_string(), "answer");

  step("cur2", id, "submit");
  ASSERT_EQ(step("cur1", id, "approve").status, 200);  // cur1 did not write v2: may review it
  auto versions = call(port_, "GET", "/v1/kb/entries/" + id + "/versions", {}, tokens_["cur1"]);
  auto& vs = versions.body.at("versions").as_array();
  ASSERT_EQ(vs.size(), 2u);
  EXPECT_EQ(vs[0].at("status").as_string(), "superseded");
  EXPECT_EQ(vs[1].at("status").as_string(), "published");
  agent_view = call(port_, "GET", "/v1/kb/entries/" + id, {}, tokens_["agent1"]);
  EXPECT_NE(std::string(agent_view.body.at("answer").as_string()).find("网上"), std::string::npos);
}

TEST_F(Kb, RejectSendsBackWithTheReasonAsComment) {
  auto id = create("cur1", entry_json("退回测试问题？", "退回测试答案。"));
  step("cur1", id, "submit");
  auto r = step("exp1", id, "reject", R"({"reason":"材料清单不完整"})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("status").as_string(), "draft");
  auto comments = call(port_, "GET", "/v1/kb/entries/" + id + "/comments", {}, tokens_["cur1"]);
  EXPECT_NE(comments.raw.find("材料清单不完整"), std::string::npos);
}

TEST_F(Kb, ScheduledPublishWaitsForItsDay) {
  auto id = create("cur1", entry_json("定时发布测试？", "定时发布的答案。"));
  step("cur1", id, "submit");
  auto r = step("exp1", id, "approve", R"({"publish_at":")" + today_plus(10) + R"("})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("status").as_string(), "approved");
  EXPECT_FALSE(finds("agent1", "定时发布测试", id));
}

// N-08/N-28: agents answer only from the published entry in force today.
TEST_F(Kb, AgentsSeeOnlyEntriesInForceToday) {
  auto e = entry_json("过期政策测试？", "这是已经失效的过期政策答案。");
  e["effective"] = "2019-01-01";
  e["expires"] = "2020-06-01";
  auto id = publish(e);
  EXPECT_FALSE(finds("agent1", "过期政策测试", id));
  // A curator can look at what was in force on another day.
  auto then = hit_ids(search("cur1", "过期政策测试", "&date=2020-01-01"));
  ASSERT_FALSE(then.empty());
  EXPECT_EQ(then[0], id);
}

// N-28: agents see their city's answer before the province's and the national one.
TEST_F(Kb, LocalEntryRanksAboveNationalForTheSameQuestion) {
  auto national = publish(entry_json("星辰卡在哪里办理？", "星辰卡到当地社保经办机构办理。"));
  auto local = publish(entry_json("星辰卡在哪里办理？", "星辰卡在杭州各区市民中心办理。", "city:杭州"));
  auto ids = hit_ids(search("agent1", "星辰卡在哪里办理"));
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], local);
  EXPECT_EQ(ids[1], national);
}

TEST_F(Kb, RolesAreEnforced) {
  EXPECT_EQ(call(port_, "POST", "/v1/kb/entries", json::serialize(entry_json("q?", "a")), tokens_["agent1"]).status, 403);
  EXPECT_EQ(call(port_, "GET", "/v1/kb/entries/kb-0001/versions", {}, tokens_["agent1"]).status, 403);
  EXPECT_EQ(call(port_, "GET", "/v1/kb/reports/hot", {}, tokens_["agent1"]).status, 403);
  EXPECT_EQ(call(port_, "POST", "/v1/kb/reindex", {}, tokens_["cur1"]).status, 403);
  EXPECT_EQ(call(port_, "GET", "/v1/kb/search?q=x").status, 401);
}

TEST_F(Kb, BadQueriesGetClearErrors) {
  EXPECT_EQ(call(port_, "GET", "/v1/kb/search", {}, tokens_["agent1"]).error_code(), "missing_field");
  EXPECT_EQ(search("agent1", std::string(500, 'x')).error_code(), "too_long");
  EXPECT_EQ(search("agent1", "养老", "&date=tomorrow").error_code(), "invalid_value");
  // Query syntax characters are just text: no parser to trip.
  EXPECT_EQ(search("agent1", "养老 AND (OR \"NEAR").status, 200);
  auto bad = call(port_, "POST", "/v1/kb/entries", R"({"question":"q?","answer":"a","topic":"x","region":"mars"})",
                  tokens_["cur1"]);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("region"), std::string::npos) << bad.raw;
}

// N-29: what agents search, open and use on calls, and where searches find nothing.
TEST_F(Kb, UsageFeedsTheReports) {
  auto s = search("agent1", "失业金怎么领");
  auto ids = hit_ids(s);
  ASSERT_FALSE(ids.empty());
  auto sid = std::string(s.body.at("search_id").as_string());
  auto u = call(port_, "POST", "/v1/kb/usage",
                json::serialize(json::object{{"search_id", sid}, {"entry", ids[0]}, {"action", "used"}, {"call_id", "c-1"}}),
                tokens_["agent1"]);
  ASSERT_EQ(u.status, 201) << u.raw;
  search("agent1", "火星移民养老待遇");  // nothing answers this: a gap for curators
  // Search logs are written in the background (the agent does not wait for them): read
  // the report until the last search shows up.
  reply gaps;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline;) {
    gaps = call(port_, "GET", "/v1/kb/reports/gaps", {}, tokens_["cur1"]);
    if (gaps.raw.find("火星移民养老待遇") != std::string::npos) break;
  }
  ASSERT_EQ(gaps.status, 200);
  EXPECT_NE(gaps.raw.find("火星移民养老待遇"), std::string::npos);
  auto hot = call(port_, "GET", "/v1/kb/reports/hot", {}, tokens_["sup1"]);
  ASSERT_EQ(hot.status, 200) << hot.raw;
  EXPECT_NE(hot.raw.find("失业金怎么领"), std::string::npos);
  EXPECT_EQ(hot.body.at("entries").as_array()[0].at("id").as_string(), ids[0]);
  auto unused = call(port_, "GET", "/v1/kb/reports/unused", {}, tokens_["cur1"]);
  EXPECT_EQ(unused.raw.find("\"" + ids[0] + "\""), std::string::npos);
}

// N-29: entries used on calls that became complaints — the call itself classified complaint,
// or the same number calling again within `within_days` with a complaint.
TEST_F(Kb, ComplaintsReportFollowsTheCallerAfterTheCall) {
  auto e1 = publish(entry_json("投诉报表测试一？", "答案一。"));
  auto e2 = publish(entry_json("投诉报表测试二？", "答案二。"));
  auto e3 = publish(entry_json("投诉报表测试三？", "答案三。"));
  // Calls in the order they happen (call ids are time-ordered).
  auto d0 = store_call("13900000004", -20 * 24 * 60);  // an earlier complaint does not count
  classify(d0, "complaint");
  auto a1 = store_call("13900000001", -10);
  auto b1 = store_call("13900000002", -9);
  auto c1 = store_call("13900000003", -8);
  auto d1 = store_call("13900000004", -7);
  auto f1 = store_call("13900000005", -6);
  auto f2 = store_call("13900000005", 24 * 60, "complaint");  // 投诉举报 in the IVR, not classified
  auto d2 = store_call("13900000004", 2 * 24 * 60);
  auto a2 = store_call("13900000001", 5 * 24 * 60);
  auto b2 = store_call("13900000002", 40 * 24 * 60);  // past the default 30 days
  classify(a1, "consultation");
  classify(a2, "complaint");
  classify(b2, "complaint");
  classify(c1, "complaint");
  classify(d1, "consultation");
  classify(d2, "query");
  use_on_call(e1, a1);
  use_on_call(e1, a1);  // used twice on one call: one call
  use_on_call(e1, c1);
  use_on_call(e2, b1);
  use_on_call(e2, f1);
  use_on_call(e3, d1);
  use_on_call(e3, c1, "opened");  // opened, not used

  auto r = call(port_, "GET", "/v1/kb/reports/complaints", {}, tokens_["sup1"]);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("within_days").as_int64(), 30);
  EXPECT_EQ(r.body.at("calls_with_use").as_int64(), 5);
  EXPECT_EQ(r.body.at("became_complaints").as_int64(), 3);
  auto& entries = r.body.at("entries").as_array();
  ASSERT_EQ(entries.size(), 2u) << r.raw;  // e3: no complaint from that caller after the call
  EXPECT_EQ(entries[0].at("id").as_string(), e1);  // most complaints first
  EXPECT_EQ(entries[0].at("question").as_string(), "投诉报表测试一？");
  EXPECT_EQ(entries[0].at("used_on_calls").as_int64(), 2);
  EXPECT_EQ(entries[0].at("became_complaints").as_int64(), 2);
  EXPECT_EQ(entries[0].at("calls"), (json::array{json::object{{"call", a1}, {"complaint_call", a2}},
                                                 json::object{{"call", c1}, {"complaint_call", c1}}}));
  EXPECT_EQ(entries[1].at("id").as_string(), e2);
  EXPECT_EQ(entries[1].at("used_on_calls").as_int64(), 2);
  EXPECT_EQ(entries[1].at("calls"), (json::array{json::object{{"call", f1}, {"complaint_call", f2}}}));

  // A longer window reaches b2; a range before today has no uses.
  auto wide = call(port_, "GET", "/v1/kb/reports/complaints?within_days=60", {}, tokens_["cur1"]);
  ASSERT_EQ(wide.status, 200) << wide.raw;
  auto& wide_entries = wide.body.at("entries").as_array();
  auto wide_e2 = std::find_if(wide_entries.begin(), wide_entries.end(),
                              [&](const json::value& e) { return e.at("id").as_string() == e2; });
  ASSERT_NE(wide_e2, wide_entries.end()) << wide.raw;
  EXPECT_EQ(wide_e2->at("calls"),
            (json::array{json::object{{"call", b1}, {"complaint_call", b2}},
                         json::object{{"call", f1}, {"complaint_call", f2}}}));
  auto before = call(port_, "GET", "/v1/kb/reports/complaints?from=" + today_plus(-30) + "&to=" + today_plus(-1), {},
                     tokens_["cur1"]);
  ASSERT_EQ(before.status, 200) << before.raw;
  EXPECT_TRUE(before.body.at("entries").as_array().empty());

  EXPECT_EQ(call(port_, "GET", "/v1/kb/reports/complaints", {}, tokens_["agent1"]).status, 403);
  for (auto [query, field] : {std::pair{"within_days=abc", "within_days"}, {"within_days=366", "within_days"},
                              {"within_days=", "within_days"}, {"from=2024-13-01", "from"}, {"to=yesterday", "to"}}) {
    auto bad = call(port_, "GET", std::string("/v1/kb/reports/complaints?") + query, {}, tokens_["sup1"]);
    EXPECT_EQ(bad.status, 400) << query;
    EXPECT_EQ(bad.body.at("error").at("field").as_string(), field) << bad.raw;
  }
}

TEST_F(Kb, SynonymsKeptByCurators) {
  auto id = publish(entry_json("银河津贴如何领取？", "银河津贴按月发放到社保卡。"));
  EXPECT_FALSE(finds("agent1", "星河补助", id));
  auto put = call(port_, "PUT", "/v1/kb/synonyms", R"({"groups":[["银河津贴","星河补助"]]})", tokens_["cur1"]);
  ASSERT_EQ(put.status, 204) << put.raw;
  auto ids = hit_ids(search("agent1", "星河补助"));
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], id);
}

TEST_F(Kb, PolicyDocumentsAreKeptVerbatim) {
  auto text = std::string("# 关于调整失业保险金标准的通知\n\n各区县：……自2026年1月1日起执行。\n");
  auto r = call(port_, "POST", "/v1/kb/documents",
                json::serialize(json::object{{"documents", json::array{json::object{{"title", "关于调整失业保险金标准的通知"},
                                                                                    {"issuer", "市人社局"},
                                                                                    {"format", "markdown"},
                                                                                    {"text", text}}}}}),
                tokens_["cur1"]);
  ASSERT_EQ(r.status, 201) << r.raw;
  auto id = std::string(r.body.at("ids").as_array()[0].as_string());
  auto doc = call(port_, "GET", "/v1/kb/documents/" + id, {}, tokens_["exp1"]);
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body.at("text").as_string(), text);
  auto list = call(port_, "GET", "/v1/kb/documents", {}, tokens_["cur2"]);
  EXPECT_EQ(list.body.at("items").as_array()[0].at("title").as_string(), "关于调整失业保险金标准的通知");
  EXPECT_EQ(call(port_, "POST", "/v1/kb/documents", R"({"documents":[]})", tokens_["cur1"]).status, 400);
  EXPECT_EQ(call(port_, "GET", "/v1/kb/documents", {}, tokens_["agent1"]).status, 403);
}

TEST_F(Kb, SimilarEntries) {
  auto r = call(port_, "GET", "/v1/kb/entries/kb-0001/similar", {}, tokens_["agent1"]);
  ASSERT_EQ(r.status, 200) << r.raw;
  auto ids = hit_ids(r);
  EXPECT_FALSE(ids.empty());
  for (auto& id : ids) EXPECT_NE(id, "kb-0001");
}

TEST_F(Kb, ExportImportRoundTripsExactly) {
  auto first = call(port_, "GET", "/v1/kb/export", {}, tokens_["cur1"]);
  ASSERT_EQ(first.status, 200);
  ASSERT_GT(std::count(first.raw.begin(), first.raw.end(), '\n'), 200);
  auto bad = call(port_, "POST", "/v1/kb/import", "{\"id\":\"kb-9000\"}\nnot json\n", tokens_["cur1"]);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("line 1"), std::string::npos) << bad.raw;
  // A second site imports the export: its export is the same entries with the same content.
  app_.reset();
  start(dir_.sub("data2"));
  auto imported = call(port_, "POST", "/v1/kb/import", first.raw, tokens_["cur1"]);
  ASSERT_EQ(imported.status, 200) << imported.raw;
  auto second = call(port_, "GET", "/v1/kb/export", {}, tokens_["cur1"]);
  auto content = [](const std::string& jsonl) {
    std::vector<std::string> lines;
    std::istringstream in(jsonl);
    for (std::string line; std::getline(in, line);) {
      auto o = json::parse(line).as_object();
      for (auto k : {"version", "author", "reviewer", "created_ms", "updated_ms", "submitted_ms", "reviewed_ms",
                     "published_ms"})
        o.erase(k);  // workflow stamps of the importing site
      lines.push_back(json::serialize(o));
    }
    return lines;
  };
  EXPECT_EQ(content(first.raw), content(second.raw));
}

}  // namespace
