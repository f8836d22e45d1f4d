// SliceKey's order and hash.
#include "events/slice_key.h"

#include <functional>
#include <string_view>
#include <tuple>

namespace tempo::events {

bool operator==(const SliceKey& a, const SliceKey& b) {
  return a.scope == b.scope && a.partition.tenant == b.partition.tenant &&
         a.partition.channel == b.partition.channel &&
         a.partition.page_type == b.partition.page_type;
}

bool operator<(const SliceKey& a, const SliceKey& b) {
  return std::tie(a.partition.tenant, a.partition.channel, a.partition.page_type, a.scope) <
         std::tie(b.partition.tenant, b.partition.channel, b.partition.page_type, b.scope);
}

size_t SliceKeyHash::operator()(const SliceKey& key) const {
  const std::hash<std::string_view> hash;
  size_t h = hash(key.partition.tenant);
  for (std::string_view part :
       {std::string_view(key.partition.channel), std::string_view(key.partition.page_type),
        std::string_view(key.scope)}) {
    h = h * 31 + hash(part);  // order-sensitive: (a, b) and (b, a) differ
  }
  return h;
}

}  // namespace tempo::events
