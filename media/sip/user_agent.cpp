#include "media/sip/user_agent.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "media/sip/call_state.hpp"
#include "media/sip/parser.hpp"

namespace hotline::sip {

using namespace detail;

namespace {

constexpr std::string_view allow_methods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER";
constexpr std::string_view known_methods[] = {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "UPDATE", "REGISTER",
                                              "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER"};

// ---- IP allow-lists ---------------------------------------------------------------

bool cidr_contains(std::string_view cidr, const ip_bytes& ip) {
  size_t slash = cidr.find('/');
  auto net = to_ip(cidr.substr(0, slash));
  if (!net || net->family != ip.family) return false;
  int max_bits = ip.family == AF_INET ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) bits = std::atoi(std::string(cidr.substr(slash + 1)).c_str());
  bits = std::clamp(bits, 0, max_bits);
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((net->b[byte] >> bit) & 1) != ((ip.b[byte] >> bit) & 1)) return false;
  }
  return true;
}

// "Signal=5\r\nDuration=160" (application/dtmf-relay, as Cisco and most phones send it)
bool parse_dtmf_relay(std::string_view body, char& digit, uint32_t& duration) {
  digit = 0;
  duration = 0;
  while (!body.empty()) {
    size_t eol = body.find('\n');
    std::string_view line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (iequals(key, "Signal") && !value.empty()) {
      char d = static_cast<char>(std::toupper(static_cast<unsigned char>(value[0])));
      if (std::isdigit(static_cast<unsigned char>(d)) || d == '*' || d == '#' || (d >= 'A' && d <= 'D')) digit = d;
    } else if (iequals(key, "Duration") && !value.empty() && value.size() < 7 &&
               std::all_of(value.begin(), value.end(), ::isdigit)) {
      duration = static_cast<uint32_t>(std::stoul(std::string(value)));
    }
  }
  return digit != 0;
}

}  // namespace

std::string_view to_string(call_event_kind k) {
  switch (k) {
    case call_event_kind::progress: return "progress";
    case call_event_kind::answered: return "answered";
    case call_event_kind::confirmed: return "confirmed";
    case call_event_kind::reinvite_offer: return "reinvite_offer";
    case call_event_kind::reinvite_answered: return "reinvite_answered";
    case call_event_kind::reinvite_failed: return "reinvite_failed";
    case call_event_kind::dtmf: return "dtmf";
    case call_event_kind::ended: return "ended";
    case call_event_kind::operation_refused: return "operation_refused";
  }
  return "unknown";
}

std::string_view to_string(end_cause c) {
  switch (c) {
    case end_cause::none: return "none";
    case end_cause::remote_bye: return "remote_bye";
    case end_cause::local_bye: return "local_bye";
    case end_cause::cancelled: return "cancelled";
    case end_cause::rejected: return "rejected";
    case end_cause::failed: return "failed";
    case end_cause::no_ack: return "no_ack";
    case end_cause::session_expired: return "session_expired";
  }
  return "unknown";
}

std::string to_string(const address& a) {
  std::string out(a.kind == transport_kind::udp ? "udp:" : "tcp:");
  if (a.ip.find(':') != std::string::npos) out += '[' + a.ip + ']';
  else out += a.ip;
  return out + ':' + std::to_string(a.port);
}

std::string_view via_transport(transport_kind k) { return k == transport_kind::udp ? "UDP" : "TCP"; }

user_agent::user_agent(user_agent_config config, transport_sender& transport, const credential_store& credentials,
                       std::span<const std::byte> nonce_secret, event_handler& events, std::function<double()> cpu_load,
                       log_sink log)
    : config_(std::move(config)),
      credentials_(credentials),
      transport_(transport),
      events_(events),
      cpu_load_(std::move(cpu_load)),
      log_(std::move(log)),
      transactions_(transport, *this, config_.timers),
      registrar_(config_.registrar, credentials, nonce_secret,
                 [this](const registration_event& e) { events_.on_registration(e); }),
      token_state_(std::random_device{}() * 0x9e3779b97f4a7c15ull ^ std::random_device{}()) {}

user_agent::~user_agent() = default;

std::string user_agent::random_token(size_t chars) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(chars);
  for (size_t i = 0; i < chars; ++i) {
    // splitmix64: tags and Call-IDs need uniqueness, not secrecy.
    uint64_t z = (token_state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    out += alphabet[(z ^ (z >> 31)) % 36];
  }
  return out;
}

user_agent_stats user_agent::stats() const {
  user_agent_stats s = stats_;
  s.active_calls = calls_.size();
  return s;
}

user_agent::call* user_agent::find_call(call_ref ref) {
  auto it = calls_.find(ref);
  return it == calls_.end() ? nullptr : it->second.get();
}

user_agent::call* user_agent::find_dialog(const message& m, bool we_are_uas_of_it) {
  // Requests from the peer carry our tag in To; responses to our requests in From.
  const std::string* tag = we_are_uas_of_it ? m.to.tag() : m.from.tag();
  if (!tag) return nullptr;
  auto it = dialogs_.find(dialog_key(m.call_id, *tag));
  return it == dialogs_.end() ? nullptr : find_call(it->second);
}

name_addr user_agent::local_contact(transport_kind kind) const {
  address local = transport_.local_address(kind);
  name_addr c;
  c.uri.user = "hotline";
  c.uri.host = local.ip;
  c.uri.port = local.port;
  if (kind == transport_kind::tcp) c.uri.params.emplace_back("transport", "tcp");
  return c;
}

// Our Via for a new request: a fresh branch, and rport so NATed peers answer where
// we really sent from (RFC 3581).
via user_agent::our_via(transport_kind kind) {
  address local = transport_.local_address(kind);
  via v;
  v.transport = std::string(via_transport(kind));
  v.host = local.ip;
  v.port = local.port;
  v.params = {{"branch", transactions_.new_branch()}, {"rport", ""}};
  return v;
}

void user_agent::add_common_headers(message& m) const {
  m.add_header("Allow", std::string(allow_methods));
  m.add_header("Supported", "timer");
  m.add_header(m.is_request() ? "User-Agent" : "Server", config_.user_agent);
}

const trunk_config* user_agent::trunk_for(const address& from) const {
  auto ip = to_ip(from.ip);
  if (!ip) return nullptr;
  for (const trunk_config& t : config_.trunks)
    for (const std::string& allowed : t.allow)
      if (cidr_contains(allowed, *ip)) return &t;
  return nullptr;
}

sdp::endpoint_policy user_agent::phone_policy(std::string_view user) const {
  return credentials_.policy(user).value_or(config_.phone_policy);
}

// ---- input --------------------------------------------------------------------------

void user_agent::receive(std::string_view bytes, const address& from, clock::time_point now,
                         std::chrono::system_clock::time_point wall_now) {
  now_ = now;
  wall_now_ = wall_now;
  parse_result r = parse(bytes, from.reliable() ? framing::stream : framing::datagram);
  if (auto* e = std::get_if<parse_error>(&r)) {
    ++stats_.bad_messages;
    if (log_) log_("warn", "bad SIP message from " + to_string(from) + ": " + e->reason);
    if (!e->reply.empty()) transport_.send(from, e->reply);
    return;
  }
  auto* m = std::get_if<message>(&r);
  if (!m) return;  // keep-alive
  if (m->is_request()) ++stats_.requests;
  else ++stats_.responses;
  transactions_.receive(std::move(*m), from, now);
}

void user_agent::respond(txn_id id, message response) {
  add_common_headers(response);
  transactions_.respond(id, std::move(response), now_);
}

void user_agent::reply(txn_id id, const message& request, int status, std::string_view reason) {
  message r = make_response(request, status, reason, status >= 200 ? random_token(10) : std::string());
  respond(id, std::move(r));
}

void user_agent::on_request(txn_id id, const message& request, const address& from) {
  const std::string& method = request.method;
  if (!request.request_uri.is_sip() && request.request_uri.scheme != "tel") {
    message r = make_response(request, 416, {}, random_token(10));
    respond(id, std::move(r));
    return;
  }
  // RFC 3261 §8.2.2.3: option tags we do not know, listed back (RFC 4475 bext01).
  std::string unsupported;
  for (std::string_view v : request.header_values("Require")) {
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view tag = v.substr(0, comma);
      while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
      while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
      if (!tag.empty() && !iequals(tag, "timer")) unsupported += (unsupported.empty() ? "" : ", ") + std::string(tag);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  if (!unsupported.empty() && method != "CANCEL") {
    message r = make_response(request, 420, {}, random_token(10));
    r.add_header("Unsupported", unsupported);
    respond(id, std::move(r));
    return;
  }
  if (method == "CANCEL") return handle_cancel(id, request);
  if (request.to.tag()) {
    if (call* c = find_dialog(request, true)) return handle_in_dialog(id, request, *c);
    reply(id, request, 481);
    return;
  }
  if (method == "INVITE") return handle_invite(id, request, from);
  if (method == "OPTIONS") return handle_options(id, request);
  if (method == "REGISTER") {
    message r = registrar_.handle(request, from, now_, wall_now_);
    if (!r.to.tag()) set_param(r.to.params, "tag", random_token(10));
    respond(id, std::move(r));
    return;
  }
  if (method == "BYE" || method == "INFO" || method == "UPDATE") {
    reply(id, request, 481);
    return;
  }
  bool known = std::find(std::begin(known_methods), std::end(known_methods), method) != std::end(known_methods);
  reply(id, request, known ? 405 : 501);
}

void user_agent::handle_options(txn_id id, const message& request) {
  // Trunks probe with OPTIONS as a keep-alive: answer what we can do.
  message r = make_response(request, 200, {}, random_token(10));
  r.add_header("Accept", "application/sdp");
  r.contacts.push_back(local_contact(transport_kind::udp));
  respond(id, std::move(r));
}

// Who may call in: a configured trunk, or a phone registered from this address; and only
// while there is room (admission control: new calls only, calls in progress are never
// touched). False once the INVITE has been answered with why not.
bool user_agent::admit_invite(txn_id id, const message& request, const address& from, incoming_call& in) {
  if (const trunk_config* trunk = trunk_for(from)) {
    in.trunk = trunk->name;
    in.policy = trunk->policy;
  } else {
    const std::string* user = registrar_.user_of_flow(from);
    if (!user) {
      ++stats_.rejected_forbidden;
      if (log_) log_("info", "INVITE from unknown source " + to_string(from) + " refused (403)");
      reply(id, request, 403, "Not a trunk or registered phone");
      return false;
    }
    in.registered_user = *user;
    in.policy = phone_policy(*user);
  }
  double cpu = cpu_load_ ? cpu_load_() : 0.0;
  if (calls_.size() >= config_.max_calls || cpu > config_.max_cpu) {
    ++stats_.rejected_overload;
    message r = make_response(request, 503, calls_.size() >= config_.max_calls ? "Too many calls" : "Overloaded",
                              random_token(10));
    r.add_header("Retry-After", std::to_string(config_.retry_after_s));
    respond(id, std::move(r));
    return false;
  }
  return true;
}

// The INVITE's offer, if it carries one. False once the INVITE has been answered with what
// is wrong with its body.
bool user_agent::take_offer(txn_id id, const message& request, incoming_call& in) {
  if (request.body.empty()) return true;  // an offerless INVITE: our 2xx offers
  if (const std::string* accept = request.header_value("Accept");
      accept && accept->find("application/sdp") == std::string::npos) {
    respond(id, make_response(request, 406, {}, random_token(10)));  // RFC 4475 sdp01: our answer could not be SDP
    return false;
  }
  if (!iequals(request.content_type.substr(0, request.content_type.find(';')), "application/sdp")) {
    message r = make_response(request, 415, {}, random_token(10));
    r.add_header("Accept", "application/sdp");
    respond(id, std::move(r));
    return false;
  }
  auto parsed = sdp::parse(request.body);
  if (auto* err = std::get_if<sdp::parse_error>(&parsed)) {
    reply(id, request, 400, "Bad SDP: " + err->message);
    return false;
  }
  in.offer = std::get<sdp::session_description>(std::move(parsed));
  return true;
}

// The session timer the INVITE asks for (RFC 4028), into `c`. False once the INVITE has
// been answered with why it cannot have it.
bool user_agent::take_session_timer(txn_id id, const message& request, call& c) {
  const std::string* se_value = request.header_value("Session-Expires");
  if (!se_value) return true;
  auto se = parse_session_expires(*se_value);
  if (!se) {
    reply(id, request, 400, "Bad Session-Expires");
    return false;
  }
  if (se->seconds < config_.min_session_expires) {
    message r = make_response(request, 422, {}, random_token(10));
    r.add_header("Min-SE", std::to_string(config_.min_session_expires));
    respond(id, std::move(r));
    return false;
  }
  c.session_interval = se->seconds;
  // RFC 4028 §9: the UAC's choice stands; if it left it open and supports timers it
  // refreshes, otherwise we do.
  c.we_refresh = se->refresher == "uas" || (se->refresher.empty() && !request.has_option("Supported", "timer"));
  return true;
}

void user_agent::handle_invite(txn_id id, const message& request, const address& from) {
  incoming_call in;
  if (!admit_invite(id, request, from, in)) return;
  if (request.contacts.empty()) {
    reply(id, request, 400, "INVITE without Contact");
    return;
  }
  if (!take_offer(id, request, in)) return;
  auto c = std::make_unique<call>();
  if (!take_session_timer(id, request, *c)) return;

  c->ref = new_ref();
  c->inbound = true;
  c->call_id = request.call_id;
  c->local_tag = random_token(12);
  c->remote_tag = request.from.tag() ? *request.from.tag() : std::string();
  c->local = request.to;
  c->remote = request.from;
  c->remote_target = request.contacts.front().uri;
  c->route_set = request.record_routes;
  c->remote_cseq = request.cseq;
  c->flow = transaction_layer::response_address(request, from);
  c->invite_txn = id;
  c->invite = request;
  c->remote_sdp = request.body;
  in.ref = c->ref;
  in.call_id = request.call_id;
  in.from = request.from;
  in.to = request.to;
  in.request_uri = request.request_uri;
  in.dialled = request.request_uri.user;
  in.source = from;
  in.headers = request.headers;
  dialogs_.emplace(dialog_key(c->call_id, c->local_tag), c->ref);
  invite_servers_.emplace(id, c->ref);
  calls_.emplace(c->ref, std::move(c));
  ++stats_.calls_in;
  events_.on_incoming(std::move(in));
}

void user_agent::handle_cancel(txn_id id, const message& request) {
  txn_id invite = transactions_.find_invite_server(request);
  auto it = invite ? invite_servers_.find(invite) : invite_servers_.end();
  if (it == invite_servers_.end()) {
    reply(id, request, 481);
    return;
  }
  reply(id, request, 200);
  call* c = find_call(it->second);
  if (!c || c->ph != call::phase::early) return;  // already answered: the CANCEL changes nothing (§9.2)
  message r = make_response(c->invite, 487, {}, c->local_tag);
  respond(c->invite_txn, std::move(r));
  end_call(*c, end_cause::cancelled, 487, "caller cancelled", true);
}

void user_agent::handle_in_dialog(txn_id id, const message& request, call& c) {
  if (request.cseq <= c.remote_cseq && c.remote_cseq != 0 && request.method != "ACK") {
    reply(id, request, 500, "CSeq out of order");  // §12.2.2
    return;
  }
  c.remote_cseq = request.cseq;
  const std::string& method = request.method;
  if (method == "BYE") {
    if (c.reinvite_in) {
      message r = make_response(c.reinvite_request, 487, {}, c.local_tag);
      respond(c.reinvite_in, std::move(r));
      c.reinvite_in = 0;
    }
    reply(id, request, 200);
    end_call(c, end_cause::remote_bye, 0, "remote hung up", true);
    return;
  }
  if (method == "INVITE") return handle_reinvite(id, request, c);
  if (method == "UPDATE") {  // a session refresh without SDP (RFC 4028 §7.4)
    if (!request.body.empty()) {
      reply(id, request, 488, "UPDATE with SDP not supported; use re-INVITE");
      return;
    }
    message r = make_response(request, 200, {}, c.local_tag);
    if (c.session_interval) {
      r.add_header("Session-Expires", std::to_string(c.session_interval) + ";refresher=" + (c.we_refresh ? "uas" : "uac"));
      if (!c.we_refresh) c.session_deadline = now_ + std::chrono::seconds(c.session_interval - std::min(32u, c.session_interval / 3));
    }
    respond(id, std::move(r));
    return;
  }
  if (method == "INFO") {
    call_event e;
    e.ref = c.ref;
    e.kind = call_event_kind::dtmf;
    bool dtmf = iequals(request.content_type.substr(0, request.content_type.find(';')), "application/dtmf-relay") &&
                parse_dtmf_relay(request.body, e.digit, e.duration_ms);
    reply(id, request, 200);
    if (dtmf) events_.on_call_event(std::move(e));
    return;
  }
  if (method == "OPTIONS") return handle_options(id, request);
  bool known = std::find(std::begin(known_methods), std::end(known_methods), method) != std::end(known_methods);
  reply(id, request, known ? 405 : 501);
}

void user_agent::handle_reinvite(txn_id id, const message& request, call& c) {
  if (c.reinvite_in || c.reinvite_out || c.ph != call::phase::confirmed) {
    reply(id, request, 491);  // §14.2: one offer/answer at a time
    return;
  }
  if (!request.contacts.empty()) c.remote_target = request.contacts.front().uri;  // target refresh (§12.2)
  if (c.session_interval && !c.we_refresh)
    c.session_deadline = now_ + std::chrono::seconds(c.session_interval - std::min(32u, c.session_interval / 3));
  // A session refresh repeats the last offer unchanged (RFC 3264 §8, RFC 4028): we
  // answer with the last answer and bother nobody.
  if (request.body.empty() || request.body == c.remote_sdp) {
    send_2xx(c, id, request, c.local_sdp);
    return;
  }
  auto parsed = sdp::parse(request.body);
  if (auto* err = std::get_if<sdp::parse_error>(&parsed)) {
    reply(id, request, 400, "Bad SDP: " + err->message);
    return;
  }
  c.reinvite_in = id;
  c.reinvite_request = request;
  call_event e;
  e.ref = c.ref;
  e.kind = call_event_kind::reinvite_offer;
  e.sdp = std::get<sdp::session_description>(std::move(parsed));
  events_.on_call_event(std::move(e));
}

void user_agent::on_ack(const message& ack, const address&) {
  call* c = find_dialog(ack, true);
  if (!c || c->pending_2xx.empty()) return;
  c->pending_2xx.clear();
  if (c->ph != call::phase::answering) return;  // the ACK for a re-INVITE's 2xx
  c->ph = call::phase::confirmed;
  call_event e;
  e.ref = c->ref;
  e.kind = call_event_kind::confirmed;
  if (!ack.body.empty()) {
    auto parsed = sdp::parse(ack.body);
    if (auto* s = std::get_if<sdp::session_description>(&parsed)) e.sdp = std::move(*s);
    c->remote_sdp = ack.body;
  }
  events_.on_call_event(std::move(e));
}

void user_agent::on_server_timeout(txn_id id) { invite_servers_.erase(id); }

}  // namespace hotline::sip
