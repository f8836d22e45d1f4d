// L2Writer: writes the rows read from the origin back to L2, on a thread of
// its own, so that no origin-reader or request thread ever waits on L2 to
// store them.
//
// A fill is a memcached add, which never overwrites the newer value `tempo
// sync` may have written meanwhile; or, when the request found a value it
// could not decode, a compare-and-swap on what it read (L2Client::Repair),
// which replaces that value unless someone wrote the slice since. At most
// `max_queued` fills wait; more are dropped (counted): a later read fills
// the slice instead. Safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "l2/l2.h"
#include "origin/origin.h"

namespace tempo::api {

class L2Writer {
 public:
  // REQUIRES: l2 outlives the writer.
  L2Writer(l2::L2Client* l2, size_t max_queued = 1024);
  // Writes what is queued, then joins the thread.
  ~L2Writer();
  L2Writer(const L2Writer&) = delete;
  L2Writer& operator=(const L2Writer&) = delete;

  // Queues the fill of `slice` with `rows`: an add, or with a non-zero
  // `repair_cas` (L2Read::corrupt_cas) a repair.
  void Fill(const origin::SliceKey& slice, const std::vector<origin::Row>& rows,
            uint64_t repair_cas);

  // Fills dropped because the queue was full.
  uint64_t dropped() const;

 private:
  struct Job {
    origin::SliceKey slice;
    std::vector<origin::Row> rows;
    uint64_t repair_cas = 0;
  };
  void Work();

  l2::L2Client* const l2_;
  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled when a fill is queued or the writer stops
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace tempo::api
