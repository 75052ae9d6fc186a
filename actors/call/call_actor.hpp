#pragma once
// The call actor (internal to actors/call): one per call (DESIGN.md, "A call, end to end").
// It owns the caller's dialog, the agent's dialog and the media session; it walks the IVR,
// waits in the ACD's queue with hold music and N-18 announcements, rings the agents the ACD
// offers, bridges with the work-id announcement (N-05), offers the survey when the agent
// releases first (N-16), and leaves a call record (N-06 who released first) when it ends.
//
// Its definition is split by concern: call_actor.cpp (answer, IVR, the end, the call
// record, feature codes), call_queue.cpp (the queue, the agents' offers, the bridge, the
// recording), call_transfer.cpp (hold and resume, N-11 transfers, N-14), call_monitor.cpp
// (N-40 listen, whisper, barge, take over).
#include <caf/event_based_actor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/call/internal.hpp"
#include "actors/call/ivr.hpp"

namespace hotline::calls {

class call_actor : public caf::event_based_actor {
  using leg_role = media::leg_role;
  using call_event_kind = sip::call_event_kind;

 public:
  call_actor(caf::actor_config& cfg, std::shared_ptr<call_context> ctx, sip::incoming_call call, std::string agent,
             std::optional<agent_command> feature)
      : caf::event_based_actor(cfg),
        ctx_(std::move(ctx)),
        caller_(std::move(call)),
        feature_agent_(std::move(agent)),
        feature_(feature) {}

  caf::behavior make_behavior() override;
  void on_exit() override;

 private:
  enum class phase { ivr, after_hours, waiting, ringing, connected, survey, goodbye, closing, feature };
  enum class playing { none, menu, transfer, hold, announcement, work_id, survey, closing_prompt };

  // ---- start: answer with media -------------------------------------------------------
  void start();
  void fail_caller(int status, const std::string& reason);

  // ---- IVR ----------------------------------------------------------------------------
  void run(const ivr_walk::action& a);

  void play(std::shared_ptr<const media::pcm_clip> clip, playing what, bool loop = false,
            std::vector<leg_role> to = {leg_role::caller});
  void on_playback_done(playing what);
  void arm(call_timer::kind k, std::chrono::milliseconds d);
  void arm_announcement();  // N-18: the next position announcement of this stay in a queue
  void on_timer(const call_timer& t);
  void on_digit(leg_role leg, char d);

  // ---- queue and agents ---------------------------------------------------------------
  void enqueue(const std::string& skill);
  // `agent`: whose offer it is about (answered, offer_failed).
  void update_acd(call_update u, std::string agent = {});

  // A restarted ACD asks where this call is (acd.hpp): it may have lost our last update.
  void report_to_acd();
  void on_queue(const queue_msg& m);
  void announce_position(const acd::queue_position& where);
  void after_hours();
  void request_callback();
  void on_offer(const offer_msg& m);
  void offer_failed(const std::string& why);
  void drop_agent_leg();
  void on_withdraw(const withdraw_msg& m);
  void answered_too_late(acd::withdraw_reason why);
  void agent_answered(const sip::call_event& e);

  // N-42: the bridged conversation, caller left, agent right, encoded off the media thread.
  void start_recording();
  void on_recording(const record::recording_result& r);

  // ---- the end ------------------------------------------------------------------------
  void say_goodbye(const std::string& prompt);
  void hang_up_caller(const std::string& by);
  void on_sip(const sip::call_event& e);
  void caller_released();
  void caller_gone();
  static bool ended_by_itself(const sip::call_event& e);
  void agent_released();
  void on_media(const media::media_event& e);
  void finish();
  void write_record();
  void publish(const std::string& state);

  // ---- re-INVITEs: hold and resume ----------------------------------------------------
  // A phone's re-INVITE is answered from the same local media (the leg keeps its SSRC,
  // sequence and SRTP contexts). When the agent holds (a=sendonly or inactive), the caller
  // hears hold music until the agent resumes; when the caller holds, the agent hears
  // silence. The same for the supervisor's or expert's phone once it has the call (a
  // transfer it answered, a take-over); a monitoring phone's re-INVITE is answered and
  // changes nothing else. A re-INVITE on any other leg (one still ringing), or that cannot
  // be answered, is refused (488) and the call goes on as it was.
  void on_reinvite(const sip::call_event& e);
  // The agent, or the supervisor who has the call (`supervisor`), held (`held`) or resumed.
  void talker_holds(bool held, bool supervisor);

  // ---- N-40 listen, whisper, barge, take over -----------------------------------------
  struct monitor_state {
    monitor_request req;
    monitor_mode mode = monitor_mode::listen;
    sip::call_ref ref = 0;  // via a phone
    sdp::session_description offer;
    bool joined = false;  // the browser's leg at once, a phone when answered
  };

  static std::string_view monitor_mode_name(monitor_mode m);
  void on_monitor(monitor_msg& m);
  void start_monitor(monitor_msg& m);
  void on_monitor_leg(const sip::call_event& e);
  void apply_monitor_mode();

  // The agent is done with this call (a transfer answered, a take-over, another queue):
  // their phone is hung up and they go to wrap-up; the caller stays.
  void release_agent();

  // The supervisor who took the call over left it: like an agent's release (N-16).
  void supervisor_released();
  void drop_monitor_leg();

  // The monitor ends on the call's side: the console is told why.
  void end_monitor(const std::string& why);

  // ---- N-11 transfer, N-14 dangerous call --------------------------------------------
  void on_request(call_request_msg& m);

  // N-11 to another queue: the agent is released (wrap-up), the caller hears the transfer
  // prompt and waits in the new queue like any call; the call record lists both queues.
  void transfer_to_queue(call_request_msg& m);
  void on_transfer_leg(const sip::call_event& e);

  // Nobody took the transfer: the caller is back with the agent (N-11).
  void transfer_failed(const std::string& why);
  void drop_transfer_leg();

  // ---- feature codes from an agent's phone --------------------------------------------
  void start_feature();
  void feature_done(bool ok);

  std::shared_ptr<call_context> ctx_;
  sip::incoming_call caller_;
  std::string feature_agent_;
  std::optional<agent_command> feature_;
  uint64_t id_ = 0;
  media::session_id session_ = 0;
  phase phase_ = phase::ivr;
  playing playing_ = playing::none;
  uint64_t timer_gen_ = 0;
  uint64_t announce_gen_ = 0;
  uint32_t digit_timeout_s_ = 6;
  std::optional<ivr_walk> walk_;
  sdp::session_description caller_answer_, agent_offer_;
  bool caller_codec_narrow_ = true;
  sip::call_ref agent_ref_ = 0;
  offer_msg offered_;
  bool in_acd_ = false;
  acd::call_request acd_req_;               // what this call asked the ACD for
  std::optional<call_update> last_update_;  // the last update sent to the ACD
  bool record_written_ = false;
  bool recording_pending_ = false, media_closed_ = false;
  std::shared_ptr<recording_gate> gate_ = std::make_shared<recording_gate>();
  std::optional<record::recording_result> late_recording_;  // came while the record was being written
  // N-11: a transfer ringing or done.
  sip::call_ref transfer_ref_ = 0;
  sdp::session_description transfer_offer_;
  std::string transfer_target_;
  uint64_t transfer_gen_ = 0;
  bool transfer_answered_ = false, agent_gone_ = false;
  std::optional<monitor_state> mon_;  // N-40
  uint64_t monitor_gen_ = 0;          // the ring timeout of a monitor by phone
  sdp::local_media caller_local_, agent_local_;  // answering re-INVITEs from the same ports
  sdp::session_description agent_answer_;        // our last answer to the agent's re-INVITE
  bool agent_holding_ = false;
  sdp::local_media supervisor_local_;     // the supervisor leg's port (transfer or monitor phone)
  sdp::session_description supervisor_sdp_;  // what we last sent that phone
  bool supervisor_holding_ = false;
  call_record rec_;
};

}  // namespace hotline::calls
