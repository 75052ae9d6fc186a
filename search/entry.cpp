#include "search/entry.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <limits>

namespace hotline::kb {

namespace json = boost::json;

namespace {

constexpr std::string_view status_names[] = {"draft", "in_review", "published", "superseded", "expired", "approved"};

bool valid_region(std::string_view r) {
  return r == "national" || r == "province" || (r.size() > 5 && r.substr(0, 5) == "city:");
}

// Reads the fields of one JSON object into an entry. The first problem wins: every
// reader returns false once `error` is set, so the decoder reads top to bottom without
// a check after each field.
class field_reader {
 public:
  field_reader(const json::object& o, std::string& error, std::string prefix = {})
      : o_(o), error_(error), prefix_(std::move(prefix)) {}

  bool ok() const { return error_.empty(); }

  bool fail(std::string_view field, std::string_view what) {
    if (ok()) error_ = prefix_ + std::string(field) + " " + std::string(what);
    return false;
  }

  // A string field; absent (and null, when `nullable`) leaves `out` as it is.
  bool text(std::string_view field, std::string& out, bool required = false, bool nullable = false) {
    if (!ok()) return false;
    const json::value* v = o_.if_contains(field);
    if (!v || (nullable && v->is_null())) return required ? fail(field, "is required") : true;
    const json::string* s = v->if_string();
    if (!s) return fail(field, nullable ? "must be a string or null" : "must be a string");
    out.assign(s->data(), s->size());
    return true;
  }

  bool day(std::string_view field, std::string& out, bool nullable) {
    const json::value* v = o_.if_contains(field);
    std::string d;
    if (!text(field, d, false, nullable)) return false;
    if (!v || v->is_null()) return true;
    if (!valid_day(d)) return fail(field, nullable ? "must be a date YYYY-MM-DD or null" : "must be a date YYYY-MM-DD");
    out = std::move(d);
    return true;
  }

  bool texts(std::string_view field, std::vector<std::string>& out) {
    if (!ok()) return false;
    const json::value* v = o_.if_contains(field);
    if (!v || v->is_null()) return true;
    const json::array* a = v->if_array();
    if (!a) return fail(field, "must be an array of strings");
    out.clear();
    out.reserve(a->size());
    for (const auto& x : *a) {
      const json::string* s = x.if_string();
      if (!s) return fail(field, "must be an array of strings");
      out.emplace_back(s->data(), s->size());
    }
    return true;
  }

  bool number(std::string_view field, uint64_t& out, uint64_t max = std::numeric_limits<uint64_t>::max()) {
    if (!ok()) return false;
    const json::value* v = o_.if_contains(field);
    if (!v || v->is_null()) return true;
    uint64_t n = 0;
    if (const auto* u = v->if_uint64()) n = *u;
    else if (const auto* i = v->if_int64(); i && *i >= 0) n = static_cast<uint64_t>(*i);
    else return fail(field, "must be a non-negative integer");
    if (n > max) return fail(field, "is out of range");
    out = n;
    return true;
  }

 private:
  const json::object& o_;
  std::string& error_;
  std::string prefix_;
};

bool read_sources(const json::object& o, std::vector<source_doc>& out, std::string& error) {
  const json::value* v = o.if_contains("sources");
  if (!v || v->is_null()) return true;
  const json::array* a = v->if_array();
  if (!a) return (error = "sources must be an array of objects", false);
  for (size_t i = 0; i < a->size(); ++i) {
    const json::object* s = (*a)[i].if_object();
    std::string where = "sources[" + std::to_string(i) + "].";
    if (!s) return (error = "sources[" + std::to_string(i) + "] must be an object", false);
    field_reader r(*s, error, where);
    source_doc d;
    r.text("title", d.title, true);
    r.text("issuer", d.issuer, true);
    r.text("number", d.number, false, true);
    r.text("link", d.link, false, true);
    if (r.text("date", d.date, false, true) && !d.date.empty() && !valid_day(d.date))
      r.fail("date", "must be a date YYYY-MM-DD");
    if (!r.ok()) return false;
    out.push_back(std::move(d));
  }
  return true;
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::value day_or_null(const std::string& d) { return d.empty() ? json::value(nullptr) : json::value(d); }

}  // namespace

std::string_view to_string(status s) {
  auto i = static_cast<size_t>(s);
  return i < std::size(status_names) ? status_names[i] : "unknown";
}

std::optional<status> parse_status(std::string_view s) {
  for (size_t i = 0; i < std::size(status_names); ++i)
    if (status_names[i] == s) return static_cast<status>(i);
  return std::nullopt;
}

bool entry::in_force_on(std::string_view day) const {
  // ISO dates compare as strings.
  if (!effective.empty() && day < std::string_view(effective)) return false;
  return expires.empty() || day < std::string_view(expires);
}

bool valid_day(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

int region_rank(std::string_view region, std::string_view agent_city) {
  if (region == "national") return 2;
  if (region == "province") return 1;
  if (region.size() <= 5 || region.substr(0, 5) != "city:") return -1;
  // The agent's city may be given bare (杭州) or as a region (city:杭州).
  if (agent_city.size() > 5 && agent_city.substr(0, 5) == "city:") agent_city.remove_prefix(5);
  return !agent_city.empty() && region.substr(5) == agent_city ? 0 : -1;
}

json::object to_json(const entry& e) {
  json::array sources;
  for (const auto& s : e.sources) {
    json::object o{{"title", s.title}, {"issuer", s.issuer}, {"number", s.number}, {"date", s.date}};
    if (!s.link.empty()) o["link"] = s.link;
    sources.push_back(std::move(o));
  }
  return json::object{{"id", e.id},
                      {"version", e.version},
                      {"question", e.question},
                      {"phrasings", to_array(e.phrasings)},
                      {"answer", e.answer},
                      {"materials", to_array(e.materials)},
                      {"topic", e.topic},
                      {"subtopic", e.subtopic},
                      {"region", e.region},
                      {"tags", to_array(e.tags)},
                      {"effective", day_or_null(e.effective)},
                      {"expires", day_or_null(e.expires)},
                      {"sources", std::move(sources)},
                      {"supersedes", e.supersedes},
                      {"status", to_string(e.state)},
                      {"author", e.author},
                      {"reviewer", e.reviewer},
                      {"created_ms", e.created_ms},
                      {"updated_ms", e.updated_ms},
                      {"submitted_ms", e.submitted_ms},
                      {"reviewed_ms", e.reviewed_ms},
                      {"published_ms", e.published_ms},
                      {"publish_at", day_or_null(e.publish_at)}};
}

std::optional<entry> entry_from_json(const json::object& o, std::string& error) {
  error.clear();
  entry e;
  field_reader r(o, error);
  if (r.text("id", e.id, true) && e.id.empty()) r.fail("id", "must not be empty");
  uint64_t version = e.version;
  if (r.number("version", version, std::numeric_limits<uint32_t>::max()) && version == 0)
    r.fail("version", "must be at least 1");
  e.version = static_cast<uint32_t>(version);
  r.text("question", e.question, true);
  r.texts("phrasings", e.phrasings);
  r.text("answer", e.answer, true);
  r.texts("materials", e.materials);
  r.text("topic", e.topic, true);
  r.text("subtopic", e.subtopic, false, true);
  if (r.text("region", e.region, true) && !valid_region(e.region))
    r.fail("region", "must be \"national\", \"province\" or \"city:<name>\"");
  r.texts("tags", e.tags);
  r.day("effective", e.effective, true);
  r.day("expires", e.expires, true);
  if (!r.ok() || !read_sources(o, e.sources, error)) return std::nullopt;
  r.text("supersedes", e.supersedes, false, true);
  std::string state;
  if (r.text("status", state) && o.if_contains("status")) {
    if (auto s = parse_status(state)) e.state = *s;
    else r.fail("status", "must be one of draft, in_review, approved, published, superseded, expired");
  }
  r.text("author", e.author, false, true);
  r.text("reviewer", e.reviewer, false, true);
  r.number("created_ms", e.created_ms);
  r.number("updated_ms", e.updated_ms);
  r.number("submitted_ms", e.submitted_ms);
  r.number("reviewed_ms", e.reviewed_ms);
  r.number("published_ms", e.published_ms);
  r.day("publish_at", e.publish_at, true);
  if (!r.ok()) return std::nullopt;
  return e;
}

}  // namespace hotline::kb
