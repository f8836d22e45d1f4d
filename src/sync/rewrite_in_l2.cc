// The L2 rewrite observer.
#include "sync/rewrite_in_l2.h"

#include <vector>

namespace tempo::sync {

Syncer::Observer RewriteInL2(l2::SliceRewriter* rewriter) {
  return [rewriter](const std::vector<SliceTouch>& touches) {
    std::vector<origin::SliceKey> slices;
    slices.reserve(touches.size());
    for (const SliceTouch& touch : touches) slices.push_back(touch.slice);
    rewriter->Rewrite(slices);
  };
}

}  // namespace tempo::sync
