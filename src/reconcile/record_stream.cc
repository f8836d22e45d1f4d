// RecordStream and the record-key order (record_stream.h).
#include "reconcile/record_stream.h"

#include <simdjson.h>

#include <string_view>
#include <utility>

namespace tempo::reconcile {
namespace {

// Kinds in the order of their names, as record-key order sorts them.
int KindRank(events::Kind kind) {
  switch (kind) {
    case events::Kind::kExperiment:
      return 0;
    case events::Kind::kModule:
      return 1;
    case events::Kind::kTemplate:
      return 2;
  }
  return 3;
}

// Copies `from` into `to`, reusing `to`'s buffers. The record JSON keeps
// SIMDJSON_PADDING spare bytes of capacity, so that readers of the slot can
// parse it in place (partitions.h).
void CopyInto(const origin::StoredRecord& from, origin::StoredRecord* to) {
  to->key.tenant.assign(from.key.tenant);
  to->key.kind = from.key.kind;
  to->key.id.assign(from.key.id);
  to->version = from.version;
  to->tombstone = from.tombstone;
  to->published_at.assign(from.published_at);
  to->record_json.reserve(from.record_json.size() + simdjson::SIMDJSON_PADDING);
  to->record_json.assign(from.record_json);
}

// What the sink returns once the reader went away.
Status StoppedError() { return Status::Unavailable("reading stopped: the reconciliation ended"); }

}  // namespace

int CompareRecordKeys(const events::RecordKey& a, const events::RecordKey& b) {
  if (int c = a.tenant.compare(b.tenant); c != 0) return c;
  if (int c = KindRank(a.kind) - KindRank(b.kind); c != 0) return c;
  return a.id.compare(b.id);
}

std::string RecordKeyName(const events::RecordKey& key) {
  std::string name = key.tenant;
  name += '/';
  name += events::KindName(key.kind);
  name += '/';
  name += key.id;
  return name;
}

RecordSource OriginRecords(origin::Origin* store) {
  return [store](const RecordSink& sink) { return store->ForEachRecord(sink); };
}

RecordStream::RecordStream(RecordSource source, Observer observer)
    : observer_(std::move(observer)) {
  {
    MutexLock lock(&mu_);
    for (size_t i = 0; i < kBatches; ++i) {
      batches_.push_back(std::make_unique<Batch>());
      empty_.push_back(batches_.back().get());
    }
  }
  thread_ = std::thread([this, source = std::move(source)] { Run(source); });
}

RecordStream::~RecordStream() {
  {
    MutexLock lock(&mu_);
    cancelled_ = true;
  }
  changed_.SignalAll();
  thread_.join();
}

void RecordStream::Run(const RecordSource& source) {
  {
    MutexLock lock(&mu_);
    filling_ = empty_.back();
    empty_.pop_back();
  }
  filling_->size = 0;
  Status status = source([this](const origin::StoredRecord& r) { return Accept(r); });
  MutexLock lock(&mu_);
  if (filling_ != nullptr && filling_->size > 0) full_.push_back(filling_);
  filling_ = nullptr;
  done_ = true;
  status_ = std::move(status);
  changed_.SignalAll();
}

Status RecordStream::Accept(const origin::StoredRecord& record) {
  if (filling_ == nullptr) return StoppedError();  // called again after it said stop
  if (has_previous_ && CompareRecordKeys(previous_key_, record.key) >= 0) {
    return Status::Corruption("records out of record-key order: " + RecordKeyName(record.key) +
                              " after " + RecordKeyName(previous_key_));
  }
  origin::StoredRecord& slot = filling_->records[filling_->size];
  CopyInto(record, &slot);
  previous_key_.tenant.assign(record.key.tenant);
  previous_key_.kind = record.key.kind;
  previous_key_.id.assign(record.key.id);
  has_previous_ = true;
  if (observer_) observer_(slot);
  if (++filling_->size == kBatchRecords && !HandOff()) return StoppedError();
  return Status::OK();
}

bool RecordStream::HandOff() {
  MutexLock lock(&mu_);
  full_.push_back(filling_);
  filling_ = nullptr;
  changed_.SignalAll();
  while (empty_.empty() && !cancelled_) changed_.Wait(&mu_);
  if (cancelled_) return false;
  filling_ = empty_.back();
  empty_.pop_back();
  filling_->size = 0;
  return true;
}

Status RecordStream::Next(const origin::StoredRecord** record) {
  *record = nullptr;
  if (reading_ != nullptr && reading_index_ < reading_->size) {
    *record = &reading_->records[reading_index_++];
    return Status::OK();
  }
  if (finished_) return Status::OK();
  MutexLock lock(&mu_);
  if (reading_ != nullptr) {  // used up: back to the stream's thread
    empty_.push_back(reading_);
    reading_ = nullptr;
    changed_.SignalAll();
  }
  while (full_.empty() && !done_) changed_.Wait(&mu_);
  // A failure is reported at once, without the batches read before it.
  if (full_.empty() || !status_.ok()) {
    finished_ = true;
    return status_;
  }
  reading_ = full_.front();
  full_.erase(full_.begin());
  reading_index_ = 0;
  *record = &reading_->records[reading_index_++];
  return Status::OK();
}

}  // namespace tempo::reconcile
