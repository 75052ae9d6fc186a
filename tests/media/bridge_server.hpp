#pragma once
// A test B2BUA: the SIP edge (sip::service on 127.0.0.1, port 0) and the media engine
// (127.0.0.1, a port range of its own) doing to a call what the call actor will do, so
// the engine can be heard through real softphones. An incoming call rings; the harness
// originates to the agent's phone with the engine's agent leg; when the agent answers,
// the caller is answered with the engine's caller leg and the two are bridged
// (mix::preset(bridge)). A supervisor leg can be originated into the call and the mix
// switched to listen/whisper/barge (N-40). When the caller or the agent hangs up, the
// rest is hung up and the media session closed.
//
// Threads: SIP events arrive on the SIP thread, media events on a media thread, commands
// on the test's thread; one mutex guards the state (engine and service calls only post,
// so they are made under it).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "media/mix/mixer.hpp"
#include "media/sdp/negotiate.hpp"
#include "media/sip/service.hpp"
#include "tests/media/answering_server.hpp"
#include "tests/media/lossy_relay.hpp"

namespace hotline::test {

class bridge_server : public sip::event_handler {
 public:
  struct options {
    sdp::endpoint_policy caller_policy;      // how the caller is answered
    sdp::endpoint_policy agent_policy;       // what the agent is offered
    sdp::endpoint_policy supervisor_policy;  // what the supervisor is offered
    std::string agent_target;                // a registered user or a SIP URI
    uint32_t mix_rate = 8000;
    uint16_t port_min = 47000, port_max = 47999;
    // The caller's RTP through this relay (not started yet): our answer names the relay's
    // phone side, the engine's caller leg sends to its engine side.
    lossy_relay* caller_relay = nullptr;
    // Non-empty: the call is recorded there (N-42), its report in `recording`.
    std::string record_path;
  };

  // What the harness knows about one leg.
  struct leg_state {
    sip::call_ref ref = 0;
    sdp::session_description offer;   // ours (agent, supervisor) or the caller's
    sdp::session_description answer;  // the peer's (agent, supervisor) or ours
    std::optional<sdp::negotiated> media;
    bool up = false, ended = false;
  };

  explicit bridge_server(options o) : opts_(std::move(o)) {
    media::engine_config c;
    c.bind_v4 = "127.0.0.1";
    c.bind_v6.clear();
    c.port_min = opts_.port_min;
    c.port_max = opts_.port_max;
    engine_ = std::make_unique<media::engine>(c);
  }
  ~bridge_server() override {
    service_.reset();  // no more SIP events
    engine_.reset();   // no more media events
    recorders_.reset();
  }

  // Empty string on success, else what failed.
  std::string start() {
    if (auto err = engine_->start()) return "media engine: " + *err;
    sip::service_options so;
    so.listen = {"127.0.0.1"};
    so.port = 0;
    so.tcp = false;
    so.ua.trunks.push_back({"loopback", {"127.0.0.0/8"}});  // callers need no registration
    std::error_code ec;
    service_ = sip::service::start(so, credentials, *this, ec);
    return service_ ? std::string() : "SIP service: " + ec.message();
  }
  uint16_t sip_port() const { return service_->udp_port(); }
  media::engine_stats engine_stats() const { return engine_->stats(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(sip_port()); }

  // Originates a supervisor's leg into the running call; mixed with `m` once it answers.
  void add_supervisor(const std::string& target, mix::mode m) {
    std::lock_guard l(mutex_);
    mode_ = m;
    auto& leg = legs_[media::leg_role::supervisor];
    leg.offer = offer_for(media::leg_role::supervisor, opts_.supervisor_policy);
    sip::originate_request req;
    req.target = target;
    req.from_user = "12333";
    req.offer = leg.offer;
    leg.ref = service_->originate(req);
  }
  void set_mode(mix::mode m) {
    std::lock_guard l(mutex_);
    mode_ = m;
    if (session_) engine_->set_mix(session_, mix::preset(m));
  }
  void send_dtmf(media::leg_role to, std::string digits) {
    std::lock_guard l(mutex_);
    if (session_) engine_->send_dtmf(session_, to, std::move(digits));
  }
  void hangup_all() {
    std::lock_guard l(mutex_);
    end_call();
  }

  // Waits until `pred` holds (called under the mutex), or the timeout passes.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock l(mutex_);
    return changed_.wait_for(l, timeout, pred);
  }
  // Only inside wait() predicates or under lock(): the mutex guards these.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }
  std::map<media::leg_role, leg_state> legs_;
  std::vector<media::media_event> media_events;
  std::vector<sip::call_event> sip_events;
  std::vector<std::string> problems;  // negotiation failures and the like, for messages
  std::optional<record::recording_result> recording;  // with options::record_path, once finished
  size_t count(media::media_event::kind k) const {
    size_t n = 0;
    for (const auto& e : media_events) n += e.what == k;
    return n;
  }
  bool closed() const { return count(media::media_event::kind::closed) > 0; }
  bool up(media::leg_role r) const {
    auto it = legs_.find(r);
    return it != legs_.end() && it->second.up;
  }

  static_credentials credentials;

  // ---- sip::event_handler (the SIP thread) -------------------------------------------

  void on_incoming(sip::incoming_call call) override {
    std::lock_guard l(mutex_);
    if (session_ || !call.offer) {
      service_->reject(call.ref, 486, "busy");
      return;
    }
    service_->ring(call.ref);
    session_ = engine_->create_session(opts_.mix_rate, [this](const media::media_event& e) { on_media(e); });
    if (!opts_.record_path.empty()) {
      record::recording_options ro;
      ro.path = opts_.record_path;
      ro.sample_rate = opts_.mix_rate;
      ro.on_done = [this](const record::recording_result& r) {
        std::lock_guard lock(mutex_);
        recording = r;
        changed_.notify_all();
      };
      auto rec = recorders_->open(std::move(ro));
      if (auto* ok = std::get_if<std::unique_ptr<record::recording>>(&rec))
        engine_->record(session_, std::shared_ptr<record::recording>(std::move(*ok)));
      else
        problems.push_back("recording: " + std::get<record::record_error>(rec).message);
    }
    auto& caller = legs_[media::leg_role::caller];
    caller.ref = call.ref;
    caller.offer = *call.offer;
    // Answered for real once the agent has answered (a B2BUA does not connect the caller
    // to nobody); the answer is made now so a bad offer is refused at once.
    auto local = open(media::leg_role::caller);
    auto r = sdp::answer_offer(caller.offer, opts_.caller_policy, local, random());
    if (auto* err = std::get_if<sdp::negotiation_error>(&r)) {
      problems.push_back("caller offer: " + err->reason);
      service_->reject(call.ref, err->sip_status);
      return;
    }
    auto& a = std::get<sdp::answer_result>(r);
    caller.answer = a.answer;
    caller.media = a.session;
    if (opts_.caller_relay) {
      // The caller sends to the relay; the engine sends to the relay's other side.
      opts_.caller_relay->start(local.port, a.session.remote_port);
      for (auto& m : caller.answer.media) {
        if (m.media != "audio" || m.port == 0) continue;
        m.port = opts_.caller_relay->phone_side_port();
        m.rtcp_port.reset();
      }
      caller.media->remote_address = "127.0.0.1";
      caller.media->remote_port = opts_.caller_relay->engine_side_port();
      caller.media->remote_rtcp_port = 0;  // RTCP is not relayed
      caller.media->rtcp_mux = false;
    }
    auto& agent = legs_[media::leg_role::agent];
    agent.offer = offer_for(media::leg_role::agent, opts_.agent_policy);
    sip::originate_request req;
    req.target = opts_.agent_target;
    req.from_user = call.from.uri.user.empty() ? "caller" : call.from.uri.user;
    req.offer = agent.offer;
    agent.ref = service_->originate(req);
    changed_.notify_all();
  }

  void on_call_event(sip::call_event e) override {
    std::lock_guard l(mutex_);
    sip_events.push_back(e);
    auto role = role_of(e.ref);
    if (!role) return;
    auto& leg = legs_[*role];
    using k = sip::call_event_kind;
    if (e.kind == k::answered && e.sdp) {
      leg.answer = *e.sdp;
      auto policy = *role == media::leg_role::agent ? opts_.agent_policy : opts_.supervisor_policy;
      auto r = sdp::accept_answer(leg.offer, leg.answer, policy);
      if (auto* err = std::get_if<sdp::negotiation_error>(&r)) {
        problems.push_back(std::string(media::to_string(*role)) + " answer: " + err->reason);
        end_call();
      } else {
        leg.media = std::get<sdp::negotiated>(r);
        leg.up = true;
        engine_->configure_leg(session_, *role, *leg.media, source_bandwidth(*role));
        if (*role == media::leg_role::agent) connect_caller();
        engine_->set_mix(session_, mix::preset(mode_));
      }
    } else if (e.kind == k::confirmed && *role == media::leg_role::caller) {
      leg.up = true;
    } else if (e.kind == k::ended) {
      leg.ended = true;
      leg.up = false;
      if (*role != media::leg_role::supervisor) end_call();
      else if (session_) engine_->close_leg(session_, media::leg_role::supervisor);
    }
    changed_.notify_all();
  }

  void on_registration(const sip::registration_event&) override {
    std::lock_guard l(mutex_);
    ++registrations_;
    changed_.notify_all();
  }
  size_t registrations() const { return registrations_; }

 private:
  void on_media(const media::media_event& e) {
    std::lock_guard l(mutex_);
    media_events.push_back(e);
    changed_.notify_all();
  }

  sdp::local_media open(media::leg_role role) {
    auto m = engine_->open_leg(session_, role, false, "127.0.0.1");
    if (auto* err = std::get_if<std::string>(&m)) {
      problems.push_back("open_leg: " + *err);
      return {};
    }
    return std::get<sdp::local_media>(m);
  }
  sdp::session_description offer_for(media::leg_role role, const sdp::endpoint_policy& policy) {
    return sdp::make_offer(policy, open(role), random());
  }
  // What the audio sent to this leg carries: a G.711 caller has 4 kHz (issue 4's
  // bandwidth-matched Opus encode).
  uint32_t source_bandwidth(media::leg_role role) const {
    if (role == media::leg_role::caller) {
      auto it = legs_.find(media::leg_role::agent);
      return it != legs_.end() && it->second.media && it->second.media->audio.clock_rate == 8000 ? 4000 : 0;
    }
    auto it = legs_.find(media::leg_role::caller);
    return it != legs_.end() && it->second.media && it->second.media->audio.clock_rate == 8000 ? 4000 : 0;
  }
  void connect_caller() {
    auto& caller = legs_[media::leg_role::caller];
    if (!caller.media) return;
    engine_->configure_leg(session_, media::leg_role::caller, *caller.media, source_bandwidth(media::leg_role::caller));
    service_->answer(caller.ref, caller.answer);
  }
  std::optional<media::leg_role> role_of(sip::call_ref ref) const {
    for (const auto& [role, leg] : legs_)
      if (leg.ref == ref) return role;
    return std::nullopt;
  }
  void end_call() {
    for (auto& [role, leg] : legs_) {
      if (leg.ref && !leg.ended) service_->hangup(leg.ref);
      leg.ended = true;
      leg.up = false;
    }
    if (session_ && !closing_) engine_->close_session(session_);
    closing_ = true;
  }
  sdp::random_bytes random() {
    return [this](std::span<std::byte> b) {
      for (auto& x : b) x = static_cast<std::byte>(random_());
    };
  }

  options opts_;
  std::unique_ptr<record::recorder_pool> recorders_ = std::make_unique<record::recorder_pool>();
  std::unique_ptr<media::engine> engine_;
  std::unique_ptr<sip::service> service_;
  std::mutex mutex_;
  std::condition_variable changed_;
  media::session_id session_ = 0;
  bool closing_ = false;
  mix::mode mode_ = mix::mode::bridge;
  size_t registrations_ = 0;
  std::mt19937 random_{std::random_device{}()};  // SRTP keys: any will do in a test
};

}  // namespace hotline::test
