#include "search/hot_index.hpp"

#include <algorithm>
#include <cmath>

#include "search/hot_index_data.hpp"
#include "search/index_layout.hpp"

namespace hotline::kb {

using namespace hot;

namespace {

constexpr size_t max_terms = size_t{1} << 24;  // term ids share a forward-list entry with the wdf

// One document read from Xapian.
struct loaded {
  doc_meta meta;
  hot_snapshot::stored stored;
  std::vector<std::pair<std::string, uint8_t>> terms;  // content terms, wdf capped at 255
  double length = 0;
};

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
