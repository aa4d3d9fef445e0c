// Placement policies through the public Engine: best fit and spread on the
// task's key resource, custom policies over CandidateNodes, and what happens
// when a policy picks a node that is not a candidate.
#include "mlsched/policy/placement.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mlsched/clock.h"
#include "mlsched/engine.h"
#include "mlsched/policy/policy_set.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

::testing::AssertionResult HasText(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// A node with `gpus` A100s; `domains` splits them evenly into NVLink islands.
NodeSpec GpuNode(std::string name, int gpus, std::int64_t cpu_millis = 64'000, int domains = 1) {
  NodeSpec n{.name = std::move(name), .capacity = ResourceVector::Of(cpu_millis, 512 * kGiB, 0)};
  for (int i = 0; i < gpus; ++i) {
    n.gpus.push_back({.index = i, .uuid = "GPU-" + std::to_string(i), .model = "A100",
                      .memory_bytes = 80 * kGiB, .topology_domain = i * domains / gpus});
  }
  return n;
}

NodeSpec CpuNode(std::string name, std::int64_t cpu_millis) {
  return {.name = std::move(name), .capacity = ResourceVector::Of(cpu_millis, 256 * kGiB, 0)};
}

JobSpec GpuJob(std::string name, int gpus, int tasks = 1) {
  return {.name = std::move(name), .tenant = "research", .user = "ana",
          .task_groups = {{.name = "", .count = tasks,
                           .per_task = ResourceVector::Of(1000, kGiB, gpus)}}};
}

JobSpec CpuJob(std::string name, std::int64_t cpu_millis) {
  return {.name = std::move(name), .tenant = "research", .user = "ana",
          .task_groups = {{.name = "", .count = 1,
                           .per_task = ResourceVector::Of(cpu_millis, kGiB, 0)}}};
}

class TestEngine {
 public:
  explicit TestEngine(std::shared_ptr<const PlacementPolicy> placement) {
    engine_ = Engine::Create({.clock = &clock_,
                              .policies = {.ordering = NewFifoOrdering(), .placement = std::move(placement)}})
                  .value();
  }
  Engine& engine() { return *engine_; }
  NodeId Add(NodeSpec spec) {
    auto id = engine_->AddNode(std::move(spec));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(NodeId());
  }
  JobId Submit(JobSpec spec) {
    clock_.Advance(kMillisecond);  // FIFO: submission order is queue order
    auto id = engine_->Submit(std::move(spec));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(JobId());
  }
  const SchedulingRound& Tick() {
    round_ = engine_->Tick();
    return round_;
  }
  // Nodes of the job's tasks in the last round (empty if it did not start).
  std::vector<NodeId> NodesOf(JobId job) const {
    std::vector<NodeId> out;
    for (const Decision& d : round_.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != job) continue;
      for (const TaskPlacement& p : round_.PlacementsOf(d)) out.push_back(p.node);
    }
    return out;
  }
  std::vector<GpuSet> GpusOf(JobId job) const {
    std::vector<GpuSet> out;
    for (const Decision& d : round_.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != job) continue;
      for (const TaskPlacement& p : round_.PlacementsOf(d)) out.push_back(p.gpus);
    }
    return out;
  }

 private:
  ManualClock clock_{1'000 * kSecond};
  std::unique_ptr<Engine> engine_;
  SchedulingRound round_;
};

std::vector<NodeId> Nodes(std::initializer_list<NodeId> ids) { return ids; }

// ------------------------------------------------------------- built-ins

TEST(BestFitPlacement, PutsAOneGpuTaskOnTheNodeWithTheFewestFreeGpus) {
  TestEngine e(NewBestFitPlacement());
  e.Add(GpuNode("n8", 8));
  const NodeId n2 = e.Add(GpuNode("n2", 2));
  e.Add(GpuNode("n4", 4));
  const JobId j = e.Submit(GpuJob("j", 1));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({n2}));
}

TEST(BestFitPlacement, SkipsNodesTooSmallForTheTask) {
  TestEngine e(NewBestFitPlacement());
  e.Add(GpuNode("n8", 8));
  e.Add(GpuNode("n2", 2));
  const NodeId n4 = e.Add(GpuNode("n4", 4));
  const JobId j = e.Submit(GpuJob("j", 3));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({n4}));
}

TEST(BestFitPlacement, CountsGpusAlreadyInUse) {
  TestEngine e(NewBestFitPlacement());
  const NodeId n8 = e.Add(GpuNode("n8", 8));
  e.Add(GpuNode("n2", 2));
  const JobId big = e.Submit(GpuJob("big", 7));
  const JobId small = e.Submit(GpuJob("small", 1));
  e.Tick();
  EXPECT_EQ(e.NodesOf(big), Nodes({n8}));
  EXPECT_EQ(e.NodesOf(small), Nodes({n8})) << "n8 has 1 free GPU left, n2 has 2";
}

TEST(SpreadPlacement, PutsAOneGpuTaskOnTheNodeWithTheMostFreeGpus) {
  TestEngine e(NewSpreadPlacement());
  e.Add(GpuNode("n2", 2));
  const NodeId n8 = e.Add(GpuNode("n8", 8));
  e.Add(GpuNode("n4", 4));
  const JobId j = e.Submit(GpuJob("j", 1));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({n8}));
}

TEST(SpreadPlacement, SpreadsTheJobsOfOnePassAcrossNodes) {
  TestEngine e(NewSpreadPlacement());
  const NodeId a = e.Add(GpuNode("a", 8));
  const NodeId b = e.Add(GpuNode("b", 8));
  const JobId first = e.Submit(GpuJob("first", 4));
  const JobId second = e.Submit(GpuJob("second", 1));
  e.Tick();
  ASSERT_EQ(e.NodesOf(first).size(), 1u);
  ASSERT_EQ(e.NodesOf(second).size(), 1u);
  EXPECT_NE(e.NodesOf(first)[0], e.NodesOf(second)[0]);
  EXPECT_TRUE(e.NodesOf(second)[0] == a || e.NodesOf(second)[0] == b);
}

TEST(BestFitPlacement, GangTasksSeeTheEarlierTasksTentativePlacements) {
  TestEngine e(NewBestFitPlacement());
  const NodeId n1 = e.Add(GpuNode("n1", 1));
  const NodeId n2 = e.Add(GpuNode("n2", 2));
  const JobId gang = e.Submit(GpuJob("gang", 1, /*tasks=*/3));
  e.Tick();
  // Task 0 fills n1; tasks 1 and 2 then only fit on n2.
  EXPECT_EQ(e.NodesOf(gang), Nodes({n1, n2, n2}));
  const std::vector<GpuSet> gpus = e.GpusOf(gang);
  ASSERT_EQ(gpus.size(), 3u);
  EXPECT_NE(gpus[1], gpus[2]) << "one GPU is never handed out twice";
}

TEST(BestFitPlacement, MultiGpuTaskStaysInsideOneNvlinkDomain) {
  TestEngine e(NewBestFitPlacement());
  e.Add(GpuNode("n", 8, 64'000, /*domains=*/2));  // {0..3}, {4..7}
  const JobId two = e.Submit(GpuJob("two", 2));
  const JobId four = e.Submit(GpuJob("four", 4));
  e.Tick();
  ASSERT_EQ(e.GpusOf(two).size(), 1u);
  ASSERT_EQ(e.GpusOf(four).size(), 1u);
  EXPECT_EQ(e.GpusOf(two)[0], GpuSet::FromMask(0b0000'0011));
  EXPECT_EQ(e.GpusOf(four)[0], GpuSet::FromMask(0b1111'0000)) << "domain 0 has only 2 left";
}

// ---------------------------------------------------------------- CPU-only

TEST(BestFitPlacement, CpuOnlyJobGoesToAGpuLessNodeBeforeATighterGpuNode) {
  TestEngine e(NewBestFitPlacement());
  e.Add(GpuNode("gpu", 8, /*cpu_millis=*/8'000));
  const NodeId cpu = e.Add(CpuNode("cpu", 64'000));
  const JobId j = e.Submit(CpuJob("j", 4'000));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({cpu}));
}

TEST(SpreadPlacement, CpuOnlyJobGoesToAGpuLessNodeBeforeALooserGpuNode) {
  TestEngine e(NewSpreadPlacement());
  e.Add(GpuNode("gpu", 8, /*cpu_millis=*/128'000));
  const NodeId cpu = e.Add(CpuNode("cpu", 16'000));
  const JobId j = e.Submit(CpuJob("j", 4'000));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({cpu}));
}

TEST(BestFitPlacement, CpuOnlyJobUsesAGpuNodeWhenNoGpuLessNodeFits) {
  TestEngine e(NewBestFitPlacement());
  const NodeId gpu = e.Add(GpuNode("gpu", 8, /*cpu_millis=*/64'000));
  e.Add(CpuNode("cpu", 2'000));
  const JobId j = e.Submit(CpuJob("j", 4'000));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({gpu}));
  EXPECT_TRUE(e.GpusOf(j)[0].empty());
}

TEST(BestFitPlacement, CpuOnlyJobPicksTheGpuLessNodeWithTheLeastFreeCpu) {
  TestEngine e(NewBestFitPlacement());
  e.Add(CpuNode("c32", 32'000));
  const NodeId c8 = e.Add(CpuNode("c8", 8'000));
  e.Add(CpuNode("c2", 2'000));
  const JobId j = e.Submit(CpuJob("j", 4'000));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({c8}));
}

// ---------------------------------------------------------------- custom

// Logs what the engine shows a policy.
struct Seen {
  std::vector<TaskRequest> tasks;
  std::vector<ResourceKind> keys;
  std::vector<std::pair<NodeId, std::int64_t>> visited;  // node, free key resource
};

// Picks the candidate with the highest NodeId, by visiting them all.
class HighestIdPlacement final : public PlacementPolicy {
 public:
  explicit HighestIdPlacement(Seen* seen) : seen_(seen) {}
  std::string_view name() const override { return "highest-id"; }
  std::optional<NodeId> ChooseNode(const TaskRequest& task, const CandidateNodes& c) const override {
    seen_->tasks.push_back(task);
    seen_->keys.push_back(c.key());
    std::optional<NodeId> best;
    c.ForEach([&](NodeId node, const ResourceVector& free) {
      seen_->visited.emplace_back(node, free.Get(c.key()));
      if (!best || node > *best) best = node;
      return true;
    });
    return best;
  }

 private:
  Seen* seen_;
};

// Always returns one fixed node, candidate or not.
class FixedNodePlacement final : public PlacementPolicy {
 public:
  explicit FixedNodePlacement(NodeId node) : node_(node) {}
  std::string_view name() const override { return "always-fixed"; }
  std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes&) const override {
    return node_;
  }
  void set(NodeId node) { node_ = node; }

 private:
  NodeId node_;
};

class NeverPlacement final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "never"; }
  std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes&) const override {
    return std::nullopt;
  }
};

TEST(CustomPlacement, PolicyUsingForEachToPickTheHighestNodeIdIsHonoured) {
  Seen seen;
  TestEngine e(std::make_shared<HighestIdPlacement>(&seen));
  const NodeId n0 = e.Add(GpuNode("n0", 8));
  const NodeId n1 = e.Add(GpuNode("n1", 2));
  const NodeId n2 = e.Add(GpuNode("n2", 4));
  e.Add(CpuNode("n3", 64'000));
  const NodeId n4 = e.Add(GpuNode("n4", 4));
  ASSERT_TRUE(e.engine().SetNodeState(n2, NodeState::kDraining).ok());
  const JobId j = e.Submit(GpuJob("j", 1));
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({n4})) << "best fit would say n1, spread n0";
  // ForEach: only up nodes that fit, least free GPUs first.
  const std::vector<std::pair<NodeId, std::int64_t>> expected = {{n1, 2}, {n4, 4}, {n0, 8}};
  EXPECT_EQ(seen.visited, expected);
}

TEST(CustomPlacement, ForEachStopsWhenTheVisitorReturnsFalse) {
  struct FirstOnly final : PlacementPolicy {
    std::string_view name() const override { return "first-only"; }
    std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes& c) const override {
      std::optional<NodeId> first;
      c.ForEach([&](NodeId node, const ResourceVector&) {
        ++*calls;
        first = node;
        return false;
      });
      return first;
    }
    int* calls;
  };
  int calls = 0;
  auto policy = std::make_shared<FirstOnly>();
  policy->calls = &calls;
  TestEngine e(policy);
  e.Add(GpuNode("a", 8));
  const NodeId b = e.Add(GpuNode("b", 2));
  const JobId j = e.Submit(GpuJob("j", 1));
  e.Tick();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(e.NodesOf(j), Nodes({b}));
}

TEST(CustomPlacement, PolicyIsAskedOncePerTaskWithTheGangShape) {
  Seen seen;
  TestEngine e(std::make_shared<HighestIdPlacement>(&seen));
  e.Add(GpuNode("a", 8));
  const JobId j = e.Submit(GpuJob("gang", 2, /*tasks=*/3));
  e.Tick();
  ASSERT_EQ(seen.tasks.size(), 3u);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(seen.tasks[t].job, j);
    EXPECT_EQ(seen.tasks[t].group, 0);
    EXPECT_EQ(seen.tasks[t].task, t);
    EXPECT_EQ(seen.tasks[t].gang_size, 3);
    EXPECT_EQ(seen.tasks[t].per_task, ResourceVector::Of(1000, kGiB, 2));
  }
  // Each task sees the GPUs the earlier ones took: 8, 6, 4 free.
  ASSERT_EQ(seen.visited.size(), 3u);
  EXPECT_EQ(seen.visited[0].second, 8);
  EXPECT_EQ(seen.visited[1].second, 6);
  EXPECT_EQ(seen.visited[2].second, 4);
}

TEST(CustomPlacement, CandidateKeyIsGpuForGpuTasksAndCpuForCpuOnlyTasks) {
  Seen seen;
  TestEngine e(std::make_shared<HighestIdPlacement>(&seen));
  e.Add(GpuNode("g", 8));
  e.Add(CpuNode("c", 16'000));
  e.Submit(GpuJob("gpu", 1));
  e.Submit(CpuJob("cpu", 1000));
  e.Tick();
  ASSERT_EQ(seen.keys.size(), 2u);
  EXPECT_EQ(seen.keys[0], kGpu);
  EXPECT_EQ(seen.keys[1], kCpu);
}

TEST(CustomPlacement, CpuOnlyCandidatesListGpuLessNodesFirst) {
  Seen seen;
  TestEngine e(std::make_shared<HighestIdPlacement>(&seen));
  const NodeId g = e.Add(GpuNode("g", 8, /*cpu_millis=*/4'000));
  const NodeId c = e.Add(CpuNode("c", 16'000));
  e.Submit(CpuJob("cpu", 1000));
  e.Tick();
  // The GPU-less tier comes first although the GPU node has less free CPU.
  const std::vector<std::pair<NodeId, std::int64_t>> expected = {{c, 16'000}, {g, 4'000}};
  EXPECT_EQ(seen.visited, expected);
}

TEST(CustomPlacement, ChoosingANodeThatDoesNotExistLeavesTheJobQueued) {
  TestEngine e(std::make_shared<FixedNodePlacement>(NodeId(999)));
  e.Add(GpuNode("a", 8));
  const JobId j = e.Submit(GpuJob("j", 1));
  EXPECT_TRUE(e.Tick().decisions.empty());
  EXPECT_EQ(e.engine().GetJob(j)->state, JobState::kQueued);
  EXPECT_EQ(e.engine().counters().starts, 0);
  auto why = e.engine().Explain(j);
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "\"always-fixed\""));
  EXPECT_TRUE(HasText(why->reason, "#999"));
  EXPECT_TRUE(HasText(why->reason, "not a candidate"));
}

TEST(CustomPlacement, ChoosingADrainingNodeLeavesTheJobQueuedUntilTheNodeIsUp) {
  auto policy = std::make_shared<FixedNodePlacement>(NodeId());
  TestEngine e(policy);
  e.Add(GpuNode("a", 8));
  const NodeId draining = e.Add(GpuNode("b", 8));
  policy->set(draining);
  ASSERT_TRUE(e.engine().SetNodeState(draining, NodeState::kDraining).ok());
  const JobId j = e.Submit(GpuJob("j", 1));
  EXPECT_TRUE(e.Tick().decisions.empty());
  EXPECT_EQ(e.engine().GetJob(j)->state, JobState::kQueued);
  auto why = e.engine().Explain(j);
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "placement policy \"always-fixed\""));
  EXPECT_TRUE(HasText(why->reason, "#" + std::to_string(draining.value())));

  ASSERT_TRUE(e.engine().SetNodeState(draining, NodeState::kUp).ok());
  e.Tick();
  EXPECT_EQ(e.NodesOf(j), Nodes({draining}));
}

TEST(CustomPlacement, ChoosingANodeWithoutRoomLeavesTheJobQueued) {
  auto policy = std::make_shared<FixedNodePlacement>(NodeId());
  TestEngine e(policy);
  e.Add(GpuNode("big", 8));
  const NodeId cpu = e.Add(CpuNode("cpu", 64'000));
  policy->set(cpu);
  const JobId j = e.Submit(GpuJob("j", 1));
  EXPECT_TRUE(e.Tick().decisions.empty());
  auto why = e.engine().Explain(j);
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "always-fixed"));
}

TEST(CustomPlacement, ReturningNothingLeavesTheJobWaitingForRoom) {
  TestEngine e(std::make_shared<NeverPlacement>());
  e.Add(GpuNode("a", 8));
  const JobId j = e.Submit(GpuJob("j", 1));
  EXPECT_TRUE(e.Tick().decisions.empty());
  auto why = e.engine().Explain(j);
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "waiting for room"));
  EXPECT_FALSE(HasText(why->reason, "\"never\""));
}

TEST(CustomPlacement, InvalidChoiceForOneGangTaskPlacesNoTaskOfTheGang) {
  // Task 0 is fine (node a); the policy then insists on a for task 1 too,
  // which no longer fits: nothing of the job may be placed.
  auto policy = std::make_shared<FixedNodePlacement>(NodeId());
  TestEngine e(policy);
  const NodeId a = e.Add(GpuNode("a", 1));
  e.Add(GpuNode("b", 8));
  policy->set(a);
  const JobId gang = e.Submit(GpuJob("gang", 1, /*tasks=*/2));
  EXPECT_TRUE(e.Tick().decisions.empty());
  EXPECT_EQ(e.engine().GetJob(gang)->state, JobState::kQueued);
  EXPECT_EQ(e.engine().GetNode(a)->free_gpus, GpuSet::FirstN(1)) << "the tentative task was rolled back";
  EXPECT_TRUE(e.engine().GetNode(a)->allocated.IsZero());
}

}  // namespace
}  // namespace mlsched
