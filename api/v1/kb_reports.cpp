// The knowledge-base reports for supervisors and curators (N-29): what callers ask,
// which entries agents open and use, where the knowledge base has gaps, and which
// entries were used on calls that became complaints.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <ctime>
#include <set>

#include "api/v1/kb_common.hpp"
#include "api/v1/kb_routes.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::api {

namespace {

using namespace kb_common;

// Milliseconds at local midnight of a YYYY-MM-DD day.
uint64_t day_start_ms(const std::string& d) {
  std::tm tm{};
  tm.tm_year = std::stoi(d.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(d.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(d.substr(8, 2));
  tm.tm_isdst = -1;
  return static_cast<uint64_t>(std::mktime(&tm)) * 1000;
}

std::string day_of(uint64_t ms) {
  return local_day(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// The classification (N-07) and the IVR's 投诉举报 skill, which is also the queue name the
// call record keeps in `queue`/`queues`.
constexpr std::string_view complaint = "complaint";
constexpr uint64_t day_ms = 86'400'000;

std::string_view text_of(const json::object& o, std::string_view key) {
  auto* f = o.if_contains(key);
  return f && f->is_string() ? std::string_view(f->as_string()) : std::string_view();
}

// A call id as consoles send it (decimal); 0 and anything else is not a call of ours.
std::optional<uint64_t> call_id_of(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !v) return std::nullopt;
  return v;
}

std::optional<json::object> record_of(const storage::read_txn& txn, storage::table t, std::string_view key) {
  auto v = txn.get(t, key);
  return v ? storage::decode_record(*v) : std::nullopt;
}

bool classified_complaint(const storage::read_txn& txn, std::string_view call_key) {
  auto notes = record_of(txn, storage::table::call_notes, call_key);
  return notes && text_of(*notes, "classification") == complaint;
}

bool queued_to_complaint(const json::object& cdr) {
  if (text_of(cdr, "queue") == complaint) return true;
  if (auto* qs = cdr.if_contains("queues"); qs && qs->is_array())
    for (const auto& q : qs->as_array())
      if (q.is_string() && q.as_string() == complaint) return true;
  return false;
}

uint64_t started_ms(const json::object& cdr, uint64_t id) {
  auto* s = cdr.if_contains("started_ms");
  return s && s->is_int64() && s->as_int64() > 0 ? static_cast<uint64_t>(s->as_int64()) : storage::millis_of(id);
}

// The complaint that followed a use of an entry on call `id`: the call itself if the agent
// classified it complaint; else the first later call from the same number, started within
// `window_ms` after this one started, that was classified complaint or queued to the
// complaint skill. A call without a record (still going, or not ours) has no number to follow.
std::optional<uint64_t> complaint_after(const storage::read_txn& txn, uint64_t id, uint64_t window_ms) {
  auto key = storage::be64(id);
  if (classified_complaint(txn, key)) return id;
  auto cdr = record_of(txn, storage::table::calls, key);
  auto from = cdr ? std::string(text_of(*cdr, "from")) : std::string();
  if (from.empty()) return std::nullopt;
  auto start = started_ms(*cdr, id);
  auto prefix = from + '\0';
  std::optional<uint64_t> found;
  // Call ids are time-ordered, so the caller's calls in the window are one short scan.
  auto end_id = (storage::millis_of(id) + window_ms + 1) << 16;
  txn.scan(storage::table::calls_by_caller, prefix + storage::be64(id + 1), prefix + storage::be64(end_id),
           [&](std::string_view k, std::string_view) {
             auto later_key = k.substr(prefix.size());
             auto later = storage::from_be64(later_key);
             if (!later) return true;
             auto later_cdr = record_of(txn, storage::table::calls, later_key);
             if (later_cdr) {
               auto s = started_ms(*later_cdr, *later);
               if (s <= start || s > start + window_ms) return true;
             }
             if (classified_complaint(txn, later_key) || (later_cdr && queued_to_complaint(*later_cdr))) found = later;
             return !found;
           });
  return found;
}

class kb_reports {
 public:
  kb_reports(kb::service& kb, const storage::env& env) : kb_(kb), env_(env) {}

  void add(router& r) {
    r.add("GET", "/v1/kb/reports/hot", true, [this](call& c) { report_hot(c); });
    r.add("GET", "/v1/kb/reports/gaps", true, [this](call& c) { report_gaps(c); });
    r.add("GET", "/v1/kb/reports/unused", true, [this](call& c) { report_unused(c); });
    r.add("GET", "/v1/kb/reports/complaints", true, [this](call& c) { report_complaints(c); });
  }

 private:
  // [from, to] as days; default: the last 7 days. Keys of the log tables are
  // time-ordered ids, so the range is one cursor scan.
  std::optional<api_error> range(const call& c, std::string& lo, std::string& hi) const {
    auto from = c.query("from"), to = c.query("to", today());
    // `to` is checked before the default `from` is computed from it.
    if (!kb::valid_day(to)) return bad_request("invalid_value", "to must be YYYY-MM-DD", "to");
    if (from.empty()) from = day_of(day_start_ms(to) - 6 * 86'400'000ull);
    if (!kb::valid_day(from)) return bad_request("invalid_value", "from must be YYYY-MM-DD", "from");
    lo = storage::be64(day_start_ms(from) << 16);
    hi = storage::be64((day_start_ms(to) + 86'400'000ull) << 16);
    return std::nullopt;
  }

  void report_hot(call& c) {
    if (!analyst(*c.who)) return c.fail(forbidden("reports are for supervisors and curators"));
    std::string lo, hi;
    if (auto err = range(c, lo, hi)) return c.fail(*err);
    std::map<std::string, size_t> queries, by_day;
    std::map<std::string, std::pair<size_t, size_t>> entries;  // opened, used
    auto txn = env_.read();
    txn.scan(storage::table::kb_searches, lo, hi, [&](std::string_view k, std::string_view v) {
      auto o = storage::decode_record(v);
      if (!o) return true;
      if (auto* q = o->if_contains("q"); q && q->is_string()) ++queries[std::string(q->as_string())];
      if (auto id = storage::from_be64(k)) ++by_day[day_of(storage::millis_of(*id))];
      return true;
    });
    txn.scan(storage::table::kb_usage, lo, hi, [&](std::string_view, std::string_view v) {
      auto o = storage::decode_record(v);
      if (!o) return true;
      auto* e = o->if_contains("entry");
      auto* a = o->if_contains("action");
      if (!e || !e->is_string() || !a || !a->is_string()) return true;
      auto& counts = entries[std::string(e->as_string())];
      (a->as_string() == "used" ? counts.second : counts.first)++;
      return true;
    });
    auto limit = c.limit(20, 200);
    std::vector<std::pair<std::string, size_t>> top(queries.begin(), queries.end());
    std::sort(top.begin(), top.end(), [](auto& a, auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
    json::array q_out, e_out, d_out;
    for (size_t i = 0; i < top.size() && i < limit; ++i)
      q_out.push_back(json::object{{"q", top[i].first}, {"searches", top[i].second}});
    std::vector<std::pair<std::string, std::pair<size_t, size_t>>> top_e(entries.begin(), entries.end());
    std::sort(top_e.begin(), top_e.end(), [](auto& a, auto& b) {
      return a.second.second + a.second.first > b.second.second + b.second.first;
    });
    std::map<std::string, size_t> by_topic;
    for (size_t i = 0; i < top_e.size(); ++i) {
      auto e = kb_.data().published(top_e[i].first);
      if (!e) e = kb_.data().latest(top_e[i].first);
      std::string topic = e ? e->topic : "";
      by_topic[topic] += top_e[i].second.first + top_e[i].second.second;
      if (i < limit)
        e_out.push_back(json::object{{"id", top_e[i].first},
                                     {"question", e ? e->question : ""},
                                     {"topic", topic},
                                     {"region", e ? e->region : ""},
                                     {"opened", top_e[i].second.first},
                                     {"used", top_e[i].second.second}});
    }
    for (const auto& [d, n] : by_day) d_out.push_back(json::object{{"day", d}, {"searches", n}});
    c.ok(json::serialize(json::object{{"queries", std::move(q_out)},
                                      {"entries", std::move(e_out)},
                                      {"by_day", std::move(d_out)},
                                      {"by_topic", counts_json(by_topic)}}));
  }

  void report_gaps(call& c) {
    if (!analyst(*c.who)) return c.fail(forbidden("reports are for supervisors and curators"));
    std::string lo, hi;
    if (auto err = range(c, lo, hi)) return c.fail(*err);
    auto txn = env_.read();
    std::set<std::string> clicked;  // search ids that led to an opened/used entry
    txn.scan(storage::table::kb_usage, lo, {}, [&](std::string_view, std::string_view v) {
      auto o = storage::decode_record(v);
      if (auto* s = o ? o->if_contains("search_id") : nullptr; s && s->is_string()) clicked.insert(std::string(s->as_string()));
      return true;
    });
    std::map<std::string, size_t> no_result, no_click;
    txn.scan(storage::table::kb_searches, lo, hi, [&](std::string_view k, std::string_view v) {
      auto o = storage::decode_record(v);
      auto* q = o ? o->if_contains("q") : nullptr;
      if (!q || !q->is_string()) return true;
      auto* total = o->if_contains("total");
      bool empty = total && total->is_int64() && total->as_int64() == 0;
      auto id = storage::from_be64(k);
      if (empty) ++no_result[std::string(q->as_string())];
      else if (id && !clicked.count(std::to_string(*id))) ++no_click[std::string(q->as_string())];
      return true;
    });
    auto top = [&](const std::map<std::string, size_t>& m) {
      std::vector<std::pair<std::string, size_t>> v(m.begin(), m.end());
      std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
      json::array out;
      for (size_t i = 0; i < v.size() && i < c.limit(50, 500); ++i)
        out.push_back(json::object{{"q", v[i].first}, {"searches", v[i].second}});
      return out;
    };
    c.ok(json::serialize(json::object{{"no_result", top(no_result)}, {"no_click", top(no_click)}}));
  }

  void report_unused(call& c) {
    if (!analyst(*c.who)) return c.fail(forbidden("reports are for supervisors and curators"));
    std::set<std::string> used;
    auto txn = env_.read();
    txn.scan(storage::table::kb_usage, {}, {}, [&](std::string_view, std::string_view v) {
      auto o = storage::decode_record(v);
      if (auto* e = o ? o->if_contains("entry") : nullptr; e && e->is_string()) used.insert(std::string(e->as_string()));
      return true;
    });
    json::array out;
    size_t published = 0;
    kb_.data().for_each_published([&](const kb::entry& e) {
      ++published;
      if (!used.count(e.id))
        out.push_back(json::object{{"id", e.id}, {"question", e.question}, {"topic", e.topic}, {"region", e.region}});
    });
    c.ok(json::serialize(json::object{{"published", published}, {"never_used", std::move(out)}}));
  }

  // N-29: entries used on calls that became complaints (docs/api.md has the definition).
  void report_complaints(call& c) {
    if (!analyst(*c.who)) return c.fail(forbidden("reports are for supervisors and curators"));
    std::string lo, hi;
    if (auto err = range(c, lo, hi)) return c.fail(*err);
    auto days = within_days(c);
    if (!days)
      return c.fail(bad_request("invalid_value", "within_days must be a whole number from 0 to 365", "within_days"));
    std::map<std::string, std::set<uint64_t>> calls_of;  // entry -> calls it was used on
    auto txn = env_.read();
    txn.scan(storage::table::kb_usage, lo, hi, [&](std::string_view, std::string_view v) {
      auto o = storage::decode_record(v);
      if (!o || text_of(*o, "action") != "used" || text_of(*o, "entry").empty()) return true;
      if (auto id = call_id_of(text_of(*o, "call_id"))) calls_of[std::string(text_of(*o, "entry"))].insert(*id);
      return true;
    });
    std::map<uint64_t, std::optional<uint64_t>> complaint_of;  // each call looked at once
    struct row {
      std::string entry;
      size_t used_on = 0;
      std::vector<std::pair<uint64_t, uint64_t>> complaints;  // used on call, complaint call
    };
    std::vector<row> rows;
    for (const auto& [entry, ids] : calls_of) {
      row r{entry, ids.size(), {}};
      for (auto id : ids) {
        auto it = complaint_of.find(id);
        if (it == complaint_of.end()) it = complaint_of.emplace(id, complaint_after(txn, id, *days * day_ms)).first;
        if (it->second) r.complaints.emplace_back(id, *it->second);
      }
      if (!r.complaints.empty()) rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
      return a.complaints.size() != b.complaints.size() ? a.complaints.size() > b.complaints.size() : a.entry < b.entry;
    });
    size_t became = 0;
    for (const auto& [id, found] : complaint_of) became += found.has_value();
    json::array out;
    for (size_t i = 0; i < rows.size() && i < c.limit(50, 500); ++i)
      out.push_back(complaint_row_json(rows[i].entry, rows[i].used_on, rows[i].complaints));
    c.ok(json::serialize(json::object{{"within_days", *days},
                                      {"calls_with_use", complaint_of.size()},
                                      {"became_complaints", became},
                                      {"entries", std::move(out)}}));
  }

  // ?within_days=N, 0..365 (default 30); nullopt if it is not that.
  static std::optional<uint64_t> within_days(const call& c) {
    auto s = c.query("within_days", "30");
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n > 365) return std::nullopt;
    return n;
  }

  json::object complaint_row_json(const std::string& id, size_t used_on,
                                  const std::vector<std::pair<uint64_t, uint64_t>>& complaints) const {
    constexpr size_t calls_listed = 20;
    auto e = kb_.data().published(id);
    if (!e) e = kb_.data().latest(id);
    json::array calls;
    for (size_t i = 0; i < complaints.size() && i < calls_listed; ++i)
      calls.push_back(json::object{{"call", std::to_string(complaints[i].first)},
                                   {"complaint_call", std::to_string(complaints[i].second)}});
    return json::object{{"id", id},
                        {"question", e ? e->question : ""},
                        {"topic", e ? e->topic : ""},
                        {"region", e ? e->region : ""},
                        {"used_on_calls", used_on},
                        {"became_complaints", complaints.size()},
                        {"calls", std::move(calls)}};
  }

  kb::service& kb_;
  const storage::env& env_;
};

}  // namespace

void add_kb_report_routes(router& r, kb::service& kb, const storage::env& env) {
  auto reports = std::make_shared<kb_reports>(kb, env);
  reports->add(r);
  r.keep_alive(reports);
}

}  // namespace hotline::api
