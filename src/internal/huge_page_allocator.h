// HugePageAllocator: a std::allocator for the engine's big tables (the job
// table's chunks of 8,192 records, 5 MiB each) that asks the kernel for
// transparent huge pages.
//
// A table of a million job records spans hundreds of megabytes. With 4 KiB
// pages, filling it costs a page fault per few records and a TLB miss on
// most record accesses; with 2 MiB pages, one fault per 2 MiB and far fewer
// misses. Memory comes from operator new as usual (so heap statistics see
// it). A block of at least two huge pages is aligned to a huge page and the
// whole of it, rounded up to huge pages, is marked MADV_HUGEPAGE (Linux;
// elsewhere, or when the kernel's THP setting is "never", nothing changes):
// unaligned, only the aligned middle of a block could be huge, and its
// edges (a fifth to three fifths of a 5 MiB chunk) took 4 KiB faults, each
// costly on a virtual machine. The alignment costs address space (up to a
// huge page per block, never touched), not memory. Stateless: instances are
// equal.
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
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (!Huge(bytes)) return std::allocator<T>().allocate(n);
    // Rounded up to whole huge pages, so that the last one is not shared.
    const std::size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    void* p = ::operator new(rounded, std::align_val_t{kHugePageBytes});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a failure leaves ordinary pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (!Huge(bytes)) return std::allocator<T>().deallocate(p, n);
    ::operator delete(p, std::align_val_t{kHugePageBytes});
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }

 private:
  static bool Huge(std::size_t bytes) { return bytes >= 2 * kHugePageBytes; }
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
