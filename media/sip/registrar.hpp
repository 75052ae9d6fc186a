#pragma once
// The registrar for agents' and supervisors' phones (RFC 3261 §10.3), with digest
// authentication (RFC 8760: SHA-256 offered first, MD5 for older phones) against
// credentials the composition root looks up in storage. Bindings are soft state kept in
// memory: a phone re-registers within its expiry, so a restart loses nothing a phone
// does not restore on its own. Sans-I/O: one thread (the SIP thread) calls it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "media/sdp/negotiate.hpp"
#include "media/sip/digest.hpp"
#include "media/sip/message.hpp"
#include "media/sip/transaction.hpp"
#include "media/sip/transport.hpp"

namespace hotline::sip {

// Implemented over storage by the composition root; a test fake in tests/media.
class credential_store {
 public:
  virtual ~credential_store() = default;
  virtual std::optional<digest::stored_credentials> find(std::string_view username) const = 0;
  // The phone's media policy (codec preference, SRTP), if it has its own.
  virtual std::optional<sdp::endpoint_policy> policy(std::string_view) const { return std::nullopt; }
};

struct binding {
  std::string user;
  name_addr contact;  // as registered (params kept, RFC 4475 cparam01/02)
  address flow;       // where the REGISTER really came from: we reach the phone there (NAT)
  std::string call_id;
  uint32_t cseq = 0;
  uint32_t expires_s = 0;
  clock::time_point expires_at;
  std::string user_agent;
};

struct registration_event {
  enum class kind { added, refreshed, removed, expired };
  kind what = kind::added;
  std::string user;
  std::string contact;  // the contact URI
  address flow;
  size_t contacts_left = 0;  // bindings the user still has after this change
};
std::string_view to_string(registration_event::kind k);

struct registrar_config {
  std::string realm = "hotline";
  uint32_t min_expires = 60;
  uint32_t max_expires = 3600;
  uint32_t default_expires = 3600;
  size_t max_contacts_per_user = 10;
  // Challenges, in this order (RFC 8760 §2.4: most preferred first). MD5 alone by
  // default: SIPp 3.6 answers only the first challenge and knows only MD5, and
  // baresip 1.0 (libre 1.1) fails a REGISTER outright when any challenge names
  // SHA-256. Where every phone supports it, configure {sha256, md5}.
  std::vector<digest::algorithm> algorithms = {digest::algorithm::md5};
};

class registrar {
 public:
  using event_sink = std::function<void(const registration_event&)>;
  registrar(registrar_config config, const credential_store& credentials, std::span<const std::byte> nonce_secret,
            event_sink on_change);

  // Answers one REGISTER (its server transaction sends the response).
  message handle(const message& request, const address& from, clock::time_point now,
                 std::chrono::system_clock::time_point wall_now);
  // Drops bindings past their expiry, reporting each.
  void expire(clock::time_point now);

  std::vector<binding> lookup(std::string_view user) const;
  // The registered user whose phone sends from this address, if any.
  const std::string* user_of_flow(const address& from) const;
  size_t binding_count() const;

  struct counters {
    uint64_t challenged = 0, accepted = 0, rejected = 0;
  };
  const counters& stats() const { return counters_; }

 private:
  message challenge(const message& request, std::chrono::system_clock::time_point wall_now, bool stale);
  void remove_binding(std::vector<binding>& list, size_t index, registration_event::kind why);
  void index_flow(const binding& b);
  void unindex_flow(const binding& b);

  registrar_config config_;
  const credential_store& credentials_;
  digest::nonce_issuer nonces_;
  event_sink on_change_;
  std::mt19937_64 random_;
  std::unordered_map<std::string, std::vector<binding>> bindings_;  // user -> contacts
  std::unordered_map<std::string, std::pair<std::string, size_t>> flows_;  // "ip|port" -> user, refs
  counters counters_;
};

}  // namespace hotline::sip
