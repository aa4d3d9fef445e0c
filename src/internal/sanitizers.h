// MLSCHED_ASAN: defined when AddressSanitizer instruments this file, as GCC
// (__SANITIZE_ADDRESS__) and clang (__has_feature) announce it. Code that
// recycles memory itself turns that off under it, so that a read of a freed
// block is reported.
#ifndef MLSCHED_INTERNAL_SANITIZERS_H_
#define MLSCHED_INTERNAL_SANITIZERS_H_

#if defined(__SANITIZE_ADDRESS__)
#define MLSCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MLSCHED_ASAN 1
#endif
#endif

#endif  // MLSCHED_INTERNAL_SANITIZERS_H_
