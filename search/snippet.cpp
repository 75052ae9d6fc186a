#include "search/snippet.hpp"

#include <algorithm>
#include <string_view>

namespace hotline::kb {

namespace {

// Byte length of the UTF-8 sequence starting with `lead`, 0 if it cannot start one.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 0;
  if (lead >= 0xC2) return 2;
  return 0;
}

// The text as code points: [start byte, length) of each, into `out` (reused).
void code_points(const std::string& text, std::vector<std::pair<size_t, size_t>>& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    size_t n = sequence_length(static_cast<unsigned char>(text[i]));
    bool valid = n != 0 && i + n <= text.size();
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (valid) out.emplace_back(i, n);
    i += valid ? n : 1;
  }
}

void escape_into(std::string& out, std::string_view s) {
  if (s.size() > 1) return (void)out.append(s);  // a multi-byte character: no markup in it
  for (char c : s) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
}

bool sentence_break(std::string_view cp) { return cp == "。" || cp == "，" || cp == "；" || cp == "\n"; }

uint16_t two_bytes(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) << 8 | static_cast<unsigned char>(p[1]));
}

}  // namespace

snippet_terms::snippet_terms(std::vector<std::string> terms) : terms_(std::move(terms)), starts_(65536 / 64) {
  for (uint32_t i = 0; i < terms_.size(); ++i) {
    const auto& t = terms_[i];
    if (t.size() == 1) one_byte_.push_back(i);
    if (t.size() <= 1) continue;
    auto key = two_bytes(t.data());
    by_start_.emplace_back(key, i);
    starts_[key / 64] |= uint64_t{1} << (key % 64);
  }
  std::sort(by_start_.begin(), by_start_.end());
}

template <class F>
void snippet_terms::each_at(std::string_view text, size_t at, F&& mark) const {
  for (auto i : one_byte_)
    if (text[at] == terms_[i][0]) mark(size_t{1});
  if (at + 1 >= text.size()) return;
  auto key = two_bytes(text.data() + at);
  if (!(starts_[key / 64] >> (key % 64) & 1)) return;  // most characters start no term
  auto it = std::lower_bound(by_start_.begin(), by_start_.end(), std::pair<uint16_t, uint32_t>(key, 0));
  for (; it != by_start_.end() && it->first == key; ++it) {
    const auto& t = terms_[it->second];
    if (text.compare(at, t.size(), t) == 0) mark(t.size());
  }
}

std::string make_snippet(const std::string& text, const std::vector<std::string>& terms, size_t width) {
  return make_snippet(text, snippet_terms(terms), width);
}

std::string make_snippet(const std::string& text, const snippet_terms& terms, size_t width) {
  thread_local std::vector<std::pair<size_t, size_t>> cps;  // reused: no allocation per hit
  thread_local std::vector<char> marked;
  code_points(text, cps);
  // Which characters a term covers (a term counts where it starts a character: UTF-8
  // makes that the only place a whole character sequence can match).
  marked.assign(cps.size(), 0);
  for (size_t c = 0; c < cps.size(); ++c)
    terms.each_at(text, cps[c].first, [&](size_t length) {
      for (size_t k = c; k < cps.size() && cps[k].first < cps[c].first + length; ++k) marked[k] = 1;
    });
  // The window with the most marked characters, then back to the start of its clause.
  size_t begin = 0, end = cps.size();
  if (cps.size() > width) {
    size_t count = 0, best = 0;
    for (size_t i = 0; i < width; ++i) count += marked[i];
    best = count;
    for (size_t s = 1; s + width <= cps.size(); ++s) {
      count += marked[s + width - 1];
      count -= marked[s - 1];
      if (count > best) best = count, begin = s;
    }
    size_t last = begin;  // the window's last marked character stays in it
    for (size_t i = begin; i < begin + width; ++i)
      if (marked[i]) last = i;
    size_t earliest = last + 1 > width ? last + 1 - width : 0;
    for (size_t back = 0; back < 8 && begin > earliest; ++back, --begin) {
      auto prev = std::string_view(text).substr(cps[begin - 1].first, cps[begin - 1].second);
      if (sentence_break(prev)) break;
    }
    end = std::min(cps.size(), begin + width);
  }
  std::string out;
  out.reserve(text.size() < 4 * width ? text.size() + 64 : 4 * width + 64);
  if (begin > 0) out += "…";
  for (size_t i = begin; i < end; ++i) {
    if (marked[i] && (i == begin || !marked[i - 1])) out += "<b>";
    escape_into(out, std::string_view(text).substr(cps[i].first, cps[i].second));
    if (marked[i] && (i + 1 == end || !marked[i + 1])) out += "</b>";
  }
  if (end < cps.size()) out += "…";
  return out;
}

}  // namespace hotline::kb
