// Heap bytes in use, for the memory counters of the benchmarks.
//
// glibc serves large blocks (a grown std::vector of job records, say) with
// mmap, and mallinfo2().uordblks leaves those out: hblkhd counts them. Both
// together are what the process holds from malloc.
#ifndef MLSCHED_BENCH_HEAP_H_
#define MLSCHED_BENCH_HEAP_H_

#include <malloc.h>

#include <cstddef>

namespace mlsched::bench {

inline std::size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace mlsched::bench

#endif  // MLSCHED_BENCH_HEAP_H_
