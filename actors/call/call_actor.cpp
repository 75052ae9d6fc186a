// The call actor (call_actor.hpp): answer, IVR, the end of the call, the call record,
// feature codes. The queue and the agents are in call_queue.cpp.
#include "actors/call/call_actor.hpp"

#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/runtime/log.hpp"
#include "media/prompt/library.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::calls {

caf::behavior call_actor::make_behavior() {
  ++ctx_->active_calls;
  start();
  return {
      [this](sip_msg& m) { on_sip(m.e); },
      [this](media_msg& m) { on_media(m.e); },
      [this](offer_msg& m) { on_offer(m); },
      [this](withdraw_msg& m) { on_withdraw(m); },
      [this](queue_msg& m) { on_queue(m); },
      [this](call_timer& t) { on_timer(t); },
      [this](recording_msg& m) { on_recording(m.result); },
      [this](call_request_msg& m) { on_request(m); },
      [this](monitor_msg& m) { on_monitor(m); },
      [this](acd_hello_msg&) { report_to_acd(); },
  };
}

void call_actor::on_exit() {
  // Shut down mid-call (the center is stopping): release both sides and the media.
  if (phase_ != phase::closing) {
    if (agent_ref_) ctx_->sip->hangup(agent_ref_);
    if (transfer_ref_) ctx_->sip->hangup(transfer_ref_);
    if (caller_.ref) ctx_->sip->hangup(caller_.ref);
    ctx_->media.close_session(session_);
    rec_.ended = ctx_->options.now();
    if (rec_.released_by.empty()) rec_.released_by = "system";
    if (rec_.outcome.empty()) rec_.outcome = "interrupted";
    publish("ended");  // or it stays on the wallboard
  }
  // The record of a call cut short (a shutdown, a failure) is kept with what it had; its
  // recording, closed with the session, is added when the pool finishes it (the gate).
  if (!record_written_) write_record();
  if (agent_ref_) ctx_->unbind(agent_ref_);
  if (transfer_ref_) ctx_->unbind(transfer_ref_);
  if (caller_.ref) ctx_->unbind(caller_.ref);
  end_monitor("the call ended");
  ctx_->forget_call(id_);
  --ctx_->active_calls;
}

void call_actor::start() {
  rec_.id = id_ = ctx_->next_call_id();
  ctx_->register_call(id_, caf::actor_cast<caf::actor>(this));
  rec_.sip_call_id = caller_.call_id;
  rec_.from = caller_.from.uri.user;
  rec_.dialled = caller_.dialled;
  rec_.trunk = caller_.trunk;
  rec_.started = ctx_->options.now();
  auto self = caf::actor_cast<caf::actor>(this);
  session_ = ctx_->media.create_session(8000, [self](const media::media_event& e) { caf::anon_send(self, media_msg{e}); });
  if (!caller_.offer) {
    // No offer in the INVITE (we would offer in the 200): not supported by the
    // trunks and phones we serve; say so instead of guessing.
    return fail_caller(488, "An SDP offer is required");
  }
  auto local = ctx_->media.open_leg(session_, leg_role::caller, caller_.offer->connection_ipv6,
                                    ctx_->options.advertise_address);
  if (auto* err = std::get_if<std::string>(&local)) {
    log::warn("calls", "no media port for a call", {{"error", *err}});
    return fail_caller(503, "No media resources");
  }
  caller_local_ = std::get<sdp::local_media>(local);
  auto answer = sdp::answer_offer(*caller_.offer, caller_.policy, caller_local_, random_bytes);
  if (auto* err = std::get_if<sdp::negotiation_error>(&answer)) return fail_caller(err->sip_status, err->reason);
  auto& a = std::get<sdp::answer_result>(answer);
  caller_answer_ = a.answer;
  ctx_->media.configure_leg(session_, leg_role::caller, a.session);
  caller_codec_narrow_ = a.session.audio.name != "opus";
  ctx_->sip->answer(caller_.ref, a.answer);
  rec_.answered = ctx_->options.now();
  if (feature_) return start_feature();
  const ivr_number* number = ctx_->options.ivr.number(caller_.dialled);
  walk_.emplace(ctx_->options.ivr, *number);
  publish("ivr");
  run(walk_->start());
}

void call_actor::fail_caller(int status, const std::string& reason) {
  ctx_->sip->reject(caller_.ref, status, reason);
  rec_.outcome = "failed";
  rec_.released_by = "system";
  finish();
}

void call_actor::run(const ivr_walk::action& a) {
  switch (a.what) {
    case ivr_walk::action::kind::play_menu:
      digit_timeout_s_ = a.timeout_s;
      play(ctx_->sequence(a.prompts), playing::menu);
      return;
    case ivr_walk::action::kind::route:
      rec_.ivr_path = walk_->path();
      rec_.ivr_digits = walk_->digits();
      return enqueue(a.skill);
    case ivr_walk::action::kind::callback:
      rec_.ivr_path = walk_->path();
      rec_.ivr_digits = walk_->digits();
      return request_callback();
  }
}

void call_actor::play(std::shared_ptr<const media::pcm_clip> clip, playing what, bool loop,
          std::vector<leg_role> to) {
  ++timer_gen_;  // a new prompt cancels the digit timer of the last one
  playing_ = what;
  if (!clip) {  // a missing prompt must not stall the call: act as if it had played
    playing_ = playing::none;
    on_playback_done(what);
    return;
  }
  ctx_->media.play(session_, std::move(clip), std::move(to), loop);
}

void call_actor::on_playback_done(playing what) {
  switch (what) {
    case playing::menu:
      arm(call_timer::kind::digit, std::chrono::seconds(digit_timeout_s_));
      break;
    case playing::transfer:
    case playing::announcement:
      // Waiting, or an agent's phone ringing: the caller hears the music, never silence.
      if (phase_ == phase::waiting || phase_ == phase::ringing) play(ctx_->hold_music, playing::hold, true);
      break;
    case playing::work_id:
      break;  // the conversation goes on
    case playing::survey:
      arm(call_timer::kind::survey, std::chrono::seconds(ctx_->options.survey_timeout_s));
      break;
    case playing::closing_prompt:
      hang_up_caller("system");
      break;
    default:
      break;
  }
}

void call_actor::arm(call_timer::kind k, std::chrono::milliseconds d) {
  delayed_send(this, d, call_timer{k, timer_gen_});
}

void call_actor::arm_announcement() {
  delayed_send(this, std::chrono::seconds(ctx_->options.announce_interval_s),
               call_timer{call_timer::kind::announce, announce_gen_});
}

void call_actor::on_timer(const call_timer& t) {
  if (phase_ == phase::feature && t.what == call_timer::kind::digit) return feature_done(t.generation == 1);
  if (t.what == call_timer::kind::done) {
    if (late_recording_) store_late_recording(ctx_->writer, *gate_, *late_recording_);
    return quit();
  }
  if (t.what == call_timer::kind::close_guard) {
    if (phase_ == phase::closing && !record_written_) write_record();
    return;
  }
  if (t.what == call_timer::kind::announce) {
    if (t.generation != announce_gen_) return;  // a chain of an earlier stay in a queue
    // N-18: while an agent's phone rings there is no position to say; try again later
    // (the offer may fail and the caller wait on).
    if (phase_ == phase::waiting) caf::anon_send(ctx_->acd(), position_req{id_});
    else if (phase_ == phase::ringing) arm_announcement();
    return;
  }
  if (t.what == call_timer::kind::transfer) {
    if (t.generation == transfer_gen_ && transfer_ref_ && !transfer_answered_) transfer_failed("no answer");
    return;
  }
  if (t.what == call_timer::kind::monitor) {
    if (t.generation == monitor_gen_ && mon_ && mon_->ref && !mon_->joined) {
      end_monitor("the phone did not answer");
      publish("connected");
    }
    return;
  }
  if (t.generation != timer_gen_) return;  // a newer prompt or digit since
  if (t.what == call_timer::kind::digit && phase_ == phase::ivr) run(walk_->on_timeout());
  else if (t.what == call_timer::kind::digit && phase_ == phase::after_hours) say_goodbye("goodbye");
  else if (t.what == call_timer::kind::survey && phase_ == phase::survey) say_goodbye("goodbye");
}

void call_actor::on_digit(leg_role leg, char d) {
  if (leg != leg_role::caller) return;  // the agent's keypad is not the caller's menu
  switch (phase_) {
    case phase::ivr:
      if (playing_ == playing::menu) ctx_->media.stop_playback(session_);  // barge-in
      playing_ = playing::none;
      ++timer_gen_;
      run(walk_->on_digit(d));
      break;
    case phase::after_hours:
      ++timer_gen_;
      if (d == '2') request_callback();
      else say_goodbye("goodbye");  // 1: self-service is not on this line yet
      break;
    case phase::waiting:
      // N-18: a caller who does not want to wait leaves a callback request (key 1).
      if (d == '1') {
        update_acd(call_update::callback);
        in_acd_ = false;
        request_callback();
      }
      break;
    case phase::survey:
      if (d >= '1' && d <= '3' && !rec_.survey) {
        rec_.survey = d - '0';
        publish("survey");
        say_goodbye("survey_thanks");
      }
      break;
    default:
      break;
  }
}

void call_actor::say_goodbye(const std::string& prompt) {
  phase_ = phase::goodbye;
  play(ctx_->clip(prompt), playing::closing_prompt);
}

void call_actor::hang_up_caller(const std::string& by) {
  if (rec_.released_by.empty()) rec_.released_by = by;
  if (caller_.ref) ctx_->sip->hangup(caller_.ref);
  finish();
}

// N-06: a dialog that ended without either person hanging up (our 2xx never acknowledged,
// no session refresh in time) was released by the system, not by that side.
bool call_actor::ended_by_itself(const sip::call_event& e) {
  return e.cause == sip::end_cause::no_ack || e.cause == sip::end_cause::session_expired;
}

void call_actor::on_sip(const sip::call_event& e) {
  if (e.kind == call_event_kind::reinvite_offer) return on_reinvite(e);  // any leg's: answered or refused
  if (transfer_ref_ && e.ref == transfer_ref_) return on_transfer_leg(e);
  if (mon_ && mon_->ref && e.ref == mon_->ref) return on_monitor_leg(e);
  bool from_agent = agent_ref_ && e.ref == agent_ref_;
  if (from_agent) {
    switch (e.kind) {
      case call_event_kind::answered: return agent_answered(e);
      case call_event_kind::ended:
        ctx_->unbind(agent_ref_);
        agent_ref_ = 0;
        if (phase_ == phase::ringing) return offer_failed(e.status ? "rejected " + std::to_string(e.status) : "failed");
        if (phase_ == phase::connected && transfer_ref_) {
          // The agent hung up while the transfer rings: the transfer goes on without them.
          update_acd(call_update::ended);
          in_acd_ = false;
          agent_gone_ = true;
          ctx_->media.close_leg(session_, leg_role::agent);
          return;
        }
        if (phase_ == phase::connected) {
          if (ended_by_itself(e) && rec_.released_by.empty()) rec_.released_by = "system";
          return agent_released();
        }
        return;
      case call_event_kind::dtmf: return;  // INFO from the agent's phone: not the caller's menu
      default: return;
    }
  }
  if (e.ref != caller_.ref) return;
  switch (e.kind) {
    case call_event_kind::dtmf: return on_digit(leg_role::caller, e.digit);
    case call_event_kind::ended:
      if (ended_by_itself(e) && rec_.released_by.empty()) rec_.released_by = "system";
      return caller_released();
    default: return;
  }
}

void call_actor::caller_released() {
  ctx_->unbind(caller_.ref);
  caller_.ref = 0;
  if (rec_.released_by.empty()) rec_.released_by = "caller";  // N-06
  caller_gone();
  finish();
}

// The caller left (hung up, or their media stopped): what the record says of where they
// were, and the agent's or the queue's side let go.
void call_actor::caller_gone() {
  switch (phase_) {
    case phase::ivr:
      rec_.ivr_path = walk_ ? walk_->path() : "";
      rec_.ivr_digits = walk_ ? walk_->digits() : "";
      if (rec_.outcome.empty()) rec_.outcome = "abandoned_in_ivr";
      break;
    case phase::waiting:
    case phase::ringing:
      if (rec_.queued_at)
        rec_.wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_->options.now() - *rec_.queued_at).count();
      if (!rec_.offers.empty() && rec_.offers.back().result.empty()) rec_.offers.back().result = "abandoned";
      rec_.outcome = "abandoned_in_queue";
      if (in_acd_) update_acd(call_update::abandoned);
      in_acd_ = false;
      drop_agent_leg();
      break;
    case phase::connected:
      drop_transfer_leg();
      drop_agent_leg();
      if (in_acd_) update_acd(call_update::ended);
      in_acd_ = false;
      break;
    default:
      break;
  }
}

void call_actor::agent_released() {
  if (rec_.released_by.empty()) rec_.released_by = "agent";
  if (in_acd_) update_acd(call_update::ended);  // the agent goes to wrap-up
  in_acd_ = false;
  ctx_->media.close_leg(session_, leg_role::agent);
  end_monitor("the agent released the call");
  // N-16: the caller is offered the keypad survey.
  phase_ = phase::survey;
  publish("survey");
  play(ctx_->clip("survey"), playing::survey);
}

void call_actor::start_feature() {
  phase_ = phase::feature;
  auto self = caf::actor_cast<caf::actor>(this);
  caf::anon_send(ctx_->acd(), agent_cmd_msg{feature_agent_, *feature_, acd::not_ready_reason::break_time,
                                          [self](std::string error) {
                                            caf::anon_send(self, call_timer{call_timer::kind::digit,
                                                                            error.empty() ? 1u : 2u});
                                          }});
}

void call_actor::feature_done(bool ok) {
  // A rising pair of beeps: done; three low ones: refused.
  std::vector<int16_t> pcm;
  auto beep = [&](double hz, double seconds) {
    for (int i = 0; i < static_cast<int>(8000 * seconds); ++i)
      pcm.push_back(static_cast<int16_t>(6000 * std::sin(2 * M_PI * hz * i / 8000)));
    pcm.insert(pcm.end(), 800, 0);
  };
  if (ok) {
    beep(880, 0.15);
    beep(1320, 0.25);
  } else {
    for (int i = 0; i < 3; ++i) beep(400, 0.15);
  }
  rec_.outcome = ok ? "feature_ok" : "feature_refused";
  phase_ = phase::goodbye;
  play(std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::move(pcm)}), playing::closing_prompt);
}

void call_actor::on_media(const media::media_event& e) {
  switch (e.what) {
    case media::media_event::kind::dtmf: return on_digit(e.leg, e.digit);
    case media::media_event::kind::playback_done: {
      playing what = playing_;
      playing_ = playing::none;
      return on_playback_done(what);
    }
    case media::media_event::kind::stream_timeout:
      // N-06 silent line: a caller whose media stopped for the stream timeout is gone.
      if (e.leg == leg_role::caller && phase_ != phase::closing) {
        log::info("calls", "caller's media stopped: ending the call", {{"call", std::to_string(id_)}});
        if (rec_.released_by.empty()) rec_.released_by = "system";
        caller_gone();  // the IVR path, the wait and the outcome as for a hang-up
        hang_up_caller("system");
      }
      return;
    case media::media_event::kind::leg_error:
      // The engine could not set the leg up as negotiated (a codec or SRTP key it refused):
      // that side hears nothing. Negotiation should have refused it first; say so loudly.
      log::error("calls", "media leg not configured",
                 {{"call", std::to_string(id_)}, {"leg", std::string(media::to_string(e.leg))}, {"error", e.detail}});
      return;
    case media::media_event::kind::closed:
      rec_.media = e.reports;
      rec_.activity = e.activity;
      media_closed_ = true;
      if (phase_ == phase::closing && !recording_pending_) write_record();  // else when the file is done
      return;
    default:
      return;
  }
}

void call_actor::finish() {
  if (phase_ == phase::closing) return;
  phase_ = phase::closing;
  if (agent_ref_) drop_agent_leg();
  drop_transfer_leg();
  if (in_acd_) update_acd(call_update::abandoned);
  in_acd_ = false;
  if (caller_.ref) ctx_->unbind(caller_.ref);
  end_monitor("the call ended");
  rec_.ended = ctx_->options.now();
  publish("ended");
  ctx_->media.close_session(session_);  // its `closed` event carries the media reports
  delayed_send(this, std::chrono::seconds(3), call_timer{call_timer::kind::close_guard, 0});
}

void call_actor::write_record() {
  if (record_written_) return;
  record_written_ = true;
  storage::write_batch b;
  auto record = boost::json::parse(to_json(rec_)).as_object();
  if (recording_pending_) keep_record(*gate_, id_, record);
  b.put(storage::table::calls, storage::be64(id_), storage::encode_record(std::move(record), 1));
  if (!rec_.from.empty())  // the next call from this number shows this one (N-07 screen pop)
    b.put(storage::table::calls_by_caller, rec_.from + '\0' + storage::be64(id_), std::string());
  auto self = caf::actor_cast<caf::actor>(this);
  ctx_->writer.write(std::move(b), [self, id = id_, gate = gate_](std::error_code ec, uint64_t) {
    if (ec) log::error("calls", "call record not stored", {{"call", std::to_string(id)}, {"error", ec.message()}});
    record_stored(*gate);
    caf::anon_send(self, call_timer{call_timer::kind::done, 0});
  });
}

void call_actor::publish(const std::string& state) {
  boost::json::object o{{"call", id_},          {"state", state},       {"from", rec_.from},
                        {"dialled", rec_.dialled}, {"queue", rec_.queue}, {"agent", phase_ == phase::ringing ? offered_.agent : agent_gone_ ? std::string() : rec_.agent},
                        {"at_ms", std::chrono::duration_cast<std::chrono::milliseconds>(ctx_->options.now().time_since_epoch()).count()}};
  if (walk_) o["ivr_path"] = walk_->path();
  if (!rec_.ivr_digits.empty()) o["ivr_digits"] = rec_.ivr_digits;
  if (rec_.dangerous) o["dangerous"] = true;
  if (mon_)
    o["monitor"] = boost::json::object{{"by", mon_->req.supervisor},
                                       {"mode", monitor_mode_name(mon_->mode)},
                                       {"via", mon_->req.phone.empty() ? "browser" : "phone"},
                                       {"joined", mon_->joined}};
  ctx_->hub.publish("calls", boost::json::serialize(o));
}

caf::actor spawn_call(const std::shared_ptr<call_context>& ctx, sip::incoming_call call) {
  return ctx->sys.spawn<call_actor>(ctx, std::move(call), std::string(), std::optional<agent_command>());
}

caf::actor spawn_feature_call(const std::shared_ptr<call_context>& ctx, sip::incoming_call call, std::string agent,
                              agent_command c) {
  return ctx->sys.spawn<call_actor>(ctx, std::move(call), std::move(agent), std::optional<agent_command>(c));
}

}  // namespace hotline::calls
