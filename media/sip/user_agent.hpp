#pragma once
// The SIP core above the transactions: request dispatch, OPTIONS, the registrar, the
// trunk allow-list, admission control, dialogs (RFC 3261 §12-15) and calls as a
// back-to-back user agent, session timers (RFC 4028). Sans-I/O and single-threaded:
// service.hpp runs it on the SIP thread; tests drive it with a fake transport and a
// manual clock.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "media/sip/events.hpp"
#include "media/sip/registrar.hpp"
#include "media/sip/transaction.hpp"

namespace hotline::sip {

struct trunk_config {
  std::string name;
  std::vector<std::string> allow;  // IPs or CIDRs the trunk sends from ("192.0.2.0/24", "::1")
  sdp::endpoint_policy policy;     // codec preference and SRTP for its calls
};

struct user_agent_config {
  registrar_config registrar;
  std::vector<trunk_config> trunks;
  size_t max_calls = 2000;          // admission control: above this, 503
  double max_cpu = 0.90;            // fraction of the SIP process's CPU budget; above it, 503
  uint32_t retry_after_s = 10;
  uint32_t min_session_expires = 90;  // RFC 4028 Min-SE
  sdp::endpoint_policy phone_policy;  // for registered phones without a policy of their own
  std::string user_agent = "Hotline";
  timer_config timers;
};

using log_sink = std::function<void(std::string_view level, std::string_view message)>;

struct user_agent_stats {
  uint64_t requests = 0, responses = 0, bad_messages = 0;
  uint64_t calls_in = 0, calls_out = 0, rejected_overload = 0, rejected_forbidden = 0;
  size_t active_calls = 0;
};

class user_agent final : public transaction_user {
 public:
  user_agent(user_agent_config config, transport_sender& transport, const credential_store& credentials,
             std::span<const std::byte> nonce_secret, event_handler& events, std::function<double()> cpu_load,
             log_sink log);
  ~user_agent() override;

  // Bytes from a transport (one datagram or one TCP frame).
  void receive(std::string_view bytes, const address& from, clock::time_point now,
               std::chrono::system_clock::time_point wall_now);
  // Timers: transactions, 2xx retransmissions, session timers, binding expiry.
  void poll(clock::time_point now);

  // Operations of the call's owner. Results arrive as call_events.
  void ring(call_ref ref, clock::time_point now);
  void answer(call_ref ref, const sdp::session_description& sdp, clock::time_point now);
  void reject(call_ref ref, int status, std::string_view reason, clock::time_point now);
  // `ref` comes from new_ref(), so a caller on another thread knows it at once.
  void originate(call_ref ref, const originate_request& request, clock::time_point now);
  call_ref new_ref() { return next_ref_.fetch_add(1, std::memory_order_relaxed); }
  void reinvite(call_ref ref, const sdp::session_description& sdp, clock::time_point now);
  void hangup(call_ref ref, clock::time_point now);

  const registrar& registrations() const { return registrar_; }
  // The media policy for calls to or from this registered user.
  sdp::endpoint_policy phone_policy(std::string_view user) const;
  user_agent_stats stats() const;
  const transaction_stats& transaction_counters() const { return transactions_.stats(); }

  // transaction_user
  void on_request(txn_id id, const message& request, const address& from) override;
  void on_ack(const message& ack, const address& from) override;
  void on_response(txn_id id, const message& response) override;
  void on_stray_response(const message& response, const address& from) override;
  void on_server_timeout(txn_id id) override;

 private:
  struct call;
  struct client_purpose;
  void handle_invite(txn_id id, const message& request, const address& from);
  bool admit_invite(txn_id id, const message& request, const address& from, incoming_call& in);
  bool take_offer(txn_id id, const message& request, incoming_call& in);
  bool take_session_timer(txn_id id, const message& request, call& c);
  void handle_in_dialog(txn_id id, const message& request, call& c);
  void handle_cancel(txn_id id, const message& request);
  void handle_options(txn_id id, const message& request);
  void handle_reinvite(txn_id id, const message& request, call& c);
  void respond(txn_id id, message response);
  void reply(txn_id id, const message& request, int status, std::string_view reason = {});
  void send_2xx(call& c, txn_id id, const message& request, const std::string& body);
  message in_dialog_request(call& c, std::string method);
  void send_in_dialog(call& c, std::string method, std::string body, int purpose);
  void send_ack(call& c, const message& response);
  void on_invite_response(call& c, const message& response);
  void on_reinvite_response(call& c, const message& response, bool refresh_only);
  void end_call(call& c, end_cause cause, int status, std::string reason, bool by_remote);
  void refuse(call_ref ref, std::string reason);
  void add_common_headers(message& m) const;
  via our_via(transport_kind kind);
  name_addr local_contact(transport_kind kind) const;
  const trunk_config* trunk_for(const address& from) const;
  call* find_call(call_ref ref);
  call* find_dialog(const message& m, bool we_are_uas_of_it);
  std::string random_token(size_t chars);

  user_agent_config config_;
  const credential_store& credentials_;
  transport_sender& transport_;
  event_handler& events_;
  std::function<double()> cpu_load_;
  log_sink log_;
  transaction_layer transactions_;
  registrar registrar_;
  clock::time_point now_{};
  std::chrono::system_clock::time_point wall_now_{};
  clock::time_point next_expiry_sweep_{};
  std::atomic<call_ref> next_ref_{1};  // the one member other threads touch (new_ref)
  uint64_t token_state_;
  std::unordered_map<call_ref, std::unique_ptr<call>> calls_;
  std::unordered_map<std::string, call_ref> dialogs_;        // call-id|local tag -> call
  std::unordered_map<txn_id, call_ref> invite_servers_;      // initial INVITE server txn -> call
  std::unordered_map<txn_id, std::pair<call_ref, int>> client_txns_;  // our requests -> (call, purpose)
  user_agent_stats stats_;
};

}  // namespace hotline::sip
