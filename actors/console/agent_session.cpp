// An agent's desktop (N-04, N-07, N-11, N-14, N-15): its state as the ACD has it, the
// screen pop of the call that rings and connects (the caller's earlier calls from the
// call records), and the agent's commands: state, classification, transfer, flags.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <deque>

#include "actors/console/internal.hpp"
#include "actors/runtime/log.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::console {

namespace json = boost::json;

namespace {

constexpr size_t history_shown = 5;

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class agent_session : public caf::event_based_actor {
 public:
  agent_session(caf::actor_config& cfg, std::shared_ptr<console_context> ctx, user who, std::shared_ptr<actors::subscriber> conn)
      : caf::event_based_actor(cfg), ctx_(std::move(ctx)), who_(std::move(who)), conn_(conn) {}

  caf::behavior make_behavior() override {
    ++ctx_->agents;
    ctx_->enter(caf::actor_cast<caf::actor>(this));
    send(ctx_->floor, join_agent{caf::actor_cast<caf::actor>(this), who_.work_id});
    return {
        [this](agent_change& m) { on_change(m.c); },
        [this](agent_frame& m) { send_text(conn_, std::move(m.frame)); },
        [this](command_msg& m) { std::visit([this](auto& c) { on(c); }, m.c); },
        [this](audio_msg&) {},
        [this](async_done& d) { d.then(); },
        [this](stop_msg&) {
          send(ctx_->floor, leave_agent{address(), who_.work_id});
          quit();
        },
    };
  }

  void on_exit() override {
    ctx_->leave(id());
    --ctx_->agents;
  }

 private:
  void reply(int64_t id, const std::string& code = {}, const std::string& message = {}) {
    send_text(conn_, result_frame(id, code, message));
  }
  void text(const json::object& o) { send_text(conn_, std::make_shared<const std::string>(json::serialize(o))); }
  template <class F>
  auto later(F f) {
    return [self = caf::actor_cast<caf::actor>(this), f = std::move(f)](auto... args) mutable {
      caf::anon_send(self, async_done{[f = std::move(f), args...]() mutable { f(args...); }});
    };
  }

  // ---- what the floor tells ----------------------------------------------------------
  void on_change(const change& c) {
    if (c.kind == kind::agent) return text(json::object{{"type", "agent"}, {"data", c.data}});
    if (c.kind != kind::call) return;
    bool mine = !c.removed && str(c.data, "agent") == who_.work_id;
    if (mine) {
      calls_[c.key] = c.data;
      remember(c.key);
      auto state = str(c.data, "state");
      if ((state == "ringing" || state == "connected") && popped_[c.key] != state) {
        popped_[c.key] = state;
        screen_pop(c.data);
      }
      current_ = c.key;
      return;
    }
    if (current_ == c.key) {  // ended, or no longer with this agent (released, transferred, rung elsewhere)
      text(json::object{{"type", "call_ended"}, {"call", c.key}});
      current_.clear();
      // A call that only rang here is not this agent's to classify or flag.
      if (popped_[c.key] != "connected") calls_.erase(c.key);
      popped_.erase(c.key);
    }
  }

  void remember(const std::string& call) {
    if (std::find(recent_.begin(), recent_.end(), call) != recent_.end()) return;
    recent_.push_back(call);
    if (recent_.size() > 50) {
      calls_.erase(recent_.front());
      recent_.pop_front();
    }
  }

  // N-07: who is calling, and what they called about before.
  void screen_pop(const json::object& call) {
    json::object c = call;
    auto started = c.if_contains("started_ms");
    if (started && started->is_int64()) c["wait_ms"] = now_ms() - started->as_int64();
    text(json::object{{"type", "screen_pop"}, {"call", c}, {"history", history(str(call, "from"), c.at("call").as_string())}});
  }

  json::array history(const std::string& number, std::string_view this_call) const {
    json::array out;
    if (number.empty()) return out;
    auto txn = ctx_->env.read();
    if (!txn.ok()) return out;
    std::string prefix = number + '\0';
    std::string end = number + '\1';
    std::vector<std::string> ids;
    txn.scan_reverse(storage::table::calls_by_caller, end, [&](std::string_view k, std::string_view) {
      if (k.substr(0, prefix.size()) != prefix) return false;
      ids.emplace_back(k.substr(prefix.size()));
      return ids.size() < history_shown + 1;
    });
    for (const auto& key : ids) {
      auto id = storage::from_be64(key);
      if (!id || std::to_string(*id) == this_call) continue;
      auto rec = txn.get(storage::table::calls, key);
      if (!rec) continue;
      auto r = storage::decode_record(*rec);
      if (!r) continue;
      json::object h{{"call", std::to_string(*id)}, {"started_ms", r->contains("started_ms") ? r->at("started_ms") : json::value(nullptr)},
                     {"outcome", str(*r, "outcome")}, {"agent", str(*r, "agent")}, {"queue", str(*r, "queue")}};
      if (auto notes = txn.get(storage::table::call_notes, key))
        if (auto n = storage::decode_record(*notes))
          for (auto f : {"classification", "topic", "note"}) h[f] = str(*n, f);
      out.push_back(std::move(h));
      if (out.size() >= history_shown) break;
    }
    return out;
  }

  // ---- commands --------------------------------------------------------------------------
  void on(console::state_change& m) {
    calls::agent_command c;
    auto reason = acd::not_ready_reason::other;
    if (m.state == "login") c = calls::agent_command::login;
    else if (m.state == "ready") c = calls::agent_command::ready;
    else if (m.state == "wrap_up_done") c = calls::agent_command::end_wrap_up;
    else if (m.state == "logout") c = calls::agent_command::logout;
    else if (m.state == "not_ready") {
      c = calls::agent_command::not_ready;
      if (!m.reason.empty()) {
        auto r = acd::parse_not_ready_reason(m.reason);
        if (!r) return reply(m.id, "invalid_value", "unknown not-ready reason '" + m.reason + "'");
        reason = *r;
      }
    } else {
      return reply(m.id, "invalid_value", "unknown state '" + m.state + "'");
    }
    auto cmd = m.id;
    ctx_->center->command(who_.work_id, c, reason, later([this, cmd](std::string error) {
                           if (!error.empty()) return reply(cmd, "refused", error);
                           reply(cmd);
                         }));
  }

  // Is `call` one this agent handled? Seen live, or the call record says so.
  bool handled(const std::string& call, uint64_t id, std::string* from) const {
    if (auto it = calls_.find(call); it != calls_.end()) {
      *from = str(it->second, "from");
      return true;
    }
    auto txn = ctx_->env.read();
    auto rec = txn.ok() ? txn.get(storage::table::calls, storage::be64(id)) : std::nullopt;
    if (!rec) return false;
    auto r = storage::decode_record(*rec);
    if (!r || str(*r, "agent") != who_.work_id) return false;
    *from = str(*r, "from");
    return true;
  }

  // The call's notes record, with `fields` merged in, written durably; then `done`.
  void write_notes(uint64_t id, json::object fields, const std::function<void(storage::write_batch&)>& extra,
                   std::function<void(std::error_code)> done) {
    json::object notes;
    {
      auto txn = ctx_->env.read();
      if (auto old = txn.ok() ? txn.get(storage::table::call_notes, storage::be64(id)) : std::nullopt)
        if (auto o = storage::decode_record(*old)) notes = std::move(*o);
    }
    notes.erase("v");
    for (auto& [k, v] : fields) notes[k] = v;
    notes["agent"] = who_.work_id;
    notes["updated_ms"] = now_ms();
    storage::write_batch b;
    b.put(storage::table::call_notes, storage::be64(id), storage::encode_record(std::move(notes), 1));
    if (extra) extra(b);
    ctx_->writer.write(std::move(b), later([done = std::move(done)](std::error_code ec, uint64_t) { done(ec); }));
  }

  void on(console::classify& m) {
    auto id = parse_call_id(m.call);
    std::string from;
    if (!id || !handled(m.call, *id, &from)) return reply(m.id, "not_found", "call " + m.call + " is not one of yours");
    auto cmd = m.id;
    write_notes(*id,
                json::object{{"call", m.call}, {"classification", m.classification}, {"topic", m.topic}, {"note", m.note}},
                {}, [this, cmd](std::error_code ec) {
                  if (ec) return reply(cmd, "storage_unavailable", ec.message());
                  reply(cmd);
                });
  }

  void on(console::flag& m) {
    auto id = parse_call_id(m.call);
    std::string from;
    if (!id || !handled(m.call, *id, &from)) return reply(m.id, "not_found", "call " + m.call + " is not one of yours");
    auto cmd = m.id;
    if (m.kind == "dangerous") {
      if (current_ != m.call) return reply(cmd, "refused", "only the call in progress can be flagged dangerous");
      return ctx_->center->flag_dangerous(who_.work_id, later([this, cmd](std::string error) {
                                           if (!error.empty()) return reply(cmd, "refused", error);
                                           reply(cmd);
                                         }));
    }
    // N-15: the number is noted for a supervisor's review; nothing is blocked here.
    auto key = from;
    auto flag_number = [this, key, call = m.call](storage::write_batch& b) {
      json::object f{{"number", key}, {"status", "pending_review"}, {"count", 0}, {"calls", json::array()}};
      auto txn = ctx_->env.read();
      if (auto old = txn.ok() ? txn.get(storage::table::caller_flags, key) : std::nullopt)
        if (auto o = storage::decode_record(*old)) f = std::move(*o);
      f.erase("v");
      f["count"] = (f["count"].is_int64() ? f["count"].as_int64() : 0) + 1;
      f["calls"].as_array().push_back(json::object{{"call", call}, {"agent", who_.work_id}, {"at_ms", now_ms()}});
      f["last_ms"] = now_ms();
      b.put(storage::table::caller_flags, key, storage::encode_record(std::move(f), 1));
    };
    write_notes(*id, json::object{{"harassing", true}}, flag_number, [this, cmd](std::error_code ec) {
      if (ec) return reply(cmd, "storage_unavailable", ec.message());
      reply(cmd);
    });
  }

  void on(console::transfer& m) {
    if (current_.empty()) return reply(m.id, "refused", "no call in progress");
    auto cmd = m.id;
    auto done = later([this, cmd](std::string error) {
      if (!error.empty()) return reply(cmd, "refused", error);
      reply(cmd);
    });
    if (m.to == "queue") return ctx_->center->transfer_to_queue(who_.work_id, m.target, std::move(done));
    ctx_->center->transfer(who_.work_id, m.target, std::move(done));
  }

  // N-17: the open callback requests, newest first (the agent calls the caller back).
  void on(console::callbacks_list& m) {
    json::array items;
    auto txn = ctx_->env.read();
    if (txn.ok())
      txn.scan_reverse(storage::table::callbacks, {}, [&](std::string_view k, std::string_view v) {
        auto r = storage::decode_record(v);
        auto id = storage::from_be64(k);
        if (!r || !id || str(*r, "status") == "done") return true;
        r->erase("v");
        (*r)["request"] = std::to_string(*id);
        if (auto* c = r->if_contains("call"); c && !c->is_string()) *c = std::to_string(c->to_number<uint64_t>());
        items.push_back(std::move(*r));
        return items.size() < 50;
      });
    auto frame = json::object{{"type", "result"}, {"id", m.id}, {"ok", true}, {"items", std::move(items)}};
    text(frame);
  }

  void on(console::callback_dial& m) {
    auto request = parse_call_id(m.request);
    if (!request) return reply(m.id, "not_found", "no callback request '" + m.request + "'");
    auto cmd = m.id;
    ctx_->center->callback(who_.work_id, *request, later([this, cmd](std::string error) {
                            if (!error.empty()) return reply(cmd, "refused", error);
                            reply(cmd);
                          }));
  }

  template <class Supervisor_only>
  void on(Supervisor_only& m) {
    reply(m.id, "forbidden", "that is a supervisor console's command");
  }

  std::shared_ptr<console_context> ctx_;
  user who_;
  std::weak_ptr<actors::subscriber> conn_;
  std::string current_;                            // the call at the agent's phone
  std::map<std::string, json::object> calls_;      // calls seen with this agent (recent)
  std::deque<std::string> recent_;
  std::map<std::string, std::string> popped_;      // call -> the state last popped
};

}  // namespace

caf::actor spawn_agent(const std::shared_ptr<console_context>& ctx, user who, std::shared_ptr<actors::subscriber> conn) {
  return ctx->sys.spawn<agent_session>(ctx, std::move(who), std::move(conn));
}

}  // namespace hotline::console
