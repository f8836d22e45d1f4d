// Byte encodings of the RocksDB origin's keys and values: see coding.h.
#include "origin/coding.h"

namespace tempo::origin {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';  // 0x00 0xFF: a 0x00 byte inside an element
constexpr char kTerminator = '\x01';   // 0x00 0x01: end of the element

constexpr int kFixed64Bytes = 8;
constexpr int kVarintPayloadBits = 7;
constexpr uint8_t kVarintPayloadMask = 0x7F;
constexpr uint8_t kVarintMoreBit = 0x80;
constexpr int kMaxVarint64Bytes = 10;

}  // namespace

void AppendTupleElement(std::string* out, std::string_view element) {
  for (char c : element) {
    out->push_back(c);
    if (c == kEscape) out->push_back(kEscapedZero);
  }
  out->push_back(kEscape);
  out->push_back(kTerminator);
}

bool ReadTupleElement(std::string_view* in, std::string* element) {
  element->clear();
  for (size_t i = 0; i < in->size(); ++i) {
    char c = (*in)[i];
    if (c != kEscape) {
      element->push_back(c);
      continue;
    }
    if (i + 1 == in->size()) return false;
    char next = (*in)[++i];
    if (next == kTerminator) {
      in->remove_prefix(i + 1);
      return true;
    }
    if (next != kEscapedZero) return false;
    element->push_back(kEscape);
  }
  return false;  // no terminator
}

void AppendFixed64(std::string* out, uint64_t value) {
  for (int shift = (kFixed64Bytes - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

bool ReadFixed64(std::string_view* in, uint64_t* value) {
  if (in->size() < kFixed64Bytes) return false;
  uint64_t v = 0;
  for (int i = 0; i < kFixed64Bytes; ++i) {
    v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  }
  in->remove_prefix(kFixed64Bytes);
  *value = v;
  return true;
}

void AppendVarint64(std::string* out, uint64_t value) {
  while (value > kVarintPayloadMask) {
    out->push_back(static_cast<char>((value & kVarintPayloadMask) | kVarintMoreBit));
    value >>= kVarintPayloadBits;
  }
  out->push_back(static_cast<char>(value));
}

bool ReadVarint64(std::string_view* in, uint64_t* value) {
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarint64Bytes && i < static_cast<int>(in->size()); ++i) {
    uint8_t byte = static_cast<uint8_t>((*in)[i]);
    uint64_t payload = byte & kVarintPayloadMask;
    int shift = i * kVarintPayloadBits;
    // The tenth byte may only carry the top bit of a 64-bit value.
    if (i == kMaxVarint64Bytes - 1 && payload > 1) return false;
    v |= payload << shift;
    if ((byte & kVarintMoreBit) == 0) {
      in->remove_prefix(i + 1);
      *value = v;
      return true;
    }
  }
  return false;
}

void AppendLengthPrefixed(std::string* out, std::string_view bytes) {
  AppendVarint64(out, bytes.size());
  out->append(bytes);
}

bool ReadLengthPrefixed(std::string_view* in, std::string_view* bytes) {
  uint64_t size = 0;
  if (!ReadVarint64(in, &size) || size > in->size()) return false;
  *bytes = in->substr(0, size);
  in->remove_prefix(size);
  return true;
}

}  // namespace tempo::origin
