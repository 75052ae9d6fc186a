// storage::env without actors: tables, batches, scans, map growth, backup and verify,
// and the key encodings that keep LMDB's byte order equal to numeric/time order.
#include "storage/env.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "storage/verify.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::storage {
namespace {

using test::temp_dir;

class env_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    reopen();
  }

  void reopen(size_t initial_map_bytes = size_t{1} << 30) {
    env_.reset();  // LMDB: never two handles on one env in one process
    std::error_code ec;
    env_ = env::open({.dir = data_dir(), .initial_map_bytes = initial_map_bytes}, ec);
    ASSERT_TRUE(env_) << ec.message();
  }

  std::string data_dir() const { return dir_.sub("data"); }

  // Commits one batch and returns its result.
  std::error_code commit_one(write_batch b) {
    auto r = env_->commit(std::span<const write_batch>(&b, 1));
    return r.at(0);
  }

  std::optional<std::string> get(table t, std::string_view key) const {
    auto txn = env_->read();
    EXPECT_TRUE(txn.ok()) << txn.error().message();
    auto v = txn.get(t, key);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  }

  size_t count(table t) const { return env_->read().count(t); }

  temp_dir dir_;
  std::unique_ptr<env> env_;
};

std::string user_record(const std::string& name) {
  return encode_record(boost::json::object{{"name", name}, {"roles", boost::json::array{"agent"}}}, 1);
}

// --- open / create ---------------------------------------------------------------

TEST_F(env_test, open_creates_missing_dir_and_every_table) {
  EXPECT_TRUE(std::filesystem::is_directory(data_dir()));
  EXPECT_EQ(env_->dir(), data_dir());
  EXPECT_EQ(env_->map_bytes(), size_t{1} << 30);
  auto txn = env_->read();
  ASSERT_TRUE(txn.ok());
  for (size_t i = 0; i < table_names.size(); ++i) EXPECT_EQ(txn.count(static_cast<table>(i)), 0u) << table_names[i];
}

TEST_F(env_test, reopen_keeps_committed_data) {
  write_batch b;
  b.put(table::meta, "schema", encode_record({}, 1));
  b.put(table::users, "alice", user_record("alice"));
  ASSERT_FALSE(commit_one(std::move(b)));
  reopen();
  EXPECT_EQ(get(table::meta, "schema"), encode_record({}, 1));
  EXPECT_EQ(get(table::users, "alice"), user_record("alice"));
}

TEST(env_open, read_only_open_of_missing_dir_fails_without_creating_it) {
  temp_dir dir;
  std::error_code ec;
  auto e = env::open({.dir = dir.sub("absent"), .read_only = true}, ec);
  EXPECT_FALSE(e);
  EXPECT_TRUE(ec);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("absent")));
}

// --- put / get / erase ---------------------------------------------------------------

TEST_F(env_test, put_get_and_overwrite) {
  write_batch b;
  b.put(table::users, "alice", user_record("alice"));
  b.put(table::sessions, "tok", encode_record({{"user", "alice"}}, 1));
  ASSERT_FALSE(commit_one(std::move(b)));
  EXPECT_EQ(get(table::users, "alice"), user_record("alice"));
  EXPECT_EQ(get(table::sessions, "tok"), encode_record({{"user", "alice"}}, 1));
  // Tables are separate key spaces.
  EXPECT_EQ(get(table::sessions, "alice"), std::nullopt);
  EXPECT_EQ(get(table::users, "bob"), std::nullopt);
  EXPECT_EQ(get(table::users, ""), std::nullopt);

  write_batch over;
  over.put(table::users, "alice", user_record("alice2"));
  ASSERT_FALSE(commit_one(std::move(over)));
  EXPECT_EQ(get(table::users, "alice"), user_record("alice2"));
  EXPECT_EQ(count(table::users), 1u);
}

TEST_F(env_test, put_new_conflict_rejects_only_its_own_batch) {
  write_batch seed;
  seed.put(table::users, "taken", "old");
  ASSERT_FALSE(commit_one(std::move(seed)));
  auto commits_before = env_->stats().commits.load();
  auto batches_before = env_->stats().batches.load();

  std::vector<write_batch> batches(4);
  batches[0].put(table::users, "a", "1");
  batches[0].put_new(table::users, "taken", "new");  // conflicts: "a" must not land either
  batches[1].put(table::users, "b", "2");
  batches[2].put_new(table::users, "c", "3");
  batches[3].put_new(table::users, "c", "4");  // taken by batch 2 in the same commit
  auto r = env_->commit(batches);

  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], errc::key_exists);
  EXPECT_FALSE(r[1]) << r[1].message();
  EXPECT_FALSE(r[2]) << r[2].message();
  EXPECT_EQ(r[3], errc::key_exists);
  EXPECT_EQ(get(table::users, "a"), std::nullopt);
  EXPECT_EQ(get(table::users, "taken"), "old");
  EXPECT_EQ(get(table::users, "b"), "2");
  EXPECT_EQ(get(table::users, "c"), "3");
  EXPECT_EQ(env_->stats().commits.load(), commits_before + 1);
  EXPECT_EQ(env_->stats().batches.load(), batches_before + 4);
}

TEST_F(env_test, put_new_twice_in_one_batch_rejects_the_batch) {
  write_batch b;
  b.put_new(table::users, "x", "1");
  b.put_new(table::users, "x", "2");
  EXPECT_EQ(commit_one(std::move(b)), errc::key_exists);
  EXPECT_EQ(get(table::users, "x"), std::nullopt);
}

TEST_F(env_test, bad_keys_reject_only_their_batch) {
  std::vector<write_batch> batches(3);
  batches[0].put(table::users, "", "empty key");
  batches[1].put(table::users, std::string(4096, 'k'), "key too long");
  batches[2].put(table::users, "fine", "ok");
  auto r = env_->commit(batches);
  EXPECT_EQ(r[0], errc::bad_value);
  EXPECT_EQ(r[1], errc::bad_value);
  EXPECT_FALSE(r[2]);
  EXPECT_EQ(count(table::users), 1u);
}

TEST_F(env_test, erase_present_and_absent_keys) {
  write_batch b;
  b.put(table::sessions, "s1", "1");
  b.put(table::sessions, "s2", "2");
  ASSERT_FALSE(commit_one(std::move(b)));
  ASSERT_EQ(count(table::sessions), 2u);

  write_batch e;
  e.erase(table::sessions, "s1");
  e.erase(table::sessions, "never-there");  // not an error
  ASSERT_FALSE(commit_one(std::move(e)));
  EXPECT_EQ(get(table::sessions, "s1"), std::nullopt);
  EXPECT_EQ(get(table::sessions, "s2"), "2");
  EXPECT_EQ(count(table::sessions), 1u);

  // put then erase in one batch: the later op wins.
  write_batch pe;
  pe.put(table::sessions, "s3", "3");
  pe.erase(table::sessions, "s3");
  ASSERT_FALSE(commit_one(std::move(pe)));
  EXPECT_EQ(get(table::sessions, "s3"), std::nullopt);
}

// --- scan / scan_reverse / count ----------------------------------------------------------

class scan_test : public env_test {
 protected:
  void SetUp() override {
    env_test::SetUp();
    write_batch b;
    for (uint64_t i = 1; i <= 100; ++i) b.put(table::audit, be64(i * 10), std::to_string(i * 10));
    ASSERT_FALSE(commit_one(std::move(b)));
  }

  // The numbers visited by scan(from, to).
  std::vector<uint64_t> forward(std::string_view from, std::string_view to, size_t limit = SIZE_MAX) {
    std::vector<uint64_t> out;
    auto txn = env_->read();
    size_t n = txn.scan(table::audit, from, to, [&](std::string_view k, std::string_view v) {
      auto id = from_be64(k);
      EXPECT_TRUE(id);
      EXPECT_EQ(v, std::to_string(*id));
      out.push_back(*id);
      return out.size() < limit;
    });
    EXPECT_EQ(n, out.size());
    return out;
  }

  std::vector<uint64_t> backward(std::string_view before, size_t limit = SIZE_MAX) {
    std::vector<uint64_t> out;
    auto txn = env_->read();
    size_t n = txn.scan_reverse(table::audit, before, [&](std::string_view k, std::string_view) {
      out.push_back(*from_be64(k));
      return out.size() < limit;
    });
    EXPECT_EQ(n, out.size());
    return out;
  }

  static std::vector<uint64_t> range(uint64_t first, uint64_t last, int64_t step) {
    std::vector<uint64_t> v;
    for (int64_t i = static_cast<int64_t>(first);; i += step) {
      v.push_back(static_cast<uint64_t>(i));
      if (static_cast<uint64_t>(i) == last) break;
    }
    return v;
  }
};

TEST_F(scan_test, forward_ranges) {
  EXPECT_EQ(forward({}, {}), range(10, 1000, 10));
  EXPECT_EQ(forward(be64(100), be64(200)), range(100, 190, 10));  // [from, to)
  EXPECT_EQ(forward(be64(101), be64(131)), range(110, 130, 10));  // bounds between keys
  EXPECT_EQ(forward(be64(990), {}), range(990, 1000, 10));
  EXPECT_EQ(forward({}, be64(30)), range(10, 20, 10));
  EXPECT_TRUE(forward(be64(1001), {}).empty());
  EXPECT_TRUE(forward(be64(200), be64(200)).empty());
  EXPECT_EQ(forward(be64(500), {}, 3), range(500, 520, 10));  // f returning false stops
}

TEST_F(scan_test, reverse_ranges) {
  EXPECT_EQ(backward({}), range(1000, 10, -10));
  EXPECT_EQ(backward(be64(200), 3), range(190, 170, -10));  // strictly below `before`
  EXPECT_EQ(backward(be64(205), 2), range(200, 190, -10));
  EXPECT_EQ(backward(be64(5000), 2), range(1000, 990, -10));  // past the end: from the last
  EXPECT_EQ(backward(be64(20)), std::vector<uint64_t>{10});
  EXPECT_TRUE(backward(be64(10)).empty());
  EXPECT_TRUE(backward(be64(1)).empty());
}

TEST_F(scan_test, empty_table_and_count) {
  auto txn = env_->read();
  EXPECT_EQ(txn.count(table::audit), 100u);
  EXPECT_EQ(txn.count(table::users), 0u);
  EXPECT_EQ(txn.scan(table::users, {}, {}, [](auto, auto) { return true; }), 0u);
  EXPECT_EQ(txn.scan_reverse(table::users, {}, [](auto, auto) { return true; }), 0u);
}

TEST_F(scan_test, read_txn_is_a_snapshot) {
  auto before = env_->read();
  write_batch b;
  b.erase(table::audit, be64(10));
  b.put(table::audit, be64(5), "5");
  // commit() with a read_txn open is fine as long as the map need not grow.
  ASSERT_FALSE(commit_one(std::move(b)));
  EXPECT_EQ(before.count(table::audit), 100u);
  EXPECT_TRUE(before.get(table::audit, be64(10)));
  EXPECT_FALSE(before.get(table::audit, be64(5)));
  auto after = env_->read();
  EXPECT_EQ(after.count(table::audit), 100u);
  EXPECT_FALSE(after.get(table::audit, be64(10)));
  EXPECT_TRUE(after.get(table::audit, be64(5)));
}

// --- map growth ------------------------------------------------------------------------

std::string payload(uint64_t id, size_t size) {
  std::string s = std::to_string(id) + ":";
  s.reserve(size);
  std::mt19937_64 rng(id);
  while (s.size() < size) s.push_back(static_cast<char>('a' + rng() % 26));
  return s;
}

TEST_F(env_test, map_grows_while_writing_5_mb) {
  reopen(64 * 1024);
  ASSERT_EQ(env_->map_bytes(), 64u * 1024u);
  // Mixed sizes: small records and overflow pages (values larger than a page).
  const std::vector<size_t> sizes{100, 1000, 4000, 20000};
  std::map<uint64_t, size_t> written;
  size_t bytes = 0;
  uint64_t id = 0;
  while (bytes < 5u * 1024 * 1024) {
    std::vector<write_batch> batches(8);
    for (auto& b : batches) {
      for (int i = 0; i < 8; ++i, ++id) {
        size_t size = sizes[id % sizes.size()];
        b.put(table::stress, be64(id), payload(id, size));
        written[id] = size;
        bytes += size;
      }
    }
    for (const auto& ec : env_->commit(batches)) ASSERT_FALSE(ec) << ec.message();
  }
  EXPECT_GT(env_->stats().map_grows.load(), 0u);
  EXPECT_GT(env_->map_bytes(), 5u * 1024 * 1024);
  EXPECT_EQ(env_->stats().failures.load(), 0u);

  auto check_all = [&] {
    auto txn = env_->read();
    ASSERT_EQ(txn.count(table::stress), written.size());
    for (const auto& [i, size] : written) {
      auto v = txn.get(table::stress, be64(i));
      ASSERT_TRUE(v) << i;
      ASSERT_EQ(*v, payload(i, size)) << i;
    }
  };
  check_all();
  // A reopen with the small initial size keeps the grown map and the data.
  reopen(64 * 1024);
  EXPECT_GT(env_->map_bytes(), 5u * 1024 * 1024);
  check_all();
}

// --- backup and verify ---------------------------------------------------------------------

size_t records_in(const verify_report& r, table t) {
  for (const auto& tc : r.tables)
    if (tc.table == name_of(t)) return tc.records;
  ADD_FAILURE() << "no table " << name_of(t) << " in the report";
  return 0;
}

TEST_F(env_test, backup_copy_verifies_with_the_same_counts) {
  write_batch b;
  b.put(table::meta, "schema", encode_record({}, 1));
  for (int i = 0; i < 50; ++i) b.put(table::users, "user" + std::to_string(i), user_record("u"));
  for (uint64_t i = 0; i < 300; ++i) b.put(table::audit, be64(i), encode_record({{"what", "login"}}, 2));
  for (uint64_t i = 0; i < 1000; ++i) b.put(table::stress, be64(i), payload(i, 100));  // no envelope needed
  ASSERT_FALSE(commit_one(std::move(b)));
  write_batch e;  // some free pages, so the compacting copy has something to drop
  for (uint64_t i = 0; i < 500; ++i) e.erase(table::stress, be64(i));
  ASSERT_FALSE(commit_one(std::move(e)));

  const std::string copy = dir_.sub("backup");
  std::filesystem::create_directory(copy);
  ASSERT_FALSE(env_->backup(copy));

  auto report = verify(copy);
  for (const auto& p : report.problems) ADD_FAILURE() << p;
  EXPECT_TRUE(report.ok());
  auto live = env_->read();
  ASSERT_EQ(report.tables.size(), table_names.size());
  for (size_t i = 0; i < table_names.size(); ++i) {
    auto t = static_cast<table>(i);
    EXPECT_EQ(records_in(report, t), live.count(t)) << name_of(t);
  }
  EXPECT_EQ(records_in(report, table::users), 50u);
  EXPECT_EQ(records_in(report, table::audit), 300u);
  EXPECT_EQ(records_in(report, table::stress), 500u);

  // The copy opens as an env of its own and holds the same bytes.
  std::error_code ec;
  auto restored = env::open({.dir = copy}, ec);
  ASSERT_TRUE(restored) << ec.message();
  auto txn = restored->read();
  EXPECT_EQ(txn.get(table::stress, be64(777)), payload(777, 100));
  EXPECT_EQ(txn.get(table::stress, be64(7)), std::nullopt);
}

// backup() runs beside commits ("while the env serves"); a commit that grows the map
// must not remap the file under the copy's feet (LMDB: no mdb_env_set_mapsize while a
// transaction of this process is open; mdb_env_copy2 runs one).
TEST_F(env_test, backup_concurrent_with_map_growth) {
  reopen(64 * 1024);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> committed{0};
  std::thread writer([&] {
    uint64_t id = 0;
    while (!stop && env_->stats().map_grows.load() < 8) {
      write_batch b;
      for (int i = 0; i < 50; ++i, ++id) b.put(table::stress, be64(id), payload(id, 2000));
      auto r = env_->commit(std::span<const write_batch>(&b, 1));
      if (r[0]) {
        ADD_FAILURE() << r[0].message();
        break;
      }
      committed = id;
    }
    stop = true;
  });
  int copies = 0;
  while (!stop) {
    std::string copy = dir_.sub("copy" + std::to_string(copies++));
    ASSERT_FALSE(env_->backup(copy));
    auto report = verify(copy);
    EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
    std::filesystem::remove_all(copy);
  }
  writer.join();
  EXPECT_GE(env_->stats().map_grows.load(), 8u);
  EXPECT_EQ(count(table::stress), committed.load());
  std::printf("  %d backups while the map grew %lu times\n", copies, env_->stats().map_grows.load());
}

TEST_F(env_test, backup_refuses_a_non_empty_dir) {
  const std::string copy = dir_.sub("backup");
  std::filesystem::create_directory(copy);
  { std::ofstream(copy + "/stray") << "x"; }
  EXPECT_EQ(env_->backup(copy), std::errc::directory_not_empty);
}

TEST_F(env_test, verify_flags_a_record_without_schema_envelope) {
  write_batch b;
  b.put(table::users, "alice", user_record("alice"));
  b.put(table::users, "mallory", "this is not json");
  b.put(table::users, "trent", R"({"name":"trent"})");   // JSON, no "v"
  b.put(table::sessions, "s", R"({"v":0,"user":"x"})");  // "v" must be >= 1
  b.put(table::stress, be64(1), "raw bytes are fine here");
  // An index's entries are their keys: empty values, as the call actor writes them.
  b.put(table::calls_by_caller, std::string("13900001111") + '\0' + be64(7), std::string());
  b.put(table::calls_by_caller, std::string("13900001111") + '\0' + be64(8), R"({"v":1})");
  ASSERT_FALSE(commit_one(std::move(b)));
  env_.reset();  // verify opens its own handle: one per process at a time

  auto report = verify(data_dir());
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.problems.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_NE(report.problems[i].find("schema envelope"), std::string::npos) << report.problems[i];
  EXPECT_EQ(report.problems[3], "calls_by_caller: index entry with a value at key #2");
  for (const auto& tc : report.tables) {
    if (tc.table == "users") {
      EXPECT_EQ(tc.records, 3u);
      EXPECT_EQ(tc.bad, 2u);
    } else if (tc.table == "sessions" || tc.table == "calls_by_caller") {
      EXPECT_EQ(tc.bad, 1u) << tc.table;
    } else {
      EXPECT_EQ(tc.bad, 0u) << tc.table;
    }
  }
}

TEST(verify_dir, missing_dir_is_a_problem_not_a_crash) {
  temp_dir dir;
  auto report = verify(dir.sub("nope"));
  EXPECT_FALSE(report.ok());
}

// --- key encodings ------------------------------------------------------------------------

TEST(keys, be64_byte_order_is_numeric_order) {
  std::vector<uint64_t> v{0, 1, 255, 256, 65535, 65536, (uint64_t{1} << 32) - 1, uint64_t{1} << 32,
                          (uint64_t{1} << 63) - 1, uint64_t{1} << 63, UINT64_MAX - 1, UINT64_MAX};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) v.push_back(rng() >> (rng() % 64));
  for (uint64_t a : v) {
    ASSERT_EQ(be64(a).size(), 8u);
    ASSERT_EQ(from_be64(be64(a)), a);
  }
  // std::string compares as unsigned bytes, like LMDB's default memcmp order.
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    uint64_t a = v[i], b = v[i + 1];
    ASSERT_EQ(a < b, be64(a) < be64(b)) << a << " vs " << b;
    ASSERT_EQ(a == b, be64(a) == be64(b));
  }
  EXPECT_EQ(be64(0x0102030405060708), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(from_be64("short"), std::nullopt);
  EXPECT_EQ(from_be64(std::string(9, '\0')), std::nullopt);
}

TEST_F(env_test, lmdb_orders_be64_keys_numerically) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> ids;
  write_batch b;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(rng());
    b.put(table::audit, be64(ids.back()), "x");
  }
  ASSERT_FALSE(commit_one(std::move(b)));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<uint64_t> seen;
  env_->read().scan(table::audit, {}, {}, [&](std::string_view k, std::string_view) {
    seen.push_back(*from_be64(k));
    return true;
  });
  EXPECT_EQ(seen, ids);
}

TEST(keys, time_ordered_ids_stay_monotonic_when_the_clock_goes_backwards) {
  time_ordered_ids gen;
  const uint64_t t0 = 1'790'000'000'000;  // ms, 2026
  uint64_t a = gen.next(t0);
  EXPECT_EQ(millis_of(a), t0);
  uint64_t b = gen.next(t0);  // same ms: next sequence number
  EXPECT_GT(b, a);
  EXPECT_EQ(millis_of(b), t0);
  uint64_t c = gen.next(t0 - 60'000);  // clock stepped back a minute
  EXPECT_GT(c, b);
  uint64_t d = gen.next(t0 - 1);
  EXPECT_GT(d, c);
  uint64_t e = gen.next(t0 + 5);  // forward again: the new ms
  EXPECT_GT(e, d);
  EXPECT_EQ(millis_of(e), t0 + 5);

  // A random walk of the clock, including jumps back: ids strictly increase and their
  // be64 keys sort the same way.
  std::mt19937_64 rng(1);
  uint64_t now = t0, last = e;
  for (int i = 0; i < 100'000; ++i) {
    now = rng() % 10 == 0 ? now - rng() % 1000 : now + rng() % 3;
    uint64_t id = gen.next(now);
    ASSERT_GT(id, last);
    ASSERT_LT(be64(last), be64(id));
    last = id;
  }
}

TEST(keys, time_ordered_ids_spill_into_the_next_ms_after_65536) {
  time_ordered_ids gen;
  const uint64_t t0 = 1'790'000'000'000;
  uint64_t last = 0;
  for (int i = 0; i < 70'000; ++i) {
    uint64_t id = gen.next(t0);
    ASSERT_GT(id, last);
    last = id;
  }
  EXPECT_EQ(millis_of(last), t0 + 1);
}


// --- a full disk ---------------------------------------------------------------------

// RLIMIT_FSIZE stands in for a full disk: writes past it fail like ENOSPC would. The
// commit that hits it must fail cleanly, leave everything committed before intact, and
// the env must keep serving reads and, once there is room again, writes.
TEST_F(env_test, full_disk_is_a_clear_error_and_loses_nothing) {
  write_batch first;
  first.put(table::users, "before", user_record("before"));
  ASSERT_FALSE(commit_one(first));
  auto file_size = std::filesystem::file_size(data_dir() + "/data.mdb");

  signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the process
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit tight = old;
  tight.rlim_cur = file_size + 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  std::error_code failure;
  size_t committed = 0;
  for (int i = 0; i < 1000 && !failure; ++i) {
    write_batch big;
    big.put(table::stress, be64(static_cast<uint64_t>(i)), std::string(32 * 1024, 'x'));
    failure = commit_one(big);
    if (!failure) ++committed;
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, SIG_DFL);

  // LMDB reports a short write (what a full disk or a size limit gives) as EIO; an
  // ENOSPC from the syscall maps to disk_full. Either way: an error, not a crash.
  EXPECT_TRUE(failure == errc::disk_full || failure == errc::io_error) << failure.message();
  EXPECT_TRUE(get(table::users, "before"));
  EXPECT_EQ(count(table::stress), committed);
  write_batch after;
  after.put(table::users, "after", user_record("after"));
  EXPECT_FALSE(commit_one(after));  // room again: the env still works
  env_.reset();
  EXPECT_TRUE(verify(data_dir()).ok());
}

}  // namespace
}  // namespace hotline::storage
