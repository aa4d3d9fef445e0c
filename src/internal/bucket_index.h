// BucketIndex: items (nodes) bucketed by a small integer key.
//
// Each bucket is an intrusive doubly linked list threaded through a link array
// the caller owns (one Link per item), so insert and erase are O(1) and never
// allocate. A two-level bitmap of non-empty buckets finds the next non-empty
// bucket at or above (or at or below) a key in a few word operations. Keys
// are 0..capacity-1 with capacity <= 4096.
//
// Within a bucket, items are in LIFO insertion order — deterministic, since
// the engine's sequence of inserts is.
#ifndef MLSCHED_SRC_INTERNAL_BUCKET_INDEX_H_
#define MLSCHED_SRC_INTERNAL_BUCKET_INDEX_H_

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace mlsched::internal {

struct BucketLink {
  std::uint32_t prev = ~0u;
  std::uint32_t next = ~0u;
  std::int32_t bucket = -1;  // -1: not in the index
};

class BucketIndex {
 public:
  static constexpr int kMaxBuckets = 4096;
  static constexpr std::uint32_t kEnd = ~0u;

  explicit BucketIndex(int buckets)
      : heads_(static_cast<std::size_t>(buckets), kEnd), sizes_(static_cast<std::size_t>(buckets), 0) {}

  int buckets() const { return static_cast<int>(heads_.size()); }
  std::uint32_t head(int bucket) const { return heads_[bucket]; }
  std::uint32_t size(int bucket) const { return sizes_[bucket]; }

  void Insert(std::vector<BucketLink>& links, std::uint32_t item, int bucket) {
    BucketLink& l = links[item];
    l.bucket = bucket;
    l.prev = kEnd;
    l.next = heads_[bucket];
    if (l.next != kEnd) links[l.next].prev = item;
    heads_[bucket] = item;
    ++sizes_[bucket];
    words_[bucket >> 6] |= std::uint64_t{1} << (bucket & 63);
    summary_ |= std::uint64_t{1} << (bucket >> 6);
  }

  void Erase(std::vector<BucketLink>& links, std::uint32_t item) {
    BucketLink& l = links[item];
    const int bucket = l.bucket;
    if (bucket < 0) return;
    if (l.prev != kEnd) {
      links[l.prev].next = l.next;
    } else {
      heads_[bucket] = l.next;
    }
    if (l.next != kEnd) links[l.next].prev = l.prev;
    --sizes_[bucket];
    if (heads_[bucket] == kEnd) {
      words_[bucket >> 6] &= ~(std::uint64_t{1} << (bucket & 63));
      if (words_[bucket >> 6] == 0) summary_ &= ~(std::uint64_t{1} << (bucket >> 6));
    }
    l = BucketLink{};
  }

  // Puts `item` first in `bucket`, or takes it out of the index (bucket < 0):
  // the order Erase then Insert leaves, but an item already first in its
  // bucket stays put, and its neighbours' links are not touched.
  void Move(std::vector<BucketLink>& links, std::uint32_t item, int bucket) {
    const BucketLink& l = links[item];
    if (l.bucket == bucket && (bucket < 0 || l.prev == kEnd)) return;
    Erase(links, item);
    if (bucket >= 0) Insert(links, item, bucket);
  }

  // Smallest non-empty bucket >= from, or -1.
  int NextAtOrAbove(int from) const {
    if (from < 0) from = 0;
    if (from >= kMaxBuckets) return -1;
    int w = from >> 6;
    std::uint64_t bits = words_[w] & (~std::uint64_t{0} << (from & 63));
    if (bits != 0) return (w << 6) | std::countr_zero(bits);
    const std::uint64_t rest = w + 1 < 64 ? summary_ & (~std::uint64_t{0} << (w + 1)) : 0;
    if (rest == 0) return -1;
    w = std::countr_zero(rest);
    return (w << 6) | std::countr_zero(words_[w]);
  }

  // Largest non-empty bucket <= from, or -1.
  int NextAtOrBelow(int from) const {
    if (from < 0) return -1;
    if (from >= kMaxBuckets) from = kMaxBuckets - 1;
    int w = from >> 6;
    const int b = from & 63;
    std::uint64_t bits = words_[w] & (b == 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (b + 1)) - 1);
    if (bits != 0) return (w << 6) | (63 - std::countl_zero(bits));
    const std::uint64_t rest = summary_ & ((std::uint64_t{1} << w) - 1);
    if (rest == 0) return -1;
    w = 63 - std::countl_zero(rest);
    return (w << 6) | (63 - std::countl_zero(words_[w]));
  }

  bool empty() const { return summary_ == 0; }
  int Max() const { return NextAtOrBelow(kMaxBuckets - 1); }

 private:
  std::vector<std::uint32_t> heads_;
  std::vector<std::uint32_t> sizes_;  // items per bucket
  std::array<std::uint64_t, 64> words_{};
  std::uint64_t summary_ = 0;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_BUCKET_INDEX_H_
