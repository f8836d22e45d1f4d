// GrowthBook's experiment bucketing: hash(), getBucketRanges() and
// chooseVariation() of the SDK's util.ts.
#include <cstdint>
#include <numeric>
#include <string>

#include "cond/cond.h"
#include "cond/js_string.h"

namespace tempo::cond {
namespace {

constexpr uint32_t kFnvOffsetBasis = 0x811c9dc5u;
constexpr uint32_t kFnvPrime = 16777619u;
// hash() v1 buckets into 1000 steps, v2 into 10000.
constexpr uint32_t kV1Buckets = 1000;
constexpr uint32_t kV2Buckets = 10000;
// Weights whose sum falls outside [0.99, 1.01] are replaced by equal weights
// (the SDK's literals, kept as written so the doubles match).
constexpr double kMinWeightSum = 0.99;
constexpr double kMaxWeightSum = 1.01;

// The SDK's hashFnv32a(): FNV-1a over the UTF-16 code units of the string
// (JavaScript's charCodeAt), which is what `hval += (hval << 1) + ...`
// computes modulo 2^32.
class Fnv32a {
 public:
  void Add(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      uint32_t cp = DecodeUtf8(s, &i);
      if (cp >= 0x10000) {
        AddUnit(0xD800 + ((cp - 0x10000) >> 10));
        AddUnit(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        AddUnit(cp);
      }
    }
  }
  uint32_t value() const { return h_; }

 private:
  void AddUnit(uint32_t unit) {
    h_ ^= unit;
    h_ *= kFnvPrime;
  }

  uint32_t h_ = kFnvOffsetBasis;
};

}  // namespace

std::optional<double> Hash(std::string_view seed, std::string_view value, double version) {
  if (version == 2) {
    Fnv32a first;
    first.Add(seed);
    first.Add(value);
    Fnv32a second;
    second.Add(std::to_string(first.value()));
    return static_cast<double>(second.value() % kV2Buckets) / kV2Buckets;
  }
  if (version == 1) {
    Fnv32a h;
    h.Add(value);
    h.Add(seed);
    return static_cast<double>(h.value() % kV1Buckets) / kV1Buckets;
  }
  return std::nullopt;
}

std::vector<BucketRange> GetBucketRanges(int num_variations, double coverage,
                                         const std::optional<std::vector<double>>& weights) {
  if (coverage < 0) {
    coverage = 0;
  } else if (coverage > 1) {
    coverage = 1;
  }
  std::vector<double> equal;
  if (num_variations > 0) equal.assign(static_cast<size_t>(num_variations), 1.0 / num_variations);
  const std::vector<double>* w = weights ? &*weights : &equal;
  if (num_variations < 0 || w->size() != static_cast<size_t>(num_variations)) w = &equal;
  const double total = std::accumulate(w->begin(), w->end(), 0.0);
  if (total < kMinWeightSum || total > kMaxWeightSum) w = &equal;

  std::vector<BucketRange> ranges;
  ranges.reserve(w->size());
  double cumulative = 0;
  for (double weight : *w) {
    const double start = cumulative;
    cumulative += weight;
    ranges.emplace_back(start, start + coverage * weight);
  }
  return ranges;
}

int ChooseVariation(double n, const std::vector<BucketRange>& ranges) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (n >= ranges[i].first && n < ranges[i].second) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace tempo::cond
