// Heap bytes in use and page faults, for the memory counters of the benchmarks.
//
// glibc serves large blocks (a grown std::vector of job records, say) with
// mmap, and mallinfo2().uordblks leaves those out: hblkhd counts them. Both
// together are what the process holds from malloc; the engine's biggest
// tables map their chunks themselves (HugePageAllocator), counted apart.
#ifndef MLSCHED_BENCH_HEAP_H_
#define MLSCHED_BENCH_HEAP_H_

#include <malloc.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>

#include "internal/huge_page_allocator.h"

namespace mlsched::bench {

inline std::size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd + internal::HugePageBytesMapped();
}

// Page faults the process has taken so far that needed no disk read: first
// touches of fresh memory, the cost a table that keeps growing pays.
inline std::int64_t MinorFaults() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// CPU seconds the process has spent in the kernel so far (page faults,
// mostly, in these benchmarks).
inline double SystemSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace mlsched::bench

#endif  // MLSCHED_BENCH_HEAP_H_
