// FuzzCheck: how a libFuzzer target (the *_fuzz.cc files, tempo_fuzz() in the
// top CMakeLists.txt) says that an invariant of the code it fuzzes broke.
#pragma once

namespace tempo::testing {

// Stops the run with a crash when `condition` is false: libFuzzer reports
// it and saves the input that broke the invariant. Always on (no NDEBUG).
inline void FuzzCheck(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace tempo::testing
