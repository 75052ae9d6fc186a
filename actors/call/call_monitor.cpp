// The call actor (call_actor.hpp): N-40, a supervisor on a live call: listen, whisper, barge, take
// over.
#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/call/call_actor.hpp"
#include "actors/runtime/log.hpp"
#include "media/prompt/library.hpp"

namespace hotline::calls {

std::string_view call_actor::monitor_mode_name(monitor_mode m) {
  switch (m) {
    case monitor_mode::listen: return "listen";
    case monitor_mode::whisper: return "whisper";
    case monitor_mode::barge: return "barge";
    case monitor_mode::takeover: return "takeover";
  }
  return "listen";
}

void call_actor::on_monitor(monitor_msg& m) {
  switch (m.what) {
    case monitor_msg::kind::start: return start_monitor(m);
    case monitor_msg::kind::mode: {
      if (!mon_) return m.result("nobody is monitoring this call");
      if (mon_->mode == monitor_mode::takeover) return m.result("the call was taken over: the agent has left it");
      mon_->mode = m.mode;
      if (mon_->joined) apply_monitor_mode();
      publish("connected");
      return m.result("");
    }
    case monitor_msg::kind::stop: {
      if (!mon_) return m.result("");
      bool took_over = mon_->mode == monitor_mode::takeover && mon_->joined;
      drop_monitor_leg();
      if (took_over) return supervisor_released();
      if (!agent_gone_) ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
      publish("connected");
      return m.result("");
    }
  }
}

void call_actor::start_monitor(monitor_msg& m) {
  if (phase_ != phase::connected || agent_gone_) return m.done("the call is not in conversation", 0);
  if (transfer_ref_) return m.done("a transfer is ringing on this call", 0);
  if (mon_) return m.done(mon_->req.supervisor + " is already monitoring this call", 0);
  auto local = ctx_->media.open_leg(session_, leg_role::supervisor, false,
                                    m.req.phone.empty() ? std::string("127.0.0.1") : ctx_->options.advertise_address);
  if (auto* err = std::get_if<std::string>(&local)) return m.done("no media port: " + *err, 0);
  auto& lm = std::get<sdp::local_media>(local);
  mon_.emplace();
  mon_->req = std::move(m.req);
  mon_->mode = mon_->req.mode;
  log::info("calls", "monitor", {{"call", std::to_string(id_)}, {"by", mon_->req.supervisor},
                                 {"mode", std::string(monitor_mode_name(mon_->mode))}});
  if (mon_->req.phone.empty()) {
    // The console's loopback peer: Opus at 48 kHz, rtcp-mux, nothing to negotiate.
    sdp::negotiated n;
    n.audio = sdp::codec{111, "opus", 48000, 2, "useinbandfec=1"};
    n.remote_address = "127.0.0.1";
    n.remote_port = n.remote_rtcp_port = mon_->req.browser_port;
    n.rtcp_mux = true;
    ctx_->media.configure_leg(session_, leg_role::supervisor, n, caller_codec_narrow_ ? 4000 : 0);
    mon_->joined = true;
    apply_monitor_mode();
    publish("connected");
    return m.done("", lm.port);
  }
  mon_->offer = sdp::make_offer(ctx_->options.phone_policy, lm, random_bytes);
  supervisor_local_ = lm;
  supervisor_sdp_ = mon_->offer;
  supervisor_holding_ = false;
  sip::originate_request req;
  req.target = mon_->req.phone;
  req.from_user = rec_.from.empty() ? "anonymous" : rec_.from;
  req.from_display = "监听 " + rec_.agent;
  req.offer = mon_->offer;
  mon_->ref = ctx_->sip->originate(req);
  ctx_->bind(mon_->ref, caf::actor_cast<caf::actor>(this));
  // A supervisor's phone that does not answer gives the call back, as a transfer's does
  // (a monitor ringing blocks transfers and other monitors).
  delayed_send(this, std::chrono::seconds(ctx_->options.transfer_timeout_s),
               call_timer{call_timer::kind::monitor, ++monitor_gen_});
  publish("connected");
  m.done("", 0);
}

void call_actor::on_monitor_leg(const sip::call_event& e) {
  if (e.kind == call_event_kind::answered && e.sdp && !mon_->joined) {
    auto accepted = sdp::accept_answer(mon_->offer, *e.sdp, ctx_->options.phone_policy);
    if (std::holds_alternative<sdp::negotiation_error>(accepted)) return end_monitor("the phone's answer was not usable");
    ctx_->media.configure_leg(session_, leg_role::supervisor, std::get<sdp::negotiated>(accepted),
                              caller_codec_narrow_ ? 4000 : 0);
    mon_->joined = true;
    apply_monitor_mode();
    publish("connected");
    return;
  }
  if (e.kind == call_event_kind::ended) {
    ctx_->unbind(mon_->ref);
    mon_->ref = 0;
    bool took_over = mon_->mode == monitor_mode::takeover && mon_->joined;
    bool was_joined = mon_->joined;
    end_monitor(was_joined ? "the supervisor's phone hung up"
                           : (e.status ? "the phone refused: " + std::to_string(e.status) : "the phone did not answer"));
    if (took_over) return supervisor_released();
    if (!agent_gone_) ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
    publish("connected");
  }
}

void call_actor::apply_monitor_mode() {
  switch (mon_->mode) {
    case monitor_mode::listen: return ctx_->media.set_mix(session_, mix::preset(mix::mode::listen));
    case monitor_mode::whisper: return ctx_->media.set_mix(session_, mix::preset(mix::mode::whisper));
    case monitor_mode::barge: return ctx_->media.set_mix(session_, mix::preset(mix::mode::barge));
    case monitor_mode::takeover: break;
  }
  // Take over: the supervisor talks with the caller, the agent's leg goes (wrap-up),
  // and the recording's agent channel carries the supervisor from now on (N-42).
  mix::matrix m{};
  m[mix::caller][mix::supervisor] = m[mix::supervisor][mix::caller] = 1;
  ctx_->media.set_mix(session_, m);
  rec_.transfers += (rec_.transfers.empty() ? "" : ";") + std::string("takeover:") + mon_->req.supervisor;
  release_agent();
}

void call_actor::release_agent() {
  if (agent_gone_) return;
  if (agent_ref_) {
    ctx_->sip->hangup(agent_ref_);
    ctx_->unbind(agent_ref_);
    agent_ref_ = 0;
  }
  ctx_->media.close_leg(session_, leg_role::agent);
  if (in_acd_) update_acd(call_update::ended);
  in_acd_ = false;
  agent_gone_ = true;
}

void call_actor::supervisor_released() {
  if (rec_.released_by.empty()) rec_.released_by = "agent";
  phase_ = phase::survey;
  publish("survey");
  play(ctx_->clip("survey"), playing::survey);
}

void call_actor::drop_monitor_leg() {
  if (!mon_) return;
  if (mon_->ref) {
    ctx_->sip->hangup(mon_->ref);
    ctx_->unbind(mon_->ref);
  }
  ctx_->media.close_leg(session_, leg_role::supervisor);
  mon_.reset();
}

void call_actor::end_monitor(const std::string& why) {
  if (!mon_) return;
  auto ended = std::move(mon_->req.ended);
  drop_monitor_leg();
  if (ended) ended(why);
}

}  // namespace hotline::calls
