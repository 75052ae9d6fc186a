// The storage writer actor under CAF 0.17's deterministic test coordinator: messages run
// only inside sched_.run(), so "every request queued before the commit" is exact.
#include "actors/storage/writer.hpp"

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/storage/errors.hpp"
#include "storage/keys.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::actors {
namespace {

using storage::be64;
using storage::table;
using storage::write_batch;

struct test_config : caf::actor_system_config {
  test_config() {
    add_message_types<caf::id_block::hotline>();
    add_error_category(caf::atom("storage"), [](uint8_t code, caf::atom_value, const caf::message&) {
      return "storage: " + storage::to_string(static_cast<storage::errc>(code));
    });
    set("scheduler.policy", caf::atom("testing"));
  }
};

std::unique_ptr<storage::env> open_env(const test::temp_dir& dir) {
  std::error_code ec;
  auto e = storage::env::open({.dir = dir.sub("data")}, ec);
  if (!e) ADD_FAILURE() << "cannot open env: " << ec.message();
  return e;
}

write_batch put(table t, std::string key, std::string value) {
  write_batch b;
  b.put(t, std::move(key), std::move(value));
  return b;
}

write_batch put_new(table t, std::string key, std::string value) {
  write_batch b;
  b.put_new(t, std::move(key), std::move(value));
  return b;
}

// One write's answer: the commit number, or the error.
struct outcome {
  bool answered = false;
  uint64_t commit = 0;
  caf::error error;
};

class writer_test : public ::testing::Test {
 protected:
  writer_test() { sched_.run(); }  // let the writer initialise before a test sends anything
  ~writer_test() override {
    for (auto& w : spawned_) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    sched_.run();
  }

  storage_writer spawn_writer(writer_options opts = {}) {
    auto w = spawn_storage_writer_for_test(sys_, *env_, opts);
    spawned_.push_back(w);
    sched_.run();
    return w;
  }

  // Sends a write from the scoped actor; the answer is collected by `collect` after a run.
  using handle = decltype(std::declval<caf::scoped_actor&>()->request(
      std::declval<storage_writer&>(), caf::infinite, atoms::write_atom_v, write_batch{}));

  handle send_write(const storage_writer& w, write_batch b) {
    return self_->request(w, caf::infinite, atoms::write_atom_v, std::move(b));
  }

  // Receives every answer. The caller ran the scheduler, so each one must be in the
  // mailbox already; checking the count first turns a missing answer into a failure
  // instead of a blocking receive that never returns.
  std::vector<outcome> collect(std::vector<handle>& hs) {
    std::vector<outcome> out(hs.size());
    EXPECT_EQ(self_->mailbox().size(), hs.size()) << "answers missing after sched.run()";
    if (self_->mailbox().size() != hs.size()) return out;
    for (size_t i = 0; i < hs.size(); ++i) {
      hs[i].receive(
          [&](uint64_t n) {
            out[i].answered = true;
            out[i].commit = n;
          },
          [&](caf::error& e) {
            out[i].answered = true;
            out[i].error = std::move(e);
          });
    }
    hs.clear();
    return out;
  }

  uint64_t sync(const storage_writer& w) {
    auto h = self_->request(w, caf::infinite, atoms::sync_atom_v);
    sched_.run();
    EXPECT_EQ(self_->mailbox().size(), 1u);
    uint64_t result = UINT64_MAX;
    if (self_->mailbox().size() != 1u) return result;
    h.receive([&](uint64_t n) { result = n; }, [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); });
    return result;
  }

  std::optional<std::string> get(table t, const std::string& key) {
    auto txn = env_->read();
    auto v = txn.get(t, key);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  }

  test::temp_dir dir_;
  std::unique_ptr<storage::env> env_ = open_env(dir_);
  test_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scheduler::test_coordinator& sched_ = dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler());
  caf::scoped_actor self_{sys_, true};
  std::vector<storage_writer> spawned_;
};

TEST_F(writer_test, ten_requests_queued_before_the_run_share_one_commit) {
  auto writer = spawn_writer();
  std::vector<handle> hs;
  for (uint64_t i = 0; i < 10; ++i)
    hs.push_back(send_write(writer, put(table::stress, be64(i), "v" + std::to_string(i))));
  EXPECT_EQ(env_->stats().commits.load(), 0u);  // nothing runs before sched.run()
  sched_.run();

  auto out = collect(hs);
  ASSERT_EQ(out.size(), 10u);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].answered) << i;
    EXPECT_FALSE(out[i].error) << sys_.render(out[i].error);
    EXPECT_EQ(out[i].commit, 1u) << i;
  }
  EXPECT_EQ(env_->stats().commits.load(), 1u);
  EXPECT_EQ(env_->stats().batches.load(), 10u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(get(table::stress, be64(i)), "v" + std::to_string(i));
}

TEST_F(writer_test, ten_requesting_actors_share_one_commit) {
  auto writer = spawn_writer();
  std::vector<outcome> out(10);
  for (size_t i = 0; i < out.size(); ++i) {
    sys_.spawn([&out, i, writer](caf::event_based_actor* a) -> caf::behavior {
      a->request(writer, caf::infinite, atoms::write_atom_v, put(table::stress, be64(100 + i), "x"))
          .then(
              [&out, i, a](uint64_t n) {
                out[i] = {true, n, {}};
                a->quit();
              },
              [&out, i, a](caf::error& e) {
                out[i] = {true, 0, std::move(e)};
                a->quit();
              });
      return {[](atoms::flush_atom) {}};  // never used: the actor lives for its one answer
    });
  }
  sched_.run();
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].answered) << i;
    EXPECT_FALSE(out[i].error) << sys_.render(out[i].error);
    EXPECT_EQ(out[i].commit, 1u) << i;
  }
  EXPECT_EQ(env_->stats().commits.load(), 1u);
  EXPECT_EQ(env_->stats().batches.load(), 10u);
}

TEST_F(writer_test, put_new_conflict_fails_only_that_request_then_sync_reports_the_commit) {
  auto writer = spawn_writer();
  std::vector<handle> hs;
  hs.push_back(send_write(writer, put(table::users, "alice", "first")));
  sched_.run();
  auto first = collect(hs);
  ASSERT_TRUE(first[0].answered);
  ASSERT_FALSE(first[0].error);
  ASSERT_EQ(first[0].commit, 1u);

  hs.push_back(send_write(writer, put(table::users, "bob", "b")));
  hs.push_back(send_write(writer, put_new(table::users, "alice", "second")));  // taken
  hs.push_back(send_write(writer, put_new(table::users, "carol", "c")));
  sched_.run();
  auto out = collect(hs);
  ASSERT_EQ(out.size(), 3u);
  for (auto& o : out) ASSERT_TRUE(o.answered);

  EXPECT_FALSE(out[0].error) << sys_.render(out[0].error);
  EXPECT_EQ(out[0].commit, 2u);
  ASSERT_TRUE(out[1].error);
  EXPECT_EQ(out[1].error.category(), caf::atom("storage"));
  EXPECT_EQ(out[1].error.code(), static_cast<uint8_t>(storage::errc::key_exists));
  EXPECT_EQ(to_error_code(out[1].error), storage::errc::key_exists);
  EXPECT_NE(sys_.render(out[1].error).find("key already exists"), std::string::npos) << sys_.render(out[1].error);
  EXPECT_FALSE(out[2].error) << sys_.render(out[2].error);
  EXPECT_EQ(out[2].commit, 2u);

  EXPECT_EQ(get(table::users, "alice"), "first");
  EXPECT_EQ(get(table::users, "bob"), "b");
  EXPECT_EQ(get(table::users, "carol"), "c");
  EXPECT_EQ(env_->stats().commits.load(), 2u);

  EXPECT_EQ(sync(writer), 2u);                  // nothing pending: the last commit's number
  EXPECT_EQ(env_->stats().commits.load(), 2u);  // and no empty commit
}

TEST_F(writer_test, sync_answer_covers_writes_sent_before_it) {
  auto writer = spawn_writer();
  auto w1 = send_write(writer, put(table::stress, be64(1), "a"));
  auto w2 = send_write(writer, put(table::stress, be64(2), "b"));
  auto s = self_->request(writer, caf::infinite, atoms::sync_atom_v);
  sched_.run();
  ASSERT_EQ(self_->mailbox().size(), 3u);
  uint64_t c1 = 0, c2 = 0, synced = 0;
  auto fail = [&](caf::error& e) { ADD_FAILURE() << sys_.render(e); };
  w1.receive([&](uint64_t n) { c1 = n; }, fail);
  w2.receive([&](uint64_t n) { c2 = n; }, fail);
  s.receive([&](uint64_t n) { synced = n; }, fail);
  EXPECT_EQ(c1, 1u);
  EXPECT_EQ(c2, 1u);
  EXPECT_EQ(synced, 1u);
  EXPECT_EQ(env_->stats().commits.load(), 1u);  // the flush behind them found nothing left
}

TEST_F(writer_test, max_batches_per_commit_splits_a_flood) {
  auto writer = spawn_writer({.max_batches_per_commit = 4});
  std::vector<handle> hs;
  for (uint64_t i = 0; i < 10; ++i) hs.push_back(send_write(writer, put(table::stress, be64(i), "x")));
  sched_.run();
  auto out = collect(hs);
  const std::vector<uint64_t> expected{1, 1, 1, 1, 2, 2, 2, 2, 3, 3};
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].answered);
    EXPECT_FALSE(out[i].error);
    EXPECT_EQ(out[i].commit, expected[i]) << i;
  }
  EXPECT_EQ(env_->stats().commits.load(), 3u);
  EXPECT_EQ(sync(writer), 3u);
}

}  // namespace
}  // namespace hotline::actors
