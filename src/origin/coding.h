// Byte encodings of the RocksDB origin's keys and values.
//
// Keys are tuples of strings in an order-preserving encoding (the layout of
// FoundationDB's tuple layer, restricted to byte strings): each element is
// written with every 0x00 byte escaped as 0x00 0xFF and is closed by the
// terminator 0x00 0x01. Comparing two encoded tuples bytewise then gives the
// same answer as comparing them element by element, each element bytewise,
// whatever bytes the elements hold; in particular "a" sorts before "a-b" and
// before "a\0", and an encoded tuple is never a prefix of another tuple's
// encoding unless it is a prefix of the tuple itself.
//
// Values use big-endian fixed-width integers and LEB128 varints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tempo::origin {

// Appends `element` to `*out` as one tuple element.
void AppendTupleElement(std::string* out, std::string_view element);

// Decodes one tuple element from the front of `*in` into `*element` and
// advances `*in` past it. Returns false (leaving both unspecified) when the
// bytes are not a well-formed element.
bool ReadTupleElement(std::string_view* in, std::string* element);

// Appends `value` as 8 bytes, most significant first, so that encoded
// non-negative values sort like the values.
void AppendFixed64(std::string* out, uint64_t value);

// Reads 8 big-endian bytes from the front of `*in`; false when too short.
bool ReadFixed64(std::string_view* in, uint64_t* value);

// Appends `value` as a LEB128 varint (1 to 10 bytes).
void AppendVarint64(std::string* out, uint64_t value);

// Reads a varint from the front of `*in`; false when truncated or overlong.
bool ReadVarint64(std::string_view* in, uint64_t* value);

// Appends varint(size) followed by the bytes of `bytes`.
void AppendLengthPrefixed(std::string* out, std::string_view bytes);

// Reads a length-prefixed string from the front of `*in` (a view into the
// input); false when truncated.
bool ReadLengthPrefixed(std::string_view* in, std::string_view* bytes);

}  // namespace tempo::origin
