#pragma once
// How a knowledge-base entry is laid out in a Xapian document: the term prefixes, value
// slots and stored data that index.cpp writes and both search paths read (index.cpp,
// hot_index.cpp). Internal to search/.
#include <xapian.h>

#include <string>
#include <string_view>

namespace hotline::kb::layout {

// Term prefixes (Xapian's conventions: Q for the unique id, X for the rest). Content terms
// (n-grams, words) have none: they never start with an upper-case ASCII letter.
constexpr std::string_view id_prefix = "Q";
constexpr std::string_view topic_prefix = "XT";
constexpr std::string_view region_prefix = "XR";
constexpr std::string_view status_prefix = "XS";
constexpr std::string_view tag_prefix = "K";
constexpr std::string_view title_prefix = "S";
constexpr std::string_view initials_prefix = "P";  // pinyin initials: P + "sbk" (社保卡)

// What queries match on: n-grams, words and pinyin initials; not the filters' terms.
inline bool is_content_term(std::string_view term) {
  return !term.empty() && (!(term[0] >= 'A' && term[0] <= 'Z') || term.substr(0, 1) == initials_prefix);
}

// Pinyin initials are indexed as every 2-5 letter piece of a run's initials (社保卡怎么补办:
// sb, sbk, ..., bkzmb, ...); a longer typed string is searched as its 5-letter pieces.
constexpr size_t initials_min = 2, initials_max = 5;

// Value slots. Days are YYYYMMDD (sorts as the day does); no effective date is
// 00000000, no expiry 99991231.
enum slot : Xapian::valueno { topic_slot = 0, region_slot = 1, effective_slot = 2, expires_slot = 3, status_slot = 4 };

// What a hit shows, stored as the document's data (JSON), without a trip to LMDB.
struct stored_fields {
  std::string id, question, region, topic, answer;
};
std::string encode_stored(const stored_fields& f);
stored_fields decode_stored(const std::string& data);  // empty fields if it is not ours

// A boolean term: Xapian refuses terms past ~245 bytes; cut at a UTF-8 boundary.
std::string boolean_term(std::string_view prefix, std::string_view value);

}  // namespace hotline::kb::layout
