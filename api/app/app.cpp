#include "api/app/app.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <future>

#include "actors/runtime/log.hpp"
#include "actors/runtime/runtime.hpp"
#include "api/auth/accounts.hpp"
#include "api/auth/password.hpp"
#include "api/http/server.hpp"
#include "actors/call/center.hpp"
#include "actors/console/console.hpp"
#include <boost/json/parse.hpp>
#include "api/calls/roster.hpp"
#include "api/sip/edge.hpp"
#include "api/sip/phones.hpp"
#include "media/engine/engine.hpp"
#include "media/prompt/generate.hpp"
#include "media/prompt/library.hpp"
#include "media/record/recorder.hpp"
#include "api/v1/service.hpp"
#if HOTLINE_HAVE_KB
#include "api/app/kb_seed.hpp"
#include "api/v1/kb_routes.hpp"
#endif

namespace hotline::app {

namespace {

// Blocks until an asynchronous call answers (start-up only).
template <class T, class F>
T wait_for(F start) {
  std::promise<T> p;
  auto f = p.get_future();
  start([&p](T v) { p.set_value(std::move(v)); });
  return f.get();
}

class application_impl final : public application {
 public:
  bool open(const config::config& cfg, std::string& error) {
    cfg_ = cfg;
    std::error_code ec;
    env_ = storage::env::open({.dir = cfg_.server.data_dir, .initial_map_bytes = cfg_.storage.initial_map_mb << 20}, ec);
    if (!env_) {
      error = "cannot open the data dir " + cfg_.server.data_dir + ": " + ec.message();
      return false;
    }
    auto index_dir = cfg_.server.data_dir + "/kb-index";
    bool fresh_index = !std::filesystem::exists(index_dir);
    runtime_ = actors::runtime::start({.workers = cfg_.runtime.workers, .kb_index_dir = kb_index_dir(index_dir)},
                                      *env_, clock_, error);
    if (!runtime_) {
      error = "cannot start the actor runtime: " + error;
      return false;
    }
    if (!prepare_knowledge_base(fresh_index, error)) return false;
    audit_ = std::make_unique<auth::audit_log>(&runtime_->hub(), clock_);
    accounts_ = std::make_unique<auth::accounts>(*env_, runtime_->writer(), *audit_, clock_,
                                                 auth::accounts_options{
                                                     .session_ttl_minutes = cfg_.auth.session_ttl_minutes,
                                                     .lockout_after = cfg_.auth.lockout_after,
                                                     .lockout_minutes = cfg_.auth.lockout_minutes,
                                                     .kdf_iterations = cfg_.auth.kdf_iterations,
                                                 });
    service_ = std::make_unique<api::api_service>(
        api::service_deps{cfg_, *env_, *accounts_, runtime_->hub(), metrics_, clock_, runtime_->knowledge_base(),
                          [this](auth::audit_event ev) { write_audit(std::move(ev)); }});
    api::server_options so{.listen = cfg_.http.listen,
                           .port = cfg_.http.port,
                           .body_limit = cfg_.http.body_limit,
                           .request_timeout_s = cfg_.http.request_timeout_s,
                           .ws_message_limit = cfg_.http.ws_message_limit,
                           .ws_queue_limit = cfg_.http.ws_queue_limit,
                           .tls_cert = cfg_.http.tls_cert,
                           .tls_key = cfg_.http.tls_key};
    std::string detail;
    server_ = api::http_server::start(so, *service_, *service_, metrics_, ec, detail);
    if (!server_) {
      error = detail;
      return false;
    }
    log::info("http", "listening",
              {{"addr", cfg_.http.listen + ":" + std::to_string(server_->port())},
               {"tls", cfg_.http.tls_cert.empty() ? "off" : "on"}});
    if (cfg_.sip.enabled) {
      sip_ = sipedge::edge::start(cfg_.sip, *env_, runtime_->hub(), error);
      if (!sip_) return false;
      if (cfg_.calls.enabled && !start_calls(error)) return false;
    }
    // The knowledge base's, the SIP edge's and the contact center's figures on /metrics.
    metrics_.set_extra([this](std::string& out) {
      if (auto* kb = runtime_->knowledge_base()) render_kb_metrics(*kb, out);
      if (sip_) sip_->render_metrics(out);
      if (media_) render_media_metrics(media_->stats(), out);
      if (!calls_) return;
      api::metric_line(out, "hotline_calls_active", "gauge", "Calls in progress (IVR, queue, conversation, survey).",
                       static_cast<double>(calls_->active_calls()));
      api::metric_line(out, "hotline_acd_restarts_total", "counter",
                       "Times the ACD failed and was restarted with its state (docs/acd.md).",
                       static_cast<double>(calls_->routing_restarts()));
      auto rec = calls_->recordings();
      api::metric_line(out, "hotline_recordings_unfinished", "gauge",
                       "Recordings not yet finished: calls in progress, and ended calls still being encoded.",
                       static_cast<double>(rec.unfinished));
      api::metric_line(out, "hotline_recording_backlog_seconds", "gauge",
                       "Call audio spilled to disk and not yet encoded (the recorder is behind; docs/operations.md).",
                       static_cast<double>(rec.backlog_ms) / 1000.0);
    });
    return true;
  }

  // The media threads: how busy (the figure to size them by) and what went through them.
  // Refreshed once a second on each thread.
  static void render_media_metrics(const media::engine_stats& m, std::string& out) {
    auto count = [](uint64_t v) { return static_cast<double>(v); };
    api::metric_line(out, "hotline_media_thread_busy_ratio", "gauge",
                     "Media threads' CPU time over wall time, mean of the threads (transcoded calls lose quality above ~0.85).",
                     m.busy_fraction);
    api::metric_line(out, "hotline_media_late_ticks_total", "counter",
                     "20 ms ticks a media thread ran a whole tick late (it stalled or is overloaded).", count(m.late_ticks));
    api::metric_line(out, "hotline_media_packets_in_total", "counter", "RTP/RTCP datagrams received.", count(m.packets_in));
    api::metric_line(out, "hotline_media_packets_out_total", "counter", "RTP/RTCP datagrams sent.", count(m.packets_out));
    api::metric_line(out, "hotline_media_forwarded_on_arrival_total", "counter",
                     "G.711 packets relayed as they were read (plain bridges).", count(m.forwarded_on_arrival));
    api::metric_line(out, "hotline_media_srtp_auth_failures_total", "counter", "SRTP/SRTCP packets that failed authentication.",
                     count(m.srtp_auth_failures));
    api::metric_line(out, "hotline_media_malformed_total", "counter", "Datagrams that were not RTP or RTCP.", count(m.malformed));
    api::metric_line(out, "hotline_media_send_errors_total", "counter",
                     "Datagrams the kernel refused to send (no route, buffer full).", count(m.send_errors));
  }

  // The knowledge base's searches: how long they take (the wait for a search thread
  // included), how many wait, how many threads serve them.
  static void render_kb_metrics(const kb::service& kb, std::string& out) {
    auto figures = kb.search_stats();
    out += "# HELP hotline_kb_search_seconds Knowledge-base searches from arrival to result (queue included).\n"
           "# TYPE hotline_kb_search_seconds histogram\n";
    kb.search_latency().render(out, "hotline_kb_search_seconds");
    api::metric_line(out, "hotline_kb_search_threads", "gauge", "Threads searching the knowledge base (one per core).",
                     static_cast<double>(figures.threads));
    api::metric_line(out, "hotline_kb_searches_queued", "gauge", "Searches waiting for a search thread.",
                     static_cast<double>(figures.queued));
    api::metric_line(out, "hotline_kb_search_failures_total", "counter", "Searches that failed with an exception.",
                     static_cast<double>(figures.failed));
  }

  static std::optional<std::string> read_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = "cannot read " + path;
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The contact center: prompts (espeak-ng, generated once into the data dir), the media
  // engine, the recorder, the IVR and roster, the call/ACD/agent actors.
  bool start_calls(std::string& error) {
    std::string prompts_dir = cfg_.server.data_dir + "/prompts";
    auto gen = prompt::generate_prompts(prompts_dir);
    if (auto* e = std::get_if<prompt::prompt_error>(&gen)) {
      error = "IVR prompts: " + e->message;
      return false;
    }
    auto lib = prompt::prompt_library::load(prompts_dir);
    if (auto* e = std::get_if<prompt::prompt_error>(&lib)) {
      error = "IVR prompts: " + e->message;
      return false;
    }
    prompts_ = std::make_unique<prompt::prompt_library>(std::move(std::get<prompt::prompt_library>(lib)));
    calls::center_options o;
    if (!cfg_.calls.ivr_file.empty()) {
      auto text = read_file(cfg_.calls.ivr_file, error);
      if (!text) return false;
      auto ivr = calls::parse_ivr(*text);
      if (auto* e = std::get_if<std::string>(&ivr)) {
        error = cfg_.calls.ivr_file + ": " + *e;
        return false;
      }
      o.ivr = std::move(std::get<calls::ivr_config>(ivr));
    }
    std::vector<calls::agent_record> roster;
    if (!cfg_.calls.agents_file.empty()) {
      auto text = read_file(cfg_.calls.agents_file, error);
      if (!text) return false;
      auto r = api::parse_roster(*text);
      if (auto* e = std::get_if<std::string>(&r)) {
        error = cfg_.calls.agents_file + ": " + *e;
        return false;
      }
      roster = std::move(std::get<std::vector<calls::agent_record>>(r));
    }
    if (!cfg_.calls.queues_file.empty()) {
      auto text = read_file(cfg_.calls.queues_file, error);
      if (!text) return false;
      auto q = api::parse_queues(*text);
      if (auto* e = std::get_if<std::string>(&q)) {
        error = cfg_.calls.queues_file + ": " + *e;
        return false;
      }
      o.queues = std::move(std::get<std::vector<acd::queue_config>>(q));
    }
    media::engine_config mc;
    mc.threads = cfg_.media.threads;
    mc.opus_complexity = static_cast<int>(cfg_.media.opus_complexity);
    mc.opus_narrowband_complexity = static_cast<int>(cfg_.media.opus_narrowband_complexity);
    mc.io_uring = cfg_.media.io_uring != 0;
    mc.bind_v4 = cfg_.media.bind;
    mc.bind_v6 = cfg_.sip.listen.find(':') != std::string::npos ? "::" : "";
    mc.port_min = cfg_.media.port_min;
    mc.port_max = cfg_.media.port_max;
    media_ = std::make_unique<media::engine>(mc);
    if (auto e = media_->start()) {
      error = "media engine: " + *e;
      return false;
    }
    const std::string io = media_->io_description();
    if (mc.io_uring && io != "io_uring") log::warn("media", "io_uring refused: sockets on epoll", {{"io", io}});
    else log::info("media", "started", {{"threads", std::to_string(mc.threads)}, {"io", io}});
    if (cfg_.calls.record) {
      o.recordings_dir = cfg_.server.data_dir + "/recordings";
      std::error_code ec;
      std::filesystem::create_directories(o.recordings_dir, ec);
    }
    o.advertise_address = sip_->advertised_address();
    std::string codec_error;
    if (auto codecs = phones::parse_codecs(cfg_.sip.phone_codecs, &codec_error))
      o.phone_policy.codec_preference = *codecs;
    o.survey_timeout_s = cfg_.calls.survey_timeout_s;
    o.record_complexity = static_cast<int>(cfg_.calls.record_complexity);
    o.announce_interval_s = cfg_.calls.announce_interval_s;
    o.callback_uri = cfg_.calls.callback_uri;
    o.callback_caller_id = cfg_.calls.callback_caller_id;
    start_consoles();  // before the center: the floor sees its first alarms and every agent
    calls_ = runtime_->start_calls(*media_, *prompts_, std::move(o), error);
    if (!calls_) return false;
    consoles_->attach(calls_.get());
    service_->attach_consoles(consoles_.get());
    for (auto& a : roster) calls_->add_agent(std::move(a));
    sip_->attach_calls(calls_.get());
    log::info("calls", "answering", {{"agents", std::to_string(roster.size())},
                                     {"media_ports", std::to_string(mc.port_min) + "-" + std::to_string(mc.port_max)}});
    return true;
  }

  // An audit entry of the consoles or the API, stored, then published on "audit".
  void write_audit(auth::audit_event ev) {
    storage::write_batch b;
    auto entry = audit_->append(b, ev);
    runtime_->writer().write(std::move(b), [this, entry](std::error_code wec, uint64_t) {
      if (wec) return log::error("audit", "audit entry not stored", {{"error", wec.message()}});
      audit_->publish(entry);
    });
  }

  // The supervisor and agent consoles on /ws (actors/console); their monitoring and
  // supervisor actions go to the audit log (N-40, N-60).
  void start_consoles() {
    console::options co;
    co.site = cfg_.server.site;
    co.replay_max = std::max<size_t>(1, cfg_.http.ws_queue_limit / 2);
    co.audit = [this](console::audit_entry e) {
      auth::audit_event ev;
      ev.actor = std::move(e.actor);
      ev.action = std::move(e.action);
      ev.target = std::move(e.target);
      ev.site = std::move(e.site);
      boost::json::error_code ec;
      auto detail = boost::json::parse(e.detail_json, ec);
      if (!ec && detail.is_object()) ev.detail = std::move(detail.as_object());
      write_audit(std::move(ev));
    };
    consoles_ = runtime_->start_consoles(std::move(co));
  }

  static std::string kb_index_dir(const std::string& dir) {
#if HOTLINE_HAVE_KB
    return dir;
#else
    (void)dir;
    return {};
#endif
  }

  // First start: load the starter knowledge base (N-28 content written for Hotline). An
  // index that went missing (e.g. after restoring a backup) is rebuilt from LMDB.
  bool prepare_knowledge_base(bool fresh_index, std::string& error) {
#if HOTLINE_HAVE_KB
    auto* kb = runtime_->knowledge_base();
    if (!kb) return true;
    if (kb->data().count() == 0) {
      auto entries = api::parse_entries_jsonl(kb_seed_entries_jsonl());
      if (auto* e = api::error_of(entries)) {
        error = "the embedded knowledge base is malformed: " + e->message;
        return false;
      }
      std::string syn_error;
      auto syn = kb::synonyms::from_json(kb_seed_synonyms_json(), syn_error);
      auto n = wait_for<kb::kb_result<size_t>>([&](auto done) {
        kb->import_published(std::move(std::get<std::vector<kb::entry>>(entries)), "seed", done);
      });
      if (auto* e = std::get_if<kb::kb_error>(&n)) {
        error = "loading the starter knowledge base failed: " + e->message;
        return false;
      }
      wait_for<std::optional<kb::kb_error>>([&](auto done) { kb->set_synonyms(std::move(syn), done); });
      log::info("kb", "loaded the starter knowledge base", {{"entries", std::to_string(std::get<size_t>(n))}});
    } else if (fresh_index) {
      auto n = wait_for<kb::kb_result<size_t>>([&](auto done) { kb->reindex(done); });
      if (auto* e = std::get_if<size_t>(&n)) log::info("kb", "rebuilt the search index", {{"entries", std::to_string(*e)}});
    }
    auto swept = wait_for<kb::kb_result<size_t>>([&](auto done) { kb->sweep(clock_.today(), done); });
    if (auto* e = std::get_if<size_t>(&swept); e && *e)
      log::info("kb", "published or expired entries due today", {{"changed", std::to_string(*e)}});
#else
    (void)fresh_index, (void)error;
#endif
    return true;
  }

  uint16_t http_port() const override { return server_ ? server_->port() : 0; }
  auth::accounts& accounts() override { return *accounts_; }
  storage::env& env() override { return *env_; }
  actors::event_hub& hub() override { return runtime_->hub(); }
  calls::center* calls() override { return calls_.get(); }

  std::optional<std::string> bootstrap_admin() override {
    if (accounts_->any_users()) return std::nullopt;
    auto password = auth::random_token(12);
    auth::new_user admin{"admin", password, "Administrator", "", cfg_.server.site,
                         (1u << static_cast<unsigned>(auth::role::site_admin)) |
                             (1u << static_cast<unsigned>(auth::role::province_admin))};
    if (auto err = accounts_->create_now(admin)) {
      log::error("auth", "could not create the first admin", {{"error", err->message}});
      return std::nullopt;
    }
    return password;
  }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    auto start = std::chrono::steady_clock::now();
    if (runtime_) {
      // Tell console clients why they are about to be disconnected, before closing them.
      runtime_->hub().publish("system", R"({"event":"shutdown"})");
      runtime_->sync_hub(500);
    }
    metrics_.set_extra(nullptr);  // before the parts it reads go
    if (sip_) sip_->attach_calls(nullptr);  // no new calls
    if (service_) service_->attach_consoles(nullptr);
    consoles_.reset();  // ends monitors while the calls still run
    calls_.reset();  // ends calls in progress while SIP still runs
    sip_.reset();  // no more SIP events into the runtime
    media_.reset();
    if (server_) server_->stop(2000);
    bool drained = runtime_ ? runtime_->shutdown(2500) : true;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    log::info("app", "stopped", {{"drained", drained ? "yes" : "no"}, {"ms", std::to_string(ms)}});
  }

  ~application_impl() override {
    stop();
    // Order matters: nothing may call into accounts/runtime once they are gone.
    consoles_.reset();
    calls_.reset();
    sip_.reset();
    media_.reset();
    server_.reset();
    service_.reset();
    accounts_.reset();
    runtime_.reset();
    audit_.reset();
    env_.reset();
  }

 private:
  config::config cfg_;
  system_wall_clock clock_;
  api::server_metrics metrics_;
  std::unique_ptr<storage::env> env_;
  std::unique_ptr<actors::runtime> runtime_;
  std::unique_ptr<auth::audit_log> audit_;
  std::unique_ptr<auth::accounts> accounts_;
  std::unique_ptr<api::api_service> service_;
  std::unique_ptr<api::http_server> server_;
  std::unique_ptr<sipedge::edge> sip_;
  std::unique_ptr<prompt::prompt_library> prompts_;
  std::unique_ptr<media::engine> media_;
  std::unique_ptr<calls::center> calls_;
  std::unique_ptr<console::service> consoles_;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<application> application::start(const config::config& cfg, std::string& error) {
  auto app = std::make_unique<application_impl>();
  if (!app->open(cfg, error)) return nullptr;
  return app;
}

}  // namespace hotline::app
