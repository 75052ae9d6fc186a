#pragma once
// A real SIP edge (sip::service on loopback sockets) with a simple owner that does
// what the call actor will do to an inbound call: ring, answer with an SDP answer from
// media/sdp, accept hold/unhold offers. Peer tests (SIPp, baresip) and the sip_cps
// benchmark run against it. Events are recorded for the test to wait on.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "media/sdp/negotiate.hpp"
#include "media/sip/service.hpp"

namespace hotline::test {

struct static_credentials : sip::credential_store {
  std::map<std::string, sip::digest::stored_credentials, std::less<>> users;
  void add(const std::string& user, const std::string& password, const std::string& realm = "hotline") {
    users[user] = sip::digest::make_credentials(user, realm, password);
  }
  std::optional<sip::digest::stored_credentials> find(std::string_view user) const override {
    auto it = users.find(user);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
};

class answering_server : public sip::event_handler {
 public:
  struct options {
    bool auto_answer = true;
    bool record = true;  // keep every event (off for the load benchmark)
    bool use_edge_policy = false;  // answer with incoming_call.policy instead of `policy`
    sdp::endpoint_policy policy;
    sip::service_options sip;
  };

  explicit answering_server(options o) : opts_(std::move(o)) {
    if (opts_.sip.listen == std::vector<std::string>{"0.0.0.0"}) opts_.sip.listen = {"127.0.0.1"};
    if (opts_.sip.ua.trunks.empty()) opts_.sip.ua.trunks.push_back({"loopback", {"127.0.0.0/8", "::1"}});
    opts_.sip.port = 0;
  }
  ~answering_server() override { service_.reset(); }

  bool start() {
    std::error_code ec;
    service_ = sip::service::start(opts_.sip, credentials, *this, ec);
    return service_ != nullptr;
  }
  sip::service& sip() { return *service_; }
  uint16_t port() const { return service_->udp_port(); }

  // Waits until `pred` holds over the recorded events (or the timeout passes).
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, pred);
  }
  // Only inside wait() predicates or after a wait: the mutex guards these.
  std::vector<sip::incoming_call> incoming;
  std::vector<sip::call_event> events;
  std::vector<sip::registration_event> registrations;
  std::vector<sdp::answer_result> answers;  // what we answered to inbound offers
  size_t count(sip::call_event_kind k) const {
    size_t n = 0;
    for (const auto& e : events) n += e.kind == k;
    return n;
  }
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mutex_); }

  static_credentials credentials;

  void on_incoming(sip::incoming_call call) override {
    service_->ring(call.ref);
    if (opts_.auto_answer) {
      if (call.offer) {
        // The edge tells us the trunk's or the phone's policy; tests may override it.
        const sdp::endpoint_policy& policy = opts_.use_edge_policy ? call.policy : opts_.policy;
        auto r = sdp::answer_offer(*call.offer, policy, {"127.0.0.1", false, next_port()}, random_bytes());
        if (auto* a = std::get_if<sdp::answer_result>(&r)) {
          service_->answer(call.ref, a->answer);
          if (opts_.record) {
            std::lock_guard g(mutex_);
            answers.push_back(*a);
          }
        } else {
          service_->reject(call.ref, std::get<sdp::negotiation_error>(r).sip_status);
        }
      }
    }
    if (!opts_.record) return;
    std::lock_guard g(mutex_);
    incoming.push_back(std::move(call));
    changed_.notify_all();
  }
  void on_call_event(sip::call_event e) override {
    if (opts_.auto_answer && e.kind == sip::call_event_kind::reinvite_offer && e.sdp) {
      auto r = sdp::answer_offer(*e.sdp, opts_.policy, {"127.0.0.1", false, 40000}, random_bytes());
      if (auto* a = std::get_if<sdp::answer_result>(&r)) service_->answer(e.ref, a->answer);
      else service_->reject(e.ref, 488);
    }
    if (e.kind == sip::call_event_kind::ended) ++ended_;
    if (!opts_.record) return;
    std::lock_guard g(mutex_);
    events.push_back(std::move(e));
    changed_.notify_all();
  }
  void on_registration(const sip::registration_event& e) override {
    std::lock_guard g(mutex_);
    registrations.push_back(e);
    changed_.notify_all();
  }
  uint64_t ended() const { return ended_.load(); }

 private:
  static sdp::random_bytes random_bytes() {
    return [](std::span<std::byte> b) {
      static uint64_t state = 0x1234567;
      for (auto& x : b) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        x = static_cast<std::byte>(state >> 56);
      }
    };
  }
  uint16_t next_port() { return static_cast<uint16_t>(20000 + 2 * (port_counter_++ % 10000)); }

  options opts_;
  std::unique_ptr<sip::service> service_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint32_t port_counter_ = 0;
  std::atomic<uint64_t> ended_{0};
};

}  // namespace hotline::test
