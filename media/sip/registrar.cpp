#include "media/sip/registrar.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace hotline::sip {
namespace {

std::string flow_key(const address& a) {
  return a.ip + '|' + std::to_string(a.port) + (a.reliable() ? "|t" : "|u");
}

std::optional<uint32_t> contact_expires(const name_addr& c, const message& req, uint32_t default_expires) {
  if (const std::string* e = find_param(c.params, "expires")) {
    if (e->empty() || e->size() > 10 || !std::all_of(e->begin(), e->end(), ::isdigit)) return std::nullopt;
    uint64_t v = std::stoull(*e);
    return static_cast<uint32_t>(std::min<uint64_t>(v, 0xffffffffu));
  }
  if (req.expires) return *req.expires;
  return default_expires;
}

}  // namespace

std::string_view to_string(registration_event::kind k) {
  switch (k) {
    case registration_event::kind::added: return "added";
    case registration_event::kind::refreshed: return "refreshed";
    case registration_event::kind::removed: return "removed";
    case registration_event::kind::expired: return "expired";
  }
  return "unknown";
}

registrar::registrar(registrar_config config, const credential_store& credentials, std::span<const std::byte> nonce_secret,
                     event_sink on_change)
    : config_(std::move(config)),
      credentials_(credentials),
      nonces_(nonce_secret),
      on_change_(std::move(on_change)),
      random_(std::random_device{}()) {}

message registrar::challenge(const message& request, std::chrono::system_clock::time_point wall_now, bool stale) {
  ++counters_.challenged;
  message r = make_response(request, 401);
  std::array<std::byte, 8> rnd;
  uint64_t x = random_();
  std::memcpy(rnd.data(), &x, rnd.size());
  // RFC 8760 §2.4: one challenge per algorithm, most preferred first; a phone picks
  // the first it supports. The same nonce serves all.
  digest::challenge c;
  c.realm = config_.realm;
  c.nonce = nonces_.issue(wall_now, rnd, config_.realm);
  c.qop = "auth";
  c.stale = stale;
  for (auto alg : config_.algorithms) {
    c.alg = alg;
    r.add_header("WWW-Authenticate", digest::format_challenge(c));
  }
  return r;
}

message registrar::handle(const message& request, const address& from, clock::time_point now,
                          std::chrono::system_clock::time_point wall_now) {
  const std::string& user = request.to.uri.user;
  if (!request.to.uri.is_sip() || user.empty()) {
    ++counters_.rejected;
    return make_response(request, 404, "No such user");
  }
  // The credentials for our realm, if the phone sent any (RFC 4475 regaut01: a scheme
  // we do not know is simply not ours).
  std::optional<digest::credentials> creds;
  for (std::string_view value : request.header_values("Authorization")) {
    auto c = digest::parse_authorization(value);
    if (c && c->realm == config_.realm) {
      creds = std::move(c);
      break;
    }
  }
  if (!creds) return challenge(request, wall_now, false);
  auto stored = credentials_.find(creds->username);
  if (!stored || creds->username != user) {
    ++counters_.rejected;  // same answer for an unknown user and a wrong password
    return make_response(request, 403);
  }
  switch (digest::verify(*creds, *stored, request.method, nonces_, wall_now)) {
    case digest::outcome::ok: break;
    case digest::outcome::stale_nonce: return challenge(request, wall_now, true);
    case digest::outcome::bad_nonce: return challenge(request, wall_now, false);
    default: ++counters_.rejected; return make_response(request, 403);
  }

  auto& list = bindings_[user];
  auto remove_all = [&](registration_event::kind why) {
    while (!list.empty()) remove_binding(list, list.size() - 1, why);
  };
  if (request.contact_star) {
    if (!request.expires || *request.expires != 0 || !request.contacts.empty()) {
      ++counters_.rejected;
      return make_response(request, 400, "Contact * needs Expires: 0 and no other contact");
    }
    remove_all(registration_event::kind::removed);
  }
  for (const name_addr& c : request.contacts) {
    auto expires = contact_expires(c, request, config_.default_expires);
    if (!expires) {
      ++counters_.rejected;
      return make_response(request, 400, "bad contact expires");
    }
    if (*expires != 0 && *expires < config_.min_expires) {
      ++counters_.rejected;
      message r = make_response(request, 423);
      r.add_header("Min-Expires", std::to_string(config_.min_expires));
      return r;
    }
  }
  for (const name_addr& c : request.contacts) {
    uint32_t expires = std::min(*contact_expires(c, request, config_.default_expires), config_.max_expires);
    std::string uri = c.uri.to_string();
    auto it = std::find_if(list.begin(), list.end(), [&](const binding& b) { return b.contact.uri.to_string() == uri; });
    if (it != list.end() && it->call_id == request.call_id && request.cseq <= it->cseq) continue;  // out of order
    if (expires == 0) {
      if (it != list.end()) remove_binding(list, static_cast<size_t>(it - list.begin()), registration_event::kind::removed);
      continue;
    }
    binding b;
    b.user = user;
    b.contact = c;
    b.contact.params.erase(std::remove_if(b.contact.params.begin(), b.contact.params.end(),
                                          [](const param& p) { return iequals(p.first, "expires"); }),
                           b.contact.params.end());
    b.flow = from;
    b.call_id = request.call_id;
    b.cseq = request.cseq;
    b.expires_s = expires;
    b.expires_at = now + std::chrono::seconds(expires);
    if (const std::string* ua = request.header_value("User-Agent")) b.user_agent = *ua;
    registration_event::kind what = registration_event::kind::added;
    if (it != list.end()) {
      what = registration_event::kind::refreshed;
      unindex_flow(*it);
      *it = std::move(b);
      index_flow(*it);
    } else {
      if (list.size() >= config_.max_contacts_per_user) {
        ++counters_.rejected;
        return make_response(request, 403, "Too many contacts");
      }
      list.push_back(std::move(b));
      index_flow(list.back());
    }
    const binding& now_bound = what == registration_event::kind::added ? list.back() : *it;
    if (on_change_) on_change_({what, user, uri, now_bound.flow, list.size()});
  }
  ++counters_.accepted;
  message r = make_response(request, 200);
  for (const binding& b : list) {
    name_addr c = b.contact;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count();
    set_param(c.params, "expires", std::to_string(std::max<int64_t>(left, 0)));
    r.contacts.push_back(std::move(c));
  }
  if (list.empty()) bindings_.erase(user);
  return r;
}

void registrar::remove_binding(std::vector<binding>& list, size_t index, registration_event::kind why) {
  binding b = std::move(list[index]);
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(index));
  unindex_flow(b);
  if (on_change_) on_change_({why, b.user, b.contact.uri.to_string(), b.flow, list.size()});
}

void registrar::expire(clock::time_point now) {
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto& list = it->second;
    for (size_t i = list.size(); i-- > 0;)
      if (list[i].expires_at <= now) remove_binding(list, i, registration_event::kind::expired);
    it = list.empty() ? bindings_.erase(it) : std::next(it);
  }
}

std::vector<binding> registrar::lookup(std::string_view user) const {
  auto it = bindings_.find(std::string(user));
  if (it == bindings_.end()) return {};
  std::vector<binding> out = it->second;
  // Most recent registration first: the phone the agent touched last.
  std::sort(out.begin(), out.end(), [](const binding& a, const binding& b) { return a.expires_at > b.expires_at; });
  return out;
}

const std::string* registrar::user_of_flow(const address& from) const {
  auto it = flows_.find(flow_key(from));
  return it == flows_.end() ? nullptr : &it->second.first;
}

size_t registrar::binding_count() const {
  size_t n = 0;
  for (const auto& [user, list] : bindings_) n += list.size();
  return n;
}

void registrar::index_flow(const binding& b) {
  auto& entry = flows_[flow_key(b.flow)];
  entry.first = b.user;
  ++entry.second;
}

void registrar::unindex_flow(const binding& b) {
  auto it = flows_.find(flow_key(b.flow));
  if (it != flows_.end() && --it->second.second == 0) flows_.erase(it);
}

}  // namespace hotline::sip
