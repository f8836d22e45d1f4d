// L2Writer: one thread draining a bounded queue of L2 fills.
#include "api/l2_writer.h"

#include <utility>

namespace tempo::api {

L2Writer::L2Writer(l2::L2Client* l2, size_t max_queued)
    : l2_(l2), max_queued_(max_queued), thread_([this] { Work(); }) {}

L2Writer::~L2Writer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void L2Writer::Fill(const origin::SliceKey& slice, const std::vector<origin::Row>& rows,
                    uint64_t repair_cas) {
  {
    MutexLock lock(&mu_);
    if (queue_.size() >= max_queued_) {
      ++dropped_;
      return;
    }
    queue_.push_back(Job{slice, rows, repair_cas});
  }
  cv_.Signal();
}

uint64_t L2Writer::dropped() const {
  MutexLock lock(&mu_);
  return dropped_;
}

void L2Writer::Work() {
  for (;;) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and nothing left to write
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // A failed fill only costs a later origin read (L2Stats counts it).
    Status status = job.repair_cas != 0 ? l2_->Repair(job.slice, job.rows, job.repair_cas)
                                        : l2_->Add(job.slice, job.rows);
    static_cast<void>(status);
  }
}

}  // namespace tempo::api
