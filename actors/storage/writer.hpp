#pragma once
// The storage writer: the one actor that writes LMDB. It runs detached (its own
// thread), so an fsync never stalls the CAF scheduler, and commits in groups: every
// write request that is in its mailbox when a commit starts rides in that commit, and
// each is answered only after the commit is durable (group commit).
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>

#include "actors/runtime/type_ids.hpp"
#include "storage/env.hpp"

namespace hotline::actors {

// write -> the number of the durable commit that carried the batch, or a storage error.
using storage_writer = caf::typed_actor<
    caf::replies_to<atoms::write_atom, storage::write_batch>::with<uint64_t>,
    caf::reacts_to<atoms::flush_atom>,
    // sync -> commits what is pending now; answers with the last commit's number. Used
    // at shutdown to drain before the writer exits.
    caf::replies_to<atoms::sync_atom>::with<uint64_t>>;

struct writer_options {
  size_t max_batches_per_commit = 4096;  // bounds one commit's latency under a flood
};

storage_writer spawn_storage_writer(caf::actor_system& sys, storage::env& env, writer_options opts = {});

// Spawns the writer on the calling scheduler instead of a thread of its own, so the
// deterministic test coordinator can drive it.
storage_writer spawn_storage_writer_for_test(caf::actor_system& sys, storage::env& env, writer_options opts = {});

}  // namespace hotline::actors
