#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <openssl/rand.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <set>
#include <algorithm>
#include <thread>

#include "actors/call/internal.hpp"
#include "actors/call/recording_recovery.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "actors/runtime/log.hpp"
#include "media/prompt/library.hpp"

namespace hotline::calls {

// ---- context ------------------------------------------------------------------------

void call_context::bind(sip::call_ref ref, const caf::actor& a) {
  std::vector<sip::call_event> pending;
  {
    std::lock_guard lock(refs_mutex);
    refs[ref] = a;
    if (auto it = early.find(ref); it != early.end()) {
      pending = std::move(it->second);
      early.erase(it);
    }
  }
  for (auto& e : pending) caf::anon_send(a, sip_msg{std::move(e)});
}

void call_context::unbind(sip::call_ref ref) {
  std::lock_guard lock(refs_mutex);
  refs.erase(ref);
  early.erase(ref);
}

void call_context::dispatch(sip::call_event e) {
  caf::actor target;
  {
    std::lock_guard lock(refs_mutex);
    auto it = refs.find(e.ref);
    if (it != refs.end()) {
      target = it->second;
    } else {
      // Not bound yet (an originate answered before its actor bound the ref), or a call
      // that is already over. Keep a few; the owner, if any, binds within milliseconds.
      if (early.size() > 1000) early.clear();
      early[e.ref].push_back(std::move(e));
      return;
    }
  }
  caf::anon_send(target, sip_msg{std::move(e)});
}

std::shared_ptr<const media::pcm_clip> call_context::clip(std::string_view name) const {
  auto it = clips.find(name);
  return it == clips.end() ? nullptr : it->second;
}

std::shared_ptr<const media::pcm_clip> call_context::sequence(const std::vector<std::string>& names) const {
  if (names.size() == 1) return clip(names[0]);
  std::vector<std::string_view> views(names.begin(), names.end());
  auto pcm = prompts.compose(views, 8000, prompt::prompt_library::sentence_gap_ms);
  if (auto* p = std::get_if<std::vector<int16_t>>(&pcm))
    return std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::move(*p)});
  return nullptr;
}

void random_bytes(std::span<std::byte> b) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(b.size())) != 1)
    for (auto& x : b) x = std::byte{0};  // never reached with a working OpenSSL
}

void keep_record(recording_gate& gate, uint64_t id, boost::json::object& record) {
  record["recording_pending"] = true;
  auto text = boost::json::serialize(record);  // a few kB, where the object would hold ~10
  std::lock_guard lock(gate.m);
  gate.id = id;
  gate.record = std::move(text);
}

void record_stored(recording_gate& gate) {
  std::lock_guard lock(gate.m);
  gate.stored = true;
}

void store_late_recording(actors::durable_writer& writer, recording_gate& gate, const record::recording_result& r) {
  storage::write_batch b;
  uint64_t id = 0;
  {
    std::lock_guard lock(gate.m);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(gate.record, ec);
    if (ec || !parsed.is_object()) return log::error("calls", "kept call record unreadable", {{"call", std::to_string(gate.id)}});
    auto& o = parsed.as_object();
    add_recording_report(o, r);
    id = gate.id;
    b.put(storage::table::calls, storage::be64(id), storage::encode_record(o, 1));
  }
  writer.write(std::move(b), [id](std::error_code ec, uint64_t) {
    if (ec) log::error("calls", "late recording not added to the call record", {{"call", std::to_string(id)}, {"error", ec.message()}});
  });
}

std::string start_recording(call_context& ctx, media::session_id session, uint64_t id, const std::string& sip_call_id,
                            const std::string& agent, const caf::actor& self, std::shared_ptr<recording_gate> gate) {
  if (!ctx.recorder || ctx.options.recordings_dir.empty()) return {};
  record::recording_options ro;
  ro.path = ctx.options.recordings_dir + "/" + std::to_string(id) + ".opus";
  ro.sample_rate = 8000;
  ro.call_id = sip_call_id;
  ro.complexity = ctx.options.record_complexity;
  ro.start_time = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.options.now().time_since_epoch()).count());
  ro.extra_comments = {{"HOTLINE_CALL", std::to_string(id)}, {"HOTLINE_AGENT", agent}};
  // The actor by a weak handle: a strong one would keep the whole ended call actor in
  // memory until its recording is done, which at a peak is minutes (~17 KB a call).
  ro.on_done = [addr = caf::actor_cast<caf::actor_addr>(self), gate = std::move(gate),
                writer = &ctx.writer](const record::recording_result& r) {
    {
      // Sent under the lock: it then reaches the actor before the `done` that follows
      // record_stored(), so the actor never quits with a report in its mailbox.
      std::lock_guard lock(gate->m);
      if (!gate->stored) {
        if (auto self = caf::actor_cast<caf::actor>(addr)) caf::anon_send(self, recording_msg{r});
        return;
      }
    }
    store_late_recording(*writer, *gate, r);
  };
  auto path = ro.path;
  auto r = ctx.recorder->open(std::move(ro));
  if (auto* err = std::get_if<record::record_error>(&r)) {
    log::warn("calls", "call not recorded", {{"call", std::to_string(id)}, {"error", err->message}});
    return {};
  }
  ctx.media.record(session, std::shared_ptr<record::recording>(std::move(std::get<0>(r))));
  return path;
}

uint64_t call_context::next_call_id() {
  std::lock_guard lock(ids_mutex);
  auto now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  uint64_t id = now_ms << 16;
  if (id <= last_id) id = last_id + 1;
  last_id = id;
  return id;
}

namespace {

std::optional<agent_command> feature_code(std::string_view dialled) {
  if (dialled == "*20") return agent_command::login;
  if (dialled == "*21") return agent_command::ready;
  if (dialled == "*22") return agent_command::not_ready;
  if (dialled == "*23") return agent_command::logout;
  return std::nullopt;
}

class center_impl final : public center {
 public:
  center_impl(std::shared_ptr<call_context> ctx, std::unique_ptr<record::recorder_pool> pool)
      : pool_(std::move(pool)), ctx_(std::move(ctx)) {
    ctx_->recorder = pool_.get();
    queues_.insert("general");
    for (const auto& q : ctx_->options.queues) queues_.insert(q.id);
    for (const auto& s : ctx_->options.ivr.skills()) queues_.insert(s);
  }
  // Ends the calls in progress (their actors hang up both sides) and stops the ACD. The
  // SIP service must still be running: destroy the center first.
  ~center_impl() override {
    std::vector<caf::actor> live;
    {
      std::lock_guard lock(ctx_->refs_mutex);
      for (auto& [ref, a] : ctx_->refs) live.push_back(a);
    }
    for (auto& a : live) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (ctx_->active_calls.load() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    {
      // Wait for the ACD to be gone, and for its last timer (250 ms) to fire into the void:
      // CAF 0.17's clock would otherwise keep the actor (and this context) past the system.
      caf::scoped_actor self{ctx_->sys};
      auto acd = ctx_->acd();
      self->monitor(acd);
      self->send_exit(acd, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {}, caf::after(std::chrono::seconds(2)) >> [] {});
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    // The actors hold the context and the context holds their handles: break the cycle so
    // both can go.
    {
      std::lock_guard lock(ctx_->live_mutex);
      ctx_->live.clear();
    }
    std::lock_guard lock(ctx_->refs_mutex);
    ctx_->refs.clear();
    ctx_->early.clear();
    set_acd_handle(*ctx_->site, caf::actor{}, false);
    set_live_calls(*ctx_->site, nullptr);
  }

  void attach(sip::service& sip) override { ctx_->sip = &sip; }

  void add_agent(agent_record a) override {
    {
      std::lock_guard lock(mutex_);
      phone_to_agent_[a.phone] = a.profile.id;
      agent_phone_[a.profile.id] = a.phone;
    }
    caf::anon_send(ctx_->acd(), add_agent_msg{std::move(a)});
  }

  void command(const std::string& agent_id, agent_command c, acd::not_ready_reason why, result_fn done) override {
    caf::anon_send(ctx_->acd(), agent_cmd_msg{agent_id, c, why, std::move(done)});
  }
  void figures(const std::string& queue, std::function<void(std::optional<acd::figures>)> done) override {
    caf::anon_send(ctx_->acd(), figures_req{queue, std::move(done)});
  }
  void agent(const std::string& agent_id, std::function<void(std::optional<acd::agent_view>)> done) override {
    caf::anon_send(ctx_->acd(), agent_req{agent_id, std::move(done)});
  }
  size_t active_calls() const override { return ctx_->active_calls.load(); }
  uint64_t routing_restarts() const override { return ctx_->site->restarts(); }
  recorder_figures recordings() const override {
    if (!pool_) return {};
    return {pool_->active(), pool_->backlog_ms()};
  }
  void transfer(const std::string& agent_id, const std::string& target_phone, result_fn done) override {
    caf::anon_send(ctx_->acd(), call_request_msg{call_request_msg::kind::transfer, agent_id, target_phone, std::move(done)});
  }
  void monitor(uint64_t call, monitor_request r, monitor_fn done) override {
    auto a = ctx_->find_call(call);
    if (!a) return done("no such call", 0);
    monitor_msg m;
    m.req = std::move(r);
    m.done = std::move(done);
    caf::anon_send(a, std::move(m));
  }
  void monitor_mode(uint64_t call, calls::monitor_mode mode, result_fn done) override {
    auto a = ctx_->find_call(call);
    if (!a) return done("no such call");
    monitor_msg m;
    m.what = monitor_msg::kind::mode;
    m.mode = mode;
    m.result = std::move(done);
    caf::anon_send(a, std::move(m));
  }
  void monitor_stop(uint64_t call, result_fn done) override {
    auto a = ctx_->find_call(call);
    if (!a) return done("");
    monitor_msg m;
    m.what = monitor_msg::kind::stop;
    m.result = std::move(done);
    caf::anon_send(a, std::move(m));
  }
  void transfer_to_queue(const std::string& agent_id, const std::string& queue, result_fn done) override {
    if (!queues_.count(queue)) return done("no queue '" + queue + "'");
    caf::anon_send(ctx_->acd(), call_request_msg{call_request_msg::kind::to_queue, agent_id, queue, std::move(done)});
  }
  void callback(const std::string& agent_id, uint64_t request, result_fn done) override {
    if (ctx_->options.callback_uri.empty()) return done("callbacks are not configured (calls.callback_uri)");
    if (ctx_->options.callback_uri.find("{number}") == std::string::npos)
      return done("calls.callback_uri must contain {number}: \"" + ctx_->options.callback_uri + "\"");
    callback_msg m;
    {
      std::lock_guard lock(mutex_);
      auto it = agent_phone_.find(agent_id);
      if (it == agent_phone_.end()) return done("unknown agent " + agent_id);
      m.agent = agent_id;
      m.phone = it->second;
    }
    m.key = storage::be64(request);
    {
      if (!ctx_->env) return done("no storage for callback requests");
      auto txn = ctx_->env->read();
      auto v = txn.ok() ? txn.get(storage::table::callbacks, m.key) : std::nullopt;
      auto rec = v ? storage::decode_record(*v) : std::nullopt;
      if (!rec) return done("no callback request " + std::to_string(request));
      auto str = [&](const char* k) {
        auto* x = rec->if_contains(k);
        return x && x->is_string() ? std::string(x->as_string()) : std::string();
      };
      if (str("status") == "done") return done("callback request " + std::to_string(request) + " was already answered");
      m.number = str("number");
      m.queue = str("queue");
      m.request = std::move(*rec);
    }
    if (m.number.empty()) return done("the callback request has no number");
    // Only an agent the ACD will not offer a call to meanwhile (N-04).
    auto ctx = ctx_;
    caf::anon_send(ctx_->acd(), agent_req{m.agent, [ctx, m, done](std::optional<acd::agent_view> v) mutable {
                                          if (!v) return done("unknown agent " + m.agent);
                                          if (v->state != acd::agent_state::not_ready &&
                                              v->state != acd::agent_state::wrap_up)
                                            return done("set yourself not ready (or finish in wrap-up) to call back");
                                          if (!v->phone_registered) return done("your phone is not registered");
                                          if (v->state == acd::agent_state::not_ready) {
                                            spawn_callback(ctx, std::move(m));
                                            return done("");
                                          }
                                          // From wrap-up: not ready first, or wrap-up would end on
                                          // its timer mid-callback and the ACD offer calls (N-04).
                                          auto agent = m.agent;
                                          caf::anon_send(ctx->acd(), agent_cmd_msg{agent, agent_command::not_ready,
                                                                                   acd::not_ready_reason::after_call,
                                                                                   [ctx, m, done](std::string error) mutable {
                                            if (!error.empty()) return done(error);
                                            spawn_callback(ctx, std::move(m));
                                            done("");
                                          }});
                                        }});
  }
  void flag_dangerous(const std::string& agent_id, result_fn done) override {
    caf::anon_send(ctx_->acd(), call_request_msg{call_request_msg::kind::dangerous, agent_id, {}, std::move(done)});
  }

  // ---- sip::event_handler (the SIP thread: never block) ----
  void on_incoming(sip::incoming_call call) override {
    if (!ctx_->sip) {
      return;  // not attached: cannot happen once serve wired it
    }
    if (ctx_->options.ivr.number(call.dialled)) {
      auto ref = call.ref;
      auto a = spawn_call(ctx_, std::move(call));
      ctx_->bind(ref, a);
      return;
    }
    if (auto c = feature_code(call.dialled); c && !call.registered_user.empty()) {
      std::string agent;
      {
        std::lock_guard lock(mutex_);
        if (auto it = phone_to_agent_.find(call.registered_user); it != phone_to_agent_.end()) agent = it->second;
      }
      if (agent.empty()) {
        ctx_->sip->reject(call.ref, 403, "Not an agent's phone");
        return;
      }
      auto ref = call.ref;
      auto a = spawn_feature_call(ctx_, std::move(call), agent, *c);
      ctx_->bind(ref, a);
      return;
    }
    log::info("calls", "call to an unknown number", {{"dialled", call.dialled}, {"from", call.from.uri.to_string()}});
    ctx_->sip->reject(call.ref, 404, "No such service number");
  }
  void on_call_event(sip::call_event e) override { ctx_->dispatch(std::move(e)); }
  void on_registration(const sip::registration_event& e) override {
    caf::anon_send(ctx_->acd(), phone_msg{e.user, e.contacts_left > 0});
  }

 private:
  std::unique_ptr<record::recorder_pool> pool_;  // outlives the calls (declared first)
  std::shared_ptr<call_context> ctx_;
  std::mutex mutex_;
  std::map<std::string, std::string> phone_to_agent_;
  std::map<std::string, std::string> agent_phone_;
  std::set<std::string> queues_;  // every queue a call can be transferred to (N-11)
};

// The site's queues: the configured ones, a default queue for every skill the IVR routes
// to without one, and the general queue.
std::vector<acd::queue_config> site_queues(const center_options& o) {
  std::map<std::string, acd::queue_config> queues;
  for (const auto& q : o.queues) queues[q.id] = q;
  for (const auto& skill : o.ivr.skills()) {
    if (queues.count(skill)) continue;
    acd::queue_config q;
    q.id = q.skill = skill;
    queues[skill] = q;
  }
  if (!queues.count("general")) {
    acd::queue_config q;
    q.id = q.skill = "general";
    queues["general"] = q;
  }
  std::vector<acd::queue_config> out;
  for (auto& [id, q] : queues) out.push_back(std::move(q));
  return out;
}

}  // namespace

std::unique_ptr<center> make_center(center_deps& deps, center_options options, std::string& error) {
  auto ctx = std::make_shared<call_context>(deps.sys, deps.media, deps.prompts, deps.writer, deps.hub, std::move(options));
  ctx->env = deps.env;
  for (const auto& p : prompt::default_prompts()) {
    auto pcm = deps.prompts.clip(p.name, 8000);
    if (!pcm.empty())
      ctx->clips[std::string(p.name)] =
          std::make_shared<media::pcm_clip>(media::pcm_clip{8000, std::vector<int16_t>(pcm.begin(), pcm.end())});
  }
  ctx->hold_music = std::make_shared<media::pcm_clip>(media::pcm_clip{8000, prompt::synthesize_hold_music(8000)});
  ctx->site =
      std::make_shared<acd_site>(deps.hub, ctx->options.now, ctx->options.router, site_queues(ctx->options));
  if (!spawn_acd(deps.sys, ctx->site, error)) return nullptr;
  std::weak_ptr<call_context> weak = ctx;
  set_live_calls(*ctx->site, [weak] {
    std::vector<caf::actor> out;
    if (auto c = weak.lock()) {
      std::lock_guard lock(c->live_mutex);
      for (const auto& [id, a] : c->live) out.push_back(a);
    }
    return out;
  });
  std::unique_ptr<record::recorder_pool> pool;
  // One encoder thread per core by default (at nice 10, below the calls' media): one
  // thread encodes ~650 recorded calls of conversation at most (record_bench: ~30 us a
  // stereo frame). A site that outgrows its pool spills the audio to disk and encodes it
  // after the peak; the call records get the recordings' checksums then.
  if (!ctx->options.recordings_dir.empty()) {
    auto pc = ctx->options.recorder;
    if (pc.threads == 0) pc.threads = std::max(1u, std::thread::hardware_concurrency());
    pool = std::make_unique<record::recorder_pool>(pc);
    recover_recordings(ctx->options.recordings_dir, ctx->options.record_complexity, *pool, ctx->env, ctx->writer);
  }
  return std::make_unique<center_impl>(std::move(ctx), std::move(pool));
}

}  // namespace hotline::calls
