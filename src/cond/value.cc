// Value construction and member lookup.
#include "cond/value.h"

#include <algorithm>
#include <unordered_map>

#include "cond/js_value.h"

namespace tempo::cond {

struct Value::Children {
  std::vector<Value> items;
  std::vector<Member> members;
  // (hash << 32 | member position), sorted; empty for small objects.
  std::vector<uint64_t> index;
};

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
  auto children = std::make_shared<Children>();
  children->items = std::move(items);
  v.children_ = std::move(children);
  return v;
}

Value Value::Object(std::vector<Member> members) {
  Value v;
  v.type_ = Type::kObject;
  auto children = std::make_shared<Children>();
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
    if (members.size() > kIndexedMemberCount) children->index = std::move(index);
  }
  for (const auto& m : members) {
    if (IsArrayIndex(m.first)) {
      v.has_index_keys_ = true;
      break;
    }
  }
  children->members = std::move(members);
  v.children_ = std::move(children);
  return v;
}

const std::vector<Value>& Value::array_items() const {
  static const std::vector<Value> kNoItems;
  return children_ != nullptr ? children_->items : kNoItems;
}

const std::vector<Value::Member>& Value::object_members() const {
  static const std::vector<Member> kNoMembers;
  return children_ != nullptr ? children_->members : kNoMembers;
}

const Value* Value::Find(std::string_view key, uint32_t key_hash) const {
  if (type_ != Type::kObject) return nullptr;
  const std::vector<Member>& members = children_->members;
  const std::vector<uint64_t>& index = children_->index;
  if (index.empty()) {
    for (const auto& m : members) {
      if (m.first == key) return &m.second;
    }
    return nullptr;
  }
  auto it = std::lower_bound(index.begin(), index.end(), IndexEntry(key_hash, 0));
  for (; it != index.end() && (*it >> 32) == key_hash; ++it) {
    const Member& m = members[*it & 0xffffffffu];
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

size_t Value::HeapBytes() const {
  size_t bytes = string_.capacity() > 15 ? string_.capacity() + 1 : 0;  // beyond SSO
  if (children_ != nullptr) {
    bytes += sizeof(Children) + children_->items.capacity() * sizeof(Value) +
             children_->members.capacity() * sizeof(Member) +
             children_->index.capacity() * sizeof(uint64_t);
    for (const Value& v : children_->items) bytes += v.HeapBytes();
    for (const Member& m : children_->members) {
      bytes += (m.first.capacity() > 15 ? m.first.capacity() + 1 : 0) + m.second.HeapBytes();
    }
  }
  return bytes;
}

}  // namespace tempo::cond
