// The call actor (call_actor.hpp): hold and resume from the phones (re-INVITEs), N-11
// transfers to a supervisor's or expert's phone and to another queue, N-14 the
// dangerous-call flag.
#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/call/call_actor.hpp"
#include "actors/runtime/log.hpp"
#include "media/prompt/library.hpp"

namespace hotline::calls {

void call_actor::on_reinvite(const sip::call_event& e) {
  const bool from_caller = e.ref == caller_.ref;
  const bool from_agent = agent_ref_ && e.ref == agent_ref_ && phase_ == phase::connected;
  // The supervisor's or expert's phone once it is on the call: a transfer it answered, or
  // a monitor (listen, whisper, barge, take-over) it joined.
  const bool from_supervisor = e.ref && ((transfer_ref_ && e.ref == transfer_ref_ && transfer_answered_) ||
                                         (mon_ && mon_->ref && e.ref == mon_->ref && mon_->joined));
  if ((!from_caller && !from_agent && !from_supervisor) || !e.sdp)
    return ctx_->sip->reject(e.ref, 488, "Not Acceptable Here");
  const auto role = from_caller ? leg_role::caller : from_agent ? leg_role::agent : leg_role::supervisor;
  const sdp::local_media& local = from_caller ? caller_local_ : from_agent ? agent_local_ : supervisor_local_;
  // What we last sent that phone: the o= line continues from it (RFC 3264 §8).
  sdp::session_description& last =
      from_caller ? caller_answer_ : from_agent ? agent_answer_ : supervisor_sdp_;
  const sdp::session_description* previous = &last;
  if (from_agent && agent_answer_.media.empty()) previous = &agent_offer_;
  auto answer = sdp::answer_offer(*e.sdp, from_caller ? caller_.policy : ctx_->options.phone_policy, local,
                                  random_bytes, previous);
  if (auto* err = std::get_if<sdp::negotiation_error>(&answer))
    return ctx_->sip->reject(e.ref, err->sip_status, err->reason);
  auto& a = std::get<sdp::answer_result>(answer);
  ctx_->media.configure_leg(session_, role, a.session, from_caller ? 0 : (caller_codec_narrow_ ? 4000 : 0));
  ctx_->sip->answer(e.ref, a.answer);
  last = a.answer;
  // The peer holds when it stops receiving: it offers sendonly (we answer recvonly) or
  // inactive (RFC 3264 §8.4).
  const bool held = a.session.local_direction == sdp::direction::recvonly ||
                    a.session.local_direction == sdp::direction::inactive;
  // Whoever talks with the caller holding: the caller hears the music until they resume.
  const bool supervisor_has_call =
      from_supervisor && (transfer_answered_ || (mon_ && mon_->mode == monitor_mode::takeover));
  if (from_agent || supervisor_has_call) talker_holds(held, supervisor_has_call);
}

void call_actor::talker_holds(bool held, bool supervisor) {
  bool& holding = supervisor ? supervisor_holding_ : agent_holding_;
  if (held == holding) return;
  holding = held;
  rec_.holds += held ? 1 : 0;
  if (held) {
    play(ctx_->hold_music, playing::hold, true);
    return publish("on_hold");
  }
  if (playing_ == playing::hold) {
    ctx_->media.stop_playback(session_);
    playing_ = playing::none;
  }
  if (agent_gone_ || supervisor) {  // the caller talks with the supervisor
    mix::matrix m{};
    m[mix::caller][mix::supervisor] = m[mix::supervisor][mix::caller] = 1;
    ctx_->media.set_mix(session_, m);
  } else if (!mon_) {
    ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
  }
  publish("connected");
}

void call_actor::on_request(call_request_msg& m) {
  if (m.what == call_request_msg::kind::dangerous) {
    rec_.dangerous = true;
    boost::json::object o{{"alarm", "dangerous_call"}, {"raised", true}, {"call", id_}, {"agent", m.agent},
                          {"from", rec_.from}, {"queue", rec_.queue}};
    ctx_->hub.publish("alarms", boost::json::serialize(o));
    log::warn("calls", "dangerous call flagged", {{"call", std::to_string(id_)}, {"agent", m.agent}});
    if (m.done) m.done("");
    return;
  }
  if (phase_ != phase::connected || agent_gone_) {
    if (m.done) m.done("the call is not in conversation");
    return;
  }
  if (transfer_ref_) {
    if (m.done) m.done("a transfer is already ringing");
    return;
  }
  if (mon_) {
    if (m.done) m.done("a supervisor is on the call (" + mon_->req.supervisor + ")");
    return;
  }
  if (m.what == call_request_msg::kind::to_queue) return transfer_to_queue(m);
  auto local = ctx_->media.open_leg(session_, leg_role::supervisor, false, ctx_->options.advertise_address);
  if (auto* err = std::get_if<std::string>(&local)) {
    if (m.done) m.done("no media port: " + *err);
    return;
  }
  supervisor_local_ = std::get<sdp::local_media>(local);
  transfer_offer_ = sdp::make_offer(ctx_->options.phone_policy, supervisor_local_, random_bytes);
  supervisor_sdp_ = transfer_offer_;
  supervisor_holding_ = false;
  sip::originate_request req;
  req.target = m.target;
  req.from_user = rec_.from.empty() ? "anonymous" : rec_.from;
  req.from_display = "转接 " + rec_.agent;
  req.offer = transfer_offer_;
  transfer_ref_ = ctx_->sip->originate(req);
  ctx_->bind(transfer_ref_, caf::actor_cast<caf::actor>(this));
  transfer_target_ = m.target;
  rec_.transfers += (rec_.transfers.empty() ? "" : ";") + m.target;
  // The caller hears hold music; the agent waits on the line, hearing nobody.
  mix::matrix quiet{};
  ctx_->media.set_mix(session_, quiet);
  play(ctx_->hold_music, playing::hold, true);
  ++transfer_gen_;
  delayed_send(this, std::chrono::seconds(ctx_->options.transfer_timeout_s),
               call_timer{call_timer::kind::transfer, transfer_gen_});
  publish("transferring");
  if (m.done) m.done("");
}

void call_actor::transfer_to_queue(call_request_msg& m) {
  rec_.transfers += (rec_.transfers.empty() ? "" : ";") + std::string("queue:") + m.target;
  release_agent();
  ctx_->media.set_mix(session_, mix::matrix{});
  enqueue(m.target);
  if (m.done) m.done("");
}

void call_actor::on_transfer_leg(const sip::call_event& e) {
  if (e.kind == call_event_kind::answered && e.sdp && !transfer_answered_) {
    auto accepted = sdp::accept_answer(transfer_offer_, *e.sdp, ctx_->options.phone_policy);
    if (std::holds_alternative<sdp::negotiation_error>(accepted)) return transfer_failed("bad answer");
    transfer_answered_ = true;
    ++transfer_gen_;  // the timeout no longer applies
    ctx_->media.configure_leg(session_, leg_role::supervisor, std::get<sdp::negotiated>(accepted),
                              caller_codec_narrow_ ? 4000 : 0);
    ctx_->media.stop_playback(session_);
    mix::matrix m{};
    m[mix::caller][mix::supervisor] = m[mix::supervisor][mix::caller] = 1;
    ctx_->media.set_mix(session_, m);
    rec_.transfers += ":answered";
    release_agent();  // released, into wrap-up
    publish("transferred");
    return;
  }
  if (e.kind == call_event_kind::ended) {
    ctx_->unbind(transfer_ref_);
    transfer_ref_ = 0;
    if (!transfer_answered_) return transfer_failed(e.status ? "refused " + std::to_string(e.status) : "failed");
    // The supervisor released: like an agent's release (N-16 survey).
    ctx_->media.close_leg(session_, leg_role::supervisor);
    if (rec_.released_by.empty()) rec_.released_by = "agent";
    phase_ = phase::survey;
    publish("survey");
    play(ctx_->clip("survey"), playing::survey);
  }
}

void call_actor::transfer_failed(const std::string& why) {
  ++transfer_gen_;
  drop_transfer_leg();
  rec_.transfers += ":" + why;
  ctx_->media.stop_playback(session_);
  if (agent_gone_) {  // the agent left meanwhile: the caller goes back to the queue
    phase_ = phase::waiting;
    enqueue(rec_.queue);
    return;
  }
  ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
  publish("transfer_returned");
}

void call_actor::drop_transfer_leg() {
  if (!transfer_ref_) return;
  ctx_->sip->hangup(transfer_ref_);
  ctx_->unbind(transfer_ref_);
  transfer_ref_ = 0;
  ctx_->media.close_leg(session_, leg_role::supervisor);
}

}  // namespace hotline::calls
