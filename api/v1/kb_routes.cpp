#include "api/v1/kb_routes.hpp"

#include "api/v1/kb_common.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <map>
#include <set>

#include "actors/runtime/clock.hpp"
#include "api/http/json_body.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::api {

namespace json = boost::json;
using auth::role;

namespace {

using namespace kb_common;

std::vector<std::string> csv(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size() && !s.empty()) {
    auto comma = s.find(',', pos);
    auto part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// Entry content from a request body; workflow fields in it are ignored.
result<kb::entry> entry_body(const request& req) {
  auto body = parse_object(req.body);
  if (auto* e = error_of(body)) return *e;
  auto& obj = std::get<json::object>(body);
  field_reader r{obj};
  r.only({"question", "phrasings", "answer", "materials", "topic", "subtopic", "region", "tags", "effective",
          "expires", "sources", "supersedes"});
  if (r.error) return *r.error;
  obj["id"] = "new";
  std::string error;
  auto e = kb::entry_from_json(obj, error);
  if (!e) return bad_request("invalid_value", error);
  return *e;
}

json::value hit_json(const kb::search_hit& h) {
  return json::object{{"id", h.id},         {"question", h.question}, {"region", h.region}, {"topic", h.topic},
                      {"snippet", h.snippet}, {"score", h.score},       {"percent", h.percent}};
}

// The regions an agent of this site sees (N-28): their city, the province, national.
std::vector<std::string> visible_regions(const config::config& cfg) {
  return {"city:" + cfg.server.city, "province", "national"};
}

class kb_routes {
 public:
  kb_routes(kb::service& kb, const storage::env& env, const config::config& cfg) : kb_(kb), env_(env), cfg_(cfg) {}

  void add(router& r) {
    r.add("GET", "/v1/kb/search", true, [this](call& c) { search(c); });
    r.add("GET", "/v1/kb/entries", true, [this](call& c) { list(c); });
    r.add("POST", "/v1/kb/entries", true, [this](call& c) { create(c); });
    r.add("GET", "/v1/kb/entries/{}", true, [this](call& c) { get(c); });
    r.add("PUT", "/v1/kb/entries/{}", true, [this](call& c) { update(c); });
    r.add("GET", "/v1/kb/entries/{}/versions", true, [this](call& c) { versions(c); });
    r.add("GET", "/v1/kb/entries/{}/diff", true, [this](call& c) { diff(c); });
    r.add("POST", "/v1/kb/entries/{}/submit", true, [this](call& c) { submit(c); });
    r.add("POST", "/v1/kb/entries/{}/approve", true, [this](call& c) { approve(c); });
    r.add("POST", "/v1/kb/entries/{}/reject", true, [this](call& c) { reject(c); });
    r.add("GET", "/v1/kb/entries/{}/comments", true, [this](call& c) { comments(c); });
    r.add("POST", "/v1/kb/entries/{}/comments", true, [this](call& c) { add_comment(c); });
    r.add("GET", "/v1/kb/entries/{}/similar", true, [this](call& c) { similar(c); });
    r.add("POST", "/v1/kb/usage", true, [this](call& c) { usage(c); });
    r.add("GET", "/v1/kb/synonyms", true, [this](call& c) { get_synonyms(c); });
    r.add("PUT", "/v1/kb/synonyms", true, [this](call& c) { put_synonyms(c); });
    r.add("GET", "/v1/kb/export", true, [this](call& c) { export_jsonl(c); });
    r.add("POST", "/v1/kb/import", true, [this](call& c) { import_jsonl(c); });
    r.add("POST", "/v1/kb/reindex", true, [this](call& c) { reindex(c); });
    r.add("POST", "/v1/kb/documents", true, [this](call& c) { add_documents(c); });
    r.add("GET", "/v1/kb/documents", true, [this](call& c) { list_documents(c); });
    r.add("GET", "/v1/kb/documents/{}", true, [this](call& c) { get_document(c); });
  }

 private:
  // Answers a workflow step with the entry version it wrote.
  static std::function<void(kb::kb_result<kb::entry>)> entry_reply(const call& c, int status = 200) {
    return [respond = c.respond, status](kb::kb_result<kb::entry> r) {
      if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
      respond(response::json(status, json::serialize(kb::to_json(std::get<kb::entry>(r)))));
    };
  }

  // A body that may be empty or {"<name>": "..."} (approve's publish_at, reject's reason).
  static std::optional<api_error> optional_field(const call& c, std::string_view name, size_t max_len,
                                                 std::string& out) {
    if (c.req.body.empty()) return std::nullopt;
    auto body = parse_object(c.req.body);
    if (auto* e = error_of(body)) return *e;
    field_reader r{std::get<json::object>(body)};
    r.only({name});
    out = r.string(name, false, max_len).value_or("");
    return r.error;
  }

  void search(call& c) {
    auto q = c.query("q");
    if (q.empty()) return c.fail(bad_request("missing_field", "q is required: what the caller asks, in plain Chinese", "q"));
    if (q.size() > 400) return c.fail(bad_request("too_long", "q is longer than 400 bytes", "q"));
    kb::search_query query;
    query.text = q;
    query.topics = csv(c.query("topic"));
    query.agent_city = cfg_.server.city;
    query.limit = c.limit(10, 50);
    auto offset = c.query("offset", "0");
    query.offset = std::all_of(offset.begin(), offset.end(), ::isdigit) && offset.size() < 7 ? std::stoul(offset) : 0;
    bool staff = curator(*c.who) || c.who->has(role::expert);
    // Agents get the published answer in force today, for their region; curators may
    // widen the filters to check what callers would see elsewhere or on another day.
    query.regions = staff && !c.query("region").empty() ? csv(c.query("region")) : visible_regions(cfg_);
    auto date = c.query("date");
    if (!date.empty() && !kb::valid_day(date)) return c.fail(bad_request("invalid_value", "date must be YYYY-MM-DD", "date"));
    query.in_force_on = date.empty() ? today() : date;
    if (staff && !c.query("status").empty()) query.statuses = csv(c.query("status"));
    kb::search_context ctx{c.who->username, c.who->site, c.query("call_id")};
    kb_.search(std::move(query), std::move(ctx), [respond = c.respond](kb::kb_result<kb::logged_search> r) {
      if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
      auto& s = std::get<kb::logged_search>(r);
      if (!s.result.error.empty())
        return respond(response::error({503, "search_unavailable", "the search index failed: " + s.result.error +
                                                                       "; an admin can rebuild it (POST /v1/kb/reindex)"}));
      json::array hits;
      for (const auto& h : s.result.hits) hits.push_back(hit_json(h));
      respond(response::json(200, json::serialize(json::object{
                                      {"search_id", s.search_id},
                                      {"total", s.result.total_estimate},
                                      {"hits", std::move(hits)},
                                      {"facets", json::object{{"topic", counts_json(s.result.topic_counts)},
                                                              {"region", counts_json(s.result.region_counts)}}}})));
    });
  }

  void list(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("listing entries is for curators and experts; agents search"));
    std::optional<kb::status> state;
    if (auto s = c.query("state"); !s.empty()) {
      state = kb::parse_status(s);
      if (!state) return c.fail(bad_request("invalid_value", "unknown state '" + s + "'", "state"));
    }
    auto limit = c.limit();
    auto items = kb_.data().list(c.query("cursor"), limit + 1, state);
    bool more = items.size() > limit;
    if (more) items.resize(limit);
    json::array out;
    for (const auto& e : items) out.push_back(kb::to_json(e));
    json::object body{{"items", std::move(out)}};
    body["next_cursor"] = more ? json::value(items.back().id) : json::value(nullptr);
    c.ok(json::serialize(body));
  }

  void get(call& c) {
    const auto& id = c.params[0];
    std::optional<kb::entry> e;
    if (!reviewer(*c.who)) {
      e = kb_.data().published(id);  // agents see only the published answer
    } else if (auto v = c.query("version"); !v.empty()) {
      if (v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit))
        return c.fail(bad_request("invalid_value", "version must be a number", "version"));
      e = kb_.data().version(id, static_cast<uint32_t>(std::stoul(v)));
    } else {
      e = kb_.data().latest(id);
    }
    if (!e) return c.fail({404, "not_found", "no entry " + id});
    auto body = kb::to_json(*e);
    if (auto h = kb_.data().get_head(id)) body["published_version"] = h->published;
    c.ok(json::serialize(body));
  }

  void create(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("writing entries is for curators"));
    auto e = entry_body(c.req);
    if (auto* err = error_of(e)) return c.fail(*err);
    kb_.create(std::move(std::get<kb::entry>(e)), c.who->username, entry_reply(c, 201));
  }

  void update(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("writing entries is for curators"));
    auto e = entry_body(c.req);
    if (auto* err = error_of(e)) return c.fail(*err);
    kb_.update(c.params[0], std::move(std::get<kb::entry>(e)), c.who->username, entry_reply(c));
  }

  void versions(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("version history is for curators and experts"));
    auto all = kb_.data().versions(c.params[0]);
    if (all.empty()) return c.fail({404, "not_found", "no entry " + c.params[0]});
    json::array out;
    for (const auto& e : all)
      out.push_back(json::object{{"version", e.version},   {"status", kb::to_string(e.state)},
                                 {"author", e.author},     {"reviewer", e.reviewer},
                                 {"updated_ms", e.updated_ms}, {"published_ms", e.published_ms}});
    c.ok(json::serialize(json::object{{"id", c.params[0]}, {"versions", std::move(out)}}));
  }

  void diff(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("diffs are for curators and experts"));
    auto num = [&](const std::string& name) -> std::optional<uint32_t> {
      auto v = c.query(name);
      if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), ::isdigit)) return std::nullopt;
      return static_cast<uint32_t>(std::stoul(v));
    };
    auto from = num("from"), to = num("to");
    if (!from || !to) return c.fail(bad_request("missing_field", "from and to must be version numbers", "from"));
    auto a = kb_.data().version(c.params[0], *from), b = kb_.data().version(c.params[0], *to);
    if (!a || !b) return c.fail({404, "not_found", "no such version of " + c.params[0]});
    json::array changes;
    for (const auto& ch : kb::diff(*a, *b)) {
      json::array segs;
      for (const auto& s : ch.diff) segs.push_back(json::object{{"op", std::string(1, s.op)}, {"text", s.text}});
      changes.push_back(json::object{{"field", ch.field},
                                     {"before", json::parse(ch.before)},
                                     {"after", json::parse(ch.after)},
                                     {"diff", std::move(segs)}});
    }
    c.ok(json::serialize(json::object{{"id", c.params[0]}, {"from", *from}, {"to", *to}, {"changes", std::move(changes)}}));
  }

  void submit(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("submitting for review is for curators"));
    kb_.submit(c.params[0], c.who->username, entry_reply(c));
  }

  void approve(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("reviews are for curators and experts"));
    std::string publish_at;
    if (auto err = optional_field(c, "publish_at", 10, publish_at)) return c.fail(*err);
    kb_.approve(c.params[0], c.who->username, publish_at, entry_reply(c));
  }

  void reject(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("reviews are for curators and experts"));
    std::string reason;
    if (auto err = optional_field(c, "reason", 4000, reason)) return c.fail(*err);
    kb_.reject(c.params[0], c.who->username, reason, entry_reply(c));
  }

  void comments(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("comments are for curators and experts"));
    json::array out;
    for (const auto& m : kb_.data().comments(c.params[0]))
      out.push_back(json::object{{"author", m.author}, {"text", m.text}, {"version", m.version}, {"ts_ms", m.ts_ms}});
    c.ok(json::serialize(json::object{{"items", std::move(out)}}));
  }

  void add_comment(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("comments are for curators and experts"));
    auto body = parse_object(c.req.body);
    if (auto* e = error_of(body)) return c.fail(*e);
    field_reader r{std::get<json::object>(body)};
    r.only({"text"});
    auto text = r.string("text", true, 4000);
    if (r.error) return c.fail(*r.error);
    kb_.add_comment(c.params[0], c.who->username, *text, [respond = c.respond](std::optional<kb::kb_error> e) {
      respond(e ? response::error(from_kb(*e)) : response::json(201, R"({"ok":true})"));
    });
  }

  void similar(call& c) {
    kb::search_query filters;
    filters.regions = visible_regions(cfg_);
    filters.in_force_on = today();
    filters.agent_city = cfg_.server.city;
    filters.limit = c.limit(5, 20);
    kb_.more_like_this(c.params[0], std::move(filters),
                       [respond = c.respond](kb::kb_result<std::vector<kb::search_hit>> r) {
                         if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
                         json::array hits;
                         for (const auto& h : std::get<std::vector<kb::search_hit>>(r)) hits.push_back(hit_json(h));
                         respond(response::json(200, json::serialize(json::object{{"hits", std::move(hits)}})));
                       });
  }

  void usage(call& c) {
    auto body = parse_object(c.req.body);
    if (auto* e = error_of(body)) return c.fail(*e);
    field_reader r{std::get<json::object>(body)};
    r.only({"search_id", "entry", "action", "call_id"});
    auto search_id = r.string("search_id", false, 32).value_or("");
    auto entry = r.string("entry", true, 64);
    auto action = r.string("action", true, 16);
    auto call_id = r.string("call_id", false, 64).value_or("");
    if (r.error) return c.fail(*r.error);
    kb_.record_usage(search_id, *entry, *action, {c.who->username, c.who->site, call_id},
                     [respond = c.respond](std::optional<kb::kb_error> e) {
                       respond(e ? response::error(from_kb(*e)) : response::json(201, R"({"ok":true})"));
                     });
  }

  void get_synonyms(call& c) {
    c.ok(json::serialize(json::object{{"groups", kb_.current_synonyms()->to_json()}}));
  }

  void put_synonyms(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("the synonym dictionary is kept by curators"));
    auto body = parse_object(c.req.body);
    if (auto* e = error_of(body)) return c.fail(*e);
    auto& obj = std::get<json::object>(body);
    field_reader r{obj};
    r.only({"groups"});
    if (r.error) return c.fail(*r.error);
    auto* g = obj.if_contains("groups");
    if (!g) return c.fail(bad_request("missing_field", "field 'groups' is required", "groups"));
    std::string error;
    auto syn = kb::synonyms::from_json(json::serialize(*g), error);
    if (!error.empty()) return c.fail(bad_request("invalid_value", error, "groups"));
    kb_.set_synonyms(std::move(syn), [respond = c.respond](std::optional<kb::kb_error> e) {
      respond(e ? response::error(from_kb(*e)) : response::no_content());
    });
  }

  void export_jsonl(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("export is for curators"));
    std::string out;
    kb_.data().for_each_published([&](const kb::entry& e) {
      out += json::serialize(kb::to_json(e));
      out += '\n';
    });
    c.respond({200, "application/x-ndjson", std::move(out), {}});
  }

  void import_jsonl(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("import is for curators"));
    auto entries = parse_entries_jsonl(c.req.body);
    if (auto* e = error_of(entries)) return c.fail(*e);
    kb_.import_published(std::move(std::get<std::vector<kb::entry>>(entries)), c.who->username,
                         [respond = c.respond](kb::kb_result<size_t> r) {
                           if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
                           respond(response::json(200, json::serialize(json::object{{"imported", std::get<size_t>(r)}})));
                         });
  }

  // Body: {"documents":[{"title","issuer","number","date","format","text"}, ...]}
  void add_documents(call& c) {
    if (!curator(*c.who)) return c.fail(forbidden("importing policy documents is for curators"));
    auto body = parse_object(c.req.body);
    if (auto* e = error_of(body)) return c.fail(*e);
    auto& obj = std::get<json::object>(body);
    field_reader top{obj};
    top.only({"documents"});
    if (top.error) return c.fail(*top.error);
    auto* list = obj.if_contains("documents");
    if (!list || !list->is_array() || list->as_array().empty())
      return c.fail(bad_request("missing_field", "documents must be a non-empty array", "documents"));
    std::vector<kb::document> docs;
    for (auto& d : list->as_array()) {
      if (!d.is_object()) return c.fail(bad_request("wrong_type", "each document must be an object", "documents"));
      field_reader r{d.as_object()};
      r.only({"title", "issuer", "number", "date", "format", "text"});
      kb::document doc;
      doc.title = r.string("title", true, 500).value_or("");
      doc.issuer = r.string("issuer", false, 200).value_or("");
      doc.number = r.string("number", false, 100).value_or("");
      doc.date = r.string("date", false, 10).value_or("");
      doc.format = r.string("format", false, 16).value_or("text");
      doc.text = r.string("text", true, 4 << 20).value_or("");
      if (r.error) return c.fail(*r.error);
      docs.push_back(std::move(doc));
    }
    kb_.add_documents(std::move(docs), c.who->username,
                      [respond = c.respond](kb::kb_result<std::vector<std::string>> r) {
                        if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
                        json::array ids;
                        for (auto& id : std::get<std::vector<std::string>>(r)) ids.emplace_back(id);
                        respond(response::json(201, json::serialize(json::object{{"ids", std::move(ids)}})));
                      });
  }

  void list_documents(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("policy documents are for curators and experts"));
    auto limit = c.limit();
    auto docs = kb_.data().documents(c.query("cursor"), limit);
    json::array items;
    std::string last;
    for (auto& d : docs) {
      if (auto* id = d.if_contains("id"); id && id->is_string()) last = std::string(id->as_string());
      items.push_back(std::move(d));
    }
    json::object out{{"items", std::move(items)}};
    out["next_cursor"] = docs.size() == limit ? json::value(last) : json::value(nullptr);
    c.ok(json::serialize(out));
  }

  void get_document(call& c) {
    if (!reviewer(*c.who)) return c.fail(forbidden("policy documents are for curators and experts"));
    auto d = kb_.data().document(c.params[0]);
    if (!d) return c.fail({404, "not_found", "no document " + c.params[0]});
    c.ok(json::serialize(*d));
  }

  void reindex(call& c) {
    if (!c.who->is_admin()) return c.fail(forbidden("reindexing is for admins"));
    kb_.reindex([respond = c.respond](kb::kb_result<size_t> r) {
      if (auto* e = std::get_if<kb::kb_error>(&r)) return respond(response::error(from_kb(*e)));
      respond(response::json(200, json::serialize(json::object{{"indexed", std::get<size_t>(r)}})));
    });
  }

  kb::service& kb_;
  const storage::env& env_;
  const config::config& cfg_;
};

}  // namespace

result<std::vector<kb::entry>> parse_entries_jsonl(std::string_view text) {
  std::vector<kb::entry> out;
  size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto obj = parse_object(line);
    if (auto* e = error_of(obj)) {
      auto err = *e;
      err.message = "line " + std::to_string(line_no) + ": " + err.message;
      return err;
    }
    std::string error;
    auto e = kb::entry_from_json(std::get<json::object>(obj), error);
    if (!e) return bad_request("invalid_value", "line " + std::to_string(line_no) + ": " + error);
    out.push_back(std::move(*e));
  }
  if (out.empty()) return bad_request("bad_json", "no entries: one JSON object per line expected");
  return out;
}

void add_kb_routes(router& r, kb::service& kb, const storage::env& env, const config::config& cfg) {
  // The routes object lives as long as the router: owned by a static registry would be
  // wrong with several apps in one process (tests), so the router keeps it alive.
  auto routes = std::make_shared<kb_routes>(kb, env, cfg);
  routes->add(r);
  r.keep_alive(routes);
  add_kb_report_routes(r, kb, env);
}

}  // namespace hotline::api
