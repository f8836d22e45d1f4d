// JavaScript string semantics over UTF-8: JavaScript strings are sequences of
// UTF-16 code units, ours are UTF-8 bytes. A lone surrogate (which JSON text
// can spell as "\ud800") is stored as its 3-byte generalized UTF-8 form
// (WTF-8), so every JavaScript string has exactly one byte form here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cond/text_buffer.h"

namespace tempo::cond {

// Decodes the code point at s[*i] and advances *i past it. Surrogate code
// points (WTF-8) decode as themselves; an invalid byte decodes as U+FFFD and
// advances one byte. REQUIRES: *i < s.size().
uint32_t DecodeUtf8(std::string_view s, size_t* i);

// Appends the UTF-8 (WTF-8 for surrogates) encoding of `cp`.
void AppendUtf8(uint32_t cp, std::string* out);

// Compares `a` and `b` as JavaScript compares strings, by UTF-16 code units
// (so U+10000 sorts before U+E000): negative, zero or positive.
int CompareUtf16(std::string_view a, std::string_view b);

// JavaScript's `str.length`: the number of UTF-16 code units.
size_t Utf16Length(std::string_view s);

// Calls fn(std::string unit) for each UTF-16 code unit of `s`, each as a
// one-unit string (a surrogate half in WTF-8): Object.entries("ab") order.
template <typename Fn>
void ForEachUtf16Unit(std::string_view s, Fn&& fn);

// True for the characters JavaScript's String.prototype.trim and Number()
// strip: WhiteSpace and LineTerminator of ECMA-262.
bool IsJsWhitespace(uint32_t cp);

// `s` without leading and trailing JavaScript whitespace.
std::string_view TrimJsWhitespace(std::string_view s);

// Appends s.toLowerCase(): Unicode's lowercase mappings (unicode_tables.h),
// with the full mapping of U+0130 and the final-sigma rule, as JavaScript
// applies them.
void AppendLowercase(std::string_view s, std::string* out);
void AppendLowercase(std::string_view s, TextBuffer* out);

// True when s.toLowerCase() == `lowered`, without building the lowered copy.
bool LowercaseEquals(std::string_view s, std::string_view lowered);

// ---- implementation details ----

template <typename Fn>
void ForEachUtf16Unit(std::string_view s, Fn&& fn) {
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = DecodeUtf8(s, &i);
    std::string unit;
    if (cp >= 0x10000) {
      AppendUtf8(0xD800 + ((cp - 0x10000) >> 10), &unit);
      fn(std::move(unit));
      unit.clear();
      AppendUtf8(0xDC00 + ((cp - 0x10000) & 0x3FF), &unit);
    } else {
      AppendUtf8(cp, &unit);
    }
    fn(std::move(unit));
  }
}

}  // namespace tempo::cond
