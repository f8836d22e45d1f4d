// The embedded mode of `tempo serve --embedded` (SPEC §1): everything in one
// process over one data directory:
//   <data dir>/store   the origin (RocksDB, opened as the primary)
//   <data dir>/log     the embedded log (src/log/): the content topic that
//                      `tempo publish --embedded <data dir>` appends to, the
//                      DLQ and the invalidation topic
// An in-process sync loop (sync::BackgroundSync) applies the log to the
// store, with the same semantics as `tempo sync` on Kafka.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "l2/l2.h"
#include "log/log.h"
#include "origin/origin.h"
#include "sync/background_sync.h"

namespace tempo::serve {

// $TEMPO_DATA_DIR, else $XDG_DATA_HOME/tempo, else ~/.local/share/tempo.
std::string DefaultDataDir();

// The consumer group of the in-process sync loop.
inline constexpr char kEmbeddedSyncGroup[] = "tempo-embedded-sync";

// Opens the log in `log_dir`, publishes the demo data set when the content
// topic is still empty, applies the whole backlog to `origin` before
// returning (so the first request sees it), then keeps syncing in the
// background. With `l2` (may be null), touched slices are rewritten there as
// `tempo sync --l2` does. With limits in `retention` (--log-retention-bytes,
// --log-retention-hours), the sync loop deletes the log's sealed segments
// past them once every group has read them (log::EnforceRetention), at most
// once per retention.interval, between batches; the invalidation topic is
// always one of its uncommitted_topics. REQUIRES: origin and l2 outlive the
// result.
Result<std::unique_ptr<sync::BackgroundSync>> StartEmbeddedSync(
    const std::string& log_dir, origin::Origin* origin, l2::L2Client* l2,
    log::RetentionOptions retention = {});

}  // namespace tempo::serve
