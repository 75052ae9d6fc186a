// The consoles' facade (console.hpp): opens a supervisor or agent session per /ws console.
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "actors/console/internal.hpp"

namespace hotline::console {

namespace json = boost::json;

namespace {

class session_impl final : public session {
 public:
  explicit session_impl(caf::actor a) : actor_(std::move(a)) {}
  ~session_impl() override { caf::anon_send(actor_, stop_msg{}); }
  void on_command(command c) override { caf::anon_send(actor_, command_msg{std::move(c)}); }
  void on_audio(std::string frame) override { caf::anon_send(actor_, audio_msg{std::move(frame)}); }

 private:
  caf::actor actor_;
};

class service_impl final : public service {
 public:
  service_impl(std::shared_ptr<console_context> ctx, actors::event_hub& hub) : ctx_(std::move(ctx)), hub_(hub) {
    ctx_->floor = spawn_floor(ctx_, hub_);
  }
  // Stops every console's actor (a monitor in progress is ended and audited) while the
  // center still runs, then the floor.
  ~service_impl() override {
    std::vector<caf::actor> open;
    {
      std::lock_guard lock(ctx_->sessions_mutex);
      for (auto& [id, a] : ctx_->sessions) open.push_back(a);
    }
    for (auto& a : open) caf::anon_send(a, stop_msg{});
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (ctx_->supervisors.load() + ctx_->agents.load() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    {
      std::lock_guard lock(ctx_->sessions_mutex);
      ctx_->sessions.clear();
    }
    hub_.drop(floor_subscriber_id);
    caf::anon_send_exit(ctx_->floor, caf::exit_reason::user_shutdown);
    ctx_->floor = caf::actor{};
  }

  std::variant<std::unique_ptr<session>, open_error> open(const user& who, const hello& h,
                                                          std::weak_ptr<actors::subscriber> conn) override {
    if (h.version != 1) return open_error{400, "unsupported_version", "this server speaks console protocol v1"};
    auto c = conn.lock();
    if (!c) return open_error{410, "closed", "the connection is closed"};
    if (!ctx_->center) return open_error{503, "unavailable", "the contact center is starting"};
    bool supervisor = h.console == "supervisor";
    if (supervisor) {
      if (!who.supervisor) return open_error{403, "forbidden", "the supervisor console needs a supervisor or admin role"};
      if (!who.province && who.site != ctx_->opt.site)
        return open_error{403, "forbidden", "this node serves site '" + ctx_->opt.site + "', not '" + who.site + "'"};
    } else if (h.console == "agent") {
      if (!who.agent || who.work_id.empty())
        return open_error{403, "forbidden", "the agent console needs the agent role and a work id"};
    } else {
      return open_error{400, "invalid_value", "console must be 'supervisor' or 'agent'"};
    }
    // The welcome goes out before the session's first frame (the snapshot or the agent).
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    c->deliver(std::make_shared<const std::string>(json::serialize(json::object{
        {"type", "welcome"},
        {"v", 1},
        {"console", h.console},
        {"server_ms", now.count()},
        {"site", ctx_->opt.site},
        {"user",
         json::object{{"username", who.username}, {"display_name", who.display_name}, {"work_id", who.work_id},
                      {"site", who.site}}}})));
    auto actor = supervisor ? spawn_supervisor(ctx_, who, c, h) : spawn_agent(ctx_, who, c);
    return std::unique_ptr<session>(std::make_unique<session_impl>(std::move(actor)));
  }

  void attach(calls::center* center) override { ctx_->center = center; }

  std::pair<size_t, size_t> sessions() const override { return {ctx_->supervisors.load(), ctx_->agents.load()}; }

 private:
  std::shared_ptr<console_context> ctx_;
  actors::event_hub& hub_;
};

}  // namespace

std::unique_ptr<service> make_service(caf::actor_system& sys, storage::env& env, actors::durable_writer& writer,
                                      actors::event_hub& hub, options opt) {
  auto ctx = std::make_shared<console_context>(sys, env, writer, std::move(opt));
  return std::make_unique<service_impl>(std::move(ctx), hub);
}

}  // namespace hotline::console
