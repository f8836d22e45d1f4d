// SliceRewriter: how `tempo sync` keeps L2 in step with the origin.
//
// After a batch is applied and synced, every slice it touched is rewritten in
// L2 with the origin's current rows (memcached set), before any `tempo serve`
// is told to reload it: a serve that then misses L1 finds the new value in L2
// instead of going to the origin. A slice that cannot be read or written is
// deleted instead; when even that fails (its node is down) the old value can
// live until the L2 ttl, and the failure is counted and logged.
//
// Serves fill L2 with Add (only when absent), so they never overwrite what
// this wrote, and a fill that raced with this rewrite loses.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "l2/l2.h"
#include "origin/origin.h"

namespace tempo::l2 {

struct RewriteStats {
  uint64_t rewritten = 0;  // slices written with their new rows
  uint64_t deleted = 0;    // slices deleted because they could not be written
  uint64_t failed = 0;     // slices neither written nor deleted (stale until the ttl)
};

class SliceRewriter {
 public:
  // Not owned; both must outlive the rewriter. `log` (may be empty) gets one
  // line per failure.
  SliceRewriter(origin::Origin* origin, L2Client* l2,
                std::function<void(const std::string&)> log = nullptr);

  // Rewrites (or deletes) every slice in `slices`.
  void Rewrite(const std::vector<origin::SliceKey>& slices);

  RewriteStats Stats() const;

 private:
  origin::Origin* const origin_;
  L2Client* const l2_;
  const std::function<void(const std::string&)> log_;
  std::atomic<uint64_t> rewritten_{0}, deleted_{0}, failed_{0};
};

}  // namespace tempo::l2
