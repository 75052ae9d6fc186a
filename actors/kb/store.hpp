#pragma once
// The knowledge base in LMDB: every version of every entry (never deleted), a head per
// entry naming its latest and published versions, comments, and the analytics logs.
// Reads are synchronous snapshots; writes are added to a write_batch for the writer.
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/kb/workflow.hpp"
#include "search/entry.hpp"
#include "storage/env.hpp"
#include "storage/write_batch.hpp"

namespace hotline::kb {

struct head {
  std::string id;
  uint32_t latest = 0;
  uint32_t published = 0;  // 0: no version is published
};

struct comment {
  std::string author;
  std::string text;
  uint32_t version = 0;
  uint64_t ts_ms = 0;
};

class store {
 public:
  explicit store(const storage::env& env) : env_(env) {}

  std::optional<head> get_head(const std::string& id) const;
  std::optional<entry> version(const std::string& id, uint32_t v) const;
  std::optional<entry> latest(const std::string& id) const;
  std::optional<entry> published(const std::string& id) const;
  std::vector<entry> versions(const std::string& id) const;
  std::vector<comment> comments(const std::string& id) const;
  // Latest versions in id order after `after`, optionally only those in `state`.
  std::vector<entry> list(const std::string& after, size_t limit, std::optional<status> state) const;
  // Calls f for every entry's published version.
  size_t for_each_published(const std::function<void(const entry&)>& f) const;
  // The highest n of ids "kb-<n>" (0 if none): new entries continue from there.
  uint64_t max_numeric_id() const;
  size_t count() const;
  // Imported policy documents, newest first (without their text unless `with_text`).
  std::vector<boost::json::object> documents(const std::string& before_id, size_t limit) const;
  std::optional<boost::json::object> document(const std::string& id) const;

  // Adds the step's versions and the matching head changes to `batch`.
  void apply(storage::write_batch& batch, const step& s) const;
  static void add_comment(storage::write_batch& batch, const std::string& id, const comment& c, uint64_t key_id);

  static std::string version_key(const std::string& id, uint32_t v);

 private:
  const storage::env& env_;
};

}  // namespace hotline::kb
