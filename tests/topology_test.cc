// Topology-aware gangs and fragmentation counters, through the public Engine.
//
// Nodes carry a topology path "block/rack"; a gang with a topology constraint
// at level L wants all its tasks inside one domain at that level (level 0 =
// block, level 1 = rack; the rack's identity is its whole path, so "b0/r1" and
// "b1/r1" are different racks). The tests build clusters whose node sizes make
// plain per-node best fit spread a gang, so a test fails if the engine ignores
// the constraint.
//
// Every node carries a label host=<name> so that a "filler" job can be pinned
// to one node to make partial free capacity deterministically.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlsched/clock.h"
#include "mlsched/engine.h"
#include "rapidcheck/gtest.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGiB = std::int64_t{1} << 30;
constexpr std::int64_t kTaskCpu = 1000;
constexpr std::int64_t kTaskMemory = kGiB;

::testing::AssertionResult HasText(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

NodeSpec GpuNode(const std::string& name, int gpus, std::string topology, std::int64_t cpu_millis = 64'000) {
  NodeSpec n{.name = name,
             .capacity = ResourceVector::Of(cpu_millis, 512 * kGiB, 0),
             .labels = {{"host", name}},
             .topology = std::move(topology)};
  for (int i = 0; i < gpus; ++i) {
    n.gpus.push_back({.index = i, .uuid = "GPU-" + std::to_string(i), .model = "H100",
                      .memory_bytes = 80 * kGiB});
  }
  return n;
}

JobSpec Gang(std::string name, int tasks, int gpus, TopologyConstraint topology = {}) {
  return {.name = std::move(name), .tenant = "research", .user = "ana",
          .task_groups = {{.name = "workers", .count = tasks,
                           .per_task = ResourceVector::Of(kTaskCpu, kTaskMemory, gpus)}},
          .constraints = {.topology = topology}};
}

constexpr TopologyConstraint kPreferRack{.level = 1, .required = false};
constexpr TopologyConstraint kRequireRack{.level = 1, .required = true};
constexpr TopologyConstraint kRequireBlock{.level = 0, .required = true};

// Owns an engine with default policies and remembers each node's topology.
class TopoEngine {
 public:
  TopoEngine() : engine_(Engine::Create({.clock = &clock_}).value()) {}

  Engine& engine() { return *engine_; }

  NodeId Add(const std::string& name, int gpus, std::string topology, std::int64_t cpu_millis = 64'000) {
    topology_[name] = topology;
    auto id = engine_->AddNode(GpuNode(name, gpus, std::move(topology), cpu_millis));
    EXPECT_TRUE(id.ok()) << id.status();
    ids_[name] = id.value_or(NodeId());
    return id.value_or(NodeId());
  }
  NodeId Id(const std::string& name) const { return ids_.at(name); }

  JobId Submit(JobSpec spec) {
    clock_.Advance(kMillisecond);
    auto id = engine_->Submit(std::move(spec));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(JobId());
  }

  const SchedulingRound& Tick() {
    round_ = engine_->Tick();
    EXPECT_TRUE(engine_->error().ok()) << engine_->error();
    return round_;
  }

  bool Started(JobId job) const {
    return std::any_of(round_.decisions.begin(), round_.decisions.end(), [&](const Decision& d) {
      return d.kind == DecisionKind::kStart && d.job == job;
    });
  }
  // Names of the nodes of the job's tasks in the last round, sorted, one per task.
  std::vector<std::string> NodesOf(JobId job) const {
    std::vector<std::string> out;
    for (const Decision& d : round_.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != job) continue;
      for (const TaskPlacement& p : round_.PlacementsOf(d)) out.push_back(engine_->GetNode(p.node)->name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Task indices of the job's start decision in the last round, in order.
  std::vector<std::uint32_t> TasksOf(JobId job) const {
    std::vector<std::uint32_t> out;
    for (const Decision& d : round_.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != job) continue;
      for (const TaskPlacement& p : round_.PlacementsOf(d)) out.push_back(p.task);
    }
    return out;
  }
  // Topology paths of the nodes of one task group's tasks in the last round.
  std::set<std::string> PathsOfGroup(JobId job, int group) const {
    std::set<std::string> out;
    for (const Decision& d : round_.decisions) {
      if (d.kind != DecisionKind::kStart || d.job != job) continue;
      for (const TaskPlacement& p : round_.PlacementsOf(d))
        if (p.group == group) out.insert(topology_.at(engine_->GetNode(p.node)->name));
    }
    return out;
  }
  // Tasks per topology prefix at `level` ("" when the path has no such level).
  std::map<std::string, int> TasksByDomain(JobId job, int level) const {
    std::map<std::string, int> out;
    for (const std::string& node : NodesOf(job)) out[Prefix(topology_.at(node), level)]++;
    return out;
  }
  static std::string Prefix(const std::string& path, int level) {
    std::size_t end = 0;
    for (int l = 0; l <= level; ++l) {
      if (end > path.size() || (l > 0 && end == path.size())) return "";
      const std::size_t slash = path.find('/', end == 0 ? 0 : end + 1);
      end = slash == std::string::npos ? path.size() : slash;
    }
    return path.substr(0, end);
  }

  // Runs a one-task job of `gpus` GPUs pinned to `node`; returns it.
  JobId Occupy(const std::string& node, int gpus) {
    JobSpec spec = Gang("filler-" + node, 1, gpus);
    spec.constraints.node_labels = {{"host", node}};
    const JobId job = Submit(std::move(spec));
    Tick();
    EXPECT_EQ(NodesOf(job), std::vector<std::string>{node}) << "filler did not start on " << node;
    return job;
  }

  // Reports every task of the job's last attempt as exited successfully.
  void Finish(JobId job) {
    auto st = engine_->GetJob(job);
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_FALSE(st->attempts.empty());
    const AttemptInfo& att = st->attempts.back();
    for (std::size_t t = 0; t < att.tasks.size(); ++t) {
      const absl::Status s = engine_->TaskExited(
          {.job = job, .token = att.token, .task = static_cast<std::int32_t>(t), .exit_code = 0});
      EXPECT_TRUE(s.ok()) << s;
    }
  }

 private:
  ManualClock clock_{1'000 * kSecond};
  std::unique_ptr<Engine> engine_;
  SchedulingRound round_;
  std::map<std::string, std::string> topology_;
  std::map<std::string, NodeId> ids_;
};

TEST(TopoEnginePrefix, CutsThePathAtTheLevel) {
  EXPECT_EQ(TopoEngine::Prefix("b0/r1", 0), "b0");
  EXPECT_EQ(TopoEngine::Prefix("b0/r1", 1), "b0/r1");
  EXPECT_EQ(TopoEngine::Prefix("b0", 1), "");
  EXPECT_EQ(TopoEngine::Prefix("", 0), "");
}

// ------------------------------------------------------------ placement

TEST(TopologyPlacement, GangLandsInsideOneRackWhenOneHasRoom) {
  TopoEngine e;
  // Per-node best fit would take a1 (4 free) first and then spill into rack b.
  e.Add("a1", 4, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  e.Add("b2", 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 2, 4, kPreferRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.TasksByDomain(job, 1), (std::map<std::string, int>{{"blk/rack-b", 2}}));
}

TEST(TopologyPlacement, RequiredGangAlsoLandsInsideOneRack) {
  TopoEngine e;
  e.Add("a1", 4, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  e.Add("b2", 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 2, 4, kRequireRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.TasksByDomain(job, 1), (std::map<std::string, int>{{"blk/rack-b", 2}}));
}

TEST(TopologyPlacement, ChoosesTheTightestRackThatCanHostTheGang) {
  TopoEngine e;
  e.Add("a1", 4, "blk/rack-a");  // hosts 1 task of 4 GPUs: too small
  e.Add("b1", 8, "blk/rack-b");  // rack b hosts 4
  e.Add("b2", 8, "blk/rack-b");
  e.Add("c1", 4, "blk/rack-c");  // rack c hosts 3: the tightest that can
  e.Add("c2", 8, "blk/rack-c");
  const JobId job = e.Submit(Gang("gang", 2, 4, kPreferRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.NodesOf(job), (std::vector<std::string>{"c1", "c2"}));
}

// The engine keeps per-rack counts for a bounded number of gang shapes
// (16) and rebuilds those it forgot. Twenty shapes in turn, each twice in a
// row and back after the others (by then forgotten), while gangs start and
// finish: each gang starts in the tightest rack that can host it. (Counts
// brought up to date between gangs of one shape are checked by the
// property SuccessiveGangsOfAShapeEachStartInTheTightestRack.)
TEST(TopologyPlacement, ManyGangShapesEachStartInTheTightestRack) {
  TopoEngine e;
  std::map<std::string, std::string> rack_of;
  for (const auto& [name, rack] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "blk/rack-a"}, {"a2", "blk/rack-a"}, {"b1", "blk/rack-b"}, {"b2", "blk/rack-b"}, {"b3", "blk/rack-b"}}) {
    e.Add(name, 8, rack);
    rack_of[name] = rack;
  }
  auto free_gpus_by_rack = [&] {
    std::map<std::string, std::int64_t> free;
    for (const auto& [node, rack] : rack_of) free[rack] += e.engine().GetNode(e.Id(node))->free_gpus.size();
    return free;
  };
  std::deque<JobId> running;
  for (int round = 0; round < 60; ++round) {
    if (running.size() >= 12) {  // keep the cluster partly full, so that tightness moves
      e.Finish(running.front());
      running.pop_front();
    }
    const int shape = (round / 2) % 20;  // each twice in a row (counts kept), back after the others (rebuilt)
    JobSpec gang = Gang("gang-" + std::to_string(round), 2, 1, kPreferRack);
    gang.task_groups[0].per_task.Set(kCpu, kTaskCpu + 100 * shape);  // twenty shapes
    const auto free = free_gpus_by_rack();
    std::int64_t tightest = -1;
    for (const auto& [rack, f] : free)
      if (f >= 2 && (tightest < 0 || f < tightest)) tightest = f;
    ASSERT_GE(tightest, 2) << "round " << round;
    const JobId job = e.Submit(std::move(gang));
    e.Tick();
    ASSERT_TRUE(e.Started(job)) << "round " << round;
    const std::vector<std::string> nodes = e.NodesOf(job);
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(rack_of[nodes[0]], rack_of[nodes[1]]) << "round " << round;
    EXPECT_EQ(free.at(rack_of[nodes[0]]), tightest) << "round " << round << ": started in " << rack_of[nodes[0]];
    running.push_back(job);
  }
}

TEST(TopologyPlacement, WithoutAConstraintBestFitSpreadsTheSameGang) {
  // The control for the tests above: the clusters really do make plain best
  // fit span racks.
  TopoEngine e;
  e.Add("a1", 4, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  e.Add("b2", 8, "blk/rack-b");
  e.Add("c1", 4, "blk/rack-c");
  e.Add("c2", 8, "blk/rack-c");
  const JobId job = e.Submit(Gang("gang", 2, 4));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.NodesOf(job), (std::vector<std::string>{"a1", "c1"}));
}

TEST(TopologyPlacement, RequiredGangWaitsUntilOneRackHasRoom) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("a2", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  e.Add("b2", 8, "blk/rack-b");
  const JobId filler_a = e.Occupy("a1", 8);
  e.Occupy("b1", 8);
  // a2 and b2 are free: room for the gang, but in two racks.
  const JobId job = e.Submit(Gang("gang", 2, 8, kRequireRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  auto why = e.engine().Explain(job);
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "topology domain"));

  e.Finish(filler_a);
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.NodesOf(job), (std::vector<std::string>{"a1", "a2"}));
}

TEST(TopologyPlacement, RequiredGangDoesNotSpillIntoASecondRack) {
  TopoEngine e;
  for (int i = 0; i < 4; ++i) e.Add("a" + std::to_string(i), 8, "blk/rack-a");
  for (int i = 0; i < 2; ++i) e.Add("b" + std::to_string(i), 8, "blk/rack-b");
  e.Occupy("a0", 8);
  e.Occupy("a1", 8);
  // Four free nodes, two per rack; rack a could hold the gang once it empties.
  const JobId job = e.Submit(Gang("gang", 4, 8, kRequireRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  auto why = e.engine().Explain(job);
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_EQ(why->verdict, Explanation::Verdict::kWait);
  EXPECT_TRUE(HasText(why->reason, "topology domain"));
  EXPECT_TRUE(HasText(why->reason, "level 1"));
  EXPECT_EQ(e.engine().GetFragmentation().free_gpus, 32) << "the failed attempt left GPUs allocated";
}

TEST(TopologyPlacement, RequiredGangNoRackCouldEverHostIsInfeasible) {
  // Explanation::Verdict::kInfeasible: "cannot fit even on the empty cluster
  // as it is". No rack has 6 nodes, so this gang can never start.
  TopoEngine e;
  for (int i = 0; i < 4; ++i) e.Add("a" + std::to_string(i), 8, "blk/rack-a");
  for (int i = 0; i < 2; ++i) e.Add("b" + std::to_string(i), 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 6, 8, kRequireRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  auto why = e.engine().Explain(job);
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_EQ(why->verdict, Explanation::Verdict::kInfeasible) << why->reason;
}

TEST(TopologyPlacement, PreferredGangSpansAsFewRacksAsPossible) {
  TopoEngine e;
  // Rack a has room for 4 tasks of 8 GPUs on 12-GPU nodes; racks b and c for
  // 2 each on 8-GPU nodes, which per-node best fit would fill first.
  for (int i = 0; i < 4; ++i) e.Add("a" + std::to_string(i), 12, "blk/rack-a");
  for (int i = 0; i < 2; ++i) e.Add("b" + std::to_string(i), 8, "blk/rack-b");
  for (int i = 0; i < 2; ++i) e.Add("c" + std::to_string(i), 8, "blk/rack-c");
  const JobId job = e.Submit(Gang("gang", 6, 8, kPreferRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  const std::map<std::string, int> racks = e.TasksByDomain(job, 1);
  EXPECT_EQ(racks.size(), 2u);
  EXPECT_EQ(racks.count("blk/rack-a") ? racks.at("blk/rack-a") : 0, 4);
}

TEST(TopologyPlacement, PreferredGangWaitsWhenTheClusterHasNoRoomAtAll) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 3, 8, kPreferRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  // Nothing was left allocated by the failed attempt.
  EXPECT_EQ(e.engine().GetFragmentation().free_gpus, 16);
}

TEST(TopologyPlacement, PreferredGangWithNoRoomAnywhereIsNotBlamedOnTopology) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  e.Occupy("a1", 1);
  e.Occupy("b1", 1);
  const JobId job = e.Submit(Gang("gang", 2, 8, kPreferRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  const Explanation why = e.engine().Explain(job).value();
  EXPECT_EQ(why.verdict, Explanation::Verdict::kWait);
  EXPECT_EQ(why.reason.find("topology domain"), std::string::npos) << why.reason;
  EXPECT_NE(why.reason.find("waiting for room"), std::string::npos) << why.reason;
}

TEST(TopologyPlacement, SpanningGangGetsEachTaskIndexOnce) {
  TopoEngine e;
  for (int i = 0; i < 4; ++i) e.Add("a" + std::to_string(i), 12, "blk/rack-a");
  for (int i = 0; i < 2; ++i) e.Add("b" + std::to_string(i), 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 6, 8, kPreferRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  std::vector<std::uint32_t> tasks = e.TasksOf(job);
  std::sort(tasks.begin(), tasks.end());
  EXPECT_EQ(tasks, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(TopologyPlacement, EachTaskGroupOfAJobKeepsToItsOwnRack) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("a2", 8, "blk/rack-a");
  e.Add("b1", 12, "blk/rack-b");  // best fit would pair a1 or a2 with b1 or b2
  e.Add("b2", 12, "blk/rack-b");
  JobSpec spec = Gang("two-groups", 2, 8, kRequireRack);
  spec.task_groups.push_back({.name = "evaluators", .count = 2,
                              .per_task = ResourceVector::Of(kTaskCpu, kTaskMemory, 8)});
  const JobId job = e.Submit(std::move(spec));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  const std::set<std::string> workers = e.PathsOfGroup(job, 0);
  const std::set<std::string> evaluators = e.PathsOfGroup(job, 1);
  EXPECT_EQ(workers.size(), 1u);
  EXPECT_EQ(evaluators.size(), 1u);
  EXPECT_NE(workers, evaluators);
}

TEST(TopologyPlacement, CpuOnlyGangLandsInsideOneRack) {
  TopoEngine e;
  e.Add("a1", 0, "blk/rack-a", 32'000);  // tightest node: best fit would start here
  e.Add("b1", 0, "blk/rack-b", 48'000);
  e.Add("b2", 0, "blk/rack-b", 48'000);
  JobSpec spec = Gang("cpu-gang", 2, 0, kRequireRack);
  spec.task_groups[0].per_task = ResourceVector::Of(32'000, kTaskMemory, 0);
  const JobId job = e.Submit(std::move(spec));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.NodesOf(job), (std::vector<std::string>{"b1", "b2"}));
}

TEST(TopologyPlacement, AGangWithoutTheConstraintIsNotHeldBehindOneWaitingForARack) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  const JobId waiting = e.Submit(Gang("gang", 2, 8, kRequireRack));
  e.Tick();
  ASSERT_FALSE(e.Started(waiting));
  const JobId free = e.Submit(Gang("gang", 2, 8));
  e.Tick();
  EXPECT_TRUE(e.Started(free));
  EXPECT_FALSE(e.Started(waiting));
}

TEST(TopologyPlacement, APreferringGangIsNotHeldBehindARequiringOne) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  const JobId waiting = e.Submit(Gang("gang", 2, 8, kRequireRack));
  e.Tick();
  ASSERT_FALSE(e.Started(waiting));
  const JobId prefers = e.Submit(Gang("gang", 2, 8, kPreferRack));
  e.Tick();
  ASSERT_TRUE(e.Started(prefers));
  EXPECT_EQ(e.TasksByDomain(prefers, 1), (std::map<std::string, int>{{"blk/rack-a", 1}, {"blk/rack-b", 1}}));
}

// --------------------------------------------------------------- levels

TEST(TopologyLevels, ALevelDeeperThanEveryPathPutsAllNodesInOneDomain) {
  TopoEngine e;
  e.Add("a1", 8, "blk/rack-a");
  e.Add("b1", 8, "blk/rack-b");
  const JobId job = e.Submit(Gang("gang", 2, 8, {.level = 5, .required = true}));
  e.Tick();
  EXPECT_TRUE(e.Started(job));
}

TEST(TopologyLevels, BlockLevelKeepsTheGangInsideOneBlockAcrossRacks) {
  TopoEngine e;
  e.Add("a1", 8, "blk-a/r1");   // tightest node: best fit would start here
  e.Add("b1", 12, "blk-b/r1");
  e.Add("b2", 12, "blk-b/r2");
  const JobId job = e.Submit(Gang("gang", 2, 8, kRequireBlock));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  EXPECT_EQ(e.NodesOf(job), (std::vector<std::string>{"b1", "b2"}));
}

TEST(TopologyLevels, BlockLevelRequiredGangWaitsWhenNoBlockHasRoom) {
  TopoEngine e;
  e.Add("a1", 8, "blk-a/r1");
  e.Add("b1", 8, "blk-b/r1");
  const JobId job = e.Submit(Gang("gang", 2, 8, kRequireBlock));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
  auto why = e.engine().Explain(job);
  ASSERT_TRUE(why.ok()) << why.status();
  EXPECT_TRUE(HasText(why->reason, "topology domain"));
}

TEST(TopologyLevels, RacksWithTheSameNameInDifferentBlocksAreDifferentRacks) {
  TopoEngine e;
  e.Add("a1", 8, "blk-a/r1");
  e.Add("b1", 8, "blk-b/r1");
  const JobId job = e.Submit(Gang("gang", 2, 8, kRequireRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
}

TEST(TopologyLevels, NodesWithoutAPathAtTheLevelFormOneDomainOfTheirOwn) {
  TopoEngine e;
  e.Add("r1", 8, "blk/r1");  // racks host one task each
  e.Add("r2", 8, "blk/r2");
  e.Add("p1", 16, "");       // no path at all
  e.Add("p2", 16, "blk");    // a block but no rack
  const JobId job = e.Submit(Gang("gang", 3, 8, kRequireRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  const std::vector<std::string> nodes = e.NodesOf(job);
  const std::set<std::string> used(nodes.begin(), nodes.end());
  EXPECT_EQ(used, (std::set<std::string>{"p1", "p2"}));
}

TEST(TopologyLevels, NodesWithoutAPathAtTheLevelAreNotMixedWithRacks) {
  TopoEngine e;
  e.Add("r1", 8, "blk/r1");
  e.Add("p1", 8, "blk");
  const JobId job = e.Submit(Gang("gang", 2, 8, kRequireRack));
  e.Tick();
  EXPECT_FALSE(e.Started(job));
}

// ------------------------------------------------------------ constraint

TEST(TopologyConstraints, SingleTaskGroupsIgnoreIt) {
  TopoEngine e;
  // With the constraint applied, the tightest rack able to host one task
  // would be rack b (hosts 1); plain best fit takes an 8-free node of rack a.
  e.Add("a1", 8, "blk/rack-a");
  e.Add("a2", 8, "blk/rack-a");
  e.Add("b1", 12, "blk/rack-b");
  const JobId job = e.Submit(Gang("single", 1, 8, kRequireRack));
  e.Tick();
  ASSERT_TRUE(e.Started(job));
  const std::vector<std::string> nodes = e.NodesOf(job);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_NE(nodes[0], "b1");
}

TEST(TopologyConstraints, SingleTaskGroupsStartOnNodesWithoutATopologyPath) {
  TopoEngine e;
  e.Add("n1", 8, "");
  const JobId job = e.Submit(Gang("single", 1, 8, {.level = 15, .required = true}));
  e.Tick();
  EXPECT_TRUE(e.Started(job));
}

TEST(TopologyConstraints, ValidateRejectsLevelsOutsideMinusOneToFifteen) {
  for (int level : {-2, 16, -100, 1000}) {
    const absl::Status s = Gang("j", 2, 1, {.level = level}).Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "level " << level << ": " << s;
    EXPECT_TRUE(HasText(std::string(s.message()), "constraints.topology.level")) << "level " << level;
  }
  for (int level : {-1, 0, 1, 15}) {
    EXPECT_TRUE(Gang("j", 2, 1, {.level = level, .required = true}).Validate().ok()) << "level " << level;
  }
}

TEST(TopologyConstraints, SubmitRejectsAnOutOfRangeLevel) {
  TopoEngine e;
  auto id = e.engine().Submit(Gang("j", 2, 1, {.level = 16}));
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.engine().job_count(), 0);
}

// --------------------------------------------------------- fragmentation

std::string Describe(const Fragmentation& f) {
  return "{free=" + std::to_string(f.free_gpus) + " partial=" + std::to_string(f.free_gpus_on_partial_nodes) +
         " nodes8=" + std::to_string(f.largest_gang_in_8gpu_nodes) +
         " single=" + std::to_string(f.largest_gang_in_single_gpus) + "}";
}

::testing::AssertionResult FragIs(const Fragmentation& f, std::int64_t free, std::int64_t partial,
                                  std::int64_t nodes8) {
  if (f.free_gpus == free && f.free_gpus_on_partial_nodes == partial && f.largest_gang_in_8gpu_nodes == nodes8 &&
      f.largest_gang_in_single_gpus == free)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << Describe(f) << ", want {free=" << free
                                       << " partial=" << partial << " nodes8=" << nodes8 << " single=" << free
                                       << "}";
}

TEST(FragmentationCounters, CountsEveryFreeGpuOfAnIdleCluster) {
  TopoEngine e;
  e.Add("n1", 8, "");
  e.Add("n2", 8, "");
  e.Add("n3", 4, "");
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 20, 0, 2));
}

TEST(FragmentationCounters, UpdatesWhenTasksStartAndExit) {
  TopoEngine e;
  e.Add("n1", 8, "");
  e.Add("n2", 8, "");
  const JobId small = e.Occupy("n1", 2);
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 14, 6, 1));
  const JobId full = e.Occupy("n2", 8);
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 6, 6, 0));
  e.Finish(small);
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 8, 0, 1));
  e.Finish(full);
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 16, 0, 2));
}

TEST(FragmentationCounters, ExcludesDrainingAndDownNodes) {
  TopoEngine e;
  e.Add("n1", 8, "");
  e.Add("n2", 8, "");
  e.Occupy("n1", 2);
  ASSERT_TRUE(e.engine().SetNodeState(e.Id("n1"), NodeState::kDraining).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 8, 0, 1));
  ASSERT_TRUE(e.engine().SetNodeState(e.Id("n1"), NodeState::kUp).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 14, 6, 1));
  ASSERT_TRUE(e.engine().SetNodeState(e.Id("n2"), NodeState::kDown).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 6, 6, 0));
  // Down loses n1's task too once n1 goes down; back up, n1 is idle.
  ASSERT_TRUE(e.engine().SetNodeState(e.Id("n1"), NodeState::kDown).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 0, 0, 0));
  ASSERT_TRUE(e.engine().SetNodeState(e.Id("n1"), NodeState::kUp).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 8, 0, 1));
}

TEST(FragmentationCounters, ExcludesRemovedNodes) {
  TopoEngine e;
  e.Add("n1", 8, "");
  e.Add("n2", 4, "");
  ASSERT_TRUE(e.engine().RemoveNode(e.Id("n1")).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 4, 0, 0));
}

TEST(FragmentationCounters, ExcludesUnhealthyGpus) {
  TopoEngine e;
  e.Add("n1", 8, "");
  ASSERT_TRUE(e.engine().SetGpuHealth(e.Id("n1"), 3, false).ok());
  // 7 free, none in use: not a partial node, and no longer an 8-free node.
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 7, 0, 0));
  const JobId job = e.Occupy("n1", 2);
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 5, 5, 0));
  e.Finish(job);
  ASSERT_TRUE(e.engine().SetGpuHealth(e.Id("n1"), 3, true).ok());
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 8, 0, 1));
}

TEST(FragmentationCounters, AnUnhealthyGpuThatIsStillInUseKeepsTheNodePartial) {
  TopoEngine e;
  e.Add("n1", 8, "");
  const JobId job = e.Occupy("n1", 1);
  const GpuSet held = e.engine().GetJob(job)->attempts.back().tasks[0].placement.gpus;
  ASSERT_EQ(held.size(), 1);
  ASSERT_TRUE(e.engine().SetGpuHealth(e.Id("n1"), *held.begin(), false).ok());
  // The task keeps running on its GPU: the node has a GPU in use and 7 free.
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 7, 7, 0));
  e.Finish(job);
  // The unhealthy GPU is not returned to the free set.
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 7, 0, 0));
}

TEST(FragmentationCounters, CountsANodeWithSixteenFreeGpusOnceAmongEightFreeNodes) {
  TopoEngine e;
  e.Add("n1", 16, "");
  e.Add("n2", 7, "");
  EXPECT_TRUE(FragIs(e.engine().GetFragmentation(), 23, 0, 1));
}

// ------------------------------------------------------------ properties

// A random cluster of racks "b<i>/r<j>" (rack names repeat across blocks)
// whose free capacity comes from random 1..8-GPU jobs, some nodes drained.
struct RackScenario {
  TopoEngine e;
  std::vector<std::string> nodes;
  std::map<std::string, std::string> rack_of;  // node -> full rack path

  void Build() {
    const int blocks = *rc::gen::inRange(1, 3);
    int n = 0;
    for (int b = 0; b < blocks; ++b) {
      const int racks = *rc::gen::inRange(1, 4);
      for (int r = 0; r < racks; ++r) {
        const std::string rack = "b" + std::to_string(b) + "/r" + std::to_string(r);
        const int size = *rc::gen::inRange(1, 5);
        for (int i = 0; i < size; ++i) {
          const std::string name = "n" + std::to_string(n++);
          e.Add(name, *rc::gen::element(4, 8, 8, 16), rack);
          nodes.push_back(name);
          rack_of[name] = rack;
        }
      }
    }
    const int fillers = *rc::gen::inRange(0, 2 * n + 1);
    for (int f = 0; f < fillers; ++f) {
      const JobId job = e.Submit(Gang("filler", 1, *rc::gen::inRange(1, 9)));
      e.Tick();
      if (!e.Started(job)) RC_ASSERT(e.engine().Cancel(job).ok());
    }
    for (const std::string& node : nodes) {
      if (*rc::gen::inRange(0, 8) == 0) RC_ASSERT(e.engine().SetNodeState(e.Id(node), NodeState::kDraining).ok());
    }
  }

  // Tasks of `per_task` each rack could host now, from GetNode() alone.
  std::map<std::string, std::int64_t> HostsByRack(const ResourceVector& per_task) {
    std::map<std::string, std::int64_t> hosts;
    for (const std::string& node : nodes) {
      hosts[rack_of[node]] += 0;
      const NodeStatus st = e.engine().GetNode(e.Id(node)).value();
      if (st.state != NodeState::kUp) continue;
      ResourceVector free = st.capacity - st.allocated;
      free.Set(kGpu, st.free_gpus.size());
      hosts[rack_of[node]] += free.CopiesThatFit(per_task);
    }
    return hosts;
  }

  std::string Dump(const std::map<std::string, std::int64_t>& hosts) const {
    std::string out;
    for (const auto& [rack, h] : hosts) out += rack + ":" + std::to_string(h) + " ";
    return out;
  }

  // A start decision has one placement per task, task indices 0..count-1.
  void CheckShape(JobId job, int count) const {
    const std::vector<std::string> nodes = e.NodesOf(job);
    RC_ASSERT(static_cast<int>(nodes.size()) == count);
    std::set<std::uint32_t> tasks;
    for (std::uint32_t t : e.TasksOf(job)) tasks.insert(t);
    RC_ASSERT(static_cast<int>(tasks.size()) == count);
    RC_ASSERT(*tasks.rbegin() == static_cast<std::uint32_t>(count - 1));
  }

  // The fewest tasks any rack that can host all `count` could host (-1: none can).
  static std::int64_t Tightest(const std::map<std::string, std::int64_t>& hosts, int count) {
    std::int64_t tightest = -1;
    for (const auto& [rack, h] : hosts)
      if (h >= count && (tightest < 0 || h < tightest)) tightest = h;
    return tightest;
  }

  // The gang started, inside one rack with the fewest hosts that could hold it.
  void CheckStartedInATightestRack(JobId job, int count, const std::map<std::string, std::int64_t>& hosts,
                                   const std::string& context) const {
    if (!e.Started(job)) RC_FAIL("did not start; " + context);
    CheckShape(job, count);
    const auto used = RacksUsed(job);
    if (used.size() != 1) RC_FAIL("started across " + std::to_string(used.size()) + " racks; " + context);
    if (hosts.at(used.begin()->first) != Tightest(hosts, count))
      RC_FAIL("started in " + used.begin()->first + ", not a tightest rack; " + context);
  }

  std::map<std::string, int> RacksUsed(JobId job) const {
    std::map<std::string, int> out;
    for (const std::string& node : e.NodesOf(job)) out[rack_of.at(node)]++;
    return out;
  }
};

RC_GTEST_PROP(TopologyProperties, RequiredRackGangStartsInOneRackOrNoRackCouldHostIt, ()) {
  RackScenario s;
  s.Build();
  const int count = *rc::gen::inRange(2, 7);
  const int gpus = *rc::gen::element(1, 2, 4, 8);
  const auto hosts = s.HostsByRack(ResourceVector::Of(kTaskCpu, kTaskMemory, gpus));
  const JobId job = s.e.Submit(Gang("gang", count, gpus, kRequireRack));
  s.e.Tick();
  const std::string context = "gang " + std::to_string(count) + "x" + std::to_string(gpus) +
                              " GPUs; rack hosts before: " + s.Dump(hosts);
  RC_CLASSIFY(s.e.Started(job), "started");
  if (s.e.Started(job)) {
    s.CheckShape(job, count);
    const auto used = s.RacksUsed(job);
    if (used.size() != 1) RC_FAIL("started across " + std::to_string(used.size()) + " racks; " + context);
    RC_ASSERT(used.begin()->second == count);
  } else {
    for (const auto& [rack, h] : hosts) {
      if (h >= count) RC_FAIL("stayed queued although rack " + rack + " could host it; " + context);
    }
  }
}

RC_GTEST_PROP(TopologyProperties, RackGangStartsInTheTightestRackThatCanHostIt, (bool required)) {
  RackScenario s;
  s.Build();
  const int count = *rc::gen::inRange(2, 7);
  const int gpus = *rc::gen::element(1, 2, 4, 8);
  const auto hosts = s.HostsByRack(ResourceVector::Of(kTaskCpu, kTaskMemory, gpus));
  RC_PRE(RackScenario::Tightest(hosts, count) >= 0);
  const JobId job = s.e.Submit(Gang("gang", count, gpus, {.level = 1, .required = required}));
  s.e.Tick();
  s.CheckStartedInATightestRack(job, count, hosts,
                                "gang " + std::to_string(count) + "x" + std::to_string(gpus) +
                                    " GPUs; rack hosts before: " + s.Dump(hosts));
}

// Gangs of one shape arrive one after another while jobs start and finish
// and nodes drain and return: each still starts in a tightest rack that can
// host it. (The engine keeps per-rack counts per shape and brings them up
// to date from the nodes changed since the last gang of the shape.)
RC_GTEST_PROP(TopologyProperties, SuccessiveGangsOfAShapeEachStartInTheTightestRack, ()) {
  RackScenario s;
  s.Build();
  const int gpus = *rc::gen::element(1, 2, 4, 8);
  const ResourceVector per_task = ResourceVector::Of(kTaskCpu, kTaskMemory, gpus);
  std::vector<JobId> running;
  const int rounds = *rc::gen::inRange(2, 7);
  for (int round = 0; round < rounds; ++round) {
    // Change the cluster between gangs.
    const int changes = *rc::gen::inRange(0, 4);
    for (int k = 0; k < changes; ++k) {
      const int what = *rc::gen::inRange(0, 4);
      if (what == 0 && !running.empty()) {
        const auto i = static_cast<std::size_t>(*rc::gen::inRange<int>(0, static_cast<int>(running.size())));
        s.e.Finish(running[i]);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (what == 1) {
        const JobId filler = s.e.Submit(Gang("filler", 1, *rc::gen::inRange(1, 9)));
        s.e.Tick();
        if (s.e.Started(filler)) {
          running.push_back(filler);
        } else {
          RC_ASSERT(s.e.engine().Cancel(filler).ok());
        }
      } else {
        const std::string& node = *rc::gen::elementOf(s.nodes);
        const NodeState state = what == 2 ? NodeState::kDraining : NodeState::kUp;
        RC_ASSERT(s.e.engine().SetNodeState(s.e.Id(node), state).ok());
      }
    }
    const int count = *rc::gen::inRange(2, 7);
    const auto hosts = s.HostsByRack(per_task);
    if (RackScenario::Tightest(hosts, count) < 0) continue;
    const JobId job = s.e.Submit(Gang("gang", count, gpus, kPreferRack));
    s.e.Tick();
    s.CheckStartedInATightestRack(job, count, hosts,
                                  "round " + std::to_string(round) + ": gang " + std::to_string(count) + "x" +
                                      std::to_string(gpus) + " GPUs; rack hosts before: " + s.Dump(hosts));
    running.push_back(job);
  }
}

RC_GTEST_PROP(TopologyProperties, PreferredRackGangSpansTheFewestRacks, ()) {
  RackScenario s;
  s.Build();
  const int gpus = *rc::gen::element(1, 2, 4, 8);
  const auto hosts = s.HostsByRack(ResourceVector::Of(kTaskCpu, kTaskMemory, gpus));
  std::int64_t total = 0;
  for (const auto& [rack, h] : hosts) total += h;
  // Around the cluster's room, so that gangs often need several racks.
  const int count = *rc::gen::inRange(2, static_cast<int>(std::max<std::int64_t>(total, 2)) + 2);
  // Fewest racks: take the racks with the most room first.
  std::vector<std::int64_t> room;
  for (const auto& [rack, h] : hosts) room.push_back(h);
  std::sort(room.rbegin(), room.rend());
  std::int64_t covered = 0;
  std::size_t fewest = 0;
  while (fewest < room.size() && covered < count) covered += room[fewest++];
  const JobId job = s.e.Submit(Gang("gang", count, gpus, kPreferRack));
  s.e.Tick();
  const std::string context = "gang " + std::to_string(count) + "x" + std::to_string(gpus) +
                              " GPUs; rack hosts before: " + s.Dump(hosts);
  RC_CLASSIFY(covered < count, "no room");
  RC_CLASSIFY(covered >= count && fewest > 1, "needs several racks");
  if (covered < count) {
    if (s.e.Started(job)) RC_FAIL("started without room; " + context);
    return;
  }
  if (!s.e.Started(job)) RC_FAIL("did not start although the cluster has room; " + context);
  s.CheckShape(job, count);
  const auto used = s.RacksUsed(job);
  if (used.size() != fewest)
    RC_FAIL("used " + std::to_string(used.size()) + " racks, fewest is " + std::to_string(fewest) + "; " + context);
}

// Fragmentation recomputed from GetNode() over every node.
Fragmentation BruteForceFragmentation(Engine& engine, const std::vector<NodeId>& nodes) {
  Fragmentation f;
  for (NodeId id : nodes) {
    const NodeStatus st = engine.GetNode(id).value();
    // Free GPUs are healthy, exist, and are not allocated.
    RC_ASSERT((st.free_gpus & st.unhealthy_gpus).empty());
    RC_ASSERT(st.free_gpus.Minus(GpuSet::FirstN(static_cast<int>(st.capacity.gpus()))).empty());
    RC_ASSERT(st.free_gpus.size() <= st.capacity.gpus() - st.allocated.gpus());
    if (st.state != NodeState::kUp) continue;
    const std::int64_t free = st.free_gpus.size();
    f.free_gpus += free;
    if (st.allocated.gpus() > 0) f.free_gpus_on_partial_nodes += free;
    if (free >= 8) ++f.largest_gang_in_8gpu_nodes;
  }
  f.largest_gang_in_single_gpus = f.free_gpus;
  return f;
}

RC_GTEST_PROP(TopologyProperties, FragmentationCountersMatchABruteForceRecount, ()) {
  TopoEngine e;
  std::vector<NodeId> nodes;
  const int node_count = *rc::gen::inRange(1, 6);
  for (int i = 0; i < node_count; ++i)
    nodes.push_back(e.Add("n" + std::to_string(i), *rc::gen::element(1, 2, 4, 8, 8, 16), ""));
  std::vector<JobId> jobs;
  const int steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    std::string what;
    switch (*rc::gen::inRange(0, 5)) {
      case 0: {  // submit and schedule
        const int gpus = *rc::gen::inRange(1, 9);
        const int count = *rc::gen::inRange(1, 3);
        jobs.push_back(e.Submit(Gang("j", count, gpus)));
        e.Tick();
        what = "submit " + std::to_string(count) + "x" + std::to_string(gpus);
        break;
      }
      case 1: {  // a live task exits (successfully or not)
        std::vector<std::pair<JobId, std::int32_t>> live;
        std::vector<FencingToken> tokens;
        for (JobId j : jobs) {
          const JobStatus st = e.engine().GetJob(j).value();
          if (st.attempts.empty()) continue;
          const AttemptInfo& att = st.attempts.back();
          for (std::size_t t = 0; t < att.tasks.size(); ++t) {
            if (att.tasks[t].exited) continue;
            live.emplace_back(j, static_cast<std::int32_t>(t));
            tokens.push_back(att.token);
          }
        }
        if (live.empty()) continue;
        const std::size_t k = *rc::gen::inRange<std::size_t>(0, live.size());
        const std::int32_t code = *rc::gen::element(0, 0, 1);
        const absl::Status st = e.engine().TaskExited(
            {.job = live[k].first, .token = tokens[k], .task = live[k].second, .exit_code = code});
        RC_ASSERT(st.ok());
        what = "exit";
        break;
      }
      case 2: {
        const std::size_t n = *rc::gen::inRange<std::size_t>(0, nodes.size());
        const NodeState state = *rc::gen::element(NodeState::kUp, NodeState::kDraining, NodeState::kDown);
        RC_ASSERT(e.engine().SetNodeState(nodes[n], state).ok());
        what = "node " + std::to_string(n) + " -> " + std::string(NodeStateName(state));
        break;
      }
      case 3: {  // GPU health; the interesting cases are GPUs failing under running tasks
        const std::size_t n = *rc::gen::inRange<std::size_t>(0, nodes.size());
        const NodeStatus st = e.engine().GetNode(nodes[n]).value();
        const GpuSet busy = GpuSet::FirstN(static_cast<int>(st.capacity.gpus())).Minus(st.free_gpus);
        const bool healthy = *rc::gen::arbitrary<bool>();
        switch (busy.empty() ? 0 : *rc::gen::inRange(0, 3)) {
          case 0: {  // any GPU
            const int gpu = *rc::gen::inRange(0, static_cast<int>(st.capacity.gpus()));
            RC_ASSERT(e.engine().SetGpuHealth(nodes[n], gpu, healthy).ok());
            what = "gpu " + std::to_string(n) + "/" + std::to_string(gpu);
            break;
          }
          case 1: {  // one GPU that is in use or already unhealthy
            std::vector<int> candidates;
            for (int g : busy) candidates.push_back(g);
            const int gpu = *rc::gen::elementOf(candidates);
            RC_ASSERT(e.engine().SetGpuHealth(nodes[n], gpu, healthy).ok());
            what = "gpu " + std::to_string(n) + "/" + std::to_string(gpu);
            break;
          }
          default:  // every such GPU at once (a failed NVSwitch)
            for (int g : busy) RC_ASSERT(e.engine().SetGpuHealth(nodes[n], g, healthy).ok());
            what = "gpus " + std::to_string(n) + "/" + FormatGpuSet(busy);
            break;
        }
        what += healthy ? " healthy" : " unhealthy";
        break;
      }
      default:
        e.Tick();
        what = "tick";
        break;
    }
    const Fragmentation got = e.engine().GetFragmentation();
    const Fragmentation want = BruteForceFragmentation(e.engine(), nodes);
    if (got.free_gpus != want.free_gpus || got.free_gpus_on_partial_nodes != want.free_gpus_on_partial_nodes ||
        got.largest_gang_in_8gpu_nodes != want.largest_gang_in_8gpu_nodes ||
        got.largest_gang_in_single_gpus != want.largest_gang_in_single_gpus) {
      RC_FAIL("after step " + std::to_string(step) + " (" + what + "): engine " + Describe(got) +
              ", recount " + Describe(want));
    }
  }
}

}  // namespace
}  // namespace mlsched
