// The in-memory index against Xapian: the same scores when nothing is left out, and the
// overlay of changed documents until the base is rebuilt.
#include "search/hot_index.hpp"

#include <gtest/gtest.h>
#include <xapian.h>

#include "search/index.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace hotline::kb;

entry make(const std::string& id, const std::string& question, const std::string& answer,
           const std::string& region = "national") {
  entry e;
  e.id = id;
  e.question = question;
  e.answer = answer;
  e.topic = "pension";
  e.region = region;
  e.effective = "2020-01-01";
  e.state = status::published;
  return e;
}

const char* const subjects[] = {"养老保险", "医保报销", "失业登记", "工伤认定", "生育津贴", "社保卡", "公积金", "退休手续"};
const char* const actions[] = {"怎么办理", "需要什么材料", "在哪里办", "多久到账", "能不能补缴", "怎么查询"};

class HotIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    writer_ = index_writer::open(dir_.path(), error);
    ASSERT_TRUE(writer_) << error;
  }
  void commit() {
    std::string error;
    ASSERT_TRUE(writer_->commit(error)) << error;
  }
  // Entries kb-<from>..kb-<to - 1> asking about `subject`, committed; their id terms.
  std::vector<std::string> upsert_numbered(int from, int to, const std::string& subject) {
    std::vector<std::string> changed;
    for (int i = from; i < to; ++i) {
      writer_->upsert(make("kb-" + std::to_string(i), subject + "第" + std::to_string(i) + "问？", subject + "的答复。"));
      changed.push_back("Qkb-" + std::to_string(i));
    }
    commit();
    return changed;
  }
  std::vector<std::string> ids(const hot_snapshot& snap, const std::string& text, size_t want = 10) {
    Xapian::TermGenerator tg;
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    auto plan = make_plan(tg, text, {}, [&](const std::string& t) { return snap.freq(t); }, snap.documents());
    search_query q;
    q.text = text;
    std::vector<std::string> out;
    for (const auto& r : snap.search(plan, q, {}, want).ranked) out.push_back(r.doc->id);
    return out;
  }
  hotline::test::temp_dir dir_;
  std::unique_ptr<index_writer> writer_;
};

TEST_F(HotIndex, ScoresAsXapianDoesWhenNothingIsLeftOut) {
  for (int i = 0; i < 240; ++i)
    writer_->upsert(make("kb-" + std::to_string(i),
                         std::string(subjects[i % 8]) + actions[i % 6] + "？",
                         std::string("关于") + subjects[(i / 8) % 8] + "的答复，" + actions[(i / 3) % 6] + "请到窗口。",
                         i % 5 == 0 ? "city:杭州" : i % 5 == 1 ? "province" : "national"));
  commit();
  std::string error;
  auto fast = index_reader::open(dir_.path(), error, {}, writer_->hot());
  auto full = index_reader::open(dir_.path(), error);
  ASSERT_TRUE(fast && full) << error;
  size_t compared = 0;
  for (const char* text : {"养老保险怎么办理", "我想问一下医保报销需要什么材料", "失业登记", "工伤认定在哪里办啊",
                           "社保卡多久到账", "退休手续能不能补缴", "公积金怎么查询呀", "生育津贴"}) {
    search_query q;
    q.text = text;
    q.agent_city = "杭州";
    q.limit = 10;
    auto a = fast->search(q, {}).hits, b = full->search(q, {}).hits;
    ASSERT_EQ(a.size(), b.size()) << text;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a[i].score, b[i].score, 1e-6 * b[i].score) << text << " #" << i;
      // Equal scores may come in either order; a distinct score must be the same entry.
      bool distinct = (i == 0 || a[i - 1].score - a[i].score > 1e-9) &&
                      (i + 1 == a.size() || a[i].score - a[i + 1].score > 1e-9);
      if (distinct) {
        EXPECT_EQ(a[i].id, b[i].id) << text << " #" << i;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 40u);
}

TEST_F(HotIndex, ChangedDocumentsAreSeenAtOnceThenFoldedIntoARebuild) {
  writer_->upsert(make("kb-1", "养老保险怎么转移？", "办理转移接续。"));
  writer_->upsert(make("kb-2", "社保卡怎么挂失？", "拨打12333挂失。"));
  commit();
  hot_index hot({.postings_per_term = 1000, .rescored = 100, .overlay_limit = 4});
  hot.rebuild(Xapian::Database(dir_.path()));
  EXPECT_EQ(hot.snapshot()->documents(), 2u);
  EXPECT_EQ(ids(*hot.snapshot(), "社保卡挂失"), (std::vector<std::string>{"kb-2"}));

  // Replace kb-2, add kb-3: an overlay over the base; the old kb-2 text is gone.
  writer_->upsert(make("kb-2", "社保卡怎么补办？", "到银行网点补办。"));
  writer_->upsert(make("kb-3", "失业金怎么领？", "失业登记后申领。"));
  commit();
  hot.update(Xapian::Database(dir_.path()), {"Qkb-2", "Qkb-3"});
  auto snap = hot.snapshot();
  EXPECT_TRUE(snap->overlay);
  EXPECT_EQ(snap->documents(), 3u);
  EXPECT_EQ(ids(*snap, "社保卡补办"), (std::vector<std::string>{"kb-2"}));
  EXPECT_TRUE(ids(*snap, "挂失").empty());
  EXPECT_EQ(ids(*snap, "失业金"), (std::vector<std::string>{"kb-3"}));

  // Remove kb-1.
  writer_->remove("kb-1");
  commit();
  hot.update(Xapian::Database(dir_.path()), {"Qkb-1"});
  EXPECT_TRUE(ids(*hot.snapshot(), "养老保险转移").empty());
  EXPECT_EQ(hot.snapshot()->documents(), 2u);

  // Past the overlay limit: rebuilt from the database, no overlay, same answers.
  hot.update(Xapian::Database(dir_.path()), upsert_numbered(4, 8, "工伤认定"));
  snap = hot.snapshot();
  EXPECT_FALSE(snap->overlay);
  EXPECT_EQ(snap->documents(), 6u);
  EXPECT_EQ(ids(*snap, "工伤认定").size(), 4u);
  EXPECT_EQ(ids(*snap, "社保卡补办"), (std::vector<std::string>{"kb-2"}));
}

// Filters are kept as bitmaps per snapshot: asked again, a filter answers from its bitmap;
// after a change, the new snapshot's bitmap sees the document's new region.
TEST_F(HotIndex, AFilterAskedAgainSeesTheChangedDocuments) {
  writer_->upsert(make("kb-1", "养老保险怎么转移？", "办理转移接续。", "city:杭州"));
  writer_->upsert(make("kb-2", "养老保险怎么补缴？", "到窗口补缴。", "city:宁波"));
  // Every region in the base already, so the filter is the same one after the change.
  writer_->upsert(make("kb-3", "失业登记在哪里办？", "到街道办理。", "national"));
  commit();
  hot_index hot;
  hot.rebuild(Xapian::Database(dir_.path()));
  auto in_hangzhou = [&](const hot_snapshot& snap) {
    Xapian::TermGenerator tg;
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    auto plan = make_plan(tg, "养老保险", {}, [&](const std::string& t) { return snap.freq(t); }, snap.documents());
    search_query q;
    q.regions = {"city:杭州", "national"};
    std::vector<std::string> out;
    for (const auto& r : snap.search(plan, q, {}, 10).ranked) out.push_back(r.doc->id);
    return out;
  };
  auto before = hot.snapshot();
  EXPECT_EQ(in_hangzhou(*before), (std::vector<std::string>{"kb-1"}));
  EXPECT_EQ(in_hangzhou(*before), (std::vector<std::string>{"kb-1"}));  // from the kept bitmap
  EXPECT_EQ(ids(*before, "养老保险").size(), 2u);                      // another filter: its own

  writer_->upsert(make("kb-1", "养老保险怎么转移？", "办理转移接续。", "city:宁波"));
  writer_->upsert(make("kb-2", "养老保险怎么补缴？", "到窗口补缴。", "national"));
  commit();
  hot.update(Xapian::Database(dir_.path()), {"Qkb-1", "Qkb-2"});
  EXPECT_EQ(in_hangzhou(*hot.snapshot()), (std::vector<std::string>{"kb-2"}));
  EXPECT_EQ(in_hangzhou(*before), (std::vector<std::string>{"kb-1"}));  // a reader's older snapshot is unchanged
}

TEST_F(HotIndex, AnEmptyIndexAnswersNothingThenTakesTheStarterContent) {
  commit();
  hot_index hot;
  EXPECT_TRUE(ids(*hot.snapshot(), "养老保险").empty());  // not loaded yet
  hot.rebuild(Xapian::Database(dir_.path()));
  EXPECT_TRUE(ids(*hot.snapshot(), "养老保险").empty());
  EXPECT_EQ(hot.snapshot()->documents(), 0u);
  // The starter content landing on the empty base is folded into a new base at once.
  hot.update(Xapian::Database(dir_.path()), upsert_numbered(0, 100, "养老保险"));
  EXPECT_FALSE(hot.snapshot()->overlay);
  EXPECT_EQ(hot.snapshot()->documents(), 100u);
  EXPECT_EQ(ids(*hot.snapshot(), "养老保险", 200).size(), 100u);
}

}  // namespace
