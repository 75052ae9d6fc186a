#pragma once
// Pinyin for the knowledge base, so an agent on a busy line can type the initials of a term
// (ylbx for 养老保险, sbk for 社保卡) or its toneless pinyin (yibao for 医保) instead of the
// characters. Plain functions over UTF-8; the index and the query decide what to do with
// them. Uses ICU only (no Xapian, no CAF).
//
// Readings come from ICU's "Han-Latin" transliterator, one per character of the CJK Unified
// Ideographs block U+4E00-U+9FFF, toneless and lower-case, ü written v (lv for 率, as pinyin
// keyboards take it). The table is built on first use (0.45-0.65 s: ICU compiles and runs
// its rules; thread-safe) and costs ~55 KB.
//
// ICU gives each character one reading, which is wrong for some of this domain's words
// (银行 is yin hang, not yin xing; 延长 yan chang; 重新 chong xin; 调整 tiao zheng). A short
// word list in pinyin.cpp overrides the characters' readings where it matches (longest word
// first); its tests name every entry.
#include <string>
#include <string_view>
#include <vector>

namespace hotline::kb {

// One run of characters with a reading, one toneless syllable per character ("yin", "hang").
// The views point into static storage and stay valid for the life of the program.
using pinyin_run = std::vector<std::string_view>;

// Builds the table now and says whether ICU provided it (false: ICU's transliterator data is
// missing, and every function below sees no Chinese). Call at startup to move the first
// search's half second out of the way and to log a missing table.
bool load_pinyin_table();

// The maximal runs of characters with a reading. Everything else — ASCII, punctuation,
// spaces, other scripts, CJK characters outside U+4E00-U+9FFF, bytes that are not UTF-8 —
// ends a run and is skipped (TermGenerator already indexes ASCII words).
std::vector<pinyin_run> pinyin_runs(std::string_view utf8);

// The initials of each run, one ASCII letter per character, so byte i is character i of the
// run: "社保卡怎么补办？医保" -> {"sbkzmbb", "yb"}. The initial is the syllable's first letter:
// zh/ch/sh count as z/c/s, as people abbreviate (zfb for 支付宝, sfz for 身份证).
std::vector<std::string> pinyin_initial_runs(std::string_view utf8);

// The runs' syllables joined without spaces, runs separated by one space:
// "医保卡丢了，怎么办" -> "yibaokadiule zenmeban"; "医保" -> "yibao".
std::string full_pinyin(std::string_view utf8);

// Whether a query token is worth searching as initials: 2-8 ASCII letters (any case) that
// cannot be read as a string of pinyin syllables. So ylbx, sbk, gsrd, yb, sfz are initials;
// yibao, shebao, xian are pinyin; app, pdf, ok also count as initials (no syllables), which
// is why initials should be searched beside the token, never instead of it. A syllable here
// has a vowel (a e i o u v): the interjections m, n, hm would make any string of m and n
// pinyin. Builds the table on first use (the syllables come from it).
bool looks_like_initials(std::string_view token);

}  // namespace hotline::kb
