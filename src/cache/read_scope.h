// ReadScope: lookups that return the cache's own copy of a value, by plain
// pointer, valid until the scope ends (one request on one thread).
//
// A lookup that returns a std::shared_ptr writes the value's reference
// count: every reader of a hot key increments and decrements the same
// control block, and on several cores that one cache line moving between
// them was the largest remaining cost of a hit (docs/benchmarks.md). Inside
// a ReadScope a hit writes nothing another core reads: the scope pins the
// cache's reclamation epoch (epoch.h), and a node, with its value, is freed
// only once no scope that could have seen it is still alive. A value that
// was loaded (a miss) rather than found is owned by the scope instead.
//
//   cache::ReadScope scope(deadline);
//   auto entry = l1.GetOrLoad(key, loader, &scope);   // entry->value: const T*
//   ... use *entry->value until `scope` ends ...
//
// Keep a scope short (a request, not a connection): while any thread of the
// process holds one, memory that every cache evicts meanwhile waits to be
// freed. A scope may be used with several caches; it is not thread-safe and
// must end on the thread that created it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "cache/epoch.h"

namespace tempo::cache {

namespace internal {
class ShardedCache;
}

class ReadScope {
 public:
  ReadScope() = default;
  // A scope whose lookups wait for another caller's load of the same key
  // no later than `wait_deadline` (and never longer than the cache's
  // load_wait_timeout): a request's scope carries the request's deadline.
  explicit ReadScope(std::chrono::steady_clock::time_point wait_deadline)
      : wait_deadline_(wait_deadline) {}
  ~ReadScope() = default;
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

  // Makes `value` live until the scope ends, and returns it: for values the
  // scope's lookups did not find in a cache (loaded, or from another source)
  // that the caller hands out alongside the ones they did find.
  template <typename T>
  const T* Keep(std::shared_ptr<const T> value) {
    const T* raw = value.get();
    kept_.push_back(std::move(value));
    return raw;
  }

 private:
  friend class internal::ShardedCache;

  internal::EpochGuard guard_;
  std::optional<std::chrono::steady_clock::time_point> wait_deadline_;
  std::vector<std::shared_ptr<const void>> kept_;  // empty unless something missed
};

}  // namespace tempo::cache
