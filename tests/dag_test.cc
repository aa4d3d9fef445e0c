#include "internal/dag.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace mlsched::internal {
namespace {

std::string Name(std::uint32_t v) { return "j" + std::to_string(v); }

// Every edge goes from an earlier to a later position.
bool IsTopological(const std::vector<std::uint32_t>& order, std::span<const DagEdge> edges) {
  std::vector<std::size_t> pos(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  for (const auto& [a, b] : edges)
    if (pos[a] >= pos[b]) return false;
  return true;
}

TEST(Dag, OrdersParentsBeforeChildren) {
  const std::vector<DagEdge> edges{{2, 0}, {0, 1}, {2, 1}, {3, 1}};
  auto order = TopologicalOrder(4, edges, Name, "workflow \"w\"");
  ASSERT_TRUE(order.ok()) << order.status();
  EXPECT_EQ(order->size(), 4u);
  EXPECT_TRUE(IsTopological(*order, edges));
}

TEST(Dag, SelfDependencyIsACycleOfLengthOne) {
  const std::vector<DagEdge> edges{{0, 1}, {1, 1}};
  auto order = TopologicalOrder(2, edges, Name, "workflow \"w\"");
  ASSERT_EQ(order.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(order.status().message(), "workflow \"w\": dependency cycle: j1 -> j1");
}

TEST(Dag, NamesTheCycle) {
  const std::vector<DagEdge> edges{{0, 1}, {1, 2}, {2, 3}, {3, 1}};
  auto order = TopologicalOrder(4, edges, Name, "workflow \"w\"");
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().message(), "workflow \"w\": dependency cycle: j1 -> j2 -> j3 -> j1");
}

TEST(Dag, ACycleOf100000JobsIsFoundWithoutRecursion) {
  constexpr std::uint32_t n = 100'000;
  std::vector<DagEdge> edges;
  for (std::uint32_t i = 0; i < n; ++i) edges.emplace_back(i, (i + 1) % n);
  auto order = TopologicalOrder(n, edges, Name, "workflow \"ring\"");
  ASSERT_FALSE(order.ok());
  const std::string msg(order.status().message());
  EXPECT_NE(msg.find("dependency cycle: j0 -> j1 -> "), std::string::npos) << msg.substr(0, 200);
  EXPECT_NE(msg.find("(99960 more)"), std::string::npos) << msg.substr(0, 300);
  EXPECT_NE(msg.find("j99999 -> j0"), std::string::npos);
  edges.pop_back();  // a chain: fine
  order = TopologicalOrder(n, edges, Name, "workflow \"chain\"");
  ASSERT_TRUE(order.ok());
  EXPECT_TRUE(IsTopological(*order, edges));
}

TEST(Dag, LongestPathFollowsTheHeaviestChain) {
  // 0 -> 1 -> 3, 0 -> 2 -> 3: the path through 2 weighs more.
  const std::vector<DagEdge> edges{{0, 1}, {0, 2}, {1, 3}, {2, 3}};
  const std::vector<std::uint32_t> topo{0, 1, 2, 3};
  const std::vector<std::int64_t> w{5, 1, 7, 2};
  const CriticalPath p = LongestPath(topo, edges, w);
  EXPECT_EQ(p.vertices, (std::vector<std::uint32_t>{0, 2, 3}));
  EXPECT_EQ(p.length, 14);
  EXPECT_TRUE(LongestPath({}, {}, {}).vertices.empty());
}

RC_GTEST_PROP(DagProperties, RandomDagsOrderAndRandomBackEdgesAreCycles, ()) {
  const auto n = *rc::gen::inRange<std::uint32_t>(1, 60);
  std::vector<DagEdge> edges;
  const auto m = *rc::gen::inRange<std::uint32_t>(0, 3 * n);
  for (std::uint32_t i = 0; i < m; ++i) {
    std::uint32_t a = *rc::gen::inRange<std::uint32_t>(0, n), b = *rc::gen::inRange<std::uint32_t>(0, n);
    if (a == b) continue;
    edges.emplace_back(std::min(a, b), std::max(a, b));  // forward edges: acyclic
  }
  auto order = TopologicalOrder(n, edges, Name, "w");
  RC_ASSERT(order.ok());
  RC_ASSERT(order->size() == n);
  RC_ASSERT(IsTopological(*order, edges));
  if (edges.empty()) return;
  const DagEdge e = edges[*rc::gen::inRange<std::size_t>(0, edges.size())];
  edges.emplace_back(e.second, e.first);  // closes a cycle
  RC_ASSERT(!TopologicalOrder(n, edges, Name, "w").ok());
}

}  // namespace
}  // namespace mlsched::internal
