#include "api/auth/accounts.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "api/auth/password.hpp"
#include "storage/record.hpp"

namespace hotline::auth {

namespace json = boost::json;
using api::api_error;
using api::bad_request;

std::string_view to_string(role r) {
  switch (r) {
    case role::agent: return "agent";
    case role::supervisor: return "supervisor";
    case role::curator: return "curator";
    case role::expert: return "expert";
    case role::site_admin: return "site_admin";
    case role::province_admin: return "province_admin";
  }
  return "?";
}

std::optional<role> parse_role(std::string_view s) {
  for (auto r : all_roles)
    if (to_string(r) == s) return r;
  return std::nullopt;
}

namespace {

constexpr int user_schema = 1;
constexpr int session_schema = 1;

json::array roles_json(uint32_t roles) {
  json::array a;
  for (auto r : all_roles)
    if (roles & (1u << static_cast<unsigned>(r))) a.emplace_back(to_string(r));
  return a;
}

uint32_t roles_from(const json::value* v) {
  uint32_t out = 0;
  if (!v || !v->is_array()) return 0;
  for (auto& e : v->as_array())
    if (e.is_string())
      if (auto r = parse_role(std::string_view(e.as_string()))) out |= 1u << static_cast<unsigned>(*r);
  return out;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
uint64_t num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (v && v->is_uint64()) return v->as_uint64();
  return v && v->is_int64() && v->as_int64() > 0 ? static_cast<uint64_t>(v->as_int64()) : 0;
}

std::string encode_user(const user& u) {
  json::object o{{"username", u.username},
                 {"display_name", u.display_name},
                 {"work_id", u.work_id},
                 {"site", u.site},
                 {"roles", roles_json(u.roles)},
                 {"password_hash", u.password_hash},
                 {"failed_logins", u.failed_logins},
                 {"locked_until_ms", u.locked_until_ms},
                 {"created_ms", u.created_ms},
                 {"disabled", u.disabled}};
  return storage::encode_record(std::move(o), user_schema);
}

std::optional<user> decode_user(std::string_view bytes) {
  auto o = storage::decode_record(bytes);
  if (!o) return std::nullopt;
  user u;
  u.username = str(*o, "username");
  u.display_name = str(*o, "display_name");
  u.work_id = str(*o, "work_id");
  u.site = str(*o, "site");
  u.roles = roles_from(o->if_contains("roles"));
  u.password_hash = str(*o, "password_hash");
  u.failed_logins = static_cast<uint32_t>(num(*o, "failed_logins"));
  u.locked_until_ms = num(*o, "locked_until_ms");
  u.created_ms = num(*o, "created_ms");
  auto* d = o->if_contains("disabled");
  u.disabled = d && d->is_bool() && d->as_bool();
  return u;
}

bool valid_username(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

// A fixed pool of threads for password hashing, with a bounded queue.
class kdf_pool {
 public:
  kdf_pool(size_t threads, size_t limit) : limit_(limit) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
  }
  ~kdf_pool() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  bool submit(std::function<void()> job) {
    {
      std::lock_guard lock(m_);
      if (jobs_.size() >= limit_) return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by m_
  bool stop_ = false;                       // guarded by m_
  size_t limit_;
  std::vector<std::thread> workers_;
};

api_error busy() { return {503, "busy", "too many password checks in progress; try again in a moment"}; }
api_error storage_failed(std::error_code ec) {
  return {503, "storage_unavailable", "could not save: " + ec.message()};
}

}  // namespace

std::string user::public_json() const {
  json::object o{{"username", username}, {"display_name", display_name}, {"work_id", work_id},
                 {"site", site},         {"roles", roles_json(roles)},   {"disabled", disabled},
                 {"created_ms", created_ms}, {"locked_until_ms", locked_until_ms}};
  return json::serialize(o);
}

struct accounts::impl {
  storage::env& env;
  actors::durable_writer& writer;
  audit_log& audit;
  const wall_clock& clock;
  accounts_options opts;
  std::string dummy_hash;  // verified against for unknown users: same timing as a real check
  std::mutex failures_mutex;
  std::unordered_map<std::string, uint32_t> failures;  // in-flight failed attempts; guarded
  kdf_pool pool;

  impl(storage::env& e, actors::durable_writer& w, audit_log& a, const wall_clock& c, accounts_options o)
      : env(e), writer(w), audit(a), clock(c), opts(o), dummy_hash(hash_password("x", o.kdf_iterations)),
        pool(o.kdf_threads, o.kdf_queue_limit) {}

  // Writes `batch` with `audit_entries` and publishes them once durable.
  void commit(storage::write_batch batch, std::vector<std::string> audit_entries,
              std::function<void(std::error_code)> done) {
    writer.write(std::move(batch), [this, entries = std::move(audit_entries), done = std::move(done)](
                                       std::error_code ec, uint64_t) {
      if (!ec)
        for (auto e : entries) audit.publish(std::move(e));
      done(ec);
    });
  }

  void check_password(std::string username, std::string password, std::string remote,
                      std::function<void(api::result<login_ok>)> done);
};

accounts::accounts(storage::env& env, actors::durable_writer& writer, audit_log& audit, const wall_clock& clock,
                   accounts_options opts)
    : impl_(std::make_unique<impl>(env, writer, audit, clock, opts)) {}

accounts::~accounts() = default;

std::optional<principal> accounts::authenticate(std::string_view token) const {
  if (token.empty() || token.size() > 128) return std::nullopt;
  auto key = sha256(token);
  auto txn = impl_->env.read();
  auto bytes = txn.get(storage::table::sessions, key);
  if (!bytes) return std::nullopt;
  auto o = storage::decode_record(*bytes);
  if (!o) return std::nullopt;
  principal p{str(*o, "username"), str(*o, "site"), roles_from(o->if_contains("roles")), key, num(*o, "expires_ms")};
  if (p.expires_ms <= impl_->clock.now_ms()) return std::nullopt;
  // A disabled user or changed roles take effect at once, not at session expiry.
  auto u = txn.get(storage::table::users, p.username);
  auto current = u ? decode_user(*u) : std::nullopt;
  if (!current || current->disabled) return std::nullopt;
  p.roles = current->roles;
  p.site = current->site;
  return p;
}

std::optional<user> accounts::find(std::string_view username) const {
  auto txn = impl_->env.read();
  auto bytes = txn.get(storage::table::users, username);
  return bytes ? decode_user(*bytes) : std::nullopt;
}

bool accounts::any_users() const { return impl_->env.read().count(storage::table::users) > 0; }

std::vector<user> accounts::list(const principal& by, std::string_view after, size_t limit) const {
  std::vector<user> out;
  auto txn = impl_->env.read();
  std::string from = after.empty() ? std::string() : std::string(after) + '\0';
  txn.scan(storage::table::users, from, {}, [&](std::string_view, std::string_view v) {
    if (auto u = decode_user(v); u && by.may_see_site(u->site)) out.push_back(std::move(*u));
    return out.size() < limit;
  });
  return out;
}

std::optional<api_error> accounts::validate(const new_user& u) {
  if (!valid_username(u.username))
    return bad_request("invalid_value", "username must be 1-64 letters, digits, '.', '_' or '-'", "username");
  if (u.password.size() < 10 || u.password.size() > 256)
    return bad_request("weak_password", "password must be 10 to 256 characters", "password");
  if (u.roles == 0) return bad_request("invalid_value", "a user needs at least one role", "roles");
  if (u.site.empty() || u.site.size() > 64) return bad_request("invalid_value", "site is required", "site");
  if (u.display_name.size() > 128) return bad_request("invalid_value", "display_name is too long", "display_name");
  if (u.work_id.size() > 16) return bad_request("invalid_value", "work_id is at most 16 characters", "work_id");
  return std::nullopt;
}

void accounts::impl::check_password(std::string username, std::string password, std::string remote,
                                    std::function<void(api::result<login_ok>)> done) {
  auto now = clock.now_ms();
  auto txn_user = [&]() -> std::optional<user> {
    auto txn = env.read();
    auto bytes = txn.get(storage::table::users, username);
    return bytes ? decode_user(*bytes) : std::nullopt;
  }();
  storage::write_batch batch;
  audit_event ev{"-", "login.failed", username, remote, txn_user ? txn_user->site : "", false, {}};
  auto invalid = api_error{401, "invalid_credentials", "invalid username or password"};

  if (!txn_user || txn_user->disabled) {
    verify_password(password, dummy_hash);  // same cost as a real check: no user oracle
    auto entry = audit.append(batch, ev);
    commit(std::move(batch), {entry}, [done, invalid](std::error_code) { done(invalid); });
    return;
  }
  user u = std::move(*txn_user);
  if (u.locked_until_ms > now) {
    ev.action = "login.refused_locked";
    auto entry = audit.append(batch, ev);
    auto err = api_error{423, "locked", "account locked after repeated failed logins; try again later"};
    commit(std::move(batch), {entry}, [done, err](std::error_code) { done(err); });
    return;
  }
  if (!verify_password(password, u.password_hash)) {
    uint32_t failed;
    {
      std::lock_guard lock(failures_mutex);
      auto& f = failures[u.username];
      f = std::max(f, u.failed_logins) + 1;
      failed = f;
    }
    u.failed_logins = failed;
    std::vector<std::string> entries{audit.append(batch, ev)};
    if (failed >= opts.lockout_after) {
      u.locked_until_ms = now + uint64_t{opts.lockout_minutes} * 60'000;
      u.failed_logins = 0;
      {
        std::lock_guard lock(failures_mutex);
        failures.erase(u.username);
      }
      audit_event locked{"-", "login.locked", u.username, remote, u.site, false,
                         {{"minutes", opts.lockout_minutes}, {"after_failures", failed}}};
      entries.push_back(audit.append(batch, locked));
    }
    batch.put(storage::table::users, u.username, encode_user(u));
    commit(std::move(batch), std::move(entries), [done, invalid](std::error_code) { done(invalid); });
    return;
  }
  {
    std::lock_guard lock(failures_mutex);
    failures.erase(u.username);
  }
  u.failed_logins = 0;
  u.locked_until_ms = 0;
  if (needs_rehash(u.password_hash, opts.kdf_iterations)) u.password_hash = hash_password(password, opts.kdf_iterations);
  batch.put(storage::table::users, u.username, encode_user(u));
  login_ok ok{random_token(32), now + uint64_t{opts.session_ttl_minutes} * 60'000, u};
  json::object s{{"username", u.username}, {"site", u.site}, {"roles", roles_json(u.roles)},
                 {"created_ms", now},      {"expires_ms", ok.expires_ms}, {"remote", remote}};
  batch.put(storage::table::sessions, sha256(ok.token), storage::encode_record(std::move(s), session_schema));
  ev.actor = u.username;
  ev.action = "login.ok";
  ev.ok = true;
  auto entry = audit.append(batch, ev);
  commit(std::move(batch), {entry}, [done, ok = std::move(ok)](std::error_code ec) {
    if (ec) done(storage_failed(ec));
    else done(ok);
  });
}

void accounts::login(std::string username, std::string password, std::string remote,
                     std::function<void(api::result<login_ok>)> done) {
  auto* self = impl_.get();
  bool queued = self->pool.submit([self, username = std::move(username), password = std::move(password),
                                   remote = std::move(remote), done]() mutable {
    self->check_password(std::move(username), std::move(password), std::move(remote), std::move(done));
  });
  if (!queued) done(busy());
}

void accounts::logout(const principal& who, std::string remote, std::function<void(std::optional<api_error>)> done) {
  storage::write_batch batch;
  batch.erase(storage::table::sessions, who.token_hash);
  auto entry = impl_->audit.append(batch, {who.username, "logout", who.username, remote, who.site, true, {}});
  impl_->commit(std::move(batch), {entry}, [done](std::error_code ec) {
    done(ec ? std::optional<api_error>(storage_failed(ec)) : std::nullopt);
  });
}

void accounts::create(const principal& by, new_user nu, std::string remote, std::function<void(api::result<user>)> done) {
  if (!by.is_admin()) return done(api_error{403, "forbidden", "only site or province admins create users"});
  if (auto err = validate(nu)) return done(*err);
  if (!by.may_see_site(nu.site))
    return done(api_error{403, "forbidden", "a site admin creates users of their own site only", "site"});
  if ((nu.roles & (1u << static_cast<unsigned>(role::province_admin))) && !by.has(role::province_admin))
    return done(api_error{403, "forbidden", "only a province admin grants province_admin", "roles"});
  auto* self = impl_.get();
  bool queued = self->pool.submit([self, by, nu = std::move(nu), remote = std::move(remote), done]() mutable {
    user u{nu.username, nu.display_name, nu.work_id, nu.site, nu.roles,
           hash_password(nu.password, self->opts.kdf_iterations)};
    u.created_ms = self->clock.now_ms();
    storage::write_batch batch;
    batch.put_new(storage::table::users, u.username, encode_user(u));
    auto entry = self->audit.append(batch, {by.username, "user.create", u.username, remote, u.site, true,
                                            {{"roles", roles_json(u.roles)}}});
    self->commit(std::move(batch), {entry}, [done, u](std::error_code ec) {
      if (ec == storage::errc::key_exists) done(api_error{409, "exists", "a user with that name exists", "username"});
      else if (ec) done(storage_failed(ec));
      else done(u);
    });
  });
  if (!queued) done(busy());
}

void accounts::set_password(const principal& by, std::string username, std::string old_password,
                            std::string new_password, std::string remote,
                            std::function<void(std::optional<api_error>)> done) {
  auto current = find(username);
  if (!current || !by.may_see_site(current->site)) return done(api_error{404, "not_found", "no such user"});
  bool self_change = by.username == username;
  if (!self_change && !by.is_admin()) return done(api_error{403, "forbidden", "you may change only your own password"});
  if (new_password.size() < 10 || new_password.size() > 256)
    return done(bad_request("weak_password", "password must be 10 to 256 characters", "password"));
  auto* self = impl_.get();
  bool queued = self->pool.submit([self, by, self_change, u = std::move(*current), old_password = std::move(old_password),
                                   new_password = std::move(new_password), remote = std::move(remote),
                                   done]() mutable {
    if (self_change && !verify_password(old_password, u.password_hash))
      return done(api_error{403, "invalid_credentials", "the current password is wrong", "old_password"});
    u.password_hash = hash_password(new_password, self->opts.kdf_iterations);
    u.failed_logins = 0;
    u.locked_until_ms = 0;  // an admin reset also lifts a lockout
    storage::write_batch batch;
    batch.put(storage::table::users, u.username, encode_user(u));
    auto entry = self->audit.append(batch, {by.username, "user.password", u.username, remote, u.site, true, {}});
    self->commit(std::move(batch), {entry}, [done](std::error_code ec) {
      done(ec ? std::optional<api_error>(storage_failed(ec)) : std::nullopt);
    });
  });
  if (!queued) done(busy());
}

std::optional<api_error> accounts::create_now(const new_user& nu) {
  if (auto err = validate(nu)) return err;
  user u{nu.username, nu.display_name, nu.work_id, nu.site, nu.roles, hash_password(nu.password, impl_->opts.kdf_iterations)};
  u.created_ms = impl_->clock.now_ms();
  storage::write_batch batch;
  batch.put_new(storage::table::users, u.username, encode_user(u));
  impl_->audit.append(batch, {"cli", "user.create", u.username, "local", u.site, true, {{"roles", roles_json(u.roles)}}});
  std::promise<std::error_code> p;
  auto f = p.get_future();
  impl_->writer.write(std::move(batch), [&p](std::error_code ec, uint64_t) { p.set_value(ec); });
  auto ec = f.get();
  if (ec == storage::errc::key_exists) return api_error{409, "exists", "a user with that name exists", "username"};
  if (ec) return storage_failed(ec);
  return std::nullopt;
}

}  // namespace hotline::auth
