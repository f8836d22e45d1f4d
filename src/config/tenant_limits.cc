// Parsing of per-tenant limits.
#include "config/tenant_limits.h"

#include <yaml-cpp/yaml.h>

#include "config/tenant_groups.h"

namespace tempo::config {
namespace {

constexpr std::string_view kKey = "tenant_limits";

Status Error(const std::string& path, const YAML::Mark& mark, std::string_view key,
             std::string_view reason) {
  std::string msg = path + ":" + std::to_string(mark.line + 1) + ": ";
  msg.append(key).append(": ").append(reason);
  return Status::InvalidArgument(std::move(msg));
}

// An integer from 1 to kMaxTenantRate, written as digits.
bool ParseCount(const YAML::Node& node, int64_t* out) {
  if (!node.IsScalar()) return false;
  const std::string& text = node.Scalar();
  if (text.empty() || text.size() > 10) return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxTenantRate) return false;
  *out = value;
  return true;
}

}  // namespace

Result<std::map<std::string, TenantLimit>> ParseTenantLimits(const YAML::Node& value,
                                                             const std::string& path) {
  const std::string key(kKey);
  if (!value.IsMap()) {
    return Error(path, value.Mark(), key,
                 "must be a map of tenant to {rate: N, burst: N}, such as "
                 "{ACME: {rate: 5000, burst: 10000}}");
  }
  std::map<std::string, TenantLimit> out;
  std::map<std::string, int> lines;
  for (const auto& entry : value) {
    if (!entry.first.IsScalar() || !IsValidGroupName(entry.first.Scalar())) {
      return Error(path, entry.first.Mark(), key,
                   "a tenant must be a name of letters, digits, '_', '.' or '-'");
    }
    const std::string tenant = entry.first.Scalar();
    const std::string where = key + "." + tenant;
    if (auto [it, inserted] = lines.emplace(tenant, entry.first.Mark().line + 1); !inserted) {
      return Error(path, entry.first.Mark(), where,
                   "tenant given twice (first on line " + std::to_string(it->second) + ")");
    }
    const YAML::Node& limit = entry.second;
    if (!limit.IsMap()) {
      return Error(path, limit.Mark(), where, "must be a map such as {rate: 5000, burst: 10000}");
    }
    TenantLimit parsed;
    for (const auto& field : limit) {
      const std::string name = field.first.IsScalar() ? field.first.Scalar() : "";
      int64_t* target = name == "rate" ? &parsed.rate : name == "burst" ? &parsed.burst : nullptr;
      if (target == nullptr) {
        return Error(path, field.first.Mark(), where,
                     "unknown key \"" + name + "\": a limit has rate and burst");
      }
      if (*target != 0) return Error(path, field.first.Mark(), where + "." + name, "given twice");
      if (!ParseCount(field.second, target)) {
        return Error(path, field.second.Mark(), where + "." + name,
                     "expected an integer from 1 to 1000000000" +
                         (field.second.IsScalar() ? ", got \"" + field.second.Scalar() + "\""
                                                  : std::string()));
      }
    }
    if (parsed.rate == 0) {
      return Error(path, limit.Mark(), where, "needs a rate (requests per second)");
    }
    out.emplace(tenant, parsed);
  }
  return out;
}

}  // namespace tempo::config
