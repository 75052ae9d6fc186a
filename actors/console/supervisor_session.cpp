// A supervisor's console (N-40, N-32): the floor sends it the live picture; this actor
// carries out its commands — monitoring a call from the browser or a phone, forcing an
// agent's state, messages to agents — and audits each one.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>
#include <charconv>

#include "actors/console/internal.hpp"
#include "actors/runtime/log.hpp"
#include "media/rtp/loopback_peer.hpp"

namespace hotline::console {

namespace json = boost::json;

namespace {

calls::monitor_mode to_calls(monitor_mode m) {
  switch (m) {
    case monitor_mode::listen: return calls::monitor_mode::listen;
    case monitor_mode::whisper: return calls::monitor_mode::whisper;
    case monitor_mode::barge: return calls::monitor_mode::barge;
    case monitor_mode::takeover: return calls::monitor_mode::takeover;
  }
  return calls::monitor_mode::listen;
}


class supervisor_session : public caf::event_based_actor {
 public:
  supervisor_session(caf::actor_config& cfg, std::shared_ptr<console_context> ctx, user who,
                     std::shared_ptr<actors::subscriber> conn, hello h)
      : caf::event_based_actor(cfg), ctx_(std::move(ctx)), who_(std::move(who)), conn_(conn), hello_(std::move(h)) {}

  caf::behavior make_behavior() override {
    ++ctx_->supervisors;
    ctx_->enter(caf::actor_cast<caf::actor>(this));
    if (auto c = conn_.lock())
      send(ctx_->floor, join_supervisor{c, hello_.wallboard, hello_.resume_epoch, hello_.resume_seq});
    return {
        [this](command_msg& m) { std::visit([this](auto& c) { on(c); }, m.c); },
        [this](audio_msg& m) { on_audio(m.frame); },
        [this](async_done& d) { d.then(); },
        [this](stop_msg&) {
          if (mon_) stop_monitor("console closed");
          if (auto c = conn_.lock()) send(ctx_->floor, leave_supervisor{c->id()});
          quit();
        },
    };
  }

  void on_exit() override {
    ctx_->leave(id());
    --ctx_->supervisors;
  }

 private:
  struct monitor_state {
    std::string call;
    uint64_t id = 0;
    monitor_mode mode = monitor_mode::listen;
    bool via_phone = false;
    std::string phone;
    bool started = false;
    std::unique_ptr<rtp::loopback_peer> peer;
  };

  void reply(int64_t id, const std::string& code = {}, const std::string& message = {}) {
    send_text(conn_, result_frame(id, code, message));
  }
  void text(json::object o) { send_text(conn_, std::make_shared<const std::string>(json::serialize(o))); }
  // Runs `f` on this actor when a center callback (any thread) fires.
  template <class F>
  auto later(F f) {
    return [self = caf::actor_cast<caf::actor>(this), f = std::move(f)](auto... args) mutable {
      caf::anon_send(self, async_done{[f = std::move(f), args...]() mutable { f(args...); }});
    };
  }

  json::object monitor_frame(const char* state, const std::string& reason = {}) const {
    json::object o{{"type", "monitor"}, {"state", state}, {"call", mon_->call}, {"mode", to_string(mon_->mode)},
                   {"via", mon_->via_phone ? "phone" : "browser"}};
    if (!mon_->via_phone) {
      o["codec"] = "opus";
      o["rate"] = 48000;
    }
    if (!reason.empty()) o["reason"] = reason;
    return o;
  }
  std::string audit_detail() const {
    return json::serialize(json::object{{"mode", to_string(mon_->mode)}, {"via", mon_->via_phone ? "phone" : "browser"},
                                        {"phone", mon_->phone}});
  }

  // ---- N-40 ----------------------------------------------------------------------------
  void on(console::monitor& m) {
    if (mon_) return reply(m.id, "busy", "stop monitoring call " + mon_->call + " first");
    auto id = parse_call_id(m.call);
    if (!id) return reply(m.id, "not_found", "no such call '" + m.call + "'");
    if (m.via_phone && m.phone.empty()) return reply(m.id, "missing_field", "monitoring via a phone needs 'phone'");
    mon_ = std::make_unique<monitor_state>();
    mon_->call = m.call;
    mon_->id = *id;
    mon_->mode = m.mode;
    mon_->via_phone = m.via_phone;
    mon_->phone = m.phone;
    calls::monitor_request req;
    req.supervisor = who_.username;
    req.mode = to_calls(m.mode);
    if (m.via_phone) {
      req.phone = m.phone;
    } else {
      std::string error;
      std::weak_ptr<actors::subscriber> conn = conn_;
      // Each Opus packet from the call goes to the browser behind its 4-byte timestamp.
      mon_->peer = rtp::loopback_peer::open(
          [conn](std::span<const std::byte> opus, uint32_t ts) {
            auto c = conn.lock();
            if (!c) return;
            auto frame = std::make_shared<std::string>(4 + opus.size(), '\0');
            (*frame)[0] = static_cast<char>(ts >> 24);
            (*frame)[1] = static_cast<char>(ts >> 16);
            (*frame)[2] = static_cast<char>(ts >> 8);
            (*frame)[3] = static_cast<char>(ts);
            std::memcpy(frame->data() + 4, opus.data(), opus.size());
            c->deliver_binary(std::move(frame));
          },
          error);
      if (!mon_->peer) {
        mon_.reset();
        return reply(m.id, "unavailable", "no listen-in socket: " + error);
      }
      req.browser_port = mon_->peer->port();
    }
    auto gen = ++gen_;
    req.ended = later([this, gen](std::string why) {
      if (!mon_ || gen != gen_) return;
      end_monitor(why);
    });
    auto cmd = m.id;
    ctx_->center->monitor(*id, std::move(req), later([this, gen, cmd](std::string error, uint16_t leg_port) {
                           if (!mon_ || gen != gen_) return;
                           if (!error.empty()) {
                             mon_.reset();
                             return reply(cmd, "refused", error);
                           }
                           if (mon_->peer) mon_->peer->set_remote(leg_port);
                           mon_->started = true;
                           ctx_->audit(who_, "monitor.start", "call:" + mon_->call, audit_detail());
                           reply(cmd);
                           text(monitor_frame("started"));
                         }));
  }

  void on(console::monitor_mode_change& m) {
    if (!mon_ || !mon_->started) return reply(m.id, "not_monitoring", "no monitor in progress");
    auto gen = gen_;
    auto cmd = m.id;
    auto mode = m.mode;
    ctx_->center->monitor_mode(mon_->id, to_calls(mode), later([this, gen, cmd, mode](std::string error) {
                                if (!mon_ || gen != gen_) return reply(cmd, "not_monitoring", "the monitor ended");
                                if (!error.empty()) return reply(cmd, "refused", error);
                                mon_->mode = mode;
                                ctx_->audit(who_, "monitor.mode", "call:" + mon_->call, audit_detail());
                                reply(cmd);
                                text(monitor_frame("mode"));
                              }));
  }

  void on(console::monitor_stop& m) {
    if (!mon_) return reply(m.id, "not_monitoring", "no monitor in progress");
    stop_monitor("stopped");
    reply(m.id);
  }

  void stop_monitor(const std::string& why) {
    ctx_->center->monitor_stop(mon_->id, [](std::string) {});
    end_monitor(why);
  }

  void end_monitor(const std::string& why) {
    if (mon_->started) {
      auto detail = json::parse(audit_detail()).as_object();
      detail["reason"] = why;
      ctx_->audit(who_, "monitor.end", "call:" + mon_->call, json::serialize(detail));
      text(monitor_frame("ended", why));
    }
    mon_.reset();  // the peer's thread stops here
    ++gen_;
  }

  void on_audio(const std::string& frame) {
    // The supervisor's microphone counts in whisper, barge and take-over only.
    if (!mon_ || !mon_->peer || mon_->mode == monitor_mode::listen || frame.size() < 5) return;
    auto* b = reinterpret_cast<const unsigned char*>(frame.data());
    uint32_t ts = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    mon_->peer->send(std::as_bytes(std::span(frame).subspan(4)), ts);
  }

  // ---- agents (N-32, N-04) ---------------------------------------------------------------
  void on(console::agent_state& m) {
    calls::agent_command c;
    auto reason = acd::not_ready_reason::other;
    if (m.state == "not_ready") {
      c = calls::agent_command::not_ready;
      if (!m.reason.empty()) {
        auto r = acd::parse_not_ready_reason(m.reason);
        if (!r) return reply(m.id, "invalid_value", "unknown not-ready reason '" + m.reason + "'");
        reason = *r;
      }
    } else if (m.state == "logout") {
      c = calls::agent_command::logout;
    } else {
      return reply(m.id, "invalid_value", "a supervisor may set 'not_ready' or 'logout'");
    }
    auto cmd = m.id;
    auto detail = json::serialize(json::object{{"state", m.state}, {"reason", m.reason}});
    auto target = "agent:" + m.agent;
    ctx_->center->command(m.agent, c, reason, later([this, cmd, detail, target](std::string error) {
                           if (!error.empty()) return reply(cmd, "refused", error);
                           ctx_->audit(who_, "agent.force_state", target, detail);
                           reply(cmd);
                         }));
  }

  void on(console::agent_message& m) {
    auto frame = std::make_shared<const std::string>(json::serialize(json::object{
        {"type", "message"},
        {"from", who_.display_name.empty() ? who_.username : who_.display_name},
        {"text", m.text},
        {"at_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()}}));
    ctx_->audit(who_, "agent.message", "agent:" + m.agent, json::serialize(json::object{{"text", m.text}}));
    send(ctx_->floor, to_agent{m.agent, std::move(frame), conn_.lock(), m.id});
  }

  template <class Agent_only>
  void on(Agent_only& m) {
    reply(m.id, "forbidden", "that is an agent console's command");
  }

  std::shared_ptr<console_context> ctx_;
  user who_;
  std::weak_ptr<actors::subscriber> conn_;
  hello hello_;
  std::unique_ptr<monitor_state> mon_;
  uint64_t gen_ = 0;
};

}  // namespace

caf::actor spawn_supervisor(const std::shared_ptr<console_context>& ctx, user who, std::shared_ptr<actors::subscriber> conn,
                            hello h) {
  return ctx->sys.spawn<supervisor_session>(ctx, std::move(who), std::move(conn), std::move(h));
}

}  // namespace hotline::console
