// The knowledge-base reports for supervisors and curators (N-29): what callers ask,
// which entries agents open and use, where the knowledge base has gaps.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
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

class kb_reports {
 public:
  kb_reports(kb::service& kb, const storage::env& env) : kb_(kb), env_(env) {}

  void add(router& r) {
    r.add("GET", "/v1/kb/reports/hot", true, [this](call& c) { report_hot(c); });
    r.add("GET", "/v1/kb/reports/gaps", true, [this](call& c) { report_gaps(c); });
    r.add("GET", "/v1/kb/reports/unused", true, [this](call& c) { report_unused(c); });
  }

 private:
  // [from, to] as days; default: the last 7 days. Keys of the log tables are
  // time-ordered ids, so the range is one cursor scan.
  std::optional<api_error> range(const call& c, std::string& lo, std::string& hi) const {
    auto from = c.query("from"), to = c.query("to", today());
    if (from.empty()) from = day_of(day_start_ms(to) - 6 * 86'400'000ull);
    if (!kb::valid_day(from) || !kb::valid_day(to)) return bad_request("invalid_value", "from and to must be YYYY-MM-DD", "from");
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
