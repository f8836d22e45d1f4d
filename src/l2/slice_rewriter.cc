// SliceRewriter: L2 rewrites after each sync batch.
#include "l2/slice_rewriter.h"

#include <utility>

namespace tempo::l2 {

SliceRewriter::SliceRewriter(origin::Origin* origin, L2Client* l2,
                             std::function<void(const std::string&)> log)
    : origin_(origin), l2_(l2), log_(std::move(log)) {}

void SliceRewriter::Rewrite(const std::vector<origin::SliceKey>& slices) {
  for (const origin::SliceKey& slice : slices) {
    auto rows = origin_->ReadScope(slice.partition, slice.scope);
    Status written = rows.ok() ? l2_->Set(slice, *rows) : rows.status();
    if (written.ok()) {
      rewritten_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (l2_->Delete(slice).ok()) {
      deleted_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    if (log_) {
      log_("L2: slice " + slice.partition.tenant + "/" + slice.partition.channel + "/" +
           slice.partition.page_type + "/" + slice.scope +
           " neither rewritten nor deleted (stale in L2 until its ttl): " + written.ToString());
    }
  }
}

RewriteStats SliceRewriter::Stats() const {
  return RewriteStats{rewritten_.load(std::memory_order_relaxed),
                      deleted_.load(std::memory_order_relaxed),
                      failed_.load(std::memory_order_relaxed)};
}

}  // namespace tempo::l2
