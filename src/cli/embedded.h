// The embedded mode of `tempo serve --embedded` (SPEC §1): everything in one
// process over one data directory:
//   <data dir>/store   the origin (RocksDB, opened as the primary)
//   <data dir>/log     the embedded log (src/log/): the content topic that
//                      `tempo publish --embedded <data dir>` appends to, the
//                      DLQ and the invalidation topic
// An in-process sync loop (sync::Syncer) applies the log to the store, with
// the same semantics as `tempo sync` on Kafka.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "l2/l2.h"
#include "l2/slice_rewriter.h"
#include "origin/origin.h"
#include "stream/stream.h"
#include "sync/syncer.h"

namespace tempo::cli {

// $TEMPO_DATA_DIR, else $XDG_DATA_HOME/tempo, else ~/.local/share/tempo.
std::string DefaultDataDir();

// The consumer group of the in-process sync loop.
inline constexpr char kEmbeddedSyncGroup[] = "tempo-embedded-sync";

// Runs a Syncer over `log_dir` into `origin` on its own thread.
class EmbeddedSync {
 public:
  // Opens the log, publishes the demo data set when the content topic is
  // still empty, applies the whole backlog before returning (so the first
  // request sees it), then keeps syncing in the background. With `l2` (not
  // owned, may be null), touched slices are rewritten there as `tempo sync
  // --l2` does.
  static Result<std::unique_ptr<EmbeddedSync>> Start(const std::string& log_dir,
                                                     origin::Origin* origin,
                                                     l2::L2Client* l2 = nullptr);
  // Stops the loop and joins its thread.
  ~EmbeddedSync();
  EmbeddedSync(const EmbeddedSync&) = delete;
  EmbeddedSync& operator=(const EmbeddedSync&) = delete;

  sync::SyncStats Stats() const { return syncer_->Stats(); }

 private:
  EmbeddedSync() = default;

  std::unique_ptr<stream::Consumer> consumer_;
  std::unique_ptr<stream::Producer> producer_;
  std::unique_ptr<l2::SliceRewriter> rewriter_;  // with L2 only
  std::unique_ptr<sync::Syncer> syncer_;
  std::thread thread_;
};

}  // namespace tempo::cli
