// L2 keys: escaping and the long-key hash (see key.h).
#include "l2/key.h"

#include <xxhash.h>

#include <cstdint>

namespace tempo::l2 {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";
constexpr size_t kHashHexDigits = 16;
constexpr size_t kKeptPrefixBytes = kMaxKeyBytes - 1 - kHashHexDigits;

void AppendEscaped(std::string* out, std::string_view component) {
  for (char ch : component) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte <= 0x20 || byte >= 0x7f || ch == ':' || ch == '%' || ch == '#') {
      out->push_back('%');
      out->push_back(kHexDigits[byte >> 4]);
      out->push_back(kHexDigits[byte & 0xf]);
    } else {
      out->push_back(ch);
    }
  }
}

}  // namespace

std::string L2Key(std::string_view ns, int schema, const origin::SliceKey& slice) {
  std::string key = "tempo:";
  AppendEscaped(&key, ns);
  key += ':';
  key += std::to_string(schema);
  for (std::string_view component :
       {std::string_view(slice.partition.tenant), std::string_view(slice.partition.channel),
        std::string_view(slice.partition.page_type), std::string_view(slice.scope)}) {
    key += ':';
    AppendEscaped(&key, component);
  }
  if (key.size() <= kMaxKeyBytes) return key;

  uint64_t hash = XXH3_64bits(key.data(), key.size());
  key.resize(kKeptPrefixBytes);
  key += '#';
  for (int shift = 60; shift >= 0; shift -= 4) key.push_back(kHexDigits[(hash >> shift) & 0xf]);
  return key;
}

}  // namespace tempo::l2
