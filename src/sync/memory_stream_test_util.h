// Test utility: an in-memory implementation of the stream interfaces
// (stream/stream.h) with consumer-group commit positions, failure injection
// and a journal of operations, for tests and benchmarks of the code above
// stream.h. Not a product stream: the embedded log (src/log/) and Kafka
// (src/kafka/) are.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/stream.h"

namespace tempo::sync::testing {

// Topics of partitions of messages, the committed positions of one consumer
// group, and a journal that test doubles append to ("send <topic>",
// "flush", "commit", and whatever a test notes), so that tests can check the
// order of operations. Thread-safe.
class MemoryLog {
 public:
  // Appends a message to `topic`/`partition`; returns its offset.
  int64_t Append(std::string_view topic, int32_t partition, std::string_view key,
                 std::string_view value, std::vector<stream::Header> headers = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<stream::Message>& part = PartitionLocked(topic, partition);
    const auto offset = static_cast<int64_t>(part.size());
    part.push_back({std::string(topic), partition, offset, std::string(key), std::string(value),
                    std::move(headers)});
    cv_.notify_all();
    return offset;
  }

  // Every message of `topic`, partition by partition, in offset order.
  std::vector<stream::Message> Read(std::string_view topic) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<stream::Message> out;
    auto it = topics_.find(topic);
    if (it == topics_.end()) return out;
    for (const auto& part : it->second) out.insert(out.end(), part.begin(), part.end());
    return out;
  }

  // The group's committed next offset of `topic`/`partition` (0: none).
  int64_t Committed(std::string_view topic, int32_t partition) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = committed_.find({std::string(topic), partition});
    return it == committed_.end() ? 0 : it->second;
  }

  void Note(std::string entry) {
    std::lock_guard<std::mutex> lock(mu_);
    journal_.push_back(std::move(entry));
  }
  std::vector<std::string> Journal() const {
    std::lock_guard<std::mutex> lock(mu_);
    return journal_;
  }

 private:
  friend class MemoryConsumer;

  std::vector<stream::Message>& PartitionLocked(std::string_view topic, int32_t partition) {
    auto& parts = topics_[std::string(topic)];
    if (parts.size() <= static_cast<size_t>(partition)) parts.resize(partition + 1);
    return parts[partition];
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;  // notified on Append
  std::map<std::string, std::vector<std::vector<stream::Message>>, std::less<>> topics_;
  std::map<std::pair<std::string, int32_t>, int64_t> committed_;
  std::vector<std::string> journal_;
};

// A group member that owns every partition of its topics. It starts at the
// group's committed positions, so a new MemoryConsumer on the same log is a
// restart after a crash.
class MemoryConsumer final : public stream::Consumer {
 public:
  MemoryConsumer(MemoryLog* log, std::vector<std::string> topics)
      : log_(log), topics_(std::move(topics)) {
    std::lock_guard<std::mutex> lock(log_->mu_);
    for (const auto& [key, next] : log_->committed_) positions_[key] = next;
  }

  // Commit fails with Unavailable this many more times (nothing recorded).
  void FailCommits(int n) { fail_commits_ = n; }
  // Poll fails with `status` this many more times (nothing consumed).
  void FailPolls(int n, Status status) {
    fail_polls_ = n;
    poll_error_ = std::move(status);
  }

  Result<std::vector<stream::Message>> Poll(size_t max_messages,
                                            std::chrono::milliseconds timeout) override {
    if (fail_polls_ > 0) {
      --fail_polls_;
      return poll_error_;
    }
    std::unique_lock<std::mutex> lock(log_->mu_);
    std::vector<stream::Message> out;
    log_->cv_.wait_for(lock, timeout, [&] { return AvailableLocked() > 0; });
    // Round-robin over the partitions, one message each per turn, as a
    // broker interleaves fetches.
    bool progressed = true;
    while (out.size() < max_messages && progressed) {
      progressed = false;
      for (const std::string& topic : topics_) {
        auto it = log_->topics_.find(topic);
        if (it == log_->topics_.end()) continue;
        for (size_t p = 0; p < it->second.size() && out.size() < max_messages; ++p) {
          int64_t& pos = positions_[{topic, static_cast<int32_t>(p)}];
          if (pos >= static_cast<int64_t>(it->second[p].size())) continue;
          out.push_back(it->second[p][pos++]);
          progressed = true;
        }
      }
    }
    return out;
  }

  Status Commit(const std::vector<stream::Message>& processed) override {
    log_->Note("commit");
    if (fail_commits_ > 0) {
      --fail_commits_;
      return Status::Unavailable("memory stream: commit failed (injected)");
    }
    std::lock_guard<std::mutex> lock(log_->mu_);
    for (const stream::Message& m : processed) {
      int64_t& next = log_->committed_[{m.topic, m.partition}];
      next = std::max(next, m.offset + 1);
    }
    return Status::OK();
  }

  int64_t Lag() override {
    std::lock_guard<std::mutex> lock(log_->mu_);
    return AvailableLocked();
  }

 private:
  int64_t AvailableLocked() {
    int64_t n = 0;
    for (const std::string& topic : topics_) {
      auto it = log_->topics_.find(topic);
      if (it == log_->topics_.end()) continue;
      for (size_t p = 0; p < it->second.size(); ++p) {
        n += static_cast<int64_t>(it->second[p].size()) -
             positions_[{topic, static_cast<int32_t>(p)}];
      }
    }
    return n;
  }

  MemoryLog* const log_;
  const std::vector<std::string> topics_;
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;
  int fail_commits_ = 0;
  int fail_polls_ = 0;
  Status poll_error_;
};

// Queues sent messages and appends them to partition 0 of their topics on
// Flush. Failure injection: a bounded queue (Send returns Unavailable when
// full) and failing Flushes, which lose the queued messages as a broker
// outage may.
class MemoryProducer final : public stream::Producer {
 public:
  explicit MemoryProducer(MemoryLog* log, size_t queue_capacity = SIZE_MAX)
      : log_(log), capacity_(queue_capacity) {}

  // Flush fails with IOError this many more times.
  void FailFlushes(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_flushes_ = n;
  }

  Status Send(std::string_view topic, std::string_view key, std::string_view value,
              const std::vector<stream::Header>& headers) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= capacity_) return Status::Unavailable("memory stream: queue full");
    log_->Note("send " + std::string(topic));
    queue_.push_back({std::string(topic), 0, 0, std::string(key), std::string(value), headers});
    return Status::OK();
  }

  Status Flush(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    log_->Note("flush");
    std::vector<stream::Message> queued = std::move(queue_);
    queue_.clear();
    if (fail_flushes_ > 0) {
      --fail_flushes_;
      return Status::IOError("memory stream: delivery failed (injected)");
    }
    for (stream::Message& m : queued) {
      log_->Append(m.topic, 0, m.key, m.value, std::move(m.headers));
    }
    return Status::OK();
  }

 private:
  MemoryLog* const log_;
  const size_t capacity_;
  std::mutex mu_;
  std::vector<stream::Message> queue_;
  int fail_flushes_ = 0;
};

}  // namespace tempo::sync::testing
