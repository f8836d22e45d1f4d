// Tests of TenantLimiter: the bucket's arithmetic on a fake clock, leases
// across threads, and its bounds.
#include "api/tenant_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tempo::api {
namespace {

constexpr int64_t kMs = 1'000'000;

// A clock the test moves; safe to read from many threads.
struct FakeClock {
  std::atomic<int64_t> now{1'000'000 * kMs};
  std::function<int64_t()> Fn() {
    return [this] { return now.load(); };
  }
  void Advance(int64_t ns) { now += ns; }
};

TenantLimiterOptions Options(FakeClock* clock, int64_t rate, int64_t burst) {
  TenantLimiterOptions options;
  options.default_limit = {rate, burst};
  options.clock = clock->Fn();
  return options;
}

// Admits until the first refusal; returns how many were admitted, and the
// refusal's Retry-After in *retry.
int AdmitUntilRefused(TenantLimiter* limiter, std::string_view tenant, int64_t* retry,
                      int bound = 1'000'000) {
  for (int i = 0; i < bound; ++i) {
    if (int64_t r = limiter->Admit(tenant); r != 0) {
      *retry = r;
      return i;
    }
  }
  *retry = 0;
  return bound;
}

TEST(TenantLimiter, OffByDefault) {
  TenantLimiter limiter{TenantLimiterOptions{}};
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Admit("ACME"), 0);
  EXPECT_EQ(limiter.Stats().limited, 0u);
}

TEST(TenantLimiter, ABurstThenTheRate) {
  FakeClock clock;
  TenantLimiter limiter(Options(&clock, 10, 20));
  int64_t retry = 0;
  EXPECT_EQ(AdmitUntilRefused(&limiter, "ACME", &retry), 20);  // the burst
  EXPECT_EQ(retry, 1);  // 100 ms to the next token: rounded up to a whole second
  EXPECT_EQ(limiter.Stats().limited, 1u);
  clock.Advance(99 * kMs);
  EXPECT_NE(limiter.Admit("ACME"), 0);
  clock.Advance(1 * kMs);
  EXPECT_EQ(limiter.Admit("ACME"), 0);  // one token a 100 ms
  EXPECT_NE(limiter.Admit("ACME"), 0);
  clock.Advance(500 * kMs);
  EXPECT_EQ(AdmitUntilRefused(&limiter, "ACME", &retry), 5);
  // Another tenant has a bucket of its own.
  EXPECT_EQ(AdmitUntilRefused(&limiter, "Globex", &retry), 20);
  // Idle long enough, the bucket is full again, never fuller.
  clock.Advance(60'000 * kMs);
  EXPECT_EQ(AdmitUntilRefused(&limiter, "ACME", &retry), 20);
}

TEST(TenantLimiter, RetryAfterCountsWholeSecondsToTheNextToken) {
  FakeClock clock;
  TenantLimiter limiter(Options(&clock, 1, 1));  // one a second
  int64_t retry = 0;
  EXPECT_EQ(AdmitUntilRefused(&limiter, "ACME", &retry), 1);
  EXPECT_EQ(retry, 1);
  TenantLimiterOptions slow = Options(&clock, 1, 3);
  slow.overrides["ACME"] = {1, 3};
  TenantLimiter three(slow);
  EXPECT_EQ(AdmitUntilRefused(&three, "ACME", &retry), 3);
  EXPECT_EQ(retry, 1);
  clock.Advance(200 * kMs);
  EXPECT_EQ(three.Admit("ACME"), 1);  // 800 ms left: 1 s
}

TEST(TenantLimiter, OverTimeTheRateHoldsWithLargeChunks) {
  // burst 12800: threads lease 64 tokens at a time.
  FakeClock clock;
  TenantLimiter limiter(Options(&clock, 10'000, 12'800));
  int64_t admitted = 0;
  // 10 simulated seconds of 100 requests a millisecond (10x the rate).
  for (int ms = 0; ms < 10'000; ++ms) {
    for (int i = 0; i < 100; ++i) admitted += limiter.Admit("ACME") == 0 ? 1 : 0;
    clock.Advance(kMs);
  }
  // One thread: exactly the burst and the rate (the last ms's tokens arrive
  // after the last request).
  EXPECT_EQ(admitted, 12'800 + 10'000 * 10 - 10);
}

TEST(TenantLimiter, OverridesWinAndTenantsWithoutALimitAreFree) {
  FakeClock clock;
  TenantLimiterOptions options;
  options.clock = clock.Fn();
  options.overrides["ACME"] = {5, 0};  // burst: the rate
  TenantLimiter limiter(options);
  EXPECT_TRUE(limiter.enabled());
  EXPECT_EQ(limiter.LimitOf("ACME").burst, 5);
  EXPECT_EQ(limiter.LimitOf("Globex").rate, 0);
  int64_t retry = 0;
  EXPECT_EQ(AdmitUntilRefused(&limiter, "ACME", &retry), 5);
  EXPECT_EQ(AdmitUntilRefused(&limiter, "Globex", &retry, 10'000), 10'000);
  EXPECT_EQ(limiter.Stats().tenants, 1u);  // no bucket for a free tenant
}

TEST(TenantLimiter, ManyTenantsKeepMemoryBounded) {
  FakeClock clock;
  TenantLimiterOptions options = Options(&clock, 1, 2);
  options.max_tenants = 100;
  options.overrides["VIP"] = {1000, 1000};
  TenantLimiter limiter(options);
  // 1000 busy tenants (each with an empty bucket): the table stops at 100,
  // the others share one overflow bucket of the default limit.
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string tenant = "t" + std::to_string(i);
    admitted += limiter.Admit(tenant) == 0 ? 1 : 0;
    admitted += limiter.Admit(tenant) == 0 ? 1 : 0;
  }
  EXPECT_EQ(limiter.Stats().tenants, 100u);
  EXPECT_EQ(admitted, 100 * 2 + 2);  // the overflow bucket's burst is shared
  // A tenant of the file always has its own bucket.
  int64_t retry = 0;
  EXPECT_EQ(AdmitUntilRefused(&limiter, "VIP", &retry), 1000);
  // Once idle buckets are full again, they make room for new tenants.
  clock.Advance(10'000 * kMs);
  EXPECT_EQ(limiter.Admit("newcomer"), 0);
  EXPECT_EQ(limiter.Admit("newcomer"), 0);
  EXPECT_NE(limiter.Admit("newcomer"), 0);
  EXPECT_LE(limiter.Stats().tenants, 101u);
}

// Serving threads lease chunks; every token leased is spent by its thread,
// so with a frozen clock the threads together admit exactly the burst,
// however they interleave. (Run under TSan: tempo_api_test
// --gtest_filter='TenantLimiter*'.)
TEST(TenantLimiterConcurrency, ThreadsTogetherAdmitExactlyTheBurst) {
  FakeClock clock;
  TenantLimiter limiter(Options(&clock, 1000, 6400));  // chunks of 50
  constexpr int kThreads = 8;
  for (int round = 0; round < 3; ++round) {
    std::atomic<int64_t> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        int64_t retry = 0;
        admitted += AdmitUntilRefused(&limiter, "ACME", &retry);
        EXPECT_GE(retry, 1);
      });
    }
    for (std::thread& t : threads) t.join();
    // Round 0: the full burst; later rounds: what 2 s refill (2000 tokens).
    EXPECT_EQ(admitted.load(), round == 0 ? 6400 : 2000) << "round " << round;
    clock.Advance(2000 * kMs);
  }
}

TEST(TenantLimiterConcurrency, ManyThreadsManyTenantsMovingClock) {
  FakeClock clock;
  TenantLimiterOptions options = Options(&clock, 100'000, 100'000);
  options.max_tenants = 8;  // sweeping and the overflow bucket under load
  TenantLimiter limiter(options);
  std::vector<std::thread> threads;
  std::atomic<int64_t> admitted{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        const std::string tenant = "t" + std::to_string((i + t) % 16);
        if (limiter.Admit(tenant) == 0) ++admitted;
        if (i % 1000 == 0) clock.Advance(kMs);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(admitted.load(), 0);
  EXPECT_LE(admitted.load(), 8 * 20'000);
  EXPECT_LE(limiter.Stats().tenants, 8u);
}

}  // namespace
}  // namespace tempo::api
