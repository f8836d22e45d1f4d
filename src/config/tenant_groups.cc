// Parsing and lookups of tenant groups.
#include "config/tenant_groups.h"

#include <yaml-cpp/yaml.h>

#include <map>

namespace tempo::config {
namespace {

constexpr std::string_view kKey = "tenant_groups";

Status Error(const std::string& path, const YAML::Mark& mark, std::string_view key,
             std::string_view reason) {
  std::string msg = path + ":" + std::to_string(mark.line + 1) + ": ";
  msg.append(key).append(": ").append(reason);
  return Status::InvalidArgument(std::move(msg));
}

}  // namespace

bool IsValidGroupName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<TenantGroups> TenantGroups::Parse(const YAML::Node& value, const std::string& path) {
  const std::string key(kKey);
  if (!value.IsMap()) {
    return Error(path, value.Mark(), key, "must be a map of group name to a list of tenants");
  }
  TenantGroups out;
  out.where_ = path + ":" + std::to_string(value.Mark().line + 1);
  std::map<std::string, YAML::Mark> seen_groups;
  std::map<std::string, std::pair<std::string, YAML::Mark>> seen_tenants;  // tenant -> group, line
  for (const auto& entry : value) {
    if (!entry.first.IsScalar() || !IsValidGroupName(entry.first.Scalar())) {
      return Error(path, entry.first.Mark(), key,
                   "a group name must be a name of letters, digits, '_', '.' or '-'");
    }
    const std::string group = entry.first.Scalar();
    const std::string where = key + "." + group;
    if (auto [it, inserted] = seen_groups.emplace(group, entry.first.Mark()); !inserted) {
      return Error(path, entry.first.Mark(), where,
                   "group given twice (first on line " + std::to_string(it->second.line + 1) + ")");
    }
    const YAML::Node& list = entry.second;
    if (!list.IsSequence()) {
      return Error(path, list.Mark(), where, "must be a list of tenants, such as [ACME, Globex]");
    }
    if (list.size() == 0) return Error(path, list.Mark(), where, "an empty group serves nobody");
    std::vector<std::string> tenants;
    for (const YAML::Node& item : list) {
      if (!item.IsScalar()) return Error(path, item.Mark(), where, "a tenant must be a name");
      const std::string tenant = item.Scalar();
      if (tenant == "*") {
        if (list.size() != 1) {
          return Error(path, item.Mark(), where, "\"*\" (every other tenant) must stand alone");
        }
        if (!out.wildcard_group_.empty()) {
          return Error(path, item.Mark(), where,
                       "\"*\" is already the group " + out.wildcard_group_ +
                           ": at most one group holds every other tenant");
        }
        out.wildcard_group_ = group;
      } else if (!IsValidGroupName(tenant)) {
        return Error(path, item.Mark(), where,
                     "tenant \"" + tenant + "\" is not a name of letters, digits, '_', '.' or '-'");
      } else if (auto [it, inserted] =
                     seen_tenants.emplace(tenant, std::make_pair(group, item.Mark()));
                 !inserted) {
        return Error(path, item.Mark(), where,
                     "tenant " + tenant + " is already in group " + it->second.first + " (line " +
                         std::to_string(it->second.second.line + 1) +
                         "): a tenant belongs to one group");
      } else {
        out.group_of_.emplace(tenant, group);
      }
      tenants.push_back(tenant);
    }
    out.groups_.emplace_back(group, std::move(tenants));
  }
  if (out.groups_.empty()) return Error(path, value.Mark(), key, "lists no group");
  return out;
}

Result<TenantGroups> TenantGroups::Load(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument(path + ": cannot be read");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) +
                                   ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap() || !root[std::string(kKey)]) {
    return Status::InvalidArgument(path + ": has no " + std::string(kKey) + " map");
  }
  try {
    return Parse(root[std::string(kKey)], path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

bool TenantGroups::HasGroup(std::string_view group) const {
  for (const auto& [name, tenants] : groups_) {
    if (name == group) return true;
  }
  return false;
}

std::optional<std::string_view> TenantGroups::GroupOf(std::string_view tenant) const {
  if (auto it = group_of_.find(std::string(tenant)); it != group_of_.end()) return it->second;
  if (!wildcard_group_.empty()) return std::string_view(wildcard_group_);
  return std::nullopt;
}

TenantGroupFilter::TenantGroupFilter(const TenantGroups& groups, std::string_view own)
    : groups_(groups), own_(own), wildcard_(groups.wildcard_group() == own) {
  for (const auto& [name, tenants] : groups_.groups()) {
    if ((name == own_) == wildcard_) continue;  // "*": the others' tenants; else its own
    listed_.insert(tenants.begin(), tenants.end());
  }
}

Result<std::shared_ptr<const TenantGroupFilter>> TenantGroupFilter::Create(
    const TenantGroups& groups, std::string_view own) {
  if (!groups.HasGroup(own)) {
    std::string names;
    for (const auto& [name, tenants] : groups.groups()) {
      if (!names.empty()) names += ", ";
      names += name;
    }
    return Status::InvalidArgument(groups.where() + ": " + std::string(kKey) + ": has no group " +
                                   std::string(own) + " (--tenant-group); its groups are " + names);
  }
  return std::shared_ptr<const TenantGroupFilter>(new TenantGroupFilter(groups, own));
}

}  // namespace tempo::config
