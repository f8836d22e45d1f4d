// ThreadSanitizer annotations, for orderings that TSan cannot see: it models
// atomic operations, locks and thread start/join, but neither
// std::atomic_thread_fence nor the membarrier system call (epoch.h). Where
// the code gets an ordering from one of those, it tells TSan with
// TsanAcquire next to a comment that names the pairing. Without TSan
// (-fsanitize=thread: cmake --preset tsan) it compiles to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define TEMPO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEMPO_TSAN 1
#endif
#endif
#ifndef TEMPO_TSAN
#define TEMPO_TSAN 0
#endif

#if TEMPO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace tempo::cache::internal {

// Whether this build runs under ThreadSanitizer.
inline constexpr bool kTsan = TEMPO_TSAN != 0;

// As far as TSan knows, everything the calling thread does after this
// happens after what any thread did before its last release of `addr` (an
// atomic store to it with release order). REQUIRES: the code really has that
// ordering, from a fence or membarrier; say which beside the call.
inline void TsanAcquire([[maybe_unused]] const void* addr) {
#if TEMPO_TSAN
  __tsan_acquire(const_cast<void*>(addr));
#endif
}

}  // namespace tempo::cache::internal
