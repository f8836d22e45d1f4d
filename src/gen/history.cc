// Version histories.
#include "gen/history.h"

#include <utility>

#include "gen/rng.h"

namespace tempo::gen {
namespace {

constexpr uint64_t kHistorySalt = 0x6869'7374'6f72'7900ULL;  // "history"
// A few records carry versions near 2^62: consumers must keep 64-bit versions.
constexpr int64_t kHugeVersionBase = int64_t{1} << 62;

}  // namespace

History DrawHistory(uint64_t record_seed, const HistoryProfile& profile) {
  Rng h(Mix64(record_seed ^ kHistorySalt));
  History out;
  auto add = [&out](HistoryStep step) { out.steps[out.size++] = step; };

  int64_t version = h.Percent(85) ? h.Between(1, 3) : h.Between(5, 40);
  if (h.PerMille(2)) version = kHugeVersionBase + h.Between(0, 999);
  uint32_t revision = 0;
  add({kInitialPass, false, version, 0});

  if (h.Percent(profile.edit_percent)) {
    const int edits = static_cast<int>(h.Between(1, 3));
    for (int i = 0; i < edits; ++i) {
      version += h.Between(1, 3);
      add({kEditPass, false, version, ++revision});
    }
    // Two edits arrive out of order: the older one lands second and is stale.
    if (edits >= 2 && h.Percent(15)) std::swap(out.steps[out.size - 1], out.steps[out.size - 2]);
    // An at-least-once replay of an earlier upsert.
    if (h.Percent(5)) {
      HistoryStep replay = out.steps[h.Below(static_cast<uint64_t>(out.size))];
      replay.pass = kEditPass;
      add(replay);
    }
  }

  if (h.Percent(profile.delete_percent)) {
    const int64_t tombstone = version + h.Between(1, 2);
    add({kEditPass, true, tombstone, revision});
    if (h.Percent(profile.recreate_percent)) {
      add({kRecreatePass, false, tombstone + h.Between(1, 3), ++revision});
    } else if (h.Percent(10)) {
      // A re-creation at the tombstone's own version: not higher, so ignored.
      add({kRecreatePass, false, tombstone, ++revision});
    }
  } else if (h.PerMille(10)) {
    // A delete whose version is not above the live one: ignored.
    add({kEditPass, true, version, revision});
  }
  return out;
}

}  // namespace tempo::gen
