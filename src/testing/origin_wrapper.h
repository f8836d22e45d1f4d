// OriginWrapper: an origin::Origin that forwards every call to another one,
// the base of test doubles (LevelDB's EnvWrapper model): a decorator that
// counts reads or injects failures overrides only the methods it changes.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "origin/origin.h"

namespace tempo::testing {

class OriginWrapper : public origin::Origin {
 public:
  // Forwards to `target`, which must outlive the wrapper.
  explicit OriginWrapper(origin::Origin* target) : target_(target) {}
  OriginWrapper(const OriginWrapper&) = delete;
  OriginWrapper& operator=(const OriginWrapper&) = delete;

  // The origin every call goes to.
  origin::Origin* target() const { return target_; }

  using origin::Origin::Apply;
  using origin::Origin::ApplyBatch;
  Result<origin::ApplyOutcome> Apply(const events::Event& event,
                                     std::vector<origin::SliceKey>* touched) override {
    return target_->Apply(event, touched);
  }
  Status ApplyBatch(std::span<const events::Event* const> events,
                    std::vector<origin::ApplyResult>* results,
                    std::vector<origin::SliceKey>* touched, bool record_pending) override {
    return target_->ApplyBatch(events, results, touched, record_pending);
  }
  Result<std::vector<origin::SliceTouch>> PendingInvalidations() override {
    return target_->PendingInvalidations();
  }
  Status ClearPendingInvalidations() override { return target_->ClearPendingInvalidations(); }
  Status Sync() override { return target_->Sync(); }
  Status CatchUp() override { return target_->CatchUp(); }
  Result<std::vector<origin::Row>> ReadScope(const origin::PartitionKey& partition,
                                             std::string_view scope) override {
    return target_->ReadScope(partition, scope);
  }
  Result<bool> TenantKnown(std::string_view tenant) override {
    return target_->TenantKnown(tenant);
  }
  Status ForEachRecord(const std::function<Status(const origin::StoredRecord&)>& fn) override {
    return target_->ForEachRecord(fn);
  }

 private:
  origin::Origin* const target_;
};

}  // namespace tempo::testing
