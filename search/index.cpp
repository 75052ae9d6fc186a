#include "search/index.hpp"

#include <xapian.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace hotline::kb {

namespace {

// Term prefixes (Xapian's conventions: Q for the unique id, X for the rest).
constexpr std::string_view id_prefix = "Q";
constexpr std::string_view topic_prefix = "XT";
constexpr std::string_view region_prefix = "XR";
constexpr std::string_view status_prefix = "XS";
constexpr std::string_view tag_prefix = "K";
constexpr std::string_view title_prefix = "S";

// Value slots.
enum slot : Xapian::valueno { topic_slot = 0, region_slot = 1, effective_slot = 2, expires_slot = 3, status_slot = 4 };

// Xapian refuses terms past ~245 bytes; a boolean term is cut at a UTF-8 boundary.
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

// YYYY-MM-DD -> YYYYMMDD, which sorts as the day does.
std::string compact_day(std::string_view day, std::string_view if_empty) {
  if (day.empty()) return std::string(if_empty);
  std::string out;
  for (char c : day)
    if (c != '-') out += c;
  return out;
}

// A CJK unigram is one multi-byte code point: too common to stand for a whole word.
bool is_cjk_unigram(std::string_view term) {
  if (term.empty()) return false;
  auto lead = static_cast<unsigned char>(term[0]);
  size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 0;
  return len != 0 && term.size() == len;
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
    } catch (const Xapian::Error& x) {
      note("upsert " + e.id + ": " + describe(x));
    }
  }

  void remove(const std::string& id) override {
    try {
      db_.delete_document(boolean_term(id_prefix, id));
    } catch (const Xapian::Error& x) {
      note("remove " + id + ": " + describe(x));
    }
  }

  void remove_all() override {
    try {
      std::vector<Xapian::docid> ids;
      for (auto it = db_.postlist_begin(""); it != db_.postlist_end(""); ++it) ids.push_back(*it);
      for (auto id : ids) db_.delete_document(id);
    } catch (const Xapian::Error& x) {
      note("remove_all: " + describe(x));
    }
  }

  bool commit(std::string& error) override {
    try {
      db_.commit();
    } catch (const Xapian::Error& x) {
      note("commit: " + describe(x));
    }
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

 private:
  void note(std::string error) {
    if (pending_error_.empty()) pending_error_ = std::move(error);  // the first one explains the rest
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
    doc.set_data(boost::json::serialize(boost::json::object{
        {"id", e.id}, {"question", e.question}, {"region", e.region}, {"topic", e.topic}, {"answer", e.answer}}));
    return doc;
  }

  Xapian::WritableDatabase db_;
  Xapian::TermGenerator terms_;
  field_weights weights_;
  std::string pending_error_;  // first failure since the last commit
};

// ---------------------------------------------------------------------------------------
// Queries

// The n-grams Xapian indexes for `text` (unigrams and bigrams of CJK runs, words
// otherwise), read back from a scratch document: the same tokenizer on both sides.
std::vector<std::string> ngrams(Xapian::TermGenerator& tg, const std::string& text) {
  Xapian::Document scratch;
  tg.set_document(scratch);
  tg.index_text_without_positions(text);
  std::vector<std::string> out;
  for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) out.push_back(*it);
  return out;
}

// One synonym-group member: its bigrams (its only term when it is one character or one
// word). All of a 2-4 character word's bigrams in a document almost always mean the word
// itself, without relying on positions.
std::vector<std::string> member_terms(Xapian::TermGenerator& tg, const std::string& member) {
  auto terms = ngrams(tg, member);
  std::vector<std::string> words;
  for (auto& t : terms)
    if (!is_cjk_unigram(t)) words.push_back(std::move(t));
  return words.empty() ? terms : words;  // a one-character member: its unigram
}

// A synonym group as one weighted "term": OP_SYNONYM over one bigram per member (its
// rarest, the best stand-in for the word), so a document's wdf for the group is about
// how often it says any member; filtered to documents that say a member in full. (An
// OP_SYNONYM over each member's OP_AND would add up the wdf of every bigram: 社会保险
// would count three times as much as 社保.)
Xapian::Query group_query(Xapian::TermGenerator& tg, const std::vector<std::string>& group,
                          const Xapian::Database& db) {
  std::vector<Xapian::Query> stand_ins, members;
  for (const auto& m : group) {
    auto terms = member_terms(tg, m);
    if (terms.empty()) continue;
    auto rarest = *std::min_element(terms.begin(), terms.end(), [&](const auto& a, const auto& b) {
      return db.get_termfreq(a) < db.get_termfreq(b);
    });
    stand_ins.emplace_back(rarest);
    members.emplace_back(Xapian::Query::OP_AND, terms.begin(), terms.end());
  }
  if (stand_ins.empty()) return {};
  Xapian::Query any_member(Xapian::Query::OP_SYNONYM, stand_ins.begin(), stand_ins.end());
  Xapian::Query said_in_full(Xapian::Query::OP_OR, members.begin(), members.end());
  return Xapian::Query(Xapian::Query::OP_FILTER, any_member, said_in_full);
}

struct synonym_span {
  size_t pos = 0;
  size_t len = 0;
  const std::vector<std::string>* group = nullptr;
};

// Where the text says a member of a synonym group: longest members first, no overlaps
// (医保个人账户 is one group's member, not 医保 + 个人账户).
std::vector<synonym_span> synonym_spans(const std::string& text, const synonyms& syn) {
  std::vector<synonym_span> found;
  for (const auto* g : syn.groups_in(text))
    for (const auto& m : *g)
      for (size_t p = text.find(m); p != std::string::npos; p = text.find(m, p + m.size()))
        found.push_back({p, m.size(), g});
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.len != b.len ? a.len > b.len : a.pos < b.pos; });
  std::vector<synonym_span> chosen;
  for (const auto& s : found) {
    bool overlaps = std::any_of(chosen.begin(), chosen.end(),
                                [&](const auto& c) { return s.pos < c.pos + c.len && c.pos < s.pos + s.len; });
    if (!overlaps) chosen.push_back(s);
  }
  return chosen;
}

// A term in more than this share of a large index selects nothing: it only adds weight
// to documents that other terms found, so a 100k-entry search does not score every
// document for 怎么 or 办理 (the floor keeps small indexes, the seed's included, as
// they are: README.md).
constexpr double common_term_share = 0.05;
constexpr Xapian::doccount common_term_floor = 500;

Xapian::doccount common_limit(const Xapian::Database& db) {
  return std::max<Xapian::doccount>(common_term_floor, common_term_share * db.get_doccount());
}

// The agent's text as a query. BM25 over the OR of its n-grams ranks by overlap; each
// synonym-group member the text says becomes its group's query (group_query: 社保 finds
// 社会保险, and a synonym never outweighs the word itself) in place of the member's own
// bigrams. Documents are found by the selective terms (bigrams, words,
// synonym groups); CJK unigrams and very common terms only add weight (OP_AND_MAYBE):
// the same ranking on the relevance set, fewer postings read.
Xapian::Query text_query(Xapian::TermGenerator& tg, const std::string& text, const synonyms& syn,
                         const Xapian::Database& db) {
  std::vector<Xapian::Query> finding, weighting;
  std::vector<std::string> replaced;  // bigrams inside a member: its group stands for them
  std::vector<const std::vector<std::string>*> seen;
  for (const auto& s : synonym_spans(text, syn)) {
    auto said = member_terms(tg, text.substr(s.pos, s.len));
    replaced.insert(replaced.end(), said.begin(), said.end());
    if (std::find(seen.begin(), seen.end(), s.group) != seen.end()) continue;
    seen.push_back(s.group);
    // The group stands for the bigrams the caller typed (社会保险: three), so it keeps
    // their share of the query's weight.
    if (auto g = group_query(tg, *s.group, db); !g.empty())
      finding.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, g, static_cast<double>(said.size()));
  }
  // Unigrams and boundary bigrams (交社 in 交社保) stay: they still tell documents apart.
  std::vector<std::pair<Xapian::doccount, std::string>> common, unigrams;
  for (auto& t : ngrams(tg, text)) {
    if (std::find(replaced.begin(), replaced.end(), t) != replaced.end()) continue;
    auto n = db.get_termfreq(t);
    if (n == 0) continue;  // says nothing about any document
    if (is_cjk_unigram(t)) unigrams.emplace_back(n, std::move(t));
    else if (n > common_limit(db)) common.emplace_back(n, std::move(t));
    else finding.emplace_back(t);
  }
  // 怎么办理 has nothing selective: its rarest words find, the rest (and unigrams) weigh.
  std::sort(common.begin(), common.end());
  size_t used = 0;
  if (finding.empty())
    for (; used < common.size() && used < 2; ++used) finding.emplace_back(common[used].second);
  if (finding.empty()) {  // 社: only unigrams
    for (auto& u : unigrams) finding.emplace_back(u.second);
    unigrams.clear();
  }
  if (finding.empty()) return {};
  std::vector<std::pair<Xapian::doccount, std::string>> rest(common.begin() + used, common.end());
  rest.insert(rest.end(), unigrams.begin(), unigrams.end());
  std::sort(rest.begin(), rest.end());
  // A word in most documents of a large index (的, 我) ranks nothing and costs the most
  // postings to read: left out. Small indexes keep every unigram: Xapian 1.4 highlights
  // CJK snippets by the query's unigrams only, never its bigrams.
  for (auto& r : rest)
    if (r.first <= std::max(db.get_doccount() / 2, common_term_floor)) weighting.emplace_back(r.second);
  Xapian::Query found(Xapian::Query::OP_OR, finding.begin(), finding.end());
  if (weighting.empty()) return found;
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, found,
                       Xapian::Query(Xapian::Query::OP_OR, weighting.begin(), weighting.end()));
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

struct stored_hit {
  std::string id, question, region, topic, answer;
};

stored_hit parse_data(const std::string& data) {
  stored_hit h;
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

class xapian_reader final : public index_reader {
 public:
  xapian_reader(Xapian::Database db, const ranking_options& r) : db_(std::move(db)), ranking_(r) {
    terms_.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  }

  void refresh() override {
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
      auto stored = parse_data(window[i].it.get_document().get_data());
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

  search_result run_search(const search_query& q, const synonyms& syn) {
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
};

}  // namespace

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
                                                 const ranking_options& ranking) {
  try {
    return std::make_unique<xapian_reader>(Xapian::Database(dir), ranking);
  } catch (const Xapian::Error& e) {
    error = "cannot open index " + dir + " for reading: " + describe(e);
  }
  return nullptr;
}

}  // namespace hotline::kb
