#pragma once
// The Xapian index of published knowledge-base entries. Derived from LMDB, rebuildable at
// any time (`hotline kb reindex`). One index_writer per database (Xapian allows one
// writer); any number of index_readers, each used by one thread at a time.
//
// Chinese text is indexed as CJK n-grams (unigrams + bigrams). Queries are built by hand
// as the OR of the query's n-grams (Xapian 1.4's parser would AND every n-gram, see
// DEPENDENCIES.md §7), with synonym groups as OP_SYNONYM, so BM25 ranks by overlap.
// Question and phrasings weigh more than tags, tags more than the answer.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "search/entry.hpp"
#include "search/synonyms.hpp"

namespace hotline::kb {

struct search_query {
  std::string text;                   // what the agent typed, no segmentation needed
  std::vector<std::string> topics;    // only these topics (empty: all)
  std::vector<std::string> regions;   // only these regions (empty: all)
  std::vector<std::string> statuses;  // only these states (empty: published)
  std::string in_force_on;            // YYYY-MM-DD: only entries in force that day (empty: any)
  std::string agent_city;             // region precedence: this city, then province, then national
  size_t offset = 0;
  size_t limit = 10;
  bool facets = true;
  bool snippets = true;
};

struct search_hit {
  std::string id;
  double score = 0;  // after region precedence
  int percent = 0;   // Xapian's relevance percentage
  std::string question;
  std::string region;
  std::string topic;
  std::string snippet;  // answer excerpt with matches in <b>…</b>, HTML-escaped
};

struct search_result {
  std::vector<search_hit> hits;
  size_t total_estimate = 0;
  // Facets: exact over all matches when they are at most ranking_options::
  // facet_checkatleast, otherwise over the (at least that many) matches examined.
  std::map<std::string, size_t> topic_counts;
  std::map<std::string, size_t> region_counts;
  std::string error;  // empty unless the index failed (then no hits): Xapian's message
};

// How much one occurrence of a word counts, per field (the wdf per occurrence). Fixed
// when a document is indexed; the defaults are the measured ones (README.md), the
// others exist so the relevance test can compare variants.
struct field_weights {
  unsigned question = 3;
  unsigned phrasing = 3;
  unsigned tag = 2;
  unsigned body = 1;  // answer and materials
};

// Query-time ranking, defaults measured on the relevance set (README.md).
struct ranking_options {
  // Region precedence: a hit's score is multiplied by the factor of its region's rank
  // for the agent (region_rank), so a local version wins a near tie, not a clear loss.
  double city_factor = 1.0;
  double province_factor = 0.97;
  double national_factor = 0.94;
  double other_city_factor = 0.90;   // only seen when the filters let other cities through
  size_t precedence_window = 30;     // candidates re-ranked beyond offset + limit
  // Facets count at least this many matches (every match when there are fewer, so the
  // counts are exact for any query matching <= 2000 entries); 0: always every match.
  // Exact counting at 100k entries cost +15-40 % p99 in the bench (README.md).
  size_t facet_checkatleast = 2000;
  // BM25: k1 saturates repeated words (2 rather than Xapian's 1: the field weights
  // multiply wdf, and saturating early flattens them), b normalises by length.
  double bm25_k1 = 2.0;
  double bm25_b = 0.5;
};

class hot_index;  // search/hot_index.hpp: the in-memory copy the agents' searches run on

class index_writer {
 public:
  // Opens or creates the database in `dir`. nullptr with `error` set on failure (e.g.
  // another writer holds the lock).
  static std::unique_ptr<index_writer> open(const std::string& dir, std::string& error,
                                            const field_weights& weights = {});
  virtual ~index_writer() = default;
  // Failures of these three are reported by the next commit().
  virtual void upsert(const entry& e) = 0;    // replaces the document of e.id
  virtual void remove(const std::string& id) = 0;
  virtual void remove_all() = 0;              // before a full rebuild
  virtual bool commit(std::string& error) = 0;  // makes changes visible to readers
  virtual size_t size() const = 0;
  // The in-memory index kept in step with this writer's commits, for readers to search
  // (index_reader::open). Loaded from the database on the first call.
  virtual std::shared_ptr<hot_index> hot() = 0;
};

class index_reader {
 public:
  // With `hot`, searches run on the in-memory index (the same ranking, far faster at
  // scale); more_like_this and everything before the hot index is loaded use Xapian.
  static std::unique_ptr<index_reader> open(const std::string& dir, std::string& error,
                                            const ranking_options& ranking = {},
                                            std::shared_ptr<const hot_index> hot = nullptr);
  virtual ~index_reader() = default;
  // Sees the latest commit (cheap when nothing changed).
  virtual void refresh() = 0;
  virtual search_result search(const search_query& q, const synonyms& syn) = 0;
  // Entries like `id` (by its most telling terms), with the same filters as `q` (its
  // text is ignored); `id` itself is left out.
  virtual std::vector<search_hit> more_like_this(const std::string& id, const search_query& q) = 0;
};

}  // namespace hotline::kb
