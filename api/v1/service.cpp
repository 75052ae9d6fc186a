#include "api/v1/service.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <mutex>
#include <set>

#include "api/http/assets.hpp"
#include "api/http/json_body.hpp"
#include "api/v1/call_routes.hpp"
#include "api/v1/router.hpp"
#if HOTLINE_HAVE_KB
#include "api/v1/kb_routes.hpp"
#endif
#include "actors/console/console.hpp"
#include "api/ws/protocol.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::api {

namespace json = boost::json;
using auth::principal;
using auth::role;

namespace {

constexpr std::string_view version = "0.1.0";

api_error unauthorized() { return {401, "unauthorized", "log in first: send 'Authorization: Bearer <token>'"}; }

std::string session_cookie(const std::string& token, uint32_t ttl_minutes, bool secure) {
  return "hotline_session=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(uint64_t{ttl_minutes} * 60) + (secure ? "; Secure" : "");
}

// Who may listen to which topic. Topics of later modules (queues, agents, calls) are
// added here with their rules; an unknown topic is refused, not silently empty.
// Both carry this node's site only (N-60: a node is one site): a user of another site
// may not listen, whatever their role.
std::optional<api_error> topic_policy(const principal& p, std::string_view topic, const std::string& node_site) {
  if (topic == "system") return std::nullopt;
  if (topic == "phones") {  // SIP registrations of agents' phones (api/sip/edge.cpp)
    if (!(p.is_admin() || p.has(auth::role::supervisor))) return forbidden("the phones topic is for supervisors and admins");
    if (!p.may_see_site(node_site)) return forbidden("the phones topic is for this site's supervisors and admins");
    return std::nullopt;
  }
  if (topic == "audit") {
    if (!p.is_admin()) return forbidden("the audit topic is for site and province admins");
    if (!p.may_see_site(node_site)) return forbidden("the audit topic is for this site's admins");
    return std::nullopt;
  }
  return api_error{404, "unknown_topic", "no such topic '" + std::string(topic) + "'", "topic"};
}

console::user console_user(const principal& p, const std::optional<auth::user>& account) {
  console::user u;
  u.username = p.username;
  if (account) {
    u.display_name = account->display_name;
    u.work_id = account->work_id;
  }
  u.site = p.site;
  u.supervisor = p.is_admin() || p.has(role::supervisor);
  u.agent = p.has(role::agent);
  u.province = p.has(role::province_admin);
  return u;
}

// One authenticated /ws connection: topics, and at most one console.
class console_ws final : public ws_endpoint {
 public:
  console_ws(principal who, console::user as_console, std::weak_ptr<ws_connection> conn, actors::event_hub& hub,
             size_t max_topics, std::atomic<console::service*>& consoles, std::string node_site,
             const auth::accounts& accounts, std::string token)
      : who_(std::move(who)),
        console_user_(std::move(as_console)),
        conn_(std::move(conn)),
        hub_(hub),
        max_topics_(max_topics),
        consoles_(consoles),
        node_site_(std::move(node_site)),
        accounts_(accounts),
        token_(std::move(token)) {}

  void on_text(std::string_view text) override {
    auto conn = conn_.lock();
    if (!conn) return;
    // The session is checked again at every message (the consoles ping every 25 s): a
    // logout, an expiry or a disabled account ends the socket too, listen-in included.
    if (!accounts_.authenticate(token_)) {
      session_.reset();
      return conn->close(1008, "the session has ended: log in again");
    }
    auto msg = ws::decode(text);
    if (auto* e = error_of(msg)) return reply(*conn, error_with_id(text, *e));
    std::visit([&](auto& m) { handle(*conn, m); }, std::get<ws::client_message>(msg));
  }

  void on_binary(std::string frame) override {
    if (session_) session_->on_audio(std::move(frame));
  }

  void on_close() override {
    if (auto conn = conn_.lock()) hub_.drop(conn->id());
    topics_.clear();
    session_.reset();
  }

 private:
  void reply(ws_connection& c, std::string frame) { c.send(std::make_shared<const std::string>(std::move(frame))); }

  void handle(ws_connection& c, const ws::subscribe& m) {
    if (auto err = topic_policy(who_, m.topic, node_site_)) return reply(c, ws::error_frame(*err));
    if (!topics_.count(m.topic) && topics_.size() >= max_topics_)
      return reply(c, ws::error_frame({429, "too_many_topics", "at most " + std::to_string(max_topics_) + " topics"}));
    topics_.insert(m.topic);
    // Confirm first: the hub's events for this topic can only follow this frame.
    reply(c, json::serialize(json::object{{"type", "subscribed"}, {"topic", m.topic}}));
    if (auto conn = conn_.lock()) hub_.subscribe(m.topic, conn);
  }
  void handle(ws_connection& c, const ws::unsubscribe& m) {
    topics_.erase(m.topic);
    hub_.unsubscribe(m.topic, c.id());
    reply(c, json::serialize(json::object{{"type", "unsubscribed"}, {"topic", m.topic}}));
  }
  void handle(ws_connection& c, const ws::ping& m) {
    reply(c, json::serialize(json::object{{"type", "pong"}, {"id", m.id}}));
  }
  void handle(ws_connection& c, console::hello& h) {
    if (session_) return reply(c, ws::error_frame({409, "already_open", "this connection already has a console"}));
    auto* consoles = consoles_.load();
    auto refuse = [&](const api_error& e) {
      auto frame = json::parse(ws::error_frame(e)).as_object();
      frame["for"] = "hello";
      reply(c, json::serialize(frame));
    };
    if (!consoles) return refuse({503, "unavailable", "the contact center is not running on this node"});
    auto opened = consoles->open(console_user_, h, conn_);
    if (auto* e = std::get_if<console::open_error>(&opened)) return refuse({e->status, e->code, e->message});
    session_ = std::move(std::get<std::unique_ptr<console::session>>(opened));
  }
  void handle(ws_connection& c, console::command& cmd) {
    if (!session_) {
      auto id = std::visit([](auto& x) { return x.id; }, cmd);
      json::object r{{"type", "result"}, {"id", id}, {"ok", false},
                     {"error", json::object{{"code", "no_console"}, {"message", "send hello first"}}}};
      return reply(c, json::serialize(r));
    }
    session_->on_command(std::move(cmd));
  }

  // A command that does not decode is answered as its result when it carries an id.
  static std::string error_with_id(std::string_view text, const api_error& e) {
    json::error_code ec;
    auto v = json::parse(text, ec);
    if (!ec && v.is_object())
      if (auto* id = v.as_object().if_contains("id"); id && id->is_int64()) {
        json::object err{{"code", e.code}, {"message", e.message}};
        if (!e.field.empty()) err["field"] = e.field;
        return json::serialize(json::object{{"type", "result"}, {"id", id->as_int64()}, {"ok", false}, {"error", err}});
      }
    return ws::error_frame(e);
  }

  principal who_;
  console::user console_user_;
  std::weak_ptr<ws_connection> conn_;
  actors::event_hub& hub_;
  size_t max_topics_;
  std::atomic<console::service*>& consoles_;
  std::string node_site_;
  const auth::accounts& accounts_;
  std::string token_;
  std::set<std::string> topics_;  // I/O thread only
  std::unique_ptr<console::session> session_;  // I/O thread only
};

}  // namespace

struct api_service::impl {
  service_deps d;
  std::atomic<console::service*> consoles{nullptr};

  router routes{[this](const request& req) { return d.accounts.authenticate(req.token()); }};

  explicit impl(service_deps deps) : d(deps) {
    auto bind = [this](void (impl::*fn)(const request&, const principal*, respond_fn&)) {
      return [this, fn](call& c) { (this->*fn)(c.req, c.who, c.respond); };
    };
    routes.add("GET", "/healthz", false, bind(&impl::healthz));
    routes.add("GET", "/metrics", false, bind(&impl::metrics));
    routes.add("POST", "/v1/auth/login", false, bind(&impl::login));
    routes.add("POST", "/v1/auth/logout", true, bind(&impl::logout));
    routes.add("GET", "/v1/me", true, bind(&impl::me));
    routes.add("GET", "/v1/users", true, bind(&impl::list_users));
    routes.add("POST", "/v1/users", true, bind(&impl::create_user));
    routes.add("PUT", "/v1/users/{}/password", true, [this](call& c) { set_password(c); });
    routes.add("GET", "/v1/audit", true, bind(&impl::audit));
    routes.add("GET", "/v1/phrases", true, [](call& c) { serve_asset(c, "v1/phrases.json"); });
    add_call_routes(routes, d.env, d.cfg, d.accounts, d.audit);
    // The web console (plain files built into the binary, or from http.web_root). The
    // router ignores a trailing slash, so "/console/" is the "/console" route.
    auto to_index = [](call& c) { c.respond({302, "text/plain", "", {{"Location", "/console/index.html"}}}); };
    routes.add("GET", "/", false, to_index);
    routes.add("GET", "/console", false, to_index);
    routes.add("GET", "/console/{}", false, [this](call& c) { serve_console_file(c, c.params[0]); });
#if HOTLINE_HAVE_KB
    if (d.kb) add_kb_routes(routes, *d.kb, d.env, d.cfg);
#endif
  }

  // http.web_root (development): the files on disk, else the built-in copy.
  void serve_console_file(call& c, const std::string& name) {
    const auto& root = d.cfg.http.web_root;
    if (root.empty()) return serve_asset(c, "console/" + name);
    bool plain = !name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
                 name.find('\\') == std::string::npos;
    std::ifstream in(root + "/" + name, std::ios::binary);
    if (!plain || !in) return c.fail({404, "not_found", "no such file '" + c.req.path + "'"});
    std::stringstream body;
    body << in.rdbuf();
    response r{200, std::string(content_type_of(name)), body.str(), {{"Cache-Control", "no-cache"}}};
    c.respond(std::move(r));
  }

  static void serve_asset(call& c, const std::string& path) {
    const auto* a = find_asset(path);
    if (!a) return c.fail({404, "not_found", "no such file '" + c.req.path + "'"});
    response r{200, std::string(a->content_type), std::string(a->body), {}};
    // The console is small and changes with the binary: always revalidate.
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    c.respond(std::move(r));
  }

  void healthz(const request&, const principal*, respond_fn& respond) {
    auto txn = d.env.read();
    bool ok = txn.ok();
    respond(response::json(ok ? 200 : 503, json::serialize(json::object{
                                               {"status", ok ? "ok" : "storage_unavailable"},
                                               {"version", version},
                                               {"site", d.cfg.server.site}})));
  }

  void metrics(const request& req, const principal*, respond_fn& respond) {
    // Prometheus scrapes with a static bearer token; without one configured, only from
    // this host. Either way an admin session may read it too.
    auto token = req.token();
    bool allowed = !d.cfg.metrics.token.empty() ? token == d.cfg.metrics.token
                                                : req.remote_ip() == "127.0.0.1" || req.remote_ip() == "::1";
    if (!allowed) {
      auto who = d.accounts.authenticate(token);
      allowed = who && who->is_admin();
    }
    if (!allowed) return respond(response::error(unauthorized()));
    respond({200, "text/plain; version=0.0.4", d.metrics.render(d.env), {}});
  }

  void login(const request& req, const principal*, respond_fn& respond) {
    auto body = parse_object(req.body);
    if (auto* e = error_of(body)) return respond(response::error(*e));
    field_reader r{std::get<json::object>(body)};
    r.only({"username", "password"});
    auto username = r.string("username", true, 64);
    auto password = r.string("password", true, 256);
    if (r.error) return respond(response::error(*r.error));
    auto ttl = d.cfg.auth.session_ttl_minutes;
    bool secure = req.secure;
    d.accounts.login(std::move(*username), std::move(*password), req.remote,
                     [respond, ttl, secure](result<auth::login_ok> res) {
                       if (auto* e = error_of(res)) return respond(response::error(*e));
                       auto& ok = std::get<auth::login_ok>(res);
                       auto user = json::parse(ok.who.public_json());
                       auto out = response::json(
                           200, json::serialize(json::object{{"token", ok.token},
                                                             {"expires_ms", ok.expires_ms},
                                                             {"user", user}}));
                       out.headers.emplace_back("Set-Cookie", session_cookie(ok.token, ttl, secure));
                       respond(std::move(out));
                     });
  }

  void logout(const request& req, const principal* who, respond_fn& respond) {
    d.accounts.logout(*who, req.remote, [respond](std::optional<api_error> err) {
      if (err) return respond(response::error(*err));
      auto out = response::no_content();
      out.headers.emplace_back("Set-Cookie", "hotline_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
      respond(std::move(out));
    });
  }

  void me(const request&, const principal* who, respond_fn& respond) {
    auto u = d.accounts.find(who->username);
    if (!u) return respond(response::error(unauthorized()));
    respond(response::json(200, u->public_json()));
  }

  void list_users(const request& req, const principal* who, respond_fn& respond) {
    if (!who->is_admin() && !who->has(role::supervisor))
      return respond(response::error(forbidden("listing users needs a supervisor or admin role")));
    auto limit = limit_param(req, 50, 500);
    auto it = req.query.find("cursor");
    auto users = d.accounts.list(*who, it == req.query.end() ? "" : it->second, limit + 1);
    std::string next;
    if (users.size() > limit) {
      users.resize(limit);
      next = users.back().username;
    }
    json::array items;
    for (auto& u : users) items.push_back(json::parse(u.public_json()));
    json::object out{{"items", std::move(items)}};
    out["next_cursor"] = next.empty() ? json::value(nullptr) : json::value(next);
    respond(response::json(200, json::serialize(out)));
  }

  void create_user(const request& req, const principal* who, respond_fn& respond) {
    auto body = parse_object(req.body);
    if (auto* e = error_of(body)) return respond(response::error(*e));
    field_reader r{std::get<json::object>(body)};
    r.only({"username", "password", "display_name", "work_id", "site", "roles"});
    auth::new_user nu;
    nu.username = r.string("username", true, 64).value_or("");
    nu.password = r.string("password", true, 256).value_or("");
    nu.display_name = r.string("display_name", false, 128).value_or("");
    nu.work_id = r.string("work_id", false, 16).value_or("");
    nu.site = r.string("site", false, 64).value_or(who->site);
    auto roles = r.strings("roles", true, 8);
    if (r.error) return respond(response::error(*r.error));
    for (auto& name : *roles) {
      auto role = auth::parse_role(name);
      if (!role)
        return respond(response::error(bad_request("invalid_value", "unknown role '" + name + "'", "roles")));
      nu.roles |= 1u << static_cast<unsigned>(*role);
    }
    d.accounts.create(*who, std::move(nu), req.remote, [respond](result<auth::user> res) {
      if (auto* e = error_of(res)) return respond(response::error(*e));
      respond(response::json(201, std::get<auth::user>(res).public_json()));
    });
  }

  void set_password(call& c) {
    const auto& req = c.req;
    const auto* who = c.who;
    auto& respond = c.respond;
    const auto& path_param = c.params[0];
    auto body = parse_object(req.body);
    if (auto* e = error_of(body)) return respond(response::error(*e));
    field_reader r{std::get<json::object>(body)};
    r.only({"password", "old_password"});
    auto password = r.string("password", true, 256);
    auto old_password = r.string("old_password", who->username == path_param, 256);
    if (r.error) return respond(response::error(*r.error));
    d.accounts.set_password(*who, path_param, old_password.value_or(""), std::move(*password), req.remote,
                            [respond](std::optional<api_error> err) {
                              respond(err ? response::error(*err) : response::no_content());
                            });
  }

  void audit(const request& req, const principal* who, respond_fn& respond) {
    if (!who->is_admin()) return respond(response::error(forbidden("the audit log is for site and province admins")));
    auto limit = limit_param(req, 50, 500);
    std::string before;
    if (auto it = req.query.find("cursor"); it != req.query.end()) {
      uint64_t id = 0;
      for (char c : it->second) {
        if (c < '0' || c > '9')
          return respond(response::error(bad_request("invalid_value", "cursor must be an audit id", "cursor")));
        id = id * 10 + static_cast<uint64_t>(c - '0');
      }
      before = storage::be64(id);
    }
    json::array items;
    std::string last_id;
    auto txn = d.env.read();
    txn.scan_reverse(storage::table::audit, before, [&](std::string_view, std::string_view v) {
      auto rec = storage::decode_record(v);
      if (!rec) return true;
      auto* site = rec->if_contains("site");
      std::string_view s = site && site->is_string() ? std::string_view(site->as_string()) : "";
      if (!who->may_see_site(s) && !s.empty()) return true;
      rec->erase("v");
      if (auto* id = rec->if_contains("id"); id && id->is_string()) last_id = std::string(id->as_string());
      items.push_back(std::move(*rec));
      return items.size() < limit;
    });
    bool more = items.size() == limit;
    json::object out{{"items", std::move(items)}};
    out["next_cursor"] = more ? json::value(last_id) : json::value(nullptr);
    respond(response::json(200, json::serialize(out)));
  }
};

api_service::api_service(service_deps deps) : impl_(std::make_unique<impl>(deps)) {}
api_service::~api_service() = default;

void api_service::attach_consoles(console::service* consoles) { impl_->consoles.store(consoles); }

void api_service::handle(request req, respond_fn respond) {
  auto start = std::chrono::steady_clock::now();
  auto& m = impl_->d.metrics;
  impl_->routes.dispatch(req, [respond = std::move(respond), start, &m](response res) {
    m.count_response(res.status);
    m.request_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    respond(std::move(res));
  });
}

result<std::unique_ptr<ws_endpoint>> api_service::accept(const request& req, std::weak_ptr<ws_connection> conn) {
  auto who = impl_->d.accounts.authenticate(req.token());
  if (!who) return unauthorized();
  return std::unique_ptr<ws_endpoint>(
      std::make_unique<console_ws>(*who, console_user(*who, impl_->d.accounts.find(who->username)), std::move(conn),
                                   impl_->d.hub, 64, impl_->consoles, impl_->d.cfg.server.site, impl_->d.accounts,
                                   req.token()));
}

}  // namespace hotline::api
