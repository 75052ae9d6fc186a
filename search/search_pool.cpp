#include "search/search_pool.hpp"

#include <pthread.h>

#include <string>

namespace hotline::kb {

search_pool::search_pool(std::vector<std::unique_ptr<index_reader>> readers) : readers_(std::move(readers)) {
  for (size_t i = 0; i < readers_.size(); ++i)
    threads_.emplace_back([this, i] {
      pthread_setname_np(pthread_self(), ("kb-search-" + std::to_string(i)).c_str());
      run(*readers_[i]);
    });
}

search_pool::~search_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void search_pool::post(job j) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(j));
  }
  ready_.notify_one();
}

size_t search_pool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t search_pool::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void search_pool::run(index_reader& reader) {
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      reader.refresh();
      j(reader);
    } catch (...) {
      std::lock_guard lock(mutex_);
      ++failed_;
    }
  }
}

}  // namespace hotline::kb
