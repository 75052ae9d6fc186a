#pragma once
// The in-memory index's data, shared by its builder (hot_index.cpp) and its search
// (hot_search.cpp). Internal to search/.
#include <xapian.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "search/hot_index.hpp"

namespace hotline::kb::hot {

// Attribute values (topics, regions, states) as small numbers, so a filter is a lookup.
struct names {
  std::vector<std::string> values;
  std::unordered_map<std::string, uint16_t> ids;
  uint16_t intern(const std::string& v) {
    auto [it, added] = ids.emplace(v, static_cast<uint16_t>(values.size()));
    if (added) values.push_back(v);
    return it->second;
  }
};

struct doc_meta {
  float normlen = 1;  // max(length / average length, 0.5): BM25's length normalisation
  uint16_t topic = 0, region = 0, status = 0;
  uint32_t effective = 0, expires = 0;  // YYYYMMDD
  Xapian::docid xid = 0;                // ties break by Xapian's docid, as its matcher does
};

using term_list = std::vector<std::pair<uint32_t, uint8_t>>;  // term id, wdf

// Everything the index held when it was last loaded in full.
struct base {
  std::unordered_map<std::string, uint32_t> term_ids;
  std::vector<uint64_t> post_at;  // per term: its postings are [post_at[t], post_at[t + 1])
  std::vector<uint32_t> post_doc;  // in impact order (see build)
  std::vector<uint8_t> post_impact;  // the BM25 tf part with the default k1, b, in 1/255 of its maximum
  std::vector<uint64_t> fwd_at;  // per document: its terms are [fwd_at[d], fwd_at[d + 1])
  std::vector<uint32_t> fwd;     // term id << 8 | wdf: one stream to read per rescored document
  std::vector<doc_meta> meta;
  std::vector<uint32_t> facet;  // per document: topic << 16 | region (the facet count reads only these)
  std::vector<hot_snapshot::stored> stored;
  std::unordered_map<std::string, uint32_t> by_id;  // entry id -> document
  names topics, regions, states;
  double average_length = 1;
  uint32_t df(uint32_t term) const { return static_cast<uint32_t>(post_at[term + 1] - post_at[term]); }
};

// The filters asked for in one snapshot, as bitmaps over its base documents (overlay
// documents the filter passes are set; replaced ones are not).
struct filter_cache {
  using bitmap = std::vector<uint64_t>;
  static constexpr size_t most = 512;  // filters kept (12.5 KB each at 100,000 entries)
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const bitmap>> made;
};

// Documents changed since the base was loaded.
struct overlay {
  std::vector<char> dead;  // per base document: replaced or removed
  size_t dead_count = 0;
  struct doc {
    doc_meta meta;
    hot_snapshot::stored stored;
    term_list terms;
  };
  std::vector<doc> docs;
  std::unordered_map<std::string, uint32_t> new_terms;  // not in the base: ids from its size on
  std::unordered_map<uint32_t, uint32_t> df;            // documents here per term
  names topics, regions, states;                        // the base's, extended
};

constexpr double min_normlen = 0.5;  // as BM25Weight(k1, 0, 1, b, 0.5) in index.cpp

// YYYYMMDD as a number (the digits of YYYY-MM-DD); 0 when empty.
inline uint32_t day_value(const std::string& yyyymmdd) {
  uint32_t v = 0;
  for (char c : yyyymmdd)
    if (c >= '0' && c <= '9') v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

// BM25's term-frequency part, (k1 + 1) wdf / (K + wdf), K = k1 ((1 - b) + b normlen).
inline double tf_part(double wdf, float normlen, double k1, double b) {
  return (k1 + 1) * wdf / (k1 * ((1 - b) + b * normlen) + wdf);
}

}  // namespace hotline::kb::hot
