// Block sizes of the engine's attempt and task tables (and of the live bit
// per attempt kept beside the attempts): a block is released once every
// record in it belongs to a pruned job. In its own header so that tests that
// fill a block through the public API can name them.
#ifndef MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
#define MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_

namespace mlsched::internal {

// Attempts per block: 16,384 (2.25 MiB); tasks: 32,768 (2 MiB). Each block
// starts on a huge page (internal/huge_page_allocator.h), so that a pass
// that starts tens of thousands of jobs writes them at a fault per 2 MiB:
// with blocks of 8,192 from the heap, BM_Engine_Fill took 1,930 faults a
// pass instead of 1,010 and 46-48 ms instead of 36 ms. A replay holds about
// two blocks of each; blocks of 32,768 attempts (4.5 MiB) made that 13.4 MiB
// where it is now 8.5 MiB.
inline constexpr int kAttemptBlockBits = 14;
inline constexpr int kTaskBlockBits = 15;

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
