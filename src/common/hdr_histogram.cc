// HdrHistogram's layout (HdrHistogram_c's hdr_histogram.c, with unit magnitude 0): counter
// index from value and back.
#include "common/hdr_histogram.h"

#include <algorithm>
#include <bit>

namespace tempo {
namespace {

// 3 significant digits need 2 * 10^3 distinct sub-buckets, rounded up to a power of two.
constexpr int kSubBucketCountMagnitude = 11;
constexpr int64_t kSubBucketCount = int64_t{1} << kSubBucketCountMagnitude;  // 2048
constexpr int kSubBucketHalfCountMagnitude = kSubBucketCountMagnitude - 1;
constexpr int64_t kSubBucketHalfCount = kSubBucketCount / 2;  // 1024
constexpr int64_t kSubBucketMask = kSubBucketCount - 1;
static_assert(kHdrLowestUs == 1, "the layout below assumes unit magnitude 0");
static_assert(kHdrSignificantDigits == 3, "kSubBucketCountMagnitude is for 3 digits");

// Buckets to reach kHdrHighestUs: each doubles the range of the one before.
constexpr int BucketsNeeded() {
  int64_t smallest_untrackable = kSubBucketCount;
  int buckets = 1;
  while (smallest_untrackable <= kHdrHighestUs) {
    smallest_untrackable <<= 1;
    ++buckets;
  }
  return buckets;
}
constexpr int kBucketCount = BucketsNeeded();  // 16
constexpr size_t kCounterCount = static_cast<size_t>(kBucketCount + 1) * kSubBucketHalfCount;

int BucketIndex(int64_t value) {
  const int pow2_ceiling = 64 - std::countl_zero(static_cast<uint64_t>(value | kSubBucketMask));
  return pow2_ceiling - (kSubBucketHalfCountMagnitude + 1);
}

size_t CounterIndex(int64_t value) {
  const int bucket = BucketIndex(value);
  const int64_t sub_bucket = value >> bucket;
  return static_cast<size_t>(((int64_t{bucket} + 1) << kSubBucketHalfCountMagnitude) +
                             (sub_bucket - kSubBucketHalfCount));
}

int64_t ValueOfCounter(size_t index) {
  int bucket = static_cast<int>(index >> kSubBucketHalfCountMagnitude) - 1;
  int64_t sub_bucket =
      static_cast<int64_t>(index & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
  if (bucket < 0) {
    sub_bucket -= kSubBucketHalfCount;
    bucket = 0;
  }
  return sub_bucket << bucket;
}

int64_t Clamp(int64_t value_us) { return std::clamp<int64_t>(value_us, 0, kHdrHighestUs); }

}  // namespace

HdrHistogram::HdrHistogram() : counts_(kCounterCount, 0) {}

int64_t HdrHistogram::LowestEquivalent(int64_t value_us) {
  const int64_t v = Clamp(value_us);
  const int bucket = BucketIndex(v);
  return (v >> bucket) << bucket;
}

int64_t HdrHistogram::HighestEquivalent(int64_t value_us) {
  const int64_t v = Clamp(value_us);
  return LowestEquivalent(v) + (int64_t{1} << BucketIndex(v)) - 1;
}

void HdrHistogram::RecordN(int64_t value_us, uint64_t n) {
  if (n == 0) return;
  const int64_t exact = std::max<int64_t>(value_us, 0);
  counts_[CounterIndex(Clamp(exact))] += n;
  if (count_ == 0 || exact < min_) min_ = exact;
  max_ = std::max(max_, exact);
  count_ += n;
}

void HdrHistogram::Merge(const HdrHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
}

void HdrHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = 0;
  max_ = 0;
}

int64_t HdrHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  const uint64_t wanted =
      std::max<uint64_t>(1, static_cast<uint64_t>(p / 100.0 * static_cast<double>(count_) + 0.5));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(HighestEquivalent(ValueOfCounter(i)), max_);
  }
  return max_;
}

double HdrHistogram::Mean() const {
  if (count_ == 0) return 0.0;
  double total = 0.0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const int64_t low = ValueOfCounter(i);
    const int64_t median = low + (HighestEquivalent(low) - low + 1) / 2;
    total += static_cast<double>(median) * static_cast<double>(counts_[i]);
  }
  return total / static_cast<double>(count_);
}

}  // namespace tempo
