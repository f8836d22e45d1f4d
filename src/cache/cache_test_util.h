// Helpers shared by the cache tests: a fake clock, a gate, a value type.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cache/cache.h"

namespace tempo::cache::testing {

// What the tests cache: a key's value at some version.
struct Slice {
  std::string key;
  int version = 0;
};
using SlicePtr = std::shared_ptr<const Slice>;
using SliceCache = Cache<SlicePtr>;

inline SlicePtr MakeSlice(std::string key, int version) {
  return std::make_shared<const Slice>(Slice{std::move(key), version});
}

// A loader returning `key` at `version` with `charge`, counting its calls.
inline SliceCache::Loader Returning(std::string key, int version, size_t charge = 100,
                                    std::atomic<int>* calls = nullptr) {
  return [key = std::move(key), version, charge, calls]() -> Result<SliceCache::Loaded> {
    if (calls != nullptr) ++*calls;
    return SliceCache::Loaded{MakeSlice(key, version), charge, std::nullopt};
  };
}

// Monotonic time that moves only when told to.
class FakeClock {
 public:
  std::function<int64_t()> Fn() {
    return [this] { return now_ns_.load(); };
  }
  void Advance(std::chrono::milliseconds d) { now_ns_ += d.count() * 1'000'000; }

 private:
  std::atomic<int64_t> now_ns_{1'000'000'000'000};
};

// Blocks waiters until opened.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until open; false if `limit` passed first.
  bool Wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A loader returning `key` at `version` that counts its calls, then blocks
// until `gate` opens: the leader of a single flight that a test holds open.
inline auto LoadBlockedOn(Gate* gate, std::atomic<int>* calls, std::string key, int version) {
  return [gate, calls, key = std::move(key), version]() -> Result<SliceCache::Loaded> {
    ++*calls;
    gate->Wait();
    return SliceCache::Loaded{MakeSlice(key, version), 100, std::nullopt};
  };
}

// Polls `done` until it holds or 10 s pass (a bound for a broken build, not
// a speed requirement). Returns whether it held.
inline bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace tempo::cache::testing
