#include "api/v1/call_routes.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::api {

namespace json = boost::json;
using auth::principal;

namespace {

// A list request examines at most this many records (filters that match rarely return
// fewer items and a cursor to go on from).
constexpr size_t scan_budget = 20000;

// Decimal digits only, within 64 bits.
std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
int64_t num(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : v && v->is_uint64() ? static_cast<int64_t>(v->as_uint64()) : 0;
}

// The record as the API gives it: ids as strings (a call id is past what a JavaScript
// number holds exactly), without the storage envelope.
json::object for_client(json::object rec) {
  rec.erase("v");
  if (auto* id = rec.if_contains("id"); id && (id->is_uint64() || id->is_int64()))
    *id = std::to_string(id->is_uint64() ? id->as_uint64() : static_cast<uint64_t>(id->as_int64()));
  if (auto* of = rec.if_contains("callback_of"); of && (of->is_uint64() || of->is_int64()))
    *of = std::to_string(of->is_uint64() ? of->as_uint64() : static_cast<uint64_t>(of->as_int64()));
  rec["has_recording"] = !str(rec, "recording").empty();
  return rec;
}

// "bytes=a-b", "bytes=a-", "bytes=-n" of a `size`-byte body as [begin, end); the whole
// body without a Range header; nullopt if it cannot be served (416).
std::optional<std::pair<size_t, size_t>> byte_range(const std::string& header, size_t size) {
  if (header.empty()) return std::pair<size_t, size_t>{0, size};
  constexpr std::string_view unit = "bytes=";
  if (header.compare(0, unit.size(), unit) != 0 || header.find(',') != std::string::npos) return std::nullopt;
  const std::string spec = header.substr(unit.size());
  const auto dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  const std::string first = spec.substr(0, dash), last = spec.substr(dash + 1);
  if (first.empty()) {  // the last n bytes
    auto n = parse_u64(last);
    if (!n || *n == 0 || size == 0) return std::nullopt;
    return std::pair<size_t, size_t>{size - std::min<size_t>(*n, size), size};
  }
  auto begin = parse_u64(first);
  if (!begin || *begin >= size) return std::nullopt;
  size_t end = size;
  if (!last.empty()) {
    auto l = parse_u64(last);
    if (!l || *l < *begin) return std::nullopt;
    end = std::min<size_t>(*l + 1, size);
  }
  return std::pair<size_t, size_t>{*begin, end};
}

class call_routes {
 public:
  call_routes(const storage::env& env, const config::config& cfg, auth::accounts& accounts, audit_fn audit)
      : env_(env), cfg_(cfg), accounts_(accounts), audit_(std::move(audit)) {}

  // Supervisors and admins of this node's site (N-60) see every call; an agent the calls
  // they answered. nullopt: may not look at all.
  struct scope {
    bool everything = false;
    std::string agent;  // work id, when not everything
  };
  std::optional<scope> scope_of(const principal& who) const {
    if ((who.is_admin() || who.has(auth::role::supervisor)) && who.may_see_site(cfg_.server.site))
      return scope{true, {}};
    if (who.has(auth::role::agent) && who.may_see_site(cfg_.server.site)) {
      auto u = accounts_.find(who.username);
      if (u && !u->work_id.empty()) return scope{false, u->work_id};
    }
    return std::nullopt;
  }
  static bool in_scope(const scope& s, const json::object& rec) { return s.everything || str(rec, "agent") == s.agent; }

  // GET /v1/calls?cursor=&limit=&from_ms=&to_ms=&agent=&number=&queue=&outcome=
  void list(call& c) const {
    auto sc = scope_of(*c.who);
    if (!sc) return c.fail(forbidden("call records are for this site's supervisors, admins and agents"));
    std::string before;
    if (auto cur = c.query("cursor"); !cur.empty()) {
      auto id = parse_u64(cur);
      if (!id) return c.fail(bad_request("invalid_value", "cursor must be a call id", "cursor"));
      before = storage::be64(*id);
    }
    std::optional<int64_t> from_ms, to_ms;
    for (auto [name, out] : {std::pair{"from_ms", &from_ms}, std::pair{"to_ms", &to_ms}}) {
      auto v = c.query(name);
      if (v.empty()) continue;
      auto n = parse_u64(v);
      if (!n) return c.fail(bad_request("invalid_value", std::string(name) + " must be milliseconds since 1970", name));
      *out = static_cast<int64_t>(*n);
    }
    const std::string agent = c.query("agent"), number = c.query("number"), queue = c.query("queue"),
                      outcome = c.query("outcome");
    const size_t limit = c.limit(50, 200);
    json::array items;
    size_t examined = 0;
    std::string last_key;
    bool budget_spent = false;
    auto txn = env_.read();
    if (!txn.ok()) return c.fail({503, "unavailable", "storage: " + txn.error().message()});
    txn.scan_reverse(storage::table::calls, before, [&](std::string_view key, std::string_view v) {
      last_key.assign(key);
      if (++examined > scan_budget) {
        budget_spent = true;
        return false;
      }
      auto rec = storage::decode_record(v);
      if (!rec || !in_scope(*sc, *rec)) return true;
      const int64_t started = num(*rec, "started_ms");
      if (from_ms && started < *from_ms) return false;  // newest first: nothing older matches
      if (to_ms && started >= *to_ms) return true;
      if ((!agent.empty() && str(*rec, "agent") != agent) || (!number.empty() && str(*rec, "from") != number) ||
          (!queue.empty() && str(*rec, "queue") != queue) || (!outcome.empty() && str(*rec, "outcome") != outcome))
        return true;
      rec->erase("media");  // per-leg figures: GET /v1/calls/{id}
      items.push_back(for_client(std::move(*rec)));
      return items.size() < limit;
    });
    // Where to go on from: after the last item, or (the budget spent) from the record not
    // examined, the cursor being exclusive.
    json::value next = nullptr;
    if (auto last = storage::from_be64(last_key); last && (items.size() == limit || budget_spent))
      next = std::to_string(budget_spent ? *last + 1 : *last);
    c.ok(json::serialize(json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}}));
  }

  // The record of call `id` in the caller's scope, or a failure already answered.
  std::optional<json::object> find(call& c, const std::string& id_text) const {
    auto sc = scope_of(*c.who);
    std::optional<uint64_t> id = parse_u64(id_text);
    if (!sc) c.fail(forbidden("call records are for this site's supervisors, admins and agents"));
    else if (!id) c.fail(bad_request("invalid_value", "a call id is a number", "id"));
    if (!sc || !id) return std::nullopt;
    auto txn = env_.read();
    auto v = txn.ok() ? txn.get(storage::table::calls, storage::be64(*id)) : std::nullopt;
    auto rec = v ? storage::decode_record(*v) : std::nullopt;
    if (!rec || !in_scope(*sc, *rec)) {
      c.fail({404, "not_found", "no call " + id_text});
      return std::nullopt;
    }
    if (auto notes = txn.get(storage::table::call_notes, storage::be64(*id)))
      if (auto n = storage::decode_record(*notes)) {
        n->erase("v");
        (*rec)["notes"] = std::move(*n);
      }
    return rec;
  }

  void one(call& c) const {
    if (auto rec = find(c, c.params[0])) c.ok(json::serialize(for_client(std::move(*rec))));
  }

  // GET /v1/calls/{id}/recording: the stereo Ogg Opus file (caller left, agent right).
  void recording(call& c) const {
    const principal& who = *c.who;
    if (!(who.is_admin() || who.has(auth::role::supervisor)))
      return c.fail(forbidden("recordings are for supervisors and admins (N-42)"));
    auto rec = find(c, c.params[0]);
    if (!rec) return;
    const std::string path = str(*rec, "recording");
    if (path.empty()) return c.fail({404, "not_found", "call " + c.params[0] + " has no recording"});
    if (rec->contains("recording_pending"))
      return c.fail({409, "recording_pending", "the recording of call " + c.params[0] + " is still being encoded"});
    // Only a file in this node's recordings folder (the record names it).
    namespace fs = std::filesystem;
    std::error_code ec;
    auto dir = fs::weakly_canonical(fs::path(cfg_.server.data_dir) / "recordings", ec);
    auto file = fs::weakly_canonical(path, ec);
    if (ec || file.parent_path() != dir) return c.fail({404, "not_found", "the recording is not in this node's folder"});
    std::ifstream in(file, std::ios::binary);
    if (!in) return c.fail({404, "not_found", "the recording file of call " + c.params[0] + " is missing"});
    std::ostringstream body;
    body << in.rdbuf();
    std::string bytes = std::move(body).str();
    // A browser's player asks for byte ranges (to find the duration at the end, to seek):
    // one range is served, 206; the first request (from byte 0) is the play that is audited.
    auto range = byte_range(c.req.range, bytes.size());
    if (!range) {
      return c.respond({416, "application/json",
                        json::serialize(json::object{{"error", json::object{{"code", "bad_range"},
                                                                            {"message", "unsatisfiable range " + c.req.range}}}}),
                        {{"Content-Range", "bytes */" + std::to_string(bytes.size())}}});
    }
    if (range->first == 0 && audit_) {
      auth::audit_event ev;
      ev.actor = who.username;
      ev.action = "recording.play";
      ev.target = "call:" + c.params[0];
      ev.remote = c.req.remote;
      ev.site = cfg_.server.site;
      audit_(std::move(ev));
    }
    response r{200, "audio/ogg", {},
               {{"Accept-Ranges", "bytes"}, {"Content-Disposition", "inline; filename=\"" + c.params[0] + ".opus\""}}};
    if (!c.req.range.empty()) {
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                  std::to_string(range->second - 1) + "/" + std::to_string(bytes.size()));
      r.body = bytes.substr(range->first, range->second - range->first);
    } else {
      r.body = std::move(bytes);
    }
    c.respond(std::move(r));
  }

 private:
  const storage::env& env_;
  const config::config& cfg_;
  auth::accounts& accounts_;
  audit_fn audit_;
};

}  // namespace

void add_call_routes(router& r, const storage::env& env, const config::config& cfg, auth::accounts& accounts,
                     audit_fn audit) {
  auto routes = std::make_shared<call_routes>(env, cfg, accounts, std::move(audit));
  r.keep_alive(routes);
  r.add("GET", "/v1/calls", true, [routes](call& c) { routes->list(c); });
  r.add("GET", "/v1/calls/{}", true, [routes](call& c) { routes->one(c); });
  r.add("GET", "/v1/calls/{}/recording", true, [routes](call& c) { routes->recording(c); });
}

}  // namespace hotline::api
