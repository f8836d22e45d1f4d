// Value construction and member lookup.
#include "cond/value.h"

#include <algorithm>
#include <unordered_map>

#include "cond/js_value.h"

namespace tempo::cond {
namespace {

uint64_t IndexEntry(uint32_t hash, size_t position) {
  return (static_cast<uint64_t>(hash) << 32) | static_cast<uint64_t>(position);
}

// Merges repeated keys the JSON.parse way: first position, last value.
std::vector<Value::Member> MergeRepeatedKeys(std::vector<Value::Member> members) {
  std::vector<Value::Member> merged;
  merged.reserve(members.size());
  std::unordered_map<std::string_view, size_t> position;
  for (auto& m : members) {
    auto it = position.find(m.first);
    if (it != position.end()) {
      merged[it->second].second = std::move(m.second);
      continue;
    }
    merged.push_back(std::move(m));
    // The key now lives in `merged`, whose storage is reserved: views stay valid.
    position.emplace(merged.back().first, merged.size() - 1);
  }
  return merged;
}

bool HasRepeatedKeysSmall(const std::vector<Value::Member>& members) {
  for (size_t i = 1; i < members.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (members[i].first == members[j].first) return true;
    }
  }
  return false;
}

}  // namespace

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(double n) {
  Value v;
  v.type_ = Type::kNumber;
  v.number_ = n;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

Value Value::Object(std::vector<Member> members) {
  Value v;
  v.type_ = Type::kObject;
  if (members.size() <= kIndexedMemberCount) {
    if (HasRepeatedKeysSmall(members)) members = MergeRepeatedKeys(std::move(members));
  } else {
    std::vector<uint64_t> index;
    index.reserve(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      index.push_back(IndexEntry(HashKey(members[i].first), i));
    }
    std::sort(index.begin(), index.end());
    bool repeated = false;
    for (size_t i = 1; i < index.size() && !repeated; ++i) {
      if ((index[i] >> 32) == (index[i - 1] >> 32) &&
          members[index[i] & 0xffffffffu].first == members[index[i - 1] & 0xffffffffu].first) {
        repeated = true;
      }
    }
    if (repeated) {
      members = MergeRepeatedKeys(std::move(members));
      index.clear();
      for (size_t i = 0; i < members.size(); ++i) {
        index.push_back(IndexEntry(HashKey(members[i].first), i));
      }
      std::sort(index.begin(), index.end());
    }
    if (members.size() > kIndexedMemberCount) v.index_ = std::move(index);
  }
  for (const auto& m : members) {
    if (IsArrayIndex(m.first)) {
      v.has_index_keys_ = true;
      break;
    }
  }
  v.members_ = std::move(members);
  return v;
}

const Value* Value::Find(std::string_view key, uint32_t key_hash) const {
  if (type_ != Type::kObject) return nullptr;
  if (index_.empty()) {
    for (const auto& m : members_) {
      if (m.first == key) return &m.second;
    }
    return nullptr;
  }
  auto it = std::lower_bound(index_.begin(), index_.end(), IndexEntry(key_hash, 0));
  for (; it != index_.end() && (*it >> 32) == key_hash; ++it) {
    const Member& m = members_[*it & 0xffffffffu];
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

uint32_t Value::HashKey(std::string_view key) {
  // FNV-1a: keys are short, and this needs no table or seed.
  uint32_t h = 2166136261u;
  for (unsigned char c : key) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace tempo::cond
