#pragma once
// Errors of the storage layer as std::error_code values (no exceptions cross the
// module boundary). Each LMDB failure is mapped to one of these.
#include <system_error>

namespace hotline::storage {

enum class errc {
  ok = 0,
  not_found = 1,      // key absent (reads only; erase of a missing key is not an error)
  key_exists = 2,     // put_new on an existing key: the batch is rejected, others commit
  disk_full = 3,      // ENOSPC while writing or syncing: nothing of the commit is durable
  io_error = 4,       // EIO or another OS error from the commit's fsync
  corrupted = 5,      // MDB_CORRUPTED / MDB_PAGE_NOTFOUND / a value without a schema envelope
  bad_value = 6,      // value or key too large for LMDB (MDB_BAD_VALSIZE)
  version_mismatch = 7,  // the data dir was written by an incompatible LMDB or Hotline
  other = 8,          // any other LMDB error; the message names it
};

const std::error_category& storage_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

// Maps an LMDB return code (or errno) to our error; MDB_SUCCESS maps to {}.
std::error_code from_mdb(int rc) noexcept;

}  // namespace hotline::storage

template <>
struct std::is_error_code_enum<hotline::storage::errc> : std::true_type {};
