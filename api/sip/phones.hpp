#pragma once
// Agents' and supervisors' SIP phone accounts, stored in LMDB (table sip_phones). Only
// digest HA1s are kept (MD5 and SHA-256, RFC 8760), never the password. The registrar
// reads them through phone_credentials; the CLI (`hotline phone ...`) writes them.
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "media/sip/registrar.hpp"
#include "storage/env.hpp"

namespace hotline::phones {

struct account {
  std::string user;          // SIP username = the extension ("8001")
  std::string display_name;  // shown to the callee when we call out from this phone's agent
  std::string realm;
  std::string ha1_md5, ha1_sha256;
  std::vector<std::string> codecs;  // preference; empty: the site default (sip.phone_codecs)
  std::string srtp = "optional";    // off | optional | required
};

std::string encode(const account& a);
std::optional<account> decode(std::string_view bytes);

// Creates or replaces (set_password) an account; commits durably.
std::error_code save(storage::env& env, const account& a);
std::error_code remove(storage::env& env, std::string_view user);
std::optional<account> find(const storage::env& env, std::string_view user);
std::vector<account> list(const storage::env& env);

// "a, b,,c" -> {"a","b","c"}: the comma lists of the sip.* config keys and --codecs.
std::vector<std::string> split_list(std::string_view text);

// "off" | "optional" | "required"
std::optional<sdp::srtp_policy> parse_srtp(std::string_view text);

// "opus,PCMA,PCMU" -> {"opus","PCMA","PCMU"}; an unknown codec name is an error.
std::optional<std::vector<std::string>> parse_codecs(std::string_view text, std::string* error);

// The registrar's view: reads a snapshot per lookup (µs; phones register every few
// minutes, not every call).
class phone_credentials final : public sip::credential_store {
 public:
  explicit phone_credentials(const storage::env& env) : env_(env) {}
  std::optional<sip::digest::stored_credentials> find(std::string_view username) const override;
  std::optional<sdp::endpoint_policy> policy(std::string_view username) const override;

 private:
  const storage::env& env_;
};

}  // namespace hotline::phones
