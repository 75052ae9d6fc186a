#include "actors/kb/service_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <atomic>
#include <chrono>
#include <ctime>
#include <boost/json/serialize.hpp>
#include <mutex>

#include "actors/runtime/log.hpp"
#include "actors/storage/errors.hpp"
#include "search/search_pool.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"

namespace hotline::kb {

namespace {

// A unit of work for the KB actor: it runs `fn` on the actor, which may return a batch
// to commit, then `after` once the commit is durable (or with the failure).
struct kb_job {
  std::function<kb_result<storage::write_batch>()> prepare;
  std::function<void(std::optional<kb_error>)> after;
};

}  // namespace
}  // namespace hotline::kb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::kb::kb_job)

namespace hotline::kb {

namespace {

using run_atom = caf::atom_constant<caf::atom("kbrun")>;
using tick_atom = caf::atom_constant<caf::atom("kbtick")>;

kb_error storage_error(std::error_code ec) {
  return {kb_error::kind::conflict, "could not save: " + ec.message(), {}};
}

// The KB writer: one step at a time. It waits (await) for each commit before taking
// the next step, so two steps on one entry never both read the same old state.
caf::behavior kb_behavior(caf::event_based_actor* self, actors::storage_writer writer) {
  return {
      [=](run_atom, kb_job& job) {
        auto prepared = job.prepare();
        if (auto* err = std::get_if<kb_error>(&prepared)) return job.after(*err);
        auto& batch = std::get<storage::write_batch>(prepared);
        if (batch.empty()) return job.after(std::nullopt);
        auto after = job.after;
        self->request(writer, std::chrono::seconds(30), atoms::write_atom_v, std::move(batch))
            .await([after](uint64_t) { after(std::nullopt); },
                   [after](caf::error& e) { after(storage_error(actors::to_error_code(e))); });
      },
  };
}

class service_impl final : public service {
 public:
  service_impl(caf::actor_system& sys, storage::env& env, actors::storage_writer writer,
               actors::durable_writer& bg_writer, const wall_clock& clock, std::unique_ptr<index_writer> index,
               std::unique_ptr<search_pool> searchers)
      : sys_(sys), env_(env), store_(env), bg_writer_(bg_writer), clock_(clock), index_(std::move(index)),
        searchers_(std::move(searchers)), synonyms_(std::make_shared<const synonyms>()) {
    kb_actor_ = sys.spawn<caf::detached>(kb_behavior, writer);
    next_id_ = store_.max_numeric_id() + 1;
    load_synonyms();
    // Scheduled publishing and expiry (N-28) happen on their day without anyone asking:
    // the sweep runs every hour (and at start, from the application).
    ticker_ = sys.spawn(
        [this](caf::event_based_actor* self, std::chrono::minutes every) -> caf::behavior {
          self->delayed_send(self, every, tick_atom::value);
          return {[this, self, every](tick_atom) {
            sweep(clock_.today(), [](kb_result<size_t> r) {
              if (auto* n = std::get_if<size_t>(&r); n && *n)
                log::info("kb", "published or expired entries due today", {{"changed", std::to_string(*n)}});
            });
            self->delayed_send(self, every, tick_atom::value);
          }};
        },
        std::chrono::minutes(60));
  }

  ~service_impl() override {
    // Wait until no handler runs any more: queued jobs capture `this`.
    caf::scoped_actor self{sys_};
    self->send_exit(ticker_, caf::exit_reason::user_shutdown);
    self->wait_for(ticker_);
    self->send_exit(kb_actor_, caf::exit_reason::user_shutdown);
    self->wait_for(kb_actor_);
    searchers_.reset();  // runs the searches queued, then stops
  }

  const store& data() const override { return store_; }
  std::shared_ptr<const synonyms> current_synonyms() const override {
    std::lock_guard lock(synonyms_mutex_);
    return synonyms_;
  }

  void create(entry draft, std::string user, std::function<void(kb_result<entry>)> done) override {
    run_step([this, draft = std::move(draft), user]() mutable -> outcome {
      char id[32];
      std::snprintf(id, sizeof id, "kb-%04llu", static_cast<unsigned long long>(next_id_));
      draft.id = id;
      auto out = kb::create(std::move(draft), user, clock_.now_ms());
      if (std::holds_alternative<step>(out)) ++next_id_;
      return out;
    }, std::move(done));
  }

  void update(std::string id, entry content, std::string user, std::function<void(kb_result<entry>)> done) override {
    run_step([this, id, content = std::move(content), user]() mutable -> outcome {
      auto latest = store_.latest(id);
      if (!latest) return not_found(id);
      return kb::update(*latest, std::move(content), user, clock_.now_ms());
    }, std::move(done));
  }

  void submit(std::string id, std::string user, std::function<void(kb_result<entry>)> done) override {
    run_step([this, id, user]() -> outcome {
      auto latest = store_.latest(id);
      if (!latest) return not_found(id);
      return kb::submit(*latest, user, clock_.now_ms());
    }, std::move(done));
  }

  void approve(std::string id, std::string user, std::string publish_at,
               std::function<void(kb_result<entry>)> done) override {
    run_step([this, id, user, publish_at]() -> outcome {
      auto latest = store_.latest(id);
      if (!latest) return not_found(id);
      auto published = store_.published(id);
      auto replaced = latest->supersedes.empty() ? std::nullopt : store_.published(latest->supersedes);
      return kb::approve(*latest, published ? &*published : nullptr, replaced ? &*replaced : nullptr, user,
                         publish_at, clock_.today(), clock_.now_ms());
    }, std::move(done));
  }

  void reject(std::string id, std::string user, std::string reason, std::function<void(kb_result<entry>)> done) override {
    run_step([this, id, user, reason]() -> outcome {
      auto latest = store_.latest(id);
      if (!latest) return not_found(id);
      return kb::reject(*latest, user, clock_.now_ms());
    }, std::move(done), [this, id, user, reason](storage::write_batch& b, const entry& v) {
      if (!reason.empty()) add_comment_to(b, id, user, "退回: " + reason, v.version);
    });
  }

  void add_comment(std::string id, std::string user, std::string text,
                   std::function<void(std::optional<kb_error>)> done) override {
    auto prepare = [this, id, user, text]() -> kb_result<storage::write_batch> {
      auto latest = store_.latest(id);
      if (!latest) return not_found(id);
      if (text.empty() || text.size() > 4000) return kb_error{kb_error::kind::invalid, "a comment is 1-4000 bytes", "text"};
      storage::write_batch b;
      add_comment_to(b, id, user, text, latest->version);
      return b;
    };
    caf::anon_send(kb_actor_, run_atom::value, kb_job{std::move(prepare), std::move(done)});
  }

  void import_published(std::vector<entry> entries, std::string reviewer,
                        std::function<void(kb_result<size_t>)> done) override {
    size_t n = entries.size();
    commit_writes(
        [this, entries = std::move(entries), reviewer]() -> outcome {
          step all;
          auto now = clock_.now_ms();
          for (auto e : entries) {
            if (auto err = validate_content(e)) {
              err->message = e.id + ": " + err->message;
              return *err;
            }
            auto h = store_.get_head(e.id);
            auto published = store_.published(e.id);
            e.version = h ? h->latest + 1 : 1;
            e.state = status::published;
            e.author = e.author.empty() ? reviewer : e.author;
            e.reviewer = reviewer;
            e.created_ms = e.created_ms ? e.created_ms : now;
            e.updated_ms = e.reviewed_ms = e.published_ms = now;
            if (published) {
              auto old = *published;
              old.state = status::superseded;
              all.writes.push_back(old);
            }
            all.writes.push_back(e);
            if (e.id.rfind("kb-", 0) == 0) {
              uint64_t n = std::strtoull(e.id.c_str() + 3, nullptr, 10);
              next_id_ = std::max(next_id_, n + 1);
            }
          }
          return all;
        },
        [n, done](std::optional<kb_error> err, const std::vector<entry>&) {
          if (err) return done(*err);
          done(n);
        });
  }

  void set_synonyms(synonyms s, std::function<void(std::optional<kb_error>)> done) override {
    auto shared = std::make_shared<const synonyms>(std::move(s));
    auto prepare = [shared]() -> kb_result<storage::write_batch> {
      storage::write_batch b;
      b.put(storage::table::meta, "kb.synonyms", storage::encode_record({{"groups", shared->to_json()}}, 1));
      return b;
    };
    auto after = [this, shared, done](std::optional<kb_error> err) {
      if (!err) {
        std::lock_guard lock(synonyms_mutex_);
        synonyms_ = shared;
      }
      done(err);
    };
    caf::anon_send(kb_actor_, run_atom::value, kb_job{std::move(prepare), std::move(after)});
  }

  void reindex(std::function<void(kb_result<size_t>)> done) override {
    auto n = std::make_shared<size_t>(0);
    auto prepare = [this, n]() -> kb_result<storage::write_batch> {
      std::lock_guard lock(index_mutex_);
      index_->remove_all();
      *n = store_.for_each_published([&](const entry& e) { index_->upsert(e); });
      std::string error;
      if (!index_->commit(error)) return kb_error{kb_error::kind::conflict, "index commit failed: " + error, {}};
      return storage::write_batch{};
    };
    caf::anon_send(kb_actor_, run_atom::value, kb_job{std::move(prepare), [n, done](std::optional<kb_error> err) {
                                                        if (err) return done(*err);
                                                        done(*n);
                                                      }});
  }

  void sweep(std::string today, std::function<void(kb_result<size_t>)> done) override {
    commit_writes(
        [this, today]() -> outcome {
          step all;
          auto now = clock_.now_ms();
          std::string after;
          for (;;) {
            auto page = store_.list(after, 1000, std::nullopt);
            if (page.empty()) break;
            for (const auto& latest : page) {
              auto published = store_.published(latest.id);
              auto replaced = latest.supersedes.empty() ? std::nullopt : store_.published(latest.supersedes);
              if (auto s = kb::sweep(latest, published ? &*published : nullptr, replaced ? &*replaced : nullptr, today, now))
                for (auto& w : s->writes) all.writes.push_back(std::move(w));
            }
            after = page.back().id;
          }
          return all;
        },
        [done](std::optional<kb_error> err, const std::vector<entry>& written) {
          if (err) return done(*err);
          done(written.size());
        });
  }

  void search(search_query q, search_context ctx, std::function<void(kb_result<logged_search>)> done) override {
    auto syn = current_synonyms();
    auto arrived = std::chrono::steady_clock::now();
    auto job = [this, q = std::move(q), ctx = std::move(ctx), syn, done, arrived](index_reader& r) {
      auto result = r.search(q, *syn);
      search_latency_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
      auto id = log_search(q, ctx, result);
      done(logged_search{std::move(result), std::to_string(id)});
    };
    searchers_->post(std::move(job));
  }

  search_figures search_stats() const override {
    return {searchers_->threads(), searchers_->queued(), searchers_->failed()};
  }
  const storage::latency_histogram& search_latency() const override { return search_latency_; }

  void more_like_this(std::string id, search_query filters,
                      std::function<void(kb_result<std::vector<search_hit>>)> done) override {
    auto job = [id, filters = std::move(filters), done](index_reader& r) { done(r.more_like_this(id, filters)); };
    searchers_->post(std::move(job));
  }

  void add_documents(std::vector<document> docs, std::string user,
                     std::function<void(kb_result<std::vector<std::string>>)> done) override {
    storage::write_batch b;
    std::vector<std::string> ids;
    auto now = clock_.now_ms();
    for (auto& d : docs) {
      if (d.title.empty() || d.text.empty())
        return done(kb_error{kb_error::kind::invalid, "a document needs a title and text", "title"});
      if (d.format != "markdown" && d.format != "text")
        return done(kb_error{kb_error::kind::invalid, "format must be markdown or text", "format"});
      auto id = next_log_id(now);
      ids.push_back(std::to_string(id));
      boost::json::object o{{"id", ids.back()},   {"title", d.title},   {"issuer", d.issuer}, {"number", d.number},
                            {"date", d.date},      {"format", d.format}, {"text", d.text},     {"bytes", d.text.size()},
                            {"imported_by", user}, {"imported_ms", now}};
      b.put(storage::table::kb_documents, storage::be64(id), storage::encode_record(std::move(o), 1));
    }
    bg_writer_.write(std::move(b), [done, ids = std::move(ids)](std::error_code ec, uint64_t) {
      if (ec) return done(storage_error(ec));
      done(ids);
    });
  }

  void record_usage(std::string search_id, std::string entry_id, std::string action, search_context ctx,
                    std::function<void(std::optional<kb_error>)> done) override {
    if (action != "opened" && action != "used")
      return done(kb_error{kb_error::kind::invalid, "action must be opened or used", "action"});
    if (!store_.get_head(entry_id)) return done(not_found(entry_id));
    storage::write_batch b;
    auto now = clock_.now_ms();
    boost::json::object o{{"ts_ms", now},   {"user", ctx.user},         {"site", ctx.site},   {"call_id", ctx.call_id},
                          {"entry", entry_id}, {"action", action}, {"search_id", search_id}};
    b.put(storage::table::kb_usage, storage::be64(next_log_id(now)), storage::encode_record(std::move(o), 1));
    bg_writer_.write(std::move(b), [done](std::error_code ec, uint64_t) {
      done(ec ? std::optional<kb_error>(storage_error(ec)) : std::nullopt);
    });
  }

 private:
  static kb_error not_found(const std::string& id) { return {kb_error::kind::not_found, "no entry " + id, "id"}; }

  uint64_t next_log_id(uint64_t now_ms) {
    std::lock_guard lock(ids_mutex_);
    return log_ids_.next(now_ms);
  }

  void add_comment_to(storage::write_batch& b, const std::string& id, const std::string& user, const std::string& text,
                      uint32_t version) {
    auto now = clock_.now_ms();
    store::add_comment(b, id, {user, text, version, now}, next_log_id(now));
  }

  // Runs `compute` on the KB actor, commits the versions its step writes (with `extra`
  // writes of the step's first version in the same batch), brings the index in line,
  // then calls `finish` with what was written. Every workflow path goes through here.
  void commit_writes(std::function<outcome()> compute,
                     std::function<void(std::optional<kb_error>, const std::vector<entry>&)> finish,
                     std::function<void(storage::write_batch&, const entry&)> extra = {}) {
    auto written = std::make_shared<std::vector<entry>>();
    auto prepare = [this, compute = std::move(compute), extra = std::move(extra),
                    written]() -> kb_result<storage::write_batch> {
      auto out = compute();
      if (auto* err = std::get_if<kb_error>(&out)) return *err;
      auto& s = std::get<step>(out);
      storage::write_batch b;
      if (s.writes.empty()) return b;
      store_.apply(b, s);
      if (extra) extra(b, s.writes.front());
      *written = std::move(s.writes);
      return b;
    };
    auto after = [this, written, finish = std::move(finish)](std::optional<kb_error> err) {
      if (!err) index_step(*written);
      finish(err, *written);
    };
    caf::anon_send(kb_actor_, run_atom::value, kb_job{std::move(prepare), std::move(after)});
  }

  // A workflow step on one entry: answers with the newest version it wrote.
  void run_step(std::function<outcome()> compute, std::function<void(kb_result<entry>)> done,
                std::function<void(storage::write_batch&, const entry&)> extra = {}) {
    commit_writes(
        std::move(compute),
        [done](std::optional<kb_error> err, const std::vector<entry>& written) {
          if (err) return done(*err);
          done(written.front());
        },
        std::move(extra));
  }

  // Brings the index in line with what a committed step wrote (runs on the KB actor).
  void index_step(const std::vector<entry>& writes) {
    std::lock_guard lock(index_mutex_);
    bool changed = false;
    for (const auto& v : writes) {
      if (v.state == status::published) {
        index_->upsert(v);
        changed = true;
      } else {
        auto h = store_.get_head(v.id);
        if (!h || h->published == 0) {
          index_->remove(v.id);
          changed = true;
        }
      }
    }
    std::string error;
    if (changed && !index_->commit(error))
      log::error("kb", "index commit failed; run `hotline kb reindex`", {{"error", error}});
  }

  uint64_t log_search(const search_query& q, const search_context& ctx, const search_result& r) {
    auto now = clock_.now_ms();
    auto id = next_log_id(now);
    boost::json::array hits;
    for (const auto& h : r.hits) hits.emplace_back(h.id);
    boost::json::array topics;
    for (const auto& t : q.topics) topics.emplace_back(t);
    boost::json::object o{{"ts_ms", now},         {"user", ctx.user},        {"site", ctx.site},
                          {"call_id", ctx.call_id}, {"q", q.text},           {"topics", std::move(topics)},
                          {"total", r.total_estimate}, {"hits", std::move(hits)}};
    storage::write_batch b;
    b.put(storage::table::kb_searches, storage::be64(id), storage::encode_record(std::move(o), 1));
    // The agent is not kept waiting for the analytics log: written in the background.
    bg_writer_.write(std::move(b), [](std::error_code ec, uint64_t) {
      if (ec) log::warn("kb", "search log not written", {{"error", ec.message()}});
    });
    return id;
  }

  void load_synonyms() {
    auto txn = env_.read();
    auto bytes = txn.get(storage::table::meta, "kb.synonyms");
    if (!bytes) return;
    auto o = storage::decode_record(*bytes);
    auto* g = o ? o->if_contains("groups") : nullptr;
    if (!g) return;
    std::string error;
    auto s = synonyms::from_json(boost::json::serialize(*g), error);
    std::lock_guard lock(synonyms_mutex_);
    synonyms_ = std::make_shared<const synonyms>(std::move(s));
  }

  caf::actor_system& sys_;
  storage::env& env_;
  store store_;
  actors::durable_writer& bg_writer_;  // for logs nobody waits for
  const wall_clock& clock_;
  std::mutex index_mutex_;
  std::unique_ptr<index_writer> index_;  // guarded by index_mutex_ (used from the KB actor)
  std::unique_ptr<search_pool> searchers_;
  storage::latency_histogram search_latency_;
  caf::actor kb_actor_;
  caf::actor ticker_;
  uint64_t next_id_ = 1;  // KB actor only
  mutable std::mutex synonyms_mutex_;
  std::shared_ptr<const synonyms> synonyms_;  // guarded by synonyms_mutex_
  std::mutex ids_mutex_;
  storage::time_ordered_ids log_ids_;  // guarded by ids_mutex_
};

}  // namespace

std::unique_ptr<service> start_service(caf::actor_system& sys, storage::env& env, actors::storage_writer writer,
                                       actors::durable_writer& bg_writer, const wall_clock& clock,
                                       const service_options& opts, std::string& error) {
  auto index = index_writer::open(opts.index_dir, error);
  if (!index) return nullptr;
  std::string commit_error;
  index->commit(commit_error);  // make sure a fresh database exists before readers open it
  // The searchers run on the in-memory copy of the index (search/hot_index.hpp), kept in
  // step by this writer's commits; loading it reads the whole index once (~11 s at
  // 100,000 entries, milliseconds for the starter content).
  auto hot = index->hot();
  // The searches run on their own threads (search/search_pool.hpp), one per core unless
  // configured: CPU work of ~0.1 ms each that should neither hold a scheduler worker nor
  // time-slice with more threads than cores.
  std::vector<std::unique_ptr<index_reader>> readers;
  size_t n = opts.searchers ? opts.searchers : std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) {
    auto reader = index_reader::open(opts.index_dir, error, {}, hot);
    if (!reader) return nullptr;
    readers.push_back(std::move(reader));
  }
  return std::make_unique<service_impl>(sys, env, writer, bg_writer, clock, std::move(index),
                                        std::make_unique<search_pool>(std::move(readers)));
}

}  // namespace hotline::kb
