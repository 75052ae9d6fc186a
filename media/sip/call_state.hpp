#pragma once
// Internal to user_agent*.cpp: a call's dialog and transaction state, and the small
// parsers both halves use. Not for other modules: they see calls only through events.hpp.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "media/sip/user_agent.hpp"

namespace hotline::sip::detail {

// An IPv4/IPv6 literal as bytes (trunk allow-lists; originate targets must be IPs).
struct ip_bytes {
  std::array<unsigned char, 16> b{};
  int family = 0;
};

inline std::optional<ip_bytes> to_ip(std::string_view text) {
  ip_bytes ip;
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), ip.b.data()) == 1) {
    ip.family = AF_INET;
  } else if (inet_pton(AF_INET6, s.c_str(), ip.b.data()) == 1) {
    ip.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return ip;
}

// What our client transaction of a call was for.
enum purpose : int { p_invite = 1, p_reinvite, p_refresh, p_bye, p_cancel };

// "1800;refresher=uac" (RFC 4028 §4)
struct session_expires {
  uint32_t seconds = 0;
  std::string refresher;
};
inline std::optional<session_expires> parse_session_expires(std::string_view v) {
  session_expires se;
  size_t semi = v.find(';');
  std::string_view num = v.substr(0, semi);
  while (!num.empty() && num.back() == ' ') num.remove_suffix(1);
  while (!num.empty() && num.front() == ' ') num.remove_prefix(1);
  if (num.empty() || num.size() > 9 || !std::all_of(num.begin(), num.end(), ::isdigit)) return std::nullopt;
  se.seconds = static_cast<uint32_t>(std::stoul(std::string(num)));
  if (semi != std::string_view::npos) {
    std::string_view rest = v.substr(semi + 1);
    size_t at = rest.find("refresher=");
    if (at != std::string_view::npos) {
      std::string_view r = rest.substr(at + 10, 3);
      se.refresher = std::string(r);
    }
  }
  return se;
}

inline std::string dialog_key(std::string_view call_id, std::string_view local_tag) {
  std::string k(call_id);
  k += '|';
  k += local_tag;
  return k;
}


}  // namespace hotline::sip::detail

namespace hotline::sip {

struct user_agent::call {
  enum class phase { early, answering, confirmed, ending, ended };
  call_ref ref = 0;
  bool inbound = true;
  phase ph = phase::early;
  // Dialog state (§12): ours and theirs.
  std::string call_id, local_tag, remote_tag;
  name_addr local, remote;
  uri remote_target;
  std::vector<name_addr> route_set;
  uint32_t local_cseq = 0, remote_cseq = 0;
  address flow;  // where the peer is reached: the source it sent from (NAT-safe)
  // The initial INVITE: server side (inbound) or client side (outbound).
  txn_id invite_txn = 0;
  message invite;
  bool provisional_seen = false, cancel_pending = false, cancelled = false;
  // The 2xx we retransmit until the ACK comes (§13.3.1.4), for INVITE and re-INVITE.
  std::string pending_2xx;
  clock::duration retransmit_interval{};
  clock::time_point next_2xx{}, give_up_2xx{};
  std::string last_ack;  // our ACK for their 2xx, sent again on 2xx retransmissions
  // re-INVITE in progress: theirs (server txn) or ours (client txn).
  txn_id reinvite_in = 0;
  message reinvite_request;
  txn_id reinvite_out = 0;
  std::string local_sdp, remote_sdp;
  // RFC 4028
  uint32_t session_interval = 0;
  bool we_refresh = false;
  clock::time_point session_deadline{};
};

}  // namespace hotline::sip
