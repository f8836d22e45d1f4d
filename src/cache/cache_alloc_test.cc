// Checks that a hit does not allocate: this binary replaces the global
// operator new to count allocations made by the current thread.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "cache/cache.h"
#include "cache/cache_test_util.h"

namespace {
thread_local long allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace tempo::cache::testing {
namespace {

TEST(CacheAllocationTest, HitsDoNotAllocate) {
  FakeClock clock;
  CacheOptions o;
  o.clock = clock.Fn();
  SliceCache cache(o);
  // A key longer than the small-string buffer, as real slice keys are.
  const std::string key =
      std::string("tenant-with-a-long-name") + '\x1f' + "web" + '\x1f' + "homepage" + '\x1f' + "*";
  const SliceCache::Loader loader = Returning(key, 1);
  ASSERT_EQ(cache.GetOrLoad(key, loader)->source, Source::kLoaded);

  const long before = allocations;
  for (int i = 0; i < 1000; ++i) {
    auto r = cache.GetOrLoad(key, loader);
    ASSERT_EQ(r->source, Source::kHit);
    auto v = cache.Get(key);
    ASSERT_TRUE(v.has_value());
  }
  EXPECT_EQ(allocations - before, 0);

  // A lambda with captures larger than std::function's inline buffer, passed
  // as itself (not as a Loader), is not copied on a hit either.
  const std::string partition = "a partition name longer than the small-string buffer";
  auto lambda = [partition, key]() -> Result<SliceCache::Loaded> {
    return SliceCache::Loaded{MakeSlice(key + partition, 1), 100, std::nullopt};
  };
  const long before_lambda = allocations;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(cache.GetOrLoad(key, lambda)->source, Source::kHit);
  EXPECT_EQ(allocations - before_lambda, 0);

  // Nor is it on a hit of the request path's lookups, which read in place.
  const long before_pinned = allocations;
  for (int i = 0; i < 1000; ++i) {
    ReadScope scope;
    ASSERT_EQ(cache.GetOrLoad(key, lambda, &scope)->source, Source::kHit);
    ASSERT_EQ(cache.TryGet(key, lambda, &scope)->source, Source::kHit);
  }
  EXPECT_EQ(allocations - before_pinned, 0);

  // The counter works: a miss allocates (the node, the in-flight record).
  const long before_miss = allocations;
  ASSERT_EQ(cache.GetOrLoad(key + "2", loader)->source, Source::kLoaded);
  EXPECT_GT(allocations - before_miss, 0);
}

}  // namespace
}  // namespace tempo::cache::testing
