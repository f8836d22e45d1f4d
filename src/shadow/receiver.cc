// The shadow receiver: a bounded queue of items, worker threads that answer
// each with the candidate and compare, and the counts behind /admin/shadow
// and /metrics.
#include "shadow/receiver.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "api/percent_decode.h"
#include "common/json.h"
#include "common/mutex.h"
#include "shadow/item.h"
#include "shadow/json_diff.h"

namespace tempo::shadow {
namespace {

namespace dom = simdjson::dom;

// The rejected lines a post's answer lists (the count is always complete).
constexpr size_t kMaxPostErrors = 100;
// Distinct tenants counted by name; the rest are counted under kOtherTenant.
// Bounds /admin/shadow and the tempo_shadow_mismatches_total series.
constexpr size_t kMaxTenants = 1000;
constexpr std::string_view kOtherTenant = "_other";
// Items whose target names no tenant (or an empty one).
constexpr std::string_view kNoTenant = "_none";
// SPEC §3: a tenant id is [A-Za-z0-9_-]{1,64}; anything else is kOtherTenant.
constexpr size_t kMaxTenantBytes = 64;
// A kept mismatch's target is cut to this many bytes.
constexpr size_t kMaxKeptTargetBytes = 1024;
// Items a worker takes from the queue under one lock (fewer when the queue
// is short, so that all workers get some).
constexpr size_t kMaxTakeItems = 64;
// A worker's parser or answer buffer grown past this by a large document is
// freed after it, so a rare huge body does not pin memory.
constexpr size_t kMaxRetainedBytes = 1 << 20;
constexpr int kMaxThreads = 64;

constexpr std::string_view kLayoutsV1 = "/api/v1/tempo/layouts";
constexpr std::string_view kLayoutsV2 = "/api/v2/tempo/layouts";

enum class Outcome { kMatch, kMismatch, kError };

struct Counts {
  uint64_t match = 0;
  uint64_t mismatch = 0;
  uint64_t error = 0;

  void Add(Outcome outcome) {
    switch (outcome) {
      case Outcome::kMatch:
        ++match;
        break;
      case Outcome::kMismatch:
        ++mismatch;
        break;
      case Outcome::kError:
        ++error;
        break;
    }
  }
};

// A map from tenant to T that holds at most kMaxTenants names plus
// kOtherTenant, where every later tenant is counted.
template <typename T>
class TenantTable {
 public:
  T& operator[](std::string_view tenant) {
    auto it = map_.find(tenant);
    if (it != map_.end()) return it->second;
    if (tenant != kOtherTenant) {
      if (names_ >= kMaxTenants) return (*this)[kOtherTenant];
      ++names_;
    }
    return map_.emplace(std::string(tenant), T()).first->second;
  }
  const std::map<std::string, T, std::less<>>& map() const { return map_; }
  void Clear() {
    map_.clear();
    names_ = 0;
  }

 private:
  std::map<std::string, T, std::less<>> map_;
  size_t names_ = 0;  // entries other than kOtherTenant
};

struct KeptMismatch {
  std::string target;
  std::string tenant;
  JsonDifference difference;
  UnixNanos at = 0;
};

bool IsTenantByte(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// The first `tenant` query parameter of `target`, percent-decoded; kNoTenant
// when there is none (or it is empty), kOtherTenant when it is not a tenant id.
std::string TenantOf(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string(kNoTenant);
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    if (param.substr(0, eq) != "tenant") continue;
    const std::string_view raw =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (raw.empty()) return std::string(kNoTenant);
    // A tenant id has no escapes to decode beyond 3 bytes a character.
    if (raw.size() > 3 * kMaxTenantBytes) return std::string(kOtherTenant);
    char buffer[3 * kMaxTenantBytes];
    std::optional<std::string_view> tenant = api::DecodeFormComponent(raw, buffer);
    if (!tenant || tenant->empty() || tenant->size() > kMaxTenantBytes ||
        !std::all_of(tenant->begin(), tenant->end(), IsTenantByte)) {
      return std::string(kOtherTenant);
    }
    return std::string(*tenant);
  }
  return std::string(kNoTenant);
}

// `text` cut to `max_bytes` on a UTF-8 character boundary.
std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

// A body that is not JSON, as a JSON string for a JsonDifference.
std::string RawBodyAsJson(std::string_view body) {
  std::string out;
  if (!api::IsValidUtf8(body)) {
    AppendJsonString("(" + std::to_string(body.size()) + " bytes, not UTF-8)", &out);
    return out;
  }
  const std::string_view cut = CutUtf8(body, kMaxDiffValueBytes);
  if (cut.size() == body.size()) {
    AppendJsonString(body, &out);
  } else {
    AppendJsonString(std::string(cut) + "...(cut)", &out);
  }
  return out;
}

void AppendField(std::string_view name, uint64_t value, std::string* out) {
  AppendJsonString(name, out);
  out->push_back(':');
  out->append(std::to_string(value));
}

void JsonAnswer(int status, std::string body, http::Response* response) {
  response->status = status;
  response->headers.clear();
  response->headers.emplace_back("Content-Type", "application/json");
  response->headers.emplace_back("Cache-Control", "no-store");
  response->body = std::move(body);
}

// What a worker thread owns: parsers and buffers reused item after item.
struct Worker {
  explicit Worker(JsonComparer c) : comparer(std::move(c)) {}

  dom::parser expected_parser;  // the legacy body
  dom::parser actual_parser;    // the candidate's body
  http::Response response;
  JsonComparer comparer;
  std::vector<Item> batch;
  JsonDifference difference;
  std::thread thread;
};

class ReceiverImpl final : public Receiver {
 public:
  ReceiverImpl(ReceiverOptions options, Candidate candidate, const JsonComparer& comparer)
      : options_(std::move(options)), candidate_(std::move(candidate)) {
    mismatches_.resize(options_.keep);
    for (int i = 0; i < options_.threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(comparer));
    }
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      w->thread = std::thread([this, w] { Run(w); });
    }
  }

  ~ReceiverImpl() override {
    {
      MutexLock lock(&mu_);
      stop_ = true;
      queue_.clear();
    }
    stopping_.store(true, std::memory_order_relaxed);
    work_cv_.SignalAll();
    // Bounded by the candidate calls in flight (one per worker): each
    // worker drops the rest of its batch.
    for (auto& worker : workers_) worker->thread.join();
  }

  void HandlePost(const http::Request& request, http::Response* response) override {
    if (request.body.size() > options_.max_post_bytes) {
      // The HTTP layer refuses these first; this guards direct callers.
      JsonAnswer(413,
                 R"({"error":{"code":"payload_too_large","message":"the post is larger than )" +
                     std::to_string(options_.max_post_bytes) + R"( bytes"}})",
                 response);
      return;
    }
    ParsedPost post = ParsePost(request.body, NowUnixNanos(), kMaxPostErrors);
    const size_t accepted = post.items.size();
    size_t queued = 0;
    {
      MutexLock lock(&mu_);
      if (!stop_) {
        const size_t room =
            options_.queue_capacity - std::min(options_.queue_capacity, queue_.size());
        queued = std::min(room, accepted);
        for (size_t i = 0; i < queued; ++i) queue_.push_back(std::move(post.items[i]));
      }
    }
    if (queued == 1) {
      work_cv_.Signal();
    } else if (queued > 1) {
      work_cv_.SignalAll();
    }
    const size_t dropped = accepted - queued;
    if (dropped > 0) {
      MutexLock lock(&stats_mu_);
      view_dropped_ += dropped;
      total_dropped_ += dropped;
    }

    std::string body = "{";
    AppendField("accepted", accepted, &body);
    body.push_back(',');
    AppendField("rejected", post.rejected, &body);
    body.push_back(',');
    AppendField("dropped", dropped, &body);
    body.append(",\"errors\":[");
    for (size_t i = 0; i < post.errors.size(); ++i) {
      if (i > 0) body.push_back(',');
      body.push_back('{');
      AppendField("line", post.errors[i].line, &body);
      body.append(",\"message\":");
      AppendJsonString(post.errors[i].message, &body);
      body.push_back('}');
    }
    body.append("]}");
    JsonAnswer(202, std::move(body), response);
  }

  void HandleStatus(http::Response* response) const override {
    const size_t depth = QueueDepth();
    std::string body = "{\"counts\":{";
    {
      MutexLock lock(&stats_mu_);
      AppendCounts(view_, &body);
      body.push_back(',');
      AppendField("dropped", view_dropped_, &body);
      body.append("},\"tenants\":{");
      bool first = true;
      for (const auto& [tenant, counts] : tenants_.map()) {
        if (!first) body.push_back(',');
        first = false;
        AppendJsonString(tenant, &body);
        body.append(":{");
        AppendCounts(counts, &body);
        body.push_back('}');
      }
      body.append("},\"mismatches\":[");
      for (size_t i = 0; i < kept_; ++i) {
        // Newest first: the slot before next_, going back.
        const size_t slot = (next_ + mismatches_.size() - 1 - i) % mismatches_.size();
        const KeptMismatch& m = mismatches_[slot];
        if (i > 0) body.push_back(',');
        body.append("{\"target\":");
        AppendJsonString(m.target, &body);
        body.append(",\"tenant\":");
        AppendJsonString(m.tenant, &body);
        body.append(",\"path\":");
        AppendJsonString(m.difference.path, &body);
        // Both keys are always there; a side without a value at `path` (a
        // member or element only the other side has) is null and named in
        // `missing`, so it is not mistaken for a JSON null.
        body.append(",\"expected\":").append(m.difference.expected.value_or("null"));
        body.append(",\"actual\":").append(m.difference.actual.value_or("null"));
        if (!m.difference.expected) body.append(",\"missing\":\"expected\"");
        if (!m.difference.actual) body.append(",\"missing\":\"actual\"");
        body.append(",\"at\":");
        AppendJsonString(FormatRfc3339(m.at), &body);
        body.push_back('}');
      }
    }
    body.append("],\"queue\":{");
    AppendField("depth", depth, &body);
    body.push_back(',');
    AppendField("capacity", options_.queue_capacity, &body);
    body.append("}}");
    JsonAnswer(200, std::move(body), response);
  }

  void HandleReset(http::Response* response) override {
    {
      MutexLock lock(&stats_mu_);
      view_ = Counts();
      view_dropped_ = 0;
      tenants_.Clear();
      for (KeptMismatch& m : mismatches_) m = KeptMismatch();
      kept_ = 0;
      next_ = 0;
    }
    JsonAnswer(200, "{\"reset\":true}", response);
  }

  void WriteMetrics(admin::MetricsWriter* out) const override {
    const size_t depth = QueueDepth();
    constexpr std::string_view kItemsHelp =
        "Shadow items received, by comparison result (match, mismatch, error, dropped).";
    constexpr std::string_view kMismatchesHelp = "Shadow items whose answers differed, by tenant.";
    MutexLock lock(&stats_mu_);
    out->Counter("tempo_shadow_items_total", kItemsHelp, total_.match, {{"result", "match"}});
    out->Counter("tempo_shadow_items_total", kItemsHelp, total_.mismatch, {{"result", "mismatch"}});
    out->Counter("tempo_shadow_items_total", kItemsHelp, total_.error, {{"result", "error"}});
    out->Counter("tempo_shadow_items_total", kItemsHelp, total_dropped_, {{"result", "dropped"}});
    for (const auto& [tenant, n] : mismatches_total_.map()) {
      out->Counter("tempo_shadow_mismatches_total", kMismatchesHelp, n, {{"tenant", tenant}});
    }
    out->Gauge("tempo_shadow_queue_depth", "Shadow items waiting to be compared.", depth);
    out->Gauge("tempo_shadow_queue_capacity", "Shadow items the queue holds (--shadow-queue).",
               options_.queue_capacity);
  }

  void WaitIdle() override {
    MutexLock lock(&mu_);
    while (!queue_.empty() || busy_ > 0) idle_cv_.Wait(&mu_);
  }

 private:
  size_t QueueDepth() const {
    MutexLock lock(&mu_);
    return queue_.size();
  }

  static void AppendCounts(const Counts& counts, std::string* out) {
    AppendField("match", counts.match, out);
    out->push_back(',');
    AppendField("mismatch", counts.mismatch, out);
    out->push_back(',');
    AppendField("error", counts.error, out);
  }

  void Run(Worker* w) {
    for (;;) {
      w->batch.clear();
      {
        MutexLock lock(&mu_);
        while (!stop_ && queue_.empty()) work_cv_.Wait(&mu_);
        if (stop_) return;
        const size_t share = std::max<size_t>(1, queue_.size() / workers_.size());
        const size_t take = std::min({queue_.size(), share, kMaxTakeItems});
        for (size_t i = 0; i < take; ++i) {
          w->batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        ++busy_;
      }
      for (Item& item : w->batch) {
        if (stopping_.load(std::memory_order_relaxed)) break;
        const Outcome outcome = Compare(item, w);
        Record(item, outcome, w->difference);
      }
      bool idle = false;
      {
        MutexLock lock(&mu_);
        --busy_;
        idle = busy_ == 0 && queue_.empty();
      }
      if (idle) idle_cv_.SignalAll();
    }
  }

  Outcome Compare(const Item& item, Worker* w) {
    const std::string_view path = std::string_view(item.target).substr(0, item.target.find('?'));
    if (path != kLayoutsV1 && path != kLayoutsV2) return Outcome::kError;
    dom::element expected;
    if (w->expected_parser.parse(item.body).get(expected)) {
      Trim(w);
      return Outcome::kError;
    }

    http::Response& response = w->response;
    response.status = 200;
    response.headers.clear();
    response.body.clear();
    response.omit_body = false;
    candidate_(item.target, item.at, &response);

    Outcome outcome = Outcome::kMatch;
    JsonDifference& difference = w->difference;
    dom::element actual;
    if (response.status != item.status) {
      difference.path.clear();
      difference.expected = std::to_string(item.status);
      difference.actual = std::to_string(response.status);
      outcome = Outcome::kMismatch;
    } else if (w->actual_parser.parse(response.body).get(actual)) {
      difference.path.clear();
      difference.expected = CutJsonText(simdjson::to_string(expected));
      difference.actual = RawBodyAsJson(response.body);
      outcome = Outcome::kMismatch;
    } else if (!w->comparer.Equal(expected, actual, &difference)) {
      outcome = Outcome::kMismatch;
    }
    Trim(w);
    return outcome;
  }

  // Frees what a large document grew (kMaxRetainedBytes).
  static void Trim(Worker* w) {
    if (w->expected_parser.capacity() > kMaxRetainedBytes) w->expected_parser = dom::parser();
    if (w->actual_parser.capacity() > kMaxRetainedBytes) w->actual_parser = dom::parser();
    if (w->response.body.capacity() > kMaxRetainedBytes) std::string().swap(w->response.body);
  }

  void Record(const Item& item, Outcome outcome, const JsonDifference& difference) {
    const std::string tenant = TenantOf(item.target);
    MutexLock lock(&stats_mu_);
    view_.Add(outcome);
    total_.Add(outcome);
    tenants_[tenant].Add(outcome);
    if (outcome != Outcome::kMismatch) return;
    ++mismatches_total_[tenant];
    if (mismatches_.empty()) return;
    KeptMismatch& m = mismatches_[next_];
    m.target.assign(CutUtf8(item.target, kMaxKeptTargetBytes));
    m.tenant = tenant;
    m.difference = difference;
    m.at = item.at;
    next_ = (next_ + 1) % mismatches_.size();
    kept_ = std::min(kept_ + 1, mismatches_.size());
  }

  const ReceiverOptions options_;
  const Candidate candidate_;
  std::vector<std::unique_ptr<Worker>> workers_;  // fixed after construction
  std::atomic<bool> stopping_{false};             // read by workers between items

  mutable Mutex mu_;
  CondVar work_cv_;  // an item was queued, or stop_
  CondVar idle_cv_;  // the queue emptied with no worker busy
  std::deque<Item> queue_ GUARDED_BY(mu_);
  int busy_ GUARDED_BY(mu_) = 0;  // workers comparing a batch
  bool stop_ GUARDED_BY(mu_) = false;

  mutable Mutex stats_mu_;
  // What /admin/shadow shows; zeroed by HandleReset.
  Counts view_ GUARDED_BY(stats_mu_);
  uint64_t view_dropped_ GUARDED_BY(stats_mu_) = 0;
  TenantTable<Counts> tenants_ GUARDED_BY(stats_mu_);
  // A ring of options_.keep slots: next_ is where the next mismatch goes,
  // kept_ how many slots hold one.
  std::vector<KeptMismatch> mismatches_ GUARDED_BY(stats_mu_);
  size_t next_ GUARDED_BY(stats_mu_) = 0;
  size_t kept_ GUARDED_BY(stats_mu_) = 0;
  // What /metrics shows: monotonic, never reset (Prometheus counters).
  Counts total_ GUARDED_BY(stats_mu_);
  uint64_t total_dropped_ GUARDED_BY(stats_mu_) = 0;
  TenantTable<uint64_t> mismatches_total_ GUARDED_BY(stats_mu_);
};

}  // namespace

Result<std::unique_ptr<Receiver>> Receiver::Create(ReceiverOptions options, Candidate candidate) {
  if (options.queue_capacity == 0) {
    return Status::InvalidArgument("--shadow-queue must be at least 1");
  }
  if (options.keep == 0) return Status::InvalidArgument("--shadow-keep must be at least 1");
  if (options.max_post_bytes == 0) return Status::InvalidArgument("max_post_bytes must be > 0");
  if (options.threads < 1 || options.threads > kMaxThreads) {
    return Status::InvalidArgument("--shadow-threads must be 1-" + std::to_string(kMaxThreads));
  }
  if (!candidate) return Status::InvalidArgument("shadow receiver: no candidate");
  Result<JsonComparer> comparer = JsonComparer::Create(options.ignore);
  if (!comparer.ok()) return comparer.status();
  return std::unique_ptr<Receiver>(
      new ReceiverImpl(std::move(options), std::move(candidate), *comparer));
}

}  // namespace tempo::shadow
