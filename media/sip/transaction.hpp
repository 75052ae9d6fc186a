#pragma once
// RFC 3261 §17 transactions (with the RFC 6026 "Accepted" states), sans-I/O: messages
// come in through receive(), bytes leave through a transport_sender, time advances
// through poll(now). One thread (the SIP thread) drives it; nothing here locks.
//
// Why not oSIP's transaction layer: it finds transactions by walking linked lists.
// At 3,000 calls/s each non-INVITE server transaction lingers 32 s (Timer J), so the
// lists would hold ~100,000 entries and every message would scan them. Here matching
// is a hash lookup (DEPENDENCIES.md §4 measured oSIP's parser, which we keep).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "media/sip/message.hpp"
#include "media/sip/transport.hpp"

namespace hotline::sip {

using clock = std::chrono::steady_clock;
using txn_id = uint64_t;  // 0 = none

struct timer_config {
  clock::duration t1 = std::chrono::milliseconds(500);
  clock::duration t2 = std::chrono::seconds(4);
  clock::duration t4 = std::chrono::seconds(5);
};

// The transaction user: the dialog/registrar layer above.
class transaction_user {
 public:
  virtual ~transaction_user() = default;
  // A new request (not a retransmission). INVITE and non-INVITE alike; answer with
  // transaction_layer::respond(id, ...). A CANCEL arrives here too, after its own 200.
  virtual void on_request(txn_id id, const message& request, const address& from) = 0;
  // An ACK that belongs to no INVITE server transaction: the ACK for a 2xx (§13.2.2.4).
  virtual void on_ack(const message& ack, const address& from) = 0;
  // A response for a client transaction; timeouts and transport errors arrive as a
  // synthesized 408 / 503 (§8.1.3.1, §17.1.1.2).
  virtual void on_response(txn_id id, const message& response) = 0;
  // A 2xx that matches no transaction: a retransmission the dialog layer must ACK again.
  virtual void on_stray_response(const message& response, const address& from) = 0;
  // An INVITE server transaction ended without a final response being acknowledged
  // (Timer H or the Accepted timer L): the TU may tear the call down.
  virtual void on_server_timeout(txn_id id) = 0;
};

struct transaction_stats {
  uint64_t retransmissions_sent = 0;     // requests and responses we sent again (UDP)
  uint64_t retransmissions_absorbed = 0; // duplicates received and answered from state
  uint64_t timeouts = 0;
  size_t live = 0;
};

class transaction_layer {
 public:
  transaction_layer(transport_sender& transport, transaction_user& user, timer_config timers = {});
  ~transaction_layer();
  transaction_layer(const transaction_layer&) = delete;
  transaction_layer& operator=(const transaction_layer&) = delete;

  // A parsed message from the transport. `from` is the packet's source.
  void receive(message msg, const address& from, clock::time_point now);
  // Sends a response within a server transaction (provisional or final).
  void respond(txn_id id, message response, clock::time_point now);
  // Starts a client transaction. The request's top Via must carry a fresh branch
  // (new_branch()); `to` is the next hop.
  txn_id send_request(message request, const address& to, clock::time_point now);
  // Sends without a transaction: the ACK for a 2xx, and responses retransmitted by the
  // dialog layer (§13.3.1.4).
  void send_stateless(const message& msg, const address& to);
  // Where a response to `request` goes (§18.2.2 with RFC 3581 rport).
  static address response_address(const message& request, const address& from);

  // Fires due timers. Call at least every 10 ms; returns when the next timer is due.
  std::optional<clock::time_point> poll(clock::time_point now);

  // The INVITE server transaction with this branch and sent-by (for CANCEL, §9.2).
  txn_id find_invite_server(const message& cancel) const;

  std::string new_branch();
  const transaction_stats& stats() const;

 private:
  struct transaction;
  struct timer_entry {
    clock::time_point when;
    txn_id id;
    uint64_t generation;
    bool operator>(const timer_entry& o) const { return when > o.when; }
  };
  transaction* find(txn_id id);
  void schedule(transaction& t, clock::time_point when);
  void fire(transaction& t, clock::time_point now);
  void terminate(transaction& t);
  void transmit(transaction& t);
  void receive_request(message msg, const address& from, clock::time_point now);
  void receive_response(message msg, const address& from, clock::time_point now);

  transport_sender& transport_;
  transaction_user& user_;
  timer_config timers_;
  txn_id next_id_ = 1;
  uint64_t branch_counter_ = 0;
  std::string branch_salt_;
  std::unordered_map<txn_id, std::unique_ptr<transaction>> by_id_;
  std::unordered_map<std::string, txn_id> server_keys_;
  std::unordered_map<std::string, txn_id> client_keys_;
  std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>> timers_heap_;
  mutable transaction_stats stats_;
};

}  // namespace hotline::sip
