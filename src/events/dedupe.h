// KeepFirstOccurrences: order-preserving de-duplication (SPEC §11.15-16).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tempo::events {

// Up to this many items, duplicates are found by a quadratic scan: the lists
// de-duplicated here (a module's channels, a template's zones) hold a handful
// of items, for which the scan beats hashing. Longer lists use a hash set.
inline constexpr size_t kLinearDedupeMaxItems = 16;

// Removes every item whose key (a std::string returned by `key_of`) equals
// that of an earlier item; the survivors keep their order.
template <typename T, typename KeyOf>
void KeepFirstOccurrences(std::vector<T>* items, KeyOf key_of) {
  std::vector<T>& v = *items;
  size_t kept = 0;
  if (v.size() <= kLinearDedupeMaxItems) {
    for (size_t i = 0; i < v.size(); ++i) {
      bool seen = false;
      for (size_t j = 0; j < kept && !seen; ++j) seen = key_of(v[j]) == key_of(v[i]);
      if (seen) continue;
      if (kept != i) v[kept] = std::move(v[i]);
      ++kept;
    }
  } else {
    // Keys are copied: moving an item would move the bytes a view points at.
    std::unordered_set<std::string> seen;
    seen.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!seen.insert(key_of(v[i])).second) continue;
      if (kept != i) v[kept] = std::move(v[i]);
      ++kept;
    }
  }
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(kept), v.end());
}

// The strings of `strings` without repeats, in first-seen order (rule 16).
inline void KeepFirstOccurrences(std::vector<std::string>* strings) {
  KeepFirstOccurrences(strings, [](const std::string& s) -> const std::string& { return s; });
}

}  // namespace tempo::events
