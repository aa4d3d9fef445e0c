// HugePageAllocator: a std::allocator for the engine's big flat tables (jobs,
// attempts, tasks) that asks the kernel for transparent huge pages.
//
// A table of a million job records spans hundreds of megabytes. With 4 KiB
// pages, filling it costs a page fault per few records and a TLB miss on
// most record accesses; with 2 MiB pages, one fault per 2 MiB and far fewer
// misses. Blocks of at least 2 MiB are aligned to 2 MiB and marked
// MADV_HUGEPAGE (Linux; elsewhere, or when the kernel's THP setting is
// "never", the advice is a no-op and the memory is ordinary). Smaller blocks
// come from operator new as usual. Stateless: any two instances are equal.
#ifndef MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mlsched::internal {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* p = std::aligned_alloc(kHugePageBytes, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHugePageBytes) {
      std::allocator<T>().deallocate(p, n);
      return;
    }
    std::free(p);
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

// A vector whose storage, once large, sits on huge pages.
template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
