// Tests of SendSchedule: the connections' intended send times interleave into one even rate.
#include "loadgen/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace tempo::loadgen {
namespace {

TEST(ScheduleTest, ConnectionsTogetherSendAtTheRateInTurn) {
  const Clock::time_point start{};
  constexpr int kConnections = 4;
  std::vector<Clock::time_point> all;
  for (int c = 0; c < kConnections; ++c) {
    const SendSchedule s(start, 1000, kConnections, c);
    for (uint64_t k = 0; k < 250; ++k) all.push_back(s.At(k));
  }
  std::sort(all.begin(), all.end());
  for (size_t n = 0; n < all.size(); ++n) {
    ASSERT_EQ(all[n], start + std::chrono::milliseconds(n)) << n;
  }
}

TEST(ScheduleTest, RateTimesDurationRequestsFallInTheDuration) {
  const Clock::time_point start = Clock::now();
  // 1e9 / 300 ns is not whole: rounding must not push request 600 below the end.
  for (double rate : {300.0, 7.0, 1000.0, 333.0, 12345.0}) {
    for (int connections : {1, 3, 64}) {
      uint64_t total = 0;
      for (int c = 0; c < connections; ++c) {
        total +=
            SendSchedule(start, rate, connections, c).CountBefore(start + std::chrono::seconds(2));
      }
      EXPECT_EQ(total, static_cast<uint64_t>(rate * 2)) << rate << " " << connections;
    }
  }
}

TEST(ScheduleTest, CountBeforeIsTheFirstIndexAtOrAfter) {
  const Clock::time_point start{};
  const SendSchedule s(start, 100, 2, 1);  // 10 ms apart in turns of 20 ms, from 10 ms
  EXPECT_EQ(s.At(0), start + std::chrono::milliseconds(10));
  EXPECT_EQ(s.At(1), start + std::chrono::milliseconds(30));
  EXPECT_EQ(s.CountBefore(start), 0u);
  EXPECT_EQ(s.CountBefore(start + std::chrono::milliseconds(10)), 0u);
  EXPECT_EQ(s.CountBefore(start + std::chrono::milliseconds(10) + std::chrono::nanoseconds(1)), 1u);
  EXPECT_EQ(s.CountBefore(start + std::chrono::milliseconds(30)), 1u);
  EXPECT_EQ(s.CountBefore(start + std::chrono::seconds(1)), 50u);
}

}  // namespace
}  // namespace tempo::loadgen
