#include "internal/huge_page_allocator.h"

#include <atomic>
#include <cstdint>
#include <mutex>

#include "internal/sanitizers.h"

#if defined(__linux__)
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__linux__) && defined(MADV_HUGEPAGE) && !defined(MLSCHED_ASAN)
#define MLSCHED_MAP_HUGE_BLOCKS 1
#else
#define MLSCHED_MAP_HUGE_BLOCKS 0
#endif

namespace mlsched::internal {
namespace {

// Freed blocks kept for reuse: each at most kCacheBlockBytes, at most
// kCacheBytes and kCacheBlocks in all.
constexpr std::size_t kCacheBlockBytes = std::size_t{16} << 20;
constexpr std::size_t kCacheBytes = std::size_t{64} << 20;
constexpr std::size_t kCacheBlocks = 32;

std::atomic<std::size_t> in_use{0};

struct Cache {
  struct Block {
    void* p;
    std::size_t bytes;
  };
  std::mutex mu;
  Block blocks[kCacheBlocks] = {};  // oldest first
  std::size_t count = 0, bytes = 0;

  void* Take(std::size_t want) {
    std::lock_guard<std::mutex> lock(mu);
    for (std::size_t i = count; i-- > 0;) {  // the newest: likeliest still in cache
      if (blocks[i].bytes != want) continue;
      void* p = blocks[i].p;
      for (std::size_t k = i + 1; k < count; ++k) blocks[k - 1] = blocks[k];
      --count;
      bytes -= want;
      return p;
    }
    return nullptr;
  }
  // Keeps the block, dropping the oldest ones to make room; returns those
  // to unmap (at most kCacheBlocks), or the block itself when it is too big.
  std::size_t Give(void* p, std::size_t size, Block* drop) {
    if (size > kCacheBlockBytes) {
      drop[0] = {p, size};
      return 1;
    }
    std::lock_guard<std::mutex> lock(mu);
    std::size_t dropped = 0;
    while (count > 0 && (count == kCacheBlocks || bytes + size > kCacheBytes)) {
      drop[dropped++] = blocks[0];
      bytes -= blocks[0].bytes;
      for (std::size_t k = 1; k < count; ++k) blocks[k - 1] = blocks[k];
      --count;
    }
    blocks[count++] = {p, size};
    bytes += size;
    return dropped;
  }
  std::size_t Held() {
    std::lock_guard<std::mutex> lock(mu);
    return bytes;
  }
  std::size_t TakeAll(Block* out) {
    std::lock_guard<std::mutex> lock(mu);
    const std::size_t n = count;
    for (std::size_t i = 0; i < n; ++i) out[i] = blocks[i];
    count = 0;
    bytes = 0;
    return n;
  }
};

Cache& TheCache() {
  // Never destroyed: blocks may be freed during exit. A fork() waits until no
  // other thread holds the cache's lock, which the child then holds alone and
  // releases: without that, a fork while another thread held it (a host
  // forking workers while an engine grew in a thread) would leave the child
  // blocked on its first big block.
  static Cache* cache = [] {
    auto* c = new Cache;
#if defined(__linux__)
    pthread_atfork([] { TheCache().mu.lock(); }, [] { TheCache().mu.unlock(); }, [] { TheCache().mu.unlock(); });
#endif
    return c;
  }();
  return *cache;
}

}  // namespace

bool HugeBlocksMapped() { return MLSCHED_MAP_HUGE_BLOCKS != 0; }

std::unique_lock<std::mutex> LockHugePageCacheForTest() { return std::unique_lock<std::mutex>(TheCache().mu); }

std::size_t PageRounded(std::size_t bytes) {
#if defined(__linux__)
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#else
  constexpr std::size_t page = 4096;
#endif
  return (bytes + page - 1) / page * page;
}

#if MLSCHED_MAP_HUGE_BLOCKS
namespace {

// Maps `bytes` starting on a huge-page boundary: a huge page more than
// needed, then the slack before the first boundary and after the block
// unmapped. Returns nullptr when the kernel refuses.
void* MapAligned(std::size_t bytes) {
  void* raw = mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto lo = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t start = (lo + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  if (start > lo) munmap(raw, start - lo);
  munmap(reinterpret_cast<void*>(start + bytes), lo + kHugePageBytes - start);
  return reinterpret_cast<void*>(start);
}

// Blocks of up to kCarvedMaxBytes are carved one after another out of a
// region of kRegionBytes (see the header: huge pages then span blocks).
// Guarded by the cache's lock.
constexpr std::size_t kRegionBytes = std::size_t{64} << 20;
constexpr std::size_t kCarvedMaxBytes = kCacheBlockBytes;
struct Region {
  std::uintptr_t next = 0, end = 0;
  std::uintptr_t advised_from = 0;  // [advised_from, end) is advised for huge pages; end: none
};
Region region;

// Gives back the rest of the region after its last block: the next block
// starts a new one.
void AbandonRegion() {
  if (region.next < region.end) munmap(reinterpret_cast<void*>(region.next), region.end - region.next);
  region = {};
}

// A block of `bytes` from the region (a new region if it does not fit),
// advised with the rest of the region when `advise`; nullptr when the
// kernel refuses a new region.
void* Carve(std::size_t bytes, bool advise) {
  if (region.end - region.next < bytes) {
    AbandonRegion();
    void* r = MapAligned(kRegionBytes);
    if (r == nullptr) return nullptr;
    region.next = reinterpret_cast<std::uintptr_t>(r);
    region.end = region.advised_from = region.next + kRegionBytes;
  }
  const std::uintptr_t p = region.next;
  region.next += bytes;
  // Advice for the rest of the region at once, so that a huge page can span
  // this block's end and the next block's start (the kernel makes one only
  // within one advised mapping).
  if (advise && p < region.advised_from) {
    (void)madvise(reinterpret_cast<void*>(p), region.advised_from - p, MADV_HUGEPAGE);
    region.advised_from = p;
  }
  return reinterpret_cast<void*>(p);
}

}  // namespace
#endif

void* MapHugeBlock(std::size_t bytes, bool filled) {
#if MLSCHED_MAP_HUGE_BLOCKS
  // (A kept block mapped before the process held that much is advised now.)
  const bool advise = filled || in_use.load(std::memory_order_relaxed) + bytes >= kAdviseHugePagesFromBytes;
  auto map = [&]() -> void* {
    if (bytes > kCarvedMaxBytes) return MapAligned(bytes);
    std::lock_guard<std::mutex> lock(TheCache().mu);
    return Carve(bytes, advise);
  };
  void* p = TheCache().Take(bytes);
  if (p == nullptr) p = map();
  if (p == nullptr) {
    TrimHugePageCache();  // once more, with the kept blocks given back
    p = map();
    if (p == nullptr) throw std::bad_alloc();
  }
  if (advise) (void)madvise(p, bytes, MADV_HUGEPAGE);  // advice only: a failure leaves ordinary pages
  in_use.fetch_add(bytes, std::memory_order_relaxed);
  return p;
#else
  (void)bytes;
  (void)filled;
  throw std::bad_alloc();  // not called: HugeBlocksMapped() is false
#endif
}

void UnmapHugeBlock(void* p, std::size_t bytes) {
#if MLSCHED_MAP_HUGE_BLOCKS
  in_use.fetch_sub(bytes, std::memory_order_relaxed);
  Cache::Block drop[kCacheBlocks];
  const std::size_t n = TheCache().Give(p, bytes, drop);
  for (std::size_t i = 0; i < n; ++i) munmap(drop[i].p, drop[i].bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

std::size_t HugePageBytesMapped() { return in_use.load(std::memory_order_relaxed); }

std::size_t HugePageBytesCached() { return TheCache().Held(); }

std::size_t TrimHugePageCache() {
  std::size_t bytes = 0;
#if MLSCHED_MAP_HUGE_BLOCKS
  {
    std::lock_guard<std::mutex> lock(TheCache().mu);
    AbandonRegion();
  }
  Cache::Block all[kCacheBlocks];
  const std::size_t n = TheCache().TakeAll(all);
  for (std::size_t i = 0; i < n; ++i) {
    munmap(all[i].p, all[i].bytes);
    bytes += all[i].bytes;
  }
#endif
  return bytes;
}

}  // namespace mlsched::internal
