#include "search/index.hpp"

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "search/hot_index.hpp"
#include "search/index_layout.hpp"
#include "search/pinyin.hpp"
#include "search/query_plan.hpp"
#include "search/snippet.hpp"

namespace hotline::kb {

namespace {

using namespace layout;

// YYYY-MM-DD -> YYYYMMDD, which sorts as the day does.
std::string compact_day(std::string_view day, std::string_view if_empty) {
  if (day.empty()) return std::string(if_empty);
  std::string out;
  for (char c : day)
    if (c != '-') out += c;
  return out;
}

std::string describe(const Xapian::Error& e) {
  std::string s = e.get_type();
  s += ": ";
  s += e.get_msg();
  if (!e.get_context().empty()) s += " (" + e.get_context() + ")";
  return s;
}

// ---------------------------------------------------------------------------------------
// Writing

class xapian_writer final : public index_writer {
 public:
  xapian_writer(Xapian::WritableDatabase db, const field_weights& w) : db_(std::move(db)), weights_(w) {
    terms_.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  }

  void upsert(const entry& e) override {
    try {
      auto doc = make_document(e);
      db_.replace_document(boolean_term(id_prefix, e.id), doc);
      changed_.push_back(boolean_term(id_prefix, e.id));
      // Xapian buffers changes in maps that slow down as they grow: a bulk load (reindex,
      // import) writes them out every few hundred documents (measured: 300 a flush
      // indexes ~2x faster than Xapian's default 10,000). The hot index moves only at
      // commit(); a Xapian reader reopening mid-load may see part of it.
      if (++unflushed_ >= flush_every) {
        db_.commit();
        unflushed_ = 0;
      }
    } catch (const Xapian::Error& x) {
      note("upsert " + e.id + ": " + describe(x));
    }
  }

  void remove(const std::string& id) override {
    try {
      db_.delete_document(boolean_term(id_prefix, id));
      changed_.push_back(boolean_term(id_prefix, id));
    } catch (const Xapian::Error& x) {
      note("remove " + id + ": " + describe(x));
    }
  }

  void remove_all() override {
    try {
      std::vector<Xapian::docid> ids;
      for (auto it = db_.postlist_begin(""); it != db_.postlist_end(""); ++it) ids.push_back(*it);
      for (auto id : ids) db_.delete_document(id);
      everything_changed_ = true;
    } catch (const Xapian::Error& x) {
      note("remove_all: " + describe(x));
    }
  }

  bool commit(std::string& error) override {
    try {
      db_.commit();
      unflushed_ = 0;
      if (hot_ && everything_changed_) hot_->rebuild(db_);
      else if (hot_) hot_->update(db_, changed_);
    } catch (const Xapian::Error& x) {
      note("commit: " + describe(x));
    }
    changed_.clear();
    everything_changed_ = false;
    error = std::move(pending_error_);
    pending_error_.clear();
    return error.empty();
  }

  size_t size() const override {
    try {
      return db_.get_doccount();
    } catch (const Xapian::Error&) {
      return 0;
    }
  }

  std::shared_ptr<hot_index> hot() override {
    if (!hot_) {
      hot_ = std::make_shared<hot_index>();
      try {
        hot_->rebuild(db_);  // the last commit; uncommitted changes follow with the next
      } catch (const Xapian::Error& x) {
        note("loading the hot index: " + describe(x));
      }
    }
    return hot_;
  }

 private:
  void note(std::string error) {
    if (pending_error_.empty()) pending_error_ = std::move(error);  // the first one explains the rest
  }

  static void add_initials(Xapian::Document& doc, const std::string& text, unsigned weight) {
    for (const auto& run : pinyin_initial_runs(text))
      for (size_t at = 0; at < run.size(); ++at)
        for (size_t n = initials_min; n <= initials_max && at + n <= run.size(); ++n)
          doc.add_term(std::string(initials_prefix) + run.substr(at, n), weight);
  }

  Xapian::Document make_document(const entry& e) {
    Xapian::Document doc;
    terms_.set_document(doc);
    // No positions: nothing searches phrases (a member of a synonym group is the AND of
    // its bigrams) and snippets do not need them; the index is far smaller without.
    // The question is also indexed under S for title-only searches.
    terms_.index_text_without_positions(e.question, weights_.question);
    terms_.index_text_without_positions(e.question, 1, std::string(title_prefix));
    for (const auto& p : e.phrasings) terms_.index_text_without_positions(p, weights_.phrasing);
    for (const auto& t : e.tags) {
      terms_.index_text_without_positions(t, weights_.tag);
      doc.add_boolean_term(boolean_term(tag_prefix, t));
    }
    // What agents type when they abbreviate: the initials of the question and the tags,
    // where an entry names its subject (the phrasings too would double the terms an entry
    // has and halve the indexing rate, for words the question already has).
    add_initials(doc, e.question, weights_.question);
    for (const auto& t : e.tags) add_initials(doc, t, weights_.tag);
    terms_.index_text_without_positions(e.answer, weights_.body);
    for (const auto& m : e.materials) terms_.index_text_without_positions(m, weights_.body);
    doc.add_boolean_term(boolean_term(id_prefix, e.id));
    doc.add_boolean_term(boolean_term(topic_prefix, e.topic));
    doc.add_boolean_term(boolean_term(region_prefix, e.region));
    doc.add_boolean_term(boolean_term(status_prefix, to_string(e.state)));
    doc.add_value(topic_slot, e.topic);
    doc.add_value(region_slot, e.region);
    doc.add_value(effective_slot, compact_day(e.effective, "00000000"));
    doc.add_value(expires_slot, compact_day(e.expires, "99991231"));
    doc.add_value(status_slot, std::string(to_string(e.state)));
    // What a hit shows, without a trip to LMDB.
    doc.set_data(encode_stored({e.id, e.question, e.region, e.topic, e.answer}));
    return doc;
  }

  Xapian::WritableDatabase db_;
  Xapian::TermGenerator terms_;
  field_weights weights_;
  std::string pending_error_;  // first failure since the last commit
  std::shared_ptr<hot_index> hot_;       // once asked for
  std::vector<std::string> changed_;     // id terms upserted or removed since the last commit
  static constexpr size_t flush_every = 300;
  size_t unflushed_ = 0;
  bool everything_changed_ = false;      // remove_all since the last commit
};

// ---------------------------------------------------------------------------------------
// Queries

// The plan as a Xapian query. BM25 over the OR of the finding terms ranks by overlap;
// the weighting terms only add weight (OP_AND_MAYBE). A synonym group is OP_SYNONYM over
// its stand-ins (the document's wdf for the group), filtered to documents that say a
// member in full, scaled by the bigrams the text said for it.
Xapian::Query xapian_query(const query_plan& plan) {
  std::vector<Xapian::Query> finding(plan.finding.begin(), plan.finding.end());
  for (const auto& g : plan.groups) {
    std::vector<Xapian::Query> members;
    for (const auto& m : g.members) members.emplace_back(Xapian::Query::OP_AND, m.begin(), m.end());
    Xapian::Query any_member(Xapian::Query::OP_SYNONYM, g.stand_ins.begin(), g.stand_ins.end());
    Xapian::Query said_in_full(Xapian::Query::OP_OR, members.begin(), members.end());
    finding.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                         Xapian::Query(Xapian::Query::OP_FILTER, any_member, said_in_full), g.scale);
  }
  if (finding.empty()) return {};
  Xapian::Query found(Xapian::Query::OP_OR, finding.begin(), finding.end());
  if (plan.weighting.empty()) return found;
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, found,
                       Xapian::Query(Xapian::Query::OP_OR, plan.weighting.begin(), plan.weighting.end()));
}

Xapian::Query text_query(Xapian::TermGenerator& tg, const std::string& text, const synonyms& syn,
                         const Xapian::Database& db) {
  auto freq = [&](const std::string& t) -> uint64_t { return db.get_termfreq(t); };
  return xapian_query(make_plan(tg, text, syn, freq, db.get_doccount()));
}

// One kind of filter (topics, regions, states): the documents with any of `values`.
// Every document has exactly one term of each kind, so keeping some values is the same
// as leaving out the others; a filter that keeps most documents is applied as the
// exclusion of the rest (shorter postings to read), and not at all if it keeps all.
Xapian::Query restrict(const Xapian::Database& db, Xapian::Query q, std::string_view prefix,
                       const std::vector<std::string>& values) {
  std::vector<std::string> wanted, unwanted;
  for (const auto& v : values) wanted.push_back(boolean_term(prefix, v));
  Xapian::doccount kept = 0, left_out = 0;
  std::string p(prefix);
  for (auto it = db.allterms_begin(p); it != db.allterms_end(p); ++it) {
    auto t = *it;  // no prefix of ours starts another (Q, K, S, XT, XR, XS)
    if (std::find(wanted.begin(), wanted.end(), t) != wanted.end()) kept += it.get_termfreq();
    else unwanted.push_back(std::move(t)), left_out += it.get_termfreq();
  }
  if (unwanted.empty()) return q;
  if (left_out < kept) {
    Xapian::Query out(Xapian::Query::OP_OR, unwanted.begin(), unwanted.end());
    return Xapian::Query(Xapian::Query::OP_AND_NOT, q, out);
  }
  Xapian::Query in(Xapian::Query::OP_OR, wanted.begin(), wanted.end());
  return Xapian::Query(Xapian::Query::OP_FILTER, q, in);
}

// `q` with the filters of `query`: OR within a kind, AND across kinds; states default to
// published; in force on a day by the value slots.
Xapian::Query filtered(const Xapian::Database& db, Xapian::Query q, const search_query& query) {
  if (!query.topics.empty()) q = restrict(db, q, topic_prefix, query.topics);
  if (!query.regions.empty()) q = restrict(db, q, region_prefix, query.regions);
  q = restrict(db, q, status_prefix, query.statuses.empty() ? std::vector<std::string>{"published"} : query.statuses);
  if (!query.in_force_on.empty()) {
    auto day = compact_day(query.in_force_on, "");
    Xapian::Query effective(Xapian::Query::OP_VALUE_LE, effective_slot, day);
    // expires > day: every stored value has 8 characters, so ">= day + NUL" is "> day".
    Xapian::Query not_expired(Xapian::Query::OP_VALUE_GE, expires_slot, day + '\0');
    q = Xapian::Query(Xapian::Query::OP_FILTER, q, Xapian::Query(Xapian::Query::OP_AND, effective, not_expired));
  }
  return q;
}

// ---------------------------------------------------------------------------------------
// Reading

class xapian_reader final : public index_reader {
 public:
  xapian_reader(Xapian::Database db, const ranking_options& r, std::shared_ptr<const hot_index> hot)
      : db_(std::move(db)), ranking_(r), hot_(std::move(hot)), snapshot_(hot_ ? hot_->snapshot() : nullptr) {
    terms_.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  }

  void refresh() override {
    if (hot_) {
      // The writer publishes a snapshot after each commit: none new, no new revision to
      // read either (reopening checks the database's files: a few syscalls a search).
      auto now = hot_->snapshot();
      if (now == snapshot_) return;
      snapshot_ = std::move(now);
    }
    try {
      db_.reopen();
    } catch (const Xapian::Error&) {
      // Keeps the revision it has; the next search reports a real failure.
    }
  }

  search_result search(const search_query& q, const synonyms& syn) override {
    return with_retry<search_result>([&] { return run_search(q, syn); },
                                     [](std::string e) { return search_result{{}, 0, {}, {}, std::move(e)}; });
  }

  std::vector<search_hit> more_like_this(const std::string& id, const search_query& q) override {
    return with_retry<std::vector<search_hit>>([&] { return run_more_like_this(id, q); },
                                               [](std::string) { return std::vector<search_hit>{}; });
  }

 private:
  // A reader that fell too far behind the writer gets DatabaseModifiedError: reopen and
  // try once more. Every other failure becomes a value; nothing escapes.
  template <class T, class Run, class Fail>
  T with_retry(Run run, Fail fail) {
    for (int attempt = 0;; ++attempt) {
      try {
        return run();
      } catch (const Xapian::DatabaseModifiedError& e) {
        if (attempt > 0) return fail(describe(e));
        refresh();
      } catch (const Xapian::Error& e) {
        return fail(describe(e));
      } catch (const std::exception& e) {
        return fail(e.what());
      }
    }
  }

  double region_factor(const std::string& region, const std::string& agent_city) const {
    switch (region_rank(region, agent_city)) {
      case 0: return ranking_.city_factor;
      case 1: return ranking_.province_factor;
      case 2: return ranking_.national_factor;
      default: return ranking_.other_city_factor;
    }
  }

  // Runs `query` and turns the page [offset, offset + limit) into hits, with region
  // precedence applied over a wider candidate window.
  std::vector<search_hit> page(const search_query& q, const Xapian::MSet& mset) {
    struct candidate {
      Xapian::MSetIterator it;
      double score;
    };
    std::vector<candidate> window;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      double score = it.get_weight();
      if (!q.agent_city.empty()) score *= region_factor(it.get_document().get_value(region_slot), q.agent_city);
      window.push_back({it, score});
    }
    // Stable: equal scores keep Xapian's order (which breaks ties by docid).
    std::stable_sort(window.begin(), window.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    std::vector<search_hit> hits;
    for (size_t i = q.offset; i < window.size() && hits.size() < q.limit; ++i) {
      auto stored = decode_stored(window[i].it.get_document().get_data());
      search_hit h{stored.id, window[i].score, window[i].it.get_percent(), stored.question, stored.region,
                   stored.topic, {}};
      if (q.snippets)
        h.snippet = mset.snippet(stored.answer, 120, Xapian::Stem(),
                                 Xapian::MSet::SNIPPET_BACKGROUND_MODEL | Xapian::MSet::SNIPPET_EXHAUSTIVE |
                                     Xapian::MSet::SNIPPET_CJK_NGRAM,
                                 "<b>", "</b>", "…");
      hits.push_back(std::move(h));
    }
    return hits;
  }

  Xapian::BM25Weight weighting() const {
    return Xapian::BM25Weight(ranking_.bm25_k1, 0, 1, ranking_.bm25_b, 0.5);
  }

  size_t window_size(const search_query& q) const {
    return q.offset + q.limit + (q.agent_city.empty() ? 0 : ranking_.precedence_window);
  }

  // The same plan and ranking on the in-memory index.
  search_result run_hot_search(const hot_snapshot& snap, const search_query& q, const synonyms& syn) {
    search_result r;
    auto freq = [&](const std::string& t) { return snap.freq(t); };
    auto plan = make_plan(terms_, q.text, syn, freq, snap.documents());
    if (plan.empty() || q.limit == 0) return r;
    auto found = snap.search(plan, q, ranking_, q.offset + q.limit);
    r.total_estimate = found.matches;
    r.topic_counts = std::move(found.topic_counts);
    r.region_counts = std::move(found.region_counts);
    std::vector<std::string> highlight;
    if (q.snippets) {
      highlight = plan.finding;
      for (const auto& g : plan.groups)
        for (const auto& m : g.members) highlight.insert(highlight.end(), m.begin(), m.end());
      for (const auto& t : plan.weighting)
        if (!is_cjk_unigram(t)) highlight.push_back(t);
    }
    snippet_terms marks(std::move(highlight));
    double best = found.ranked.empty() ? 1 : found.ranked.front().score;
    for (size_t i = q.offset; i < found.ranked.size(); ++i) {
      const auto& [doc, score] = found.ranked[i];
      search_hit h{doc->id, score, static_cast<int>(std::lround(100 * score / best)), doc->question, doc->region,
                   doc->topic, {}};
      if (q.snippets) h.snippet = make_snippet(doc->answer, marks);
      r.hits.push_back(std::move(h));
    }
    return r;
  }

  search_result run_search(const search_query& q, const synonyms& syn) {
    if (snapshot_ && snapshot_->base) return run_hot_search(*snapshot_, q, syn);
    search_result r;
    auto text = text_query(terms_, q.text, syn, db_);
    if (text.empty() || q.limit == 0) return r;
    Xapian::Enquire enquire(db_);
    enquire.set_weighting_scheme(weighting());
    enquire.set_query(filtered(db_, text, q));
    Xapian::ValueCountMatchSpy topics(topic_slot), regions(region_slot);
    Xapian::doccount check = 0;
    if (q.facets) {
      enquire.add_matchspy(&topics);
      enquire.add_matchspy(&regions);
      check = ranking_.facet_checkatleast ? ranking_.facet_checkatleast : db_.get_doccount();
    }
    auto mset = enquire.get_mset(0, window_size(q), check);
    r.total_estimate = mset.get_matches_estimated();
    r.hits = page(q, mset);
    if (q.facets) {
      for (auto it = topics.values_begin(); it != topics.values_end(); ++it) r.topic_counts[*it] = it.get_termfreq();
      for (auto it = regions.values_begin(); it != regions.values_end(); ++it)
        r.region_counts[*it] = it.get_termfreq();
    }
    return r;
  }

  std::vector<search_hit> run_more_like_this(const std::string& id, const search_query& q) {
    auto id_term = boolean_term(id_prefix, id);
    auto pl = db_.postlist_begin(id_term);
    if (pl == db_.postlist_end(id_term)) return {};
    Xapian::RSet rset;
    rset.add_document(*pl);
    Xapian::Enquire enquire(db_);
    // Words only: ids, filters, tags and title copies say nothing about the content.
    struct words_only : Xapian::ExpandDecider {
      bool operator()(const std::string& t) const override { return !t.empty() && !(t[0] >= 'A' && t[0] <= 'Z'); }
    } decider;
    // Bo1 weighs every term of the document positively (TradEWeight goes negative for
    // terms most documents share, leaving a small collection with nothing to match on).
    enquire.set_expansion_scheme("bo1");
    auto eset = enquire.get_eset(20, rset, &decider);
    if (eset.empty()) return {};
    std::vector<Xapian::Query> terms;
    for (auto it = eset.begin(); it != eset.end(); ++it) terms.emplace_back(*it);
    Xapian::Query like(Xapian::Query::OP_OR, terms.begin(), terms.end());
    like = Xapian::Query(Xapian::Query::OP_AND_NOT, like, Xapian::Query(id_term));
    enquire.set_weighting_scheme(weighting());
    enquire.set_query(filtered(db_, like, q));
    auto mset = enquire.get_mset(0, window_size(q));
    return page(q, mset);
  }

  Xapian::Database db_;
  Xapian::TermGenerator terms_;
  ranking_options ranking_;
  std::shared_ptr<const hot_index> hot_;
  std::shared_ptr<const hot_snapshot> snapshot_;  // what refresh() saw, as Xapian's revision
};

}  // namespace

namespace layout {

std::string boolean_term(std::string_view prefix, std::string_view value) {
  constexpr size_t max_term = 240;
  std::string t(prefix);
  if (value.size() > max_term - t.size()) {
    size_t n = max_term - t.size();
    while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
    value = value.substr(0, n);
  }
  t += value;
  return t;
}

std::string encode_stored(const stored_fields& f) {
  return boost::json::serialize(boost::json::object{
      {"id", f.id}, {"question", f.question}, {"region", f.region}, {"topic", f.topic}, {"answer", f.answer}});
}

stored_fields decode_stored(const std::string& data) {
  stored_fields h;
  boost::system::error_code ec;
  auto v = boost::json::parse(data, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (!o) return h;
  auto get = [&](const char* k, std::string& out) {
    if (const auto* f = o->if_contains(k); f && f->is_string()) out = std::string(f->get_string());
  };
  get("id", h.id);
  get("question", h.question);
  get("region", h.region);
  get("topic", h.topic);
  get("answer", h.answer);
  return h;
}

}  // namespace layout

std::unique_ptr<index_writer> index_writer::open(const std::string& dir, std::string& error,
                                                 const field_weights& weights) {
  try {
    return std::make_unique<xapian_writer>(Xapian::WritableDatabase(dir, Xapian::DB_CREATE_OR_OPEN), weights);
  } catch (const Xapian::DatabaseLockError& e) {
    error = "index " + dir + " is locked by another writer (" + describe(e) + ")";
  } catch (const Xapian::Error& e) {
    error = "cannot open index " + dir + " for writing: " + describe(e);
  }
  return nullptr;
}

std::unique_ptr<index_reader> index_reader::open(const std::string& dir, std::string& error,
                                                 const ranking_options& ranking, std::shared_ptr<const hot_index> hot) {
  try {
    return std::make_unique<xapian_reader>(Xapian::Database(dir), ranking, std::move(hot));
  } catch (const Xapian::Error& e) {
    error = "cannot open index " + dir + " for reading: " + describe(e);
  }
  return nullptr;
}

}  // namespace hotline::kb
