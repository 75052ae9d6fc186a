// A callback dialled out (N-17): the platform rings the agent's phone, and when the agent
// answers, dials the caller through the trunk (center_options::callback_uri). When the
// caller answers, both hear the greeting that names the centre, then talk; the call is
// recorded like any other (N-42). The outcome goes into the callback request (status,
// attempts, agent) and a call record with the direction "outbound".
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/call/internal.hpp"
#include "actors/runtime/log.hpp"
#include "media/record/recorder.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::calls {
namespace {

using media::leg_role;
using sip::call_event_kind;

int64_t ms_of(clock_time t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

class callback_actor : public caf::event_based_actor {
 public:
  callback_actor(caf::actor_config& cfg, std::shared_ptr<call_context> ctx, callback_msg req)
      : caf::event_based_actor(cfg), ctx_(std::move(ctx)), req_(std::move(req)) {}

  caf::behavior make_behavior() override {
    ++ctx_->active_calls;
    start();
    return {
        [this](sip_msg& m) { on_sip(m.e); },
        [this](media_msg& m) { on_media(m.e); },
        [this](call_timer& t) {
          if (t.what == call_timer::kind::done) {
            if (late_recording_) store_late_recording(ctx_->writer, *gate_, *late_recording_);
            return quit();
          }
          if (t.what == call_timer::kind::transfer && t.generation == ring_gen_ && !connected_)
            finish(agent_answered_ ? "no_answer" : "agent_no_answer");
          if (t.what == call_timer::kind::close_guard) write_result();
        },
        [](acd_hello_msg&) {},  // a restarted ACD asks every call; callbacks are not routed
        [this](recording_msg& m) {
          if (written_) {  // after the close guard: added when the record is durable
            late_recording_ = m.result;
            return;
          }
          rec_.recording_ms = static_cast<int64_t>(m.result.duration_ms);
          rec_.recording_sha256 = m.result.sha256;
          if (m.result.error) rec_.recording_error = m.result.error->message;
          recording_pending_ = false;
          if (closing_ && media_closed_) write_result();
        },
    };
  }

  void on_exit() override {
    if (!closing_) {
      if (agent_ref_) ctx_->sip->hangup(agent_ref_);
      if (caller_ref_) ctx_->sip->hangup(caller_ref_);
      ctx_->media.close_session(session_);
      rec_.ended = ctx_->options.now();
      if (result_.empty()) result_ = "interrupted";  // the request stays open for another try
      publish("ended");
    }
    // Cut short (a shutdown, a failure): the request's attempt and the record are kept.
    if (!written_ && !result_.empty()) write_result();
    if (agent_ref_) ctx_->unbind(agent_ref_);
    if (caller_ref_) ctx_->unbind(caller_ref_);
    ctx_->forget_call(id_);
    --ctx_->active_calls;
  }

 private:
  void start() {
    rec_.id = id_ = ctx_->next_call_id();
    ctx_->register_call(id_, caf::actor_cast<caf::actor>(this));
    rec_.from = req_.number;  // the citizen, as on every call record
    rec_.dialled = req_.number;
    rec_.queue = req_.queue;
    rec_.agent = req_.agent;
    rec_.started = ctx_->options.now();
    rec_.outcome = "callback_dialled";
    auto self = caf::actor_cast<caf::actor>(this);
    session_ = ctx_->media.create_session(8000, [self](const media::media_event& e) { caf::anon_send(self, media_msg{e}); });
    auto local = ctx_->media.open_leg(session_, leg_role::agent, false, ctx_->options.advertise_address);
    if (auto* err = std::get_if<std::string>(&local)) return finish("no media port: " + *err);
    agent_offer_ = sdp::make_offer(ctx_->options.phone_policy, std::get<sdp::local_media>(local), random_bytes);
    sip::originate_request r;
    r.target = req_.phone;
    r.from_user = req_.number;
    r.from_display = "回电 " + req_.number;
    r.offer = agent_offer_;
    agent_ref_ = ctx_->sip->originate(r);
    ctx_->bind(agent_ref_, self);
    publish("ringing");
    ring(std::chrono::seconds(ctx_->options.callback_agent_ring_s));
  }

  void ring(std::chrono::seconds s) { delayed_send(this, s, call_timer{call_timer::kind::transfer, ++ring_gen_}); }

  void on_sip(const sip::call_event& e) {
    if (e.kind == call_event_kind::reinvite_offer) return ctx_->sip->reject(e.ref, 488, "Not Acceptable Here");
    bool agent = e.ref == agent_ref_;
    if (e.kind == call_event_kind::ended) {
      if (agent) {
        ctx_->unbind(agent_ref_);
        agent_ref_ = 0;
        if (rec_.released_by.empty() && connected_) rec_.released_by = "agent";
        return finish(connected_ ? "done" : agent_answered_ ? "agent_left" : "agent_no_answer");
      }
      ctx_->unbind(caller_ref_);
      caller_ref_ = 0;
      if (rec_.released_by.empty() && connected_) rec_.released_by = "caller";
      return finish(connected_ ? "done" : e.status == 486 || e.status == 600 ? "busy" : "no_answer");
    }
    if (e.kind != call_event_kind::answered || !e.sdp) return;
    if (agent && !agent_answered_) {
      auto accepted = sdp::accept_answer(agent_offer_, *e.sdp, ctx_->options.phone_policy);
      if (std::holds_alternative<sdp::negotiation_error>(accepted)) return finish("agent_phone_unusable");
      ctx_->media.configure_leg(session_, leg_role::agent, std::get<sdp::negotiated>(accepted), 4000);
      agent_answered_ = true;
      rec_.agent_answered = ctx_->options.now();
      dial_caller();
      return;
    }
    if (!agent && !connected_) {
      auto accepted = sdp::accept_answer(caller_offer_, *e.sdp, ctx_->options.phone_policy);
      if (std::holds_alternative<sdp::negotiation_error>(accepted)) return finish("caller_media_unusable");
      ctx_->media.configure_leg(session_, leg_role::caller, std::get<sdp::negotiated>(accepted));
      connected_ = true;
      rec_.answered = ctx_->options.now();
      ++ring_gen_;
      // N-17: the greeting names the centre; both hear it, then talk.
      ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
      if (auto clip = ctx_->clip("callback_greeting"))
        ctx_->media.play(session_, clip, {leg_role::caller, leg_role::agent});
      start_recording();
      publish("connected");
    }
  }

  void dial_caller() {
    auto local = ctx_->media.open_leg(session_, leg_role::caller, false, ctx_->options.advertise_address);
    if (auto* err = std::get_if<std::string>(&local)) return finish("no media port: " + *err);
    caller_offer_ = sdp::make_offer(ctx_->options.phone_policy, std::get<sdp::local_media>(local), random_bytes);
    sip::originate_request r;
    auto uri = ctx_->options.callback_uri;
    uri.replace(uri.find("{number}"), 8, req_.number);
    r.target = uri;
    r.from_user = ctx_->options.callback_caller_id;
    r.offer = caller_offer_;
    caller_ref_ = ctx_->sip->originate(r);
    ctx_->bind(caller_ref_, caf::actor_cast<caf::actor>(this));
    publish("dialling");
    ring(std::chrono::seconds(40));
  }

  void start_recording() {
    rec_.recording = calls::start_recording(*ctx_, session_, id_, "callback-" + std::to_string(id_), req_.agent,
                                            caf::actor_cast<caf::actor>(this), gate_);
    recording_pending_ = !rec_.recording.empty();
  }

  void on_media(const media::media_event& e) {
    if (e.what != media::media_event::kind::closed) return;
    rec_.media = e.reports;
    rec_.activity = e.activity;
    media_closed_ = true;
    if (closing_ && !recording_pending_) write_result();
  }

  void finish(const std::string& result) {
    if (closing_) return;
    closing_ = true;
    result_ = result;
    if (agent_ref_) {
      ctx_->sip->hangup(agent_ref_);
      ctx_->unbind(agent_ref_);
      agent_ref_ = 0;
    }
    if (caller_ref_) {
      ctx_->sip->hangup(caller_ref_);
      ctx_->unbind(caller_ref_);
      caller_ref_ = 0;
    }
    rec_.ended = ctx_->options.now();
    log::info("calls", "callback", {{"call", std::to_string(id_)}, {"agent", req_.agent}, {"result", result}});
    publish("ended");
    ctx_->media.close_session(session_);
    delayed_send(this, std::chrono::seconds(3), call_timer{call_timer::kind::close_guard, 0});
  }

  // The request's status and the call record, in one durable batch.
  void write_result() {
    if (written_) return;
    written_ = true;
    boost::json::object cb = req_.request;
    cb.erase("v");
    auto attempts = cb.contains("attempts") && cb["attempts"].is_int64() ? cb["attempts"].as_int64() : 0;
    cb["attempts"] = attempts + 1;
    cb["status"] = result_ == "done" ? "done" : "open";
    cb["last_result"] = result_;
    cb["last_agent"] = req_.agent;
    cb["last_call"] = std::to_string(id_);
    cb["last_ms"] = ms_of(ctx_->options.now());
    storage::write_batch b;
    b.put(storage::table::callbacks, req_.key, storage::encode_record(std::move(cb), 1));
    auto cdr = boost::json::parse(to_json(rec_)).as_object();
    cdr["direction"] = "outbound";
    cdr["callback_of"] = req_.request.contains("call") ? req_.request.at("call") : boost::json::value(nullptr);
    cdr["outcome"] = result_ == "done" ? "callback_answered" : "callback_" + result_;
    if (recording_pending_) keep_record(*gate_, id_, cdr);
    b.put(storage::table::calls, storage::be64(id_), storage::encode_record(std::move(cdr), 1));
    auto self = caf::actor_cast<caf::actor>(this);
    ctx_->writer.write(std::move(b), [self, gate = gate_](std::error_code ec, uint64_t) {
      if (ec) log::error("calls", "callback result not stored", {{"error", ec.message()}});
      record_stored(*gate);
      caf::anon_send(self, call_timer{call_timer::kind::done, 0});
    });
  }

  void publish(const std::string& state) {
    boost::json::object o{{"call", id_},         {"state", state},          {"from", req_.number},
                          {"dialled", req_.number}, {"queue", req_.queue},  {"agent", req_.agent},
                          {"direction", "outbound"}, {"at_ms", ms_of(ctx_->options.now())}};
    ctx_->hub.publish("calls", boost::json::serialize(o));
  }

  std::shared_ptr<call_context> ctx_;
  callback_msg req_;
  uint64_t id_ = 0;
  media::session_id session_ = 0;
  sip::call_ref agent_ref_ = 0, caller_ref_ = 0;
  sdp::session_description agent_offer_, caller_offer_;
  bool agent_answered_ = false, connected_ = false, closing_ = false, written_ = false;
  bool recording_pending_ = false, media_closed_ = false;
  std::shared_ptr<recording_gate> gate_ = std::make_shared<recording_gate>();
  std::optional<record::recording_result> late_recording_;  // came while the record was being written
  uint64_t ring_gen_ = 0;
  std::string result_;
  call_record rec_;
};

}  // namespace

caf::actor spawn_callback(const std::shared_ptr<call_context>& ctx, callback_msg req) {
  return ctx->sys.spawn<callback_actor>(ctx, std::move(req));
}

}  // namespace hotline::calls
