// The result list's answer excerpt: which characters are highlighted, the window, escaping.
#include "search/snippet.hpp"

#include <gtest/gtest.h>

namespace {

using hotline::kb::make_snippet;
using hotline::kb::snippet_terms;

TEST(Snippet, OverlappingTermsMarkOneRun) {
  // 社保 and 保卡 overlap: 社保卡 is one highlighted run.
  EXPECT_EQ(make_snippet("补办社保卡要带身份证。", {"社保", "保卡"}), "补办<b>社保卡</b>要带身份证。");
  // Every occurrence, and a term said twice in a row.
  EXPECT_EQ(make_snippet("社保社保，社保", {"社保"}), "<b>社保社保</b>，<b>社保</b>");
}

TEST(Snippet, OneByteAndWordTerms) {
  EXPECT_EQ(make_snippet("拨打12333或12345", {"1"}), "拨打<b>1</b>2333或<b>1</b>2345");
  EXPECT_EQ(make_snippet("拨打12333咨询", {"12333"}), "拨打<b>12333</b>咨询");
  EXPECT_EQ(make_snippet("abc", {"", "c", "bc"}), "a<b>bc</b>");
}

TEST(Snippet, ATermMatchesOnlyWholeCharacters) {
  // 社 is E7 A4 BE; its last two bytes begin no character, so they never match.
  EXPECT_EQ(make_snippet("社会", {"\xA4\xBE"}), "社会");
  // A term cut inside its last character still marks the character it starts in.
  EXPECT_EQ(make_snippet("社会", {"\xE7\xA4"}), "<b>社</b>会");
}

TEST(Snippet, InvalidBytesAreDroppedAndHtmlEscaped) {
  EXPECT_EQ(make_snippet("a\xFF<b>&\"'", {"&"}), "a&lt;b&gt;<b>&amp;</b>&quot;&#39;");
}

TEST(Snippet, WindowHoldsTheMostMarkedCharacters) {
  std::string text = "第一句话没有关键词在这里，第二句话讲失业保险金怎么申领，第三句话也没有。";
  // The first 12-character window with all four marked ones, ellipses where text is cut.
  EXPECT_EQ(make_snippet(text, {"失业", "保险"}, 12), "…这里，第二句话讲<b>失业保险</b>…");
  EXPECT_EQ(make_snippet(text, {"失业", "保险", "申领"}, 16), "…里，第二句话讲<b>失业保险</b>金怎么<b>申领</b>…");
  // Short enough: all of it, no ellipsis.
  EXPECT_EQ(make_snippet("失业保险金", {"保险"}, 12), "失业<b>保险</b>金");
}

TEST(Snippet, PreparedTermsServeManyTexts) {
  snippet_terms terms({"社保", "卡"});
  EXPECT_EQ(make_snippet("社保卡", terms), "<b>社保卡</b>");
  EXPECT_EQ(make_snippet("银行卡", terms), "银行<b>卡</b>");
  EXPECT_EQ(make_snippet("", terms), "");
}

}  // namespace
