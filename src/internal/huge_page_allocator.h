// HugePageAllocator: a std::allocator for the engine's big tables (the job
// table's chunks of 8,192 records, 5 MiB each) that asks the kernel for
// transparent huge pages.
//
// A table of a million job records spans hundreds of megabytes. With 4 KiB
// pages, filling it costs a page fault per few records and a TLB miss on
// most record accesses; with 2 MiB pages, one fault per 2 MiB and far fewer
// misses. Memory comes from operator new as usual (so heap statistics see
// it); for a block of at least two huge pages, the 2 MiB-aligned range
// inside it is marked MADV_HUGEPAGE (Linux; elsewhere, or when the kernel's
// THP setting is "never", nothing changes). Stateless: instances are equal.
#ifndef MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

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
    T* p = std::allocator<T>().allocate(n);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= 2 * kHugePageBytes) {
      const auto begin = reinterpret_cast<std::uintptr_t>(p);
      const std::uintptr_t first = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
      const std::uintptr_t last = (begin + bytes) & ~(kHugePageBytes - 1);
      // Advice only: a failure leaves ordinary pages.
      if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
#endif
    return p;
  }
  void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
