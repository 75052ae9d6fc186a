#pragma once
// The knowledge base's search index held in memory, for the agents' searches (docs/kb.md,
// "Search in memory"). Xapian stays the index of record — persisted, rebuilt from LMDB,
// the source this one is loaded from, the path for "more like this" — but a spoken
// question is 30-40 n-grams, and ranking it by walking Xapian's posting lists on disk
// costs milliseconds at 100,000 entries. Here the same BM25 (same terms, same weights,
// same query plan) runs over arrays:
//   1. each finding term contributes its best postings (postings are kept in impact
//      order: highest BM25 term-frequency part first), up to `postings_per_term` that pass
//      the filters — the candidates;
//   2. the best candidates are scored exactly from their forward lists (every query
//      term, synonym groups, weighting terms), then region precedence, then the page.
// Facets and the match count cover the candidates (as Xapian's check_at_least does).
//
// Filters are bitmaps over the base documents, made once per filter and snapshot.
//
// A writer keeps it in step: after each commit the changed documents are re-read into a
// small overlay (readers see them at once); past `overlay_limit` documents the base is
// rebuilt. Readers take an immutable snapshot per search; no locks on the search path.
#include <xapian.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "search/index.hpp"
#include "search/query_plan.hpp"

namespace hotline::kb {

namespace hot {
struct base;
struct overlay;
struct filter_cache;
}  // namespace hot

// Measured at 100,000 generated entries (docs/PERFORMANCE.md): 1000/100 returns the
// exhaustive top hit or one as good for ~77 % of queries, at 98.7 % of its score on average;
// 2000/100 buys 2 points for 30 % more time, 1000/50 loses 14. Below ~1000 entries per
// term nothing is left out: the seed's ranking is exactly Xapian's.
struct hot_limits {
  size_t postings_per_term = 1000;  // candidates one finding term contributes (phase 1)
  size_t rescored = 100;            // candidates scored exactly (phase 2), at least
  size_t overlay_limit = 512;       // changed documents kept beside the base (fewer for a small base)
};

// One immutable state of the index.
class hot_snapshot {
 public:
  struct stored {
    std::string id, question, region, topic, answer;
  };
  struct scored {
    const stored* doc = nullptr;
    double score = 0;
  };
  struct outcome {
    std::vector<scored> ranked;  // best first, at most `want`
    size_t matches = 0;          // candidates that matched
    std::map<std::string, size_t> topic_counts, region_counts;  // over those (if facets)
  };

  uint64_t documents() const;
  uint64_t freq(const std::string& term) const;
  outcome search(const query_plan& plan, const search_query& q, const ranking_options& r, size_t want) const;

  hot_limits limits;
  std::shared_ptr<const hot::base> base;
  std::shared_ptr<const hot::overlay> overlay;
  // Which base documents pass a filter (region, topic, status, day), as a bitmap per
  // filter asked for, made on first use in this snapshot. Agents of one city ask with the
  // same filter all day: a posting is then tested by one bit instead of its document's
  // attributes (as Lucene caches filters).
  std::shared_ptr<hot::filter_cache> filters;
};

class hot_index {
 public:
  explicit hot_index(hot_limits l = {});

  // Reads every document of `db` (a full load: ~seconds at 100,000 entries).
  void rebuild(const Xapian::Database& db);
  // After a commit of `db`: the documents with these unique id terms were replaced,
  // added or removed.
  void update(const Xapian::Database& db, const std::vector<std::string>& changed_id_terms);

  std::shared_ptr<const hot_snapshot> snapshot() const { return std::atomic_load(&current_); }

 private:
  void publish(std::shared_ptr<const hot::base> b, std::shared_ptr<const hot::overlay> o);

  hot_limits limits_;
  std::mutex writing_;  // one update at a time (the writer's)
  std::shared_ptr<const hot_snapshot> current_;
};

}  // namespace hotline::kb
