#pragma once
// Users, roles (N-60), sessions and lockout, stored in LMDB. Reads are synchronous
// (short read transactions); writes go through the storage writer and complete through
// a callback once durable, so a request answered OK is on disk. The audit record of an
// action rides in the same atomic batch as the action.
//
// Password checks run PBKDF2 with 600k iterations (~0.2 s of CPU), so they run on a
// small pool of their own threads, never on an I/O thread or a CAF worker.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/runtime/clock.hpp"
#include "actors/runtime/runtime.hpp"
#include "api/auth/audit.hpp"
#include "api/http/error.hpp"
#include "storage/env.hpp"

namespace hotline::auth {

enum class role : uint8_t { agent, supervisor, curator, expert, site_admin, province_admin };
inline constexpr role all_roles[] = {role::agent,  role::supervisor, role::curator,
                                     role::expert, role::site_admin, role::province_admin};
std::string_view to_string(role r);
std::optional<role> parse_role(std::string_view s);

struct user {
  std::string username;
  std::string display_name;
  std::string work_id;  // 工号, what callers hear (N-05)
  std::string site;
  uint32_t roles = 0;   // bit per role
  std::string password_hash;
  uint32_t failed_logins = 0;
  uint64_t locked_until_ms = 0;
  uint64_t created_ms = 0;
  bool disabled = false;

  bool has(role r) const { return roles & (1u << static_cast<unsigned>(r)); }
  std::string public_json() const;  // no secrets
};

// Who is making a request, resolved from a session token.
struct principal {
  std::string username;
  std::string site;
  uint32_t roles = 0;
  std::string token_hash;
  uint64_t expires_ms = 0;

  bool has(role r) const { return roles & (1u << static_cast<unsigned>(r)); }
  bool is_admin() const { return has(role::site_admin) || has(role::province_admin); }
  // N-60: each role sees only its site unless granted more (province admin).
  bool may_see_site(std::string_view s) const { return has(role::province_admin) || s == site; }
};

struct accounts_options {
  uint32_t session_ttl_minutes = 720;
  uint32_t lockout_after = 5;
  uint32_t lockout_minutes = 15;
  uint32_t kdf_iterations = 600000;
  size_t kdf_threads = 0;       // 0 = one per core
  size_t kdf_queue_limit = 256; // pending password checks before 503
};

struct new_user {
  std::string username, password, display_name, work_id, site;
  uint32_t roles = 0;
};

struct login_ok {
  std::string token;
  uint64_t expires_ms = 0;
  user who;
};

class accounts {
 public:
  accounts(storage::env& env, actors::durable_writer& writer, audit_log& audit, const wall_clock& clock,
           accounts_options opts);
  ~accounts();

  // --- synchronous reads -------------------------------------------------------
  std::optional<principal> authenticate(std::string_view token) const;
  std::optional<user> find(std::string_view username) const;
  bool any_users() const;
  // Users visible to `by`, ordered by name, starting after `after`.
  std::vector<user> list(const principal& by, std::string_view after, size_t limit) const;

  // --- durable writes (callbacks run on another thread) -------------------------
  void login(std::string username, std::string password, std::string remote,
             std::function<void(api::result<login_ok>)> done);
  void logout(const principal& who, std::string remote, std::function<void(std::optional<api::api_error>)> done);
  void create(const principal& by, new_user u, std::string remote, std::function<void(api::result<user>)> done);
  void set_password(const principal& by, std::string username, std::string old_password, std::string new_password,
                    std::string remote, std::function<void(std::optional<api::api_error>)> done);

  // Creates a user synchronously (CLI and first start): blocks until durable.
  std::optional<api::api_error> create_now(const new_user& u);

  // Checks a new user's fields; exposed for the CLI.
  static std::optional<api::api_error> validate(const new_user& u);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hotline::auth
