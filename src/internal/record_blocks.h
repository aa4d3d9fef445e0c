// Block size of the engine's attempt and task tables (and of the live bit
// per attempt kept beside them): a block is released once every record in
// it belongs to a pruned job. In its own header so that tests that fill a
// block through the public API can name it.
#ifndef MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
#define MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_

namespace mlsched::internal {

// Attempts and tasks per block: 8,192 (1.1 MiB of attempts, 0.5 MiB of
// tasks, from the heap). A replay holds two blocks of each, or more while old
// attempts run on; blocks of 32,768 on huge pages made the SWF replay fault
// in 13 MiB for them where 3.4 MiB do, and fresh memory costs a virtual
// machine about a millisecond a megabyte.
inline constexpr int kRecordBlockBits = 13;

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
