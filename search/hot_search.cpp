// hot_snapshot::search: the two phases over the in-memory index (hot_index.hpp).
#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <span>

#include "search/hot_index.hpp"
#include "search/hot_index_data.hpp"

namespace hotline::kb {

using namespace hot;

namespace {

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

// The bitmap of base documents that pass `f` in this snapshot: from the cache, or made
// (one pass over the attributes, ~0.2 ms at 100,000 entries) and kept.
std::shared_ptr<const filter_cache::bitmap> filter_bitmap(filter_cache& cache, const base& b, const hot::overlay* ov,
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

struct ranked_doc {
  double score;
  Xapian::docid xid;
  const hot_snapshot::stored* doc;
};

// One search over one snapshot, in the steps hot_snapshot::search takes: the plan as query
// slots, phase 1 into this thread's accumulators, phase 2's exact scores, the facets.
class searching {
 public:
  searching(const hot_snapshot& snap, const search_query& q, const ranking_options& r)
      : snap_(snap), b_(*snap.base), ov_(snap.overlay.get()), q_(q), r_(r), s_(my_scratch()),
        topics_(ov_ ? ov_->topics : b_.topics), regions_(ov_ ? ov_->regions : b_.regions),
        filter_{filter::allowed(topics_, q.topics), filter::allowed(regions_, q.regions),
                filter::allowed(ov_ ? ov_->states : b_.states,
                                q.statuses.empty() ? std::vector<std::string>{"published"} : q.statuses),
                q.in_force_on.empty() ? 0 : day_value(q.in_force_on)},
        N_(static_cast<double>(snap.documents())) {}
  // The slot map is the thread's, for its next search.
  ~searching() {
    for (auto id : c_.slot_terms) s_.slot_of[id] = 0;
  }

  // Slots and weights: each distinct term of the plan gets a slot.
  void compile(const query_plan& plan) {
    size_t vocabulary = b_.term_ids.size() + (ov_ ? ov_->new_terms.size() : 0);
    if (s_.slot_of.size() < vocabulary) s_.slot_of.resize(vocabulary, 0);
    auto idf_of = [&](const std::string& t) { return idf(static_cast<double>(snap_.freq(t)), N_); };
    for (const auto& t : plan.finding)
      if (auto sl = slot(t); sl >= 0) c_.plains.push_back({sl, idf_of(t), true});
    for (const auto& t : plan.weighting)
      if (auto sl = slot(t); sl >= 0) c_.plains.push_back({sl, idf_of(t), false});
    for (const auto& g : plan.groups) {
      compiled::group cg;
      double union_df = 0;  // as Xapian estimates an OR: independent terms
      for (const auto& t : g.stand_ins) {
        if (auto sl = slot(t); sl >= 0) cg.stand_ins.push_back(sl);
        double n = static_cast<double>(snap_.freq(t));
        union_df = union_df + n - (N_ > 0 ? union_df * n / N_ : 0);
      }
      for (const auto& m : g.members) {
        std::vector<int32_t> slots;
        for (const auto& t : m) slots.push_back(slot(t));
        if (std::find(slots.begin(), slots.end(), -1) == slots.end()) cg.members.push_back(std::move(slots));
      }
      cg.weight = idf(union_df, N_) * g.scale;
      if (!cg.stand_ins.empty() && !cg.members.empty()) c_.groups.push_back(std::move(cg));
    }
    region_factor_.assign(regions_.values.size(), 1.0);  // region precedence
    if (!q_.agent_city.empty())
      for (size_t i = 0; i < region_factor_.size(); ++i) switch (region_rank(regions_.values[i], q_.agent_city)) {
          case 0: region_factor_[i] = r_.city_factor; break;
          case 1: region_factor_[i] = r_.province_factor; break;
          case 2: region_factor_[i] = r_.national_factor; break;
          default: region_factor_[i] = r_.other_city_factor; break;
        }
    wdf_by_slot1_.assign(c_.slot_terms.size() + 1, 0);
  }

  // Phase 1: each finding term's best postings that pass the filters add their partial
  // weights; the documents first seen are the candidates.
  void gather() {
    if (s_.acc.size() < b_.meta.size()) s_.acc.resize(b_.meta.size(), 0);
    // Every posting writes its document at touched[touched_n] (kept only when first seen):
    // room for all documents and that one write past them.
    if (s_.touched.size() < b_.meta.size() + 1) s_.touched.resize(b_.meta.size() + 1);
    if (s_.passing.size() < snap_.limits.postings_per_term) s_.passing.resize(snap_.limits.postings_per_term);
    pass_bits_ = filter_bitmap(*snap_.filters, b_, ov_, filter_);
    for (const auto& p : c_.plains)
      if (p.finding) gather_term(c_.slot_terms[p.slot], p.weight);
    for (const auto& g : c_.groups)
      for (auto sl : g.stand_ins) gather_term(c_.slot_terms[sl], g.weight);
  }

  // Phase 2: the best candidates by phase 1, scored exactly from their forward lists.
  std::vector<ranked_doc> rescore(size_t want) {
    const size_t rescored = std::max(snap_.limits.rescored, 4 * want);
    // The candidates as keys that order as "higher phase-1 score first, then lower
    // document": a positive float's bits order as the float does.
    auto& best = s_.best;
    best.clear();
    for (auto d : touched()) best.push_back(uint64_t{std::bit_cast<uint32_t>(s_.acc[d])} << 32 | (UINT32_MAX - d));
    if (best.size() > rescored)
      std::nth_element(best.begin(), best.begin() + static_cast<ptrdiff_t>(rescored), best.end(), std::greater<>());
    auto doc_of = [](uint64_t key) { return UINT32_MAX - static_cast<uint32_t>(key); };
    std::vector<ranked_doc> ranked;
    const size_t scored = std::min(best.size(), rescored);
    for (size_t i = 0; i < scored; ++i) {
      // The next lists while this one is scored; where they are, further ahead.
      if (i + 2 * rescore_prefetch < scored) __builtin_prefetch(&b_.fwd_at[doc_of(best[i + 2 * rescore_prefetch])]);
      if (i + rescore_prefetch < scored) {
        auto ahead = doc_of(best[i + rescore_prefetch]);
        for (auto k = b_.fwd_at[ahead]; k < b_.fwd_at[ahead + 1]; k += 16) __builtin_prefetch(&b_.fwd[k]);
      }
      auto d = doc_of(best[i]);
      double sc = score(b_.meta[d], [&](const uint16_t* slot1, uint8_t* wdf1) {
        const uint32_t* at = b_.fwd.data() + b_.fwd_at[d];
        for (const uint32_t* end = b_.fwd.data() + b_.fwd_at[d + 1]; at != end; ++at)
          wdf1[slot1[*at >> 8]] = static_cast<uint8_t>(*at);
      });
      if (sc > 0) ranked.push_back({sc, b_.meta[d].xid, &b_.stored[d]});
    }
    return ranked;
  }

  // The match count and facets over the candidates and the matching overlay documents
  // (those scored in full, into `ranked`); the accumulators cleared for the next search.
  void finish(std::vector<ranked_doc>& ranked, hot_snapshot::outcome& out) {
    const auto candidates = touched();
    out.matches = candidates.size();
    std::vector<size_t> topic_n(topics_.values.size()), region_n(regions_.values.size());
    if (q_.facets)
      for (size_t i = 0; i < candidates.size(); ++i) {
        if (i + prefetch_distance < candidates.size())
          __builtin_prefetch(&b_.facet[candidates[i + prefetch_distance]]);
        auto f = b_.facet[candidates[i]];
        ++topic_n[f >> 16], ++region_n[f & 0xffff];
      }
    for (auto d : candidates) s_.acc[d] = 0;
    if (ov_)  // documents changed since the base: few, each scored in full
      for (const auto& d : ov_->docs) {
        if (!filter_.passes(d.meta)) continue;
        double sc = score(d.meta, [&](const uint16_t* slot1, uint8_t* wdf1) {
          for (auto [term, w] : d.terms) wdf1[slot1[term]] = w;
        });
        if (sc <= 0) continue;
        ranked.push_back({sc, d.meta.xid, &d.stored});
        ++out.matches;
        if (q_.facets) ++topic_n[d.meta.topic], ++region_n[d.meta.region];
      }
    for (size_t i = 0; i < topic_n.size(); ++i)
      if (topic_n[i]) out.topic_counts[topics_.values[i]] = topic_n[i];
    for (size_t i = 0; i < region_n.size(); ++i)
      if (region_n[i]) out.region_counts[regions_.values[i]] = region_n[i];
  }

 private:
  int32_t slot(const std::string& t) {
    uint32_t id = UINT32_MAX;
    if (auto it = b_.term_ids.find(t); it != b_.term_ids.end()) id = it->second;
    else if (ov_)
      if (auto it = ov_->new_terms.find(t); it != ov_->new_terms.end()) id = it->second;
    if (id == UINT32_MAX) return -1;
    if (s_.slot_of[id] == 0) {
      if (c_.slot_terms.size() + 1 >= UINT16_MAX) return -1;  // a text of 65,534 distinct terms: the rest ignored
      c_.slot_terms.push_back(id);
      s_.slot_of[id] = static_cast<uint16_t>(c_.slot_terms.size());
    }
    return s_.slot_of[id] - 1;
  }

  std::span<const uint32_t> touched() const { return {s_.touched.data(), touched_n_}; }

  // Without branches on the data (whether a posting passes, whether its document was
  // seen: both are coin tosses the branch predictor loses): first the offsets of the
  // postings that pass, then their weights added.
  void gather_term(uint32_t id, double weight) {
    if (id >= b_.term_ids.size()) return;  // only in overlay documents
    const uint64_t* pass = pass_bits_->data();
    const uint64_t lo = b_.post_at[id], hi = b_.post_at[id + 1];
    const uint32_t* docs = b_.post_doc.data() + lo;
    const uint8_t* impact = b_.post_impact.data() + lo;
    uint32_t* sel = s_.passing.data();
    size_t n = 0;
    for (uint32_t i = 0; i < hi - lo && n < snap_.limits.postings_per_term; ++i) {
      auto d = docs[i];
      sel[n] = i;
      n += pass[d / 64] >> (d % 64) & 1;
    }
    const float w = static_cast<float>(weight);
    uint32_t* touched = s_.touched.data();
    float* acc = s_.acc.data();
    for (size_t k = 0; k < n; ++k) {
      if (k + prefetch_distance < n) __builtin_prefetch(&acc[docs[sel[k + prefetch_distance]]], 1);
      auto d = docs[sel[k]];
      float a = acc[d];
      touched[touched_n_] = d;
      touched_n_ += a == 0;  // first seen
      // Seen (FLT_MIN) even if the weight adds nothing; in 1/255 of k1 + 1, phase 2 is exact.
      acc[d] = (a == 0 ? std::numeric_limits<float>::min() : a) + w * impact[sel[k]];
    }
  }

  // A document's exact score, or -1 if no finding term or group matches it.
  // `each_term(slot1, wdf1)` writes the document's wdf per slot + 1: [0] takes the writes
  // of the terms the query lacks, so reading a forward list has no branch.
  template <class EachTerm>
  double score(const doc_meta& m, EachTerm each_term) {
    std::fill(wdf_by_slot1_.begin(), wdf_by_slot1_.end(), 0);
    each_term(s_.slot_of.data(), wdf_by_slot1_.data());
    const uint8_t* wdf = wdf_by_slot1_.data() + 1;
    const double k1 = r_.bm25_k1, b = r_.bm25_b;
    double total = 0;
    bool found = false;
    for (const auto& p : c_.plains)
      if (wdf[p.slot]) {
        total += p.weight * tf_part(wdf[p.slot], m.normlen, k1, b);
        found |= p.finding;
      }
    for (const auto& g : c_.groups) {
      bool said = std::any_of(g.members.begin(), g.members.end(), [&](const auto& member) {
        return std::all_of(member.begin(), member.end(), [&](int32_t sl) { return wdf[sl] != 0; });
      });
      if (!said) continue;
      double sum = 0;
      for (auto sl : g.stand_ins) sum += wdf[sl];
      total += g.weight * tf_part(sum, m.normlen, k1, b);
      found = true;
    }
    if (!found) return -1;
    return total * region_factor_[m.region];
  }

  const hot_snapshot& snap_;
  const base& b_;
  const hot::overlay* ov_;
  const search_query& q_;
  const ranking_options& r_;
  scratch& s_;
  const names& topics_;
  const names& regions_;
  filter filter_;
  const double N_;
  compiled c_;
  std::vector<double> region_factor_;
  std::vector<uint8_t> wdf_by_slot1_;
  std::shared_ptr<const filter_cache::bitmap> pass_bits_;
  size_t touched_n_ = 0;
};

}  // namespace

hot_snapshot::outcome hot_snapshot::search(const query_plan& plan, const search_query& q, const ranking_options& r,
                                           size_t want) const {
  outcome out;
  if (!base || plan.empty() || want == 0) return out;
  searching run(*this, q, r);
  run.compile(plan);
  run.gather();
  auto ranked = run.rescore(want);
  run.finish(ranked, out);
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

}  // namespace hotline::kb
