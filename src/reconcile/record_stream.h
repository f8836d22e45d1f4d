// The records of one side of a reconciliation, in record-key order: where
// they come from (a RecordSource: an origin store, an export file) and the
// pull-style RecordStream that reads a source on its own thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "events/record.h"
#include "origin/origin.h"

namespace tempo::reconcile {

// Compares two record keys in record-key order (origin.h, ForEachRecord):
// tenant, then kind name ("experiment" < "module" < "template"), then id,
// strings compared bytewise. Negative, zero or positive, as memcmp.
int CompareRecordKeys(const events::RecordKey& a, const events::RecordKey& b);

// "tenant/kind/id", the record key as the event stream's message key spells
// it (SPEC §6), for messages and reports.
std::string RecordKeyName(const events::RecordKey& key);

// Takes one record; a non-OK Status stops the source, which returns it.
using RecordSink = std::function<Status(const origin::StoredRecord&)>;

// Pushes every record of one side (live records and tombstones) to the sink
// in record-key order, each key once, and returns OK at the end, the sink's
// first non-OK Status, or why reading failed.
using RecordSource = std::function<Status(const RecordSink&)>;

// The records of `store` (Origin::ForEachRecord). `store` must outlive every
// call of the source.
RecordSource OriginRecords(origin::Origin* store);

// Reads a RecordSource on a thread of its own, a few batches ahead of the
// reader: the two sides of a reconciliation are read at once, and the
// decoding and tallying of each side run beside the merge-join. Memory is
// bounded by kBatches * kBatchRecords records whatever the side's size;
// records are copied into reused slots, so a long run allocates nothing per
// record once the slots have grown.
//
// Not thread-safe: one reader calls Next(). The observer runs on the
// stream's thread.
class RecordStream {
 public:
  // Called on the stream's thread with every record, in order, before the
  // reader can see it; what it writes is visible to the reader once Next()
  // has reported the end of the stream.
  using Observer = std::function<void(const origin::StoredRecord&)>;

  // Records per batch handed from the stream's thread to the reader, and
  // batches in flight (filled or being filled). 4 x 512 records of ~600
  // bytes is ~1.2 MB a side; larger batches did not read a 1M-record
  // store faster.
  static constexpr size_t kBatchRecords = 512;
  static constexpr size_t kBatches = 4;

  // Starts reading `source` at once. `observer` may be empty.
  RecordStream(RecordSource source, Observer observer);
  // Stops the source if it is still running (its sink then fails) and waits for its thread.
  ~RecordStream();
  RecordStream(const RecordStream&) = delete;
  RecordStream& operator=(const RecordStream&) = delete;

  // Sets *record to the next record, or to nullptr at the end of the stream.
  // The record stays valid until the next call. A non-OK Status when the
  // source failed or listed a key that is not after the one before it
  // (Corruption); the stream is over then.
  [[nodiscard]] Status Next(const origin::StoredRecord** record);

 private:
  struct Batch {
    std::vector<origin::StoredRecord> records{kBatchRecords};
    size_t size = 0;
  };

  void Run(const RecordSource& source);
  // The sink on the stream's thread: copies into the batch being filled.
  Status Accept(const origin::StoredRecord& record);
  // Hands the batch being filled to the reader and takes an empty one;
  // false when the stream was cancelled.
  bool HandOff();

  const Observer observer_;

  // The stream's thread only.
  Batch* filling_ = nullptr;
  events::RecordKey previous_key_;
  bool has_previous_ = false;

  // The reader only.
  Batch* reading_ = nullptr;
  size_t reading_index_ = 0;
  bool finished_ = false;  // the end (or the failure) was reported

  std::vector<std::unique_ptr<Batch>> batches_;  // owns every batch
  Mutex mu_;
  CondVar changed_;
  std::vector<Batch*> empty_ GUARDED_BY(mu_);
  std::vector<Batch*> full_ GUARDED_BY(mu_);  // FIFO: taken from the front
  bool done_ GUARDED_BY(mu_) = false;         // the source returned
  bool cancelled_ GUARDED_BY(mu_) = false;    // the reader went away
  Status status_ GUARDED_BY(mu_);             // what the source returned

  std::thread thread_;  // last: started once everything above is built
};

}  // namespace tempo::reconcile
