#pragma once
// A hit's answer excerpt for the result list: the window of the answer that says most of
// the query's words, those words in <b>…</b>, everything HTML-escaped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::kb {

// What to highlight (the query's bigrams and words, as the index holds them), prepared
// once for all of a query's hits: each hit's text is then read once, looking up the terms
// that can start at each character, instead of searched once per term.
class snippet_terms {
 public:
  explicit snippet_terms(std::vector<std::string> terms);

 private:
  friend std::string make_snippet(const std::string& text, const snippet_terms& terms, size_t width);
  // Calls mark(length) for each term that occurs at text[at] (defined in snippet.cpp).
  template <class F>
  void each_at(std::string_view text, size_t at, F&& mark) const;

  std::vector<std::string> terms_;
  std::vector<std::pair<uint16_t, uint32_t>> by_start_;  // first two bytes -> term, sorted
  std::vector<uint64_t> starts_;                         // bit per two-byte key: does a term start so?
  std::vector<uint32_t> one_byte_;                       // terms of one byte
};

// `width`: the window in characters (code points). Invalid UTF-8 bytes are dropped.
std::string make_snippet(const std::string& text, const snippet_terms& terms, size_t width = 40);
std::string make_snippet(const std::string& text, const std::vector<std::string>& terms, size_t width = 40);

}  // namespace hotline::kb
