// Tests of the outbox's pending invalidations (outbox.h): derived from a
// batch's results, encoded and decoded.
#include "origin/outbox.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tempo::origin {
namespace {

SliceKey Slice(std::string tenant, std::string channel, std::string scope) {
  return {{std::move(tenant), std::move(channel), "home"}, std::move(scope)};
}

events::Event Versioned(int64_t version) {
  events::Event e;
  e.version = version;
  return e;
}

// Decodes `bytes`, expecting OK.
std::vector<SliceTouch> Decoded(const std::string& bytes) {
  std::vector<SliceTouch> touches = {{Slice("left", "over", "*"), 1}};  // replaced, not appended to
  Status s = DecodePendingInvalidations(bytes, &touches);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return touches;
}

TEST(OutboxTest, EachSliceOnceWithTheHighestVersionOfTheEventsThatTouchedIt) {
  const events::Event v5 = Versioned(5), v9 = Versioned(9), v7 = Versioned(7), v1 = Versioned(1);
  const events::Event* const events[] = {&v5, &v9, &v7, &v1};
  // v9 touched nothing (stale); v1 touched what v7 did, later.
  const std::vector<ApplyResult> results = {{Status::OK(), ApplyOutcome::kApplied, 2},
                                            {Status::OK(), ApplyOutcome::kStale, 0},
                                            {Status::OK(), ApplyOutcome::kApplied, 2},
                                            {Status::OK(), ApplyOutcome::kApplied, 1}};
  const std::vector<SliceKey> touched = {Slice("b", "web", "*"), Slice("a", "web", "p1"),
                                         Slice("a", "web", "p1"), Slice("a", "app", "*"),
                                         Slice("a", "app", "*")};
  EXPECT_EQ(
      Decoded(EncodePendingInvalidations(events, results, touched)),
      (std::vector<SliceTouch>{
          {Slice("a", "app", "*"), 7}, {Slice("a", "web", "p1"), 7}, {Slice("b", "web", "*"), 5}}));
  EXPECT_TRUE(Decoded(EncodePendingInvalidations({}, {}, {})).empty());
}

TEST(OutboxTest, EncodingRoundTripsAnyBytesAndVersions) {
  const events::Event v0 = Versioned(0), max = Versioned(INT64_MAX), negative = Versioned(-1);
  const events::Event* const events[] = {&v0, &max, &negative};
  const std::vector<ApplyResult> results = {{Status::OK(), ApplyOutcome::kApplied, 1},
                                            {Status::OK(), ApplyOutcome::kApplied, 1},
                                            {Status::OK(), ApplyOutcome::kApplied, 1}};
  const SliceKey binary = {{std::string("t\0\xff", 3), "web", ""}, "*"};
  const SliceKey empty = {{"", "", ""}, ""};
  const SliceKey long_channel = Slice("t", std::string(300, 'c'), "p1");
  const std::vector<SliceKey> touched = {empty, binary, long_channel};
  EXPECT_EQ(Decoded(EncodePendingInvalidations(events, results, touched)),
            (std::vector<SliceTouch>{{empty, 0}, {long_channel, -1}, {binary, INT64_MAX}}));
}

TEST(OutboxTest, MalformedBytesAreCorruption) {
  const events::Event v3 = Versioned(3);
  const events::Event* const events[] = {&v3};
  const std::vector<ApplyResult> results = {{Status::OK(), ApplyOutcome::kApplied, 2}};
  const std::vector<SliceKey> touched = {Slice("t", "web", "*"), Slice("t", "app", "p")};
  const std::string good = EncodePendingInvalidations(events, results, touched);
  ASSERT_EQ(Decoded(good).size(), 2u);
  std::vector<std::string> bad = {"", std::string("\x02", 1) + good.substr(1), good + "x",
                                  // a count far beyond the bytes that follow
                                  std::string("\x01\xff\xff\xff\xff\x0f", 6) + good.substr(2)};
  for (size_t cut = 1; cut < good.size(); ++cut) bad.push_back(good.substr(0, cut));
  for (const std::string& bytes : bad) {
    std::vector<SliceTouch> decoded;
    EXPECT_EQ(DecodePendingInvalidations(bytes, &decoded).code(), Status::Code::kCorruption)
        << testing::PrintToString(bytes);
  }
}

}  // namespace
}  // namespace tempo::origin
