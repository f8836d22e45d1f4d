// Tests for AvailableCpus and the cgroup quota parsers.
#include "common/cpus.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace tempo {
namespace {

TEST(Cpus, CgroupV2Max) {
  EXPECT_EQ(CpusOfCgroupV2Max("200000 100000\n"), 2);
  EXPECT_EQ(CpusOfCgroupV2Max("150000 100000"), 2);  // 1.5 CPUs: 2 threads
  EXPECT_EQ(CpusOfCgroupV2Max("50000 100000"), 1);
  EXPECT_EQ(CpusOfCgroupV2Max("max 100000\n"), std::nullopt);
  EXPECT_EQ(CpusOfCgroupV2Max(""), std::nullopt);
  EXPECT_EQ(CpusOfCgroupV2Max("garbage"), std::nullopt);
}

TEST(Cpus, CgroupV1Quota) {
  EXPECT_EQ(CpusOfCgroupV1Quota("400000\n", "100000\n"), 4);
  EXPECT_EQ(CpusOfCgroupV1Quota("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(CpusOfCgroupV1Quota("", ""), std::nullopt);
}

TEST(Cpus, AvailableIsWithinTheAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const int cpus = AvailableCpus();
  EXPECT_GE(cpus, 1);
  EXPECT_LE(cpus, CPU_COUNT(&set));
  EXPECT_LE(cpus, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace tempo
