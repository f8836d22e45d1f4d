// Runs the normative sections of the GrowthBook SDK's cases.json (SPEC §5):
// evalCondition, hash, getBucketRange and chooseVariation.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cond/compiled_node.h"
#include "cond/cond.h"

namespace tempo::cond {
namespace {

constexpr char kCasesPath[] = TEMPO_SHARED_DIR "/conformance/growthbook-cases.json";
// The four normative sections hold this many cases in all.
constexpr size_t kNormativeCases = 289;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Math.floor(x * 1e8) / 1e8, as the SDK's test runner compares ranges.
double Floor8(double x) { return std::floor(x * 1e8) / 1e8; }

class Conformance {
 public:
  explicit Conformance(const Value& cases) : cases_(cases) {}

  void RunEvalCondition() {
    for (const Value& c : Section("evalCondition")) {
      const auto& f = c.array_items();
      ASSERT_GE(f.size(), 4u);
      const std::string name = "evalCondition: " + f[0].string_value();
      const Value* saved_groups = f.size() > 4 ? &f[4] : nullptr;
      bool got = false;
      if (saved_groups == nullptr) {
        // The public path, exactly as the server uses it.
        auto compiled = Condition::Compile(f[1]);
        if (!compiled.ok()) {
          Fail(name, compiled.status().ToString());
          continue;
        }
        got = compiled->Evaluate(f[2]);
      } else {
        auto compiled = CompiledNode::Compile(f[1], saved_groups);
        if (!compiled.ok()) {
          Fail(name, compiled.status().ToString());
          continue;
        }
        got = (*compiled)->Evaluate(f[2]);
      }
      Check(name, got == f[3].bool_value(), got ? "got true" : "got false");
    }
  }

  void RunHash() {
    for (const Value& c : Section("hash")) {
      const auto& f = c.array_items();
      const std::string name = "hash: " + f[0].string_value() + "/" + f[1].string_value();
      const auto got = Hash(f[0].string_value(), f[1].string_value(), f[2].number_value());
      if (f[3].is_null()) {
        Check(name, !got.has_value(), "expected null");
      } else {
        Check(name, got.has_value() && *got == f[3].number_value(),
              got ? "got " + std::to_string(*got) : "got null");
      }
    }
  }

  void RunGetBucketRange() {
    for (const Value& c : Section("getBucketRange")) {
      const auto& f = c.array_items();
      const std::string name = "getBucketRange: " + f[0].string_value();
      const auto& args = f[1].array_items();
      std::optional<std::vector<double>> weights;
      if (args[2].is_array()) {
        weights.emplace();
        for (const Value& w : args[2].array_items()) weights->push_back(w.number_value());
      }
      const auto got = GetBucketRanges(static_cast<int>(args[0].number_value()),
                                       args[1].number_value(), weights);
      const auto& want = f[2].array_items();
      bool same = got.size() == want.size();
      for (size_t i = 0; same && i < got.size(); ++i) {
        const auto& r = want[i].array_items();
        same = Floor8(got[i].first) == Floor8(r[0].number_value()) &&
               Floor8(got[i].second) == Floor8(r[1].number_value());
      }
      Check(name, same, "ranges differ");
    }
  }

  void RunChooseVariation() {
    for (const Value& c : Section("chooseVariation")) {
      const auto& f = c.array_items();
      const std::string name = "chooseVariation: " + f[0].string_value();
      std::vector<BucketRange> ranges;
      for (const Value& r : f[2].array_items()) {
        ranges.emplace_back(r.array_items()[0].number_value(), r.array_items()[1].number_value());
      }
      const int got = ChooseVariation(f[1].number_value(), ranges);
      Check(name, got == static_cast<int>(f[3].number_value()), "got " + std::to_string(got));
    }
  }

  size_t passed() const { return passed_; }
  size_t total() const { return total_; }

 private:
  const std::vector<Value>& Section(const char* name) {
    static const std::vector<Value> kEmpty;
    const Value* s = cases_.Find(name);
    EXPECT_NE(s, nullptr) << name;
    return s != nullptr ? s->array_items() : kEmpty;
  }

  void Check(const std::string& name, bool ok, const std::string& detail) {
    ++total_;
    if (ok) {
      ++passed_;
    } else {
      ADD_FAILURE() << "conformance case failed: " << name << " (" << detail << ")";
    }
  }
  void Fail(const std::string& name, const std::string& detail) { Check(name, false, detail); }

  const Value& cases_;
  size_t passed_ = 0;
  size_t total_ = 0;
};

TEST(CondConformanceTest, EveryNormativeCasePasses) {
  const std::string text = ReadFile(kCasesPath);
  ASSERT_FALSE(text.empty()) << "cannot read " << kCasesPath;
  auto cases = ParseJson(text);
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();

  Conformance run(*cases);
  run.RunEvalCondition();
  run.RunHash();
  run.RunGetBucketRange();
  run.RunChooseVariation();
  std::printf("conformance: %zu/%zu passed\n", run.passed(), run.total());
  EXPECT_EQ(run.total(), kNormativeCases);
  EXPECT_EQ(run.passed(), run.total());
}

}  // namespace
}  // namespace tempo::cond
