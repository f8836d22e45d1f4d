// BlockingPool: threads for the request work that may wait -- on L2, on the
// origin, on another request's load of the same slice -- so that the serving
// threads never do.
//
// A serving thread answers what the caches hold at once; a request that would
// have to wait is deferred (http::Responder) and its work queued here. Every
// wait in that work ends at the request's deadline, so a thread is held at
// most that long, even when a dependency hangs. At most `max_queued` tasks
// wait for a thread; Submit refuses more, and the caller answers at once.
// Safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace tempo::api {

struct BlockingPoolStats {
  uint64_t tasks = 0;    // tasks run
  uint64_t refused = 0;  // Submit calls refused: the queue was full
  size_t queued = 0;     // tasks waiting for a thread now
};

class BlockingPool {
 public:
  BlockingPool(int threads, size_t max_queued);
  // Runs what is queued, then joins the threads.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `task` for a pool thread; false (and `task` is dropped) when
  // max_queued tasks are already waiting.
  bool Submit(std::function<void()> task);

  BlockingPoolStats Stats() const;

 private:
  void Work();

  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled when a task is queued or the pool stops
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t tasks_ GUARDED_BY(mu_) = 0;
  uint64_t refused_ GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace tempo::api
