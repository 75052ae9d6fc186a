#include "actors/runtime/runtime.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <thread>

#if HOTLINE_HAVE_KB
#include "actors/kb/service_actor.hpp"
#endif
#include "actors/call/internal.hpp"
#include "actors/console/internal.hpp"
#include "actors/pubsub/hub.hpp"
#include "actors/runtime/log.hpp"
#include "actors/storage/errors.hpp"
#include "actors/storage/writer.hpp"

namespace hotline::actors {

namespace {

struct write_done {
  durable_writer::done_fn fn;
};

}  // namespace
}  // namespace hotline::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::actors::write_done)

namespace hotline::actors {

namespace {

struct system_config : caf::actor_system_config {
  explicit system_config(size_t workers) {
    add_message_types<caf::id_block::hotline>();
    // The templated overload is broken in 0.17.6 (wrong renderer signature).
    add_error_category(caf::atom("storage"), [](uint8_t code, caf::atom_value, const caf::message&) {
      return "storage: " + storage::to_string(static_cast<storage::errc>(code));
    });
    set("scheduler.max-threads", workers ? workers : std::max(1u, std::thread::hardware_concurrency()));
    // An idle worker spins briefly, then sleeps on its condition variable (a message from
    // outside the workers wakes it). CAF's default puts a "moderate" phase between the
    // two: 500 polls 50 us apart, i.e. 20,000 wake-ups a second per worker for as long as
    // a message arrives every few ms — which on a live site is always. That polling was
    // half the server's CPU in call_load_bench (0.30 -> 0.15 % of a core per live call)
    // and a third in console_fanout_bench, for no gain in latency (docs/PERFORMANCE.md).
    set("work-stealing.moderate-poll-attempts", size_t{0});
  }
};

// Forwards writes from non-actor threads to the storage writer and runs the callback
// with the result; one long-lived actor instead of one per request.
caf::behavior writer_bridge(caf::event_based_actor* self, storage_writer writer) {
  return {
      [=](atoms::write_atom, storage::write_batch& batch, write_done& done) {
        self->request(writer, std::chrono::seconds(30), atoms::write_atom_v, std::move(batch))
            .then([done](uint64_t n) { done.fn({}, n); },
                  [done](caf::error& e) { done.fn(to_error_code(e), 0); });
      },
  };
}

class writer_facade final : public durable_writer {
 public:
  explicit writer_facade(caf::actor bridge) : bridge_(std::move(bridge)) {}
  void write(storage::write_batch batch, done_fn done) override {
    caf::anon_send(bridge_, atoms::write_atom_v, std::move(batch), write_done{std::move(done)});
  }

 private:
  caf::actor bridge_;
};

class hub_facade final : public event_hub {
 public:
  explicit hub_facade(hub_actor hub) : hub_(std::move(hub)) {}
  void subscribe(const std::string& topic, std::shared_ptr<subscriber> s) override {
    caf::anon_send(hub_, atoms::subscribe_atom_v, topic, std::move(s));
  }
  void unsubscribe(const std::string& topic, uint64_t id) override {
    caf::anon_send(hub_, atoms::unsub_atom_v, topic, id);
  }
  void drop(uint64_t id) override { caf::anon_send(hub_, atoms::drop_atom_v, id); }
  void publish(const std::string& topic, std::string data) override {
    caf::anon_send(hub_, atoms::publish_atom_v, topic, std::move(data));
  }

 private:
  hub_actor hub_;
};

class runtime_impl final : public runtime {
 public:
  runtime_impl(const runtime_options& opts, storage::env& env)
      : env_(env),
        cfg_(opts.workers),
        sys_(cfg_),
        writer_actor_(spawn_storage_writer(sys_, env)),
        bridge_(sys_.spawn(writer_bridge, writer_actor_)),
        hub_actor_(spawn_hub(sys_)),
        writer_(bridge_),
        hub_(hub_actor_) {}

  bool start_kb(const runtime_options& opts, storage::env& env, const wall_clock& clock, std::string& error) {
    if (opts.kb_index_dir.empty()) return true;
#if HOTLINE_HAVE_KB
    kb_ = kb::start_service(sys_, env, writer_actor_, writer_, clock, {opts.kb_index_dir, opts.kb_searchers}, error);
#else
    (void)env, (void)clock;
    error = "built without the knowledge base";
#endif
    return kb_ != nullptr;
  }

  ~runtime_impl() override { shutdown(5000); }

  kb::service* knowledge_base() override { return kb_.get(); }

  std::unique_ptr<calls::center> start_calls(media::engine& media, const prompt::prompt_library& prompts,
                                             calls::center_options options, std::string& error) override {
    calls::center_deps deps{sys_, media, prompts, writer_, hub_, &env_};
    return calls::make_center(deps, std::move(options), error);
  }

  std::unique_ptr<console::service> start_consoles(console::options options) override {
    return console::make_service(sys_, env_, writer_, hub_, std::move(options));
  }

  durable_writer& writer() override { return writer_; }
  event_hub& hub() override { return hub_; }

  caf::actor_system& system() override { return sys_; }

  bool sync_hub(int timeout_ms) override {
    bool ok = false;
    caf::scoped_actor self{sys_};
    self->request(hub_actor_, std::chrono::milliseconds(timeout_ms), atoms::sync_atom_v)
        .receive([&](bool) { ok = true; }, [](caf::error&) {});
    return ok;
  }

  bool shutdown(int timeout_ms) override {
    if (stopped_) return true;
    stopped_ = true;
    kb_.reset();  // stops the KB actors; their queued steps are dropped, committed ones stay
    bool drained = true;
    {
      caf::scoped_actor self{sys_};
      self->request(writer_actor_, std::chrono::milliseconds(timeout_ms), atoms::sync_atom_v)
          .receive([](uint64_t) {},
                   [&](caf::error& e) {
                     drained = false;
                     log::error("storage", "final commit failed", {{"error", sys_.render(e)}});
                   });
    }
    for (const caf::actor& a : {caf::actor_cast<caf::actor>(writer_actor_), bridge_,
                                caf::actor_cast<caf::actor>(hub_actor_)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    return drained;
  }

 private:
  storage::env& env_;
  system_config cfg_;
  caf::actor_system sys_;
  storage_writer writer_actor_;
  caf::actor bridge_;
  hub_actor hub_actor_;
  writer_facade writer_;
  hub_facade hub_;
  std::unique_ptr<kb::service> kb_;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<runtime> runtime::start(const runtime_options& opts, storage::env& env) {
  static const system_wall_clock clock;
  std::string error;
  auto plain = opts;
  plain.kb_index_dir.clear();
  return start(plain, env, clock, error);
}

std::unique_ptr<runtime> runtime::start(const runtime_options& opts, storage::env& env, const wall_clock& clock,
                                        std::string& error) {
  auto rt = std::make_unique<runtime_impl>(opts, env);
  if (!rt->start_kb(opts, env, clock, error)) return nullptr;
  return rt;
}

}  // namespace hotline::actors
