// Block size of the engine's attempt and task tables (and of the live bit
// per attempt kept beside them): a block is released once every record in
// it belongs to a pruned job. In its own header so that tests that fill a
// block through the public API can name it.
#ifndef MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
#define MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_

namespace mlsched::internal {

// Attempts and tasks per block: 32,768 (4.5 MiB of attempts, 2 MiB of tasks).
inline constexpr int kRecordBlockBits = 15;

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_RECORD_BLOCKS_H_
