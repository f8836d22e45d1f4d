// BlockingPool: a fixed set of threads over a bounded queue.
#include "api/blocking_pool.h"

#include <utility>

namespace tempo::api {

BlockingPool::BlockingPool(int threads, size_t max_queued) : max_queued_(max_queued) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

BlockingPool::~BlockingPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (std::thread& thread : threads_) thread.join();
}

bool BlockingPool::Submit(std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= max_queued_) {
      ++refused_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.Signal();
  return true;
}

BlockingPoolStats BlockingPool::Stats() const {
  MutexLock lock(&mu_);
  return BlockingPoolStats{tasks_, refused_, queue_.size()};
}

void BlockingPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
      ++tasks_;
    }
    task();
  }
}

}  // namespace tempo::api
