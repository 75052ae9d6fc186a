#pragma once
// storage::errc as caf::error values (category atom "storage"), so a failed write
// reaches the requesting actor as an ordinary error response.
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <string>
#include <system_error>

#include "storage/errors.hpp"

namespace hotline::storage {

inline caf::error make_error(errc e) { return caf::error(static_cast<uint8_t>(e), caf::atom("storage")); }
inline std::string to_string(errc e) { return make_error_code(e).message(); }

}  // namespace hotline::storage

namespace hotline::actors {

// The inverse, for facades that hand errors to non-actor code.
inline std::error_code to_error_code(const caf::error& e) {
  if (!e) return {};
  if (e.category() == caf::atom("storage")) return storage::make_error_code(static_cast<storage::errc>(e.code()));
  return std::make_error_code(std::errc::timed_out);  // request timeouts, dead actors
}

}  // namespace hotline::actors
