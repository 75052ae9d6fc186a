#pragma once
// Spawns the knowledge base's actors (CAF in this header: include only from the runtime).
#include <caf/fwd.hpp>
#include <memory>
#include <string>

#include "actors/kb/service.hpp"
#include "actors/runtime/clock.hpp"
#include "actors/runtime/runtime.hpp"
#include "actors/storage/writer.hpp"

namespace hotline::kb {

struct service_options {
  std::string index_dir;     // the Xapian database (derived data: rebuilt when missing)
  size_t searchers = 0;      // search threads, each with its own reader; 0 = one per core
};

// Nullptr with `error` set when the index cannot be opened.
// `writer` carries the workflow's commits (awaited); `bg_writer` the analytics logs.
std::unique_ptr<service> start_service(caf::actor_system& sys, storage::env& env, actors::storage_writer writer,
                                       actors::durable_writer& bg_writer, const wall_clock& clock,
                                       const service_options& opts, std::string& error);

}  // namespace hotline::kb
