#pragma once
// What an agent's text asks for, as terms with roles; both search paths run it (the
// in-memory hot index and the Xapian query, index.cpp), so they rank alike.
//
// Chinese text becomes its CJK n-grams (unigrams and bigrams, the tokenizer the index was
// built with). Each synonym-group member the text says becomes its group (社保 finds 社会保险;
// a synonym never outweighs the word itself) in place of the member's own bigrams.
// Documents are *found* by the selective terms (bigrams, words, synonym groups); CJK
// unigrams and very common terms only add *weight* to documents something selective found.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "search/synonyms.hpp"

namespace Xapian {
class TermGenerator;
}

namespace hotline::kb {

struct query_plan {
  struct group {
    double scale = 1;  // the number of bigrams the text said for it: their share of the weight
    std::vector<std::string> stand_ins;              // one bigram per member: the group's wdf
    std::vector<std::vector<std::string>> members;   // each member's bigrams: a document must say one in full
  };
  std::vector<std::string> finding;    // selective terms, each its own BM25 term
  std::vector<group> groups;           // synonym groups (finding too)
  std::vector<std::string> weighting;  // unigrams and common terms: weight only
  bool empty() const { return finding.empty() && groups.empty(); }
};

// In how many documents a term occurs, and how many documents there are.
using term_frequency = std::function<uint64_t(const std::string&)>;

// `tg` is a TermGenerator set up for CJK n-grams (reused: building one per query costs).
query_plan make_plan(Xapian::TermGenerator& tg, const std::string& text, const synonyms& syn,
                     const term_frequency& freq, uint64_t documents);

// The n-grams the index holds for `text` (unigrams and bigrams of CJK runs, words otherwise).
std::vector<std::string> ngrams(Xapian::TermGenerator& tg, const std::string& text);

// A CJK unigram is one multi-byte code point: too common to stand for a whole word.
bool is_cjk_unigram(std::string_view term);

}  // namespace hotline::kb
