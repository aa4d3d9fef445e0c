// HugePageAllocator: a std::allocator for the engine's big tables (the job
// table's chunks of 8,192 records, 5 MiB each; the attempt table's, 4.5 MiB)
// that asks the kernel for transparent huge pages.
//
// A table of a million job records spans hundreds of megabytes. With 4 KiB
// pages, filling it costs a page fault per few records (costly on a virtual
// machine: a pass that starts 31,000 jobs took 2,400 of them) and a TLB miss
// on most record accesses; with 2 MiB pages, one fault per 2 MiB and far
// fewer misses.
//
// A block of at least one huge page is mapped on its own (mmap), starting on
// a huge-page boundary, and marked MADV_HUGEPAGE (Linux; elsewhere, or when
// the kernel's THP setting is "never", nothing changes): every whole 2 MiB of
// it can be a huge page. (From malloc, a block starts anywhere, so only its
// aligned middle could be, and its edges took 4 KiB faults.) The mapping is
// the block's size rounded to whole pages, no more; what such blocks hold in
// all is HugePageBytesMapped(), which heap statistics (mallinfo2) do not see.
// Freed ones are kept for reuse, up to 64 MiB (HugePageCache).
// Smaller blocks come from operator new. Stateless: instances are equal.
#ifndef MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
#define MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

// Large blocks are mapped apart on Linux; under AddressSanitizer they come
// from operator new, so that a read of a freed block is reported.
#if defined(__linux__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
#define MLSCHED_HUGE_PAGE_BLOCKS 1
#else
#define MLSCHED_HUGE_PAGE_BLOCKS 0
#endif

namespace mlsched::internal {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// Bytes of HugePageAllocator's large blocks in use in this process (not
// those kept for reuse).
inline std::atomic<std::size_t> huge_page_bytes_mapped{0};
inline std::size_t HugePageBytesMapped() { return huge_page_bytes_mapped.load(std::memory_order_relaxed); }

// Freed large blocks kept for the next ones of the same size, up to
// kHugePageCacheBytes in all: a new block then costs no faults and no
// zeroing (a fresh huge page is zeroed when first touched). Tables release
// chunks in bursts and take new ones steadily, and an engine made after
// another (the simulator's runs, one per policy set) reuses the first one's
// memory, as blocks from malloc would be. Shared by the process; a mutex
// guards it (a block is taken or given back once per thousands of records).
inline constexpr std::size_t kHugePageCacheBytes = std::size_t{64} << 20;
class HugePageCache {
 public:
  static void* Take(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < count_; ++i) {
      if (blocks_[i].bytes != bytes) continue;
      void* p = blocks_[i].p;
      blocks_[i] = blocks_[--count_];
      held_ -= bytes;
      return p;
    }
    return nullptr;
  }
  // Whether the block was kept (else the caller unmaps it).
  static bool Give(void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_ == kMaxBlocks || held_ + bytes > kHugePageCacheBytes) return false;
    blocks_[count_++] = {p, bytes};
    held_ += bytes;
    return true;
  }

 private:
  struct Block {
    void* p;
    std::size_t bytes;
  };
  static constexpr std::size_t kMaxBlocks = 32;
  static inline std::mutex mu_;
  static inline Block blocks_[kMaxBlocks] = {};
  static inline std::size_t count_ = 0, held_ = 0;
};

template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T) / 2) throw std::bad_array_new_length();
#if MLSCHED_HUGE_PAGE_BLOCKS
    const std::size_t bytes = Mapped(n);
    if (bytes >= kHugePageBytes) {
      huge_page_bytes_mapped.fetch_add(bytes, std::memory_order_relaxed);
      if (void* kept = HugePageCache::Take(bytes)) return static_cast<T*>(kept);
      // Map a huge page more than needed, then unmap the slack before the
      // first boundary and after the block.
      void* raw = mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) throw std::bad_alloc();
      const auto lo = reinterpret_cast<std::uintptr_t>(raw);
      const std::uintptr_t start = (lo + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
      if (start > lo) munmap(raw, start - lo);
      munmap(reinterpret_cast<void*>(start + bytes), lo + kHugePageBytes - start);
      (void)madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);  // advice only
      return reinterpret_cast<T*>(start);
    }
#endif
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
#if MLSCHED_HUGE_PAGE_BLOCKS
    const std::size_t bytes = Mapped(n);
    if (bytes >= kHugePageBytes) {
      huge_page_bytes_mapped.fetch_sub(bytes, std::memory_order_relaxed);
      if (!HugePageCache::Give(p, bytes)) munmap(p, bytes);
      return;
    }
#endif
    std::allocator<T>().deallocate(p, n);
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }

 private:
  // n elements' bytes, rounded up to whole pages.
  static std::size_t Mapped(std::size_t n) {
#if defined(__linux__)
    static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#else
    constexpr std::size_t page = 4096;
#endif
    return (n * sizeof(T) + page - 1) / page * page;
  }
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_HUGE_PAGE_ALLOCATOR_H_
