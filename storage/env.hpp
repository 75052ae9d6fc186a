#pragma once
// Hotline's one LMDB environment: named tables, durable batched commits, read-only
// transactions from any thread.
//
// Threading contract (LMDB's, made explicit):
// - commit() is called by one writer at a time (the storage writer actor); it may be
//   called from any thread, a mutex serialises callers.
// - read() may be called from any thread, concurrently with commit(). A read_txn is a
//   snapshot; keep it short (no transaction is held across messages or I/O), because
//   map growth waits for every open read_txn to end.
// - The map grows automatically (doubling) when a commit runs out of room; a full disk
//   is reported as errc::disk_full, never a crash.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/errors.hpp"
#include "storage/latency_histogram.hpp"
#include "storage/tables.hpp"
#include "storage/write_batch.hpp"

namespace hotline::storage {

struct env_options {
  std::string dir;                             // created if missing
  size_t initial_map_bytes = size_t{1} << 30;  // grows by doubling when full
  bool read_only = false;                      // `hotline verify` opens read-only
};

class read_txn;

struct commit_stats {
  latency_histogram commit_seconds;  // one observation per durable commit (incl. fsync)
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> map_grows{0};
  std::atomic<uint64_t> failures{0};
};

class env {
 public:
  // Opens (creating if needed) the environment and every table in tables.hpp.
  static std::unique_ptr<env> open(const env_options& opts, std::error_code& ec);
  ~env();
  env(const env&) = delete;
  env& operator=(const env&) = delete;

  // Applies the batches in one transaction and makes it durable (fsync) before
  // returning. Each batch is atomic on its own: a batch whose put_new finds its key
  // taken is rolled back and reported, the others still commit. If the commit itself
  // fails (disk full, I/O error), every batch gets that error and nothing was written.
  std::vector<std::error_code> commit(std::span<const write_batch> batches);

  // A read-only snapshot. See the threading contract above.
  read_txn read() const;

  // A compacting copy into `dest_dir` (must exist and be empty) while the env serves.
  std::error_code backup(const std::string& dest_dir) const;

  const commit_stats& stats() const noexcept;
  size_t map_bytes() const noexcept;
  const std::string& dir() const noexcept;

  struct impl;

 private:
  explicit env(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

class read_txn {
 public:
  read_txn(read_txn&&) noexcept;
  read_txn& operator=(read_txn&&) = delete;
  ~read_txn();

  bool ok() const noexcept { return !ec_; }
  std::error_code error() const noexcept { return ec_; }

  // The view is valid until this transaction ends.
  std::optional<std::string_view> get(table t, std::string_view key) const;

  // Calls f(key, value) for keys in [from, to) in ascending order (to empty: no upper
  // bound) until f returns false. Returns the number of records visited.
  size_t scan(table t, std::string_view from, std::string_view to,
              const std::function<bool(std::string_view, std::string_view)>& f) const;
  // Same, descending from the last key < `before` (empty: from the end).
  size_t scan_reverse(table t, std::string_view before,
                      const std::function<bool(std::string_view, std::string_view)>& f) const;

  size_t count(table t) const;

 private:
  friend class env;
  read_txn(const env::impl* e);
  const env::impl* env_;
  void* txn_ = nullptr;  // MDB_txn*
  std::error_code ec_;
};

}  // namespace hotline::storage
