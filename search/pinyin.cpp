#include "search/pinyin.hpp"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

namespace hotline::kb {
namespace {

constexpr UChar32 first_han = 0x4E00;
constexpr UChar32 last_han = 0x9FFF;
constexpr size_t han_count = last_han - first_han + 1;

// Words whose reading differs from what ICU gives their characters: the most frequent such
// words in the seed content, and the region names 重庆, 长沙, 厦门, 西藏. Most change an
// initial (银行 yh, not yx); 退还, 了解 and the one-character 地 (ICU reads the particle de;
// this domain says 当地, 异地, 地区) only fix full pinyin. 发放 needs nothing: ICU reads 发 fa.
// At each character the longest word starting there wins.
struct word_reading {
  std::string_view word;
  std::string_view syllables;  // space-separated, one per character
};
constexpr std::array overrides{
    word_reading{"银行", "yin hang"},   word_reading{"行业", "hang ye"},
    word_reading{"延长", "yan chang"},  word_reading{"长期", "chang qi"},
    word_reading{"最长", "zui chang"},  word_reading{"多长", "duo chang"},
    word_reading{"时长", "shi chang"},  word_reading{"重复", "chong fu"},
    word_reading{"重新", "chong xin"},  word_reading{"重置", "chong zhi"},
    word_reading{"调解", "tiao jie"},   word_reading{"调整", "tiao zheng"},
    word_reading{"会计", "kuai ji"},    word_reading{"给予", "ji yu"},
    word_reading{"重庆", "chong qing"}, word_reading{"长沙", "chang sha"},
    word_reading{"厦门", "xia men"},    word_reading{"西藏", "xi zang"},
    word_reading{"退还", "tui huan"},   word_reading{"了解", "liao jie"},
    word_reading{"地", "di"},
};

struct pinyin_table {
  std::vector<std::string> syllables;  // sorted and distinct; [0] is "", no reading
  std::vector<uint16_t> of;            // per code point from first_han: index into syllables
};

icu::UnicodeString han_block_one_per_line() {
  icu::UnicodeString s;
  for (UChar32 c = first_han; c <= last_han; ++c) s.append(c).append(u'\n');
  return s;
}

// One call over the whole block, a character per line (measured: 21k one-character calls
// take 40 % longer; chunks of 200 or 2,000 characters gain nothing). Nearly all the time is
// ICU compiling Han-Latin's rules and trying them at each character. Returns the readings
// with their tone marks split off (NFD), one line per character, or "" when ICU fails.
icu::UnicodeString transliterated_han_block() {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> han_latin(
      icu::Transliterator::createInstance("Han-Latin", UTRANS_FORWARD, status));
  const auto* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return {};
  auto block = han_block_one_per_line();
  han_latin->transliterate(block);
  auto out = nfd->normalize(block, status);
  return U_FAILURE(status) ? icu::UnicodeString() : out;
}

// Each line as a toneless syllable, "" where ICU left the character as it was (it has no
// reading for a few dozen rare ones) or wrote something that is not a syllable.
std::vector<std::string> toneless_lines(const icu::UnicodeString& text) {
  std::vector<std::string> lines(1);
  bool valid = true;
  for (int32_t i = 0; i < text.length(); ++i) {
    char16_t c = text[i];
    std::string& line = lines.back();
    if (c == u'\n') {
      if (!valid) line.clear();
      lines.emplace_back();
      valid = true;
    } else if (c >= u'a' && c <= u'z') {
      line += static_cast<char>(c);
    } else if (c == 0x0308 && !line.empty() && line.back() == 'u') {
      line.back() = 'v';  // ü
    } else if (c < 0x0300 || c > 0x036F) {
      valid = false;  // anything but a combining mark (a tone)
    }
  }
  lines.pop_back();  // after the last newline
  return lines;
}

pinyin_table build_table() {
  auto lines = toneless_lines(transliterated_han_block());
  pinyin_table t{{""}, std::vector<uint16_t>(han_count, 0)};
  if (lines.size() != han_count) return t;
  t.syllables.insert(t.syllables.end(), lines.begin(), lines.end());
  std::sort(t.syllables.begin(), t.syllables.end());
  t.syllables.erase(std::unique(t.syllables.begin(), t.syllables.end()), t.syllables.end());
  for (size_t i = 0; i < han_count; ++i)
    t.of[i] = static_cast<uint16_t>(
        std::lower_bound(t.syllables.begin(), t.syllables.end(), lines[i]) - t.syllables.begin());
  return t;
}

const pinyin_table& table() {
  static const pinyin_table t = build_table();
  return t;
}

std::string_view reading_of(const pinyin_table& t, UChar32 c) {
  if (c < first_han || c > last_han) return {};
  return t.syllables[t.of[c - first_han]];
}

const word_reading* override_at(std::string_view text) {
  const word_reading* best = nullptr;
  for (const auto& o : overrides)
    if (text.starts_with(o.word) && (!best || o.word.size() > best->word.size())) best = &o;
  return best;
}

void append_syllables(std::string_view syllables, pinyin_run& run) {
  while (!syllables.empty()) {
    auto space = syllables.find(' ');
    run.push_back(syllables.substr(0, space));
    syllables.remove_prefix(space == std::string_view::npos ? syllables.size() : space + 1);
  }
}

void end_run(pinyin_run& run, std::vector<pinyin_run>& runs) {
  if (!run.empty()) runs.push_back(std::move(run));
  run.clear();
}

bool is_syllable(std::string_view s) {
  const auto& syllables = table().syllables;
  return s.find_first_of("aeiouv") != std::string_view::npos &&
         std::binary_search(syllables.begin(), syllables.end(), s);
}

// Whether `letters` (lower case) splits into syllables; the longest syllable has 6 letters.
bool reads_as_syllables(std::string_view letters) {
  std::vector<bool> prefix_splits(letters.size() + 1, false);  // [n]: letters[0, n) does
  prefix_splits[0] = true;
  for (size_t end = 1; end <= letters.size(); ++end)
    for (size_t len = 1; len <= std::min<size_t>(6, end) && !prefix_splits[end]; ++len)
      prefix_splits[end] = prefix_splits[end - len] && is_syllable(letters.substr(end - len, len));
  return prefix_splits[letters.size()];
}

}  // namespace

bool load_pinyin_table() { return table().syllables.size() > 1; }

std::vector<pinyin_run> pinyin_runs(std::string_view utf8) {
  const auto& t = table();
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  std::vector<pinyin_run> runs;
  pinyin_run run;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, utf8.size(), c);  // c < 0 for a bad byte, which it skips
    auto reading = reading_of(t, c);
    if (reading.empty()) {
      end_run(run, runs);
    } else if (const auto* o = override_at(utf8.substr(start))) {
      append_syllables(o->syllables, run);
      i = start + o->word.size();
    } else {
      run.push_back(reading);
    }
  }
  end_run(run, runs);
  return runs;
}

std::vector<std::string> pinyin_initial_runs(std::string_view utf8) {
  std::vector<std::string> out;
  for (const auto& run : pinyin_runs(utf8)) {
    std::string initials;
    for (auto syllable : run) initials += syllable.front();
    out.push_back(std::move(initials));
  }
  return out;
}

std::string full_pinyin(std::string_view utf8) {
  std::string out;
  for (const auto& run : pinyin_runs(utf8)) {
    if (!out.empty()) out += ' ';
    for (auto syllable : run) out += syllable;
  }
  return out;
}

bool looks_like_initials(std::string_view token) {
  if (token.size() < 2 || token.size() > 8) return false;
  std::string letters;
  for (char c : token) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c < 'a' || c > 'z') return false;
    letters += c;
  }
  return !reads_as_syllables(letters);
}

}  // namespace hotline::kb
