#pragma once
// The actor runtime as non-actor code sees it: boots the CAF actor system with the
// configured worker threads, spawns the long-lived service actors (storage writer,
// event hub) and hands out plain C++ facades to them. api/ uses only this header, so
// its HTTP/WebSocket TUs never include CAF.
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <system_error>

#include "actors/kb/service.hpp"
#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/clock.hpp"
#include "storage/env.hpp"
#include "storage/write_batch.hpp"

namespace caf {
class actor_system;
}
namespace hotline::calls {
class center;
struct center_options;
}  // namespace hotline::calls
namespace hotline::media {
class engine;
}
namespace hotline::console {
class service;
struct options;
}
namespace hotline::prompt {
class prompt_library;
}

namespace hotline::actors {

// Durable writes for non-actor callers: `done` runs on a CAF worker once the batch's
// commit is on disk (or failed); it must not block.
class durable_writer {
 public:
  using done_fn = std::function<void(std::error_code, uint64_t commit_no)>;
  virtual ~durable_writer() = default;
  virtual void write(storage::write_batch batch, done_fn done) = 0;
};

struct runtime_options {
  size_t workers = 0;        // CAF scheduler threads; 0 = one per core
  std::string kb_index_dir;  // the knowledge base's Xapian index; empty: no knowledge base
  size_t kb_searchers = 0;   // the knowledge base's search threads; 0 = one per core
};

class runtime {
 public:
  // Without the knowledge base (CLI tools, storage tests).
  static std::unique_ptr<runtime> start(const runtime_options& opts, storage::env& env);
  // Nullptr with `error` set when a service cannot start (e.g. the index is locked).
  static std::unique_ptr<runtime> start(const runtime_options& opts, storage::env& env, const wall_clock& clock,
                                        std::string& error);
  virtual ~runtime() = default;

  virtual durable_writer& writer() = 0;
  virtual event_hub& hub() = 0;
  virtual kb::service* knowledge_base() = 0;  // null without kb_index_dir

  // The contact center (calls, agents, queues: actors/call/center.hpp) on this runtime's
  // actors, its writer and hub. The engine and prompts must outlive it. Nullptr with
  // `error` set on a bad queue configuration.
  virtual std::unique_ptr<calls::center> start_calls(media::engine& media, const prompt::prompt_library& prompts,
                                                     calls::center_options options, std::string& error) = 0;

  // The consoles (actors/console/console.hpp): start them before the center, so that the
  // floor sees every event of its start; attach the center to them; the center must
  // outlive them.
  virtual std::unique_ptr<console::service> start_consoles(console::options options) = 0;

  // The actor system (tools and tests that address an actor by its registered name, e.g.
  // the site's ACD as "acd").
  virtual caf::actor_system& system() = 0;

  // Waits until every event published so far has been handed to its subscribers.
  virtual bool sync_hub(int timeout_ms) = 0;

  // Commits whatever the writer holds and stops every actor. Blocks up to `timeout_ms`.
  // Returns false if the drain did not finish in time.
  virtual bool shutdown(int timeout_ms) = 0;
};

}  // namespace hotline::actors
