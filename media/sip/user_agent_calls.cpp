// The call half of the user agent: the owner's operations (ring, answer, reject,
// originate, reinvite, hangup), responses to our requests, and the timers of calls.
// Dispatch of incoming requests is in user_agent.cpp.
#include <algorithm>

#include "media/sip/call_state.hpp"
#include "media/sip/parser.hpp"

namespace hotline::sip {

using namespace detail;

// ---- operations ------------------------------------------------------------------------

void user_agent::refuse(call_ref ref, std::string reason) {
  call_event e;
  e.ref = ref;
  e.kind = call_event_kind::operation_refused;
  e.reason = std::move(reason);
  events_.on_call_event(std::move(e));
}

void user_agent::ring(call_ref ref, clock::time_point now) {
  now_ = now;
  call* c = find_call(ref);
  if (!c || !c->inbound || c->ph != call::phase::early) return refuse(ref, "ring: no unanswered inbound call");
  message r = make_response(c->invite, 180, {}, c->local_tag);
  r.contacts.push_back(local_contact(c->flow.kind));
  r.record_routes = c->invite.record_routes;
  respond(c->invite_txn, std::move(r));
}

void user_agent::send_2xx(call& c, txn_id id, const message& request, const std::string& body) {
  message r = make_response(request, 200, {}, c.local_tag);
  r.contacts.push_back(local_contact(c.flow.kind));
  r.record_routes = request.record_routes;
  if (c.session_interval) {
    r.add_header("Session-Expires", std::to_string(c.session_interval) + ";refresher=" + (c.we_refresh ? "uas" : "uac"));
    if (request.has_option("Supported", "timer")) r.add_header("Require", "timer");
  }
  if (!body.empty()) {
    r.content_type = "application/sdp";
    r.body = body;
  }
  add_common_headers(r);
  // §13.3.1.4: the 2xx is ours to retransmit (the transaction is done with it) until
  // the ACK arrives; over TCP once is enough.
  c.pending_2xx = r.to_string();
  transactions_.respond(id, std::move(r), now_);
  c.retransmit_interval = config_.timers.t1;
  c.next_2xx = now_ + c.retransmit_interval;
  c.give_up_2xx = now_ + 64 * config_.timers.t1;
}

void user_agent::answer(call_ref ref, const sdp::session_description& sdp, clock::time_point now) {
  now_ = now;
  call* c = find_call(ref);
  if (!c) return refuse(ref, "answer: no such call");
  std::string body = sdp::to_string(sdp);
  if (c->reinvite_in) {  // the answer to the peer's re-INVITE
    c->local_sdp = body;
    c->remote_sdp = c->reinvite_request.body;
    txn_id id = c->reinvite_in;
    c->reinvite_in = 0;
    send_2xx(*c, id, c->reinvite_request, body);
    return;
  }
  if (!c->inbound || c->ph != call::phase::early) return refuse(ref, "answer: nothing to answer");
  c->local_sdp = body;
  c->ph = call::phase::answering;
  invite_servers_.erase(c->invite_txn);
  send_2xx(*c, c->invite_txn, c->invite, body);
  if (c->session_interval) {
    auto s = std::chrono::seconds(c->we_refresh ? c->session_interval / 2
                                                : c->session_interval - std::min(32u, c->session_interval / 3));
    c->session_deadline = now_ + s;
  }
}

void user_agent::reject(call_ref ref, int status, std::string_view reason, clock::time_point now) {
  now_ = now;
  call* c = find_call(ref);
  if (!c) return refuse(ref, "reject: no such call");
  if (status < 300 || status > 699) status = 480;
  if (c->reinvite_in) {  // refuse the peer's new offer; the call goes on
    message r = make_response(c->reinvite_request, status, reason, c->local_tag);
    respond(c->reinvite_in, std::move(r));
    c->reinvite_in = 0;
    return;
  }
  if (!c->inbound || c->ph != call::phase::early) return refuse(ref, "reject: call already answered");
  message r = make_response(c->invite, status, reason, c->local_tag);
  respond(c->invite_txn, std::move(r));
  end_call(*c, end_cause::rejected, status, std::string(reason.empty() ? default_reason(status) : reason), false);
}

void user_agent::originate(call_ref ref, const originate_request& request, clock::time_point now) {
  now_ = now;
  auto c = std::make_unique<call>();
  c->ref = ref;
  c->inbound = false;
  // The target: a registered phone (reached where it registered from) or a URI whose
  // host is an IP literal (no DNS in the media layer; trunks are configured by IP).
  uri target;
  address next_hop;
  if (request.target.find(':') != std::string::npos) {
    auto u = parse_uri(request.target);
    auto ip = u ? to_ip(u->host) : std::nullopt;
    if (!u || !u->is_sip() || !ip) {
      calls_.emplace(ref, std::move(c));
      end_call(*find_call(ref), end_cause::failed, 400, "target is not a SIP URI with an IP address", false);
      return;
    }
    target = *u;
    next_hop.ip = u->host;
    next_hop.port = u->port ? u->port : 5060;
    const std::string* t = find_param(u->params, "transport");
    next_hop.kind = t && iequals(*t, "tcp") ? transport_kind::tcp : transport_kind::udp;
  } else {
    auto bindings = registrar_.lookup(request.target);
    if (bindings.empty()) {
      calls_.emplace(ref, std::move(c));
      end_call(*find_call(ref), end_cause::failed, 480, "user " + request.target + " is not registered", false);
      return;
    }
    target = bindings.front().contact.uri;
    next_hop = bindings.front().flow;
  }
  address local = transport_.local_address(next_hop.kind);
  message inv;
  inv.method = "INVITE";
  inv.request_uri = target;
  inv.vias.push_back(our_via(next_hop.kind));
  inv.max_forwards = 70;
  inv.from.display = request.from_display;
  inv.from.uri.user = request.from_user;
  inv.from.uri.host = local.ip;
  c->local_tag = random_token(12);
  inv.from.params = {{"tag", c->local_tag}};
  inv.to.uri = target;
  inv.to.uri.params.clear();
  inv.call_id = random_token(20) + "@hotline";
  inv.cseq = c->local_cseq = 1;
  inv.cseq_method = "INVITE";
  inv.contacts.push_back(local_contact(next_hop.kind));
  inv.headers = request.headers;
  add_common_headers(inv);
  inv.content_type = "application/sdp";
  inv.body = sdp::to_string(request.offer);
  c->call_id = inv.call_id;
  c->local = inv.from;
  c->remote = inv.to;
  c->remote_target = target;
  c->flow = next_hop;
  c->local_sdp = inv.body;
  c->invite = inv;
  dialogs_.emplace(dialog_key(c->call_id, c->local_tag), ref);
  calls_.emplace(ref, std::move(c));
  ++stats_.calls_out;
  txn_id id = transactions_.send_request(std::move(inv), next_hop, now_);
  find_call(ref)->invite_txn = id;
  client_txns_.emplace(id, std::pair{ref, static_cast<int>(p_invite)});
}

// §12.2.1.1: a request within the dialog, to its remote target along its route set.
message user_agent::in_dialog_request(call& c, std::string method) {
  message m;
  m.method = std::move(method);
  m.request_uri = c.remote_target;
  m.vias.push_back(our_via(c.flow.kind));
  m.routes = c.route_set;
  m.max_forwards = 70;
  m.from = c.local;
  set_param(m.from.params, "tag", c.local_tag);
  m.to = c.remote;
  if (!c.remote_tag.empty()) set_param(m.to.params, "tag", c.remote_tag);
  m.call_id = c.call_id;
  m.cseq_method = m.method;
  return m;
}

void user_agent::send_in_dialog(call& c, std::string method, std::string body, int purpose) {
  message m = in_dialog_request(c, std::move(method));
  m.cseq = ++c.local_cseq;
  if (m.method == "INVITE") {
    m.contacts.push_back(local_contact(c.flow.kind));
    if (c.session_interval)
      m.add_header("Session-Expires", std::to_string(c.session_interval) + ";refresher=" + (c.we_refresh ? "uac" : "uas"));
  }
  add_common_headers(m);
  if (!body.empty()) {
    m.content_type = "application/sdp";
    m.body = std::move(body);
  }
  txn_id id = transactions_.send_request(std::move(m), c.flow, now_);
  client_txns_.emplace(id, std::pair{c.ref, purpose});
  if (purpose == p_reinvite || purpose == p_refresh) c.reinvite_out = id;
}

void user_agent::reinvite(call_ref ref, const sdp::session_description& sdp, clock::time_point now) {
  now_ = now;
  call* c = find_call(ref);
  if (!c || c->ph != call::phase::confirmed) return refuse(ref, "reinvite: call not established");
  if (c->reinvite_in || c->reinvite_out) return refuse(ref, "reinvite: an offer is already pending");
  std::string body = sdp::to_string(sdp);
  c->local_sdp = body;
  send_in_dialog(*c, "INVITE", std::move(body), p_reinvite);
}

void user_agent::hangup(call_ref ref, clock::time_point now) {
  now_ = now;
  call* c = find_call(ref);
  if (!c || c->ph == call::phase::ending || c->ph == call::phase::ended) return refuse(ref, "hangup: no live call");
  if (c->inbound && c->ph == call::phase::early) return reject(ref, 480, "Temporarily Unavailable", now);
  if (!c->inbound && c->ph == call::phase::early) {
    // §9.1: a CANCEL only once the far end has answered provisionally.
    c->cancelled = true;
    if (!c->provisional_seen) {
      c->cancel_pending = true;
      return;
    }
    message cancel;
    cancel.method = "CANCEL";
    cancel.request_uri = c->invite.request_uri;
    cancel.vias = {c->invite.vias.front()};
    cancel.routes = c->invite.routes;
    cancel.max_forwards = 70;
    cancel.from = c->invite.from;
    cancel.to = c->invite.to;
    cancel.call_id = c->invite.call_id;
    cancel.cseq = c->invite.cseq;
    cancel.cseq_method = "CANCEL";
    txn_id id = transactions_.send_request(std::move(cancel), c->flow, now_);
    client_txns_.emplace(id, std::pair{c->ref, static_cast<int>(p_cancel)});
    return;
  }
  c->ph = call::phase::ending;
  c->pending_2xx.clear();
  send_in_dialog(*c, "BYE", {}, p_bye);
}

// ---- responses to our requests ----------------------------------------------------------

void user_agent::send_ack(call& c, const message& response) {
  message ack = in_dialog_request(c, "ACK");
  ack.to = response.to;     // the tag of the 2xx being acknowledged
  ack.cseq = response.cseq; // the INVITE's number (§13.2.2.4)
  c.last_ack = ack.to_string();
  transport_.send(c.flow, c.last_ack);
}

namespace {

// The event a response to one of our requests becomes, with the session description its
// body carries (if it is one).
call_event response_event(call_ref ref, call_event_kind kind, const message& response) {
  call_event e;
  e.ref = ref;
  e.kind = kind;
  e.status = response.status;
  e.reason = response.reason;
  if (!response.body.empty())
    if (auto p = sdp::parse(response.body); auto* s = std::get_if<sdp::session_description>(&p)) e.sdp = std::move(*s);
  return e;
}

}  // namespace

void user_agent::on_response(txn_id id, const message& response) {
  auto it = client_txns_.find(id);
  if (it == client_txns_.end()) {
    // The INVITE transaction stays up after its 2xx (RFC 6026 Accepted) and passes on
    // the peer's retransmissions of it: our ACK was lost, send it again.
    if (response.status >= 200 && response.status < 300 && response.cseq_method == "INVITE")
      on_stray_response(response, {});
    return;
  }
  auto [ref, purpose] = it->second;
  if (response.status >= 200) client_txns_.erase(it);
  call* c = find_call(ref);
  if (!c) return;
  switch (purpose) {
    case p_invite:
      return on_invite_response(*c, response);
    case p_reinvite:
    case p_refresh:
      return on_reinvite_response(*c, response, purpose == p_refresh);
    case p_bye:
      if (response.status >= 200) end_call(*c, end_cause::local_bye, response.status, "hung up", false);
      return;
    default:
      return;  // CANCEL's own response: the INVITE's 487 ends the call
  }
}

void user_agent::on_invite_response(call& c, const message& response) {
  const int status = response.status;
  if (status < 200) {
    c.provisional_seen = true;
    if (const std::string* tag = response.to.tag(); tag && c.remote_tag.empty()) c.remote_tag = *tag;
    if (c.cancel_pending) {  // the owner hung up before anything came back: CANCEL now
      c.cancel_pending = false;
      return hangup(c.ref, now_);
    }
    if (status != 100) events_.on_call_event(response_event(c.ref, call_event_kind::progress, response));
    return;
  }
  if (status >= 300) {
    return end_call(c, c.cancelled ? end_cause::cancelled : end_cause::failed, status, response.reason, false);
  }
  if (c.ph == call::phase::confirmed || c.ph == call::phase::ending) {  // another 2xx (forked or repeated)
    return send_ack(c, response);
  }
  c.remote_tag = response.to.tag() ? *response.to.tag() : std::string();
  c.remote = response.to;
  if (!response.contacts.empty()) c.remote_target = response.contacts.front().uri;
  c.route_set.assign(response.record_routes.rbegin(), response.record_routes.rend());  // §12.1.2
  c.remote_sdp = response.body;
  c.ph = call::phase::confirmed;
  send_ack(c, response);
  if (c.cancelled) return hangup(c.ref, now_);  // the 2xx crossed our CANCEL: the call exists, so end it
  if (const std::string* se = response.header_value("Session-Expires")) {
    if (auto parsed = parse_session_expires(*se)) {
      c.session_interval = parsed->seconds;
      c.we_refresh = parsed->refresher != "uas";
      auto s = std::chrono::seconds(c.we_refresh ? c.session_interval / 2
                                                 : c.session_interval - std::min(32u, c.session_interval / 3));
      c.session_deadline = now_ + s;
    }
  }
  events_.on_call_event(response_event(c.ref, call_event_kind::answered, response));
}

void user_agent::on_reinvite_response(call& c, const message& response, bool refresh_only) {
  const int status = response.status;
  if (status < 200) return;
  c.reinvite_out = 0;
  if (status < 300) {
    send_ack(c, response);
    if (!response.contacts.empty()) c.remote_target = response.contacts.front().uri;
    if (c.session_interval && c.we_refresh) c.session_deadline = now_ + std::chrono::seconds(c.session_interval / 2);
    if (refresh_only) return;
    c.remote_sdp = response.body;
    return events_.on_call_event(response_event(c.ref, call_event_kind::reinvite_answered, response));
  }
  // §12.2.1.2: a 408 or 481 means the dialog is gone.
  if (status == 408 || status == 481) {
    c.ph = call::phase::ending;
    send_in_dialog(c, "BYE", {}, p_bye);
  }
  if (refresh_only) return;
  call_event e = response_event(c.ref, call_event_kind::reinvite_failed, response);
  e.sdp.reset();
  events_.on_call_event(std::move(e));
}

void user_agent::on_stray_response(const message& response, const address&) {
  // A retransmitted 2xx whose transaction is gone: our ACK was lost (§13.2.2.4).
  if (call* c = find_dialog(response, false); c && !c->last_ack.empty()) transport_.send(c->flow, c->last_ack);
}

void user_agent::end_call(call& c, end_cause cause, int status, std::string reason, bool by_remote) {
  call_event e;
  e.ref = c.ref;
  e.kind = call_event_kind::ended;
  e.cause = cause;
  e.status = status;
  e.reason = std::move(reason);
  e.released_by_remote = by_remote;
  invite_servers_.erase(c.invite_txn);
  dialogs_.erase(dialog_key(c.call_id, c.local_tag));
  calls_.erase(c.ref);  // c is gone
  events_.on_call_event(std::move(e));
}

// ---- time ----------------------------------------------------------------------------------

void user_agent::poll(clock::time_point now) {
  now_ = now;
  transactions_.poll(now);
  std::vector<call_ref> no_ack, expired, refresh;
  for (auto& [ref, c] : calls_) {
    if (!c->pending_2xx.empty()) {
      if (now >= c->give_up_2xx) {
        c->pending_2xx.clear();
        no_ack.push_back(ref);
      } else if (!c->flow.reliable() && now >= c->next_2xx) {
        transport_.send(c->flow, c->pending_2xx);
        c->retransmit_interval = std::min(2 * c->retransmit_interval, config_.timers.t2);
        c->next_2xx = now + c->retransmit_interval;
      }
    }
    if (c->session_interval && c->ph == call::phase::confirmed && c->session_deadline != clock::time_point{} &&
        now >= c->session_deadline) {
      (c->we_refresh ? refresh : expired).push_back(ref);
    }
  }
  for (call_ref ref : no_ack) {
    call* c = find_call(ref);
    if (!c) continue;
    bool initial = c->ph == call::phase::answering;
    c->ph = call::phase::ending;
    send_in_dialog(*c, "BYE", {}, p_bye);  // §13.3.1.4: no ACK, so end the dialog
    if (initial) end_call(*c, end_cause::no_ack, 408, "no ACK for our 2xx", false);
  }
  for (call_ref ref : expired) {
    call* c = find_call(ref);
    if (!c) continue;
    c->ph = call::phase::ending;
    send_in_dialog(*c, "BYE", {}, p_bye);
    end_call(*c, end_cause::session_expired, 408, "session timer expired", false);
  }
  for (call_ref ref : refresh) {
    call* c = find_call(ref);
    if (!c) continue;
    c->session_deadline = now + std::chrono::seconds(c->session_interval / 2);
    if (!c->reinvite_in && !c->reinvite_out) send_in_dialog(*c, "INVITE", c->local_sdp, p_refresh);
  }
  if (now >= next_expiry_sweep_) {
    registrar_.expire(now);
    next_expiry_sweep_ = now + std::chrono::seconds(1);
  }
}

}  // namespace hotline::sip
