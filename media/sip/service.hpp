#pragma once
// The SIP edge as a running service: UDP and TCP sockets (IPv4 and IPv6) on one SIP
// thread of its own, driving the sans-I/O user_agent. Every public method is
// thread-safe: it posts onto the SIP thread (DESIGN.md "Threads": network I/O parses
// and hands over; owners reach it only by posting). No Asio in this header.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "media/sip/events.hpp"
#include "media/sip/user_agent.hpp"

namespace hotline::sip {

struct service_options {
  // Addresses to listen on; each gets UDP and (if tcp) TCP on `port`. "0.0.0.0" and
  // "::" mean every interface of that family.
  std::vector<std::string> listen = {"0.0.0.0"};
  uint16_t port = 5060;  // 0 = any free port (tests)
  bool tcp = true;
  // The address put in Via and Contact. Empty: the first listen address, or for a
  // wildcard the host's first non-loopback address.
  std::string advertise;
  user_agent_config ua;
  std::vector<std::byte> nonce_secret;  // empty: 32 random bytes (nonces then die with the process)
  log_sink log;
};

struct service_stats {
  user_agent_stats ua;
  transaction_stats transactions;
  size_t bindings = 0;
  double sip_thread_cpu = 0;  // fraction of one core over the last second
  uint64_t tcp_connections = 0;
};

class service {
 public:
  // Binds every socket before returning (errors: address in use, permission).
  static std::unique_ptr<service> start(service_options options, const credential_store& credentials,
                                        event_handler& events, std::error_code& ec);
  ~service();  // stops the SIP thread
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  uint16_t udp_port() const;
  uint16_t tcp_port() const;
  std::string advertised_address() const;

  void ring(call_ref ref);
  void answer(call_ref ref, sdp::session_description sdp);
  void reject(call_ref ref, int status, std::string reason = {});
  call_ref originate(originate_request request);
  void reinvite(call_ref ref, sdp::session_description sdp);
  void hangup(call_ref ref);

  // Snapshots, taken on the SIP thread (they wait for it).
  std::vector<binding> lookup(const std::string& user);
  // The codec preference and SRTP rule for calling this registered user's phone.
  sdp::endpoint_policy phone_policy(const std::string& user);
  service_stats stats();

  struct impl;

 private:
  explicit service(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace hotline::sip
