// The embedded log's consumer (OpenLogConsumer in log.h) and EndOffset.
#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "common/logging.h"
#include "log/file.h"
#include "log/layout.h"
#include "log/log.h"
#include "log/topic_reader.h"

namespace tempo::log {
namespace {

class LogConsumer final : public stream::Consumer {
 public:
  struct Topic {
    std::string name;
    std::string dir;
    TopicReader reader;
    int64_t position;                         // offset of the next message to return
    int64_t committed;                        // -1: none
    std::unique_ptr<TopicReader> end_reader;  // for Lag, made on its first call
  };

  LogConsumer(std::string group, std::vector<Topic> topics, const LogOptions& options)
      : group_(std::move(group)), topics_(std::move(topics)), options_(options) {}

  Result<std::vector<stream::Message>> Poll(size_t max_messages,
                                            std::chrono::milliseconds timeout) override {
    std::vector<stream::Message> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // Start at a different topic each time, so that a busy topic cannot
      // starve the others.
      for (size_t i = 0; i < topics_.size() && out.size() < max_messages; ++i) {
        Topic& t = topics_[(next_topic_ + i) % topics_.size()];
        while (out.size() < max_messages) {
          stream::Message m;
          auto got = t.reader.Next(&m);
          if (!got.ok()) {
            // Hand out what was read; the damage is met again next Poll.
            if (!out.empty()) return out;
            return got.status();
          }
          if (!*got) break;
          if (m.offset > t.position) {
            Log(LogLevel::kWarn, "log",
                "group " + group_ + ", topic " + t.name + ": offsets " +
                    std::to_string(t.position) + " to " + std::to_string(m.offset - 1) +
                    " were deleted by retention before the group read them; reading on from " +
                    std::to_string(m.offset));
          }
          m.topic = t.name;
          m.partition = 0;
          t.position = m.offset + 1;
          out.push_back(std::move(m));
        }
      }
      next_topic_ = (next_topic_ + 1) % topics_.size();
      auto now = std::chrono::steady_clock::now();
      if (!out.empty() || max_messages == 0 || now >= deadline) return out;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(options_.poll_interval, deadline - now));
    }
  }

  Status Commit(const std::vector<stream::Message>& processed) override {
    std::map<Topic*, int64_t> next;
    for (const auto& m : processed) {
      auto it = std::find_if(topics_.begin(), topics_.end(),
                             [&](const Topic& t) { return t.name == m.topic; });
      if (it == topics_.end() || m.partition != 0) {
        return Status::InvalidArgument("commit of " + m.topic + "/" + std::to_string(m.partition) +
                                       ", which this consumer does not read");
      }
      int64_t& n = next[&*it];
      n = std::max(n, m.offset + 1);
    }
    for (auto& [t, offset] : next) {
      if (offset == t->committed) continue;
      Status s = EnsureDir(GroupsDir(t->dir));
      if (s.ok())
        s = WriteFileAtomically(OffsetPath(t->dir, group_), std::to_string(offset) + "\n");
      if (!s.ok()) return s;
      t->committed = offset;
    }
    return Status::OK();
  }

  int64_t Lag() override {
    int64_t lag = 0;
    for (Topic& t : topics_) {
      if (!t.end_reader) t.end_reader = std::make_unique<TopicReader>(t.dir, t.position);
      auto end = t.end_reader->SkipToEnd();
      if (!end.ok()) return -1;
      lag += std::max<int64_t>(0, *end - t.position);
    }
    return lag;
  }

 private:
  const std::string group_;
  std::vector<Topic> topics_;
  const LogOptions options_;
  size_t next_topic_ = 0;
};

}  // namespace

Result<int64_t> EndOffset(const std::string& dir, std::string_view topic) {
  Status s = CheckName("topic", topic);
  if (!s.ok()) return s;
  return TopicReader(TopicDir(dir, topic), INT64_MAX).SkipToEnd();
}

Result<std::unique_ptr<stream::Consumer>> OpenLogConsumer(const std::string& dir, std::string group,
                                                          std::vector<std::string> topics,
                                                          StartAt start_at,
                                                          const LogOptions& options) {
  Status s = CheckName("group", group);
  if (!s.ok()) return s;
  if (topics.empty()) return Status::InvalidArgument("a consumer needs at least one topic");
  if (std::set<std::string>(topics.begin(), topics.end()).size() != topics.size()) {
    return Status::InvalidArgument("a topic is listed twice");
  }
  for (const auto& topic : topics) {
    s = CheckName("topic", topic);
    if (!s.ok()) return s;
  }
  s = CheckLogDirExists(dir);
  if (!s.ok()) return s;

  std::vector<LogConsumer::Topic> states;
  for (auto& topic : topics) {
    std::string topic_dir = TopicDir(dir, topic);
    auto committed = ReadCommittedOffset(topic_dir, group);
    if (!committed.ok()) return committed.status();
    int64_t position = *committed;
    if (position < 0 && start_at == StartAt::kLatest) {
      auto end = EndOffset(dir, topic);
      if (!end.ok()) return end.status();
      position = *end;
    }
    position = std::max<int64_t>(position, 0);
    states.push_back(LogConsumer::Topic{std::move(topic), topic_dir,
                                        TopicReader(topic_dir, position), position, *committed,
                                        nullptr});
  }
  return std::unique_ptr<stream::Consumer>(
      new LogConsumer(std::move(group), std::move(states), options));
}

}  // namespace tempo::log
