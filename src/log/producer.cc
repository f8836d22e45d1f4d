// The embedded log's producer (OpenLogProducer in log.h): batches per topic
// in memory, appended by TopicWriter, fsynced at Flush.
#include <map>
#include <mutex>
#include <utility>

#include "common/mutex.h"
#include "log/layout.h"
#include "log/log.h"
#include "log/record.h"
#include "log/topic_writer.h"

namespace tempo::log {
namespace {

class LogProducer final : public stream::Producer {
 public:
  LogProducer(std::string dir, const LogOptions& options)
      : dir_(std::move(dir)), options_(options) {}

  ~LogProducer() override {
    // Messages sent but not flushed still reach the files (not the disk).
    MutexLock lock(&mu_);
    AppendPending(Deadline(std::chrono::milliseconds(kLockWaitMs)));
  }

  Status Send(std::string_view topic, std::string_view key, std::string_view value,
              const std::vector<stream::Header>& headers) override {
    Status s = CheckName("topic", topic);
    if (!s.ok()) return s;
    if (PayloadBytes(key, value, headers) > kMaxPayloadBytes) {
      return Status::InvalidArgument("message for " + std::string(topic) + " exceeds " +
                                     std::to_string(kMaxMessageBytes) + " bytes");
    }
    MutexLock lock(&mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end()) {
      auto writer = TopicWriter::Open(TopicDir(dir_, topic), options_.segment_bytes);
      if (!writer.ok()) return writer.status();
      it = topics_.emplace(std::string(topic), Topic{std::move(*writer), {}}).first;
    }
    Topic& t = it->second;
    AppendRecord(&t.pending, key, value, headers);
    if (t.pending.size() >= kAppendBatchBytes) {
      Note(t.writer->Append(&t.pending, Deadline(std::chrono::milliseconds(kLockWaitMs))));
      t.pending.clear();
    }
    return Status::OK();
  }

  Status Flush(std::chrono::milliseconds timeout) override {
    MutexLock lock(&mu_);
    AppendPending(Deadline(timeout));
    for (auto& [name, t] : topics_) Note(t.writer->Sync());
    return std::exchange(first_error_, Status::OK());
  }

 private:
  struct Topic {
    std::unique_ptr<TopicWriter> writer;
    std::string pending;  // unsealed records (record.h)
  };

  static std::chrono::steady_clock::time_point Deadline(std::chrono::milliseconds timeout) {
    return std::chrono::steady_clock::now() + timeout;
  }

  void AppendPending(std::chrono::steady_clock::time_point deadline) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& [name, t] : topics_) {
      Note(t.writer->Append(&t.pending, deadline));
      t.pending.clear();
    }
  }

  // Keeps the first error for Flush to report.
  void Note(Status s) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!s.ok() && first_error_.ok()) first_error_ = std::move(s);
  }

  const std::string dir_;
  const LogOptions options_;
  Mutex mu_;
  std::map<std::string, Topic, std::less<>> topics_ GUARDED_BY(mu_);
  Status first_error_ GUARDED_BY(mu_);
};

}  // namespace

Result<std::unique_ptr<stream::Producer>> OpenLogProducer(const std::string& dir,
                                                          const LogOptions& options) {
  if (options.segment_bytes == 0) return Status::InvalidArgument("segment_bytes must be > 0");
  Status s = PrepareLogDir(dir);
  if (!s.ok()) return s;
  return std::unique_ptr<stream::Producer>(new LogProducer(dir, options));
}

}  // namespace tempo::log
