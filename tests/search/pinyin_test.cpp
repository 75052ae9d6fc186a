// Pinyin readings for initials and full-pinyin search: domain terms, the word overrides,
// text around the Chinese, and input that is not what it should be.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "search/pinyin.hpp"

namespace {

using hotline::kb::full_pinyin;
using hotline::kb::looks_like_initials;
using hotline::kb::pinyin_initial_runs;
using hotline::kb::pinyin_runs;
using strings = std::vector<std::string>;

std::string utf8_of(char32_t c) {
  std::string s;
  if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  }
  s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  s += static_cast<char>(0x80 | (c & 0x3F));
  return s;
}

// First in the file so that it usually pays for the build (prints 0 ms when another test did).
TEST(Pinyin, TableLoadsAndReadsAlmostTheWholeBlock) {
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(hotline::kb::load_pinyin_table());
  std::cout << "pinyin table: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
            << " ms\n";
  std::string block;
  for (char32_t c = 0x4E00; c <= 0x9FFF; ++c) block += utf8_of(c);
  size_t read = 0;
  for (const auto& run : pinyin_runs(block)) read += run.size();
  // ICU 72 has no reading for 86 of the 20,992: most characters past U+9FA5, added later,
  // and ten unit ideographs (兙, 瓰, ...).
  EXPECT_GE(read, 20900u);
}

TEST(Pinyin, InitialsOfDomainTerms) {
  EXPECT_EQ(pinyin_initial_runs("养老保险"), strings{"ylbx"});
  EXPECT_EQ(pinyin_initial_runs("社保卡"), strings{"sbk"});
  EXPECT_EQ(pinyin_initial_runs("失业保险金"), strings{"sybxj"});
  EXPECT_EQ(pinyin_initial_runs("失业登记"), strings{"sydj"});
  EXPECT_EQ(pinyin_initial_runs("工伤认定"), strings{"gsrd"});
  EXPECT_EQ(pinyin_initial_runs("医保"), strings{"yb"});
  // The same initials as 养老保险: the query's other words decide between them.
  EXPECT_EQ(pinyin_initial_runs("医疗保险"), strings{"ylbx"});
  EXPECT_EQ(pinyin_initial_runs("发放"), strings{"ff"});  // ICU reads 发 fa already
}

TEST(Pinyin, RetroflexInitialsAreTheirFirstLetter) {
  EXPECT_EQ(pinyin_initial_runs("支付宝"), strings{"zfb"});
  EXPECT_EQ(pinyin_initial_runs("身份证"), strings{"sfz"});
  EXPECT_EQ(pinyin_initial_runs("城市"), strings{"cs"});
}

TEST(Pinyin, FullPinyinIsTonelessWithUmlautAsV) {
  EXPECT_EQ(full_pinyin("医保"), "yibao");
  EXPECT_EQ(full_pinyin("养老保险关系转移"), "yanglaobaoxianguanxizhuanyi");
  EXPECT_EQ(full_pinyin("旅游"), "lvyou");
  EXPECT_EQ(full_pinyin("女"), "nv");
}

TEST(Pinyin, OverridesReadWordsAsTheDomainSaysThem) {
  const std::pair<const char*, const char*> cases[] = {
      {"银行", "yinhang"},   {"行业", "hangye"},     {"延长", "yanchang"}, {"长期", "changqi"},
      {"最长", "zuichang"},  {"多长", "duochang"},   {"时长", "shichang"}, {"重复", "chongfu"},
      {"重新", "chongxin"},  {"重置", "chongzhi"},   {"调解", "tiaojie"},  {"调整", "tiaozheng"},
      {"会计", "kuaiji"},    {"给予", "jiyu"},       {"重庆", "chongqing"}, {"长沙", "changsha"},
      {"厦门", "xiamen"},    {"西藏", "xizang"},     {"退还", "tuihuan"},  {"了解", "liaojie"},
  };
  for (auto [word, reading] : cases) {
    EXPECT_EQ(full_pinyin(word), reading) << word;
    // Each entry earns its place: ICU, reading the characters one by one, says otherwise.
    std::string apart = full_pinyin(std::string(word, 3) + "," + (word + 3));
    std::erase(apart, ' ');
    EXPECT_NE(apart, reading) << word;
  }
  EXPECT_EQ(full_pinyin("地"), "di");
  EXPECT_EQ(full_pinyin("异地就医"), "yidijiuyi");
}

TEST(Pinyin, OverridesChangeInitialsInsideLongerText) {
  EXPECT_EQ(pinyin_initial_runs("银行卡"), strings{"yhk"});
  EXPECT_EQ(pinyin_initial_runs("银行业"), strings{"yhy"});
  EXPECT_EQ(pinyin_initial_runs("重新申请延长缴费"), strings{"cxsqycjf"});
  // Outside the listed words a character keeps ICU's reading.
  EXPECT_EQ(full_pinyin("执行"), "zhixing");
  EXPECT_EQ(full_pinyin("增长"), "zengzhang");
  EXPECT_EQ(full_pinyin("严重"), "yanzhong");
}

TEST(Pinyin, EverythingButChineseEndsARun) {
  EXPECT_EQ(pinyin_initial_runs("社保卡怎么补办？医保, ABC 123工伤认定!"), (strings{"sbkzmbb", "yb", "gsrd"}));
  EXPECT_EQ(full_pinyin("医保卡丢了，怎么办"), "yibaokadiule zenmeban");
  EXPECT_EQ(pinyin_initial_runs("社保 卡"), (strings{"sb", "k"}));
  EXPECT_TRUE(pinyin_initial_runs("hello, world 123").empty());
}

TEST(Pinyin, EmptyInput) {
  EXPECT_TRUE(pinyin_runs("").empty());
  EXPECT_TRUE(pinyin_initial_runs("").empty());
  EXPECT_EQ(full_pinyin(""), "");
}

TEST(Pinyin, BadUtf8IsSkippedAsABreak) {
  EXPECT_EQ(pinyin_initial_runs("社保\xff\xfe卡"), (strings{"sb", "k"}));
  EXPECT_EQ(pinyin_initial_runs("\x80\xbf社保"), strings{"sb"});          // stray continuation bytes
  EXPECT_EQ(pinyin_initial_runs("社\xc0\xaf保"), (strings{"s", "b"}));    // overlong '/'
  EXPECT_EQ(pinyin_initial_runs("社\xed\xa0\x80保"), (strings{"s", "b"}));  // a surrogate
  EXPECT_EQ(pinyin_initial_runs("社保\xe5\x8d"), strings{"sb"});          // 卡 cut short
  EXPECT_EQ(pinyin_initial_runs("\xe9"), strings{});
  EXPECT_EQ(pinyin_initial_runs("银\xe8\xa1"), strings{"y"});  // 行 cut short: no override
}

TEST(Pinyin, CharactersOutsideTheTableEndARun) {
  EXPECT_EQ(pinyin_initial_runs("社" + utf8_of(0x3400) + "保"), (strings{"s", "b"}));   // Extension A
  EXPECT_EQ(pinyin_initial_runs("社" + utf8_of(0x20000) + "保"), (strings{"s", "b"}));  // Extension B
  EXPECT_EQ(pinyin_initial_runs("社" + utf8_of(0xF900) + "保"), (strings{"s", "b"}));   // compatibility
  EXPECT_EQ(pinyin_initial_runs("社" + utf8_of(0x9FA6) + "保"), (strings{"s", "b"}));   // no ICU reading
  EXPECT_EQ(pinyin_initial_runs("社〇保"), (strings{"s", "b"}));
}

TEST(Pinyin, InitialsAreLettersThatAreNotPinyin) {
  for (const char* token : {"ylbx", "sbk", "sydj", "gsrd", "yb", "sfz", "YLBX", "Sbk", "mn", "ed", "pdf", "app"})
    EXPECT_TRUE(looks_like_initials(token)) << token;
  for (const char* token : {"yibao", "shebao", "yiliao", "xian", "YiBao", "ai", "lv", "y", "ylbxsbkg9", "ylbxsbkgs",
                            "yb2", "y-b", "医保", ""})
    EXPECT_FALSE(looks_like_initials(token)) << token;
}

}  // namespace
