// GpuSet: a set of device indices on one node, and its CUDA_VISIBLE_DEVICES form.
#include "mlsched/gpu.h"

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {

[[maybe_unused]] static void showValue(const GpuSet& s, std::ostream& os) {
  os << "GpuSet{" << FormatGpuSet(s) << "}";
}

namespace {

std::vector<int> Elements(GpuSet set) {
  std::vector<int> out;
  for (int gpu : set) out.push_back(gpu);
  return out;
}

TEST(GpuSet, DefaultIsEmpty) {
  GpuSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0);
  EXPECT_EQ(s.mask(), 0u);
  EXPECT_TRUE(Elements(s).empty());
  for (int i = 0; i < kMaxGpusPerNode; ++i) EXPECT_FALSE(s.Contains(i)) << i;
}

TEST(GpuSet, AddInsertsOnlyTheGivenIndex) {
  GpuSet s;
  s.Add(3);
  EXPECT_TRUE(s.Contains(3));
  EXPECT_FALSE(s.Contains(2));
  EXPECT_FALSE(s.Contains(4));
  EXPECT_EQ(s.size(), 1);
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.mask(), std::uint64_t{1} << 3);
}

TEST(GpuSet, AddingTwiceKeepsOneCopy) {
  GpuSet s;
  s.Add(5);
  s.Add(5);
  EXPECT_EQ(s.size(), 1);
}

TEST(GpuSet, HoldsTheHighestIndex) {
  GpuSet s;
  s.Add(kMaxGpusPerNode - 1);
  EXPECT_TRUE(s.Contains(63));
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(Elements(s), std::vector<int>({63}));
  s.Remove(63);
  EXPECT_TRUE(s.empty());
}

TEST(GpuSet, RemoveDeletesOnlyTheGivenIndex) {
  GpuSet s = GpuSet::FirstN(4);
  s.Remove(1);
  EXPECT_EQ(Elements(s), std::vector<int>({0, 2, 3}));
  s.Remove(1);  // absent: no change
  EXPECT_EQ(Elements(s), std::vector<int>({0, 2, 3}));
  s.Remove(7);
  EXPECT_EQ(s.size(), 3);
}

TEST(GpuSet, FromMaskKeepsTheBits) {
  const GpuSet s = GpuSet::FromMask(0b110011);
  EXPECT_EQ(s.mask(), 0b110011u);
  EXPECT_EQ(Elements(s), std::vector<int>({0, 1, 4, 5}));
}

TEST(GpuSet, FirstNHoldsIndicesZeroToNMinusOne) {
  EXPECT_TRUE(GpuSet::FirstN(0).empty());
  EXPECT_EQ(Elements(GpuSet::FirstN(1)), std::vector<int>({0}));
  EXPECT_EQ(Elements(GpuSet::FirstN(8)), std::vector<int>({0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(GpuSet::FirstN(63).size(), 63);
  EXPECT_FALSE(GpuSet::FirstN(63).Contains(63));
}

TEST(GpuSet, FirstNOfSixtyFourHoldsEveryIndex) {
  const GpuSet all = GpuSet::FirstN(kMaxGpusPerNode);
  EXPECT_EQ(all.size(), 64);
  EXPECT_EQ(all.mask(), ~std::uint64_t{0});
  for (int i = 0; i < kMaxGpusPerNode; ++i) EXPECT_TRUE(all.Contains(i)) << i;
  std::vector<int> expected;
  for (int i = 0; i < kMaxGpusPerNode; ++i) expected.push_back(i);
  EXPECT_EQ(Elements(all), expected);
}

TEST(GpuSet, IteratesInAscendingIndexOrder) {
  GpuSet s;
  for (int i : {9, 2, 63, 0, 17}) s.Add(i);
  EXPECT_EQ(Elements(s), std::vector<int>({0, 2, 9, 17, 63}));
}

TEST(GpuSet, IntersectionUnionAndMinus) {
  const GpuSet a = GpuSet::FromMask(0b1100);  // {2, 3}
  const GpuSet b = GpuSet::FromMask(0b0110);  // {1, 2}
  EXPECT_EQ(Elements(a & b), std::vector<int>({2}));
  EXPECT_EQ(Elements(a | b), std::vector<int>({1, 2, 3}));
  EXPECT_EQ(Elements(a.Minus(b)), std::vector<int>({3}));
  EXPECT_EQ(Elements(b.Minus(a)), std::vector<int>({1}));
  EXPECT_TRUE((a & GpuSet()).empty());
  EXPECT_EQ(a | GpuSet(), a);
}

TEST(GpuSet, EqualityComparesMembers) {
  GpuSet a;
  a.Add(1);
  a.Add(4);
  EXPECT_EQ(a, GpuSet::FromMask(0b10010));
  EXPECT_NE(a, GpuSet::FromMask(0b10011));
}

TEST(GpuSet, IsUsableInConstantExpressions) {
  constexpr GpuSet s = [] {
    GpuSet g = GpuSet::FirstN(4);
    g.Remove(0);
    return g;
  }();
  static_assert(s.size() == 3);
  static_assert(!s.Contains(0) && s.Contains(3));
  EXPECT_EQ(s.mask(), 0b1110u);
}

TEST(GpuSetFormatting, ListsIndicesSeparatedByCommas) {
  EXPECT_EQ(FormatGpuSet(GpuSet::FromMask(0b110011)), "0,1,4,5");
  EXPECT_EQ(FormatGpuSet(GpuSet::FirstN(1)), "0");
  GpuSet high;
  high.Add(10);
  high.Add(63);
  EXPECT_EQ(FormatGpuSet(high), "10,63");
}

TEST(GpuSetFormatting, FormatsTheEmptySetAsEmptyText) { EXPECT_EQ(FormatGpuSet(GpuSet()), ""); }

TEST(GpuSetFormatting, FormatsAllSixtyFourDevices) {
  std::string expected;
  for (int i = 0; i < kMaxGpusPerNode; ++i) expected += (i ? "," : "") + std::to_string(i);
  EXPECT_EQ(FormatGpuSet(GpuSet::FirstN(64)), expected);
}

// Iteration visits exactly the set bits, once each, in ascending order, and
// size(), Contains() and FormatGpuSet agree with it.
RC_GTEST_PROP(GpuSetProperties, IterationVisitsExactlyTheMembersInOrder, (std::uint64_t mask)) {
  const GpuSet s = GpuSet::FromMask(mask);
  const std::vector<int> seen = Elements(s);
  RC_ASSERT(static_cast<int>(seen.size()) == s.size());
  RC_ASSERT(s.size() == std::popcount(mask));
  GpuSet rebuilt;
  std::string text;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    RC_ASSERT(seen[i] >= 0 && seen[i] < kMaxGpusPerNode);
    if (i > 0) RC_ASSERT(seen[i - 1] < seen[i]);
    RC_ASSERT(s.Contains(seen[i]));
    rebuilt.Add(seen[i]);
    text += (i ? "," : "") + std::to_string(seen[i]);
  }
  RC_ASSERT(rebuilt == s);
  RC_ASSERT(FormatGpuSet(s) == text);
}

RC_GTEST_PROP(GpuSetProperties, SetAlgebraMatchesMembership, (std::uint64_t a_mask,
                                                               std::uint64_t b_mask)) {
  const GpuSet a = GpuSet::FromMask(a_mask);
  const GpuSet b = GpuSet::FromMask(b_mask);
  for (int i = 0; i < kMaxGpusPerNode; ++i) {
    RC_ASSERT((a & b).Contains(i) == (a.Contains(i) && b.Contains(i)));
    RC_ASSERT((a | b).Contains(i) == (a.Contains(i) || b.Contains(i)));
    RC_ASSERT(a.Minus(b).Contains(i) == (a.Contains(i) && !b.Contains(i)));
  }
  RC_ASSERT((a.Minus(b) | (a & b)) == a);
}

RC_GTEST_PROP(GpuSetProperties, FirstNHasNMembers, ()) {
  const int n = *rc::gen::inRange(0, kMaxGpusPerNode + 1);
  const GpuSet s = GpuSet::FirstN(n);
  RC_ASSERT(s.size() == n);
  for (int i = 0; i < kMaxGpusPerNode; ++i) RC_ASSERT(s.Contains(i) == (i < n));
}

}  // namespace
}  // namespace mlsched
