// libFuzzer target for the L2 value decoder: arbitrary bytes as a stored
// value. Beyond "no crash", whatever decodes must re-encode to a value that
// decodes to the same rows.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "l2/value_codec.h"
#include "testing/fuzz_check.h"

namespace {

using tempo::testing::FuzzCheck;

const tempo::origin::SliceKey kSlice{{"t", "c", "p"}, "*"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tempo::l2;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rows = DecodeSliceValue(input, "ns", 1, kSlice);
  if (rows.ok()) {
    auto again = DecodeSliceValue(EncodeSliceValue("ns", 1, kSlice, *rows), "ns", 1, kSlice);
    FuzzCheck(again.ok() && again->size() == rows->size());
    for (size_t i = 0; i < rows->size(); ++i) {
      FuzzCheck((*again)[i].id == (*rows)[i].id && (*again)[i].body == (*rows)[i].body &&
                (*again)[i].version == (*rows)[i].version && (*again)[i].kind == (*rows)[i].kind);
    }
  }
  return 0;
}
