// QuadHeap: a four-ary min-heap; it must pop exactly what a sorted multiset
// would, whatever the pushes, pops and erasures.
#include "internal/quad_heap.h"

#include <cstdint>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

TEST(QuadHeap, PopsInOrderWithRepeats) {
  QuadHeap<int> h;
  for (int x : {5, 1, 4, 1, 9, 2, 6, 5, 3}) h.push(x);
  std::vector<int> out;
  while (!h.empty()) {
    out.push_back(h.top());
    h.pop();
  }
  EXPECT_EQ(out, (std::vector<int>{1, 1, 2, 3, 4, 5, 5, 6, 9}));
}

// Interleaved pushes, pops and erasures against a multiset: the top is
// always the least entry held, and an erasure keeps exactly the others.
RC_GTEST_PROP(QuadHeapProperties, BehavesAsASortedMultiset, ()) {
  QuadHeap<std::int32_t> h;
  std::multiset<std::int32_t> model;
  const int ops = *rc::gen::inRange(0, 2000);
  for (int i = 0; i < ops; ++i) {
    const int op = *rc::gen::inRange(0, 100);
    if (op < 55) {
      const auto x = *rc::gen::inRange<std::int32_t>(-50, 50);  // repeats are likely
      h.push(x);
      model.insert(x);
    } else if (op < 97) {
      if (model.empty()) continue;
      RC_ASSERT(h.top() == *model.begin());
      h.pop();
      model.erase(model.begin());
    } else {
      const auto mod = *rc::gen::inRange<std::int32_t>(2, 7);
      auto pred = [mod](std::int32_t x) { return x % mod == 0; };
      h.EraseIf(pred);
      std::erase_if(model, pred);
    }
    RC_ASSERT(h.size() == model.size());
    if (!model.empty()) RC_ASSERT(h.top() == *model.begin());
  }
  while (!model.empty()) {
    RC_ASSERT(h.top() == *model.begin());
    h.pop();
    model.erase(model.begin());
  }
  RC_ASSERT(h.empty());
}

}  // namespace
}  // namespace mlsched::internal
