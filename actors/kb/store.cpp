#include "actors/kb/store.hpp"

#include <boost/json/serialize.hpp>
#include <map>

#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::kb {

namespace json = boost::json;
using storage::table;

namespace {

constexpr int head_schema = 1;
constexpr int entry_schema = 1;
constexpr int comment_schema = 1;

std::string be32(uint32_t v) { return storage::be64(v).substr(4); }

std::optional<head> decode_head(std::string_view id, std::string_view bytes) {
  auto o = storage::decode_record(bytes);
  if (!o) return std::nullopt;
  head h{std::string(id)};
  if (auto* l = o->if_contains("latest"); l && l->is_int64()) h.latest = static_cast<uint32_t>(l->as_int64());
  if (auto* p = o->if_contains("published"); p && p->is_int64()) h.published = static_cast<uint32_t>(p->as_int64());
  return h;
}

std::optional<entry> decode_entry(std::string_view bytes) {
  auto o = storage::decode_record(bytes);
  if (!o) return std::nullopt;
  std::string error;
  return entry_from_json(*o, error);
}

std::string id_prefix(const std::string& id) { return id + '\0'; }

}  // namespace

std::string store::version_key(const std::string& id, uint32_t v) { return id_prefix(id) + be32(v); }

std::optional<head> store::get_head(const std::string& id) const {
  auto txn = env_.read();
  auto bytes = txn.get(table::kb_entries, id);
  return bytes ? decode_head(id, *bytes) : std::nullopt;
}

std::optional<entry> store::version(const std::string& id, uint32_t v) const {
  auto txn = env_.read();
  auto bytes = txn.get(table::kb_versions, version_key(id, v));
  return bytes ? decode_entry(*bytes) : std::nullopt;
}

std::optional<entry> store::latest(const std::string& id) const {
  auto h = get_head(id);
  return h ? version(id, h->latest) : std::nullopt;
}

std::optional<entry> store::published(const std::string& id) const {
  auto h = get_head(id);
  return h && h->published ? version(id, h->published) : std::nullopt;
}

std::vector<entry> store::versions(const std::string& id) const {
  std::vector<entry> out;
  auto txn = env_.read();
  auto prefix = id_prefix(id);
  txn.scan(table::kb_versions, prefix, id + '\1', [&](std::string_view, std::string_view v) {
    if (auto e = decode_entry(v)) out.push_back(std::move(*e));
    return true;
  });
  return out;
}

std::vector<comment> store::comments(const std::string& id) const {
  std::vector<comment> out;
  auto txn = env_.read();
  txn.scan(table::kb_comments, id_prefix(id), id + '\1', [&](std::string_view, std::string_view v) {
    auto o = storage::decode_record(v);
    if (!o) return true;
    comment c;
    if (auto* a = o->if_contains("author"); a && a->is_string()) c.author = a->as_string();
    if (auto* t = o->if_contains("text"); t && t->is_string()) c.text = t->as_string();
    if (auto* n = o->if_contains("version"); n && n->is_int64()) c.version = static_cast<uint32_t>(n->as_int64());
    if (auto* ts = o->if_contains("ts_ms"); ts && ts->is_int64()) c.ts_ms = static_cast<uint64_t>(ts->as_int64());
    out.push_back(std::move(c));
    return true;
  });
  return out;
}

std::vector<entry> store::list(const std::string& after, size_t limit, std::optional<status> state) const {
  std::vector<entry> out;
  auto txn = env_.read();
  std::string from = after.empty() ? std::string() : after + '\0';
  txn.scan(table::kb_entries, from, {}, [&](std::string_view id, std::string_view v) {
    auto h = decode_head(id, v);
    if (!h) return true;
    auto bytes = txn.get(table::kb_versions, version_key(h->id, h->latest));
    auto e = bytes ? decode_entry(*bytes) : std::nullopt;
    if (e && (!state || e->state == *state)) out.push_back(std::move(*e));
    return out.size() < limit;
  });
  return out;
}

size_t store::for_each_published(const std::function<void(const entry&)>& f) const {
  size_t n = 0;
  auto txn = env_.read();
  txn.scan(table::kb_entries, {}, {}, [&](std::string_view id, std::string_view v) {
    auto h = decode_head(id, v);
    if (!h || !h->published) return true;
    auto bytes = txn.get(table::kb_versions, version_key(h->id, h->published));
    if (auto e = bytes ? decode_entry(*bytes) : std::nullopt) {
      f(*e);
      ++n;
    }
    return true;
  });
  return n;
}

uint64_t store::max_numeric_id() const {
  uint64_t max = 0;
  auto txn = env_.read();
  txn.scan(table::kb_entries, {}, {}, [&](std::string_view id, std::string_view) {
    if (id.rfind("kb-", 0) == 0) {
      uint64_t n = 0;
      bool digits = id.size() > 3;
      for (char c : id.substr(3)) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (digits) max = std::max(max, n);
    }
    return true;
  });
  return max;
}

size_t store::count() const { return env_.read().count(table::kb_entries); }

std::vector<json::object> store::documents(const std::string& before_id, size_t limit) const {
  std::vector<json::object> out;
  std::string before;
  if (!before_id.empty()) {
    uint64_t n = 0;
    for (char ch : before_id) n = n * 10 + static_cast<uint64_t>(ch >= '0' && ch <= '9' ? ch - '0' : 0);
    before = storage::be64(n);
  }
  auto txn = env_.read();
  txn.scan_reverse(table::kb_documents, before, [&](std::string_view, std::string_view v) {
    if (auto o = storage::decode_record(v)) {
      o->erase("text");
      o->erase("v");
      out.push_back(std::move(*o));
    }
    return out.size() < limit;
  });
  return out;
}

std::optional<json::object> store::document(const std::string& id) const {
  uint64_t n = 0;
  for (char ch : id) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(ch - '0');
  }
  auto txn = env_.read();
  auto bytes = txn.get(table::kb_documents, storage::be64(n));
  if (!bytes) return std::nullopt;
  auto o = storage::decode_record(*bytes);
  if (o) o->erase("v");
  return o;
}

void store::apply(storage::write_batch& batch, const step& s) const {
  std::map<std::string, head> heads;
  for (const auto& v : s.writes) {
    auto it = heads.find(v.id);
    if (it == heads.end()) it = heads.emplace(v.id, get_head(v.id).value_or(head{v.id})).first;
    auto& h = it->second;
    h.latest = std::max(h.latest, v.version);
    if (v.state == status::published) h.published = v.version;
    else if (h.published == v.version) h.published = 0;
    batch.put(table::kb_versions, version_key(v.id, v.version), storage::encode_record(to_json(v), entry_schema));
  }
  for (const auto& [id, h] : heads)
    batch.put(table::kb_entries, id,
              storage::encode_record(json::object{{"latest", h.latest}, {"published", h.published}}, head_schema));
}

void store::add_comment(storage::write_batch& batch, const std::string& id, const comment& c, uint64_t key_id) {
  batch.put(table::kb_comments, id_prefix(id) + storage::be64(key_id),
            storage::encode_record(json::object{{"author", c.author}, {"text", c.text}, {"version", c.version},
                                                {"ts_ms", c.ts_ms}},
                                   comment_schema));
}

}  // namespace hotline::kb
