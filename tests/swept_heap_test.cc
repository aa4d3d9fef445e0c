// SweptHeap: a min-heap whose stale entries are swept out once it has
// doubled since the last sweep; what is left comes off the top in order.
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

// 10,000 entries go stale as soon as they are pushed; the heap holds about
// the live ones (here one), never all of them, and the live one survives.
TEST(SweptHeap, HoldsAboutTwiceTheLiveEntries) {
  SweptHeap<int> h;
  std::set<int> live = {0};
  auto stale = [&](int x) { return !live.contains(x); };
  h.Push(0, stale);
  std::size_t most = 0;
  for (int x = 1; x <= 10'000; ++x) {
    h.Push(x, stale);  // stale from the next push on
    most = std::max(most, h.size());
  }
  EXPECT_LE(most, 2 * 2 + 64u);
  EXPECT_EQ(h.top(), 0);
}

// Whatever goes stale when, the live entries come off the top in order, and
// the heap never holds more than twice the most entries ever live, plus 64
// (and the one just pushed).
RC_GTEST_PROP(SweptHeapProperties, LiveEntriesComeOutInOrder,
              (const std::vector<std::pair<std::uint16_t, bool>>& ops)) {
  SweptHeap<std::uint32_t> h;
  std::set<std::uint32_t> live;  // values are unique: value * 2^16 + index
  std::vector<std::uint32_t> pushed;
  std::uint32_t index = 0;
  std::size_t most_live = 0;
  auto stale = [&](std::uint32_t x) { return !live.contains(x); };
  for (const auto& [value, kill] : ops) {
    const std::uint32_t x = (std::uint32_t{value} << 16) | (index++ & 0xffff);
    live.insert(x);
    pushed.push_back(x);
    most_live = std::max(most_live, live.size());
    h.Push(x, stale);
    RC_ASSERT(h.size() <= 2 * most_live + 64 + 1);
    if (kill) live.erase(pushed[value % pushed.size()]);  // goes stale now
  }
  std::vector<std::uint32_t> out;
  while (!h.empty()) {
    if (live.contains(h.top())) out.push_back(h.top());
    h.pop();
  }
  RC_ASSERT(out == std::vector<std::uint32_t>(live.begin(), live.end()));
}

}  // namespace
}  // namespace mlsched::internal
