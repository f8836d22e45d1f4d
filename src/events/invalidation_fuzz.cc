// libFuzzer target for the invalidation message (events/invalidation.h):
// arbitrary bytes as a message value, as every `tempo serve` reads them from
// tempo.invalidations.v1. Beyond "no crash", whatever decodes meets the
// documented rules and re-encodes to a value that decodes to the same slice
// and version; a failure is InvalidArgument naming the field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/invalidation.h"
#include "testing/fuzz_check.h"

using tempo::testing::FuzzCheck;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tempo::events;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeInvalidation(input);
  if (!decoded.ok()) {
    FuzzCheck(decoded.status().code() == tempo::Status::Code::kInvalidArgument);
    FuzzCheck(decoded.status().message().rfind("invalidation: ", 0) == 0);
    return 0;
  }
  const SliceKey& slice = decoded->slice;
  FuzzCheck(!slice.partition.tenant.empty() && !slice.partition.page_type.empty());
  FuzzCheck(!slice.scope.empty() && decoded->version >= 1);
  // Every decoded string was a substring of the input's text, once unescaped.
  FuzzCheck(slice.partition.tenant.size() + slice.partition.channel.size() +
                slice.partition.page_type.size() + slice.scope.size() <=
            size);

  const std::string again = EncodeInvalidation(slice, decoded->version);
  auto round = DecodeInvalidation(again);
  FuzzCheck(round.ok());
  FuzzCheck(round->slice == slice && round->version == decoded->version);
  FuzzCheck(EncodeInvalidation(round->slice, round->version) == again);
  const std::string key = InvalidationKey(slice);
  FuzzCheck(key.size() == slice.partition.tenant.size() + slice.partition.channel.size() +
                              slice.partition.page_type.size() + 2);
  return 0;
}
