// LateOrigin: an Origin that forwards to one opened by a retrying thread.
#include "serve/late_origin.h"

#include <atomic>
#include <thread>
#include <utility>

#include "common/logging.h"
#include "common/mutex.h"

namespace tempo::serve {
namespace {

class LateOrigin final : public origin::Origin, public LateOpening {
 public:
  LateOrigin(OriginOpener open, std::chrono::milliseconds retry, Status first_failure)
      : open_(std::move(open)), retry_(retry), failure_(std::move(first_failure)) {
    Log(LogLevel::kWarn, "origin",
        "the store is not reachable yet, retrying every " + std::to_string(retry_.count()) +
            " ms: " + failure_.message());
    thread_ = std::thread([this] { Retry(); });
  }

  ~LateOrigin() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }

  using origin::Origin::Apply;
  using origin::Origin::ApplyBatch;

  bool opened() const override { return inner_.load(std::memory_order_acquire) != nullptr; }

  std::string Reason() const override {
    MutexLock lock(&mu_);
    return "the store is not reachable yet: " + failure_.message();
  }

  Result<origin::ApplyOutcome> Apply(const events::Event& event,
                                     std::vector<origin::SliceKey>* touched) override {
    if (auto* o = Inner()) return o->Apply(event, touched);
    return NotOpen();
  }
  Status ApplyBatch(std::span<const events::Event* const> events,
                    std::vector<origin::ApplyResult>* results,
                    std::vector<origin::SliceKey>* touched, bool record_pending) override {
    if (auto* o = Inner()) return o->ApplyBatch(events, results, touched, record_pending);
    return NotOpen();
  }
  Result<std::vector<origin::SliceTouch>> PendingInvalidations() override {
    if (auto* o = Inner()) return o->PendingInvalidations();
    return NotOpen();
  }
  Status ClearPendingInvalidations() override {
    if (auto* o = Inner()) return o->ClearPendingInvalidations();
    return NotOpen();
  }
  Status Sync() override {
    if (auto* o = Inner()) return o->Sync();
    return NotOpen();
  }
  Status CatchUp() override {
    if (auto* o = Inner()) return o->CatchUp();
    return NotOpen();
  }
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& partition,
                                             std::string_view scope) override {
    if (auto* o = Inner()) return o->ReadScope(partition, scope);
    return NotOpen();
  }
  Result<bool> TenantKnown(std::string_view tenant) override {
    if (auto* o = Inner()) return o->TenantKnown(tenant);
    return NotOpen();
  }
  Status ForEachRecord(const std::function<Status(const origin::StoredRecord&)>& fn) override {
    if (auto* o = Inner()) return o->ForEachRecord(fn);
    return NotOpen();
  }

 private:
  origin::Origin* Inner() const { return inner_.load(std::memory_order_acquire); }
  Status NotOpen() const { return Status::Unavailable(Reason()); }

  void Retry() {
    for (;;) {
      {
        MutexLock lock(&mu_);
        const auto until = std::chrono::steady_clock::now() + retry_;
        while (!stopping_ && std::chrono::steady_clock::now() < until) cv_.WaitUntil(&mu_, until);
        if (stopping_) return;
      }
      Result<std::unique_ptr<origin::Origin>> opened = open_();
      if (opened.ok()) {
        owned_ = std::move(opened).value();
        inner_.store(owned_.get(), std::memory_order_release);
        LogLine("origin", "the store is reachable: opened");
        return;
      }
      MutexLock lock(&mu_);
      failure_ = opened.status();
    }
  }

  const OriginOpener open_;
  const std::chrono::milliseconds retry_;
  mutable Mutex mu_;
  CondVar cv_;
  Status failure_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  // Set once by the retrying thread, before inner_ publishes it.
  std::unique_ptr<origin::Origin> owned_;
  std::atomic<origin::Origin*> inner_{nullptr};
  std::thread thread_;
};

// An Unavailable that waiting cannot cure: the server answered and refused
// us (a certificate it or we reject, a password, pg_hba.conf, a database or
// role that does not exist). libpq reports them as failed connections too.
bool IsRefusal(const Status& status) {
  for (std::string_view marker :
       {"certificate", "SSL error", "authentication failed", "pg_hba.conf", "does not exist"}) {
    if (status.message().find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<origin::Origin>> OpenLate(const OriginOpener& open,
                                                 std::chrono::milliseconds retry,
                                                 const LateOpening** opening) {
  if (opening != nullptr) *opening = nullptr;
  Result<std::unique_ptr<origin::Origin>> opened = open();
  if (opened.ok() || opened.status().code() != Status::Code::kUnavailable ||
      IsRefusal(opened.status())) {
    return opened;
  }
  auto late = std::make_unique<LateOrigin>(open, retry, opened.status());
  if (opening != nullptr) *opening = late.get();
  return std::unique_ptr<origin::Origin>(std::move(late));
}

}  // namespace tempo::serve
