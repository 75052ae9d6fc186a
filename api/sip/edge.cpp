#include "api/sip/edge.hpp"

#include <boost/json.hpp>

#include <atomic>

#include "actors/call/center.hpp"
#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/log.hpp"
#include "api/http/metrics.hpp"
#include "api/sip/phones.hpp"
#include "media/sip/service.hpp"

namespace hotline::sipedge {
namespace {

using phones::split_list;

class edge_impl final : public edge, public sip::event_handler {
 public:
  edge_impl(storage::env& env, actors::event_hub& hub) : credentials_(env), hub_(hub) {}
  ~edge_impl() override { service_.reset(); }

  bool start(const config::sip_section& cfg, std::string& error) {
    sip::service_options o;
    o.listen = split_list(cfg.listen);
    o.port = cfg.port;
    o.tcp = cfg.tcp != 0;
    o.advertise = cfg.advertise;
    o.ua.registrar.realm = cfg.realm;
    o.ua.registrar.algorithms.clear();
    for (const auto& a : split_list(cfg.digest_algorithms)) {
      if (a == "MD5") o.ua.registrar.algorithms.push_back(sip::digest::algorithm::md5);
      else if (a == "SHA-256") o.ua.registrar.algorithms.push_back(sip::digest::algorithm::sha256);
      else {
        error = "sip.digest_algorithms: unknown algorithm '" + a + "' (MD5, SHA-256)";
        return false;
      }
    }
    if (o.ua.registrar.algorithms.empty()) {
      error = "sip.digest_algorithms is empty";
      return false;
    }

    o.ua.max_calls = cfg.max_calls;
    o.ua.max_cpu = cfg.max_cpu_percent / 100.0;
    o.ua.user_agent = "Hotline";
    auto trunk_codecs = phones::parse_codecs(cfg.trunk_codecs, &error);
    auto phone_codecs = phones::parse_codecs(cfg.phone_codecs, &error);
    auto srtp = phones::parse_srtp(cfg.srtp);
    if (!trunk_codecs || !phone_codecs) {
      error = "sip codecs: " + error;
      return false;
    }
    if (!srtp) {
      error = "sip.srtp must be off, optional or required";
      return false;
    }
    sdp::endpoint_policy trunk_policy;
    trunk_policy.codec_preference = *trunk_codecs;
    trunk_policy.srtp = *srtp;
    if (!cfg.trunk_allow.empty()) o.ua.trunks.push_back({"trunk", split_list(cfg.trunk_allow), trunk_policy});
    o.ua.phone_policy.codec_preference = *phone_codecs;
    o.log = [](std::string_view level, std::string_view msg) {
      if (level == "warn") log::warn("sip", msg);
      else log::info("sip", msg);
    };
    std::error_code ec;
    service_ = sip::service::start(std::move(o), credentials_, *this, ec);
    if (!service_) {
      error = "cannot start SIP on " + cfg.listen + ":" + std::to_string(cfg.port) + ": " + ec.message();
      return false;
    }
    log::info("sip", "listening", {{"addr", cfg.listen + ":" + std::to_string(service_->udp_port())},
                                   {"advertise", service_->advertised_address()}});
    return true;
  }
  uint16_t port() const override { return service_->udp_port(); }
  std::string advertised_address() const override { return service_->advertised_address(); }
  void render_metrics(std::string& out) override {
    auto s = service_->stats();
    api::metric_line(out, "hotline_sip_bindings", "gauge", "Registered contacts (agents' and supervisors' phones).",
                     static_cast<double>(s.bindings));
    api::metric_line(out, "hotline_sip_transactions", "gauge", "Live SIP transactions (incl. those in Timer J/K).",
                     static_cast<double>(s.transactions.live));
    api::metric_line(out, "hotline_sip_retransmissions_sent_total", "counter",
                     "Requests and responses sent again over UDP.", static_cast<double>(s.transactions.retransmissions_sent));
    api::metric_line(out, "hotline_sip_timeouts_total", "counter", "Transactions that timed out.",
                     static_cast<double>(s.transactions.timeouts));
    api::metric_line(out, "hotline_sip_thread_cpu_ratio", "gauge", "The SIP thread's CPU over the last second (1 = a core).",
                     s.sip_thread_cpu);
    api::metric_line(out, "hotline_sip_tcp_connections", "gauge", "Open SIP TCP connections.",
                     static_cast<double>(s.tcp_connections));
  }
  void attach_calls(calls::center* center) override {
    if (center) center->attach(*service_);
    calls_.store(center);
  }

  void on_incoming(sip::incoming_call call) override {
    if (auto* c = calls_.load()) return c->on_incoming(std::move(call));
    log::info("sip", "inbound call refused: call handling is off",
              {{"from", call.from.uri.to_string()}, {"dialled", call.dialled}});
    service_->reject(call.ref, 480, "Call handling not enabled");
  }
  void on_call_event(sip::call_event e) override {
    if (auto* c = calls_.load()) c->on_call_event(std::move(e));
  }
  void on_registration(const sip::registration_event& e) override {
    boost::json::object o{{"event", std::string(sip::to_string(e.what))},
                          {"user", e.user},
                          {"contact", e.contact},
                          {"source", sip::to_string(e.flow)},
                          {"contacts_left", e.contacts_left}};
    hub_.publish("phones", boost::json::serialize(o));
    if (auto* c = calls_.load()) c->on_registration(e);
    log::info("sip", "registration", {{"event", std::string(sip::to_string(e.what))}, {"user", e.user},
                                      {"source", sip::to_string(e.flow)}});
  }

 private:
  phones::phone_credentials credentials_;
  actors::event_hub& hub_;
  std::unique_ptr<sip::service> service_;
  std::atomic<calls::center*> calls_{nullptr};
};

}  // namespace

std::unique_ptr<edge> edge::start(const config::sip_section& cfg, storage::env& env, actors::event_hub& hub,
                                  std::string& error) {
  auto e = std::make_unique<edge_impl>(env, hub);
  if (!e->start(cfg, error)) return nullptr;
  return e;
}

}  // namespace hotline::sipedge
