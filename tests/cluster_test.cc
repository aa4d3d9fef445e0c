// Cluster: node groups, the free-capacity indexes placement walks, GPU choice
// inside a node, and the totals and capacity counts the engine reports.
//
// The property test drives the cluster with random allocations, releases,
// node state and GPU health changes, and compares it with a plain model that
// recomputes everything from the list of live allocations.
#include "internal/cluster.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

struct NodeOptions {
  int gpus = 0;
  std::int64_t cpu_millis = 32'000;
  std::int64_t memory_bytes = 256 * kGiB;
  std::string model = "A100";
  std::map<std::string, std::string> labels;
  std::vector<int> domains;  // per GPU; empty = all in domain 0
  std::vector<int> unhealthy;
  std::string topology;  // "block/rack" path
};

NodeSpec MakeNode(std::string name, NodeOptions o) {
  NodeSpec spec{.name = std::move(name),
                .capacity = ResourceVector::Of(o.cpu_millis, o.memory_bytes, 0),
                .labels = o.labels,
                .topology = o.topology};
  for (int i = 0; i < o.gpus; ++i) {
    spec.gpus.push_back({.index = i,
                         .uuid = "GPU-" + spec.name + "-" + std::to_string(i),
                         .model = o.model,
                         .memory_bytes = 80 * kGiB,
                         .topology_domain = o.domains.empty() ? 0 : o.domains[i],
                         .healthy = std::find(o.unhealthy.begin(), o.unhealthy.end(), i) ==
                                    o.unhealthy.end()});
  }
  return spec;
}

std::uint32_t AddNode(Cluster& c, std::string name, NodeOptions o) {
  return c.Add(MakeNode(std::move(name), std::move(o)), /*now=*/0);
}

ResourceVector Gpus(std::int64_t n) { return ResourceVector::Of(1000, kGiB, n); }
ResourceVector Cpu(std::int64_t millis) { return ResourceVector::Of(millis, kGiB, 0); }

std::vector<std::uint32_t> AllGroups(const Cluster& c) {
  std::vector<std::uint32_t> g(c.group_count());
  for (std::uint32_t i = 0; i < g.size(); ++i) g[i] = i;
  return g;
}

std::vector<std::uint32_t> Visit(const Cluster& c, const std::vector<std::uint32_t>& groups,
                                 const ResourceVector& request, bool ascending) {
  std::vector<std::uint32_t> out;
  c.ForEachCandidate(groups, request, ascending, [&](std::uint32_t n) {
    out.push_back(n);
    return out.size() < 1000;  // a broken index must not loop forever
  });
  return out;
}

std::vector<std::uint32_t> VisitAll(const Cluster& c, const ResourceVector& request,
                                    bool ascending = true) {
  return Visit(c, AllGroups(c), request, ascending);
}

GpuSet Mask(std::uint64_t m) { return GpuSet::FromMask(m); }

std::set<int> DomainsOf(const NodeRec& n, GpuSet gpus) {
  std::set<int> out;
  for (int gpu : gpus) out.insert(n.spec.gpus[gpu].topology_domain);
  return out;
}

// ------------------------------------------------------------------ groups

TEST(Cluster, GroupsNodesByGpuModelAndLabels) {
  Cluster c;
  const auto a1 = AddNode(c, "a1", {.gpus = 8, .model = "A100"});
  const auto a2 = AddNode(c, "a2", {.gpus = 4, .cpu_millis = 8000, .model = "A100"});
  const auto h1 = AddNode(c, "h1", {.gpus = 8, .model = "H100"});
  const auto a3 = AddNode(c, "a3", {.gpus = 8, .model = "A100", .labels = {{"zone", "eu"}}});
  const auto c1 = AddNode(c, "c1", {});
  const auto c2 = AddNode(c, "c2", {.cpu_millis = 4000});
  const auto c3 = AddNode(c, "c3", {.labels = {{"zone", "eu"}}});

  EXPECT_EQ(c.node(a1).group, c.node(a2).group) << "capacity does not split a group";
  EXPECT_EQ(c.node(c1).group, c.node(c2).group);
  const std::set<std::uint32_t> distinct = {c.node(a1).group, c.node(h1).group, c.node(a3).group,
                                            c.node(c1).group, c.node(c3).group};
  EXPECT_EQ(distinct.size(), 5u);
  EXPECT_EQ(c.group_count(), 5u);
  EXPECT_EQ(c.groups_version(), 5u);

  const NodeGroup& ga = c.group(c.node(a1).group);
  EXPECT_EQ(ga.gpu_model, "A100");
  EXPECT_TRUE(ga.has_gpus());
  EXPECT_TRUE(ga.labels.empty());
  EXPECT_EQ(ga.nodes, 2);
  const NodeGroup& ga3 = c.group(c.node(a3).group);
  EXPECT_EQ(ga3.labels, (std::map<std::string, std::string>{{"zone", "eu"}}));
  const NodeGroup& gc = c.group(c.node(c1).group);
  EXPECT_EQ(gc.gpu_model, "");
  EXPECT_FALSE(gc.has_gpus());
  EXPECT_EQ(gc.nodes, 2);
}

TEST(Cluster, GroupMatchesGpuModelsAndLabels) {
  Cluster c;
  const auto a = c.node(AddNode(c, "a", {.gpus = 8, .model = "A100", .labels = {{"zone", "eu"}}})).group;
  const auto h = c.node(AddNode(c, "h", {.gpus = 8, .model = "H100"})).group;
  const auto cpu = c.node(AddNode(c, "c", {.labels = {{"zone", "eu"}}})).group;

  EXPECT_TRUE(c.GroupMatches(a, {}, /*wants_gpus=*/true));
  EXPECT_FALSE(c.GroupMatches(cpu, {}, /*wants_gpus=*/true)) << "GPU tasks need GPU nodes";
  EXPECT_TRUE(c.GroupMatches(cpu, {}, /*wants_gpus=*/false));
  EXPECT_TRUE(c.GroupMatches(h, {}, /*wants_gpus=*/false)) << "CPU tasks may use GPU nodes";

  const Constraints h100{.gpu_models = {"H100"}};
  EXPECT_TRUE(c.GroupMatches(h, h100, true));
  EXPECT_FALSE(c.GroupMatches(a, h100, true));
  EXPECT_TRUE(c.GroupMatches(a, h100, false)) << "models only constrain GPU tasks";

  const Constraints eu{.node_labels = {{"zone", "eu"}}};
  EXPECT_TRUE(c.GroupMatches(a, eu, true));
  EXPECT_FALSE(c.GroupMatches(h, eu, true));
  EXPECT_TRUE(c.GroupMatches(cpu, eu, false));
  const Constraints us{.node_labels = {{"zone", "us"}}};
  EXPECT_FALSE(c.GroupMatches(a, us, true));
}

// ------------------------------------------------------- candidate ordering

TEST(Cluster, GpuCandidatesAreVisitedByFreeGpusAscending) {
  Cluster c;
  const auto n8 = AddNode(c, "n8", {.gpus = 8, .model = "A100"});
  const auto n2 = AddNode(c, "n2", {.gpus = 2, .model = "A100"});
  const auto n4 = AddNode(c, "n4", {.gpus = 4, .model = "H100"});
  AddNode(c, "n1", {.gpus = 1, .model = "A100"});  // too small for 2
  AddNode(c, "cpu", {.cpu_millis = 128'000});      // no GPUs
  EXPECT_EQ(VisitAll(c, Gpus(2), /*ascending=*/true), (std::vector<std::uint32_t>{n2, n4, n8}));
}

TEST(Cluster, GpuCandidatesAreVisitedByFreeGpusDescending) {
  Cluster c;
  const auto n8 = AddNode(c, "n8", {.gpus = 8, .model = "A100"});
  const auto n2 = AddNode(c, "n2", {.gpus = 2, .model = "A100"});
  const auto n4 = AddNode(c, "n4", {.gpus = 4, .model = "H100"});
  AddNode(c, "n1", {.gpus = 1, .model = "A100"});
  EXPECT_EQ(VisitAll(c, Gpus(2), /*ascending=*/false), (std::vector<std::uint32_t>{n8, n4, n2}));
}

TEST(Cluster, GpuCandidatesMustAlsoFitCpuAndMemory) {
  Cluster c;
  AddNode(c, "few-cpu", {.gpus = 2, .cpu_millis = 500});
  AddNode(c, "little-memory", {.gpus = 2, .memory_bytes = kGiB / 2});
  const auto ok = AddNode(c, "ok", {.gpus = 8});
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{ok}));
}

TEST(Cluster, CandidatesAreLimitedToTheGivenGroups) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 2, .model = "A100"});
  const auto h = AddNode(c, "h", {.gpus = 4, .model = "H100"});
  EXPECT_EQ(Visit(c, {c.node(a).group}, Gpus(1), true), (std::vector<std::uint32_t>{a}));
  EXPECT_EQ(Visit(c, {c.node(h).group}, Gpus(1), true), (std::vector<std::uint32_t>{h}));
  EXPECT_TRUE(Visit(c, {}, Gpus(1), true).empty());
}

TEST(Cluster, ForEachCandidateStopsWhenVisitReturnsFalse) {
  Cluster c;
  AddNode(c, "a", {.gpus = 2});
  AddNode(c, "b", {.gpus = 4});
  AddNode(c, "c", {.cpu_millis = 4000});
  int gpu_calls = 0, cpu_calls = 0;
  c.ForEachCandidate(AllGroups(c), Gpus(1), true, [&](std::uint32_t) { return ++gpu_calls < 1; });
  c.ForEachCandidate(AllGroups(c), Cpu(1000), true, [&](std::uint32_t) { return ++cpu_calls < 2; });
  EXPECT_EQ(gpu_calls, 1);
  EXPECT_EQ(cpu_calls, 2);
}

TEST(Cluster, CpuOnlyCandidatesVisitGpuLessGroupsFirstThenByFreeCpuAscending) {
  Cluster c;
  const auto c16 = AddNode(c, "c16", {.cpu_millis = 16'000});
  const auto c4 = AddNode(c, "c4", {.cpu_millis = 4'000});
  const auto c8 = AddNode(c, "c8", {.cpu_millis = 8'000, .labels = {{"zone", "eu"}}});
  const auto g32 = AddNode(c, "g32", {.gpus = 8, .cpu_millis = 32'000});
  const auto g6 = AddNode(c, "g6", {.gpus = 2, .cpu_millis = 6'000, .model = "H100"});
  AddNode(c, "c2", {.cpu_millis = 2'000});  // too small for 3 cores
  EXPECT_EQ(VisitAll(c, Cpu(3000), /*ascending=*/true),
            (std::vector<std::uint32_t>{c4, c8, c16, g6, g32}));
}

TEST(Cluster, CpuOnlyCandidatesVisitGpuLessGroupsFirstThenByFreeCpuDescending) {
  Cluster c;
  const auto c16 = AddNode(c, "c16", {.cpu_millis = 16'000});
  const auto c4 = AddNode(c, "c4", {.cpu_millis = 4'000});
  const auto c8 = AddNode(c, "c8", {.cpu_millis = 8'000, .labels = {{"zone", "eu"}}});
  const auto g32 = AddNode(c, "g32", {.gpus = 8, .cpu_millis = 32'000});
  const auto g6 = AddNode(c, "g6", {.gpus = 2, .cpu_millis = 6'000, .model = "H100"});
  AddNode(c, "c2", {.cpu_millis = 2'000});
  EXPECT_EQ(VisitAll(c, Cpu(3000), /*ascending=*/false),
            (std::vector<std::uint32_t>{c16, c8, c4, g32, g6}));
}

TEST(Cluster, CpuOnlyCandidatesMustFitMemory) {
  Cluster c;
  AddNode(c, "small-memory", {.cpu_millis = 64'000, .memory_bytes = kGiB});
  const auto ok = AddNode(c, "ok", {.cpu_millis = 4'000, .memory_bytes = 8 * kGiB});
  EXPECT_EQ(VisitAll(c, ResourceVector::Of(1000, 2 * kGiB, 0)), (std::vector<std::uint32_t>{ok}));
  EXPECT_EQ(VisitAll(c, ResourceVector::Of(1000, 2 * kGiB, 0), false), (std::vector<std::uint32_t>{ok}));
}

TEST(Cluster, GpuHostsUpperBoundCountsTasksThatFreeGpusCouldHost) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  AddNode(c, "b", {.gpus = 8});
  AddNode(c, "h", {.gpus = 4, .model = "H100"});
  const auto down = AddNode(c, "down", {.gpus = 8});
  c.SetState(down, NodeState::kDown);
  c.Allocate(a, Gpus(3), c.ChooseGpus(a, 3));  // a: 5 free
  EXPECT_EQ(c.GpuHostsUpperBound(AllGroups(c), 8), 1);          // b
  EXPECT_EQ(c.GpuHostsUpperBound(AllGroups(c), 4), 1 + 2 + 1);  // a, b, h
  EXPECT_EQ(c.GpuHostsUpperBound(AllGroups(c), 1), 5 + 8 + 4);
  const std::vector<std::uint32_t> a100 = {c.node(a).group};
  EXPECT_EQ(c.GpuHostsUpperBound(a100, 2), 2 + 4);  // the A100 group only
}

TEST(Cluster, OnlyUpNodesAreCandidates) {
  Cluster c;
  const auto up = AddNode(c, "up", {.gpus = 2});
  const auto draining = AddNode(c, "draining", {.gpus = 4});
  const auto down = AddNode(c, "down", {.gpus = 8});
  c.SetState(draining, NodeState::kDraining);
  c.SetState(down, NodeState::kDown);
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{up}));
  EXPECT_EQ(VisitAll(c, Gpus(1), false), (std::vector<std::uint32_t>{up}));
  EXPECT_EQ(VisitAll(c, Cpu(1000)), (std::vector<std::uint32_t>{up}));
  EXPECT_EQ(VisitAll(c, Cpu(1000), false), (std::vector<std::uint32_t>{up}));

  c.SetState(draining, NodeState::kUp);
  c.SetState(down, NodeState::kUp);
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{up, draining, down}));
}

TEST(Cluster, RemovedNodeIsNoCandidateAndLeavesTotals) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 2});
  const auto b = AddNode(c, "b", {.gpus = 4});
  const std::uint64_t version = c.capacity_version();
  c.MarkRemoved(a);
  EXPECT_TRUE(c.node(a).removed);
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{b}));
  EXPECT_EQ(VisitAll(c, Cpu(1000)), (std::vector<std::uint32_t>{b}));
  EXPECT_EQ(c.total().gpus(), 4);
  EXPECT_EQ(c.total().cpu_millis(), 32'000);
  EXPECT_EQ(c.gpus_by_model().at("A100").total, 4);
  EXPECT_EQ(c.group(c.node(a).group).nodes, 1);
  EXPECT_NE(c.capacity_version(), version);
  EXPECT_EQ(c.group(c.node(b).group).up_capacity.size(), 1u);

  c.MarkRemoved(a);  // idempotent
  EXPECT_EQ(c.group(c.node(a).group).nodes, 1);
  EXPECT_EQ(c.total().gpus(), 4);
}

// --------------------------------------------------------- allocate, release

TEST(Cluster, AllocateAndReleaseUpdateFreeCapacityAndTotals) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 8, .cpu_millis = 32'000, .memory_bytes = 256 * kGiB});
  AddNode(c, "m", {.gpus = 4, .cpu_millis = 16'000, .memory_bytes = 128 * kGiB});
  const ResourceVector total_before = c.total();
  EXPECT_EQ(total_before, ResourceVector::Of(48'000, 384 * kGiB, 12));
  const std::uint64_t version = c.capacity_version();

  const ResourceVector r = ResourceVector::Of(4'000, 16 * kGiB, 3);
  ASSERT_TRUE(c.Fits(n, r));
  const GpuSet gpus = c.ChooseGpus(n, 3);
  EXPECT_EQ(gpus, Mask(0b111));
  c.Allocate(n, r, gpus);

  const NodeRec& rec = c.node(n);
  EXPECT_EQ(rec.allocated, r);
  EXPECT_EQ(rec.free, ResourceVector::Of(28'000, 240 * kGiB, 5));
  EXPECT_EQ(rec.allocated_gpus, Mask(0b111));
  EXPECT_EQ(rec.free_gpus, Mask(0b1111'1000));
  EXPECT_EQ(c.total(), total_before) << "allocation does not change capacity";
  EXPECT_EQ(c.allocated(), r);
  EXPECT_EQ(c.gpus_by_model().at("A100").total, 12);
  EXPECT_EQ(c.gpus_by_model().at("A100").allocated, 3);
  EXPECT_EQ(c.capacity_version(), version) << "allocation does not change counted capacity";

  c.Release(n, r, gpus);
  EXPECT_TRUE(c.node(n).allocated.IsZero());
  EXPECT_EQ(c.node(n).free, ResourceVector::Of(32'000, 256 * kGiB, 8));
  EXPECT_EQ(c.node(n).free_gpus, GpuSet::FirstN(8));
  EXPECT_TRUE(c.allocated().IsZero());
  EXPECT_EQ(c.gpus_by_model().at("A100").allocated, 0);
}

TEST(Cluster, AllocateReindexesTheNode) {
  Cluster c;
  const auto n8 = AddNode(c, "n8", {.gpus = 8});
  const auto n4 = AddNode(c, "n4", {.gpus = 4, .cpu_millis = 16'000});
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{n4, n8}));
  EXPECT_EQ(VisitAll(c, Cpu(1000)), (std::vector<std::uint32_t>{n4, n8}));

  // n8 down to 1 free GPU and 8 free cores: now the tighter on both keys.
  const ResourceVector r = ResourceVector::Of(24'000, kGiB, 7);
  const GpuSet gpus = c.ChooseGpus(n8, 7);
  c.Allocate(n8, r, gpus);
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{n8, n4}));
  EXPECT_EQ(VisitAll(c, Gpus(2)), (std::vector<std::uint32_t>{n4}));
  EXPECT_EQ(VisitAll(c, Cpu(1000)), (std::vector<std::uint32_t>{n8, n4}));
  EXPECT_EQ(VisitAll(c, Cpu(10'000)), (std::vector<std::uint32_t>{n4}));

  c.Release(n8, r, gpus);
  EXPECT_EQ(VisitAll(c, Gpus(1)), (std::vector<std::uint32_t>{n4, n8}));
  EXPECT_EQ(VisitAll(c, Cpu(10'000)), (std::vector<std::uint32_t>{n4, n8}));
}

TEST(Cluster, NodeWithNoFreeGpusIsStillACpuCandidate) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 2});
  c.Allocate(n, Gpus(2), c.ChooseGpus(n, 2));
  EXPECT_TRUE(VisitAll(c, Gpus(1)).empty());
  EXPECT_EQ(VisitAll(c, Cpu(1000)), (std::vector<std::uint32_t>{n}));
}

// ------------------------------------------------------------- GPU choice

TEST(Cluster, ChooseGpusPicksTheTightestDomainThatFits) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 8, .domains = {0, 0, 0, 0, 1, 1, 1, 1}});
  c.Allocate(n, Gpus(2), Mask(0b11));  // domain 0 keeps 2 free, domain 1 has 4
  EXPECT_EQ(c.ChooseGpus(n, 1), Mask(0b0000'0100));
  EXPECT_EQ(c.ChooseGpus(n, 2), Mask(0b0000'1100));
  EXPECT_EQ(c.ChooseGpus(n, 3), Mask(0b0111'0000));
  EXPECT_EQ(c.ChooseGpus(n, 4), Mask(0b1111'0000));
}

TEST(Cluster, ChooseGpusStaysInOneDomainWhenTheDomainsAreInterleaved) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 8, .domains = {0, 1, 0, 1, 0, 1, 0, 1}});
  const GpuSet four = c.ChooseGpus(n, 4);
  EXPECT_EQ(four.size(), 4);
  EXPECT_EQ(DomainsOf(c.node(n), four).size(), 1u);
  EXPECT_EQ(four, Mask(0b0101'0101));
}

TEST(Cluster, ChooseGpusSpansTheFewestDomainsWhenNoneFits) {
  Cluster c;
  // Domain 0 has 1 GPU, domain 1 has 3, domain 2 has 2. Five GPUs fit in
  // domains 1 + 2; taking the lowest indices would use all three domains.
  const auto n = AddNode(c, "n", {.gpus = 6, .domains = {0, 1, 1, 1, 2, 2}});
  const GpuSet five = c.ChooseGpus(n, 5);
  EXPECT_EQ(five.size(), 5);
  EXPECT_EQ(DomainsOf(c.node(n), five), (std::set<int>{1, 2}));
  EXPECT_EQ(five, Mask(0b11'1110));
}

TEST(Cluster, ChooseGpusSpanningDomainsTakesTheLargestFirst) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 8, .domains = {0, 0, 0, 0, 1, 1, 1, 1}});
  c.Allocate(n, Gpus(2), Mask(0b11));  // domain 0: {2,3}; domain 1: {4..7}
  const GpuSet five = c.ChooseGpus(n, 5);
  EXPECT_EQ(five, Mask(0b1111'0100));
}

TEST(Cluster, ChooseGpusNeverPicksUnhealthyGpus) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 4, .unhealthy = {3}});
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b0111));
  EXPECT_EQ(c.node(n).free.gpus(), 3);
  c.SetGpuHealth(n, 1, /*healthy=*/false);
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b0101));
  EXPECT_EQ(c.node(n).free.gpus(), 2);
  EXPECT_EQ(c.ChooseGpus(n, 1), Mask(0b0001));
  EXPECT_EQ(c.ChooseGpus(n, 2), Mask(0b0101));
  EXPECT_FALSE(c.Fits(n, Gpus(3)));
  EXPECT_TRUE(VisitAll(c, Gpus(3)).empty());
  EXPECT_EQ(VisitAll(c, Gpus(2)), (std::vector<std::uint32_t>{n}));
  EXPECT_EQ(c.total().gpus(), 2);
  EXPECT_EQ(c.gpus_by_model().at("A100").total, 2);

  c.SetGpuHealth(n, 1, /*healthy=*/true);
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b0111));
  EXPECT_EQ(c.total().gpus(), 3);
}

TEST(Cluster, GpuThatTurnsUnhealthyWhileAllocatedIsNotFreedOnRelease) {
  Cluster c;
  const auto n = AddNode(c, "n", {.gpus = 4});
  c.Allocate(n, Gpus(2), Mask(0b0011));
  c.SetGpuHealth(n, 0, /*healthy=*/false);
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b1100));
  EXPECT_EQ(c.node(n).allocated_gpus, Mask(0b0011)) << "the task keeps its GPU";

  c.Release(n, Gpus(2), Mask(0b0011));
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b1110));
  EXPECT_EQ(c.node(n).free.gpus(), 3);
  EXPECT_TRUE(c.node(n).allocated_gpus.empty());
  EXPECT_EQ(c.ChooseGpus(n, 3), Mask(0b1110));
  EXPECT_EQ(c.gpus_by_model().at("A100").allocated, 0);
  EXPECT_EQ(c.gpus_by_model().at("A100").total, 3);

  c.SetGpuHealth(n, 0, /*healthy=*/true);
  EXPECT_EQ(c.node(n).free_gpus, Mask(0b1111));
}

// --------------------------------------------- capacity counts and totals

TEST(Cluster, UpCapacityCountsUpNodesByEffectiveCapacity) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  const auto b = AddNode(c, "b", {.gpus = 8});
  const std::uint32_t g = c.node(a).group;
  const ResourceVector full = ResourceVector::Of(32'000, 256 * kGiB, 8);
  const ResourceVector seven = ResourceVector::Of(32'000, 256 * kGiB, 7);
  using Counts = absl::flat_hash_map<ResourceVector, std::int64_t>;
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{full, 2}}));

  std::uint64_t v = c.capacity_version();
  c.SetState(b, NodeState::kDraining);
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{full, 1}}));
  EXPECT_NE(c.capacity_version(), v);

  v = c.capacity_version();
  c.SetGpuHealth(a, 3, /*healthy=*/false);
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{seven, 1}}));
  EXPECT_NE(c.capacity_version(), v);

  v = c.capacity_version();
  c.SetState(b, NodeState::kUp);
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{seven, 1}, {full, 1}}));
  EXPECT_NE(c.capacity_version(), v);

  v = c.capacity_version();
  c.SetState(a, NodeState::kDown);
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{full, 1}}));
  EXPECT_NE(c.capacity_version(), v);

  // Allocation is not capacity: the counts and the version stay.
  v = c.capacity_version();
  c.Allocate(b, Gpus(8), c.ChooseGpus(b, 8));
  EXPECT_EQ(c.group(g).up_capacity, (Counts{{full, 1}}));
  EXPECT_EQ(c.capacity_version(), v);

  v = c.capacity_version();
  c.MarkRemoved(b);
  EXPECT_TRUE(c.group(g).up_capacity.empty());
  EXPECT_NE(c.capacity_version(), v);
}

TEST(Cluster, SettingTheSameStateOrHealthAgainChangesNothing) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  const std::uint64_t v = c.capacity_version();
  const ResourceVector total = c.total();
  c.SetState(a, NodeState::kUp);
  c.SetGpuHealth(a, 0, /*healthy=*/true);
  EXPECT_EQ(c.capacity_version(), v);
  EXPECT_EQ(c.total(), total);
  EXPECT_EQ(VisitAll(c, Gpus(8)), (std::vector<std::uint32_t>{a}));
}

TEST(Cluster, TotalsCountUpAndDrainingNodesButNotDownNodes) {
  Cluster c;
  const auto up = AddNode(c, "up", {.gpus = 8, .cpu_millis = 10'000});
  const auto draining = AddNode(c, "draining", {.gpus = 4, .cpu_millis = 20'000});
  const auto down = AddNode(c, "down", {.gpus = 2, .cpu_millis = 40'000, .model = "H100"});
  AddNode(c, "cpu", {.cpu_millis = 80'000});
  c.Allocate(up, Gpus(1), c.ChooseGpus(up, 1));
  c.Allocate(draining, Gpus(2), c.ChooseGpus(draining, 2));
  c.Allocate(down, Gpus(2), c.ChooseGpus(down, 2));
  c.SetState(draining, NodeState::kDraining);
  c.SetState(down, NodeState::kDown);

  EXPECT_EQ(c.total(), ResourceVector::Of(110'000, 768 * kGiB, 12));
  EXPECT_EQ(c.allocated(), ResourceVector::Of(2'000, 2 * kGiB, 3));
  EXPECT_EQ(c.gpus_by_model().at("A100").total, 12);
  EXPECT_EQ(c.gpus_by_model().at("A100").allocated, 3);
  EXPECT_EQ(c.gpus_by_model().at("H100").total, 0);
  EXPECT_EQ(c.gpus_by_model().at("H100").allocated, 0);

  // A down node's release does not touch the totals; back up, it counts again.
  c.Release(down, Gpus(2), c.node(down).allocated_gpus);
  EXPECT_EQ(c.allocated(), ResourceVector::Of(2'000, 2 * kGiB, 3));
  c.SetState(down, NodeState::kUp);
  EXPECT_EQ(c.total(), ResourceVector::Of(150'000, 1024 * kGiB, 14));
  EXPECT_EQ(c.gpus_by_model().at("H100").total, 2);
  EXPECT_EQ(c.gpus_by_model().at("H100").allocated, 0);
}

// -------------------------------------------------------------- change log

std::set<std::uint32_t> ChangedSince(const Cluster& c, std::uint64_t mark) {
  std::set<std::uint32_t> out;
  EXPECT_TRUE(c.ForEachChangedSince(mark, [&](std::uint32_t n) {
    out.insert(n);
    return true;
  }));
  return out;
}

TEST(ClusterChangeLog, ListsTheNodesChangedSinceAMark) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  const auto b = AddNode(c, "b", {.gpus = 8});
  const auto d = AddNode(c, "d", {.gpus = 8});
  const auto e = AddNode(c, "e", {.gpus = 8});
  const std::uint64_t mark = c.ChangeMark();
  EXPECT_TRUE(ChangedSince(c, mark).empty());
  c.Allocate(a, Gpus(2), c.ChooseGpus(a, 2));
  c.SetState(b, NodeState::kDraining);
  c.SetGpuHealth(d, 3, /*healthy=*/false);
  // Claims are not changes of the node; the reader compares them itself.
  c.AddClaim(e, /*start=*/10, Gpus(1), Mask(1));
  EXPECT_EQ(ChangedSince(c, mark), (std::set<std::uint32_t>{a, b, d}));
  const auto f = AddNode(c, "f", {.gpus = 8});
  EXPECT_EQ(ChangedSince(c, mark), (std::set<std::uint32_t>{a, b, d, f}));
}

TEST(ClusterChangeLog, AnOlderMarkSeesEverythingALaterOneSees) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  const auto b = AddNode(c, "b", {.gpus = 8});
  const std::uint64_t first = c.ChangeMark();
  const GpuSet gpus = c.ChooseGpus(a, 2);
  c.Allocate(a, Gpus(2), gpus);
  const std::uint64_t second = c.ChangeMark();
  c.Release(a, Gpus(2), gpus);  // back as it was: still a change
  c.Allocate(b, Gpus(1), c.ChooseGpus(b, 1));
  EXPECT_EQ(ChangedSince(c, first), (std::set<std::uint32_t>{a, b}));
  EXPECT_EQ(ChangedSince(c, second), (std::set<std::uint32_t>{a, b}));
}

TEST(ClusterChangeLog, IndexMovesWithoutCapacityChangesAreChanges) {
  // Re-indexing puts a node first in its bucket: candidates are visited in
  // another order, which tie-breaking can see.
  Cluster c;
  c.set_track_preemptible(true);
  const auto a = AddNode(c, "a", {.gpus = 8});
  const std::uint64_t mark = c.ChangeMark();
  c.AddEvictable(a, /*cls=*/0, 2);
  EXPECT_EQ(ChangedSince(c, mark), (std::set<std::uint32_t>{a}));
}

TEST(ClusterChangeLog, AMarkOlderThanTheLogCannotBeAnswered) {
  Cluster c;
  std::vector<std::uint32_t> nodes;
  for (int i = 0; i < 40; ++i) nodes.push_back(AddNode(c, "n" + std::to_string(i), {.gpus = 8}));
  const std::uint64_t old_mark = c.ChangeMark();
  // Each node is logged once per mark, so new marks let the log grow.
  std::uint64_t mark = old_mark;
  for (std::uint64_t round = 0; round * nodes.size() <= Cluster::kChangeLogSize; ++round) {
    mark = c.ChangeMark();
    for (std::uint32_t n : nodes) c.SetState(n, round % 2 ? NodeState::kUp : NodeState::kDraining);
  }
  EXPECT_FALSE(c.ForEachChangedSince(old_mark, [](std::uint32_t) { return true; }));
  EXPECT_EQ(ChangedSince(c, mark).size(), nodes.size());
}

TEST(ClusterChangeLog, VisitingStopsWhenTheVisitorReturnsFalse) {
  Cluster c;
  const auto a = AddNode(c, "a", {.gpus = 8});
  const auto b = AddNode(c, "b", {.gpus = 8});
  const std::uint64_t mark = c.ChangeMark();
  c.SetState(a, NodeState::kDraining);
  c.SetState(b, NodeState::kDraining);
  int visits = 0;
  EXPECT_FALSE(c.ForEachChangedSince(mark, [&](std::uint32_t) { return ++visits < 1; }));
  EXPECT_EQ(visits, 1);
}

// ---------------------------------------------------------------- property

struct ModelNode {
  ResourceVector capacity;  // gpu = device count
  int gpus = 0;
  std::string model;
  GpuSet unhealthy;
  NodeState state = NodeState::kUp;
  bool removed = false;
  ResourceVector allocated;
  GpuSet allocated_gpus;

  bool serving() const { return !removed && state != NodeState::kDown; }
  bool schedulable() const { return !removed && state == NodeState::kUp; }
  GpuSet free_gpus() const { return GpuSet::FirstN(gpus).Minus(allocated_gpus).Minus(unhealthy); }
  ResourceVector free() const {
    ResourceVector f = capacity - allocated;
    f.Set(kGpu, free_gpus().size());
    return f;
  }
  ResourceVector effective_capacity() const {
    ResourceVector c = capacity;
    c.Set(kGpu, GpuSet::FirstN(gpus).Minus(unhealthy).size());
    return c;
  }
};

struct ModelAlloc {
  std::uint32_t node;
  ResourceVector request;
  GpuSet gpus;
};

// Checks one request against the model: the candidates are exactly the
// schedulable nodes of `groups` it fits on, each once, in key order.
void CheckCandidates(const Cluster& c, const std::vector<ModelNode>& model,
                     const std::vector<std::uint32_t>& groups, const ResourceVector& request,
                     bool ascending) {
  const std::vector<std::uint32_t> visited = Visit(c, groups, request, ascending);
  std::set<std::uint32_t> expected;
  for (std::uint32_t i = 0; i < model.size(); ++i) {
    const bool in_groups = std::find(groups.begin(), groups.end(), c.node(i).group) != groups.end();
    if (in_groups && model[i].schedulable() && request.FitsIn(model[i].free())) expected.insert(i);
  }
  const std::set<std::uint32_t> got(visited.begin(), visited.end());
  RC_ASSERT(got.size() == visited.size());  // each once
  RC_ASSERT(got == expected);
  // Key order: free GPUs for GPU requests; (has GPUs, free CPU) for CPU-only
  // ones. The CPU index is documented as exact to one whole core
  // (src/internal/cluster.h), so CPU order is checked in whole cores.
  auto key = [&](std::uint32_t i) -> std::pair<int, std::int64_t> {
    if (request.gpus() > 0) return {0, model[i].free().gpus()};
    return {model[i].gpus > 0 ? 1 : 0, model[i].free().cpu_millis() / 1000};
  };
  for (std::size_t k = 1; k < visited.size(); ++k) {
    const auto a = key(visited[k - 1]), b = key(visited[k]);
    RC_ASSERT(a.first <= b.first);  // GPU-less groups first in both directions
    if (a.first == b.first) RC_ASSERT((ascending ? a.second <= b.second : a.second >= b.second));
  }
}

// A gang kept in one topology domain walks that domain's own index: it must
// visit exactly the domain's nodes of the whole walk, in the same order.
void CheckDomainCandidates(Cluster& c) {
  for (const ResourceVector& r : {Gpus(1), Gpus(2), Gpus(4), Gpus(8)}) {
    for (bool ascending : {true, false}) {
      const std::vector<std::uint32_t> all = VisitAll(c, r, ascending);
      for (int level = 0; level < 2; ++level) {
        for (std::uint32_t d = 0; d < c.domain_count(level); ++d) {
          std::vector<std::uint32_t> expected;
          for (std::uint32_t n : all)
            if (c.DomainOf(n, level) == d) expected.push_back(n);
          c.set_domain_filter(level, d);
          const std::vector<std::uint32_t> visited = VisitAll(c, r, ascending);
          c.set_domain_filter(-1, kNil);
          RC_ASSERT(visited == expected);
        }
      }
    }
  }
}

void CheckAgainstModel(const Cluster& c, const std::vector<ModelNode>& model) {
  ResourceVector total, allocated;
  std::map<std::string, ModelCount> by_model;
  std::vector<absl::flat_hash_map<ResourceVector, std::int64_t>> up_capacity(c.group_count());
  for (std::uint32_t i = 0; i < model.size(); ++i) {
    const ModelNode& m = model[i];
    const NodeRec& n = c.node(i);
    // (a) free == capacity - allocated, gpu = popcount(free_gpus).
    RC_ASSERT(n.allocated == m.allocated);
    RC_ASSERT(n.allocated_gpus.mask() == m.allocated_gpus.mask());
    RC_ASSERT(n.free_gpus.mask() == m.free_gpus().mask());
    RC_ASSERT(n.free.gpus() == static_cast<std::int64_t>(std::popcount(n.free_gpus.mask())));
    RC_ASSERT(n.free == m.free());
    if (m.serving()) {
      total += m.effective_capacity();
      allocated += m.allocated;
      if (m.gpus > 0) {
        by_model[m.model].total += m.effective_capacity().gpus();
        by_model[m.model].allocated += m.allocated.gpus();
      }
    }
    if (m.schedulable()) up_capacity[n.group][m.effective_capacity()]++;
  }
  // (c) totals over up and draining nodes.
  RC_ASSERT(c.total() == total);
  RC_ASSERT(c.allocated() == allocated);
  for (const auto& [name, count] : c.gpus_by_model()) {
    RC_ASSERT(count.total == by_model[name].total);
    RC_ASSERT(count.allocated == by_model[name].allocated);
  }
  for (std::uint32_t g = 0; g < c.group_count(); ++g) RC_ASSERT(c.group(g).up_capacity == up_capacity[g]);

  // (d) the gang bound: for tasks of g GPUs, the sum over schedulable nodes
  // of floor(free healthy GPUs / g), from the index's bucket sizes alone.
  for (std::int64_t g : {1, 2, 3, 4, 8}) {
    std::int64_t hosts = 0;
    for (std::uint32_t i = 0; i < model.size(); ++i)
      if (model[i].schedulable()) hosts += std::popcount(model[i].free_gpus().mask()) / g;
    RC_ASSERT(c.GpuHostsUpperBound(AllGroups(c), g) == hosts);
  }

  // (b) candidates, over all groups and over each single group.
  static const ResourceVector kRequests[] = {
      ResourceVector::Of(500, kGiB, 1),     ResourceVector::Of(2000, 4 * kGiB, 2),
      ResourceVector::Of(1000, kGiB, 4),    ResourceVector::Of(1000, kGiB, 8),
      ResourceVector::Of(1000, kGiB, 0),    ResourceVector::Of(6000, 2 * kGiB, 0),
      ResourceVector::Of(100, 12 * kGiB, 0)};
  for (const ResourceVector& r : kRequests) {
    for (bool ascending : {true, false}) {
      CheckCandidates(c, model, AllGroups(c), r, ascending);
      for (std::uint32_t g = 0; g < c.group_count(); ++g) CheckCandidates(c, model, {g}, r, ascending);
    }
    for (std::uint32_t i = 0; i < model.size(); ++i) {
      if (!model[i].removed) RC_ASSERT(c.Fits(i, r) == r.FitsIn(model[i].free()));
    }
  }
}

RC_GTEST_PROP(ClusterInvariants, IndexesAndTotalsMatchAModelRecomputedFromAllocations, ()) {
  Cluster c;
  std::vector<ModelNode> model;
  const int nodes = *rc::gen::inRange(1, 8);
  for (int i = 0; i < nodes; ++i) {
    NodeOptions o{.gpus = *rc::gen::element(0, 1, 2, 4, 8),
                  .cpu_millis = *rc::gen::inRange<std::int64_t>(1, 17) * 1000,
                  .memory_bytes = *rc::gen::inRange<std::int64_t>(1, 17) * kGiB,
                  .model = *rc::gen::element<std::string>("A100", "H100")};
    if (*rc::gen::inRange(0, 3) == 0) o.labels = {{"zone", "eu"}};
    if (*rc::gen::inRange(0, 4) != 0) {  // some nodes have no place in the topology
      o.topology = "b" + std::to_string(*rc::gen::inRange(0, 2));
      if (*rc::gen::inRange(0, 4) != 0) o.topology += "/r" + std::to_string(*rc::gen::inRange(0, 3));
    }
    for (int g = 0; g < o.gpus; ++g) {
      o.domains.push_back(*rc::gen::inRange(0, 3));
      if (*rc::gen::inRange(0, 8) == 0) o.unhealthy.push_back(g);
    }
    ModelNode m{.capacity = ResourceVector::Of(o.cpu_millis, o.memory_bytes, o.gpus),
                .gpus = o.gpus,
                .model = o.gpus > 0 ? o.model : ""};
    for (int g : o.unhealthy) m.unhealthy.Add(g);
    model.push_back(m);
    RC_ASSERT(AddNode(c, "n" + std::to_string(i), o) == static_cast<std::uint32_t>(i));
  }
  CheckAgainstModel(c, model);

  std::vector<ModelAlloc> allocs;
  const int steps = *rc::gen::inRange(1, 40);
  // Readers of the change log (reservation walks, gang domain counts) take
  // a mark and later revisit only the nodes logged since: every node whose
  // free resources or schedulability moved must be among them.
  struct Seen {
    ResourceVector free;
    bool schedulable;
  };
  auto snapshot = [&] {
    std::vector<Seen> seen;
    for (std::uint32_t k = 0; k < model.size(); ++k) seen.push_back({c.node(k).free, model[k].schedulable()});
    return seen;
  };
  std::uint64_t mark = c.ChangeMark();
  std::vector<Seen> at_mark = snapshot();
  for (int step = 0; step < steps; ++step) {
    if (*rc::gen::inRange(0, 4) == 0) {
      std::set<std::uint32_t> logged;
      RC_ASSERT(c.ForEachChangedSince(mark, [&](std::uint32_t n) {
        logged.insert(n);
        return true;
      }));
      for (std::uint32_t k = 0; k < model.size(); ++k) {
        if (c.node(k).free != at_mark[k].free || model[k].schedulable() != at_mark[k].schedulable)
          RC_ASSERT(logged.count(k) == 1u);
      }
      mark = c.ChangeMark();
      at_mark = snapshot();
    }
    const int kind = *rc::gen::inRange(0, 10);
    const auto i = static_cast<std::uint32_t>(*rc::gen::inRange(0, nodes));
    ModelNode& m = model[i];
    const std::vector<std::pair<ResourceVector, int>> before_caps = [&] {
      std::vector<std::pair<ResourceVector, int>> caps;
      for (std::uint32_t k = 0; k < model.size(); ++k)
        if (model[k].schedulable()) caps.emplace_back(model[k].effective_capacity(), k);
      return caps;
    }();
    const std::uint64_t version = c.capacity_version();

    if (kind <= 3) {
      // Allocate what fits on an up node, as the engine does.
      if (!m.schedulable()) continue;
      const ResourceVector r =
          ResourceVector::Of(*rc::gen::inRange<std::int64_t>(0, 9) * 500,
                             *rc::gen::inRange<std::int64_t>(0, 5) * (kGiB / 2),
                             *rc::gen::inRange<std::int64_t>(0, 5));
      RC_ASSERT(c.Fits(i, r) == r.FitsIn(m.free()));
      if (!c.Fits(i, r)) continue;
      const GpuSet gpus = c.ChooseGpus(i, static_cast<int>(r.gpus()));
      RC_ASSERT(gpus.size() == r.gpus());
      RC_ASSERT(gpus.Minus(m.free_gpus()).empty());  // only healthy free GPUs
      c.Allocate(i, r, gpus);
      m.allocated += r;
      m.allocated_gpus = m.allocated_gpus | gpus;
      allocs.push_back({i, r, gpus});
    } else if (kind <= 5) {
      if (allocs.empty()) continue;
      const auto k = static_cast<std::size_t>(*rc::gen::inRange<int>(0, static_cast<int>(allocs.size())));
      const ModelAlloc a = allocs[k];
      allocs.erase(allocs.begin() + static_cast<std::ptrdiff_t>(k));
      c.Release(a.node, a.request, a.gpus);
      model[a.node].allocated -= a.request;
      model[a.node].allocated_gpus = model[a.node].allocated_gpus.Minus(a.gpus);
    } else if (kind <= 7) {
      if (m.removed) continue;
      const auto state = static_cast<NodeState>(*rc::gen::inRange(0, 3));
      c.SetState(i, state);
      m.state = state;
    } else if (kind == 8) {
      if (m.removed || m.gpus == 0) continue;
      const int gpu = *rc::gen::inRange(0, m.gpus);
      const bool healthy = *rc::gen::arbitrary<bool>();
      c.SetGpuHealth(i, gpu, healthy);
      if (healthy) {
        m.unhealthy.Remove(gpu);
      } else {
        m.unhealthy.Add(gpu);
      }
    } else {
      // The engine removes a node after taking it down and releasing its tasks.
      const bool idle = std::none_of(allocs.begin(), allocs.end(),
                                     [&](const ModelAlloc& a) { return a.node == i; });
      if (m.removed || m.state != NodeState::kDown || !idle) continue;
      c.MarkRemoved(i);
      m.removed = true;
    }

    CheckAgainstModel(c, model);
    CheckDomainCandidates(c);
    std::vector<std::pair<ResourceVector, int>> after_caps;
    for (std::uint32_t k = 0; k < model.size(); ++k)
      if (model[k].schedulable()) after_caps.emplace_back(model[k].effective_capacity(), k);
    // Feasibility caches key on capacity_version: it must move whenever the
    // schedulable capacity changed.
    if (after_caps != before_caps) RC_ASSERT(c.capacity_version() != version);
  }
}

}  // namespace
}  // namespace mlsched::internal
