// The call actor (call_actor.hpp): the queue and the agents — waiting in the ACD's queue
// with hold music and N-18 announcements, the offers the ACD makes (ring, withdraw, fail,
// an answer that crossed the ring timeout), the bridge with the work-id announcement
// (N-05), and the call's one recording (N-42).
#include <caf/send.hpp>

#include <boost/json.hpp>

#include "actors/call/call_actor.hpp"
#include "actors/runtime/log.hpp"
#include "media/prompt/library.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::calls {

void call_actor::enqueue(const std::string& skill) {
  phase_ = phase::waiting;
  rec_.queue = skill;
  rec_.queues.push_back(skill);
  rec_.queued_at = ctx_->options.now();
  acd::call_request req;
  req.id = id_;
  req.queue = skill;
  in_acd_ = true;
  acd_req_ = req;
  last_update_.reset();
  caf::anon_send(ctx_->acd(), enqueue_msg{req, caf::actor_cast<caf::actor>(this)});
  publish("queued");
  play(ctx_->clip("transfer"), playing::transfer);
  ++announce_gen_;  // one chain of announcements per stay in a queue
  arm_announcement();
}

void call_actor::update_acd(call_update u, std::string agent) {
  last_update_ = u;
  caf::anon_send(ctx_->acd(), call_update_msg{id_, u, std::move(agent)});
}

void call_actor::report_to_acd() {
  call_status_msg m;
  m.id = id_;
  m.req = acd_req_;
  m.last = last_update_;
  m.call = caf::actor_cast<caf::actor>(this);
  using where = call_status_msg::where;
  if (in_acd_ && phase_ == phase::waiting) {
    m.at = where::waiting;
  } else if (in_acd_ && phase_ == phase::ringing) {
    m.at = where::ringing;
    m.agent = offered_.agent;
  } else if (in_acd_ && phase_ == phase::connected) {
    m.at = where::connected;
    m.agent = rec_.agent;
  }
  if (auto acd = caf::actor_cast<caf::actor>(current_sender())) send(acd, std::move(m));
}

void call_actor::on_queue(const queue_msg& m) {
  switch (m.what) {
    case queue_msg::kind::queued:
      break;
    case queue_msg::kind::position:
      if (phase_ == phase::waiting) announce_position(m.where);
      if (phase_ == phase::waiting || phase_ == phase::ringing) arm_announcement();
      break;
    case queue_msg::kind::overflowed:
      rec_.queue = m.queue;
      rec_.queues.push_back(m.queue);
      publish("overflowed");
      break;
    case queue_msg::kind::after_hours:
      in_acd_ = false;
      phase_ = phase::after_hours;
      rec_.outcome = "after_hours";
      after_hours();
      break;
    case queue_msg::kind::max_wait:
      // No overflow target: offer the callback (N-18) and keep waiting meanwhile.
      if (phase_ == phase::waiting) play(ctx_->clip("after_hours_options"), playing::announcement);
      break;
  }
}

void call_actor::announce_position(const acd::queue_position& where) {
  if (where.position == 0) return;  // ringing an agent already
  auto pos = ctx_->prompts.queue_position_announcement(where.position > 0 ? where.position - 1 : 0, 8000);
  std::vector<int16_t> pcm;
  if (auto* p = std::get_if<std::vector<int16_t>>(&pos)) pcm = std::move(*p);
  if (where.expected_wait) {
    auto minutes = static_cast<uint32_t>((where.expected_wait->count() + 59) / 60);
    auto w = ctx_->prompts.expected_wait_announcement(std::max(1u, minutes), 8000);
    if (auto* p = std::get_if<std::vector<int16_t>>(&w)) {
      pcm.insert(pcm.end(), 2400, 0);
      pcm.insert(pcm.end(), p->begin(), p->end());
    }
  }
  if (pcm.empty()) return;
  play(std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::move(pcm)}), playing::announcement);
}

void call_actor::after_hours() {
  publish("after_hours");
  auto a = ctx_->prompts.after_hours_announcement(8, 21, 8000);
  std::shared_ptr<const media::pcm_clip> clip;
  if (auto* p = std::get_if<std::vector<int16_t>>(&a))
    clip = std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::move(*p)});
  digit_timeout_s_ = 8;
  play(clip ? clip : ctx_->clip("after_hours_options"), playing::menu);
}

void call_actor::request_callback() {
  rec_.callback_requested = true;
  if (rec_.outcome.empty() || rec_.outcome == "after_hours") rec_.outcome = "callback";
  storage::write_batch b;
  boost::json::object o{{"call", id_}, {"number", rec_.from}, {"queue", rec_.queue},
                        {"requested_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                             ctx_->options.now().time_since_epoch()).count()},
                        {"status", "open"}};
  b.put(storage::table::callbacks, storage::be64(id_), storage::encode_record(std::move(o), 1));
  ctx_->writer.write(std::move(b), [](std::error_code ec, uint64_t) {
    if (ec) log::error("calls", "callback request not stored", {{"error", ec.message()}});
  });
  publish("callback");
  say_goodbye("callback_recorded");
}

void call_actor::on_offer(const offer_msg& m) {
  if (phase_ != phase::waiting) {
    // The caller left meanwhile (or another agent's answer is on its way to the ACD):
    // tell the ACD this offer cannot ring.
    update_acd(call_update::offer_failed, m.agent);
    return;
  }
  phase_ = phase::ringing;
  offered_ = m;
  rec_.offers.push_back({m.agent, ctx_->options.now(), ""});
  auto local = ctx_->media.open_leg(session_, leg_role::agent, false, ctx_->options.advertise_address);
  if (auto* err = std::get_if<std::string>(&local)) {
    log::warn("calls", "no media port for the agent leg", {{"error", *err}});
    return offer_failed("no media port");
  }
  agent_local_ = std::get<sdp::local_media>(local);
  agent_offer_ = sdp::make_offer(ctx_->options.phone_policy, agent_local_, random_bytes);
  agent_answer_ = {};  // this phone has had our offer, no answer of ours yet
  agent_holding_ = false;
  sip::originate_request req;
  req.target = m.phone;
  req.from_user = rec_.from.empty() ? "anonymous" : rec_.from;  // N-07: the agent sees who calls
  req.from_display = caller_.dialled + " " + rec_.queue;
  req.offer = agent_offer_;
  agent_ref_ = ctx_->sip->originate(req);
  ctx_->bind(agent_ref_, caf::actor_cast<caf::actor>(this));
  publish("ringing");
}

void call_actor::offer_failed(const std::string& why) {
  if (!rec_.offers.empty() && rec_.offers.back().result.empty()) rec_.offers.back().result = why;
  drop_agent_leg();
  phase_ = phase::waiting;
  update_acd(call_update::offer_failed, offered_.agent);
  // Back in the queue: the music goes on (a prompt still playing hands over to it).
  if (playing_ == playing::none) play(ctx_->hold_music, playing::hold, true);
  publish("queued");  // no longer ringing at that agent, on the wallboard and their desk
}

void call_actor::drop_agent_leg() {
  if (agent_ref_) {
    ctx_->sip->hangup(agent_ref_);
    ctx_->unbind(agent_ref_);
    agent_ref_ = 0;
  }
  ctx_->media.close_leg(session_, leg_role::agent);
}

void call_actor::on_withdraw(const withdraw_msg& m) {
  if (phase_ == phase::connected && !agent_gone_ && !transfer_ref_ && !mon_ && m.agent == rec_.agent)
    return answered_too_late(m.why);
  if (phase_ != phase::ringing) return;
  if (!rec_.offers.empty() && rec_.offers.back().result.empty())
    rec_.offers.back().result = std::string(acd::to_string(m.why));
  drop_agent_leg();
  phase_ = phase::waiting;  // the ACD re-offers (N-03), or the call left
  if (playing_ != playing::hold && playing_ != playing::announcement) play(ctx_->hold_music, playing::hold, true);
  publish("queued");
}

// The agent's phone answered as the ACD gave the offer up (its ring timeout): our
// `answered` crossed its withdraw, so routing has the agent missed and the call waiting,
// maybe offered to someone else already. Routing's view stands: the agent's phone is hung
// up and the caller waits on, with the music; the recording goes on (one per call).
void call_actor::answered_too_late(acd::withdraw_reason why) {
  log::info("calls", "the agent answered as routing withdrew the offer: back to the queue",
            {{"call", std::to_string(id_)}, {"agent", rec_.agent}});
  if (!rec_.offers.empty()) rec_.offers.back().result = std::string(acd::to_string(why)) + ", answered late";
  drop_agent_leg();
  ctx_->media.set_mix(session_, mix::matrix{});
  rec_.agent.clear();
  rec_.agent_answered.reset();
  rec_.outcome.clear();
  phase_ = phase::waiting;
  play(ctx_->hold_music, playing::hold, true);
  publish("queued");
}

void call_actor::agent_answered(const sip::call_event& e) {
  if (phase_ != phase::ringing || !e.sdp) return;
  auto accepted = sdp::accept_answer(agent_offer_, *e.sdp, ctx_->options.phone_policy);
  if (auto* err = std::get_if<sdp::negotiation_error>(&accepted)) {
    log::warn("calls", "agent phone's answer unusable", {{"reason", err->reason}});
    return offer_failed("bad answer");
  }
  phase_ = phase::connected;
  agent_gone_ = false;  // a new agent after a transfer back to a queue
  rec_.agent = offered_.agent;
  rec_.agent_answered = ctx_->options.now();
  rec_.offers.back().result = "answered";
  rec_.wait_ms = rec_.queued_at ? std::chrono::duration_cast<std::chrono::milliseconds>(*rec_.agent_answered - *rec_.queued_at).count() : 0;
  rec_.outcome = "answered";
  in_acd_ = true;
  // A G.711 caller carries 4 kHz: the agent's Opus is encoded no wider.
  ctx_->media.configure_leg(session_, leg_role::agent, std::get<sdp::negotiated>(accepted),
                            caller_codec_narrow_ ? 4000 : 0);
  ctx_->media.stop_playback(session_);
  ctx_->media.set_mix(session_, mix::preset(mix::mode::bridge));
  update_acd(call_update::answered, offered_.agent);
  // N-05: both hear the work id ("工号 1023 为您服务").
  auto wid = ctx_->prompts.work_id_announcement(offered_.agent, 8000, true);
  if (auto* p = std::get_if<std::vector<int16_t>>(&wid))
    play(std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::move(*p)}), playing::work_id, false,
         {leg_role::caller, leg_role::agent});
  start_recording();
  publish("connected");
}

void call_actor::start_recording() {
  // One file per call (N-42): the session records on through a re-queue or a transfer
  // back to a queue, the next agent on the same right channel.
  if (!rec_.recording.empty()) return;
  rec_.recording = calls::start_recording(*ctx_, session_, id_, caller_.call_id, offered_.agent,
                                          caf::actor_cast<caf::actor>(this), gate_);
  recording_pending_ = !rec_.recording.empty();
}

void call_actor::on_recording(const record::recording_result& r) {
  if (record_written_) {  // after the close guard: added when the record is durable
    late_recording_ = r;
    return;
  }
  // The one report of this recording; a failed one comes as soon as it fails (mid-call),
  // with what the file holds.
  if (r.error) {
    log::warn("calls", "recording failed", {{"call", std::to_string(id_)}, {"error", r.error->message}});
    rec_.recording_error = r.error->message;
  }
  rec_.recording_ms = static_cast<int64_t>(r.duration_ms);
  rec_.recording_sha256 = r.sha256;
  recording_pending_ = false;
  if (phase_ == phase::closing && media_closed_) write_record();
}

}  // namespace hotline::calls
