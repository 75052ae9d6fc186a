#include "actors/storage/writer.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <algorithm>
#include <vector>

#include "actors/storage/errors.hpp"

namespace hotline::actors {

namespace {

struct writer_state {
  writer_state() = default;  // C++20 aggregate trap in CAF 0.17 (DEPENDENCIES.md §2)
  storage::env* env = nullptr;
  writer_options opts;
  std::vector<storage::write_batch> batches;
  std::vector<caf::typed_response_promise<uint64_t>> promises;
  bool flush_queued = false;
  uint64_t commit_no = 0;
  static inline const char* name = "storage-writer";
};

using writer_pointer = storage_writer::stateful_pointer<writer_state>;

void commit_pending(writer_pointer self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.batches.empty()) return;
  auto results = st.env->commit(st.batches);
  // Number only commits that wrote something, so `sync` never names a failed one.
  if (std::any_of(results.begin(), results.end(), [](const std::error_code& ec) { return !ec; })) ++st.commit_no;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i]) st.promises[i].deliver(storage::make_error(static_cast<storage::errc>(results[i].value())));
    else st.promises[i].deliver(st.commit_no);
  }
  st.batches.clear();
  st.promises.clear();
}

storage_writer::behavior_type writer_behavior(writer_pointer self, storage::env* env, writer_options opts) {
  self->state.env = env;
  self->state.opts = opts;
  return {
      [=](atoms::write_atom, storage::write_batch& batch) -> caf::typed_response_promise<uint64_t> {
        auto& st = self->state;
        auto rp = self->make_response_promise<uint64_t>();
        st.batches.push_back(std::move(batch));
        st.promises.push_back(rp);
        if (st.batches.size() >= st.opts.max_batches_per_commit) {
          commit_pending(self);
        } else if (!st.flush_queued) {
          // The flush lands behind every request already queued: they all join this commit.
          st.flush_queued = true;
          self->send(self, atoms::flush_atom_v);
        }
        return rp;  // answered by commit_pending once the commit is durable
      },
      [=](atoms::flush_atom) { commit_pending(self); },
      [=](atoms::sync_atom) -> uint64_t {
        commit_pending(self);
        return self->state.commit_no;
      },
  };
}

}  // namespace

storage_writer spawn_storage_writer(caf::actor_system& sys, storage::env& env, writer_options opts) {
  return sys.spawn<caf::detached>(writer_behavior, &env, opts);
}

storage_writer spawn_storage_writer_for_test(caf::actor_system& sys, storage::env& env, writer_options opts) {
  return sys.spawn(writer_behavior, &env, opts);
}

}  // namespace hotline::actors
