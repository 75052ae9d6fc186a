#pragma once
// The named tables of Hotline's one LMDB environment. Storage knows their names and
// key order, not what the values mean: each owning module encodes its values as a
// versioned record (record.hpp). Adding a table is adding an enumerator here.
#include <array>
#include <cstdint>
#include <string_view>

namespace hotline::storage {

enum class table : uint8_t {
  meta,        // "schema" -> record with the data dir's format version
  users,       // username -> user record (roles, site, password hash, lockout)
  sessions,    // sha256(token) -> session record (user, expiry)
  audit,       // time-ordered id (be64) -> audit event (who, what, when, from where)
  stress,      // crash and load tests: id (be64) -> payload; never read by the product
  count_       // not a table
};

inline constexpr std::array<std::string_view, static_cast<size_t>(table::count_)> table_names{
    "meta", "users", "sessions", "audit", "stress"};

inline constexpr std::string_view name_of(table t) { return table_names[static_cast<size_t>(t)]; }

}  // namespace hotline::storage
