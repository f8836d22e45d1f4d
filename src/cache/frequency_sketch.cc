// FrequencySketch: block-based Count-Min sketch with 4-bit counters.
#include "cache/frequency_sketch.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

namespace tempo::cache::internal {
namespace {

// Every counter's low bit, and every counter's three high bits after a shift.
constexpr uint64_t kLowBits = 0x1111'1111'1111'1111ULL;
constexpr uint64_t kHalveMask = 0x7777'7777'7777'7777ULL;

// MurmurHash3's finalizer: the caller's hash picks the shard and the table
// slot from its own bits, so it is re-mixed before it picks sketch counters.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

FrequencySketch::FrequencySketch(int samples_per_entry)
    : samples_per_entry_(static_cast<size_t>(std::max(samples_per_entry, 1))),
      table_(kMinWords, 0),
      block_mask_(kMinWords / kWordsPerBlock - 1),
      sample_period_(samples_per_entry_ * kMinWords) {}

void FrequencySketch::EnsureCapacity(size_t entries) {
  if (entries <= max_entries_) return;
  max_entries_ = entries;
  sample_period_ = std::max(samples_per_entry_ * entries, samples_per_entry_ * kMinWords);
  static const size_t kWpe = getenv("WPE") ? atoi(getenv("WPE")) : 1;
  if (entries * kWpe <= table_.size()) return;
  // A key's block is its hash masked to the block count and its counters'
  // places in the block do not depend on that count, so doubling the blocks
  // keeps every count when each old block is copied to both of its heirs.
  const size_t old_words = table_.size();
  const size_t words = std::bit_ceil(entries * kWpe);
  table_.resize(words);
  for (size_t copy = old_words; copy < words; copy += old_words) {
    std::copy(table_.begin(), table_.begin() + static_cast<ptrdiff_t>(old_words),
              table_.begin() + static_cast<ptrdiff_t>(copy));
  }
  block_mask_ = words / kWordsPerBlock - 1;
}

FrequencySketch::Slots FrequencySketch::Locate(uint64_t hash) const {
  const uint64_t block_hash = Mix(hash);
  // Different bits of a second mix choose the counter inside each row.
  const uint64_t counter_hash = Mix(block_hash + 0x9e3779b97f4a7c15ULL);
  const size_t block = static_cast<size_t>(block_hash & block_mask_) * kWordsPerBlock;
  Slots s;
  for (int i = 0; i < 4; ++i) {
    const uint64_t h = counter_hash >> (i * 8);
    // Row i uses words 2i and 2i+1 of the block; 16 counters per word.
    s.word[i] = block + static_cast<size_t>(h & 1) + static_cast<size_t>(i) * 2;
    s.shift[i] = static_cast<int>((h >> 1) & 15) * 4;
  }
  return s;
}

int FrequencySketch::Estimate(uint64_t hash) const {
  const Slots s = Locate(hash);
  int count = kMaxCount;
  for (int i = 0; i < 4; ++i) {
    count = std::min(count, static_cast<int>((table_[s.word[i]] >> s.shift[i]) & 0xf));
  }
  return count;
}

void FrequencySketch::Increment(uint64_t hash) {
  const Slots s = Locate(hash);
  bool added = false;
  for (int i = 0; i < 4; ++i) {
    uint64_t& word = table_[s.word[i]];
    if (((word >> s.shift[i]) & 0xf) != kMaxCount) {
      word += uint64_t{1} << s.shift[i];
      added = true;
    }
  }
  if (added && ++additions_ >= sample_period_) Halve();
}

void FrequencySketch::Halve() {
  // Halving truncates every odd counter; as in Caffeine, the additions still
  // owed to the next period shrink by a quarter of those lost halves (four
  // counters per increment) before they are halved themselves.
  size_t odd = 0;
  for (uint64_t& word : table_) {
    odd += static_cast<size_t>(std::popcount(word & kLowBits));
    word = (word >> 1) & kHalveMask;
  }
  const size_t lost = odd / 4;
  additions_ = (additions_ > lost ? additions_ - lost : 0) / 2;
}

}  // namespace tempo::cache::internal
