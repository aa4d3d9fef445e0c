// HugePageAllocator: a std::allocator for the engine's big tables (chunks of
// the job, attempt and task tables, 2-2.5 MiB each; the simulator's per-job
// outcomes) that asks the kernel for transparent huge pages.
//
// A table of a million job records spans hundreds of megabytes. With 4 KiB
// pages, filling it costs a page fault per few records (costly on a virtual
// machine: a pass that starts 31,000 jobs took 2,400 of them) and a TLB miss
// on most record accesses; with 2 MiB pages, one fault per 2 MiB and far
// fewer misses.
//
// Blocks of at least one huge page are carved one after another out of
// mappings of 64 MiB that start on a huge-page boundary (MapHugeBlock), so
// that every whole 2 MiB of them can be a huge page, across blocks too: a
// 2.5 MiB chunk of the job table shares its last huge page with the next
// block. (Each block mapped alone and aligned, a chunk's last half-megabyte
// took 128 faults of 4 KiB: a third of the faults of a million submissions.
// From malloc, a block starts anywhere: only its aligned middle could be a
// huge page.) Blocks over 16 MiB are mapped alone, aligned. The mapping is
// advised MADV_HUGEPAGE from a block on, when with it the process holds
// 8 MiB of such blocks, so a small engine keeps to 4 KiB pages; or at once,
// with `kFilledAtOnce`, for a block its owner fills whole as soon as it has
// it (a vector sized once). A block's size is rounded to whole pages. (Rounded
// to whole huge pages, so that a block's tail is one too, the simulator's
// replays took fewer faults but more system time: a huge page is zeroed
// whole, and a table's chunk is seldom filled to its tail.) What such blocks
// hold in all is HugePageBytesMapped(), which heap statistics (mallinfo2) do
// not see; the untouched rest of the current mapping is address space only.
// Freed blocks of up to 16 MiB are kept for the next block of their size, up
// to 64 MiB in all, oldest dropped first: a table that releases a chunk and
// later takes one, or an engine made after another, then faults in and
// zeroes nothing. TrimHugePageCache() (for hosts:
// mlsched::ReleaseCachedMemory()) gives them back, and the rest of the
// current mapping.
// Off Linux, and under AddressSanitizer (so that a read of a freed block is
// reported), large blocks come from operator new. Smaller blocks always do.
// Stateless: instances are equal.
#ifndef MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>

namespace mlsched::internal {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
// A block not filled at once is advised for huge pages when, with it, the
// process holds this much in such blocks. (At 16 MiB, the SWF replay's
// engine tables, 8.5 MiB beside the simulator's 6.4 MiB of outcomes, kept to
// 4 KiB pages: 4,000 faults where there are 1,800 now.)
inline constexpr std::size_t kAdviseHugePagesFromBytes = std::size_t{8} << 20;

// Defined in huge_page_allocator.cc. Thread-safe.
bool HugeBlocksMapped();  // whether large blocks are mapped apart (Linux, no sanitizer)
std::size_t PageRounded(std::size_t bytes);
// bytes: page-rounded, >= kHugePageBytes; throws std::bad_alloc. `filled`:
// advised for huge pages whatever the process holds.
void* MapHugeBlock(std::size_t bytes, bool filled = false);
void UnmapHugeBlock(void* p, std::size_t bytes);
std::size_t HugePageBytesMapped();  // in use: not those kept for reuse
std::size_t HugePageBytesCached();  // kept for reuse
std::size_t TrimHugePageCache();    // unmaps the blocks kept for reuse; returns their bytes
// For tests: holds the lock of the blocks kept for reuse until released.
std::unique_lock<std::mutex> LockHugePageCacheForTest();

template <typename T, bool kFilledAtOnce = false>
struct HugePageAllocator {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = HugePageAllocator<U, kFilledAtOnce>;
  };

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U, kFilledAtOnce>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    if (n > std::allocator_traits<std::allocator<T>>::max_size(std::allocator<T>())) throw std::bad_array_new_length();
    if (const std::size_t bytes = PageRounded(n * sizeof(T)); Large(bytes))
      return static_cast<T*>(MapHugeBlock(bytes, kFilledAtOnce));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    if (const std::size_t bytes = PageRounded(n * sizeof(T)); Large(bytes)) return UnmapHugeBlock(p, bytes);
    std::allocator<T>().deallocate(p, n);
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U, kFilledAtOnce>&) const {
    return true;
  }

 private:
  static bool Large(std::size_t bytes) { return bytes >= kHugePageBytes && HugeBlocksMapped(); }
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
