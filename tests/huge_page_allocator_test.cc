// HugePageAllocator (src/internal/huge_page_allocator.h): a vector on it
// behaves as any vector; large blocks are aligned to the huge page size.
#include "internal/huge_page_allocator.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <vector>

namespace mlsched::internal {
namespace {

struct alignas(64) Record {
  std::int64_t id = 0;
  char payload[56] = {};
};

TEST(HugePageAllocator, LargeBlocksAreAlignedToHugePages) {
  HugePageAllocator<Record> alloc;
  const std::size_t n = kHugePageBytes / sizeof(Record) + 1;  // just over 2 MiB
  Record* p = alloc.allocate(n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePageBytes, 0u);
  p[0].id = 1;
  p[n - 1].id = 2;  // the whole block is usable
  EXPECT_EQ(p[0].id + p[n - 1].id, 3);
  alloc.deallocate(p, n);
  Record* small = alloc.allocate(3);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small) % alignof(Record), 0u);
  alloc.deallocate(small, 3);
}

// Growing across the 2 MiB threshold (and so between the two kinds of
// block) keeps every element, as std::vector does.
RC_GTEST_PROP(HugePageAllocator, AVectorOnItKeepsItsElements, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 3 * kHugePageBytes / sizeof(Record));
  HugeVector<Record> v;
  std::vector<std::int64_t> model;
  for (std::size_t i = 0; i < count; ++i) {
    v.push_back({.id = static_cast<std::int64_t>(i * 7)});
    model.push_back(static_cast<std::int64_t>(i * 7));
  }
  RC_ASSERT(v.size() == model.size());
  for (std::size_t i = 0; i < count; ++i) RC_ASSERT(v[i].id == model[i]);
  v.shrink_to_fit();
  for (std::size_t i = 0; i < count; ++i) RC_ASSERT(v[i].id == model[i]);
}

}  // namespace
}  // namespace mlsched::internal
