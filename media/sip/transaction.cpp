#include "media/sip/transaction.hpp"

#include <random>

namespace hotline::sip {
namespace {

enum class kind { ist, nist, ict, nict };
enum class state { calling, trying, proceeding, completed, confirmed, accepted, terminated };

std::string server_key(const message& m) {
  const via& top = m.vias.front();
  std::string_view method = m.method == "ACK" ? std::string_view("INVITE") : std::string_view(m.method);
  std::string branch = top.branch();
  std::string key;
  if (branch.rfind(magic_cookie, 0) == 0 && branch.size() > magic_cookie.size()) {
    key.reserve(branch.size() + top.host.size() + method.size() + 10);
    key += branch;
  } else {
    // RFC 2543 peers (no cookie, §17.2.3 last paragraph): match on the dialog-ish tuple.
    const std::string* tag = m.from.tag();
    key += m.call_id + '|' + (tag ? *tag : std::string()) + '|' + std::to_string(m.cseq) + '|' + top.to_string();
  }
  key += '|';
  key += top.host;
  key += ':';
  key += std::to_string(top.port);
  key += '|';
  key += method;
  return key;
}

std::string client_key(std::string_view branch, std::string_view method) {
  std::string key(branch);
  key += '|';
  key += method == "ACK" ? std::string_view("INVITE") : method;
  return key;
}

// §17.1.1.3: the ACK for a non-2xx final response, in the INVITE's transaction.
message make_non2xx_ack(const message& invite, const message& response) {
  message ack;
  ack.method = "ACK";
  ack.request_uri = invite.request_uri;
  ack.vias = {invite.vias.front()};
  ack.routes = invite.routes;
  ack.max_forwards = 70;
  ack.from = invite.from;
  ack.to = response.to;
  ack.call_id = invite.call_id;
  ack.cseq = invite.cseq;
  ack.cseq_method = "ACK";
  return ack;
}

}  // namespace

struct transaction_layer::transaction {
  txn_id id = 0;
  kind k = kind::nist;
  state s = state::trying;
  std::string key;
  // Client: the request (for the ACK and a synthesized 408). A pointer: a server
  // transaction lingers 32 s after its final response (Timer J), hundreds of thousands at
  // 10,000 registrations/s, and a message is ~1.1 KB.
  std::unique_ptr<message> request;
  address peer;             // server: where responses go; client: the next hop
  std::string last_sent;    // server: last response; client: the request
  std::string ack;          // ICT: the ACK for a non-2xx, sent again on retransmitted finals
  clock::duration interval{};
  std::optional<clock::time_point> retransmit_at;
  std::optional<clock::time_point> deadline;
  uint64_t generation = 0;
};

transaction_layer::transaction_layer(transport_sender& transport, transaction_user& user, timer_config timers)
    : transport_(transport), user_(user), timers_(timers) {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) branch_salt_ += hex[rd() & 15];
}

transaction_layer::~transaction_layer() = default;

std::string transaction_layer::new_branch() {
  std::string b(magic_cookie);
  b += branch_salt_;
  b += '.';
  b += std::to_string(++branch_counter_);
  return b;
}

const transaction_stats& transaction_layer::stats() const {
  stats_.live = by_id_.size();
  return stats_;
}

transaction_layer::transaction* transaction_layer::find(txn_id id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

txn_id transaction_layer::find_invite_server(const message& cancel) const {
  if (cancel.vias.empty()) return 0;
  message probe;
  probe.method = "INVITE";
  probe.vias = {cancel.vias.front()};
  probe.call_id = cancel.call_id;
  probe.from = cancel.from;
  probe.cseq = cancel.cseq;
  auto it = server_keys_.find(server_key(probe));
  return it == server_keys_.end() ? 0 : it->second;
}

address transaction_layer::response_address(const message& request, const address& from) {
  if (from.reliable() || request.vias.empty()) return from;
  const via& top = request.vias.front();
  address to;
  to.kind = from.kind;
  const std::string* received = find_param(top.params, "received");
  to.ip = received && !received->empty() ? *received : top.host;
  const std::string* rport = find_param(top.params, "rport");
  if (rport && !rport->empty()) to.port = static_cast<uint16_t>(std::stoul(*rport));
  else to.port = top.port ? top.port : 5060;
  return to;
}

void transaction_layer::schedule(transaction& t, clock::time_point when) {
  timers_heap_.push({when, t.id, t.generation});
}

void transaction_layer::transmit(transaction& t) { transport_.send(t.peer, t.last_sent); }

void transaction_layer::terminate(transaction& t) {
  t.s = state::terminated;
  (t.k == kind::ist || t.k == kind::nist ? server_keys_ : client_keys_).erase(t.key);
  by_id_.erase(t.id);  // t is gone after this line
}

void transaction_layer::receive(message msg, const address& from, clock::time_point now) {
  if (msg.vias.empty()) return;
  if (msg.is_request()) receive_request(std::move(msg), from, now);
  else receive_response(std::move(msg), from, now);
}

void transaction_layer::receive_request(message msg, const address& from, clock::time_point now) {
  // §18.2.1 and RFC 3581: remember where the request really came from, so responses
  // reach endpoints behind NAT.
  via& top = msg.vias.front();
  const std::string* rport = find_param(top.params, "rport");
  if (rport || top.host != from.ip) set_param(top.params, "received", from.ip);
  if (rport) set_param(top.params, "rport", std::to_string(from.port));

  std::string key = server_key(msg);
  if (auto it = server_keys_.find(key); it != server_keys_.end()) {
    transaction& t = *by_id_.at(it->second);
    if (msg.method == "ACK") {
      if (t.s == state::completed) {  // ACK for our non-2xx final: Timer I (§17.2.1)
        t.s = state::confirmed;
        t.retransmit_at.reset();
        t.deadline = now + (from.reliable() ? clock::duration::zero() : timers_.t4);
        ++t.generation;
        schedule(t, *t.deadline);
      } else if (t.s == state::accepted) {
        user_.on_ack(msg, from);  // a peer that reuses the INVITE's branch for the 2xx ACK
      }
      return;
    }
    // A retransmitted request: answer from state (§17.2.1, §17.2.2).
    ++stats_.retransmissions_absorbed;
    if (!t.last_sent.empty() && t.s != state::accepted && t.s != state::confirmed) {
      transmit(t);
      ++stats_.retransmissions_sent;
    }
    return;
  }
  if (msg.method == "ACK") {
    user_.on_ack(msg, from);
    return;
  }
  auto t = std::make_unique<transaction>();
  t->id = next_id_++;
  t->k = msg.method == "INVITE" ? kind::ist : kind::nist;
  t->s = t->k == kind::ist ? state::proceeding : state::trying;
  t->key = std::move(key);
  t->peer = response_address(msg, from);
  // A server transaction keeps only the bytes it last sent: retransmissions are
  // answered from them, and the TU keeps its own copy of a request it needs later.
  transaction& ref = *t;
  server_keys_.emplace(ref.key, ref.id);
  by_id_.emplace(ref.id, std::move(t));
  if (ref.k == kind::ist) {
    // §17.2.1: we answer 100 at once; the TU may take longer than 200 ms to ring.
    ref.last_sent = make_response(msg, 100).to_string();
    transmit(ref);
  }
  txn_id id = ref.id;
  user_.on_request(id, msg, from);
}

void transaction_layer::respond(txn_id id, message response, clock::time_point now) {
  transaction* t = find(id);
  if (!t || t->s == state::terminated) return;
  if (t->k != kind::ist && t->k != kind::nist) return;
  if (t->s == state::completed || t->s == state::confirmed || t->s == state::accepted) return;  // final already sent
  t->last_sent = response.to_string();
  transmit(*t);
  bool reliable = t->peer.reliable();
  if (response.status < 200) {
    t->s = state::proceeding;
    return;
  }
  ++t->generation;
  if (t->k == kind::nist) {  // Timer J
    t->s = state::completed;
    t->deadline = now + (reliable ? clock::duration::zero() : 64 * timers_.t1);
  } else if (response.status < 300) {  // RFC 6026 Accepted, Timer L
    t->s = state::accepted;
    t->deadline = now + 64 * timers_.t1;
  } else {  // Timers G and H
    t->s = state::completed;
    t->deadline = now + 64 * timers_.t1;
    if (!reliable) {
      t->interval = timers_.t1;
      t->retransmit_at = now + t->interval;
      schedule(*t, *t->retransmit_at);
    }
  }
  schedule(*t, *t->deadline);
}

txn_id transaction_layer::send_request(message request, const address& to, clock::time_point now) {
  auto t = std::make_unique<transaction>();
  t->id = next_id_++;
  t->k = request.method == "INVITE" ? kind::ict : kind::nict;
  t->s = t->k == kind::ict ? state::calling : state::trying;
  t->key = client_key(request.vias.front().branch(), request.method);
  t->peer = to;
  t->last_sent = request.to_string();
  t->request = std::make_unique<message>(std::move(request));
  t->deadline = now + 64 * timers_.t1;  // Timers B and F
  if (!to.reliable()) {
    t->interval = timers_.t1;
    t->retransmit_at = now + t->interval;
  }
  transaction& ref = *t;
  client_keys_.emplace(ref.key, ref.id);
  by_id_.emplace(ref.id, std::move(t));
  transmit(ref);
  if (ref.retransmit_at) schedule(ref, *ref.retransmit_at);
  schedule(ref, *ref.deadline);
  return ref.id;
}

void transaction_layer::send_stateless(const message& msg, const address& to) { transport_.send(to, msg.to_string()); }

void transaction_layer::receive_response(message msg, const address& from, clock::time_point now) {
  auto it = client_keys_.find(client_key(msg.vias.front().branch(), msg.cseq_method));
  if (it == client_keys_.end()) {
    if (msg.status >= 200 && msg.status < 300 && msg.cseq_method == "INVITE") user_.on_stray_response(msg, from);
    return;
  }
  transaction& t = *by_id_.at(it->second);
  txn_id id = t.id;
  bool reliable = t.peer.reliable();
  if (msg.status < 200) {
    if (t.s == state::calling || t.s == state::trying || t.s == state::proceeding) {
      if (t.k == kind::ict) {  // Timer A stops; Timer B no longer applies (§17.1.1.2)
        t.retransmit_at.reset();
        t.deadline.reset();
        ++t.generation;
      } else if (t.retransmit_at) {  // Timer E continues at T2 (§17.1.2.2)
        t.interval = timers_.t2;
      }
      t.s = state::proceeding;
      user_.on_response(id, msg);
    }
    return;
  }
  if (t.k == kind::ict) {
    if (msg.status < 300) {
      if (t.s != state::accepted) {  // RFC 6026 Accepted, Timer M: further 2xx go up too
        t.s = state::accepted;
        t.retransmit_at.reset();
        t.deadline = now + 64 * timers_.t1;
        ++t.generation;
        schedule(t, *t.deadline);
      }
      user_.on_response(id, msg);
      return;
    }
    if (t.s == state::completed) {  // a retransmitted final: ACK it again
      transport_.send(t.peer, t.ack);
      ++stats_.retransmissions_sent;
      return;
    }
    if (t.s == state::accepted) return;
    t.ack = make_non2xx_ack(*t.request, msg).to_string();
    transport_.send(t.peer, t.ack);
    t.s = state::completed;
    t.retransmit_at.reset();
    t.deadline = now + (reliable ? clock::duration::zero() : std::chrono::seconds(32));  // Timer D
    ++t.generation;
    schedule(t, *t.deadline);
    user_.on_response(id, msg);
    return;
  }
  if (t.s == state::completed) return;
  t.s = state::completed;
  t.retransmit_at.reset();
  t.deadline = now + (reliable ? clock::duration::zero() : timers_.t4);  // Timer K
  ++t.generation;
  schedule(t, *t.deadline);
  user_.on_response(id, msg);
}

void transaction_layer::fire(transaction& t, clock::time_point now) {
  if (t.deadline && now >= *t.deadline) {
    txn_id id = t.id;
    bool timed_out = t.s == state::calling || t.s == state::trying || t.s == state::proceeding;
    bool server_unacked = t.k == kind::ist && t.s == state::completed;
    if (timed_out || server_unacked) ++stats_.timeouts;
    if (timed_out && (t.k == kind::ict || t.k == kind::nict)) {
      message timeout = make_response(*t.request, 408, "Request Timeout");
      terminate(t);
      user_.on_response(id, timeout);
      return;
    }
    terminate(t);
    if (server_unacked) user_.on_server_timeout(id);
    return;
  }
  if (t.retransmit_at && now >= *t.retransmit_at) {
    transmit(t);
    ++stats_.retransmissions_sent;
    // INVITE requests double without a cap (Timer A); the rest stop at T2 (E, G).
    t.interval = t.k == kind::ict ? 2 * t.interval : std::min(2 * t.interval, timers_.t2);
    t.retransmit_at = now + t.interval;
    schedule(t, *t.retransmit_at);
  }
}

std::optional<clock::time_point> transaction_layer::poll(clock::time_point now) {
  while (!timers_heap_.empty() && timers_heap_.top().when <= now) {
    timer_entry e = timers_heap_.top();
    timers_heap_.pop();
    transaction* t = find(e.id);
    if (!t) continue;
    // A stale entry (the state moved on) is skipped unless one of its timers is due.
    bool due = (t->deadline && now >= *t->deadline) || (t->retransmit_at && now >= *t->retransmit_at);
    if (e.generation != t->generation && !due) continue;
    if (due) fire(*t, now);
  }
  if (timers_heap_.empty()) return std::nullopt;
  return timers_heap_.top().when;
}

}  // namespace hotline::sip
