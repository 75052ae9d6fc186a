// The curation workflow's rules (N-28) without actors or storage.
#include <gtest/gtest.h>

#include "actors/kb/workflow.hpp"

using namespace hotline::kb;

namespace {

entry content(std::string q = "养老保险关系怎么转移？") {
  entry e;
  e.id = "kb-0001";
  e.question = std::move(q);
  e.answer = "到新参保地社保经办机构申请转移接续。";
  e.topic = "pension";
  e.region = "national";
  e.effective = "2024-01-01";
  return e;
}

template <class T>
const T& ok(const outcome& o) {
  EXPECT_TRUE(std::holds_alternative<step>(o)) << (std::holds_alternative<kb_error>(o) ? std::get<kb_error>(o).message : "");
  return std::get<T>(o);
}

kb_error::kind failure(const outcome& o) {
  EXPECT_TRUE(std::holds_alternative<kb_error>(o));
  return std::holds_alternative<kb_error>(o) ? std::get<kb_error>(o).what : kb_error::kind::invalid;
}

entry in_review_by(const std::string& author) {
  auto draft = ok<step>(create(content(), author, 1)).writes.front();
  return ok<step>(submit(draft, author, 2)).writes.front();
}

}  // namespace

TEST(KbWorkflow, CreateMakesVersionOneDraft) {
  auto v = ok<step>(create(content(), "cur1", 10)).writes.front();
  EXPECT_EQ(v.version, 1u);
  EXPECT_EQ(v.state, status::draft);
  EXPECT_EQ(v.author, "cur1");
}

TEST(KbWorkflow, ContentIsValidated) {
  auto e = content();
  e.answer.clear();
  EXPECT_EQ(failure(create(e, "cur1", 1)), kb_error::kind::invalid);
  e = content();
  e.region = "mars";
  EXPECT_EQ(failure(create(e, "cur1", 1)), kb_error::kind::invalid);
  e = content();
  e.expires = "2023-01-01";  // before effective
  EXPECT_EQ(failure(create(e, "cur1", 1)), kb_error::kind::invalid);
  e = content();
  e.region = "city:杭州";
  EXPECT_TRUE(std::holds_alternative<step>(create(e, "cur1", 1)));
}

TEST(KbWorkflow, NoSelfReview) {
  auto v = in_review_by("cur1");
  EXPECT_EQ(failure(approve(v, nullptr, nullptr, "cur1", "", "2026-11-23", 3)), kb_error::kind::forbidden);
  auto published = ok<step>(approve(v, nullptr, nullptr, "cur2", "", "2026-11-23", 3)).writes.front();
  EXPECT_EQ(published.state, status::published);
  EXPECT_EQ(published.reviewer, "cur2");
}

TEST(KbWorkflow, OnlyDraftsAreSubmittedAndOnlyReviewsApproved) {
  auto draft = ok<step>(create(content(), "cur1", 1)).writes.front();
  EXPECT_EQ(failure(approve(draft, nullptr, nullptr, "cur2", "", "2026-11-23", 2)), kb_error::kind::conflict);
  auto review = ok<step>(submit(draft, "cur1", 2)).writes.front();
  EXPECT_EQ(failure(submit(review, "cur1", 3)), kb_error::kind::conflict);
  EXPECT_EQ(failure(update(review, content("改了"), "cur1", 3)), kb_error::kind::conflict);
}

TEST(KbWorkflow, RejectSendsBackToDraft) {
  auto v = ok<step>(reject(in_review_by("cur1"), "exp1", 5)).writes.front();
  EXPECT_EQ(v.state, status::draft);
  EXPECT_TRUE(std::holds_alternative<step>(submit(v, "cur1", 6)));
}

TEST(KbWorkflow, EditingPublishedStartsNextVersionAndPublishingSupersedesOld) {
  auto v1 = ok<step>(approve(in_review_by("cur1"), nullptr, nullptr, "cur2", "", "2026-11-23", 3)).writes.front();
  auto v2 = ok<step>(update(v1, content("养老保险跨省转移怎么办理？"), "cur1", 4)).writes.front();
  EXPECT_EQ(v2.version, 2u);
  EXPECT_EQ(v2.state, status::draft);
  auto r2 = ok<step>(submit(v2, "cur1", 5)).writes.front();
  auto s = ok<step>(approve(r2, &v1, nullptr, "cur2", "", "2026-11-23", 6));
  ASSERT_EQ(s.writes.size(), 2u);
  EXPECT_EQ(s.writes[0].version, 2u);
  EXPECT_EQ(s.writes[0].state, status::published);
  EXPECT_EQ(s.writes[1].version, 1u);
  EXPECT_EQ(s.writes[1].state, status::superseded);
}

TEST(KbWorkflow, SupersedesLinkRetiresTheReplacedEntry) {
  entry old_policy = content("旧办法");
  old_policy.id = "kb-0009";
  old_policy.state = status::published;
  auto e = content("新办法");
  e.id = "kb-0010";
  e.supersedes = "kb-0009";
  auto draft = ok<step>(create(e, "cur1", 1)).writes.front();
  auto review = ok<step>(submit(draft, "cur1", 2)).writes.front();
  auto s = ok<step>(approve(review, nullptr, &old_policy, "cur2", "", "2026-11-23", 3));
  ASSERT_EQ(s.writes.size(), 2u);
  EXPECT_EQ(s.writes[1].id, "kb-0009");
  EXPECT_EQ(s.writes[1].state, status::superseded);
}

TEST(KbWorkflow, ScheduledPublishWaitsForItsDay) {
  auto v = ok<step>(approve(in_review_by("cur1"), nullptr, nullptr, "cur2", "2026-12-01", "2026-11-23", 3)).writes.front();
  EXPECT_EQ(v.state, status::approved);
  EXPECT_FALSE(sweep(v, nullptr, nullptr, "2026-11-30", 4));
  auto s = sweep(v, nullptr, nullptr, "2026-12-01", 5);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->writes.front().state, status::published);
}

TEST(KbWorkflow, ExpiryRetiresPublishedEntries) {
  auto e = content();
  e.expires = "2026-12-31";
  auto v = ok<step>(create(e, "cur1", 1)).writes.front();
  v = ok<step>(submit(v, "cur1", 2)).writes.front();
  v = ok<step>(approve(v, nullptr, nullptr, "cur2", "", "2026-11-23", 3)).writes.front();
  EXPECT_FALSE(sweep(v, &v, nullptr, "2026-12-30", 4));
  auto s = sweep(v, &v, nullptr, "2026-12-31", 5);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->writes.front().state, status::expired);
}

TEST(KbWorkflow, DiffShowsChangedFieldsWithCharacterSegments) {
  auto a = content("养老保险关系怎么转移？");
  auto b = content("养老保险关系如何转移？");
  b.tags = {"转移接续"};
  auto changes = diff(a, b);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].field, "question");
  std::string removed, added;
  for (const auto& s : changes[0].diff) {
    if (s.op == '-') removed += s.text;
    if (s.op == '+') added += s.text;
  }
  EXPECT_EQ(removed, "怎么");
  EXPECT_EQ(added, "如何");
  EXPECT_EQ(changes[1].field, "tags");
}

TEST(KbWorkflow, RegionPrecedence) {
  EXPECT_EQ(region_rank("city:杭州", "杭州"), 0);
  EXPECT_EQ(region_rank("province", "杭州"), 1);
  EXPECT_EQ(region_rank("national", "杭州"), 2);
  EXPECT_EQ(region_rank("city:宁波", "杭州"), -1);
}
