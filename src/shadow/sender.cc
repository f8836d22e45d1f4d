// The shadow sender: a bounded queue of raw items filled by Offer on serving
// threads, drained by sender threads that encode NDJSON and post it.
#include "shadow/sender.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_map>
#include <utility>

#include "api/percent_decode.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "shadow/post_client.h"

namespace tempo::shadow {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kNdjsonContentType = "application/x-ndjson";
// After a failed post a sender thread waits this long before its next one,
// doubling up to the maximum while posts keep failing.
constexpr auto kMinBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::milliseconds(2000);
// How long a sender thread waits for a batch to fill before it posts what
// it has.
constexpr auto kLinger = std::chrono::milliseconds(5);
// After a post of which the receiver dropped items (its queue was full), a
// sender thread pauses this long, doubling up to the maximum while it drops.
constexpr auto kMinBusyPause = std::chrono::milliseconds(5);
constexpr auto kMaxBusyPause = std::chrono::milliseconds(500);
// Per item, what the NDJSON envelope adds to its target and body.
constexpr size_t kEnvelopeBytes = 80;

// One offered request, as Offer copied it: encoding waits for a sender thread.
struct Item {
  std::string bytes;  // the target, then the body
  uint32_t target_size = 0;
  int status = 0;
  UnixNanos at = 0;
};

// A thread's random draws for sampling: splitmix64, seeded once per thread
// from its stack address and the clock (no lock, no syscall per draw).
uint64_t NextRandom() {
  thread_local uint64_t state = 0;
  if (state == 0) {
    uint64_t local = 0;
    state = reinterpret_cast<uintptr_t>(&local) ^
            static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^ 0x9e3779b97f4a7c15;
  }
  uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Decodes a query component into `scratch` when it needs decoding.
std::optional<std::string_view> Decode(std::string_view raw, std::string* scratch) {
  if (raw.find_first_of("%+") == std::string_view::npos) return raw;
  scratch->resize(raw.size());
  return api::DecodeFormComponent(raw, scratch->data());
}

// The first `tenant` parameter of `target`'s query, percent-decoded (into
// `scratch` when it needs decoding); nullopt when there is none or it is
// malformed.
std::optional<std::string_view> FirstTenant(std::string_view target, std::string* scratch) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    const std::optional<std::string_view> name = Decode(param.substr(0, eq), scratch);
    if (!name || *name != "tenant") continue;
    if (eq == std::string_view::npos) return std::string_view();
    return Decode(param.substr(eq + 1), scratch);
  }
  return std::nullopt;
}

// True when `body` can be embedded in an NDJSON line as a JSON value: an
// object or array (Tempo's answers always are, compact) with no line break.
// Its validity is not checked: a receiver rejects a line that is not JSON.
bool IsOneLineJson(std::string_view body) {
  return !body.empty() && (body.front() == '{' || body.front() == '[') &&
         (body.back() == '}' || body.back() == ']') &&
         std::memchr(body.data(), '\n', body.size()) == nullptr;
}

// Encodes a batch of items as the NDJSON body of one post. A body equal to
// one earlier in the same post is not repeated: the line says
// "same_body_as":L (L the earlier line's number), which on hot pages cuts a
// post's bytes, and what both sides spend on them, several times over.
class PostEncoder {
 public:
  // Empties the post (keeping its buffer) for the next batch.
  void Clear() {
    text_.clear();
    lines_ = 0;
    bodies_.clear();
  }

  // Appends `item` as one line. REQUIRES: item outlives the post (the
  // encoder remembers its body's bytes until Clear).
  void Add(const Item& item) {
    ++lines_;
    const std::string_view bytes = item.bytes;
    const std::string_view body = bytes.substr(item.target_size);
    text_.append("{\"target\":");
    AppendJsonString(bytes.substr(0, item.target_size), &text_);
    text_.append(",\"status\":");
    AppendInt(item.status, &text_);
    const uint64_t hash = XXH3_64bits(body.data(), body.size());
    const auto [it, inserted] = bodies_.try_emplace(hash, lines_, body);
    if (!inserted && it->second.second == body) {
      text_.append(",\"same_body_as\":");
      AppendInt(static_cast<int64_t>(it->second.first), &text_);
    } else if (IsOneLineJson(body)) {
      // A body of Tempo's own goes as the JSON value it is (the receiver's
      // `json`): no escaping here, no unescaping there.
      text_.append(",\"json\":");
      text_.append(body);
    } else {
      text_.append(",\"body\":");
      AppendJsonString(body, &text_);
    }
    text_.append(",\"at\":\"");
    AppendRfc3339(item.at, &text_);
    text_.append("\"}\n");
  }

  const std::string& text() const { return text_; }
  // Frees a buffer that one huge item grew past `max_bytes`.
  void ReleaseIfLarger(size_t max_bytes) {
    if (text_.capacity() > max_bytes) std::string().swap(text_);
  }

 private:
  std::string text_;
  size_t lines_ = 0;
  // Body hash -> the first line with that body, and the body's bytes (a
  // hash collision with different bytes is sent in full).
  std::unordered_map<uint64_t, std::pair<size_t, std::string_view>> bodies_;
};

class SenderImpl final : public Sender {
 public:
  SenderImpl(SenderOptions options, std::vector<std::unique_ptr<PostClient>> clients)
      : options_(std::move(options)), timeout_(options_.timeout_ms) {
    (void)SetSampling(options_.sample, options_.tenants);  // Start checked the sample
    for (auto& client : clients) {
      threads_.emplace_back([this, c = std::move(client)] { Run(c.get()); });
    }
  }

  ~SenderImpl() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
      flush_deadline_ = Clock::now() + timeout_;
    }
    cv_.SignalAll();
    for (std::thread& t : threads_) t.join();
    // The threads drop what they could not post; nothing is left.
  }

  void Offer(std::string_view target, int status, std::string_view body, UnixNanos at,
             bool forced) override {
    if (!forced) {
      const Sampling& sampling = *sampling_.load(std::memory_order_acquire);
      if (!sampling.all && (sampling.threshold == 0 || NextRandom() >= sampling.threshold)) return;
      if (!sampling.tenants.empty() && !TenantWanted(sampling.tenants, target)) return;
    }
    const size_t size = target.size() + body.size();
    // A cheap look before copying: when the queue is full, drop at once.
    if (depth_.load(std::memory_order_relaxed) >= options_.queue_capacity) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Item item;
    item.bytes.reserve(size);
    item.bytes.append(target);
    item.bytes.append(body);
    item.target_size = static_cast<uint32_t>(target.size());
    item.status = status;
    item.at = at;
    bool wake = false;
    {
      MutexLock lock(&mu_);
      if (queue_.size() < options_.queue_capacity &&
          queued_bytes_ + size <= options_.queue_capacity_bytes) {
        queued_bytes_ += size;
        queue_.push_back(std::move(item));
        depth_.store(queue_.size(), std::memory_order_relaxed);
        // An idle sender waits for an empty queue to fill: the first item
        // wakes one, and each full batch another, not every item (a futex
        // call per Offer costs more than the rest of it).
        wake = idle_threads_ > 0 &&
               (queue_.size() == 1 || queue_.size() % options_.max_batch_items == 0);
      } else {
        dropped_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // A busy sender looks at the queue again when its post is done.
    if (wake) cv_.Signal();
  }

  Status SetSampling(double sample, std::vector<std::string> tenants) override {
    if (!(sample >= 0 && sample <= 1)) {
      return Status::InvalidArgument("the shadow sample must be from 0 to 1");
    }
    auto sampling = std::make_unique<Sampling>();
    sampling->tenants = std::move(tenants);
    std::sort(sampling->tenants.begin(), sampling->tenants.end());
    if (sample >= 1) {
      sampling->all = true;
    } else {
      // A draw below sample * 2^64 is in the sample.
      sampling->threshold = static_cast<uint64_t>(std::ldexp(sample, 64));
    }
    MutexLock lock(&sampling_mu_);
    sampling_.store(sampling.get(), std::memory_order_release);
    samplings_.push_back(std::move(sampling));
    return Status::OK();
  }

  void WriteMetrics(admin::MetricsWriter* out) const override {
    const SenderStats s = Stats();
    constexpr std::string_view kSent = "tempo_shadow_sent_total";
    constexpr std::string_view kSentHelp = "Shadow items offered to the receiver, by outcome.";
    out->Counter(kSent, kSentHelp, s.sent, {{"result", "sent"}});
    out->Counter(kSent, kSentHelp, s.dropped, {{"result", "dropped"}});
    out->Counter(kSent, kSentHelp, s.failed, {{"result", "failed"}});
    for (const auto& [kind, n] : s.posts_failed) {
      out->Counter("tempo_shadow_posts_failed_total", "Shadow posts that failed, by why.", n,
                   {{"kind", kind}});
    }
    constexpr std::string_view kReceiver = "tempo_shadow_receiver_items_total";
    constexpr std::string_view kReceiverHelp =
        "What the shadow receiver's answers said of the items sent.";
    out->Counter(kReceiver, kReceiverHelp, s.receiver_accepted, {{"result", "accepted"}});
    out->Counter(kReceiver, kReceiverHelp, s.receiver_rejected, {{"result", "rejected"}});
    out->Counter(kReceiver, kReceiverHelp, s.receiver_dropped, {{"result", "dropped"}});
    out->Gauge("tempo_shadow_send_queue_depth", "Shadow items waiting to be sent.", s.queued);
  }

  SenderStats Stats() const override {
    SenderStats s;
    s.sent = sent_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.receiver_accepted = receiver_accepted_.load(std::memory_order_relaxed);
    s.receiver_rejected = receiver_rejected_.load(std::memory_order_relaxed);
    s.receiver_dropped = receiver_dropped_.load(std::memory_order_relaxed);
    s.queued = depth_.load(std::memory_order_relaxed);
    MutexLock lock(&stats_mu_);
    s.posts_failed = posts_failed_;
    return s;
  }

 private:
  static bool TenantWanted(const std::vector<std::string>& tenants, std::string_view target) {
    std::string scratch;  // used only for a tenant that needs percent-decoding
    const std::optional<std::string_view> tenant = FirstTenant(target, &scratch);
    return tenant && std::binary_search(tenants.begin(), tenants.end(), *tenant);
  }

  // A sender thread: takes a batch, posts it, accounts for it, until stopped
  // and drained (or out of time to drain).
  void Run(PostClient* client) {
    std::vector<Item> batch;
    PostEncoder post;
    Clock::duration backoff = Clock::duration::zero();
    for (;;) {
      Clock::time_point deadline;
      {
        MutexLock lock(&mu_);
        if (backoff > Clock::duration::zero()) {
          const Clock::time_point until = Clock::now() + backoff;
          while (!stopping_ && Clock::now() < until) cv_.WaitUntil(&mu_, until);
        }
        while (queue_.empty() && !stopping_) {
          ++idle_threads_;
          cv_.Wait(&mu_);
          --idle_threads_;
        }
        // Wait a little for a full batch: a post per item or two would cost
        // both sides more per item than everything else (and a repeated
        // body is sent once per post). Offer wakes it when a batch is full.
        const Clock::time_point linger_until = Clock::now() + kLinger;
        while (!stopping_ && !queue_.empty() && queue_.size() < options_.max_batch_items &&
               Clock::now() < linger_until) {
          ++idle_threads_;
          cv_.WaitUntil(&mu_, linger_until);
          --idle_threads_;
        }
        if (queue_.empty()) {
          if (stopping_) return;  // and nothing left
          continue;               // another thread took it
        }
        if (stopping_ && Clock::now() >= flush_deadline_) {
          dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
          queue_.clear();
          queued_bytes_ = 0;
          depth_.store(0, std::memory_order_relaxed);
          return;
        }
        TakeBatch(&batch);
        // A post is bounded by twice the time-out (connecting, then
        // exchanging) and, once stopping, by the flush deadline.
        deadline = Clock::now() + 2 * timeout_;
        if (stopping_) deadline = std::min(deadline, flush_deadline_);
      }
      post.Clear();
      for (const Item& item : batch) post.Add(item);
      const PostOutcome outcome = client->Post(post.text(), kNdjsonContentType, deadline);
      Account(outcome, batch.size());
      post.Clear();
      batch.clear();
      // A lone huge item's buffer is not kept for the small posts after it.
      post.ReleaseIfLarger(2 * options_.max_batch_bytes);
      if (outcome.ok() && outcome.dropped.value_or(0) > 0) {
        // The receiver's queue is full: what is sent now would be dropped
        // there after costing both sides its encoding. Pause, so that the
        // queue here fills and Offer drops at once instead.
        backoff = std::clamp<Clock::duration>(2 * backoff, kMinBusyPause, kMaxBusyPause);
      } else if (outcome.ok() || outcome.failure.starts_with("status:4")) {
        backoff = Clock::duration::zero();  // the receiver is there
      } else {
        backoff = std::clamp<Clock::duration>(2 * backoff, kMinBackoff, kMaxBackoff);
      }
    }
  }

  // Moves up to max_batch_items items, and max_batch_bytes of their bytes
  // (at least one item), from the queue into `batch`.
  void TakeBatch(std::vector<Item>* batch) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t bytes = 0;
    while (!queue_.empty() && batch->size() < options_.max_batch_items) {
      const size_t size = queue_.front().bytes.size();
      if (!batch->empty() && bytes + size + kEnvelopeBytes > options_.max_batch_bytes) break;
      bytes += size + kEnvelopeBytes;
      queued_bytes_ -= size;
      batch->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    depth_.store(queue_.size(), std::memory_order_relaxed);
  }

  void Account(const PostOutcome& outcome, size_t items) {
    if (outcome.ok()) {
      sent_.fetch_add(items, std::memory_order_relaxed);
      if (outcome.accepted) receiver_accepted_.fetch_add(*outcome.accepted);
      if (outcome.rejected) receiver_rejected_.fetch_add(*outcome.rejected);
      if (outcome.dropped) receiver_dropped_.fetch_add(*outcome.dropped);
      if (failing_.exchange(false))
        LogLine("shadow", "posts to " + options_.url + " succeed again");
      return;
    }
    failed_.fetch_add(items, std::memory_order_relaxed);
    {
      MutexLock lock(&stats_mu_);
      ++posts_failed_[outcome.failure];
    }
    if (!failing_.exchange(true)) {
      Log(LogLevel::kWarn, "shadow",
          "posts to " + options_.url + " fail: " + outcome.failure + ": " + outcome.message);
    }
  }

  const SenderOptions options_;
  const std::chrono::milliseconds timeout_;
  // What Offer samples: the one in use (one load per offer), and every one
  // ever set, kept alive with the sender (a reload is rare).
  struct Sampling {
    std::vector<std::string> tenants;  // sorted; empty: all
    bool all = false;
    uint64_t threshold = 0;  // unless all: a draw below it is sampled
  };
  std::atomic<const Sampling*> sampling_{nullptr};
  Mutex sampling_mu_;
  std::vector<std::unique_ptr<Sampling>> samplings_ GUARDED_BY(sampling_mu_);

  // Offer's critical section is a push of a moved Item (a few pointers): one
  // mutex stays cheap at the serving rate (see docs/benchmarks.md).
  mutable Mutex mu_;
  CondVar cv_;  // items queued, or stopping
  std::deque<Item> queue_ GUARDED_BY(mu_);
  size_t queued_bytes_ GUARDED_BY(mu_) = 0;
  int idle_threads_ GUARDED_BY(mu_) = 0;  // sender threads waiting for items
  bool stopping_ GUARDED_BY(mu_) = false;
  Clock::time_point flush_deadline_ GUARDED_BY(mu_);
  std::atomic<size_t> depth_{0};  // queue_.size(), readable without mu_

  std::atomic<uint64_t> sent_{0}, dropped_{0}, failed_{0};
  std::atomic<uint64_t> receiver_accepted_{0}, receiver_rejected_{0}, receiver_dropped_{0};
  std::atomic<bool> failing_{false};  // the last post failed (logged once per episode)
  mutable Mutex stats_mu_;
  std::map<std::string, uint64_t> posts_failed_ GUARDED_BY(stats_mu_);

  std::vector<std::thread> threads_;  // last: they use everything above
};

}  // namespace

Result<std::unique_ptr<Sender>> Sender::Start(SenderOptions options) {
  Result<PostUrl> url = ParsePostUrl(options.url);
  if (!url.ok()) return url.status();
  if (!(options.sample >= 0 && options.sample <= 1)) {
    return Status::InvalidArgument("the shadow sample must be from 0 to 1");
  }
  if (options.timeout_ms <= 0) return Status::InvalidArgument("the shadow time-out must be > 0");
  if (options.queue_capacity == 0 || options.queue_capacity_bytes == 0 ||
      options.connections <= 0 || options.max_batch_items == 0 || options.max_batch_bytes == 0) {
    return Status::InvalidArgument(
        "shadow queue capacities, connections and batch limits must be > 0");
  }
  if (!url->tls &&
      !(options.ca_file.empty() && options.cert_file.empty() && options.key_file.empty())) {
    return Status::InvalidArgument("CA and client certificate files need an https:// URL");
  }
  std::vector<std::unique_ptr<PostClient>> clients;
  for (int i = 0; i < options.connections; ++i) {
    PostClientOptions client_options;
    client_options.url = *url;
    client_options.timeout = std::chrono::milliseconds(options.timeout_ms);
    client_options.ca_file = options.ca_file;
    client_options.cert_file = options.cert_file;
    client_options.key_file = options.key_file;
    Result<std::unique_ptr<PostClient>> client = PostClient::Create(std::move(client_options));
    if (!client.ok()) return client.status();
    clients.push_back(std::move(*client));
  }
  return std::unique_ptr<Sender>(new SenderImpl(std::move(options), std::move(clients)));
}

}  // namespace tempo::shadow
