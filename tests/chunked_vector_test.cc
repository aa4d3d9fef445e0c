// ChunkedVector (src/internal/chunked_vector.h): indexes like a vector, and
// growing never moves an element.
#include "internal/chunked_vector.h"
#include "internal/huge_page_allocator.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlsched::internal {
namespace {

TEST(ChunkedVector, IndexesAcrossChunks) {
  ChunkedVector<int, 2> v;  // chunks of 4
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(v.emplace_back(i * 10), i * 10);
  ASSERT_EQ(v.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(v[i], i * 10);
  v[5] = -1;
  EXPECT_EQ(v[5], -1);
  EXPECT_EQ(v[4], 40);
  EXPECT_EQ(v[6], 60);
}

// With another allocator for its chunks, and room reserved for the chunk
// list, it behaves the same.
TEST(ChunkedVector, TakesAnAllocatorForItsChunks) {
  ChunkedVector<std::int64_t, 4, HugePageAllocator<std::int64_t>> v;  // chunks of 16
  v.reserve(100);
  for (std::int64_t i = 0; i < 100; ++i) v.emplace_back(i * i);
  ASSERT_EQ(v.size(), 100u);
  for (std::int64_t i = 0; i < 100; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], i * i);
}

// A released chunk's elements are gone (destroyed, no longer contained), the
// others stay, and the next chunk reuses the released one's memory.
TEST(ChunkedVector, AReleasedChunkIsGoneAndItsMemoryReused) {
  ChunkedVector<std::string, 2> v;  // chunks of 4
  for (int i = 0; i < 10; ++i) v.emplace_back(std::string(40, static_cast<char>('a' + i)));
  const std::string* first_of_chunk1 = &v[4];
  v.release_chunk(1);
  EXPECT_EQ(v.size(), 10u);
  for (std::size_t i : {4u, 5u, 6u, 7u}) EXPECT_FALSE(v.contains(i));
  for (std::size_t i : {0u, 3u, 8u, 9u}) EXPECT_TRUE(v.contains(i));
  EXPECT_FALSE(v.contains(10));
  EXPECT_EQ(v[3], std::string(40, 'd'));
  EXPECT_EQ(v[8], std::string(40, 'i'));
  v.emplace_back("k");
  v.emplace_back("l");
  const std::string& m = v.emplace_back("m");  // opens the fourth chunk
  EXPECT_EQ(m, "m");
  EXPECT_TRUE(v.contains(12));
  EXPECT_EQ(v[11], "l");
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(&m, first_of_chunk1);  // the released chunk's memory
#else
  (void)first_of_chunk1;  // freed, so that stale reads are reported
#endif
}

// Every element keeps its address (and value) however many are added after
// it, which std::vector does not promise.
RC_GTEST_PROP(ChunkedVector, ElementsNeverMove, (const std::vector<std::string>& items)) {
  ChunkedVector<std::string, 3> v;
  std::vector<const std::string*> where;
  for (const std::string& s : items) where.push_back(&v.emplace_back(s));
  RC_ASSERT(v.size() == items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    RC_ASSERT(&v[i] == where[i]);
    RC_ASSERT(v[i] == items[i]);
  }
}

}  // namespace
}  // namespace mlsched::internal
