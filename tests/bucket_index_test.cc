// BucketIndex: items in intrusive per-bucket lists, most recently inserted
// first, with a bitmap of the non-empty buckets. Move() must leave exactly
// the lists that Erase() then Insert() would.
#include "internal/bucket_index.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

constexpr int kBuckets = 9;

// Every bucket's items, head first.
std::vector<std::vector<std::uint32_t>> Lists(const BucketIndex& index, const std::vector<BucketLink>& links) {
  std::vector<std::vector<std::uint32_t>> lists(kBuckets);
  for (int b = 0; b < kBuckets; ++b) {
    for (std::uint32_t i = index.head(b); i != BucketIndex::kEnd; i = links[i].next) lists[b].push_back(i);
  }
  return lists;
}

TEST(BucketIndex, ListsMostRecentlyInsertedFirst) {
  BucketIndex index(kBuckets);
  std::vector<BucketLink> links(4);
  index.Insert(links, 0, 3);
  index.Insert(links, 1, 3);
  index.Insert(links, 2, 5);
  EXPECT_EQ(Lists(index, links)[3], (std::vector<std::uint32_t>{1, 0}));
  EXPECT_EQ(index.NextAtOrAbove(4), 5);
  EXPECT_EQ(index.NextAtOrBelow(4), 3);
  index.Erase(links, 2);
  EXPECT_EQ(index.NextAtOrAbove(4), -1);
  EXPECT_EQ(links[2].bucket, -1);
}

TEST(BucketIndex, MoveOfAHeadIntoItsOwnBucketChangesNothing) {
  BucketIndex index(kBuckets);
  std::vector<BucketLink> links(3);
  for (std::uint32_t i = 0; i < 3; ++i) index.Insert(links, i, 2);  // 2, 1, 0
  const std::vector<BucketLink> before = links;
  index.Move(links, 2, 2);
  EXPECT_EQ(Lists(index, links)[2], (std::vector<std::uint32_t>{2, 1, 0}));
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(links[i].prev, before[i].prev);
    EXPECT_EQ(links[i].next, before[i].next);
  }
  index.Move(links, 0, 2);  // not the head: moves to the front
  EXPECT_EQ(Lists(index, links)[2], (std::vector<std::uint32_t>{0, 2, 1}));
  index.Move(links, 1, -1);  // out of the index
  EXPECT_EQ(Lists(index, links)[2], (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(index.size(2), 2u);
}

// Random inserts, erasures and moves applied to two indexes, one moving with
// Move() and the other with Erase() then Insert(): the same lists, sizes and
// bitmap answers after every step.
RC_GTEST_PROP(BucketIndexProperties, MoveLeavesWhatEraseThenInsertWould, ()) {
  constexpr std::uint32_t kItems = 12;
  BucketIndex moved(kBuckets), plain(kBuckets);
  std::vector<BucketLink> moved_links(kItems), plain_links(kItems);
  const auto steps = *rc::gen::container<std::vector<std::pair<std::uint32_t, int>>>(
      rc::gen::pair(rc::gen::inRange<std::uint32_t>(0, kItems), rc::gen::inRange(-1, kBuckets)));
  for (const auto& [item, bucket] : steps) {
    moved.Move(moved_links, item, bucket);
    plain.Erase(plain_links, item);
    if (bucket >= 0) plain.Insert(plain_links, item, bucket);
    RC_ASSERT(Lists(moved, moved_links) == Lists(plain, plain_links));
    for (int b = 0; b < kBuckets; ++b) {
      RC_ASSERT(moved.size(b) == plain.size(b));
      RC_ASSERT(moved.NextAtOrAbove(b) == plain.NextAtOrAbove(b));
      RC_ASSERT(moved.NextAtOrBelow(b) == plain.NextAtOrBelow(b));
    }
    for (std::uint32_t i = 0; i < kItems; ++i) RC_ASSERT(moved_links[i].bucket == plain_links[i].bucket);
  }
}

}  // namespace
}  // namespace mlsched::internal
