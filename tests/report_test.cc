// Summarize(): nearest-rank percentiles by selection, checked against the
// definition on a sorted copy.
#include "mlsched/sim/report.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mlsched::sim {
namespace {

double NearestRank(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(k, 1, v.size()) - 1];
}

TEST(Summarize, EmptyHasNoCount) {
  std::vector<double> v;
  const Distribution d = Summarize(v);
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(d.max, 0);
}

TEST(Summarize, OneToHundred) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Distribution d = Summarize(v);
  EXPECT_EQ(d.count, 100);
  EXPECT_DOUBLE_EQ(d.mean, 50.5);
  EXPECT_EQ(d.p50, 50);
  EXPECT_EQ(d.p95, 95);
  EXPECT_EQ(d.p99, 99);
  EXPECT_EQ(d.max, 100);
}

TEST(Summarize, TinyInputsRepeatTheLastRank) {
  std::vector<double> v = {7, 3};
  const Distribution d = Summarize(v);
  EXPECT_EQ(d.p50, 3);
  EXPECT_EQ(d.p95, 7);
  EXPECT_EQ(d.p99, 7);
  EXPECT_EQ(d.max, 7);
}

RC_GTEST_PROP(SummarizeProperties, MatchesNearestRankOnASortedCopy, (const std::vector<int>& raw)) {
  RC_PRE(!raw.empty());
  std::vector<double> v(raw.begin(), raw.end());
  const std::vector<double> copy = v;
  const Distribution d = Summarize(v);
  RC_ASSERT(d.count == static_cast<std::int64_t>(copy.size()));
  RC_ASSERT(d.p50 == NearestRank(copy, 0.50));
  RC_ASSERT(d.p95 == NearestRank(copy, 0.95));
  RC_ASSERT(d.p99 == NearestRank(copy, 0.99));
  RC_ASSERT(d.max == *std::max_element(copy.begin(), copy.end()));
  std::vector<double> sorted_v = v, sorted_copy = copy;
  std::sort(sorted_v.begin(), sorted_v.end());
  std::sort(sorted_copy.begin(), sorted_copy.end());
  RC_ASSERT(sorted_v == sorted_copy);  // reordered, not changed
}

}  // namespace
}  // namespace mlsched::sim
