#pragma once
// The threads the knowledge base's searches run on: a fixed number (one per core by
// default), each with its own reader, taking requests from one queue in arrival order.
//
// More concurrent searches than cores wait in the queue instead of time-slicing the
// cores. A search costs ~0.1 ms of CPU; a thread that a busy core preempts halfway waits
// for the other threads' whole slices, so 8 threads searching at once on 2 cores answer
// most searches in 0.13 ms but 1 in 100 only after 12 ms (docs/PERFORMANCE.md). In the
// queue a search waits for those ahead of it, a few tenths of a millisecond.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "search/index.hpp"

namespace hotline::kb {

class search_pool {
 public:
  using job = std::function<void(index_reader&)>;

  // One thread per reader: give it at least one.
  explicit search_pool(std::vector<std::unique_ptr<index_reader>> readers);
  // Runs what is queued, then stops the threads.
  ~search_pool();
  search_pool(const search_pool&) = delete;
  search_pool& operator=(const search_pool&) = delete;

  // Runs `j` on the next free thread, after refresh() of its reader (cheap when nothing
  // changed), so a search sees every publish before it was posted. A job that throws is
  // counted and the thread goes on.
  void post(job j);

  size_t threads() const { return threads_.size(); }
  size_t queued() const;
  size_t failed() const;

 private:
  void run(index_reader& reader);

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<job> queue_;   // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  size_t failed_ = 0;       // guarded by mutex_
  std::vector<std::unique_ptr<index_reader>> readers_;
  std::vector<std::thread> threads_;
};

}  // namespace hotline::kb
