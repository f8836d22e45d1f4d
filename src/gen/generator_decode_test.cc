// Every generated event goes through the real decoder (src/events): exactly
// the lines the generator broke on purpose are rejected.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "events/events.h"
#include "gen/catalog.h"
#include "gen/generator.h"
#include "gen/invalid.h"
#include "gen/manifest.h"
#include "gen/rng.h"

namespace tempo::gen {
namespace {

void CheckDecoding(const GenOptions& options) {
  std::ostringstream events;
  Manifest manifest;
  ASSERT_TRUE(GenerateWithManifest(options, events, nullptr, nullptr, &manifest).ok());
  std::map<uint64_t, std::string> invalid;
  for (const auto& e : manifest.invalid_events) invalid[e.line] = e.defect;
  ASSERT_FALSE(invalid.empty());

  const std::string text = events.str();
  std::map<std::string, std::set<std::string>> module_ids;
  std::set<std::string> rejected_defects;
  uint64_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string_view line(text.data() + start, end - start);
    const Result<events::Event> decoded = events::DecodeEvent(line);
    const auto it = invalid.find(line_no);
    if (it != invalid.end()) {
      EXPECT_FALSE(decoded.ok()) << "meant invalid (" << it->second << "): " << line;
      if (!decoded.ok()) rejected_defects.insert(it->second);
    } else {
      EXPECT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << line;
      if (decoded.ok() && decoded->kind == events::Kind::kModule &&
          decoded->op == events::Op::kUpsert) {
        module_ids[decoded->key.tenant].insert(decoded->key.id);
      }
    }
    ++line_no;
    start = end + 1;
  }
  EXPECT_EQ(line_no, manifest.event_lines);
  ASSERT_EQ(module_ids.size(), static_cast<size_t>(options.tenants));
  for (const auto& [tenant, ids] : module_ids) {
    EXPECT_EQ(ids.size(), static_cast<size_t>(options.modules)) << tenant;
  }
}

TEST(GenerateDecode, ExactlyTheInvalidLinesAreRejected) {
  GenOptions options;
  options.seed = 1;
  options.tenants = 4;
  options.modules = 3000;
  CheckDecoding(options);
}

TEST(GenerateDecode, OtherSeedsToo) {
  for (uint64_t seed : {2, 3, 99}) {
    GenOptions options;
    options.seed = seed;
    options.tenants = 3;
    options.modules = 700;
    CheckDecoding(options);
  }
}

// Each kind of defect, drawn many times, is rejected by the decoder.
TEST(GenerateDecode, EveryDefectIsRejected) {
  const TenantPlan tenant = BuildTenantPlan(1, 0, 500);
  Rng rng(5);
  std::set<std::string> defects;
  for (int i = 0; i < 5000; ++i) {
    std::string line;
    const std::string_view defect =
        AppendInvalidEvent(rng, tenant, "2026-11-20T00:00:00.000Z", &line);
    defects.insert(std::string(defect));
    const Result<events::Event> decoded = events::DecodeEvent(line);
    EXPECT_FALSE(decoded.ok()) << defect << ": " << line;
  }
  EXPECT_GT(defects.size(), 40u);
}

}  // namespace
}  // namespace tempo::gen
