// RefreshPool: the few threads that reload expired entries in the background
// (stale-while-revalidate), fed by a bounded queue.
//
// Bounded so that an origin outage cannot pile up unbounded work: when the
// queue is full a refresh is simply not scheduled, and a later stale read
// tries again. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace tempo::cache::internal {

class RefreshPool {
 public:
  // A unit of work. Called once, with cancelled == true instead of being run
  // when the pool shuts down first.
  using Task = std::function<void(bool cancelled)>;

  // Starts `threads` (>= 1) threads; at most `queue_limit` tasks wait.
  RefreshPool(int threads, size_t queue_limit);
  // Cancels the tasks still queued and joins the threads (waiting for the
  // running tasks to finish).
  ~RefreshPool();
  RefreshPool(const RefreshPool&) = delete;
  RefreshPool& operator=(const RefreshPool&) = delete;

  // Queues `task`; false (and `task` dropped uncalled) when the queue is full.
  bool TrySubmit(Task task);

 private:
  void Run();

  const size_t queue_limit_;
  Mutex mu_;
  CondVar cv_;  // signalled when a task is queued or the pool stops
  std::deque<Task> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tempo::cache::internal
