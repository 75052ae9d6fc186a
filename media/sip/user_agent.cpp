#include "media/sip/user_agent.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "media/sip/parser.hpp"

namespace hotline::sip {
namespace {

enum purpose : int { p_invite = 1, p_reinvite, p_refresh, p_bye, p_cancel };

constexpr std::string_view allow_methods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER";
constexpr std::string_view known_methods[] = {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "UPDATE", "REGISTER",
                                              "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER"};

// ---- IP allow-lists ---------------------------------------------------------------

struct ip_bytes {
  std::array<unsigned char, 16> b{};
  int family = 0;
};

std::optional<ip_bytes> to_ip(std::string_view text) {
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

// "1800;refresher=uac" (RFC 4028 §4)
struct session_expires {
  uint32_t seconds = 0;
  std::string refresher;
};
std::optional<session_expires> parse_session_expires(std::string_view v) {
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

std::string dialog_key(std::string_view call_id, std::string_view local_tag) {
  std::string k(call_id);
  k += '|';
  k += local_tag;
  return k;
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

// ---- the call --------------------------------------------------------------------------

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

void user_agent::handle_invite(txn_id id, const message& request, const address& from) {
  // Who may call in: a configured trunk, or a phone registered from this address.
  incoming_call in;
  if (const trunk_config* trunk = trunk_for(from)) {
    in.trunk = trunk->name;
    in.policy = trunk->policy;
  } else {
    const std::string* user = registrar_.user_of_flow(from);
    if (!user) {
      ++stats_.rejected_forbidden;
      if (log_) log_("info", "INVITE from unknown source " + to_string(from) + " refused (403)");
      reply(id, request, 403, "Not a trunk or registered phone");
      return;
    }
    in.registered_user = *user;
    in.policy = phone_policy(*user);
  }
  // Admission control: new calls only; calls in progress are never touched.
  double cpu = cpu_load_ ? cpu_load_() : 0.0;
  if (calls_.size() >= config_.max_calls || cpu > config_.max_cpu) {
    ++stats_.rejected_overload;
    message r = make_response(request, 503, calls_.size() >= config_.max_calls ? "Too many calls" : "Overloaded",
                              random_token(10));
    r.add_header("Retry-After", std::to_string(config_.retry_after_s));
    respond(id, std::move(r));
    return;
  }
  if (request.contacts.empty()) {
    reply(id, request, 400, "INVITE without Contact");
    return;
  }
  if (!request.body.empty()) {
    if (const std::string* accept = request.header_value("Accept");
        accept && accept->find("application/sdp") == std::string::npos) {
      message r = make_response(request, 406, {}, random_token(10));
      respond(id, std::move(r));  // RFC 4475 sdp01: our answer could not be SDP
      return;
    }
    if (!iequals(request.content_type.substr(0, request.content_type.find(';')), "application/sdp")) {
      message r = make_response(request, 415, {}, random_token(10));
      r.add_header("Accept", "application/sdp");
      respond(id, std::move(r));
      return;
    }
    auto parsed = sdp::parse(request.body);
    if (auto* err = std::get_if<sdp::parse_error>(&parsed)) {
      reply(id, request, 400, "Bad SDP: " + err->message);
      return;
    }
    in.offer = std::get<sdp::session_description>(std::move(parsed));
  }
  uint32_t interval = 0;
  bool we_refresh = false;
  if (const std::string* se_value = request.header_value("Session-Expires")) {
    auto se = parse_session_expires(*se_value);
    if (!se) {
      reply(id, request, 400, "Bad Session-Expires");
      return;
    }
    if (se->seconds < config_.min_session_expires) {
      message r = make_response(request, 422, {}, random_token(10));
      r.add_header("Min-SE", std::to_string(config_.min_session_expires));
      respond(id, std::move(r));
      return;
    }
    interval = se->seconds;
    // RFC 4028 §9: the UAC's choice stands; if it left it open and supports timers it
    // refreshes, otherwise we do.
    we_refresh = se->refresher == "uas" || (se->refresher.empty() && !request.has_option("Supported", "timer"));
  }

  auto c = std::make_unique<call>();
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
  c->session_interval = interval;
  c->we_refresh = we_refresh;
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
  int status = response.status;
  switch (purpose) {
    case p_invite: {
      if (status < 200) {
        c->provisional_seen = true;
        if (const std::string* tag = response.to.tag(); tag && c->remote_tag.empty()) c->remote_tag = *tag;
        if (c->cancel_pending) {
          c->cancel_pending = false;
          hangup(ref, now_);
          return;
        }
        if (status == 100) return;
        call_event e;
        e.ref = ref;
        e.kind = call_event_kind::progress;
        e.status = status;
        e.reason = response.reason;
        if (!response.body.empty())
          if (auto p = sdp::parse(response.body); auto* s = std::get_if<sdp::session_description>(&p)) e.sdp = std::move(*s);
        events_.on_call_event(std::move(e));
        return;
      }
      if (status < 300) {
        if (c->ph == call::phase::confirmed || c->ph == call::phase::ending) {  // another 2xx (forked or repeated)
          send_ack(*c, response);
          return;
        }
        c->remote_tag = response.to.tag() ? *response.to.tag() : std::string();
        c->remote = response.to;
        if (!response.contacts.empty()) c->remote_target = response.contacts.front().uri;
        c->route_set.assign(response.record_routes.rbegin(), response.record_routes.rend());  // §12.1.2
        c->remote_sdp = response.body;
        c->ph = call::phase::confirmed;
        send_ack(*c, response);
        if (c->cancelled) {  // the 2xx crossed our CANCEL: the call exists, so end it
          hangup(ref, now_);
          return;
        }
        if (const std::string* se = response.header_value("Session-Expires")) {
          if (auto parsed = parse_session_expires(*se)) {
            c->session_interval = parsed->seconds;
            c->we_refresh = parsed->refresher != "uas";
            auto s = std::chrono::seconds(c->we_refresh ? c->session_interval / 2
                                                        : c->session_interval - std::min(32u, c->session_interval / 3));
            c->session_deadline = now_ + s;
          }
        }
        call_event e;
        e.ref = ref;
        e.kind = call_event_kind::answered;
        e.status = status;
        if (auto p = sdp::parse(response.body); auto* s = std::get_if<sdp::session_description>(&p)) e.sdp = std::move(*s);
        events_.on_call_event(std::move(e));
        return;
      }
      end_call(*c, c->cancelled ? end_cause::cancelled : end_cause::failed, status, response.reason, false);
      return;
    }
    case p_reinvite:
    case p_refresh: {
      if (status < 200) return;
      c->reinvite_out = 0;
      if (status < 300) {
        send_ack(*c, response);
        if (!response.contacts.empty()) c->remote_target = response.contacts.front().uri;
        if (c->session_interval && c->we_refresh) c->session_deadline = now_ + std::chrono::seconds(c->session_interval / 2);
        if (purpose == p_refresh) return;
        c->remote_sdp = response.body;
        call_event e;
        e.ref = ref;
        e.kind = call_event_kind::reinvite_answered;
        e.status = status;
        if (auto p = sdp::parse(response.body); auto* s = std::get_if<sdp::session_description>(&p)) e.sdp = std::move(*s);
        events_.on_call_event(std::move(e));
        return;
      }
      // §12.2.1.2: a 408 or 481 means the dialog is gone.
      if (status == 408 || status == 481) {
        c->ph = call::phase::ending;
        send_in_dialog(*c, "BYE", {}, p_bye);
      }
      if (purpose == p_refresh) return;
      call_event e;
      e.ref = ref;
      e.kind = call_event_kind::reinvite_failed;
      e.status = status;
      e.reason = response.reason;
      events_.on_call_event(std::move(e));
      return;
    }
    case p_bye:
      if (status >= 200) end_call(*c, end_cause::local_bye, status, "hung up", false);
      return;
    default:
      return;  // CANCEL's own response: the INVITE's 487 ends the call
  }
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
