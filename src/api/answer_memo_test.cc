// Tests for AnswerMemo: what is kept, when an entry answers, and that each
// thread has its own.
#include "api/answer_memo.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "select/slice.h"

namespace tempo::api {
namespace {

constexpr UnixNanos kNow = 1'000'000'000'000'000'000;

std::shared_ptr<const select::PageSlice> Slice(std::optional<UnixNanos> start = std::nullopt) {
  events::Module m;
  m.id = "m";
  m.tenant = "T";
  m.page_type = "home";
  m.zone = "z";
  m.channels = {"web"};
  m.version = 1;
  m.content_json = "null";
  m.schedule.start = start;
  return select::CompileSlice("*", {m});
}

// Admits `key` (asking it twice, as a repeated query is) and commits an
// entry for `slices` at `at`.
void Keep(const AnswerMemo& memo, const AnswerMemo::Key& key, const PageSlices& slices,
          UnixNanos at, std::string body) {
  ASSERT_EQ(memo.Admit(key), nullptr) << "a query asked once is not kept";
  AnswerMemo::Entry* entry = memo.Admit(key);
  ASSERT_NE(entry, nullptr);
  entry->SetSource(slices, at);
  entry->tenant = "T";
  entry->body = std::move(body);
  memo.Commit(key);
}

TEST(AnswerMemo, KeepsAQueryAskedTwiceUnderItsWholeKey) {
  const AnswerMemo memo(16);
  auto slice = Slice();
  const PageSlices slices{slice.get(), nullptr, Tier::kL1};
  const AnswerMemo::Key key{2, false, "tenant=T&channel=web&pageType=home"};
  EXPECT_EQ(memo.Find(key), nullptr);
  Keep(memo, key, slices, kNow, "body");
  const AnswerMemo::Entry* entry = memo.Find(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->body, "body");
  EXPECT_TRUE(entry->AnswersFor(slices, kNow + 1'000'000'000));
  // The API version, whether `at` is honoured and the exact bytes are all
  // part of the key.
  EXPECT_EQ(memo.Find({1, false, key.query}), nullptr);
  EXPECT_EQ(memo.Find({2, true, key.query}), nullptr);
  EXPECT_EQ(memo.Find({2, false, "tenant=T&channel=web&pageType=home&"}), nullptr);
}

TEST(AnswerMemo, AnswersOnlyForItsOwnSlicesAndSpan) {
  const AnswerMemo memo(16);
  auto type_slice = Slice(kNow + 100);  // a module starts at kNow + 100
  auto page_slice = Slice();
  const PageSlices slices{type_slice.get(), page_slice.get(), Tier::kL1};
  const AnswerMemo::Key key{2, false, "q"};
  Keep(memo, key, slices, kNow, "body");
  const AnswerMemo::Entry* entry = memo.Find(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->AnswersFor(slices, kNow));
  EXPECT_TRUE(entry->AnswersFor(slices, kNow + 99));
  EXPECT_FALSE(entry->AnswersFor(slices, kNow + 100)) << "the schedule changes the answer";
  EXPECT_FALSE(entry->AnswersFor(slices, kNow - 1)) << "a clock that went back";
  // The same content compiled again (a reload, an invalidation) is another
  // slice; so is a missing page slice.
  auto reloaded = Slice(kNow + 100);
  EXPECT_FALSE(entry->AnswersFor({reloaded.get(), page_slice.get(), Tier::kL1}, kNow));
  EXPECT_FALSE(entry->AnswersFor({type_slice.get(), nullptr, Tier::kL1}, kNow));
}

TEST(AnswerMemo, AQueryWithAtAnswersAtAnyClock) {
  const AnswerMemo memo(16);
  auto slice = Slice(kNow + 100);
  const PageSlices slices{slice.get(), nullptr, Tier::kL1};
  AnswerMemo::Entry entry;
  entry.at = kNow + 100;  // exactly where the schedule starts
  entry.SetSource(slices, kNow + 100);
  EXPECT_TRUE(entry.AnswersFor(slices, kNow));
  EXPECT_TRUE(entry.AnswersFor(slices, kNow + 1'000'000));
}

TEST(AnswerMemo, MadeOnAScheduleInstantItAnswersForThatInstantOnly) {
  auto slice = Slice(kNow);
  const PageSlices slices{slice.get(), nullptr, Tier::kL1};
  AnswerMemo::Entry entry;
  entry.SetSource(slices, kNow);
  EXPECT_TRUE(entry.AnswersFor(slices, kNow));
  EXPECT_FALSE(entry.AnswersFor(slices, kNow + 1));
  EXPECT_FALSE(entry.AnswersFor(slices, kNow - 1));
  entry.SetSource(slices, kNow + 1);
  EXPECT_EQ(entry.valid_until, std::numeric_limits<UnixNanos>::max());
  EXPECT_TRUE(entry.AnswersFor(slices, kNow + 1'000'000'000));
}

TEST(AnswerMemo, OneOffQueriesEvictNothing) {
  const AnswerMemo memo(4);
  auto slice = Slice();
  const PageSlices slices{slice.get(), nullptr, Tier::kL1};
  const AnswerMemo::Key hot{2, false, "hot"};
  Keep(memo, hot, slices, kNow, "hot body");
  std::vector<std::string> queries;
  for (int i = 0; i < 1000; ++i) queries.push_back("visitor-" + std::to_string(i));
  for (const std::string& q : queries) {
    ASSERT_EQ(memo.Find({2, false, q}), nullptr);
    EXPECT_EQ(memo.Admit({2, false, q}), nullptr) << q;
  }
  ASSERT_NE(memo.Find(hot), nullptr);
  EXPECT_EQ(memo.Find(hot)->body, "hot body");
}

TEST(AnswerMemo, EachThreadHasItsOwn) {
  const AnswerMemo memo(16);
  auto slice = Slice();
  const AnswerMemo::Key key{2, false, "q"};
  Keep(memo, key, {slice.get(), nullptr, Tier::kL1}, kNow, "body");
  bool found_elsewhere = true;
  std::thread([&] { found_elsewhere = memo.Find(key) != nullptr; }).join();
  EXPECT_FALSE(found_elsewhere);
  EXPECT_NE(memo.Find(key), nullptr);
}

TEST(AnswerMemo, ZeroEntriesKeepsNothing) {
  const AnswerMemo memo(0);
  const AnswerMemo::Key key{2, false, "q"};
  EXPECT_EQ(memo.Admit(key), nullptr);
  EXPECT_EQ(memo.Admit(key), nullptr);
  EXPECT_EQ(memo.Find(key), nullptr);
}

TEST(AnswerMemo, AnotherInstanceOnTheThreadStartsEmpty) {
  auto slice = Slice();
  const AnswerMemo::Key key{2, false, "q"};
  const AnswerMemo first(16);
  Keep(first, key, {slice.get(), nullptr, Tier::kL1}, kNow, "first");
  const AnswerMemo second(16);
  EXPECT_EQ(second.Find(key), nullptr);
  EXPECT_EQ(first.Find(key), nullptr) << "the thread's table is the second's now";
}

}  // namespace
}  // namespace tempo::api
