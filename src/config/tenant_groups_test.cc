// Tests of tenant groups: the file's rules and the lookups.
#include "config/tenant_groups.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace tempo::config {
namespace {

Result<TenantGroups> ParseText(const std::string& yaml) {
  return TenantGroups::Parse(YAML::Load(yaml)["tenant_groups"], "groups.yaml");
}

std::string ErrorOf(const std::string& yaml) {
  auto parsed = ParseText(yaml);
  EXPECT_FALSE(parsed.ok()) << yaml;
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(TenantGroups, GroupsAndTheWildcard) {
  auto groups = ParseText("tenant_groups: {TG1: [WM_GLASS], TG2: [CA, MX], TG3: [\"*\"]}");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->groups().size(), 3u);
  EXPECT_EQ(groups->groups()[1].first, "TG2");
  EXPECT_EQ(groups->groups()[1].second, (std::vector<std::string>{"CA", "MX"}));
  EXPECT_EQ(groups->GroupOf("WM_GLASS"), "TG1");
  EXPECT_EQ(groups->GroupOf("MX"), "TG2");
  EXPECT_EQ(groups->GroupOf("ACME"), "TG3");
  EXPECT_EQ(groups->wildcard_group(), "TG3");
  EXPECT_TRUE(groups->HasGroup("TG2"));
  EXPECT_FALSE(groups->HasGroup("TG4"));
}

TEST(TenantGroups, WithoutAWildcardOtherTenantsHaveNoGroup) {
  auto groups = ParseText("tenant_groups:\n  TG1: [A]\n");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->GroupOf("A"), "TG1");
  EXPECT_FALSE(groups->GroupOf("B").has_value());
  EXPECT_EQ(groups->wildcard_group(), "");
}

TEST(TenantGroups, ErrorsNameTheFileLineAndKey) {
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: [A, B]\n  TG2: [C, A]\n"),
            "groups.yaml:3: tenant_groups.TG2: tenant A is already in group TG1 (line 2): a "
            "tenant belongs to one group");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: []\n"),
            "groups.yaml:2: tenant_groups.TG1: an empty group serves nobody");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: [\"*\"]\n  TG2: [\"*\"]\n"),
            "groups.yaml:3: tenant_groups.TG2: \"*\" is already the group TG1: at most one group "
            "holds every other tenant");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: [A, \"*\"]\n"),
            "groups.yaml:2: tenant_groups.TG1: \"*\" (every other tenant) must stand alone");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: A\n"),
            "groups.yaml:2: tenant_groups.TG1: must be a list of tenants, such as [ACME, Globex]");
  EXPECT_EQ(ErrorOf("tenant_groups: [A]\n"),
            "groups.yaml:1: tenant_groups: must be a map of group name to a list of tenants");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: [\"a b\"]\n"),
            "groups.yaml:2: tenant_groups.TG1: tenant \"a b\" is not a name of letters, digits, "
            "'_', '.' or '-'");
  EXPECT_EQ(ErrorOf("tenant_groups:\n  TG1: [[A]]\n"),
            "groups.yaml:2: tenant_groups.TG1: a tenant must be a name");
  EXPECT_EQ(ErrorOf("tenant_groups: {}\n"), "groups.yaml:1: tenant_groups: lists no group");
}

TEST(TenantGroups, LoadReadsTheKeyOfAFile) {
  testing::TempDir dir("tempo-groups-test");
  const std::string path = dir.path() + "/groups.yaml";
  std::ofstream(path) << "# groups\ntenant_groups:\n  TG1: [A]\n  TG2: [\"*\"]\nother: 1\n";
  auto groups = TenantGroups::Load(path);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(groups->GroupOf("Z"), "TG2");

  std::ofstream(path) << "listen: x\n";
  EXPECT_EQ(TenantGroups::Load(path).status().message(), path + ": has no tenant_groups map");
  std::ofstream(path) << "tenant_groups: [unclosed\n";
  EXPECT_NE(TenantGroups::Load(path).status().message().find("not valid YAML"), std::string::npos);
  EXPECT_EQ(TenantGroups::Load(dir.path() + "/missing.yaml").status().message(),
            dir.path() + "/missing.yaml: cannot be read");
}

TEST(TenantGroupFilter, AGroupServesItsOwnTenants) {
  auto groups = ParseText("tenant_groups: {TG1: [WM_GLASS], TG2: [CA, MX], TG3: [\"*\"]}");
  ASSERT_TRUE(groups.ok());
  auto tg2 = TenantGroupFilter::Create(*groups, "TG2");
  ASSERT_TRUE(tg2.ok()) << tg2.status().ToString();
  EXPECT_EQ((*tg2)->group(), "TG2");
  EXPECT_TRUE((*tg2)->Serves("CA"));
  EXPECT_TRUE((*tg2)->Serves("MX"));
  EXPECT_FALSE((*tg2)->Serves("WM_GLASS"));
  EXPECT_FALSE((*tg2)->Serves("ACME"));
  EXPECT_EQ((*tg2)->GroupOf("WM_GLASS"), "TG1");
  EXPECT_EQ((*tg2)->GroupOf("ACME"), "TG3");
}

TEST(TenantGroupFilter, TheWildcardGroupServesTenantsNoOtherGroupLists) {
  auto groups = ParseText("tenant_groups: {TG1: [WM_GLASS], TG2: [CA, MX], TG3: [\"*\"]}");
  ASSERT_TRUE(groups.ok());
  auto tg3 = TenantGroupFilter::Create(*groups, "TG3");
  ASSERT_TRUE(tg3.ok());
  EXPECT_TRUE((*tg3)->Serves("ACME"));
  EXPECT_TRUE((*tg3)->Serves("anyone"));
  EXPECT_FALSE((*tg3)->Serves("CA"));
  EXPECT_FALSE((*tg3)->Serves("WM_GLASS"));
  EXPECT_EQ((*tg3)->GroupOf("CA"), "TG2");
}

TEST(TenantGroupFilter, WithoutAWildcardSomeTenantsHaveNoGroup) {
  auto groups = ParseText("tenant_groups:\n  TG1: [A]\n  TG2: [B]\n");
  ASSERT_TRUE(groups.ok());
  auto tg1 = TenantGroupFilter::Create(*groups, "TG1");
  ASSERT_TRUE(tg1.ok());
  EXPECT_FALSE((*tg1)->Serves("C"));
  EXPECT_FALSE((*tg1)->GroupOf("C").has_value());
}

TEST(TenantGroupFilter, AnUnknownGroupIsAnErrorNamingWhereTheGroupsAre) {
  auto groups = ParseText("# groups\ntenant_groups:\n  TG1: [A]\n  TG2: [B]\n");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(TenantGroupFilter::Create(*groups, "TG9").status().message(),
            "groups.yaml:3: tenant_groups: has no group TG9 (--tenant-group); its groups are TG1, "
            "TG2");
}

}  // namespace
}  // namespace tempo::config
