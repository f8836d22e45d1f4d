// FrequencySketch: block-based Count-Min sketch with 4-bit counters.
#include "cache/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace tempo::cache::internal {
namespace {

// Every counter's three high bits, after a shift right by one.
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
      sample_period_(samples_per_entry_ * kMinWords / kWordsPerEntry) {}

void FrequencySketch::EnsureCapacity(size_t entries) {
  if (entries <= max_entries_) return;
  max_entries_ = entries;
  sample_period_ =
      std::max(samples_per_entry_ * entries, samples_per_entry_ * kMinWords / kWordsPerEntry);
  const size_t old_words = table_.size();
  const size_t words = std::bit_ceil(entries * kWordsPerEntry);
  if (words <= old_words) return;
  // A key's block is its hash masked to the block count and its counters'
  // places in the block do not depend on that count, so doubling the blocks
  // keeps every count when each old block is copied to both of its heirs
  // (Caffeine clears the table instead, forgetting what it learned).
  table_.resize(words);
  for (size_t copy = old_words; copy < words; copy += old_words) {
    std::copy_n(table_.begin(), old_words, table_.begin() + static_cast<ptrdiff_t>(copy));
  }
  block_mask_ = words / kWordsPerBlock - 1;
}

FrequencySketch::Slots FrequencySketch::Locate(uint64_t hash) const {
  const uint64_t mixed = Mix(hash);
  // The low bits choose the block; the high 32 bits, the counters in it
  // (the table never has 2^32 blocks, so the two never overlap).
  const size_t block = static_cast<size_t>(mixed & block_mask_) * kWordsPerBlock;
  const uint64_t counter_hash = mixed >> 32;
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

bool FrequencySketch::Increment(uint64_t hash, Weight weight) {
  const Slots s = Locate(hash);
  int count[4];
  int min = kMaxCount;
  for (int i = 0; i < 4; ++i) {
    count[i] = static_cast<int>((table_[s.word[i]] >> s.shift[i]) & 0xf);
    min = std::min(min, count[i]);
  }
  if (min == kMaxCount) {  // saturated: no counter changes, but the access counts
    const uint32_t generation = generation_;
    CountSaturated();
    return generation_ == generation;  // still saturated, unless that aged the counts
  }
  for (int i = 0; i < 4; ++i) {
    if (count[i] == min) table_[s.word[i]] += uint64_t{1} << s.shift[i];
  }
  if (weight == Weight::kHalf && (half_pending_ = !half_pending_)) return min + 1 == kMaxCount;
  if (++additions_ >= sample_period_) {
    Halve();
    return false;
  }
  return min + 1 == kMaxCount;
}

void FrequencySketch::Halve() {
  for (uint64_t& word : table_) word = (word >> 1) & kHalveMask;
  // The halved counts still hold half of what this period counted.
  additions_ /= 2;
  NextGeneration();
}

void FrequencySketch::Reset() {
  std::fill(table_.begin(), table_.end(), 0);
  additions_ = 0;
  NextGeneration();
}

void FrequencySketch::NextGeneration() {
  if (++generation_ == 0) generation_ = 1;  // 0 means "never saturated" to the nodes
}

}  // namespace tempo::cache::internal
