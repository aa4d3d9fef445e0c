// HugePageAllocator (src/internal/huge_page_allocator.h): a vector on it
// behaves as any vector; large blocks are packed into mappings advised for
// huge pages, and counted.
#include "internal/huge_page_allocator.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
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

// Large blocks are carved one after another from one mapping, so that a
// block that is not a whole number of huge pages (a job-table chunk is
// 2.5 MiB) shares a huge page with the next: alone, its tail took 4 KiB
// pages. A block maps no more than its pages and, once the process holds
// kAdviseHugePagesFromBytes of such blocks, is advised for huge pages (the
// kernel marks such a mapping "hg").
TEST(HugePageAllocator, LargeBlocksArePackedCountedAndAskForHugePages) {
  if (!HugeBlocksMapped()) GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
  HugePageAllocator<Record> alloc;
  // A block that ends off a huge-page boundary, freed; then the trim gives
  // back the kept blocks and the rest of the mapping, so the next block
  // starts a fresh one.
  const std::size_t odd_n = (kHugePageBytes + 4096) / sizeof(Record);
  alloc.deallocate(alloc.allocate(odd_n), odd_n);
  TrimHugePageCache();
  const std::size_t before = HugePageBytesMapped();
  // A first small table, alone in the process, keeps to ordinary pages.
  const std::size_t first_n = kHugePageBytes / sizeof(Record);
  Record* first = alloc.allocate(first_n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % kHugePageBytes, 0u);  // a fresh mapping starts on a boundary
  const std::string first_flags = VmFlagsOf(reinterpret_cast<std::uintptr_t>(first));
  if (before == 0 && !first_flags.empty()) EXPECT_EQ((first_flags + " ").find(" hg "), std::string::npos) << first_flags;
  const std::size_t held_n = kAdviseHugePagesFromBytes / sizeof(Record);  // enough to advise any block
  Record* held = alloc.allocate(held_n);

  const std::size_t n = (5 * kHugePageBytes / 2) / sizeof(Record) + 3;  // 2.5 MiB and a bit
  const std::size_t mapped_before = HugePageBytesMapped();
  Record* p = alloc.allocate(n);
  Record* q = alloc.allocate(n);
  p[0].id = 1;
  p[n - 1].id = 2;  // the whole block is usable
  q[0].id = 3;
  EXPECT_EQ(p[0].id + p[n - 1].id + q[0].id, 6);
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  // The next block starts where this one's pages end, in the same mapping.
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q), begin + PageRounded(n * sizeof(Record)));
  const std::size_t mapped = HugePageBytesMapped() - mapped_before;  // their pages, no more
  EXPECT_EQ(mapped, 2 * PageRounded(n * sizeof(Record)));
  const std::string flags = VmFlagsOf(begin);
  const std::string joint_flags = VmFlagsOf(reinterpret_cast<std::uintptr_t>(q) + 4096);
  alloc.deallocate(q, n);
  alloc.deallocate(p, n);
  alloc.deallocate(held, held_n);
  alloc.deallocate(first, first_n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  TrimHugePageCache();
  EXPECT_EQ(HugePageBytesCached(), 0u);
  if (flags.empty()) GTEST_SKIP() << "no /proc/self/smaps";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;
  EXPECT_NE((joint_flags + " ").find(" hg "), std::string::npos) << joint_flags;
}

// A block larger than any kept for reuse is mapped on its own, on a huge-
// page boundary, and unmapped when freed.
TEST(HugePageAllocator, AVeryLargeBlockIsMappedAlone) {
  if (!HugeBlocksMapped()) GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
  TrimHugePageCache();
  HugePageAllocator<Record> alloc;
  const std::size_t before = HugePageBytesMapped();
  const std::size_t n = (std::size_t{33} << 20) / sizeof(Record) + 1;  // 33 MiB and a record
  Record* p = alloc.allocate(n);
  p[n - 1].id = 9;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePageBytes, 0u);
  EXPECT_EQ(HugePageBytesMapped() - before, PageRounded(n * sizeof(Record)));
  alloc.deallocate(p, n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  EXPECT_EQ(HugePageBytesCached(), 0u);  // too big to keep
}

// A block its owner fills at once is advised for huge pages even alone in
// the process.
TEST(HugePageAllocator, ABlockFilledAtOnceAsksForHugePagesAlone) {
  if (!HugeBlocksMapped()) GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
  TrimHugePageCache();
  const std::size_t n = (3 * kHugePageBytes / 2) / sizeof(Record) + 1;  // 3 MiB and a record
  if (HugePageBytesMapped() + n * sizeof(Record) + kHugePageBytes >= kAdviseHugePagesFromBytes)
    GTEST_SKIP() << "the process already holds enough blocks to advise any";
  HugePageAllocator<Record, /*kFilledAtOnce=*/true> alloc;
  const std::size_t before = HugePageBytesMapped();
  Record* p = alloc.allocate(n);
  p[n - 1].id = 7;
  const std::string flags = VmFlagsOf(reinterpret_cast<std::uintptr_t>(p));
  EXPECT_EQ(HugePageBytesMapped() - before, PageRounded(n * sizeof(Record)));
  alloc.deallocate(p, n);
  TrimHugePageCache();
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
// as in use, and when the kept ones would pass 64 MiB the oldest go.
TEST(HugePageAllocator, AFreedBlockIsReusedForTheNextOfItsSize) {
  if (!HugeBlocksMapped()) GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
  TrimHugePageCache();
  HugePageAllocator<Record> alloc;
  const std::size_t before = HugePageBytesMapped();
  const std::size_t n = 3 * kHugePageBytes / sizeof(Record);
  Record* first = alloc.allocate(n);
  first[n - 1].id = 42;
  alloc.deallocate(first, n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  EXPECT_EQ(HugePageBytesCached(), 3 * kHugePageBytes);
  const std::size_t other_n = n + kHugePageBytes / sizeof(Record);
  Record* other_size = alloc.allocate(other_n);  // not the kept one
  EXPECT_NE(other_size, first);
  Record* second = alloc.allocate(n);
  EXPECT_EQ(second, first);
  EXPECT_EQ(second[n - 1].id, 42);  // the same memory, not a fresh mapping
  alloc.deallocate(second, n);
  alloc.deallocate(other_size, other_n);
  EXPECT_EQ(HugePageBytesMapped(), before);
  // Eight 8 MiB blocks fill the 64 MiB; a ninth pushes out the oldest kept.
  const std::size_t big = 4 * kHugePageBytes / sizeof(Record);
  std::vector<Record*> blocks;
  for (int i = 0; i < 9; ++i) blocks.push_back(alloc.allocate(big));
  for (Record* b : blocks) alloc.deallocate(b, big);
  EXPECT_LE(HugePageBytesCached(), std::size_t{64} << 20);
  TrimHugePageCache();
  EXPECT_EQ(HugePageBytesCached(), 0u);
}

// A fork while another thread holds the lock of the kept blocks waits for
// it, so the child does not start with the lock held by a thread it does not
// have: the child's first big block would wait forever. The child here takes
// and frees a block; the parent gives it 10 s.
TEST(HugePageAllocator, AForkWhileAnotherThreadHoldsTheCacheLockLeavesTheChildFree) {
  if (!HugeBlocksMapped()) GTEST_SKIP() << "large blocks are mapped apart only on Linux, without AddressSanitizer";
  std::atomic<bool> held{false};
  std::thread holder([&] {
    const std::unique_lock<std::mutex> lock = LockHugePageCacheForTest();
    held = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  });
  while (!held) std::this_thread::yield();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    HugePageAllocator<Record> alloc;
    const std::size_t n = 2 * kHugePageBytes / sizeof(Record);
    alloc.deallocate(alloc.allocate(n), n);
    _exit(0);
  }
  holder.join();
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 1000 && done == 0; ++i) {
    done = waitpid(child, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL() << "the child blocked on the lock of the kept blocks";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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
