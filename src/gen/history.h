// Version histories: the sequence of events one record goes through.
//
// A history is drawn from the record's seed alone, so the generator can emit
// its first event in one pass over the data set and its later edits, deletes
// and re-creations in later passes without remembering anything in between.
#pragma once

#include <cstdint>

namespace tempo::gen {

// Events are written in passes; a record's later events come after every
// record's first one, as edits follow an initial bulk publish.
enum Pass : uint8_t {
  kInitialPass = 0,   // the first publish of every record
  kEditPass = 1,      // edits, replays, stale and real deletes
  kRecreatePass = 2,  // re-creation after a delete
  kPassCount = 3,
};

struct HistoryStep {
  Pass pass = kInitialPass;
  bool is_delete = false;
  int64_t version = 1;
  // Which revision of the record an upsert carries: 0 is the original; each
  // edit draws its changed fields from its own revision number. A replay
  // repeats an earlier revision (identical record bytes).
  uint32_t revision = 0;
};

// How often a kind of record is edited, deleted and re-created, in percent.
struct HistoryProfile {
  int edit_percent;
  int delete_percent;
  int recreate_percent;  // of deleted records
};

// At most: 1 initial + 3 edits + 1 replay + 1 delete + 1 re-creation.
constexpr int kMaxHistorySteps = 8;

struct History {
  HistoryStep steps[kMaxHistorySteps];
  int size = 0;
};

// The events of the record with this seed, in emission order. Versions
// increase from step to step except where an edit is deliberately emitted out
// of order, replayed, or deleted at a version that is not above the live one
// (all of which a consumer must ignore, SPEC §11.14).
History DrawHistory(uint64_t record_seed, const HistoryProfile& profile);

}  // namespace tempo::gen
