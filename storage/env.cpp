#include "storage/env.hpp"

#include <lmdb.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace hotline::storage {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "storage"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::ok: return "ok";
      case errc::not_found: return "not found";
      case errc::key_exists: return "key already exists";
      case errc::disk_full: return "disk full: the commit was not written";
      case errc::io_error: return "I/O error while committing (a short write: disk full, quota or a failing disk)";
      case errc::corrupted: return "data corrupted";
      case errc::bad_value: return "key or value too large";
      case errc::version_mismatch: return "data directory has an incompatible format";
      case errc::other: return "storage error";
    }
    return "unknown storage error";
  }
};

MDB_val val_of(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view_of(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

}  // namespace

const std::error_category& storage_category() noexcept {
  static const category c;
  return c;
}

std::error_code from_mdb(int rc) noexcept {
  switch (rc) {
    case MDB_SUCCESS: return {};
    case MDB_NOTFOUND: return errc::not_found;
    case MDB_KEYEXIST: return errc::key_exists;
    case ENOSPC:
    case EFBIG:  // the file size limit (RLIMIT_FSIZE, quota): no room, as for a full disk
    case EDQUOT: return errc::disk_full;
    case EIO: return errc::io_error;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID: return errc::corrupted;
    case MDB_BAD_VALSIZE: return errc::bad_value;
    case MDB_VERSION_MISMATCH: return errc::version_mismatch;
    default: return errc::other;
  }
}

struct env::impl {
  MDB_env* mdb = nullptr;
  std::array<MDB_dbi, static_cast<size_t>(table::count_)> dbis{};
  std::array<bool, static_cast<size_t>(table::count_)> present{};  // false: absent in a read-only env
  std::string dir;
  size_t map_bytes = 0;
  size_t max_key = 511;
  std::mutex writer;                 // serialises commit() callers
  mutable std::shared_mutex resize;  // shared: open read txns; exclusive: map growth
  commit_stats stats;

  MDB_dbi dbi(table t) const { return dbis[static_cast<size_t>(t)]; }
  bool has(table t) const { return present[static_cast<size_t>(t)]; }
};

std::unique_ptr<env> env::open(const env_options& opts, std::error_code& ec) {
  auto p = std::make_unique<impl>();
  p->dir = opts.dir;
  std::error_code fs_ec;
  if (!opts.read_only) std::filesystem::create_directories(opts.dir, fs_ec);
  if (fs_ec) {
    ec = fs_ec;
    return nullptr;
  }
  int rc = mdb_env_create(&p->mdb);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(p->mdb, static_cast<MDB_dbi>(table::count_) + 4);
  // An existing environment may already be larger; LMDB keeps the larger size.
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(p->mdb, opts.initial_map_bytes);
  // MDB_NOTLS: CAF workers and Asio threads run many tasks per thread; slots must not be
  // tied to threads (DEPENDENCIES.md §8: MDB_BAD_RSLOT otherwise).
  unsigned flags = MDB_NOTLS | (opts.read_only ? MDB_RDONLY : 0u);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(p->mdb, opts.dir.c_str(), flags, 0640);
  if (rc != MDB_SUCCESS) {
    ec = rc == ENOENT ? std::make_error_code(std::errc::no_such_file_or_directory) : from_mdb(rc);
    if (p->mdb) mdb_env_close(p->mdb);
    return nullptr;
  }
  int dead = 0;
  mdb_reader_check(p->mdb, &dead);  // readers left by a killed process
  MDB_envinfo info;
  mdb_env_info(p->mdb, &info);
  p->map_bytes = info.me_mapsize;
  p->max_key = static_cast<size_t>(mdb_env_get_maxkeysize(p->mdb));

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(p->mdb, nullptr, opts.read_only ? MDB_RDONLY : 0, &txn);
  for (size_t i = 0; rc == MDB_SUCCESS && i < p->dbis.size(); ++i) {
    std::string name(table_names[i]);
    rc = mdb_dbi_open(txn, name.c_str(), opts.read_only ? 0 : MDB_CREATE, &p->dbis[i]);
    // A backup or an older data dir may lack a newer table: read-only opens see it empty.
    p->present[i] = rc == MDB_SUCCESS;
    if (rc == MDB_NOTFOUND && opts.read_only) rc = MDB_SUCCESS;
  }
  if (rc == MDB_SUCCESS) rc = mdb_txn_commit(txn);
  else if (txn) mdb_txn_abort(txn);
  if (rc != MDB_SUCCESS) {
    ec = from_mdb(rc);
    mdb_env_close(p->mdb);
    return nullptr;
  }
  ec.clear();
  return std::unique_ptr<env>(new env(std::move(p)));
}

env::env(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

env::~env() {
  if (impl_ && impl_->mdb) mdb_env_close(impl_->mdb);
}

namespace {

// Checks what LMDB would reject before touching the transaction, so one bad batch never
// has to roll back the others (nested transactions cost a 2 MiB dirty list each).
std::error_code precheck(MDB_txn* txn, const env::impl& e, const write_batch& b) {
  std::unordered_set<std::string_view> new_keys;
  for (const auto& op : b.ops) {
    if (op.key.empty() || op.key.size() > e.max_key) return errc::bad_value;
    if (op.op != write_op::kind::put_new) continue;
    if (!new_keys.insert(op.key).second) return errc::key_exists;
    MDB_val k = val_of(op.key), v;
    int rc = mdb_get(txn, e.dbi(op.tbl), &k, &v);
    if (rc == MDB_SUCCESS) return errc::key_exists;
    if (rc != MDB_NOTFOUND) return from_mdb(rc);
  }
  return {};
}

int apply(MDB_txn* txn, const env::impl& e, const write_batch& b) {
  for (const auto& op : b.ops) {
    MDB_val k = val_of(op.key);
    int rc;
    if (op.op == write_op::kind::erase) {
      rc = mdb_del(txn, e.dbi(op.tbl), &k, nullptr);
      if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;
    } else {
      MDB_val v = val_of(op.value);
      rc = mdb_put(txn, e.dbi(op.tbl), &k, &v, 0);
    }
    if (rc != MDB_SUCCESS) return rc;
  }
  return MDB_SUCCESS;
}

}  // namespace

std::vector<std::error_code> env::commit(std::span<const write_batch> batches) {
  std::lock_guard writer(impl_->writer);
  auto& st = impl_->stats;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::error_code> result(batches.size());
  for (;;) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(impl_->mdb, nullptr, 0, &txn);
    for (size_t i = 0; rc == MDB_SUCCESS && i < batches.size(); ++i) {
      result[i] = precheck(txn, *impl_, batches[i]);
      if (!result[i]) rc = apply(txn, *impl_, batches[i]);
    }
    if (rc == MDB_SUCCESS) {
      rc = mdb_txn_commit(txn);  // fsyncs data and meta page: durable on return
    } else if (txn) {
      mdb_txn_abort(txn);
    }
    if (rc == MDB_MAP_FULL) {
      // Grow while no read transaction is open in this process (LMDB's rule).
      std::unique_lock grow(impl_->resize);
      size_t next = impl_->map_bytes * 2;
      if (mdb_env_set_mapsize(impl_->mdb, next) == MDB_SUCCESS) {
        impl_->map_bytes = next;
        st.map_grows.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      rc = ENOSPC;
    }
    if (rc != MDB_SUCCESS) {
      auto ec = from_mdb(rc);
      for (auto& r : result) r = ec;
      st.failures.fetch_add(1, std::memory_order_relaxed);
      return result;
    }
    break;
  }
  st.commit_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  st.commits.fetch_add(1, std::memory_order_relaxed);
  st.batches.fetch_add(batches.size(), std::memory_order_relaxed);
  return result;
}

read_txn env::read() const { return read_txn(impl_.get()); }

std::error_code env::backup(const std::string& dest_dir) const {
  std::error_code fs_ec;
  std::filesystem::create_directories(dest_dir, fs_ec);
  if (fs_ec) return fs_ec;
  if (!std::filesystem::is_empty(dest_dir, fs_ec) || fs_ec)
    return fs_ec ? fs_ec : std::make_error_code(std::errc::directory_not_empty);
  // The copy runs a read transaction: like read_txn, it must keep map growth out, or a
  // commit's mdb_env_set_mapsize remaps the file under it (SIGSEGV in mdb_env_copy2).
  std::shared_lock no_growth(impl_->resize);
  return from_mdb(mdb_env_copy2(impl_->mdb, dest_dir.c_str(), MDB_CP_COMPACT));
}

const commit_stats& env::stats() const noexcept { return impl_->stats; }
size_t env::map_bytes() const noexcept { return impl_->map_bytes; }
const std::string& env::dir() const noexcept { return impl_->dir; }

read_txn::read_txn(const env::impl* e) : env_(e) {
  e->resize.lock_shared();
  MDB_txn* t = nullptr;
  int rc = mdb_txn_begin(e->mdb, nullptr, MDB_RDONLY, &t);
  if (rc != MDB_SUCCESS) {
    ec_ = from_mdb(rc);
    e->resize.unlock_shared();
    env_ = nullptr;
    return;
  }
  txn_ = t;
}

read_txn::read_txn(read_txn&& o) noexcept : env_(o.env_), txn_(o.txn_), ec_(o.ec_) {
  o.env_ = nullptr;
  o.txn_ = nullptr;
}

read_txn::~read_txn() {
  if (txn_) mdb_txn_abort(static_cast<MDB_txn*>(txn_));
  if (env_) env_->resize.unlock_shared();
}

std::optional<std::string_view> read_txn::get(table t, std::string_view key) const {
  if (!txn_ || !env_->has(t) || key.empty() || key.size() > env_->max_key) return std::nullopt;
  MDB_val k = val_of(key), v;
  if (mdb_get(static_cast<MDB_txn*>(txn_), env_->dbi(t), &k, &v) != MDB_SUCCESS) return std::nullopt;
  return view_of(v);
}

namespace {
struct cursor {
  MDB_cursor* c = nullptr;
  cursor(MDB_txn* txn, MDB_dbi dbi) {
    if (mdb_cursor_open(txn, dbi, &c) != MDB_SUCCESS) c = nullptr;
  }
  ~cursor() {
    if (c) mdb_cursor_close(c);
  }
};
}  // namespace

size_t read_txn::scan(table t, std::string_view from, std::string_view to,
                      const std::function<bool(std::string_view, std::string_view)>& f) const {
  if (!txn_ || !env_->has(t)) return 0;
  cursor cur(static_cast<MDB_txn*>(txn_), env_->dbi(t));
  if (!cur.c) return 0;
  MDB_val k = val_of(from), v;
  int rc = from.empty() ? mdb_cursor_get(cur.c, &k, &v, MDB_FIRST) : mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
  size_t n = 0;
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    auto key = view_of(k);
    if (!to.empty() && key >= to) break;
    ++n;
    if (!f(key, view_of(v))) break;
  }
  return n;
}

size_t read_txn::scan_reverse(table t, std::string_view before,
                              const std::function<bool(std::string_view, std::string_view)>& f) const {
  if (!txn_ || !env_->has(t)) return 0;
  cursor cur(static_cast<MDB_txn*>(txn_), env_->dbi(t));
  if (!cur.c) return 0;
  MDB_val k, v;
  int rc;
  if (before.empty()) {
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_LAST);
  } else {
    k = val_of(before);
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);  // first key >= before, then step back
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur.c, &k, &v, MDB_PREV) : mdb_cursor_get(cur.c, &k, &v, MDB_LAST);
  }
  size_t n = 0;
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur.c, &k, &v, MDB_PREV)) {
    ++n;
    if (!f(view_of(k), view_of(v))) break;
  }
  return n;
}

size_t read_txn::count(table t) const {
  if (!txn_ || !env_->has(t)) return 0;
  MDB_stat st;
  if (mdb_stat(static_cast<MDB_txn*>(txn_), env_->dbi(t), &st) != MDB_SUCCESS) return 0;
  return st.ms_entries;
}

}  // namespace hotline::storage
