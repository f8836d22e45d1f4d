// Tests of the process metrics: parsing /proc text, and this test process's own figures.
#include "admin/process_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "common/time.h"

namespace tempo::admin {
namespace {

// A /proc/<pid>/stat line (proc(5)) of a process whose command name holds a space and a ')':
// utime 250, stime 50, starttime 1000 (ticks), vsize 1 GiB, rss 2048 pages.
constexpr std::string_view kStat =
    "4242 (tempo (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 1000 "
    "1073741824 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n";

TEST(ProcStatTest, ParsesTheFieldsAfterTheCommandName) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(kStat, 100, 4096, 1'700'000'000, &stats).ok());
  EXPECT_DOUBLE_EQ(stats.cpu_seconds, 3.0);  // (250 + 50) / 100
  EXPECT_EQ(stats.virtual_bytes, uint64_t{1} << 30);
  EXPECT_EQ(stats.resident_bytes, 2048u * 4096u);
  EXPECT_DOUBLE_EQ(stats.start_time_seconds, 1'700'000'010.0);  // boot + 1000 / 100
}

TEST(ProcStatTest, RejectsTruncatedOrMalformedText) {
  ProcessStats stats;
  EXPECT_EQ(ParseProcStat("", 100, 4096, 0, &stats).code(), Status::Code::kCorruption);
  EXPECT_EQ(ParseProcStat("42 (x) S 1 2 3", 100, 4096, 0, &stats).code(),
            Status::Code::kCorruption);
  std::string bad(kStat);
  bad.replace(bad.find(" 250 "), 5, " 2x0 ");
  EXPECT_EQ(ParseProcStat(bad, 100, 4096, 0, &stats).code(), Status::Code::kCorruption);
  EXPECT_EQ(ParseProcStat(kStat, 0, 4096, 0, &stats).code(), Status::Code::kCorruption);
}

TEST(ProcStatTest, BootTime) {
  const Result<uint64_t> btime =
      ParseBootTime("cpu  1 2 3\nintr 5\nctxt 99\nbtime 1765000000\nprocesses 12\n");
  ASSERT_TRUE(btime.ok());
  EXPECT_EQ(*btime, 1'765'000'000u);
  EXPECT_EQ(ParseBootTime("cpu 1\n").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ParseBootTime("btime x\n").status().code(), Status::Code::kCorruption);
}

TEST(ProcessStatsTest, ThisProcessFigures) {
  const Result<ProcessStats> before = ReadProcessStats();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_GT(before->resident_bytes, 0u);
  EXPECT_GE(before->virtual_bytes, before->resident_bytes);
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(before->max_fds, limit.rlim_cur);
  // Started before now, and (a test process) less than a day ago.
  const double now = static_cast<double>(NowUnixNanos()) / 1e9;
  EXPECT_LE(before->start_time_seconds, now + 1);
  EXPECT_GT(before->start_time_seconds, now - 24 * 3600);

  // Three more descriptors are three more open fds.
  int fds[3];
  for (int& fd : fds) {
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
  }
  // Use 30 ms of CPU (whatever the wall time on a busy machine): the counter moves by
  // clock ticks of 10 ms.
  timespec start{}, now_cpu{};
  ASSERT_EQ(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start), 0);
  volatile uint64_t spin = 0;
  do {
    for (int i = 0; i < 100'000; ++i) spin = spin + 1;
    ASSERT_EQ(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now_cpu), 0);
  } while ((now_cpu.tv_sec - start.tv_sec) * 1'000'000'000L + (now_cpu.tv_nsec - start.tv_nsec) <
           30'000'000L);
  const Result<ProcessStats> after = ReadProcessStats();
  for (int fd : fds) close(fd);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->open_fds, before->open_fds + 3);
  EXPECT_GT(after->cpu_seconds, before->cpu_seconds);
  EXPECT_EQ(after->start_time_seconds, before->start_time_seconds);
}

TEST(ProcessStatsTest, WritesTheSixFamilies) {
  MetricsWriter writer;
  WriteProcessMetrics(&writer);
  const std::string text = writer.Take();
  for (const char* family :
       {"# TYPE process_cpu_seconds_total counter\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_virtual_memory_bytes gauge\n", "# TYPE process_open_fds gauge\n",
        "# TYPE process_max_fds gauge\n", "# TYPE process_start_time_seconds gauge\n"}) {
    EXPECT_NE(text.find(family), std::string::npos) << family << "in\n" << text;
  }
}

}  // namespace
}  // namespace tempo::admin
