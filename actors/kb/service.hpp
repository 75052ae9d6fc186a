#pragma once
// The knowledge base as the rest of the platform sees it (no CAF in this header).
// Writes go to the KB actor, which runs detached (it commits the Xapian index, which
// fsyncs) and handles one workflow step at a time, so steps on an entry never race.
// Searches run on a pool of search actors, each with its own index reader, and every
// console search is logged for the N-29 analytics.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/kb/store.hpp"
#include "actors/kb/workflow.hpp"
#include "search/index.hpp"
#include "search/synonyms.hpp"
#include "storage/latency_histogram.hpp"

namespace hotline::kb {

// A policy document imported as a source (plain text or Markdown), kept verbatim so an
// entry's `sources[].link` can point at it ("doc:<id>").
struct document {
  std::string id;  // assigned on import
  std::string title;
  std::string issuer;
  std::string number;
  std::string date;
  std::string format;  // "markdown" | "text"
  std::string text;
  std::string imported_by;
  uint64_t imported_ms = 0;
};

// Who searched, from where: stored with the search for the analytics.
struct search_context {
  std::string user;
  std::string site;
  std::string call_id;  // the call the agent was on, if any
};

// The search threads as /metrics shows them.
struct search_figures {
  size_t threads = 0;
  size_t queued = 0;    // searches waiting for a thread
  uint64_t failed = 0;  // searches that threw (none expected: a failed search is a result with its error)
};

struct logged_search {
  search_result result;
  std::string search_id;  // pass back with the entry the agent opened/used
};

// A pending failure of storage or the index (kb_error covers the workflow's own).
template <class T>
using kb_result = std::variant<T, kb_error>;

class service {
 public:
  virtual ~service() = default;

  virtual const store& data() const = 0;
  virtual std::shared_ptr<const synonyms> current_synonyms() const = 0;

  virtual void create(entry draft, std::string user, std::function<void(kb_result<entry>)> done) = 0;
  virtual void update(std::string id, entry content, std::string user, std::function<void(kb_result<entry>)> done) = 0;
  virtual void submit(std::string id, std::string user, std::function<void(kb_result<entry>)> done) = 0;
  virtual void approve(std::string id, std::string user, std::string publish_at,
                       std::function<void(kb_result<entry>)> done) = 0;
  virtual void reject(std::string id, std::string user, std::string reason,
                      std::function<void(kb_result<entry>)> done) = 0;
  virtual void add_comment(std::string id, std::string user, std::string text,
                           std::function<void(std::optional<kb_error>)> done) = 0;
  // Entries as published content (seed, JSONL import): each keeps its id; an id that
  // exists gets a new version. `reviewer` is recorded as their reviewer.
  virtual void import_published(std::vector<entry> entries, std::string reviewer,
                                std::function<void(kb_result<size_t>)> done) = 0;
  virtual void set_synonyms(synonyms s, std::function<void(std::optional<kb_error>)> done) = 0;
  // Rebuilds the index from LMDB; answers with the number of published entries.
  virtual void reindex(std::function<void(kb_result<size_t>)> done) = 0;
  // Publishes approved entries whose day has come, expires those past their date.
  virtual void sweep(std::string today, std::function<void(kb_result<size_t>)> done) = 0;

  virtual void search(search_query q, search_context ctx, std::function<void(kb_result<logged_search>)> done) = 0;
  virtual search_figures search_stats() const = 0;
  // Each search from its arrival to its result (the wait for a search thread included).
  virtual const storage::latency_histogram& search_latency() const = 0;
  virtual void more_like_this(std::string id, search_query filters,
                              std::function<void(kb_result<std::vector<search_hit>>)> done) = 0;
  // Stores the documents in one commit; answers with their ids.
  virtual void add_documents(std::vector<document> docs, std::string user,
                             std::function<void(kb_result<std::vector<std::string>>)> done) = 0;

  // An agent opened (or used on a call) an entry found by a search (N-29).
  virtual void record_usage(std::string search_id, std::string entry_id, std::string action, search_context ctx,
                            std::function<void(std::optional<kb_error>)> done) = 0;
};

}  // namespace hotline::kb
