#include "search/query_plan.hpp"

#include <xapian.h>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "search/index_layout.hpp"
#include "search/pinyin.hpp"

namespace hotline::kb {

namespace {

// One synonym-group member: its bigrams (its only term when it is one character or one
// word). All of a 2-4 character word's bigrams in a document almost always mean the word
// itself, without relying on positions.
std::vector<std::string> member_terms(Xapian::TermGenerator& tg, const std::string& member) {
  auto terms = ngrams(tg, member);
  std::vector<std::string> words;
  for (auto& t : terms)
    if (!is_cjk_unigram(t)) words.push_back(std::move(t));
  return words.empty() ? terms : words;  // a one-character member: its unigram
}

// A synonym group as one weighted "term": one bigram per member (its rarest, the best
// stand-in for the word), so a document's wdf for the group is about how often it says
// any member; only documents that say a member in full match. (Summing every bigram of
// every member would make 社会保险 count three times as much as 社保.)
query_plan::group make_group(Xapian::TermGenerator& tg, const std::vector<std::string>& members,
                             const term_frequency& freq) {
  query_plan::group g;
  for (const auto& m : members) {
    auto terms = member_terms(tg, m);
    if (terms.empty()) continue;
    g.stand_ins.push_back(*std::min_element(terms.begin(), terms.end(),
                                            [&](const auto& a, const auto& b) { return freq(a) < freq(b); }));
    g.members.push_back(std::move(terms));
  }
  return g;
}

struct synonym_span {
  size_t pos = 0;
  size_t len = 0;
  const std::vector<std::string>* group = nullptr;
};

// Where the text says a member of a synonym group: longest members first, no overlaps
// (医保个人账户 is one group's member, not 医保 + 个人账户).
std::vector<synonym_span> synonym_spans(const std::string& text, const synonyms& syn) {
  std::vector<synonym_span> found;
  for (const auto* g : syn.groups_in(text))
    for (const auto& m : *g)
      for (size_t p = text.find(m); p != std::string::npos; p = text.find(m, p + m.size()))
        found.push_back({p, m.size(), g});
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.len != b.len ? a.len > b.len : a.pos < b.pos; });
  std::vector<synonym_span> chosen;
  for (const auto& s : found) {
    bool overlaps = std::any_of(chosen.begin(), chosen.end(),
                                [&](const auto& c) { return s.pos < c.pos + c.len && c.pos < s.pos + s.len; });
    if (!overlaps) chosen.push_back(s);
  }
  return chosen;
}

// A term in more than this share of a large index selects nothing: it only adds weight
// to documents that other terms found, so a 100k-entry search does not score every
// document for 怎么 or 办理 (the floor keeps small indexes, the seed's included, as
// they are: README.md).
constexpr double common_term_share = 0.05;
constexpr uint64_t common_term_floor = 500;

// A typed string of initials as the index's terms: itself, or its 5-letter pieces.
std::vector<std::string> initials_terms(const std::string& typed) {
  std::vector<std::string> out;
  std::string prefix(layout::initials_prefix);
  if (typed.size() <= layout::initials_max) return {prefix + typed};
  for (size_t at = 0; at + layout::initials_max <= typed.size(); ++at)
    out.push_back(prefix + typed.substr(at, layout::initials_max));
  return out;
}

// Separators callers type between words: ASCII and full-width punctuation, spaces.
bool is_separator(std::string_view cp) {
  static constexpr std::string_view separators[] = {" ", ",", ".", "?", "!", ";", ":", "，", "。",
                                                    "？", "！", "；", "：", "、", "\u3000"};
  return std::find(std::begin(separators), std::end(separators), cp) != std::end(separators);
}

// The n-grams of a text made only of CJK ideographs from U+4E00 to U+9FA5 (the block as
// Unicode 1.1 had it: letters in every Unicode version) and separators, without Xapian:
// each character and each pair of neighbours in a run, sorted, once each -- exactly what
// the TermGenerator gives (tests/search compares them), at a small part of its cost (it
// builds a Xapian document). False for any other text, which goes to the TermGenerator.
bool plain_cjk_ngrams(const std::string& text, std::vector<std::string>& out) {
  out.clear();
  size_t previous = std::string::npos;  // where the run's last character starts
  for (size_t i = 0; i < text.size();) {
    auto lead = static_cast<unsigned char>(text[i]);
    size_t n = lead < 0x80 ? 1 : lead >= 0xE0 && lead < 0xF0 ? 3 : 0;
    if (n == 0 || i + n > text.size()) return false;
    if (n == 3 && ((text[i + 1] & 0xC0) != 0x80 || (text[i + 2] & 0xC0) != 0x80)) return false;
    unsigned cp = n == 1 ? lead : (lead & 0x0Fu) << 12 | (text[i + 1] & 0x3Fu) << 6 | (text[i + 2] & 0x3Fu);
    if (cp >= 0x4E00 && cp <= 0x9FA5) {
      out.emplace_back(text, i, 3);
      if (previous != std::string::npos) out.emplace_back(text, previous, 6);
      previous = i;
    } else if (is_separator(std::string_view(text).substr(i, n))) {
      previous = std::string::npos;
    } else {
      return false;
    }
    i += n;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

}  // namespace

std::vector<std::string> ngrams(Xapian::TermGenerator& tg, const std::string& text) {
  if (std::vector<std::string> out; plain_cjk_ngrams(text, out)) return out;
  Xapian::Document scratch;
  tg.set_document(scratch);
  tg.index_text_without_positions(text);
  std::vector<std::string> out;
  for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) out.push_back(*it);
  return out;
}

bool is_cjk_unigram(std::string_view term) {
  if (term.empty()) return false;
  auto lead = static_cast<unsigned char>(term[0]);
  size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 0;
  return len != 0 && term.size() == len;
}

query_plan make_plan(Xapian::TermGenerator& tg, const std::string& text, const synonyms& syn,
                     const term_frequency& freq, uint64_t documents) {
  query_plan plan;
  std::vector<std::string> replaced;  // bigrams inside a member: its group stands for them
  std::vector<const std::vector<std::string>*> seen;
  for (const auto& s : synonym_spans(text, syn)) {
    auto said = member_terms(tg, text.substr(s.pos, s.len));
    replaced.insert(replaced.end(), said.begin(), said.end());
    if (std::find(seen.begin(), seen.end(), s.group) != seen.end()) continue;
    seen.push_back(s.group);
    auto g = make_group(tg, *s.group, freq);
    if (g.stand_ins.empty()) continue;
    g.scale = static_cast<double>(said.size());  // 社会保险 said three bigrams' worth
    plan.groups.push_back(std::move(g));
  }
  // Unigrams and boundary bigrams (交社 in 交社保) stay: they still tell documents apart.
  const uint64_t common_limit = std::max<uint64_t>(common_term_floor, common_term_share * documents);
  std::vector<std::pair<uint64_t, std::string>> common, unigrams;
  for (auto& t : ngrams(tg, text)) {
    if (std::find(replaced.begin(), replaced.end(), t) != replaced.end()) continue;
    if (looks_like_initials(t))  // sbk: 社保卡; beside the word itself, which may exist too
      for (auto& p : initials_terms(t))
        if (freq(p) > 0) plan.finding.push_back(std::move(p));
    auto n = freq(t);
    if (n == 0) continue;  // says nothing about any document
    if (is_cjk_unigram(t)) unigrams.emplace_back(n, std::move(t));
    else if (n > common_limit) common.emplace_back(n, std::move(t));
    else plan.finding.push_back(std::move(t));
  }
  // 怎么办理 has nothing selective: its rarest words find, the rest (and unigrams) weigh.
  std::sort(common.begin(), common.end());
  size_t used = 0;
  if (plan.empty())
    for (; used < common.size() && used < 2; ++used) plan.finding.push_back(common[used].second);
  if (plan.empty()) {  // 社: only unigrams
    for (auto& u : unigrams) plan.finding.push_back(u.second);
    unigrams.clear();
  }
  if (plan.empty()) return plan;
  std::vector<std::pair<uint64_t, std::string>> rest(common.begin() + used, common.end());
  rest.insert(rest.end(), unigrams.begin(), unigrams.end());
  std::sort(rest.begin(), rest.end());
  // A word in most documents of a large index (的, 我) ranks nothing and costs the most
  // postings to read: left out. Small indexes keep every unigram: they still break ties,
  // and the snippets highlight them.
  for (auto& r : rest)
    if (r.first <= std::max(documents / 2, common_term_floor)) plan.weighting.push_back(std::move(r.second));
  return plan;
}

}  // namespace hotline::kb
