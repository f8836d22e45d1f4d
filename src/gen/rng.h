// Deterministic pseudo-random numbers for the generator.
//
// Everything here is integer arithmetic on splitmix64 so that one seed gives
// the same bytes with every compiler and standard library: std::*_distribution
// and std::pow are deliberately not used (their outputs are not specified
// bit for bit).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace tempo::gen {

// The splitmix64 output function: a bijective 64-bit mixer.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A seed for an independent stream named by `path` under `seed`: streams for
// (tenant 3, module 17) and (tenant 3, module 18) share no state, so any part
// of the data set can be regenerated without replaying the rest.
inline uint64_t StreamSeed(uint64_t seed, std::initializer_list<uint64_t> path) {
  uint64_t h = Mix64(seed ^ 0x9e3779b97f4a7c15ULL);
  for (uint64_t p : path) h = Mix64(h ^ Mix64(p + 0x632be59bd9b4e019ULL));
  return h;
}

// A splitmix64 generator with the few draws the generator needs.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }

  // Uniform in [0, n). REQUIRES: n > 0. Rejection sampling keeps it unbiased.
  uint64_t Below(uint64_t n) {
    assert(n > 0);
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t r = Next();
      if (r >= threshold) return r % n;
    }
  }

  // Uniform in [lo, hi], both inclusive. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // True with probability percent/100.
  bool Percent(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  // True with probability permille/1000.
  bool PerMille(int permille) { return Below(1000) < static_cast<uint64_t>(permille); }

  // A uniformly chosen element. REQUIRES: !items.empty().
  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(items.size())];
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

  // An index drawn with probability weights[i] / sum(weights).
  // REQUIRES: some weight is positive.
  size_t Weighted(std::span<const int> weights) {
    uint64_t total = 0;
    for (int w : weights) total += static_cast<uint64_t>(w);
    uint64_t r = Below(total);
    for (size_t i = 0; i < weights.size(); ++i) {
      const auto w = static_cast<uint64_t>(weights[i]);
      if (r < w) return i;
      r -= w;
    }
    return weights.size() - 1;
  }

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::vector<T>* items) {
    for (size_t i = items->size(); i > 1; --i) {
      std::swap((*items)[i - 1], (*items)[Below(i)]);
    }
  }

 private:
  uint64_t state_;
};

// Draws ranks 0..n-1 with probability proportional to 1/(rank+1) (Zipf with
// exponent 1), so a few ranks are hot and the tail is long. Weights are
// integers, so sampling is exact and portable.
class ZipfSampler {
 public:
  explicit ZipfSampler(size_t n) : cumulative_(n) {
    uint64_t sum = 0;
    for (size_t k = 0; k < n; ++k) {
      sum += kScale / (k + 1);
      cumulative_[k] = sum;
    }
  }

  size_t size() const { return cumulative_.size(); }

  // REQUIRES: size() > 0.
  size_t Sample(Rng& rng) const {
    const uint64_t r = rng.Below(cumulative_.back());
    size_t lo = 0, hi = cumulative_.size() - 1;
    while (lo < hi) {  // first k with cumulative_[k] > r
      const size_t mid = lo + (hi - lo) / 2;
      if (cumulative_[mid] > r) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

 private:
  // 2^40: rank weights stay distinct for millions of ranks and the sum of
  // any realistic n cannot overflow 64 bits.
  static constexpr uint64_t kScale = uint64_t{1} << 40;
  std::vector<uint64_t> cumulative_;
};

}  // namespace tempo::gen
