// The memcached key of an L2 entry.
//
//   tempo:<ns>:<schema>:<tenant>:<channel>:<pageType>:<scope>
//
// Memcached keys are at most 250 bytes without spaces or control characters.
// Inside every component, bytes outside printable ASCII (<= 0x20, >= 0x7f)
// and the bytes ':' '%' '#' are written as %XX (uppercase hex), so the
// separators stay unambiguous and two distinct slices never share a key
// ("a:b","c" and "a","b:c" differ). A key longer than 250 bytes keeps its
// first 233 bytes and ends in '#' and the 16 hex digits of the XXH3-64 of the
// whole key; as '#' never appears unescaped, such a key cannot equal a short
// one, and two long keys collide only if their hashes do (a collision reads
// as a miss anyway: the value names its slice, see value_codec.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "origin/origin.h"

namespace tempo::l2 {

constexpr size_t kMaxKeyBytes = 250;

// The L2 key of `slice` in namespace `ns` for slice layout `schema`.
std::string L2Key(std::string_view ns, int schema, const origin::SliceKey& slice);

}  // namespace tempo::l2
