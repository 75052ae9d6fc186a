#pragma once
// The consoles' actors and their messages (console.cpp: floor, sessions). CAF here only.
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>

#include "actors/call/center.hpp"
#include "actors/console/console.hpp"
#include "actors/console/floor_model.hpp"
#include "actors/runtime/runtime.hpp"

namespace hotline::console {

struct console_context {
  caf::actor_system& sys;
  calls::center* center = nullptr;  // set by service::attach before any console opens
  storage::env& env;
  actors::durable_writer& writer;
  options opt;
  caf::actor floor;
  std::atomic<size_t> supervisors{0}, agents{0};
  // Every session actor, so that the service can stop them before the center goes.
  std::mutex sessions_mutex;
  std::unordered_map<uint64_t, caf::actor> sessions;
  void enter(const caf::actor& a) {
    std::lock_guard lock(sessions_mutex);
    sessions[a.id()] = a;
  }
  void leave(uint64_t id) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
  }
  console_context(caf::actor_system& s, storage::env& e, actors::durable_writer& w, options o)
      : sys(s), env(e), writer(w), opt(std::move(o)) {}
  void audit(const user& who, std::string action, std::string target, std::string detail_json) const {
    if (opt.audit) opt.audit({who.username, std::move(action), std::move(target), opt.site, std::move(detail_json)});
  }
};

// The floor's subscriber id on the hub (connections count up from 1: no clash).
inline constexpr uint64_t floor_subscriber_id = UINT64_MAX - 7;

// Hub -> floor: one event frame of a topic the floor follows.
struct hub_frame {
  std::shared_ptr<const std::string> frame;
};
// A supervisor console joins the floor's fan-out: snapshot or replay first, then deltas.
struct join_supervisor {
  std::shared_ptr<actors::subscriber> conn;
  bool masked = true;
  std::optional<std::string> epoch;
  uint64_t seq = 0;
};
struct leave_supervisor {
  uint64_t conn_id = 0;
};
// An agent console: the floor sends it the changes that concern its agent.
struct join_agent {
  caf::actor session;
  std::string agent;
};
struct leave_agent {
  caf::actor_addr session;
  std::string agent;
};
struct agent_change {
  change c;
};
// A supervisor's message to an agent's consoles; the floor answers `reply_to` with how
// many consoles got it.
struct to_agent {
  std::string agent;
  std::shared_ptr<const std::string> frame;
  std::shared_ptr<actors::subscriber> reply_to;
  int64_t id = 0;
};
struct agent_frame {  // floor -> agent session: a frame for its console
  std::shared_ptr<const std::string> frame;
};
struct command_msg {
  command c;
};
struct audio_msg {
  std::string frame;
};
struct stop_msg {};
struct async_done {  // a center call answered; `then` runs on the session actor
  std::function<void()> then;
};

caf::actor spawn_floor(const std::shared_ptr<console_context>& ctx, actors::event_hub& hub);
caf::actor spawn_supervisor(const std::shared_ptr<console_context>& ctx, user who, std::shared_ptr<actors::subscriber> conn,
                            hello h);
caf::actor spawn_agent(const std::shared_ptr<console_context>& ctx, user who, std::shared_ptr<actors::subscriber> conn);

// {"type":"result","id":N,"ok":true} or with "error":{"code","message"}.
// Small helpers of the sessions and the floor.
int64_t now_ms();
std::optional<uint64_t> parse_call_id(const std::string& s);  // a call id as consoles send it

std::shared_ptr<const std::string> result_frame(int64_t id, const std::string& code = {}, const std::string& message = {});
void send_text(const std::weak_ptr<actors::subscriber>& conn, std::shared_ptr<const std::string> frame);

}  // namespace hotline::console

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::hub_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::join_supervisor)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::leave_supervisor)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::join_agent)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::leave_agent)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::agent_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::to_agent)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::agent_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::command_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::audio_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::stop_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::console::async_done)

namespace hotline::console {
std::unique_ptr<service> make_service(caf::actor_system& sys, storage::env& env, actors::durable_writer& writer,
                                      actors::event_hub& hub, options opt);
}
