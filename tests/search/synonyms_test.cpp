// The curators' synonym dictionary: parsing, and which groups a typed question mentions.
#include <gtest/gtest.h>

#include "search/synonyms.hpp"

namespace {

using hotline::kb::synonyms;

TEST(Synonyms, ParsesGroups) {
  std::string error;
  auto s = synonyms::from_json(R"([["社保","社会保险"],["医保","医疗保险","基本医疗保险"]])", error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(s.groups().size(), 2u);
  EXPECT_EQ(s.groups()[1][2], "基本医疗保险");
}

TEST(Synonyms, RejectsWhatIsNotAListOfGroups) {
  for (const char* bad : {"", "{", R"({"groups":[]})", R"([["社保",1]])", R"(["社保"])"}) {
    std::string error;
    auto s = synonyms::from_json(bad, error);
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_TRUE(s.groups().empty()) << bad;
  }
}

TEST(Synonyms, DropsEmptyMembersDuplicatesAndLonelyWords) {
  synonyms s({{"社保", "", "社保", "社会保险"}, {"孤单"}, {"", ""}});
  ASSERT_EQ(s.groups().size(), 1u);
  EXPECT_EQ(s.groups()[0], (std::vector<std::string>{"社保", "社会保险"}));
}

TEST(Synonyms, GroupsInFindsMembersInsideUnspacedText) {
  synonyms s({{"社保", "社会保险"}, {"医保", "医疗保险"}, {"失业金", "失业保险金"}});
  auto g = s.groups_in("我想查一下社会保险交了几年");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ((*g[0])[0], "社保");
  EXPECT_EQ(s.groups_in("社保和医保都断了").size(), 2u);
  EXPECT_TRUE(s.groups_in("退休年龄").empty());
}

}  // namespace
