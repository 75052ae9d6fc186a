// The query's n-grams: plain Chinese text is split without Xapian's TermGenerator (a fast
// path); whatever the text, the terms must be exactly the TermGenerator's, which built
// the index.
#include "search/query_plan.hpp"

#include <gtest/gtest.h>
#include <xapian.h>

#include <random>

namespace {

std::vector<std::string> reference(const std::string& text) {
  Xapian::TermGenerator tg;
  tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  Xapian::Document doc;
  tg.set_document(doc);
  tg.index_text_without_positions(text);
  std::vector<std::string> out;
  for (auto it = doc.termlist_begin(); it != doc.termlist_end(); ++it) out.push_back(*it);
  return out;
}

std::vector<std::string> ours(const std::string& text) {
  Xapian::TermGenerator tg;
  tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  return hotline::kb::ngrams(tg, text);
}

TEST(Ngrams, CallersQuestionsSplitAsTheIndexWas) {
  for (const char* text : {"我换城市工作了养老保险怎么办", "公司不给交社保能投诉吗？", "喂，你好，请问失业金怎么领！",
                           "社保卡丢了、怎么补办：要带身份证吗；", "　医保　报销", "社", "", "，。？",
                           "12333能查吗", "我的sbk丢了", "养老保险（城乡居民）", "退休金2024年涨了吗", "鿿龦社保"})
    EXPECT_EQ(ours(text), reference(text)) << text;
}

TEST(Ngrams, RandomTextSplitsAsTheTermGeneratorDoes) {
  // Ideographs at and past the ends of the fast path's block, separators, and what sends
  // a text to the TermGenerator: Latin, digits, other punctuation, emoji, bad bytes.
  const std::vector<std::string> alphabet = {"一", "丁", "社", "保", "卡", "龥", "龦", "鿿", "㐀", " ", ",", ".", "?",
                                             "!", ";", ":", "，", "。", "？", "！", "；", "：", "、", "\u3000", "a", "B",
                                             "1", "-", "'", "（", "😀", "\xFF", "\xE4\xB8"};
  std::mt19937 random(12333);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int n = static_cast<int>(random() % 16); n > 0; --n) {
      // Mostly the fast path's own characters, so that both paths are exercised.
      size_t pick = random() % 4 ? random() % 23 : random() % alphabet.size();
      text += alphabet[pick];
    }
    ASSERT_EQ(ours(text), reference(text)) << text;
  }
}

}  // namespace
