#pragma once
// The event hub actor: topic -> subscribers, fan-out of published events. One actor
// owns the subscription table, so subscribe/publish races need no locks.
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <memory>
#include <string>

#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/type_ids.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<hotline::actors::subscriber>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const std::string>)

namespace hotline::actors {

using hub_actor = caf::typed_actor<
    caf::reacts_to<atoms::subscribe_atom, std::string, std::shared_ptr<subscriber>>,
    caf::reacts_to<atoms::unsub_atom, std::string, uint64_t>,
    caf::reacts_to<atoms::drop_atom, uint64_t>,
    caf::reacts_to<atoms::publish_atom, std::string, std::string>,
    // sync -> answered once everything sent to the hub before it has been delivered.
    caf::replies_to<atoms::sync_atom>::with<bool>>;

struct hub_limits {
  size_t max_topics = 100'000;  // a subscription to one more topic is refused (and logged)
};

hub_actor spawn_hub(caf::actor_system& sys, hub_limits limits = {});

}  // namespace hotline::actors
