// HugePageAllocator (src/internal/huge_page_allocator.h): a vector on it
// behaves as any vector; large blocks are mapped on their own, aligned to
// the huge page size, and counted.
#include "internal/huge_page_allocator.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace mlsched::internal {
namespace {

struct alignas(64) Record {
  std::int64_t id = 0;
  char payload[56] = {};
};

// The VmFlags line of the mapping of /proc/self/smaps that holds `address`.
std::string VmFlagsOf(std::uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find('-')) {
      inside = lo <= address && address < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

// A large block starts on a huge-page boundary and is advised for huge
// pages (the kernel marks such a mapping "hg").
TEST(HugePageAllocator, LargeBlocksAskForHugePages) {
#if !MLSCHED_HUGE_PAGE_BLOCKS
  GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
#endif
  HugePageAllocator<Record> alloc;
  const std::size_t before = HugePageBytesMapped();
  const std::size_t n = (5 * kHugePageBytes / 2) / sizeof(Record) + 3;  // 5 MiB and a bit
  Record* p = alloc.allocate(n);
  p[0].id = 1;
  p[n - 1].id = 2;  // the whole block is usable
  EXPECT_EQ(p[0].id + p[n - 1].id, 3);
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  EXPECT_EQ(begin % kHugePageBytes, 0u);  // every whole 2 MiB of it can be a huge page
  // Mapped: the block rounded up to whole pages, no more.
  const std::size_t mapped = HugePageBytesMapped() - before;
  EXPECT_GE(mapped, n * sizeof(Record));
  EXPECT_LT(mapped, n * sizeof(Record) + 64 * 1024);
  const std::string flags = VmFlagsOf(begin);
  alloc.deallocate(p, n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  if (flags.empty()) GTEST_SKIP() << "no /proc/self/smaps";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;
}

// Below one huge page a block comes from operator new, and is not counted.
TEST(HugePageAllocator, SmallBlocksAreOrdinary) {
  HugePageAllocator<Record> alloc;
  const std::size_t before = HugePageBytesMapped();
  const std::size_t n = kHugePageBytes / 2 / sizeof(Record);
  Record* small = alloc.allocate(n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small) % alignof(Record), 0u);
  small[n - 1].id = 5;
  EXPECT_EQ(HugePageBytesMapped(), before);
  alloc.deallocate(small, n);
}

// A freed block is kept and given to the next block of its size, so that
// the memory is not faulted in and zeroed again; kept ones are not counted
// as in use.
TEST(HugePageAllocator, AFreedBlockIsReusedForTheNextOfItsSize) {
#if !MLSCHED_HUGE_PAGE_BLOCKS
  GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
#endif
  HugePageAllocator<Record> alloc;
  const std::size_t before = HugePageBytesMapped();
  const std::size_t n = 3 * kHugePageBytes / sizeof(Record);
  Record* first = alloc.allocate(n);
  first[n - 1].id = 42;
  alloc.deallocate(first, n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  Record* other_size = alloc.allocate(n + kHugePageBytes / sizeof(Record));  // not the kept one
  EXPECT_NE(other_size, first);
  Record* second = alloc.allocate(n);
  EXPECT_EQ(second, first);
  EXPECT_EQ(second[n - 1].id, 42);  // the same memory, not a fresh mapping
  alloc.deallocate(second, n);
  alloc.deallocate(other_size, n + kHugePageBytes / sizeof(Record));
  EXPECT_EQ(HugePageBytesMapped(), before);
}

// Growing across the 2 MiB threshold (and so between the two kinds of
// block) keeps every element, as std::vector does.
RC_GTEST_PROP(HugePageAllocator, AVectorOnItKeepsItsElements, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 3 * kHugePageBytes / sizeof(Record));
  std::vector<Record, HugePageAllocator<Record>> v;
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
