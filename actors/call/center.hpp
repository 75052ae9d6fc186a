#pragma once
// The contact center as non-actor code sees it (serve, tests, later the consoles): the
// calls, agents and queues of one site, each run by CAF actors behind this facade (no CAF
// in this header).
//
// It is the SIP edge's event handler: an INVITE to an IVR number spawns a call actor
// (answer, IVR, queue, agent, survey, call record); an agent's phone dialling a feature
// code (*21 ready, *22 not ready, *23 log out) reaches the agent through the same ACD as
// the console does; registrations tell routing whose phone is online. The ACD actor owns
// the routing engine (actors/acd/router.hpp); every state change is published on the
// event hub (topics "calls", "agents", "queues", "alarms") for the consoles.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/acd/router.hpp"
#include "actors/call/ivr.hpp"
#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "media/sip/events.hpp"

namespace hotline::sip {
class service;
}
namespace hotline::prompt {
class prompt_library;
}

namespace hotline::calls {

struct agent_record {
  acd::agent_profile profile;  // profile.id is the work id (N-05), announced to callers
  std::string name;
  std::string phone;  // the SIP user of the agent's registered phone
};

struct center_options {
  ivr_config ivr = default_ivr();
  // Queues by skill; a skill the IVR routes to without a queue here gets the defaults.
  std::vector<acd::queue_config> queues;
  acd::router_config router;
  std::string advertise_address = "127.0.0.1";  // the address in our SDP
  sdp::endpoint_policy phone_policy;            // calling agents' phones
  std::string recordings_dir;                   // empty: calls are not recorded
  int record_complexity = 1;                    // libopus 0-10 for the recordings
  // The recorder's threads (0: one per core) and when a recording spills to disk instead
  // of waiting in memory (media/record/recorder.hpp).
  record::pool_config recorder{.threads = 0};
  uint32_t survey_timeout_s = 8;                // N-16: a digit within this after the prompt
  uint32_t announce_interval_s = 30;            // N-18: position/expected wait this often
  uint32_t transfer_timeout_s = 20;             // N-11: back to the agent after this
  // N-17: callbacks go out through the trunk: "{number}" is replaced by the caller's number
  // (e.g. "sip:{number}@192.0.2.7:5060"); empty: callbacks cannot be dialled.
  std::string callback_uri;
  std::string callback_caller_id = "12333";  // what the citizen's phone shows
  uint32_t callback_agent_ring_s = 20;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

enum class agent_command { login, ready, not_ready, end_wrap_up, logout };

// N-40: a supervisor on a live call. The supervisor's leg is either their SIP phone
// (Hotline calls it and joins it when answered) or a console in the browser (a loopback
// RTP endpoint, rtp/loopback_peer.hpp, speaking Opus/48000 on payload type 111).
enum class monitor_mode { listen, whisper, barge, takeover };
struct monitor_request {
  std::string supervisor;     // username, shown on the call
  monitor_mode mode = monitor_mode::listen;
  std::string phone;          // via a phone: its SIP user; empty: via the browser
  uint16_t browser_port = 0;  // via the browser: the loopback peer's port
  // The monitor ended on the call's side (the call ended, the phone hung up); once.
  std::function<void(std::string reason)> ended;
};

// The facade. Thread-safe; results come back through callbacks on a CAF worker.
class center : public sip::event_handler {
 public:
  ~center() override = default;
  // The SIP service must outlive the center's calls; attach before any INVITE arrives.
  virtual void attach(sip::service& sip) = 0;

  // The roster (N-04 states are the ACD's): add or replace an agent.
  virtual void add_agent(agent_record a) = 0;
  // Console or phone: the result is empty on success, else the reason (unknown agent,
  // impossible state change).
  using result_fn = std::function<void(std::string error)>;
  virtual void command(const std::string& agent_id, agent_command c, acd::not_ready_reason why, result_fn done) = 0;
  // Live figures (N-50) of a queue, and an agent's view.
  virtual void figures(const std::string& queue, std::function<void(std::optional<acd::figures>)> done) = 0;
  virtual void agent(const std::string& agent_id, std::function<void(std::optional<acd::agent_view>)> done) = 0;
  virtual size_t active_calls() const = 0;
  // How often the ACD failed and was restarted since the start (docs/acd.md).
  virtual uint64_t routing_restarts() const = 0;
  // Recordings opened and not yet finished (calls in progress and, when the recorder is
  // behind, ended calls whose audio waits in spill files), and that backlog's length.
  struct recorder_figures {
    size_t unfinished = 0;
    uint64_t backlog_ms = 0;
  };
  virtual recorder_figures recordings() const = 0;
  // N-11: the agent's current call goes to a supervisor's or expert's phone; the caller
  // hears hold music while it rings and returns to the agent if nobody answers in
  // `transfer_timeout_s` (or the phone refuses). The agent is released when it is answered.
  virtual void transfer(const std::string& agent_id, const std::string& target_phone, result_fn done) = 0;
  // N-11: the agent's current call goes back to queue `queue` (announced to the caller);
  // the agent is released into wrap-up. An unknown queue is refused.
  virtual void transfer_to_queue(const std::string& agent_id, const std::string& queue, result_fn done) = 0;
  // N-17: callback request `request` (its id in the callbacks table, the id of the call
  // that left it) is dialled for the agent: their phone rings first, then the caller's
  // number through the trunk; the result is written to the request and a call record.
  // The agent must be not ready or in wrap-up (so the ACD offers them no call meanwhile).
  virtual void callback(const std::string& agent_id, uint64_t request, result_fn done) = 0;
  // N-14: the agent flags the current call as dangerous: an alarm for supervisors, and the
  // call record (and its recording) marked to be kept.
  virtual void flag_dangerous(const std::string& agent_id, result_fn done) = 0;

  // N-40 on call `call`: `done(error, leg_port)`; leg_port is the supervisor leg's RTP
  // port on 127.0.0.1 (where a browser's loopback peer sends), 0 via a phone. Refused
  // while a transfer holds the supervisor leg, or another monitor is on the call.
  using monitor_fn = std::function<void(std::string error, uint16_t leg_port)>;
  virtual void monitor(uint64_t call, monitor_request r, monitor_fn done) = 0;
  virtual void monitor_mode(uint64_t call, monitor_mode m, result_fn done) = 0;
  virtual void monitor_stop(uint64_t call, result_fn done) = 0;
};

// Everything the center needs from the rest of the process.
struct center_deps;
std::unique_ptr<center> make_center(center_deps& deps, center_options options, std::string& error);

}  // namespace hotline::calls
