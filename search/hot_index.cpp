#include "search/hot_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <mutex>
#include <span>
#include <unordered_map>

#include "search/index_layout.hpp"

namespace hotline::kb {

namespace hot {

// Attribute values (topics, regions, states) as small numbers, so a filter is a lookup.
struct names {
  std::vector<std::string> values;
  std::unordered_map<std::string, uint16_t> ids;
  uint16_t intern(const std::string& v) {
    auto [it, added] = ids.emplace(v, static_cast<uint16_t>(values.size()));
    if (added) values.push_back(v);
    return it->second;
  }
};

struct doc_meta {
  float normlen = 1;  // max(length / average length, 0.5): BM25's length normalisation
  uint16_t topic = 0, region = 0, status = 0;
  uint32_t effective = 0, expires = 0;  // YYYYMMDD
  Xapian::docid xid = 0;                // ties break by Xapian's docid, as its matcher does
};

// One document read from Xapian.
struct loaded {
  doc_meta meta;
  hot_snapshot::stored stored;
  std::vector<std::pair<std::string, uint8_t>> terms;  // content terms, wdf capped at 255
  double length = 0;
};

using term_list = std::vector<std::pair<uint32_t, uint8_t>>;  // term id, wdf

// Everything the index held when it was last loaded in full.
struct base {
  std::unordered_map<std::string, uint32_t> term_ids;
  std::vector<uint64_t> post_at;  // per term: its postings are [post_at[t], post_at[t + 1])
  std::vector<uint32_t> post_doc;  // in impact order (see build)
  std::vector<uint8_t> post_impact;  // the BM25 tf part with the default k1, b, in 1/255 of its maximum
  std::vector<uint64_t> fwd_at;  // per document: its terms are [fwd_at[d], fwd_at[d + 1])
  std::vector<uint32_t> fwd;     // term id << 8 | wdf: one stream to read per rescored document
  std::vector<doc_meta> meta;
  std::vector<uint32_t> facet;  // per document: topic << 16 | region (the facet count reads only these)
  std::vector<hot_snapshot::stored> stored;
  std::unordered_map<std::string, uint32_t> by_id;  // entry id -> document
  names topics, regions, states;
  double average_length = 1;
  uint32_t df(uint32_t term) const { return static_cast<uint32_t>(post_at[term + 1] - post_at[term]); }
};

// The filters asked for in one snapshot, as bitmaps over its base documents (overlay
// documents the filter passes are set; replaced ones are not).
struct filter_cache {
  using bitmap = std::vector<uint64_t>;
  static constexpr size_t most = 512;  // filters kept (12.5 KB each at 100,000 entries)
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const bitmap>> made;
};

// Documents changed since the base was loaded.
struct overlay {
  std::vector<char> dead;  // per base document: replaced or removed
  size_t dead_count = 0;
  struct doc {
    doc_meta meta;
    hot_snapshot::stored stored;
    term_list terms;
  };
  std::vector<doc> docs;
  std::unordered_map<std::string, uint32_t> new_terms;  // not in the base: ids from its size on
  std::unordered_map<uint32_t, uint32_t> df;            // documents here per term
  names topics, regions, states;                        // the base's, extended
};

namespace {

constexpr double min_normlen = 0.5;            // as BM25Weight(k1, 0, 1, b, 0.5) in index.cpp
constexpr size_t max_terms = size_t{1} << 24;  // term ids share a forward-list entry with the wdf

uint32_t day_value(const std::string& yyyymmdd) {
  uint32_t v = 0;
  for (char c : yyyymmdd)
    if (c >= '0' && c <= '9') v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

loaded load(const Xapian::Database& db, Xapian::docid did, const Xapian::Document& doc) {
  loaded d;
  auto s = layout::decode_stored(doc.get_data());
  d.stored = {std::move(s.id), std::move(s.question), std::move(s.region), std::move(s.topic), std::move(s.answer)};
  d.meta.effective = day_value(doc.get_value(layout::effective_slot));
  d.meta.expires = day_value(doc.get_value(layout::expires_slot));
  d.meta.xid = did;
  d.length = db.get_doclength(did);
  for (auto it = doc.termlist_begin(); it != doc.termlist_end(); ++it) {
    auto t = *it;
    if (layout::is_content_term(t)) d.terms.emplace_back(std::move(t), static_cast<uint8_t>(std::min(255u, it.get_wdf())));
  }
  return d;
}

void set_attributes(doc_meta& m, const Xapian::Document& doc, names& topics, names& regions, names& states) {
  m.topic = topics.intern(doc.get_value(layout::topic_slot));
  m.region = regions.intern(doc.get_value(layout::region_slot));
  m.status = states.intern(doc.get_value(layout::status_slot));
}

// BM25's term-frequency part, (k1 + 1) wdf / (K + wdf), K = k1 ((1 - b) + b normlen).
inline double tf_part(double wdf, float normlen, double k1, double b) {
  return (k1 + 1) * wdf / (k1 * ((1 - b) + b * normlen) + wdf);
}

// Xapian 1.4's BM25 term weight (idf) for a term in `n` of `N` documents.
double idf(double n, double N) {
  n = std::min(n, N);
  double tw = (N - n + 0.5) / (n + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  return std::log(tw);
}

// How many postings ahead phase 1 prefetches a document's accumulator, and how many
// documents ahead phase 2 prefetches a forward list.
constexpr size_t prefetch_distance = 16;
constexpr size_t rescore_prefetch = 4;

// Per-thread working memory, reused across searches.
struct scratch {
  std::vector<float> acc;          // phase-1 score per base document
  std::vector<uint32_t> touched;   // documents with acc != 0 (the first of them; sized for all + 1)
  std::vector<uint32_t> passing;   // one term's postings that pass the filter, as offsets
  std::vector<uint64_t> best;      // phase 1's score and document as one key, for selecting
  std::vector<uint16_t> slot_of;  // query slot + 1 per term id, 0 if the query lacks it (small: read for
                                  // every forward-list entry in phase 2, it should stay in the L1 cache)
};
scratch& my_scratch() {
  thread_local scratch s;
  return s;
}

// The query's filters over attribute numbers.
struct filter {
  std::vector<char> topic_ok, region_ok, status_ok;  // empty: any
  uint32_t day = 0;                                  // 0: any day

  static std::vector<char> allowed(const names& n, const std::vector<std::string>& wanted) {
    if (wanted.empty()) return {};
    std::vector<char> ok(n.values.size() + 1, 0);  // +1: never empty when the filter is on
    for (const auto& w : wanted)
      if (auto it = n.ids.find(w); it != n.ids.end()) ok[it->second] = 1;
    return ok;
  }
  // Identifies the filter within one snapshot (whose attribute numbers it uses).
  std::string key() const {
    std::string k(reinterpret_cast<const char*>(&day), sizeof day);
    for (const auto* ok : {&topic_ok, &region_ok, &status_ok}) {
      k += static_cast<char>(ok->empty() ? 0 : 1);
      k.append(ok->begin(), ok->end());
      k += '|';
    }
    return k;
  }
  bool passes(const doc_meta& m) const {
    return (topic_ok.empty() || topic_ok[m.topic]) && (region_ok.empty() || region_ok[m.region]) &&
           (status_ok.empty() || status_ok[m.status]) && (day == 0 || (m.effective <= day && day < m.expires));
  }
};

}  // namespace
}  // namespace hot

using namespace hot;

namespace {

// Builds the base from every document of `db`. Postings are kept in impact order: by
// BM25's term-frequency part with the default parameters (k1 2, b 0.5), highest first,
// so phase 1 reads a term's best documents first.
std::shared_ptr<base> build_base(const Xapian::Database& db) {
  auto b = std::make_shared<base>();
  b->fwd_at.push_back(0);
  double total_length = 0;
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    auto doc = db.get_document(*it);
    auto d = load(db, *it, doc);
    set_attributes(d.meta, doc, b->topics, b->regions, b->states);
    for (auto& [term, wdf] : d.terms) {
      auto at = b->term_ids.find(term);
      if (at == b->term_ids.end()) {
        if (b->term_ids.size() >= max_terms) continue;  // past 16 million distinct terms: not searchable here
        at = b->term_ids.emplace(std::move(term), static_cast<uint32_t>(b->term_ids.size())).first;
      }
      b->fwd.push_back(at->second << 8 | wdf);
    }
    b->fwd_at.push_back(b->fwd.size());
    b->by_id.emplace(d.stored.id, static_cast<uint32_t>(b->meta.size()));
    b->meta.push_back(d.meta);
    b->facet.push_back(uint32_t{d.meta.topic} << 16 | d.meta.region);
    b->meta.back().normlen = static_cast<float>(d.length);  // the ratio once the average is known
    b->stored.push_back(std::move(d.stored));
    total_length += d.length;
  }
  size_t docs = b->meta.size(), terms = b->term_ids.size();
  b->average_length = docs ? std::max(1.0, total_length / docs) : 1;
  for (auto& m : b->meta) m.normlen = static_cast<float>(std::max(m.normlen / b->average_length, min_normlen));
  // Invert: count, place, then order each term's postings by impact.
  b->post_at.assign(terms + 1, 0);
  for (auto e : b->fwd) ++b->post_at[(e >> 8) + 1];
  for (size_t t = 0; t < terms; ++t) b->post_at[t + 1] += b->post_at[t];
  b->post_doc.resize(b->fwd.size());
  std::vector<uint8_t> post_wdf(b->fwd.size());
  std::vector<uint64_t> fill(b->post_at.begin(), b->post_at.end() - 1);
  for (uint32_t d = 0; d < docs; ++d)
    for (auto i = b->fwd_at[d]; i < b->fwd_at[d + 1]; ++i) {
      auto at = fill[b->fwd[i] >> 8]++;
      b->post_doc[at] = d;
      post_wdf[at] = static_cast<uint8_t>(b->fwd[i]);
    }
  ranking_options defaults;
  b->post_impact.resize(b->post_doc.size());
  std::vector<std::pair<float, uint32_t>> order;
  std::vector<uint32_t> docs_sorted;
  for (size_t t = 0; t < terms; ++t) {
    auto lo = b->post_at[t], hi = b->post_at[t + 1];
    order.clear();
    for (auto i = lo; i < hi; ++i)
      order.emplace_back(-static_cast<float>(tf_part(post_wdf[i], b->meta[b->post_doc[i]].normlen,
                                                     defaults.bm25_k1, defaults.bm25_b)),
                         static_cast<uint32_t>(i - lo));
    std::sort(order.begin(), order.end());
    docs_sorted.resize(order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      docs_sorted[k] = b->post_doc[lo + order[k].second];
      // Phase 1 adds this (a share of the tf part's maximum, k1 + 1), not wdf and length.
      b->post_impact[lo + k] = static_cast<uint8_t>(std::lround(-order[k].first / (defaults.bm25_k1 + 1) * 255));
    }
    std::copy(docs_sorted.begin(), docs_sorted.end(), b->post_doc.begin() + static_cast<ptrdiff_t>(lo));
  }
  return b;
}

// The query plan as slots (one per distinct term) and the roles the slots play.
struct compiled {
  struct plain {
    int32_t slot;
    double weight;  // idf (x scale)
    bool finding;
  };
  struct group {
    double weight;
    std::vector<int32_t> stand_ins;
    std::vector<std::vector<int32_t>> members;
  };
  std::vector<uint32_t> slot_terms;  // term id per slot
  std::vector<plain> plains;
  std::vector<group> groups;
};

}  // namespace

uint64_t hot_snapshot::documents() const {
  if (!base) return 0;
  uint64_t n = base->meta.size();
  if (overlay) n = n - overlay->dead_count + overlay->docs.size();
  return n;
}

uint64_t hot_snapshot::freq(const std::string& term) const {
  if (!base) return 0;
  uint64_t n = 0;
  uint32_t id = UINT32_MAX;
  if (auto it = base->term_ids.find(term); it != base->term_ids.end()) id = it->second, n = base->df(id);
  if (overlay) {
    if (id == UINT32_MAX)
      if (auto it = overlay->new_terms.find(term); it != overlay->new_terms.end()) id = it->second;
    if (auto it = overlay->df.find(id); id != UINT32_MAX && it != overlay->df.end()) n += it->second;
  }
  return n;
}

namespace {

// The bitmap of base documents that pass `f` in this snapshot: from the cache, or made
// (one pass over the attributes, ~0.2 ms at 100,000 entries) and kept.
std::shared_ptr<const filter_cache::bitmap> passing(filter_cache& cache, const base& b, const hot::overlay* ov,
                                                    const filter& f) {
  auto key = f.key();
  {
    std::lock_guard lock(cache.mutex);
    if (auto it = cache.made.find(key); it != cache.made.end()) return it->second;
  }
  auto bits = std::make_shared<filter_cache::bitmap>((b.meta.size() + 63) / 64, 0);
  for (size_t d = 0; d < b.meta.size(); ++d)
    if (!(ov && ov->dead[d]) && f.passes(b.meta[d])) (*bits)[d / 64] |= uint64_t{1} << (d % 64);
  std::lock_guard lock(cache.mutex);
  if (cache.made.size() >= filter_cache::most) cache.made.clear();
  return cache.made.emplace(std::move(key), std::move(bits)).first->second;
}

}  // namespace

hot_snapshot::outcome hot_snapshot::search(const query_plan& plan, const search_query& q, const ranking_options& r,
                                           size_t want) const {
  outcome out;
  if (!base || plan.empty() || want == 0) return out;
  const auto& b = *base;
  const hot::overlay* ov = overlay.get();
  const names& topics = ov ? ov->topics : b.topics;
  const names& regions = ov ? ov->regions : b.regions;
  const names& states = ov ? ov->states : b.states;
  filter f{filter::allowed(topics, q.topics), filter::allowed(regions, q.regions),
           filter::allowed(states, q.statuses.empty() ? std::vector<std::string>{"published"} : q.statuses),
           q.in_force_on.empty() ? 0 : day_value(q.in_force_on)};
  const double N = static_cast<double>(documents()), k1 = r.bm25_k1, bb = r.bm25_b;

  // Slots and weights.
  auto& s = my_scratch();
  size_t vocabulary = b.term_ids.size() + (ov ? ov->new_terms.size() : 0);
  if (s.slot_of.size() < vocabulary) s.slot_of.resize(vocabulary, 0);
  compiled c;
  auto term_id = [&](const std::string& t) -> uint32_t {
    if (auto it = b.term_ids.find(t); it != b.term_ids.end()) return it->second;
    if (ov)
      if (auto it = ov->new_terms.find(t); it != ov->new_terms.end()) return it->second;
    return UINT32_MAX;
  };
  auto slot = [&](const std::string& t) -> int32_t {
    auto id = term_id(t);
    if (id == UINT32_MAX) return -1;
    if (s.slot_of[id] == 0) {
      if (c.slot_terms.size() + 1 >= UINT16_MAX) return -1;  // a text of 65,534 distinct terms: the rest ignored
      c.slot_terms.push_back(id);
      s.slot_of[id] = static_cast<uint16_t>(c.slot_terms.size());
    }
    return s.slot_of[id] - 1;
  };
  for (const auto& t : plan.finding)
    if (auto sl = slot(t); sl >= 0) c.plains.push_back({sl, idf(static_cast<double>(freq(t)), N), true});
  for (const auto& t : plan.weighting)
    if (auto sl = slot(t); sl >= 0) c.plains.push_back({sl, idf(static_cast<double>(freq(t)), N), false});
  for (const auto& g : plan.groups) {
    compiled::group cg;
    double union_df = 0;  // as Xapian estimates an OR: independent terms
    for (const auto& t : g.stand_ins) {
      if (auto sl = slot(t); sl >= 0) cg.stand_ins.push_back(sl);
      double n = static_cast<double>(freq(t));
      union_df = union_df + n - (N > 0 ? union_df * n / N : 0);
    }
    for (const auto& m : g.members) {
      std::vector<int32_t> slots;
      for (const auto& t : m) slots.push_back(slot(t));
      if (std::find(slots.begin(), slots.end(), -1) == slots.end()) cg.members.push_back(std::move(slots));
    }
    cg.weight = idf(union_df, N) * g.scale;
    if (!cg.stand_ins.empty() && !cg.members.empty()) c.groups.push_back(std::move(cg));
  }
  auto clear_slots = [&] {
    for (auto id : c.slot_terms) s.slot_of[id] = 0;
  };

  // Phase 1: each finding term's best postings that pass the filters.
  if (s.acc.size() < b.meta.size()) s.acc.resize(b.meta.size(), 0);
  // Every posting writes its document at touched[touched_n] (kept only when first seen):
  // room for all documents and that one write past them.
  if (s.touched.size() < b.meta.size() + 1) s.touched.resize(b.meta.size() + 1);
  if (s.passing.size() < limits.postings_per_term) s.passing.resize(limits.postings_per_term);
  size_t touched_n = 0;
  auto pass_bits = passing(*filters, b, ov, f);
  const uint64_t* pass = pass_bits->data();
  // Without branches on the data (whether a posting passes, whether its document was
  // seen: both are coin tosses the branch predictor loses): first the offsets of the
  // postings that pass, then their weights added.
  auto gather = [&](uint32_t id, double weight) {
    if (id >= b.term_ids.size()) return;  // only in overlay documents
    const uint64_t lo = b.post_at[id], hi = b.post_at[id + 1];
    const uint32_t* docs = b.post_doc.data() + lo;
    const uint8_t* impact = b.post_impact.data() + lo;
    uint32_t* sel = s.passing.data();
    size_t n = 0;
    for (uint32_t i = 0; i < hi - lo && n < limits.postings_per_term; ++i) {
      auto d = docs[i];
      sel[n] = i;
      n += pass[d / 64] >> (d % 64) & 1;
    }
    const float w = static_cast<float>(weight);
    uint32_t* touched = s.touched.data();
    float* acc = s.acc.data();
    for (size_t k = 0; k < n; ++k) {
      if (k + prefetch_distance < n) __builtin_prefetch(&acc[docs[sel[k + prefetch_distance]]], 1);
      auto d = docs[sel[k]];
      float a = acc[d];
      touched[touched_n] = d;
      touched_n += a == 0;  // first seen
      // Seen (FLT_MIN) even if the weight adds nothing; in 1/255 of k1 + 1, phase 2 is exact.
      acc[d] = (a == 0 ? std::numeric_limits<float>::min() : a) + w * impact[sel[k]];
    }
  };
  for (const auto& p : c.plains)
    if (p.finding) gather(c.slot_terms[p.slot], p.weight);
  for (const auto& g : c.groups)
    for (auto sl : g.stand_ins) gather(c.slot_terms[sl], g.weight);

  // Phase 2: the best candidates, scored exactly from their forward lists.
  std::vector<double> region_factor(regions.values.size(), 1.0);  // region precedence
  if (!q.agent_city.empty())
    for (size_t i = 0; i < region_factor.size(); ++i) switch (region_rank(regions.values[i], q.agent_city)) {
        case 0: region_factor[i] = r.city_factor; break;
        case 1: region_factor[i] = r.province_factor; break;
        case 2: region_factor[i] = r.national_factor; break;
        default: region_factor[i] = r.other_city_factor; break;
      }
  // A document's wdf per slot; [0] takes the writes of the terms the query lacks, so
  // reading a forward list has no branch.
  std::vector<uint8_t> wdf_by_slot1(c.slot_terms.size() + 1);
  const uint8_t* wdf = wdf_by_slot1.data() + 1;
  auto score = [&](const doc_meta& m, auto each_term) -> double {
    std::fill(wdf_by_slot1.begin(), wdf_by_slot1.end(), 0);
    each_term(s.slot_of.data(), wdf_by_slot1.data());
    double total = 0;
    bool found = false;
    for (const auto& p : c.plains)
      if (wdf[p.slot]) {
        total += p.weight * tf_part(wdf[p.slot], m.normlen, k1, bb);
        found |= p.finding;
      }
    for (const auto& g : c.groups) {
      bool said = std::any_of(g.members.begin(), g.members.end(), [&](const auto& member) {
        return std::all_of(member.begin(), member.end(), [&](int32_t sl) { return wdf[sl] != 0; });
      });
      if (!said) continue;
      double sum = 0;
      for (auto sl : g.stand_ins) sum += wdf[sl];
      total += g.weight * tf_part(sum, m.normlen, k1, bb);
      found = true;
    }
    if (!found) return -1;
    return total * region_factor[m.region];
  };
  size_t rescored = std::max(limits.rescored, 4 * want);
  // The candidates as keys that order as "higher phase-1 score first, then lower
  // document": a positive float's bits order as the float does.
  auto& best = s.best;
  best.clear();
  const std::span<const uint32_t> touched(s.touched.data(), touched_n);
  for (auto d : touched) best.push_back(uint64_t{std::bit_cast<uint32_t>(s.acc[d])} << 32 | (UINT32_MAX - d));
  if (best.size() > rescored)
    std::nth_element(best.begin(), best.begin() + static_cast<ptrdiff_t>(rescored), best.end(), std::greater<>());
  auto doc_of = [](uint64_t key) { return UINT32_MAX - static_cast<uint32_t>(key); };
  struct ranked_doc {
    double score;
    Xapian::docid xid;
    const stored* doc;
  };
  std::vector<ranked_doc> ranked;
  const size_t scored = std::min(best.size(), rescored);
  for (size_t i = 0; i < scored; ++i) {
    // The next lists while this one is scored; where they are, further ahead.
    if (i + 2 * rescore_prefetch < scored) __builtin_prefetch(&b.fwd_at[doc_of(best[i + 2 * rescore_prefetch])]);
    if (i + rescore_prefetch < scored) {
      auto ahead = doc_of(best[i + rescore_prefetch]);
      for (auto k = b.fwd_at[ahead]; k < b.fwd_at[ahead + 1]; k += 16) __builtin_prefetch(&b.fwd[k]);
    }
    auto d = doc_of(best[i]);
    double sc = score(b.meta[d], [&](const uint16_t* slot1, uint8_t* wdf1) {
      const uint32_t* at = b.fwd.data() + b.fwd_at[d];
      for (const uint32_t* end = b.fwd.data() + b.fwd_at[d + 1]; at != end; ++at)
        wdf1[slot1[*at >> 8]] = static_cast<uint8_t>(*at);
    });
    if (sc > 0) ranked.push_back({sc, b.meta[d].xid, &b.stored[d]});
  }
  out.matches = touched.size();
  std::vector<size_t> topic_n(topics.values.size()), region_n(regions.values.size());
  if (q.facets)
    for (size_t i = 0; i < touched.size(); ++i) {
      if (i + prefetch_distance < touched.size()) __builtin_prefetch(&b.facet[touched[i + prefetch_distance]]);
      auto f = b.facet[touched[i]];
      ++topic_n[f >> 16], ++region_n[f & 0xffff];
    }
  for (auto d : touched) s.acc[d] = 0;
  // Documents changed since the base: few, each scored in full.
  if (ov)
    for (const auto& d : ov->docs) {
      if (!f.passes(d.meta)) continue;
      double sc = score(d.meta, [&](const uint16_t* slot1, uint8_t* wdf1) {
        for (auto [term, w] : d.terms) wdf1[slot1[term]] = w;
      });
      if (sc <= 0) continue;
      ranked.push_back({sc, d.meta.xid, &d.stored});
      ++out.matches;
      if (q.facets) ++topic_n[d.meta.topic], ++region_n[d.meta.region];
    }
  clear_slots();
  for (size_t i = 0; i < topic_n.size(); ++i)
    if (topic_n[i]) out.topic_counts[topics.values[i]] = topic_n[i];
  for (size_t i = 0; i < region_n.size(); ++i)
    if (region_n[i]) out.region_counts[regions.values[i]] = region_n[i];
  auto best_first = [](const ranked_doc& x, const ranked_doc& y) {
    return x.score != y.score ? x.score > y.score : x.xid < y.xid;
  };
  if (ranked.size() > want) {
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(want), ranked.end(), best_first);
    ranked.resize(want);
  } else {
    std::sort(ranked.begin(), ranked.end(), best_first);
  }
  for (const auto& x : ranked) out.ranked.push_back({x.doc, x.score});
  return out;
}

hot_index::hot_index(hot_limits l) : limits_(l) { publish(nullptr, nullptr); }

void hot_index::publish(std::shared_ptr<const base> b, std::shared_ptr<const overlay> o) {
  auto snap = std::make_shared<hot_snapshot>();
  snap->limits = limits_;
  snap->base = std::move(b);
  snap->overlay = std::move(o);
  snap->filters = std::make_shared<filter_cache>();
  std::atomic_store(&current_, std::shared_ptr<const hot_snapshot>(std::move(snap)));
}

void hot_index::rebuild(const Xapian::Database& db) {
  std::lock_guard lock(writing_);
  publish(build_base(db), nullptr);
}

void hot_index::update(const Xapian::Database& db, const std::vector<std::string>& changed_id_terms) {
  std::lock_guard lock(writing_);
  auto now = std::atomic_load(&current_);
  auto b = now->base;
  if (!b) return publish(build_base(db), nullptr);
  auto o = now->overlay ? std::make_shared<overlay>(*now->overlay) : std::make_shared<overlay>();
  if (!now->overlay) {
    o->dead.assign(b->meta.size(), 0);
    o->topics = b->topics, o->regions = b->regions, o->states = b->states;
  }
  for (const auto& id_term : changed_id_terms) {
    std::string id = id_term.substr(layout::id_prefix.size());
    if (auto it = b->by_id.find(id); it != b->by_id.end() && !o->dead[it->second]) {
      o->dead[it->second] = 1;
      ++o->dead_count;
    }
    std::erase_if(o->docs, [&](const overlay::doc& d) { return d.stored.id == id; });
    auto pl = db.postlist_begin(id_term);
    if (pl == db.postlist_end(id_term)) continue;  // removed
    auto doc = db.get_document(*pl);
    auto d = load(db, *pl, doc);
    overlay::doc od{d.meta, std::move(d.stored), {}};
    set_attributes(od.meta, doc, o->topics, o->regions, o->states);
    od.meta.normlen = static_cast<float>(std::max(d.length / b->average_length, min_normlen));
    for (auto& [term, wdf] : d.terms) {
      uint32_t tid;
      if (auto it = b->term_ids.find(term); it != b->term_ids.end()) tid = it->second;
      else tid = o->new_terms.emplace(term, static_cast<uint32_t>(b->term_ids.size() + o->new_terms.size())).first->second;
      od.terms.emplace_back(tid, wdf);
    }
    o->docs.push_back(std::move(od));
  }
  // Rebuilt past the limit, or once the overlay outgrows a quarter of a small base (the
  // first load of the starter content lands on an empty one).
  size_t changed = o->docs.size() + o->dead_count;
  if (changed > std::min(limits_.overlay_limit, std::max<size_t>(64, b->meta.size() / 4)))
    return publish(build_base(db), nullptr);
  o->df.clear();
  for (const auto& d : o->docs)
    for (auto [term, w] : d.terms) ++o->df[term];
  publish(b, std::move(o));
}

}  // namespace hotline::kb
