// The Syncer observer that rewrites touched slices in L2 (`tempo sync --l2`
// and serve --embedded with --l2): L2 holds the new slice before any serve
// hears of the change.
#pragma once

#include "l2/slice_rewriter.h"
#include "sync/syncer.h"

namespace tempo::sync {

// An observer that has `rewriter` rewrite every touched slice.
// REQUIRES: rewriter outlives the observer.
Syncer::Observer RewriteInL2(l2::SliceRewriter* rewriter);

}  // namespace tempo::sync
