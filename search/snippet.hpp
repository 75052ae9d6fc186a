#pragma once
// A hit's answer excerpt for the result list: the window of the answer that says most of
// the query's words, those words in <b>…</b>, everything HTML-escaped.
#include <string>
#include <vector>

namespace hotline::kb {

// `terms`: what to highlight (the query's bigrams and words, as the index holds them);
// `width`: the window in characters (code points). Invalid UTF-8 bytes are dropped.
std::string make_snippet(const std::string& text, const std::vector<std::string>& terms, size_t width = 40);

}  // namespace hotline::kb
