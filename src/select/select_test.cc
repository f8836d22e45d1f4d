// Tests for Select() and Render(): each step of SPEC §4 and rules §11.18-25.
#include "select/select.h"

#include <gtest/gtest.h>

#include <limits>

#include "select/select_test_util.h"

namespace tempo::select {
namespace {

TEST(Select, Step7_OrderPriorityDescThenIdBytewise) {
  Page p = Build({M("b", "main", 5), M("a", "main", 5), M("c", "main", 9), M("Z", "main", 5)});
  EXPECT_EQ(Ids(p.Run(Req())), "main:c,Z,a,b");
}

TEST(Select, Rule25_ZonesByNameWithoutTemplate) {
  Page p = Build({M("a", "zeta", 1), M("b", "alpha", 1), M("c", "Mid", 1)});
  EXPECT_EQ(Ids(p.Run(Req())), "Mid:c|alpha:b|zeta:a");
}

TEST(Select, Rule25_TemplateOrderThenOthersAndLimits) {
  Template t;
  t.tenant = "T";
  t.channel = "web";
  t.page_type = "home";
  t.version = 3;
  t.zones = {{"main", 2}, {"hero", std::nullopt}, {"empty", 0}};
  Page p = Build({M("a", "main", 1), M("b", "main", 2), M("c", "main", 3), M("d", "hero", 1),
                  M("e", "empty", 1), M("f", "aside", 1), t});
  EXPECT_EQ(Ids(p.Run(Req())), "main:c,b|hero:d|aside:f");
}

TEST(Select, Step3_PageSpecificOverridesTypeWidePerZone) {
  Module page_mod = M("pm", "hero", 1);
  page_mod.page_ids = {"p1"};
  Page p = Build({M("tw-hero", "hero", 9), M("tw-main", "main", 1)}, {page_mod});
  EXPECT_EQ(Ids(p.Run(Req("p1"))), "hero:pm|main:tw-main");
}

TEST(Select, Rule19_OverrideEvenWhenPageModuleFiltered) {
  Module expired = M("pm", "hero", 1);
  expired.page_ids = {"p1"};
  expired.schedule.end = kNow - 1;
  Page p = Build({M("tw-hero", "hero", 9)}, {expired});
  EXPECT_EQ(Ids(p.Run(Req("p1"))), "");
  Module untargeted = M("pm", "hero", 1);
  untargeted.targeting_json = R"({"segment":"gold"})";
  Page q = Build({M("tw-hero", "hero", 9)}, {untargeted});
  EXPECT_EQ(Ids(q.Run(Req("p1"))), "");
}

TEST(Select, Step4_ZoneFilter) {
  Page p = Build({M("a", "main", 1), M("b", "hero", 1), M("c", "footer", 1)});
  PageRequest r = Req();
  r.zones = {"footer", "main"};
  EXPECT_EQ(Ids(p.Run(r)), "footer:c|main:a");
}

TEST(Select, Step5_ScheduleStartInclusiveEndExclusive) {
  Module starts_now = M("a", "main", 1);
  starts_now.schedule.start = kNow;
  Module ends_now = M("b", "main", 1);
  ends_now.schedule.end = kNow;
  Module future = M("c", "main", 1);
  future.schedule.start = kNow + 1;
  Page p = Build({starts_now, ends_now, future});
  EXPECT_EQ(Ids(p.Run(Req())), "main:a");
  PageRequest r = Req();
  r.at = kNow + 1;  // preview instant replaces the clock
  EXPECT_EQ(Ids(p.Run(r)), "main:a,c");
}

TEST(Select, Step5_TargetingOnAttributesAndBuiltins) {
  Module gold = M("gold", "main", 1);
  gold.targeting_json = R"({"segment":{"$in":["gold","platinum"]},"age":{"$gt":30}})";
  Module by_page = M("by-page", "main", 1);
  by_page.targeting_json = R"({"pageType":"home","tenant":"T","channel":"web"})";
  Module tags = M("tags", "main", 1);
  tags.targeting_json = R"({"tags":{"$all":["a","b"]}})";
  Page p = Build({gold, by_page, tags});
  PageRequest r = Req();
  EXPECT_EQ(Ids(p.Run(r)), "main:by-page");
  r.attributes = {{"segment", {"gold"}}, {"age", {"31"}}, {"tags", {"b", "a"}}};
  EXPECT_EQ(Ids(p.Run(r)), "main:by-page,gold,tags");
}

TEST(Select, Rule22_ForcedVariantAppliesEvenWhenConditionFails) {
  Variant control{"control", {}, {}, {}};
  Variant b{"B", {"a"}, {}, {}};
  Experiment e = Exp("exp", {control, b});
  e.condition_json = R"({"never":true})";
  Page p = Build({M("a", "main", 1), M("b", "main", 1), e});
  PageRequest r = Req();
  r.visitor_id = "v1";
  Selection none = p.Run(r);
  EXPECT_TRUE(none.experiments.empty());
  EXPECT_EQ(Ids(none), "main:a,b");
  r.variants = {{"exp", "B"}};
  Selection forced = p.Run(r);
  ASSERT_EQ(forced.experiments.size(), 1u);
  EXPECT_EQ(forced.experiments[0].second, "B");
  EXPECT_EQ(Ids(forced), "main:b");
}

TEST(Select, Rule11_UnknownForcedKeyIsBucketedNormally) {
  Experiment e = Exp("exp", {Variant{"only", {"a"}, {}, {}}});
  Page p = Build({M("a", "main", 1), e});
  PageRequest r = Req();
  r.visitor_id = "v1";
  r.variants = {{"exp", "nope"}, {"other", "x"}};
  Selection s = p.Run(r);  // a single-variant experiment with coverage 1 always buckets
  ASSERT_EQ(s.experiments.size(), 1u);
  EXPECT_EQ(s.experiments[0].second, "only");
  EXPECT_EQ(Ids(s), "");
}

TEST(Select, Rule22_NoHashAttributeNoAssignment) {
  Experiment e = Exp("exp", {Variant{"only", {"a"}, {}, {}}});
  Page p = Build({M("a", "main", 1), e});
  Selection s = p.Run(Req());
  EXPECT_TRUE(s.experiments.empty());
  EXPECT_EQ(Ids(s), "main:a");
}

TEST(Select, Rule22_UnsupportedHashVersionNoAssignment) {
  Experiment e = Exp("exp", {Variant{"only", {"a"}, {}, {}}});
  e.hash_version = 3;
  Page p = Build({M("a", "main", 1), e});
  PageRequest r = Req();
  r.visitor_id = "v1";
  EXPECT_TRUE(p.Run(r).experiments.empty());
}

TEST(Select, Rule22_BucketingMatchesGrowthBookHash) {
  Experiment e = Exp("exp", {Variant{"control", {}, {}, {}}, Variant{"B", {}, {}, {}}});
  e.hash_version = 2;
  Page p = Build({e});
  for (const char* visitor : {"v1", "v2", "v3", "v4", "v5"}) {
    PageRequest r = Req();
    r.visitor_id = visitor;
    const int expected = cond::ChooseVariation(*cond::Hash("exp", visitor, 2),
                                               cond::GetBucketRanges(2, 1, std::nullopt));
    Selection s = p.Run(r);
    ASSERT_EQ(s.experiments.size(), 1u);
    EXPECT_EQ(s.experiments[0].second, expected == 0 ? "control" : "B") << visitor;
  }
}

TEST(Select, Rule23_RemoveThenAddThenPriority) {
  Module add = M("new", "hero", 4);
  add.version.reset();
  add.has_channels = false;
  Variant v{"B", {"a"}, {add}, {{"b", 100}, {"new", 50}, {"ghost", 1}}};
  Experiment e = Exp("exp", {v});
  Page p = Build({M("a", "main", 1), M("b", "main", 2), e});
  PageRequest r = Req();
  r.variants = {{"exp", "B"}};
  Selection s = p.Run(r);
  EXPECT_EQ(Ids(s), "hero:new|main:b");
  EXPECT_EQ(s.zones[0].modules[0].priority, 50);
  EXPECT_EQ(s.zones[0].modules[0].module->version, 7);  // the experiment's version
  EXPECT_EQ(s.zones[1].modules[0].priority, 100);
}

TEST(Select, Rule24_AddReplacesSameIdAndMayMoveZone) {
  Module add = M("a", "hero", 3, 99);
  Variant v{"B", {}, {add}, {}};
  Page p = Build({M("a", "main", 1), Exp("exp", {v})});
  PageRequest r = Req();
  r.variants = {{"exp", "B"}};
  Selection s = p.Run(r);
  EXPECT_EQ(Ids(s), "hero:a");
  EXPECT_EQ(s.version, 7);  // rule 20: added versions do not count
}

TEST(Select, Rule24_FailingAddRemovesNothing) {
  Module wrong_channel = M("a", "main", 3);
  wrong_channel.channels = {"ios"};
  Module wrong_page = M("b", "main", 3);
  wrong_page.page_ids = {"other"};
  Module filtered_zone = M("c", "hidden", 3);
  Variant v{"B", {}, {wrong_channel, wrong_page, filtered_zone}, {}};
  Page p = Build({M("a", "main", 1), M("b", "main", 1), Exp("exp", {v})});
  PageRequest r = Req("p1");
  r.variants = {{"exp", "B"}};
  r.zones = {"main"};
  EXPECT_EQ(Ids(p.Run(r)), "main:a,b");
}

TEST(Select, Rule23_EarlierExperimentsVisibleToLater) {
  Module add = M("x", "main", 1);
  Variant first{"B", {}, {add}, {}};
  Variant second{"B", {}, {}, {{"x", 77}}};
  Page p = Build({Exp("e1", {first}), Exp("e2", {second})});
  PageRequest r = Req();
  r.variants = {{"e2", "B"}, {"e1", "B"}};
  Selection s = p.Run(r);
  ASSERT_EQ(s.experiments.size(), 2u);
  EXPECT_EQ(s.experiments[0].first, "e1");
  EXPECT_EQ(s.zones[0].modules[0].priority, 77);
}

TEST(Select, Rule20_PageVersionIsMaxOfSlicesRead) {
  Module pm = M("pm", "hero", 1, 40);
  Module hidden = M("hidden", "main", 1, 30);
  hidden.schedule.end = 1;
  Page p = Build({M("a", "main", 1, 5), hidden}, {pm});
  EXPECT_EQ(p.Run(Req()).version, 30);
  EXPECT_EQ(p.Run(Req("p1")).version, 40);
}

TEST(Select, Rule18_EmptyPageHasVersionZero) {
  Page p = Build({});
  Selection s = p.Run(Req());
  EXPECT_EQ(s.version, 0);
  EXPECT_TRUE(s.zones.empty());
  std::string body;
  Render(Req(), s, &body);
  EXPECT_EQ(body, R"({"tenant":"T","channel":"web","pageType":"home","version":0,)"
                  R"("experiments":[],"zones":[]})");
}

TEST(Render, Rule21_V2KeyOrderAndV1Shape) {
  Module m = M("a\"b", "main", 3, 9);
  m.type = "banner";
  m.content_json = R"({"x":1E-2,"s":"\u00e9"})";
  Page p = Build({m});
  PageRequest r = Req("p1");
  std::string v2;
  Render(r, p.Run(r), &v2);
  EXPECT_EQ(v2,
            R"({"tenant":"T","channel":"web","pageType":"home","pageId":"p1","version":9,)"
            R"("experiments":[],"zones":[{"zone":"main","modules":[{"id":"a\"b","type":"banner",)"
            R"("priority":3,"version":9,"content":{"x":1E-2,"s":"\u00e9"}}]}]})");
  r.api_version = 1;
  std::string v1;
  Render(r, p.Run(r), &v1);
  EXPECT_EQ(v1, R"({"modules":[{"id":"a\"b","type":"banner","priority":3,"version":9,)"
                R"("content":{"x":1E-2,"s":"\u00e9"},"zone":"main"}]})");
}

// What the answer memo (api/answer_memo.h) relies on: between two schedule
// instants of the slices, every selection is the same.
TEST(Select, StableUntilTheNextScheduleInstantOfEitherSlice) {
  Module early = M("a", "main", 1);
  early.schedule.start = kNow - 100;
  early.schedule.end = kNow + 50;
  Module late = M("b", "main", 2);
  late.schedule.start = kNow + 200;
  Module added = M("x", "main", 3);
  added.version.reset();
  added.has_channels = false;
  added.schedule.start = kNow + 20;
  Experiment e = Exp("exp", {Variant{"B", {}, {added}, {}}});
  Module on_page = M("p", "side", 1);
  on_page.schedule.end = kNow + 120;
  Page p = Build({early, late, e}, {on_page});
  EXPECT_EQ(p.type_slice->schedule_instants,
            (std::vector<UnixNanos>{kNow - 100, kNow + 20, kNow + 50, kNow + 200}));
  EXPECT_EQ(SelectionStableUntil(*p.type_slice, nullptr, kNow), kNow + 20);
  EXPECT_EQ(SelectionStableUntil(*p.type_slice, p.page_slice.get(), kNow + 50), kNow + 50);
  EXPECT_EQ(SelectionStableUntil(*p.type_slice, p.page_slice.get(), kNow + 51), kNow + 120);
  EXPECT_EQ(SelectionStableUntil(*p.type_slice, p.page_slice.get(), kNow + 200), kNow + 200);
  EXPECT_EQ(SelectionStableUntil(*p.type_slice, p.page_slice.get(), kNow + 201),
            std::numeric_limits<UnixNanos>::max());
  // Walk every span: the selection at its first and last instant is the
  // same, and it changes at each span's end.
  PageRequest r = Req("p1");
  r.variants = {{"exp", "B"}};
  std::vector<std::string> spans;
  for (UnixNanos at = kNow - 300; at < kNow + 300;) {
    const UnixNanos until = SelectionStableUntil(*p.type_slice, p.page_slice.get(), at);
    if (until == at) {  // a schedule instant: a span of its own
      ++at;
      continue;
    }
    const UnixNanos last = std::min(until, kNow + 300) - 1;
    r.at = at;
    const std::string first_ids = Ids(p.Run(r));
    r.at = last;
    EXPECT_EQ(Ids(p.Run(r)), first_ids) << "span [" << at - kNow << ", " << until - kNow << ")";
    spans.push_back(first_ids);
    at = last + 1;
  }
  EXPECT_EQ(spans, (std::vector<std::string>{"side:p", "main:a|side:p", "main:x,a|side:p",
                                             "main:x|side:p", "main:x", "main:x,b"}));
}

TEST(Select, EverySliceHasItsOwnSerial) {
  Page p = Build({M("a", "main", 1)});
  Page q = Build({M("a", "main", 1)});
  EXPECT_NE(p.type_slice->serial, 0u);
  EXPECT_NE(p.type_slice->serial, p.page_slice->serial);
  EXPECT_NE(p.type_slice->serial, q.type_slice->serial);
}

}  // namespace
}  // namespace tempo::select
