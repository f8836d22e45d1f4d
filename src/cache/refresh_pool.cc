// RefreshPool: fixed threads draining a bounded FIFO.
#include "cache/refresh_pool.h"

#include <utility>

namespace tempo::cache::internal {

RefreshPool::RefreshPool(int threads, size_t queue_limit) : queue_limit_(queue_limit) {
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

RefreshPool::~RefreshPool() {
  std::deque<Task> cancelled;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    cancelled.swap(queue_);
  }
  cv_.SignalAll();
  for (std::thread& t : threads_) t.join();
  for (Task& task : cancelled) task(/*cancelled=*/true);
}

bool RefreshPool::TrySubmit(Task task) {
  {
    MutexLock lock(&mu_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.Signal();
  return true;
}

void RefreshPool::Run() {
  for (;;) {
    Task task;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(/*cancelled=*/false);
  }
}

}  // namespace tempo::cache::internal
