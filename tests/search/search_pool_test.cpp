// The search threads: one queue in arrival order, every reader refreshed before a search,
// a failing job does not stop a thread, and what is queued runs before the pool stops.
#include "search/search_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "tests/support/temp_dir.hpp"

namespace {

using namespace hotline::kb;

class SearchPool : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    writer_ = index_writer::open(dir_.path(), error);
    ASSERT_TRUE(writer_) << error;
    ASSERT_TRUE(writer_->commit(error)) << error;
  }
  std::unique_ptr<search_pool> make_pool(size_t threads) {
    std::vector<std::unique_ptr<index_reader>> readers;
    std::string error;
    for (size_t i = 0; i < threads; ++i) readers.push_back(index_reader::open(dir_.path(), error, {}, writer_->hot()));
    return std::make_unique<search_pool>(std::move(readers));
  }
  // Holds every thread of `pool` in a job until the returned promise is set.
  std::shared_ptr<std::promise<void>> hold(search_pool& pool) {
    auto release = std::make_shared<std::promise<void>>();
    auto released = release->get_future().share();
    std::atomic<size_t> holding{0};
    for (size_t i = 0; i < pool.threads(); ++i) pool.post([released, &holding](index_reader&) {
        ++holding;
        released.wait();
      });
    while (holding < pool.threads()) std::this_thread::yield();
    return release;
  }
  hotline::test::temp_dir dir_;
  std::unique_ptr<index_writer> writer_;
};

TEST_F(SearchPool, JobsWaitInOneQueueAndRunInArrivalOrder) {
  auto pool = make_pool(1);
  auto release = hold(*pool);
  std::mutex m;
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) pool->post([&, i](index_reader&) {
      std::lock_guard lock(m);
      order.push_back(i);
    });
  EXPECT_EQ(pool->queued(), 10u);
  release->set_value();
  pool.reset();  // runs what is queued, then stops
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(SearchPool, EveryThreadTakesFromTheQueue) {
  auto pool = make_pool(3);
  EXPECT_EQ(pool->threads(), 3u);
  // Three jobs that each wait for all three to have started: they can only finish if
  // three threads run them at once.
  std::atomic<int> started{0};
  std::promise<void> all_done;
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i) pool->post([&](index_reader&) {
      ++started;
      while (started < 3) std::this_thread::yield();
      if (++finished == 3) all_done.set_value();
    });
  EXPECT_EQ(all_done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST_F(SearchPool, ASearchPostedAfterACommitSeesIt) {
  auto pool = make_pool(2);
  entry e;
  e.id = "kb-1";
  e.question = "失业保险金怎么申领？";
  e.answer = "失业登记后申领。";
  e.topic = "unemployment";
  e.region = "national";
  e.effective = "2020-01-01";
  e.state = status::published;
  writer_->upsert(e);
  std::string error;
  ASSERT_TRUE(writer_->commit(error)) << error;
  for (int i = 0; i < 4; ++i) {  // whichever thread takes it
    std::promise<std::vector<search_hit>> found;
    pool->post([&](index_reader& r) { found.set_value(r.search({.text = "失业保险金"}, {}).hits); });
    auto hits = found.get_future().get();
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, "kb-1");
  }
}

TEST_F(SearchPool, AJobThatThrowsIsCountedAndTheThreadGoesOn) {
  auto pool = make_pool(1);
  pool->post([](index_reader&) { throw std::runtime_error("bad job"); });
  std::promise<void> next;
  pool->post([&](index_reader&) { next.set_value(); });
  EXPECT_EQ(next.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(pool->failed(), 1u);
}

}  // namespace
