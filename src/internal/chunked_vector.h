// ChunkedVector: an append-only array whose elements never move.
//
// Elements live in chunks of a fixed power-of-two size, each allocated once
// with its full capacity, so growing never relocates what is already there:
// a reference to an element stays valid, appending costs no copy of the
// earlier elements (std::vector's growth moved every element about twice
// over, and touched twice the memory), and the memory held beyond the
// elements is at most one chunk (a vector holds up to as much again).
// Indexing is one shift, one mask and one load of the chunk's address.
//
//   ChunkedVector<JobClass> classes;
//   JobClass& c = classes.emplace_back();  // stays put
//   classes[0], classes.size()
//
// A whole chunk whose elements are no longer needed can be released
// (release_chunk): its elements are destroyed and its memory is kept for the
// next chunk, so a table whose old elements retire (the engine's job table
// under history retention) stops growing its memory; fresh memory is costly
// (first-touch page faults). Indexes are never reused: a released element
// is simply no longer contained, and reading it is an error.
//
// Chunks come from Alloc (e.g. HugePageAllocator for large chunks).
// Not thread-safe; owned by value.
#ifndef MLSCHED_INTERNAL_CHUNKED_VECTOR_H_
#define MLSCHED_INTERNAL_CHUNKED_VECTOR_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "internal/sanitizers.h"

namespace mlsched::internal {

template <typename T, int kChunkBits = 8, typename Alloc = std::allocator<T>>
class ChunkedVector {
 public:
  static constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;

  ChunkedVector() = default;
  ChunkedVector(const ChunkedVector&) = delete;  // base_ points into chunks_
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ChunkedVector(ChunkedVector&&) noexcept = default;  // the chunks' buffers move with them
  ChunkedVector& operator=(ChunkedVector&&) noexcept = default;

  std::size_t size() const { return size_; }
  // Room for the chunk list of `n` elements (the chunks come as needed).
  void reserve(std::size_t n) {
    chunks_.reserve((n + kChunk - 1) >> kChunkBits);
    base_.reserve((n + kChunk - 1) >> kChunkBits);
  }
  bool empty() const { return size_ == 0; }
  // Whether element i exists: appended and its chunk not released.
  bool contains(std::size_t i) const { return i < size_ && base_[i >> kChunkBits] != nullptr; }

  T& operator[](std::size_t i) { return base_[i >> kChunkBits][i & (kChunk - 1)]; }
  const T& operator[](std::size_t i) const { return base_[i >> kChunkBits][i & (kChunk - 1)]; }

  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if ((size_ & (kChunk - 1)) == 0) {
      chunks_.emplace_back();
      chunks_.back().swap(spare_);     // a released chunk's memory, if any
      chunks_.back().reserve(kChunk);  // never grows past this: nothing moves
      base_.push_back(chunks_.back().data());
    }
    ++size_;
    return chunks_.back().emplace_back(std::forward<Args>(args)...);
  }

  // Destroys the elements [k * kChunk, (k + 1) * kChunk), which must all have
  // been appended. One released chunk's memory is kept for the next chunk;
  // under AddressSanitizer none is, so that a read of a released element is
  // reported.
  void release_chunk(std::size_t k) {
    std::vector<T, Alloc>& c = chunks_[k];
    c.clear();
    base_[k] = nullptr;
#if !defined(MLSCHED_ASAN)
    if (spare_.capacity() == 0) {
      spare_.swap(c);
      return;
    }
#endif
    std::vector<T, Alloc>().swap(c);
  }

 private:
  std::vector<std::vector<T, Alloc>> chunks_;
  std::vector<T*> base_;  // chunks_[k].data(), or nullptr once released: one load to index
  std::vector<T, Alloc> spare_;  // empty; the capacity of a released chunk
  std::size_t size_ = 0;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_CHUNKED_VECTOR_H_
