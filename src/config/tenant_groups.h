// Tenant groups (SPEC §9): the fleet split so that a bad rollout hurts one
// group of tenants, not all of them.
//
// In YAML, under the key `tenant_groups` of a `--config` file or of a
// `--groups FILE` holding only it:
//
//   tenant_groups:
//     TG1: [WM_GLASS]
//     TG2: [CA, MX]
//     TG3: ["*"]        # every tenant no other group lists
//
// Rules (each broken one is an error naming the file, line and key): a
// group is a non-empty list of tenant names; a tenant is listed once in the
// whole map; "*" stands alone in its group, and at most one group holds it;
// group and tenant names are non-empty strings of [A-Za-z0-9_.-].
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace tempo::config {

class TenantGroups {
 public:
  // Parses the value of `tenant_groups`. `path` names the file in messages:
  // "FILE:LINE: tenant_groups.TG2: reason".
  static Result<TenantGroups> Parse(const YAML::Node& value, const std::string& path);
  // Reads the `tenant_groups` key of the YAML file at `path` (other keys
  // are left to their readers). InvalidArgument when the file cannot be
  // read, is not YAML, or has no `tenant_groups`.
  static Result<TenantGroups> Load(const std::string& path);

  // The groups in file order, each with its tenants as listed.
  const std::vector<std::pair<std::string, std::vector<std::string>>>& groups() const {
    return groups_;
  }
  bool HasGroup(std::string_view group) const;
  // The group serving `tenant`: the one that lists it, else the "*" group;
  // nullopt when neither exists (the tenant is served by no group).
  std::optional<std::string_view> GroupOf(std::string_view tenant) const;
  // The group holding "*", or empty.
  const std::string& wildcard_group() const { return wildcard_group_; }
  // Where the map was read, "FILE:LINE" of the `tenant_groups` key's value,
  // for messages about it.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups_;
  std::unordered_map<std::string, std::string> group_of_;  // listed tenant -> group
  std::string wildcard_group_;
};

// True for a valid group or tenant name in the file: [A-Za-z0-9_.-]+.
bool IsValidGroupName(std::string_view name);

// Which tenants one instance of a group serves (`tempo serve --tenant-group
// NAME`), answered with one hash lookup of the tenant: the set of the
// group's own tenants, or, for the "*" group, the set of tenants other
// groups list. Immutable; safe for concurrent use.
class TenantGroupFilter {
 public:
  // The filter of group `own` of `groups`. InvalidArgument naming where the
  // groups were read ("FILE:LINE: tenant_groups: has no group TG9
  // (--tenant-group); its groups are TG1, TG2") when `own` is not a group.
  static Result<std::shared_ptr<const TenantGroupFilter>> Create(const TenantGroups& groups,
                                                                 std::string_view own);

  // The instance's own group.
  const std::string& group() const { return own_; }
  // True when this group serves `tenant`.
  bool Serves(std::string_view tenant) const {
    const bool listed = listed_.find(tenant) != listed_.end();
    return wildcard_ ? !listed : listed;
  }
  // For a tenant this group does not serve: the group that does, or nullopt
  // when no group serves it (no group lists it and none holds "*").
  std::optional<std::string_view> GroupOf(std::string_view tenant) const {
    return groups_.GroupOf(tenant);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  TenantGroupFilter(const TenantGroups& groups, std::string_view own);

  const TenantGroups groups_;
  const std::string own_;
  bool wildcard_ = false;  // own is the "*" group: listed_ holds the other groups' tenants
  std::unordered_set<std::string, Hash, std::equal_to<>> listed_;
};

}  // namespace tempo::config
