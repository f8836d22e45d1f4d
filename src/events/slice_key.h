// PartitionKey and SliceKey: what a page read needs, and the unit every cache
// tier holds. The origin stores rows by them, the invalidation message names
// them, L1 and L2 key their entries by them.
#pragma once

#include <cstddef>
#include <string>

namespace tempo::events {

// The partition of a page: every row one page read may need.
struct PartitionKey {
  std::string tenant;
  std::string channel;
  std::string page_type;
};

// One cached unit: the rows of one scope ("*" or a pageId) of one partition.
// An L1 or L2 entry holds exactly one slice.
struct SliceKey {
  PartitionKey partition;
  std::string scope;
};
bool operator==(const SliceKey& a, const SliceKey& b);
bool operator<(const SliceKey& a, const SliceKey& b);  // tenant, channel, page_type, scope
struct SliceKeyHash {
  size_t operator()(const SliceKey& key) const;
};

}  // namespace tempo::events
