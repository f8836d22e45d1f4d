// Tests of the selection trace (select/trace.h): each step's outcome and
// details, and that tracing changes nothing about the selection.
#include <gtest/gtest.h>

#include "select/select.h"
#include "select/select_test_util.h"

namespace tempo::select {
namespace {

// The trace of module `id` (the first, or the add when `add`), or null.
const ModuleTrace* Traced(const SelectionTrace& trace, std::string_view id, bool add = false) {
  for (const ModuleTrace& t : trace.modules) {
    if (t.module->id() == id && t.experiment.empty() != add) return &t;
  }
  return nullptr;
}

// The kept modules of a trace in answer order, as Ids() writes a selection.
std::string KeptIds(const SelectionTrace& trace) {
  std::vector<const ModuleTrace*> kept;
  for (const ModuleTrace& t : trace.modules) {
    if (t.outcome == Step::kKept) kept.push_back(&t);
  }
  std::sort(kept.begin(), kept.end(), [](const ModuleTrace* a, const ModuleTrace* b) {
    return a->zone_index != b->zone_index ? a->zone_index < b->zone_index
                                          : a->position < b->position;
  });
  std::string out;
  int zone = -1;
  for (const ModuleTrace* t : kept) {
    if (t->zone_index != zone) {
      if (!out.empty()) out += "|";
      out += std::string(t->module->zone()) + ":";
      zone = t->zone_index;
    } else {
      out += ",";
    }
    out += t->module->id();
  }
  return out;
}

TEST(Trace, KeptModulesHavePositionsAndTheLimitDropsTheRest) {
  Template t;
  t.tenant = "T";
  t.channel = "web";
  t.page_type = "home";
  t.version = 1;
  t.zones = {{"main", 2}, {"hero", std::nullopt}};
  Page p = Build({M("a", "main", 1), M("b", "main", 2), M("c", "main", 3), M("d", "hero", 5), t});
  SelectionTrace trace;
  const Selection s = p.Run(Req(), &trace);
  EXPECT_EQ(Ids(s), "main:c,b|hero:d");
  EXPECT_EQ(KeptIds(trace), Ids(s));
  EXPECT_EQ(trace.at, kNow);
  const ModuleTrace* c = Traced(trace, "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->outcome, Step::kKept);
  EXPECT_EQ(c->position, 0);
  EXPECT_EQ(c->priority, 3);
  EXPECT_EQ(Traced(trace, "b")->position, 1);
  EXPECT_EQ(Traced(trace, "d")->position, 0);
  EXPECT_EQ(Traced(trace, "d")->zone_index, 1);
  const ModuleTrace* a = Traced(trace, "a");
  EXPECT_EQ(a->outcome, Step::kLimit);
  EXPECT_EQ(a->limit, 2);
  EXPECT_STREQ(StepName(a->outcome), "limit");
}

TEST(Trace, PageOverrideZoneFilterAndSchedule) {
  Module page_mod = M("pm", "hero", 1);
  page_mod.page_ids = {"p1"};
  Module later = M("later", "main", 1);
  later.schedule.start = kNow + 10;
  later.schedule.end = kNow + 20;
  Page p = Build({M("tw-hero", "hero", 9), later, M("side", "aside", 1)}, {page_mod});
  PageRequest r = Req("p1");
  r.zones = {"hero", "main"};
  SelectionTrace trace;
  EXPECT_EQ(Ids(p.Run(r, &trace)), "hero:pm");
  const ModuleTrace* hidden = Traced(trace, "tw-hero");
  EXPECT_EQ(hidden->outcome, Step::kPage);
  EXPECT_EQ(hidden->scope, "*");
  EXPECT_NE(hidden->reason.find("p1"), std::string::npos);
  EXPECT_EQ(Traced(trace, "side")->outcome, Step::kZone);
  const ModuleTrace* l = Traced(trace, "later");
  EXPECT_EQ(l->outcome, Step::kSchedule);
  EXPECT_EQ(l->schedule_start, kNow + 10);
  EXPECT_EQ(l->schedule_end, kNow + 20);
  EXPECT_NE(l->reason.find("starts after"), std::string::npos);
  EXPECT_EQ(Traced(trace, "pm")->scope, "p1");
}

TEST(Trace, TargetingNamesTheFailingPartAndTheValuesItSaw) {
  Module gold = M("gold", "main", 1);
  gold.targeting_json = R"({"geo":"US","segment":{"$in":["gold","platinum"]}})";
  Page p = Build({gold});
  PageRequest r = Req();
  r.attributes = {{"geo", {"US"}}, {"segment", {"silver"}}};
  SelectionTrace trace;
  EXPECT_EQ(Ids(p.Run(r, &trace)), "");
  const ModuleTrace* t = Traced(trace, "gold");
  EXPECT_EQ(t->outcome, Step::kTargeting);
  EXPECT_EQ(t->condition_json, gold.targeting_json);
  EXPECT_EQ(
      t->failing_json,
      R"([{"condition":{"segment":{"$in":["gold","platinum"]}},"seen":{"segment":"silver"}}])");
  EXPECT_NE(trace.attributes_json.find(R"("segment":"silver")"), std::string::npos);
}

TEST(Trace, ExperimentOverlayRemovesAddsReplacesAndOverrides) {
  Module add_new = M("new", "main", 4);
  add_new.has_channels = false;
  Module add_replace = M("b", "hero", 1);  // replaces b, moving it to hero
  add_replace.has_channels = false;
  Module add_other_channel = M("ios-only", "main", 1);
  add_other_channel.channels = {"ios"};
  Module add_other_page = M("page-only", "main", 1);
  add_other_page.has_channels = false;
  add_other_page.page_ids = {"p9"};
  Variant v{"B",
            {"a"},
            {add_new, add_replace, add_other_channel, add_other_page},
            {{"c", 50}, {"absent", 1}}};
  Page p = Build({M("a", "main", 1), M("b", "main", 2), M("c", "main", 3), Exp("exp", {v})});
  PageRequest r = Req();
  r.visitor_id = "v1";
  SelectionTrace trace;
  const Selection s = p.Run(r, &trace);
  EXPECT_EQ(Ids(s), "hero:b|main:c,new");
  EXPECT_EQ(KeptIds(trace), Ids(s));
  ASSERT_EQ(trace.experiments.size(), 1u);
  const ExperimentTrace& e = trace.experiments[0];
  EXPECT_TRUE(e.assigned);
  EXPECT_FALSE(e.forced);
  EXPECT_EQ(e.variant, "B");
  EXPECT_EQ(e.hash_input, "v1");
  ASSERT_TRUE(e.hash.has_value());
  EXPECT_EQ(e.removed, std::vector<std::string_view>{"a"});
  EXPECT_EQ(e.added, (std::vector<std::string_view>{"new", "b"}));
  EXPECT_EQ(e.add_dropped, (std::vector<std::string_view>{"ios-only", "page-only"}));
  ASSERT_EQ(e.priorities.size(), 1u);
  EXPECT_EQ(e.priorities[0].id, "c");
  EXPECT_EQ(e.priorities[0].from, 3);
  EXPECT_EQ(e.priorities[0].to, 50);

  const ModuleTrace* a = Traced(trace, "a");
  EXPECT_EQ(a->outcome, Step::kExperiment);
  EXPECT_EQ(a->by_experiment, "exp");
  EXPECT_EQ(a->by_variant, "B");
  EXPECT_EQ(Traced(trace, "b")->outcome, Step::kExperiment);  // replaced
  EXPECT_NE(Traced(trace, "b")->reason.find("replaced"), std::string::npos);
  const ModuleTrace* added_b = Traced(trace, "b", /*add=*/true);
  EXPECT_EQ(added_b->outcome, Step::kKept);
  EXPECT_EQ(added_b->experiment, "exp");
  EXPECT_EQ(Traced(trace, "c")->priority, 50);
  EXPECT_EQ(Traced(trace, "ios-only", true)->outcome, Step::kChannel);
  EXPECT_EQ(Traced(trace, "page-only", true)->outcome, Step::kPage);
}

TEST(Trace, WhyAnExperimentAssignsNothing) {
  Experiment conditioned = Exp("e1", {Variant{"B", {"a"}, {}, {}}});
  conditioned.condition_json = R"({"geo":"US"})";
  Experiment plain = Exp("e2", {Variant{"B", {"a"}, {}, {}}});
  Page p = Build({M("a", "main", 1), conditioned, plain});
  PageRequest r = Req();  // no visitorId
  r.attributes = {{"geo", {"FR"}}};
  r.variants = {{"e2", "nope"}};
  SelectionTrace trace;
  EXPECT_EQ(Ids(p.Run(r, &trace)), "main:a");
  ASSERT_EQ(trace.experiments.size(), 2u);
  EXPECT_FALSE(trace.experiments[0].assigned);
  EXPECT_EQ(trace.experiments[0].condition_holds, false);
  EXPECT_EQ(trace.experiments[0].reason, "its condition is false");
  EXPECT_EQ(trace.experiments[0].failing_json,
            R"([{"condition":{"geo":"US"},"seen":{"geo":"FR"}}])");
  EXPECT_FALSE(trace.experiments[1].assigned);
  EXPECT_EQ(trace.experiments[1].ignored_forced_key, "nope");
  EXPECT_EQ(trace.experiments[1].reason, "the hash attribute is absent or empty");

  r.variants = {{"e1", "B"}};
  SelectionTrace forced;
  EXPECT_EQ(Ids(p.Run(r, &forced)), "");
  EXPECT_TRUE(forced.experiments[0].forced);
  EXPECT_EQ(Traced(forced, "a")->outcome, Step::kExperiment);
}

// Tracing is a sink: the same requests give the same selections with or
// without one, and the trace's kept modules are the selection's.
TEST(Trace, ChangesNothingAndKeepsExactlyTheAnswer) {
  Template t;
  t.tenant = "T";
  t.channel = "web";
  t.page_type = "home";
  t.version = 1;
  t.zones = {{"main", 3}};
  Module gold = M("gold", "main", 7);
  gold.targeting_json = R"({"segment":"gold"})";
  Module page_mod = M("pm", "hero", 1);
  page_mod.page_ids = {"p1"};
  Module add = M("x", "main", 9);
  add.has_channels = false;
  Page p = Build({M("a", "main", 1), M("b", "main", 2), M("h", "hero", 2), gold, t,
                  Exp("exp", {Variant{"A", {}, {}, {}}, Variant{"B", {"b"}, {add}, {{"a", 8}}}})},
                 {page_mod});
  for (int i = 0; i < 200; ++i) {
    PageRequest r = Req(i % 3 == 0 ? std::optional<std::string>("p1") : std::nullopt);
    r.visitor_id = "v" + std::to_string(i);
    if (i % 2) r.attributes = {{"segment", {"gold"}}};
    if (i % 5 == 0) r.zones = {"main"};
    SelectionTrace trace;
    const std::string traced = Ids(p.Run(r, &trace));
    EXPECT_EQ(traced, Ids(p.Run(r)));
    EXPECT_EQ(KeptIds(trace), traced) << i;
  }
}

}  // namespace
}  // namespace tempo::select
