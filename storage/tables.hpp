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
  kb_entries,  // entry id -> head: latest and published version numbers
  kb_versions, // entry id + '\0' + be32 version -> the entry at that version (never deleted)
  kb_comments, // entry id + '\0' + time-ordered id (be64) -> comment on a draft
  kb_searches, // time-ordered id (be64) -> one console search: who, query, filters, results
  kb_usage,    // time-ordered id (be64) -> an entry opened or used on a call (N-29)
  kb_documents,// time-ordered id (be64) -> an imported policy document (source text)
  sip_phones,  // SIP username -> phone account (digest HA1s, codecs, SRTP policy)
  calls,       // call id (be64, time-ordered) -> the call record (CDR) of a finished call
  callbacks,   // call id (be64) -> a callback request (N-17, N-18): number, queue, status
  calls_by_caller,  // caller number + '\0' + call id (be64) -> "" (screen pop history, N-07)
  call_notes,  // call id (be64) -> the agent's classification and flags of a call (N-07, N-15)
  caller_flags,  // caller number -> harassment flags awaiting a supervisor's review (N-15)
  count_       // not a table
};

inline constexpr std::array<std::string_view, static_cast<size_t>(table::count_)> table_names{
    "meta",        "users",       "sessions", "audit",    "stress",
    "kb_entries",  "kb_versions", "kb_comments", "kb_searches", "kb_usage", "kb_documents",
    "sip_phones",  "calls",       "callbacks", "calls_by_caller", "call_notes", "caller_flags"};

inline constexpr std::string_view name_of(table t) { return table_names[static_cast<size_t>(t)]; }

// What a table's values are: versioned records (record.hpp); nothing, the key being the
// whole entry (an index into another table); or bytes nobody reads as a record.
enum class value_kind : uint8_t { record, empty, raw };
inline constexpr value_kind value_kind_of(table t) {
  switch (t) {
    case table::calls_by_caller: return value_kind::empty;
    case table::stress: return value_kind::raw;
    default: return value_kind::record;
  }
}

}  // namespace hotline::storage
