// hit_ratio: how close the L1 cache's W-TinyLFU policy comes to the best
// possible hit ratio on synthetic traces, next to a plain LRU of the same size.
//
// Traces (seeded, reproducible): independent Zipf(0.8) and Zipf(1.0) requests
// over --keys keys, and the Zipf(0.8) trace with one-pass scans of
// never-repeated keys spliced in. Cache sizes: 0.1%, 1% and 10% of the keys,
// entries of equal size. Reported per trace and size:
//   ours       our Cache, driven through its public API on one thread
//   LRU        a plain LRU of the same size
//   ideal LFU  the probability mass of the C most popular keys, the best an
//              online policy that knows the true popularities can do on an
//              independent trace (for the scan trace, times the share of
//              Zipf requests: no policy can hit a never-repeated key)
//   Belady     the offline optimum (evict the key used farthest in the future)
// Hit ratios are printed over each whole trace (cold start included) and over
// its steady state (the part after --warmup, by default its second half):
// ideal LFU has no cold start, so the steady state is the fair comparison.
// A fourth trace, where the hot set moves ten times, is a stress test of how
// fast the policy adapts; it is not part of the goals.
// The default run takes about 50 s on the 2-core development VM. --quick (100k
// keys, 2M requests, 9 s) is a smoke test: its 0.1% cache of 100 entries is
// split over 16 shards of about 6, far below what the policy is tuned for.
// --perfect-lfu adds an online LFU with exact, unbounded counts (see
// RunPerfectLfu), the realistic ceiling over whole traces; it adds minutes.
// Usage: hit_ratio [--quick] [--perfect-lfu] [--keys=N] [--requests=N] [--seed=N] [--warmup=F]
//                  [--shards=N] [--window=F] [--fixed-window] [--before]
//                  [--protected=F] [--samples=N] [--scan-resistance]
// --fixed-window keeps the window at --window (default 1 %); --before also
// keeps --shards (16) however small the cache: the policy before issue 17.
// Real traces (../shared/traces: gzip'd or plain text, one integer key per
// line) replace the synthetic ones with --trace=FILE (repeatable) or
// --all-traces=DIR: each at --sizes (default 1,5,10,25 % of its distinct
// keys), through ours, LRU, ARC and Belady over the whole trace.
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"

namespace tempo::cache {
namespace {

constexpr uint32_t kNever = 0xffffffffu;  // "no next use" in the Belady simulation
constexpr size_t kEntryBytes = 4096;      // every entry's charge
constexpr double kCacheFractions[] = {0.001, 0.01, 0.1};

struct Flags {
  uint32_t keys = 1'000'000;
  uint64_t requests = 10'000'000;
  double warmup = 0.5;  // share of each trace before its steady state
  bool perfect_lfu = false;
  // The policy before the adaptive window (issue 17): a fixed window and
  // Options::shards whatever the cache's size.
  bool before = false;
  uint64_t seed = 42;
  CacheOptions cache;
  std::vector<std::string> traces;          // --trace FILE (repeatable), --all-traces DIR
  std::vector<double> sizes{1, 5, 10, 25};  // --sizes: % of a trace's distinct keys
  bool scan_resistance = false;             // --scan-resistance: that table alone
};

// xoshiro256**: fast, and good enough for trace generation.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;  // splitmix64 to spread the seed
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Zipf(s) over ranks 0..n-1 (rank 0 the most popular), sampled in O(1) with
// Vose's alias method.
class Zipf {
 public:
  Zipf(uint32_t n, double s) : p_(n), alias_(n), threshold_(n) {
    double total = 0;
    for (uint32_t i = 0; i < n; ++i) total += p_[i] = 1.0 / std::pow(i + 1.0, s);
    for (double& p : p_) p /= total;
    std::vector<double> scaled(n);
    std::vector<uint32_t> small, large;
    for (uint32_t i = 0; i < n; ++i) {
      scaled[i] = p_[i] * n;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t l = small.back(), g = large.back();
      small.pop_back();
      threshold_[l] = Threshold(scaled[l]);
      alias_[l] = g;
      scaled[g] -= 1.0 - scaled[l];
      if (scaled[g] < 1.0) {
        large.pop_back();
        small.push_back(g);
      }
    }
    // Leftovers (rounding) keep their own slot entirely.
    for (const std::vector<uint32_t>* rest : {&small, &large}) {
      for (uint32_t i : *rest) {
        threshold_[i] = UINT32_MAX;
        alias_[i] = i;
      }
    }
  }

  uint32_t Sample(Rng& rng) const {
    const uint64_t r = rng.Next();
    const uint32_t i = static_cast<uint32_t>(((r >> 32) * p_.size()) >> 32);
    return static_cast<uint32_t>(r) < threshold_[i] ? i : alias_[i];
  }

  // The probability mass of the c most popular keys.
  double TopMass(size_t c) const {
    double mass = 0;
    for (size_t i = 0; i < c && i < p_.size(); ++i) mass += p_[i];
    return mass;
  }

 private:
  static uint32_t Threshold(double x) {
    return x >= 1.0 ? UINT32_MAX : static_cast<uint32_t>(x * 4294967296.0);
  }
  std::vector<double> p_;
  std::vector<uint32_t> alias_;
  std::vector<uint32_t> threshold_;
};

struct Trace {
  std::string name;
  std::vector<uint32_t> keys;  // ids < zipf_keys are Zipf ranks; others are scan keys
  uint32_t zipf_keys = 0;
  uint32_t max_id = 0;
  const Zipf* zipf = nullptr;
  double zipf_share = 1.0;  // fraction of requests that are Zipf requests
};

// Independent Zipf requests. With `phases` > 1 the popularity moves: each
// phase maps ranks to keys with a different rotation, so the hot set of one
// phase is cold in the next.
Trace ZipfTrace(std::string name, const Zipf& zipf, uint32_t keys, uint64_t requests, uint64_t seed,
                int phases = 1) {
  Trace t{std::move(name), {}, keys, keys - 1, &zipf, 1.0};
  Rng rng(seed);
  t.keys.resize(requests);
  const uint64_t phase_length = (requests + phases - 1) / phases;
  for (uint64_t i = 0; i < requests; ++i) {
    const uint64_t rotation = (i / phase_length) * (keys / phases + 7919);
    t.keys[i] = static_cast<uint32_t>((zipf.Sample(rng) + rotation) % keys);
  }
  return t;
}

// `base` with a scan of keys/100..keys/20 never-repeated keys after every
// keys/8 Zipf requests (about 19% of all requests are scan requests).
Trace WithScans(const Trace& base, uint64_t seed) {
  Trace t{base.name + " + scans", {}, base.zipf_keys, 0, base.zipf, 1.0};
  Rng rng(seed);
  const uint32_t gap = std::max<uint32_t>(base.zipf_keys / 8, 1);
  const uint32_t min_scan = std::max<uint32_t>(base.zipf_keys / 100, 1);
  const uint32_t max_scan = std::max<uint32_t>(base.zipf_keys / 20, min_scan + 1);
  uint32_t next_scan_key = base.zipf_keys;
  t.keys.reserve(base.keys.size() * 5 / 4);
  for (size_t i = 0; i < base.keys.size(); ++i) {
    t.keys.push_back(base.keys[i]);
    if ((i + 1) % gap == 0) {
      const uint32_t len = min_scan + rng.Below(max_scan - min_scan);
      for (uint32_t j = 0; j < len; ++j) t.keys.push_back(next_scan_key++);
    }
  }
  t.max_id = next_scan_key - 1;
  t.zipf_share = static_cast<double>(base.keys.size()) / static_cast<double>(t.keys.size());
  return t;
}

// Hit counts over a trace: over all requests and over the steady state
// (from `steady_from` on, once every policy has had time to learn), each
// also restricted to the Zipf requests (without the scan requests).
class Outcome {
 public:
  explicit Outcome(size_t steady_from) : steady_from_(steady_from) {}

  void Count(size_t i, bool zipf, bool hit) {
    whole_.Count(zipf, hit);
    if (i >= steady_from_) steady_.Count(zipf, hit);
  }

  struct Counts {
    void Count(bool zipf, bool hit) {
      ++requests;
      hits += hit;
      zipf_requests += zipf;
      zipf_hits += zipf && hit;
    }
    double ratio() const { return static_cast<double>(hits) / static_cast<double>(requests); }
    double zipf_ratio() const {
      return static_cast<double>(zipf_hits) / static_cast<double>(zipf_requests);
    }
    uint64_t requests = 0, hits = 0, zipf_requests = 0, zipf_hits = 0;
  };
  const Counts& whole() const { return whole_; }
  const Counts& steady() const { return steady_; }

 private:
  size_t steady_from_;
  Counts whole_, steady_;
};

size_t SteadyFrom(const Trace& t, double warmup) {
  return static_cast<size_t>(static_cast<double>(t.keys.size()) * warmup);
}

// The key of an id as a string, without allocating: "k<id>".
class KeyText {
 public:
  std::string_view Of(uint32_t id) {
    buf_[0] = 'k';
    const auto r = std::to_chars(buf_ + 1, buf_ + sizeof(buf_), id);
    return std::string_view(buf_, static_cast<size_t>(r.ptr - buf_));
  }

 private:
  char buf_[16];
};

// `stats`, when given, receives the cache's counters at the end (the
// window each shard's tuner settled on, how often it moved).
Outcome RunOurs(const Trace& t, size_t entries, const Flags& flags, CacheStats* stats = nullptr) {
  using IntCache = Cache<std::shared_ptr<const int>>;
  CacheOptions o = flags.cache;
  // Every entry is charged kEntryBytes in all (value and EntryOverhead), so
  // the cache holds `entries` of them, as the reference policies do.
  o.capacity_bytes = entries * kEntryBytes;
  o.expected_entry_charge = flags.before ? 1 : kEntryBytes;
  o.ttl = std::chrono::hours(24 * 365);
  o.max_stale = std::chrono::milliseconds(0);
  o.refresh_threads = 0;
  IntCache cache(o);
  const auto value = std::make_shared<const int>(0);
  size_t charge = 0;
  const auto loader = [&value, &charge]() -> Result<IntCache::Loaded> {
    return IntCache::Loaded{value, charge, std::nullopt};
  };
  KeyText text;
  Outcome out(SteadyFrom(t, flags.warmup));
  for (size_t i = 0; i < t.keys.size(); ++i) {
    const uint32_t id = t.keys[i];
    const std::string_view key = text.Of(id);
    charge = kEntryBytes - IntCache::EntryOverhead(key);
    const bool hit = cache.GetOrLoad(key, loader)->source == Source::kHit;
    out.Count(i, id < t.zipf_keys, hit);
  }
  if (stats != nullptr) *stats = cache.Stats();
  return out;
}

Outcome RunLru(const Trace& t, size_t entries, double warmup) {
  constexpr uint32_t kNil = kNever;
  const size_t ids = size_t{t.max_id} + 1;
  std::vector<uint32_t> prev(ids, kNil), next(ids, kNil);
  std::vector<bool> cached(ids, false);
  uint32_t head = kNil, tail = kNil;  // head = most recent
  size_t size = 0;
  auto unlink = [&](uint32_t k) {
    (prev[k] == kNil ? head : next[prev[k]]) = next[k];
    (next[k] == kNil ? tail : prev[next[k]]) = prev[k];
  };
  auto push_front = [&](uint32_t k) {
    prev[k] = kNil;
    next[k] = head;
    (head == kNil ? tail : prev[head]) = k;
    head = k;
  };
  Outcome out(SteadyFrom(t, warmup));
  for (size_t i = 0; i < t.keys.size(); ++i) {
    const uint32_t id = t.keys[i];
    const bool hit = cached[id];
    if (hit) {
      unlink(id);
    } else if (size == entries) {
      const uint32_t victim = tail;
      unlink(victim);
      cached[victim] = false;
    } else {
      ++size;
    }
    push_front(id);
    cached[id] = true;
    out.Count(i, id < t.zipf_keys, hit);
  }
  return out;
}

// ARC (Megiddo and Modha, FAST 2003), a reference policy for the real traces:
// T1/T2 hold the cached keys seen once / more than once, B1/B2 the keys just
// evicted from each (ghosts), and the target size p of T1 moves toward the
// list whose ghosts are hit.
Outcome RunArc(const Trace& t, size_t entries, double warmup) {
  constexpr uint32_t kNil = kNever;
  enum Where : uint8_t { kNone, kT1, kT2, kB1, kB2 };
  const size_t ids = size_t{t.max_id} + 1;
  std::vector<uint32_t> prev(ids, kNil), next(ids, kNil);
  std::vector<uint8_t> where(ids, kNone);
  struct List {
    uint32_t head = kNever, tail = kNever;  // head = most recent
    size_t size = 0;
  };
  List lists[5];
  auto unlink = [&](uint32_t k) {
    List& l = lists[where[k]];
    (prev[k] == kNil ? l.head : next[prev[k]]) = next[k];
    (next[k] == kNil ? l.tail : prev[next[k]]) = prev[k];
    --l.size;
    where[k] = kNone;
  };
  auto push_front = [&](uint32_t k, Where w) {
    List& l = lists[w];
    prev[k] = kNil;
    next[k] = l.head;
    (l.head == kNil ? l.tail : prev[l.head]) = k;
    l.head = k;
    ++l.size;
    where[k] = w;
  };
  const double c = static_cast<double>(entries);
  double p = 0;
  auto replace = [&](bool in_b2) {
    const double t1 = static_cast<double>(lists[kT1].size);
    if (lists[kT1].size >= 1 && ((in_b2 && t1 == p) || t1 > p)) {
      const uint32_t victim = lists[kT1].tail;
      unlink(victim);
      push_front(victim, kB1);
    } else if (lists[kT2].size >= 1) {
      const uint32_t victim = lists[kT2].tail;
      unlink(victim);
      push_front(victim, kB2);
    }
  };
  Outcome out(SteadyFrom(t, warmup));
  for (size_t i = 0; i < t.keys.size(); ++i) {
    const uint32_t x = t.keys[i];
    const Where w = static_cast<Where>(where[x]);
    const bool hit = w == kT1 || w == kT2;
    if (hit) {
      unlink(x);
      push_front(x, kT2);
    } else if (w == kB1) {
      const double b1 = static_cast<double>(lists[kB1].size);
      const double b2 = static_cast<double>(lists[kB2].size);
      p = std::min(c, p + std::max(b2 / b1, 1.0));
      replace(false);
      unlink(x);
      push_front(x, kT2);
    } else if (w == kB2) {
      const double b1 = static_cast<double>(lists[kB1].size);
      const double b2 = static_cast<double>(lists[kB2].size);
      p = std::max(0.0, p - std::max(b1 / b2, 1.0));
      replace(true);
      unlink(x);
      push_front(x, kT2);
    } else {
      const size_t l1 = lists[kT1].size + lists[kB1].size;
      const size_t total = l1 + lists[kT2].size + lists[kB2].size;
      if (l1 == entries) {
        if (lists[kT1].size < entries) {
          unlink(lists[kB1].tail);
          replace(false);
        } else {
          unlink(lists[kT1].tail);
        }
      } else if (total >= entries) {
        if (total == 2 * entries) unlink(lists[kB2].tail);
        replace(false);
      }
      push_front(x, kT1);
    }
    out.Count(i, true, hit);
  }
  return out;
}

// A real trace (`--trace`): gzip'd or plain text, one unsigned integer key
// per line; keys are renumbered densely in order of first appearance.
std::optional<Trace> ReadTrace(const std::string& path) {
  gzFile in = gzopen(path.c_str(), "rb");  // reads plain files as they are
  if (in == nullptr) return std::nullopt;
  Trace t;
  const size_t slash = path.find_last_of('/');
  t.name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (const size_t dot = t.name.find('.'); dot != std::string::npos) t.name.resize(dot);
  std::unordered_map<int64_t, uint32_t> ids;
  char line[64];
  bool ok = true;
  while (gzgets(in, line, sizeof line) != nullptr) {
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty()) continue;
    // Integers, unsigned as the README says, but one trace (orm-night) was
    // written as signed 32-bit: both read, as distinct keys.
    int64_t key = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), key);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
      ok = false;
      break;
    }
    const auto [it, fresh] = ids.try_emplace(key, static_cast<uint32_t>(ids.size()));
    t.keys.push_back(it->second);
  }
  gzclose(in);
  if (!ok || t.keys.empty()) return std::nullopt;
  t.zipf_keys = static_cast<uint32_t>(ids.size());  // every request counts in zipf_ratio
  t.max_id = static_cast<uint32_t>(ids.size() - 1);
  return t;
}

// For each request, the index of the next request of the same key (or kNever).
std::vector<uint32_t> NextUses(const Trace& t) {
  std::vector<uint32_t> next(t.keys.size());
  std::vector<uint32_t> last(size_t{t.max_id} + 1, kNever);
  for (size_t i = t.keys.size(); i-- > 0;) {
    next[i] = last[t.keys[i]];
    last[t.keys[i]] = static_cast<uint32_t>(i);
  }
  return next;
}

// Belady's MIN with bypass: on a miss, the key is cached only if its next use
// comes before that of the cached key used farthest in the future, which is
// evicted. A max-heap of (next use, key) with lazy deletion finds that key.
Outcome RunBelady(const Trace& t, const std::vector<uint32_t>& next_use, size_t entries,
                  double warmup) {
  const size_t ids = size_t{t.max_id} + 1;
  std::vector<uint32_t> current_next(ids, kNever);
  std::vector<bool> cached(ids, false);
  std::vector<uint64_t> heap;  // (next use << 32) | key
  size_t size = 0;
  auto push = [&](uint32_t nu, uint32_t key) {
    heap.push_back((uint64_t{nu} << 32) | key);
    std::push_heap(heap.begin(), heap.end());
  };
  auto valid = [&](uint64_t item) {
    const uint32_t key = static_cast<uint32_t>(item);
    return cached[key] && current_next[key] == static_cast<uint32_t>(item >> 32);
  };
  Outcome out(SteadyFrom(t, warmup));
  for (size_t i = 0; i < t.keys.size(); ++i) {
    const uint32_t id = t.keys[i];
    const uint32_t nu = next_use[i];
    const bool hit = cached[id];
    if (hit) {
      current_next[id] = nu;
      push(nu, id);
    } else if (nu != kNever) {
      bool admit = size < entries;
      if (!admit) {
        while (!valid(heap.front())) {
          std::pop_heap(heap.begin(), heap.end());
          heap.pop_back();
        }
        const uint64_t top = heap.front();
        if (static_cast<uint32_t>(top >> 32) > nu) {
          std::pop_heap(heap.begin(), heap.end());
          heap.pop_back();
          cached[static_cast<uint32_t>(top)] = false;
          --size;
          admit = true;
        }
      }
      if (admit) {
        cached[id] = true;
        current_next[id] = nu;
        push(nu, id);
        ++size;
      }
    }
    // Drop the stale heap items once they dominate.
    if (heap.size() > 4 * entries + 1024) {
      std::erase_if(heap, [&](uint64_t item) { return !valid(item); });
      std::make_heap(heap.begin(), heap.end());
    }
    out.Count(i, id < t.zipf_keys, hit);
  }
  return out;
}

// An online LFU with perfect memory: exact counts of every key ever
// requested (unbounded metadata); on a miss the key replaces the least
// counted cached key if it is now counted more. Unlike the ideal LFU it must
// learn the popularities from the trace, so over a whole trace it shows
// what learning costs any counting policy (--perfect-lfu).
Outcome RunPerfectLfu(const Trace& t, size_t entries, double warmup) {
  const size_t ids = size_t{t.max_id} + 1;
  std::vector<uint32_t> count(ids, 0);
  std::vector<bool> cached(ids, false);
  std::vector<uint64_t> heap;  // (count << 32) | key, a min-heap with lazy deletion
  const auto later = std::greater<uint64_t>();
  size_t size = 0;
  auto push = [&](uint32_t key) {
    heap.push_back((uint64_t{count[key]} << 32) | key);
    std::push_heap(heap.begin(), heap.end(), later);
  };
  auto pop = [&] {
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
  };
  auto valid = [&](uint64_t item) {
    const uint32_t key = static_cast<uint32_t>(item);
    return cached[key] && count[key] == static_cast<uint32_t>(item >> 32);
  };
  Outcome out(SteadyFrom(t, warmup));
  for (size_t i = 0; i < t.keys.size(); ++i) {
    const uint32_t id = t.keys[i];
    ++count[id];
    const bool hit = cached[id];
    bool admit = hit || size < entries;
    if (!admit) {
      while (!valid(heap.front())) pop();
      if (static_cast<uint32_t>(heap.front() >> 32) < count[id]) {
        cached[static_cast<uint32_t>(heap.front())] = false;
        pop();
        --size;
        admit = true;
      }
    }
    if (admit) {
      size += !hit;
      cached[id] = true;
      push(id);
    }
    if (heap.size() > 4 * entries + 1024) {
      std::erase_if(heap, [&](uint64_t item) { return !valid(item); });
      std::make_heap(heap.begin(), heap.end(), later);
    }
    out.Count(i, id < t.zipf_keys, hit);
  }
  return out;
}

bool ParseFlag(std::string_view arg, std::string_view name, std::string_view* value) {
  if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
  *value = arg.substr(name.size() + 1);
  return true;
}

// `--trace FILE` / `--all-traces DIR`: the real traces at each size (a share
// of the trace's distinct keys), through ours, LRU, ARC and Belady, over the
// whole trace; ours - LRU in points, and the mean of ours / Belady.
int RunTraces(const std::vector<std::string>& paths, const std::vector<double>& sizes,
              const Flags& flags) {
  std::printf(
      "| trace | requests | keys | cache | ours | LRU | ARC | Belady | ours - LRU | "
      "ours / Belady | window at the end (moves) "
      "|\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  double sum_ratio = 0, worst_vs_lru = 1e9;
  int rows = 0;
  for (const std::string& path : paths) {
    std::optional<Trace> t = ReadTrace(path);
    if (!t) {
      std::fprintf(stderr, "hit_ratio: %s: not a trace (one unsigned integer per line)\n",
                   path.c_str());
      return 1;
    }
    const std::vector<uint32_t> next_use = NextUses(*t);
    const size_t keys = size_t{t->max_id} + 1;
    for (double share : sizes) {
      const size_t entries = std::max<size_t>(1, static_cast<size_t>(keys * share / 100));
      CacheStats stats;
      const double ours = RunOurs(*t, entries, flags, &stats).whole().ratio();
      const double lru = RunLru(*t, entries, 0).whole().ratio();
      const double arc = RunArc(*t, entries, 0).whole().ratio();
      const double opt = RunBelady(*t, next_use, entries, 0).whole().ratio();
      std::printf(
          "| %s | %zu | %zu | %g%% (%zu) | %.4f | %.4f | %.4f | %.4f | %+.1f | %.3f | %.2f (%llu) "
          "|\n",
          t->name.c_str(), t->keys.size(), keys, share, entries, ours, lru, arc, opt,
          (ours - lru) * 100, opt > 0 ? ours / opt : 1.0, stats.window_fraction,
          static_cast<unsigned long long>(stats.window_moves));
      std::fflush(stdout);
      sum_ratio += opt > 0 ? ours / opt : 1.0;
      worst_vs_lru = std::min(worst_vs_lru, (ours - lru) * 100);
      ++rows;
    }
  }
  std::printf("\nMean ours / Belady over %d rows: %.3f; worst ours - LRU: %+.1f points.\n", rows,
              sum_ratio / rows, worst_vs_lru);
  return 0;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: hit_ratio [--quick] [--perfect-lfu] [--keys=N] [--requests=N] [--seed=N]\n"
               "                 [--warmup=F]\n"
               "                 [--shards=N] [--window=F] [--fixed-window] [--before]\n"
               "                 [--protected=F] [--samples=N]\n"
               "       hit_ratio --trace=FILE [--trace=FILE ...] | --all-traces=DIR\n"
               "                 [--sizes=1,5,10,25] (%% of the trace's distinct keys)\n");
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view v;
    if (arg == "--perfect-lfu") {
      f.perfect_lfu = true;
    } else if (arg == "--quick") {
      f.keys = 100'000;
      f.requests = 2'000'000;
    } else if (ParseFlag(arg, "--keys", &v)) {
      f.keys = static_cast<uint32_t>(std::strtoul(std::string(v).c_str(), nullptr, 10));
    } else if (ParseFlag(arg, "--requests", &v)) {
      f.requests = std::strtoull(std::string(v).c_str(), nullptr, 10);
    } else if (ParseFlag(arg, "--warmup", &v)) {
      f.warmup = std::atof(std::string(v).c_str());
    } else if (ParseFlag(arg, "--seed", &v)) {
      f.seed = std::strtoull(std::string(v).c_str(), nullptr, 10);
    } else if (ParseFlag(arg, "--shards", &v)) {
      f.cache.shards = std::atoi(std::string(v).c_str());
    } else if (arg == "--fixed-window") {
      f.cache.adaptive_window = false;
    } else if (arg == "--scan-resistance") {
      f.scan_resistance = true;
    } else if (arg == "--before") {
      f.before = true;
      f.cache.adaptive_window = false;
    } else if (ParseFlag(arg, "--window", &v)) {
      f.cache.window_fraction = std::atof(std::string(v).c_str());
    } else if (ParseFlag(arg, "--protected", &v)) {
      f.cache.protected_fraction = std::atof(std::string(v).c_str());
    } else if (ParseFlag(arg, "--samples", &v)) {
      f.cache.sketch_samples_per_entry = std::atoi(std::string(v).c_str());
    } else if (ParseFlag(arg, "--trace", &v)) {
      f.traces.emplace_back(v);
    } else if (ParseFlag(arg, "--all-traces", &v)) {
      std::vector<std::string> found;
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(std::string(v), ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && !name.ends_with(".md")) found.push_back(entry.path());
      }
      if (ec || found.empty()) Usage();
      std::sort(found.begin(), found.end());
      f.traces.insert(f.traces.end(), found.begin(), found.end());
    } else if (ParseFlag(arg, "--sizes", &v)) {
      f.sizes.clear();
      for (std::string_view rest = v; !rest.empty();) {
        const size_t comma = rest.find(',');
        f.sizes.push_back(std::atof(std::string(rest.substr(0, comma)).c_str()));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      for (double size : f.sizes) {
        if (!(size > 0 && size <= 100)) Usage();
      }
    } else {
      Usage();
    }
  }
  if (f.keys < 1000 || f.requests < 1000 || f.requests >= kNever / 2 || f.warmup < 0 ||
      f.warmup >= 1) {
    Usage();
  }
  return f;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Row {
  const Trace* trace;
  double fraction;
  size_t entries;
  Outcome ours, lru, belady;
  double ideal_lfu;
  std::optional<Outcome> perfect_lfu;
};

void PrintTable(const std::vector<Row>& rows, bool steady) {
  std::printf("| trace | cache | ours | LRU | ideal LFU | Belady | ours/LFU | ours/Belady |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    const double ours = (steady ? r.ours.steady() : r.ours.whole()).ratio();
    const double lru = (steady ? r.lru.steady() : r.lru.whole()).ratio();
    const double opt = (steady ? r.belady.steady() : r.belady.whole()).ratio();
    std::printf("| %s | %.1f%% (%zu) | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f |\n",
                r.trace->name.c_str(), r.fraction * 100, r.entries, ours, lru, r.ideal_lfu, opt,
                ours / r.ideal_lfu, ours / opt);
  }
}

// --scan-resistance: the scan-resistance table alone (ours and LRU on the
// Zipf 0.8 trace without and with scans), with what ours' policy did: for
// tuning the policy's defences in about a minute instead of the full run.
int RunScanResistance(const Flags& flags) {
  const Zipf zipf08(flags.keys, 0.8);
  const Trace plain = ZipfTrace("Zipf 0.8", zipf08, flags.keys, flags.requests, flags.seed);
  const Trace scans = WithScans(plain, flags.seed + 2);
  std::printf(
      "| cache | ours | ours + scans | change | LRU | LRU + scans | change | shifts | window "
      "| moves | rejected |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (double fraction : kCacheFractions) {
    const size_t entries = static_cast<size_t>(flags.keys * fraction);
    CacheStats stats, plain_stats;
    const double ours = RunOurs(plain, entries, flags, &plain_stats).whole().zipf_ratio();
    const double ours_s = RunOurs(scans, entries, flags, &stats).whole().zipf_ratio();
    const double lru = RunLru(plain, entries, flags.warmup).whole().zipf_ratio();
    const double lru_s = RunLru(scans, entries, flags.warmup).whole().zipf_ratio();
    std::printf(
        "| %.1f%% | %.4f | %.4f | %+.1f%% | %.4f | %.4f | %+.1f%% | %llu (%llu) | %.2f (%.2f) "
        "| %llu | %llu |\n",
        fraction * 100, ours, ours_s, (ours_s / ours - 1) * 100, lru, lru_s,
        (lru_s / lru - 1) * 100, static_cast<unsigned long long>(stats.shifts),
        static_cast<unsigned long long>(plain_stats.shifts), stats.window_fraction,
        plain_stats.window_fraction, static_cast<unsigned long long>(stats.window_moves),
        static_cast<unsigned long long>(stats.admissions_rejected));
    std::fflush(stdout);
  }
  std::printf("\n(shifts and window: with scans, then without in parentheses)\n");
  return 0;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  if (!flags.traces.empty()) return RunTraces(flags.traces, flags.sizes, flags);
  if (flags.scan_resistance) return RunScanResistance(flags);
  const auto start = std::chrono::steady_clock::now();
  std::printf(
      "keys %u, Zipf requests per trace %llu, seed %llu, shards %d, window %.3f, "
      "protected %.2f, sketch samples/entry %d, steady state from %.0f%% of a trace\n\n",
      flags.keys, static_cast<unsigned long long>(flags.requests),
      static_cast<unsigned long long>(flags.seed), flags.cache.shards, flags.cache.window_fraction,
      flags.cache.protected_fraction, flags.cache.sketch_samples_per_entry, flags.warmup * 100);
  const Zipf zipf08(flags.keys, 0.8), zipf10(flags.keys, 1.0);
  std::vector<Trace> traces;
  traces.push_back(ZipfTrace("Zipf 0.8", zipf08, flags.keys, flags.requests, flags.seed));
  traces.push_back(ZipfTrace("Zipf 1.0", zipf10, flags.keys, flags.requests, flags.seed + 1));
  traces.push_back(WithScans(traces[0], flags.seed + 2));
  // Not one of the goals: shows how fast the policy follows a moving hot set.
  traces.push_back(ZipfTrace("Zipf 0.8, hot set moves 10x (stress)", zipf08, flags.keys,
                             flags.requests, flags.seed + 3, 10));

  std::vector<Row> rows;
  for (const Trace& t : traces) {
    const std::vector<uint32_t> next_use = NextUses(t);
    for (double fraction : kCacheFractions) {
      const size_t entries = static_cast<size_t>(flags.keys * fraction);
      rows.push_back(Row{
          &t, fraction, entries, RunOurs(t, entries, flags), RunLru(t, entries, flags.warmup),
          RunBelady(t, next_use, entries, flags.warmup), t.zipf->TopMass(entries) * t.zipf_share,
          flags.perfect_lfu ? std::optional(RunPerfectLfu(t, entries, flags.warmup))
                            : std::nullopt});
      std::fprintf(stderr, "%s, %zu entries: done at %.0f s\n", t.name.c_str(), entries,
                   Seconds(start));
    }
  }

  std::printf("Hit ratios over each whole trace (cold start):\n\n");
  PrintTable(rows, /*steady=*/false);
  std::printf("\nHit ratios in the steady state (the last %.0f%% of each trace):\n\n",
              (1 - flags.warmup) * 100);
  PrintTable(rows, /*steady=*/true);

  if (flags.perfect_lfu) {
    std::printf(
        "\nOnline LFU with exact, unbounded counts (--perfect-lfu), over whole traces and in "
        "the steady state, / ideal LFU:\n\n| trace | cache | perfect LFU | / ideal | ours / "
        "perfect LFU | steady | / ideal |\n|---|---|---|---|---|---|---|\n");
    for (const Row& r : rows) {
      const double p = r.perfect_lfu->whole().ratio(), ps = r.perfect_lfu->steady().ratio();
      std::printf("| %s | %.1f%% | %.4f | %.3f | %.3f | %.4f | %.3f |\n", r.trace->name.c_str(),
                  r.fraction * 100, p, p / r.ideal_lfu, r.ours.whole().ratio() / p, ps,
                  ps / r.ideal_lfu);
    }
  }

  // Rows 0-2: Zipf 0.8 without scans; rows 6-8: the same requests with scans.
  const size_t sizes = std::size(kCacheFractions);
  std::printf(
      "\nScan resistance: hit ratio on the Zipf 0.8 requests over the whole trace, "
      "without and with the scans (%.1f%% of requests) spliced in:\n\n",
      (1 - traces[2].zipf_share) * 100);
  std::printf("| cache | ours | ours + scans | change | LRU | LRU + scans | change |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  double worst_scan_change = 0;
  for (size_t i = 0; i < sizes; ++i) {
    const Row& plain = rows[i];
    const Row& scan = rows[2 * sizes + i];
    const double ours = plain.ours.whole().zipf_ratio(), ours_s = scan.ours.whole().zipf_ratio();
    const double lru = plain.lru.whole().zipf_ratio(), lru_s = scan.lru.whole().zipf_ratio();
    worst_scan_change = std::min(worst_scan_change, ours_s / ours - 1);
    std::printf("| %.1f%% | %.4f | %.4f | %+.1f%% | %.4f | %.4f | %+.1f%% |\n",
                kCacheFractions[i] * 100, ours, ours_s, (ours_s / ours - 1) * 100, lru, lru_s,
                (lru_s / lru - 1) * 100);
  }
  double worst_whole = 1e9, worst_steady = 1e9;
  for (size_t i = 0; i < 3 * sizes; ++i) {
    worst_whole = std::min(worst_whole, rows[i].ours.whole().ratio() / rows[i].ideal_lfu);
    worst_steady = std::min(worst_steady, rows[i].ours.steady().ratio() / rows[i].ideal_lfu);
  }
  std::printf(
      "\nWorst ours/ideal LFU on the Zipf and scan traces: %.3f over whole traces, "
      "%.3f in the steady state (goal >= 0.97).\nWorst change of ours under scans: "
      "%+.1f%% (goal: within 5%%). Run time %.0f s.\n",
      worst_whole, worst_steady, worst_scan_change * 100, Seconds(start));
  return 0;
}

}  // namespace
}  // namespace tempo::cache

int main(int argc, char** argv) { return tempo::cache::Main(argc, argv); }
