// SweptHeap: a min-heap whose stale entries are swept out once it has grown
// fourfold since the last sweep; what is left comes off the top in order.
#include "internal/swept_heap.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

TEST(SweptHeap, PopsInOrder) {
  SweptHeap<int> h;
  auto never = [](int) { return false; };
  for (int x : {5, 1, 4, 2, 3}) h.Push(x, never);
  std::vector<int> out;
  while (!h.empty()) {
    out.push_back(h.top());
    h.pop();
  }
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 5}));
}

// 10,000 entries go stale as soon as they are pushed; the heap holds a few
// times the live ones (here one) and 256, never all of them, and the live
// one survives.
TEST(SweptHeap, HoldsAFewTimesTheLiveEntries) {
  SweptHeap<int> h;
  std::set<int> live = {0};
  auto stale = [&](int x) { return !live.contains(x); };
  h.Push(0, stale);
  std::size_t most = 0;
  for (int x = 1; x <= 10'000; ++x) {
    h.Push(x, stale);  // stale from the next push on
    most = std::max(most, h.size());
  }
  EXPECT_LE(most, 4 * 2 + 256u);
  EXPECT_EQ(h.top(), 0);
}

// Whatever goes stale when, the live entries come off the top in order, and
// the heap never holds more than four times the most entries ever live,
// plus 256 (and the one just pushed).
RC_GTEST_PROP(SweptHeapProperties, LiveEntriesComeOutInOrder, ()) {
  // Enough pushes to sweep several times; most pushes kill an entry.
  const int n = *rc::gen::inRange(0, 4000);
  const int kill_percent = *rc::gen::inRange(0, 101);
  SweptHeap<std::uint32_t> h;
  std::set<std::uint32_t> live;  // values are unique: value * 2^16 + index
  std::vector<std::uint32_t> pushed;
  std::size_t most_live = 0, sweeps = 0;
  auto stale = [&](std::uint32_t x) { return !live.contains(x); };
  for (int i = 0; i < n; ++i) {
    const auto value = *rc::gen::arbitrary<std::uint16_t>();
    const std::uint32_t x = (std::uint32_t{value} << 16) | (static_cast<std::uint32_t>(i) & 0xffff);
    live.insert(x);
    pushed.push_back(x);
    most_live = std::max(most_live, live.size());
    const std::size_t size_before = h.size();
    h.Push(x, stale);
    sweeps += h.size() <= size_before;
    RC_ASSERT(h.size() <= 4 * most_live + 256 + 1);
    if (*rc::gen::inRange(0, 100) < kill_percent) live.erase(pushed[value % pushed.size()]);  // goes stale now
  }
  RC_TAG(sweeps > 0);
  std::vector<std::uint32_t> out;
  while (!h.empty()) {
    if (live.contains(h.top())) out.push_back(h.top());
    h.pop();
  }
  RC_ASSERT(out == std::vector<std::uint32_t>(live.begin(), live.end()));
}

}  // namespace
}  // namespace mlsched::internal
