// The Xapian index through its public interface: a writer and readers on a temp dir.
#include <gtest/gtest.h>

#include <algorithm>

#include "search/index.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace hotline::kb;

entry make(std::string id, std::string question, std::string answer, std::string topic = "pension",
           std::string region = "national", status state = status::published) {
  entry e;
  e.id = std::move(id);
  e.question = std::move(question);
  e.answer = std::move(answer);
  e.topic = std::move(topic);
  e.region = std::move(region);
  e.effective = "2020-01-01";
  e.state = state;
  return e;
}

std::vector<std::string> ids(const std::vector<search_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

// Every behaviour twice: searched through Xapian, and through the in-memory hot index the
// server's searchers use (hot_index_test.cpp checks that the two rank alike).
enum class engine { xapian, hot };

class Index : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    std::string error;
    writer_ = index_writer::open(dir_.path(), error);
    ASSERT_TRUE(writer_) << error;
    ASSERT_TRUE(writer_->commit(error)) << error;
    reader_ = index_reader::open(dir_.path(), error, {}, GetParam() == engine::hot ? writer_->hot() : nullptr);
    ASSERT_TRUE(reader_) << error;
  }

  void add(std::vector<entry> entries) {
    for (const auto& e : entries) writer_->upsert(e);
    commit();
  }
  void commit() {
    std::string error;
    ASSERT_TRUE(writer_->commit(error)) << error;
    reader_->refresh();
  }

  search_result find(search_query q, const synonyms& syn = {}) {
    auto r = reader_->search(q, syn);
    EXPECT_TRUE(r.error.empty()) << r.error;
    return r;
  }
  std::vector<std::string> find_ids(const std::string& text, search_query q = {}, const synonyms& syn = {}) {
    q.text = text;
    return ids(find(q, syn).hits);
  }

  hotline::test::temp_dir dir_;
  std::unique_ptr<index_writer> writer_;
  std::unique_ptr<index_reader> reader_;
};

TEST_P(Index, UpsertReplacesTheDocumentOfAnId) {
  add({make("kb-1", "养老保险怎么转移？", "到新参保地申请转移接续。")});
  add({make("kb-1", "养老保险怎么转移？", "第二版答案：网上申请。")});
  add({make("kb-1", "养老金怎么领取？", "第三版：到经办机构申领。")});
  EXPECT_EQ(writer_->size(), 1u);
  EXPECT_EQ(find_ids("养老金领取"), (std::vector<std::string>{"kb-1"}));
  EXPECT_TRUE(find_ids("转移接续").empty());  // the first version's words are gone
  auto hit = find({.text = "养老金领取"}).hits.at(0);
  EXPECT_EQ(hit.question, "养老金怎么领取？");
  EXPECT_EQ(hit.topic, "pension");
  EXPECT_EQ(hit.region, "national");
  EXPECT_GT(hit.score, 0);
  EXPECT_GT(hit.percent, 0);
}

TEST_P(Index, RemoveAndRemoveAll) {
  add({make("kb-1", "失业金怎么领？", "失业保险金按月发放。"), make("kb-2", "失业登记在哪办？", "到街道办理。")});
  writer_->remove("kb-1");
  writer_->remove("kb-nope");  // removing what is not there is no error
  commit();
  EXPECT_EQ(find_ids("失业"), (std::vector<std::string>{"kb-2"}));
  writer_->remove_all();
  commit();
  EXPECT_EQ(writer_->size(), 0u);
  EXPECT_TRUE(find_ids("失业").empty());
}

TEST_P(Index, ReaderSeesCommitsAfterRefresh) {
  add({make("kb-1", "社保卡怎么挂失？", "拨打12333挂失。")});
  writer_->upsert(make("kb-2", "社保卡怎么补办？", "到银行网点补办。"));
  std::string error;
  ASSERT_TRUE(writer_->commit(error)) << error;
  EXPECT_EQ(find_ids("社保卡补办").size(), 1u);  // still the revision it opened
  reader_->refresh();
  EXPECT_EQ(find_ids("社保卡补办").at(0), "kb-2");
}

TEST_P(Index, FiltersByTopicRegionStatusAndDay) {
  auto expired = make("kb-4", "医保报销比例是多少？", "旧政策：报销比例六成。", "medical", "province");
  expired.effective = "2018-01-01";
  expired.expires = "2021-01-01";
  add({make("kb-1", "医保报销比例是多少？", "住院报销比例七成。", "medical", "national"),
       make("kb-2", "医保报销比例是多少？", "杭州住院报销比例八成。", "medical", "city:杭州"),
       make("kb-3", "医保报销比例是多少？", "草稿。", "medical", "national", status::draft),
       make("kb-5", "养老保险报销？", "养老保险不报销医疗费用。", "pension", "national"), expired});
  auto sorted = [](std::vector<std::string> v) { return std::sort(v.begin(), v.end()), v; };
  EXPECT_EQ(sorted(find_ids("报销比例")), (std::vector<std::string>{"kb-1", "kb-2", "kb-4", "kb-5"}));
  EXPECT_EQ(sorted(find_ids("报销比例", {.topics = {"pension"}})), (std::vector<std::string>{"kb-5"}));
  EXPECT_EQ(sorted(find_ids("报销比例", {.topics = {"pension", "medical"}, .regions = {"city:杭州", "province"}})),
            (std::vector<std::string>{"kb-2", "kb-4"}));
  EXPECT_EQ(find_ids("报销比例", {.statuses = {"draft"}}), (std::vector<std::string>{"kb-3"}));
  EXPECT_EQ(sorted(find_ids("报销比例", {.statuses = {"draft", "published"}})).size(), 5u);
  // In force: effective <= day < expires.
  EXPECT_EQ(sorted(find_ids("报销比例", {.in_force_on = "2020-06-01"})),
            (std::vector<std::string>{"kb-1", "kb-2", "kb-4", "kb-5"}));
  EXPECT_EQ(sorted(find_ids("报销比例", {.in_force_on = "2021-01-01"})),
            (std::vector<std::string>{"kb-1", "kb-2", "kb-5"}));
  EXPECT_EQ(find_ids("报销比例", {.in_force_on = "2019-06-01"}), (std::vector<std::string>{"kb-4"}));
  EXPECT_TRUE(find_ids("报销比例", {.in_force_on = "2017-12-31"}).empty());
}

TEST_P(Index, FacetsCountEveryMatch) {
  std::vector<entry> all;
  for (int i = 0; i < 30; ++i)
    all.push_back(make("kb-" + std::to_string(i), "工伤认定第" + std::to_string(i) + "问？", "工伤认定的答复。",
                       i % 3 == 0 ? "work_injury" : "medical", i % 5 == 0 ? "city:杭州" : "national"));
  all.push_back(make("kb-x", "生育津贴怎么算？", "按月计发。", "maternity"));
  add(all);
  auto r = find({.text = "工伤认定", .limit = 5});
  EXPECT_EQ(r.hits.size(), 5u);
  EXPECT_EQ(r.total_estimate, 30u);
  EXPECT_EQ(r.topic_counts, (std::map<std::string, size_t>{{"medical", 20}, {"work_injury", 10}}));
  EXPECT_EQ(r.region_counts, (std::map<std::string, size_t>{{"city:杭州", 6}, {"national", 24}}));
  auto no_facets = find({.text = "工伤认定", .facets = false});
  EXPECT_TRUE(no_facets.topic_counts.empty());
}

TEST_P(Index, PagesWithOffsetAndLimit) {
  std::vector<entry> all;
  for (int i = 0; i < 12; ++i) all.push_back(make("kb-" + std::to_string(i), "退休年龄问题" + std::to_string(i), "退休。"));
  add(all);
  auto first = find({.text = "退休年龄", .offset = 0, .limit = 5}).hits;
  auto second = find({.text = "退休年龄", .offset = 5, .limit = 5}).hits;
  auto third = find({.text = "退休年龄", .offset = 10, .limit = 5}).hits;
  EXPECT_EQ(first.size(), 5u);
  EXPECT_EQ(second.size(), 5u);
  EXPECT_EQ(third.size(), 2u);
  std::vector<std::string> seen = ids(first);
  for (auto& h : second) seen.push_back(h.id);
  for (auto& h : third) seen.push_back(h.id);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.size(), 12u);
}

TEST_P(Index, SnippetHighlightsMatchesAndEscapesHtml) {
  add({make("kb-1", "失业金怎么领？", "领取失业保险金需<先>办理失业登记 & 申领，按月发放。")});
  auto hit = find({.text = "失业登记"}).hits.at(0);
  EXPECT_NE(hit.snippet.find("<b>"), std::string::npos) << hit.snippet;
  EXPECT_NE(hit.snippet.find("</b>"), std::string::npos) << hit.snippet;
  EXPECT_NE(hit.snippet.find("&lt;先&gt;"), std::string::npos) << hit.snippet;
  EXPECT_NE(hit.snippet.find("&amp;"), std::string::npos) << hit.snippet;
  EXPECT_EQ(hit.snippet.find("<先>"), std::string::npos) << hit.snippet;
  EXPECT_TRUE(find({.text = "失业登记", .snippets = false}).hits.at(0).snippet.empty());
}

TEST_P(Index, SnippetIsShortForALongAnswer) {
  std::string answer;
  for (int i = 0; i < 40; ++i) answer += "这是一段很长的答复内容，";
  answer += "最后提到工伤认定。";
  add({make("kb-1", "长答复？", answer)});
  auto hit = find({.text = "工伤认定"}).hits.at(0);
  EXPECT_LE(hit.snippet.size(), 200u) << hit.snippet;
  EXPECT_NE(hit.snippet.find("<b>"), std::string::npos) << hit.snippet;
}

TEST_P(Index, SynonymFindsTheOtherWording) {
  // kb-2 has the characters 社 and 保 more often, but not the word.
  add({make("kb-1", "社会保险断缴了怎么办？", "中断缴费的，可以按规定续缴。"),
       make("kb-2", "社区保安保洁怎么招聘？", "社区保安、保洁由社区自行招聘。"),
       make("kb-3", "退休年龄是多少？", "按国家规定执行。")});
  synonyms syn(std::vector<std::vector<std::string>>{{"社保", "社会保险"}});
  EXPECT_EQ(find_ids("社保", {}, syn).at(0), "kb-1");
  EXPECT_EQ(find_ids("社保断了怎么办", {}, syn).at(0), "kb-1");
  EXPECT_EQ(find_ids("社保", {}, synonyms{}).at(0), "kb-2");  // without the group: characters only
}

TEST_P(Index, SynonymDoesNotOutweighTheWordItself) {
  add({make("kb-1", "社会保险怎么查询？", "社会保险缴费记录可以在网上查询。"),
       make("kb-2", "社保怎么查询？", "社保缴费记录可以在网上查询。")});
  synonyms syn(std::vector<std::vector<std::string>>{{"社保", "社会保险"}});
  // One group: either wording matches, and the entry with the caller's own word first.
  EXPECT_EQ(find_ids("社保查询", {}, syn), (std::vector<std::string>{"kb-2", "kb-1"}));
  EXPECT_EQ(find_ids("社会保险查询", {}, syn), (std::vector<std::string>{"kb-1", "kb-2"}));
}

TEST_P(Index, MoreLikeThisLeavesTheEntryOutAndKeepsFilters) {
  add({make("kb-1", "失业保险金怎么申领？", "失业保险金到参保地经办机构申领，需办理失业登记。", "unemployment"),
       make("kb-2", "失业保险金能领多久？", "失业保险金领取期限按缴费年限确定，失业登记后申领。", "unemployment"),
       make("kb-3", "失业保险金标准是多少？", "失业保险金按最低工资标准的九成发放。", "unemployment", "city:杭州"),
       make("kb-4", "生育津贴怎么算？", "生育津贴按单位平均工资计发。", "maternity")});
  auto similar = reader_->more_like_this("kb-1", {});
  ASSERT_FALSE(similar.empty());
  auto similar_ids = ids(similar);
  EXPECT_EQ(std::count(similar_ids.begin(), similar_ids.end(), "kb-1"), 0);
  EXPECT_EQ(similar[0].id, "kb-2");
  auto national = reader_->more_like_this("kb-1", {.regions = {"national"}});
  for (const auto& h : national) EXPECT_EQ(h.region, "national");
  EXPECT_TRUE(reader_->more_like_this("kb-404", {}).empty());
}

TEST_P(Index, ASecondWriterIsRefusedCleanly) {
  std::string error;
  auto second = index_writer::open(dir_.path(), error);
  EXPECT_FALSE(second);
  EXPECT_NE(error.find("locked"), std::string::npos) << error;
  auto reader = index_reader::open(dir_.path(), error);  // readers alongside the writer are fine
  EXPECT_TRUE(reader);
}

TEST_P(Index, OpeningWhatIsNoIndexIsAnError) {
  std::string error;
  EXPECT_FALSE(index_reader::open(dir_.sub("missing"), error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(index_writer::open("/proc/no-such-place/index", error));
  EXPECT_FALSE(error.empty());
}

TEST_P(Index, QuerySyntaxIsJustText) {
  add({make("kb-1", "养老保险怎么交？", "按月缴纳。")});
  EXPECT_EQ(find_ids("养老 AND (OR \"NEAR"), (std::vector<std::string>{"kb-1"}));
  EXPECT_TRUE(find_ids("").empty());
  EXPECT_TRUE(find_ids("？！。").empty());
}

TEST_P(Index, LocalVersionWinsANearTieForItsOwnCity) {
  // Both orders of insertion: Xapian breaks exact ties by document id.
  for (bool city_first : {false, true}) {
    writer_->remove_all();
    auto national = make("kb-n", "星辰卡在哪里办理？", "星辰卡到当地社保经办机构办理。");
    auto local = make("kb-c", "星辰卡在哪里办理？", "星辰卡在杭州各区市民中心办理。", "pension", "city:杭州");
    add(city_first ? std::vector<entry>{local, national} : std::vector<entry>{national, local});
    EXPECT_EQ(find_ids("星辰卡在哪里办理", {.agent_city = "杭州"}), (std::vector<std::string>{"kb-c", "kb-n"}));
    EXPECT_EQ(find_ids("星辰卡在哪里办理", {.agent_city = "宁波"}), (std::vector<std::string>{"kb-n", "kb-c"}));
    EXPECT_EQ(find_ids("星辰卡在哪里办理", {.regions = {"city:宁波", "province", "national"}, .agent_city = "宁波"}),
              (std::vector<std::string>{"kb-n"}));
  }
}

TEST_P(Index, PrecedenceDoesNotOverturnAClearWinner) {
  add({make("kb-n", "失业保险金怎么申领？", "失业保险金到参保地经办机构申领。"),
       make("kb-c", "社保卡怎么激活？", "社保卡到银行网点激活，也可申领失业保险金。", "pension", "city:杭州")});
  EXPECT_EQ(find_ids("失业保险金怎么申领", {.agent_city = "杭州"}).at(0), "kb-n");
}

TEST_P(Index, PinyinInitialsFindTheTerm) {
  add({make("kb-1", "社保卡丢了怎么挂失？", "拨打12333挂失。"), make("kb-2", "养老保险关系怎么转移？", "办理转移接续。"),
       make("kb-3", "失业登记在哪里办？", "到街道办理失业登记。"), make("kb-4", "银行卡怎么绑定社保卡？", "到银行网点。")});
  EXPECT_EQ(find_ids("sbk").at(0), "kb-1");  // kb-4 has 社保卡 in its question too, later
  EXPECT_EQ(find_ids("ylbx"), (std::vector<std::string>{"kb-2"}));
  EXPECT_EQ(find_ids("SYDJ"), (std::vector<std::string>{"kb-3"}));
  EXPECT_EQ(find_ids("yhk").at(0), "kb-4");  // 银行 read yin hang, not yin xing
  EXPECT_EQ(find_ids("sbk挂失").at(0), "kb-1");  // initials and characters together
  EXPECT_EQ(find_ids("ylbxgx"), (std::vector<std::string>{"kb-2"}));  // 养老保险关系: longer than a term, its pieces
  EXPECT_TRUE(find_ids("pdf").empty());  // looks like initials, means nothing here
}

INSTANTIATE_TEST_SUITE_P(Engines, Index, ::testing::Values(engine::xapian, engine::hot),
                         [](const auto& info) { return info.param == engine::hot ? "hot" : "xapian"; });

}  // namespace
