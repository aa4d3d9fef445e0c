// ChunkedBits: a bit per record of a ChunkedVector table, in blocks that
// match the table's and are released with them. For a flag read far more
// often than its record, and mostly when the record is cold: whether a job
// is pruned (sweeps of job lists), whether an attempt is live (timers that
// mostly name attempts long ended). A block of 2^kChunkBits bits is
// 2^(kChunkBits - 3) bytes: the whole flag of a 16,384-attempt block is 2 KiB.
//
//   ChunkedBits<14> live;          // beside ChunkedVector<AttemptRec, 14>
//   live.Append(a);                // as the table appends record a (cleared)
//   live.Set(a); live.Clear(a);
//   live.Test(a);                  // false once a's block is released
//   live.ReleaseBlock(a >> 14);    // with the table's release_chunk
//
// Not thread-safe; owned by value.
#ifndef MLSCHED_INTERNAL_CHUNKED_BITS_H_
#define MLSCHED_INTERNAL_CHUNKED_BITS_H_

#include <cstddef>
#include <cstdint>

#include "internal/chunked_vector.h"

namespace mlsched::internal {

template <int kChunkBits>
class ChunkedBits {
  static_assert(kChunkBits >= 6, "a block holds whole words");

 public:
  // Makes room for bit i, cleared; bits are appended in order (0, 1, 2, ...).
  void Append(std::size_t i) {
    if ((i & 63) == 0) words_.emplace_back(0);
  }
  void Set(std::size_t i) { words_[i >> 6] |= Bit(i); }
  void Clear(std::size_t i) { words_[i >> 6] &= ~Bit(i); }
  // Whether bit i is set; false for a bit never appended or whose block was released.
  bool Test(std::size_t i) const { return words_.contains(i >> 6) && (words_[i >> 6] & Bit(i)) != 0; }
  // Releases bits [k * 2^kChunkBits, (k + 1) * 2^kChunkBits), all appended.
  void ReleaseBlock(std::size_t k) { words_.release_chunk(k); }

 private:
  static std::uint64_t Bit(std::size_t i) { return std::uint64_t{1} << (i & 63); }
  ChunkedVector<std::uint64_t, kChunkBits - 6> words_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_CHUNKED_BITS_H_
