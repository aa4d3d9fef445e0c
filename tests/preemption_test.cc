// Preemption: priority and quota reclaim, checkpoint-then-kill, anti-thrash.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <random>
#include <set>

#include "mlsched/engine.h"
#include "test_support.h"

namespace mlsched {
namespace {

using testing_util::GpuNode;
using testing_util::kGi;
using testing_util::LiveAttempts;

JobSpec Job(std::string name, int gpus, PriorityClass cls, bool preemptible = true, std::string tenant = "t",
            int tasks = 1) {
  return JobSpec{.name = std::move(name), .tenant = std::move(tenant), .user = "u", .priority_class = cls,
                 .task_groups = {{.count = tasks, .per_task = ResourceVector::Of(1000, kGi, gpus)}},
                 .preemptible = preemptible};
}

PreemptionOptions Options() {
  return {.grace = 2 * kMinute, .min_runtime = 10 * kMinute, .max_victims_per_window = 8, .window = 10 * kMinute};
}

class PreemptionTest : public ::testing::Test {
 protected:
  void Make(PreemptionOptions o = Options()) {
    engine_ = Engine::Create({.clock = &clock_, .policies = {.preemption = o}}).value();
  }
  void SetUp() override { Make(); }
  JobId Submit(JobSpec s) { return engine_->Submit(std::move(s)).value(); }
  // Ticks and remembers start decisions.
  SchedulingRound Tick() {
    SchedulingRound r = engine_->Tick();
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart) starts_[d.job.value()] = {d.token, d.placement_count};
    return r;
  }
  std::vector<const Decision*> Of(const SchedulingRound& r, DecisionKind k) {
    std::vector<const Decision*> out;
    for (const Decision& d : r.decisions)
      if (d.kind == k) out.push_back(&d);
    return out;
  }
  bool Started(const SchedulingRound& r, JobId j) {
    for (const Decision* d : Of(r, DecisionKind::kStart))
      if (d->job == j) return true;
    return false;
  }
  void ExitAll(JobId j, int signal = 0) {
    auto [token, tasks] = starts_.at(j.value());
    for (std::uint32_t t = 0; t < tasks; ++t)
      ASSERT_TRUE(engine_->TaskExited({.job = j, .token = token, .task = static_cast<int>(t), .signal = signal}).ok());
  }
  JobState State(JobId j) { return engine_->GetJob(j).value().state; }

  ManualClock clock_{1000 * kHour};
  std::unique_ptr<Engine> engine_;
  std::map<std::uint32_t, std::pair<FencingToken, std::uint32_t>> starts_;
};

TEST_F(PreemptionTest, HigherClassJobCheckpointsThenKillsAndReplacesALowerOne) {
  engine_->AddNode(GpuNode("n0")).value();
  const JobId low = Submit(Job("low", 8, PriorityClass::kLow));
  ASSERT_TRUE(Started(Tick(), low));
  clock_.Advance(kHour);
  const JobId high = Submit(Job("high", 8, PriorityClass::kHigh, false));
  SchedulingRound r = Tick();
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, low);
  EXPECT_FALSE(Started(r, high));
  EXPECT_EQ(State(low), JobState::kStarting);  // still running while it checkpoints
  const Explanation e = engine_->Explain(high).value();
  EXPECT_EQ(e.expected_start, clock_.Now() + 2 * kMinute);
  EXPECT_NE(e.reason.find("preempting"), std::string::npos) << e.reason;
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now() + 2 * kMinute);
  clock_.Advance(2 * kMinute);
  r = Tick();
  ASSERT_EQ(Of(r, DecisionKind::kKill).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kKill)[0]->reason, KillReason::kPreempted);
  EXPECT_EQ(State(low), JobState::kQueued);  // requeued although max_attempts is 1
  ExitAll(low, 15);
  r = Tick();
  EXPECT_TRUE(Started(r, high));
  EXPECT_FALSE(Started(r, low));
  EXPECT_EQ(engine_->GetJob(low).value().attempts[0].outcome, AttemptEnd::kPreempted);
  EXPECT_EQ(engine_->counters().preemptions, 1);
  // The victim keeps its age: it is older than anything submitted now.
  ExitAll(high);
  const JobId newer = Submit(Job("newer", 8, PriorityClass::kLow));
  r = Tick();
  EXPECT_TRUE(Started(r, low));
  EXPECT_FALSE(Started(r, newer));
}

TEST_F(PreemptionTest, NeverEvictsAnEqualOrHigherClass) {
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(Tick(), Submit(Job("medium", 8, PriorityClass::kMedium))));
  clock_.Advance(kHour);
  Submit(Job("also-medium", 8, PriorityClass::kMedium));
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->counters().preemptions, 0);
}

TEST_F(PreemptionTest, NonPreemptibleJobsAreNotVictims) {
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(Tick(), Submit(Job("low", 8, PriorityClass::kLow, /*preemptible=*/false))));
  clock_.Advance(kHour);
  Submit(Job("high", 8, PriorityClass::kHigh));
  EXPECT_TRUE(Tick().decisions.empty());
}

// Free GPUs split between nodes, and nothing of a lower class preemptible:
// no eviction could add to them, so no victim search runs (it could only
// look for the room placement found short) and none waits to be retried,
// so the engine has no reason to wake. A preemptible job below changes that.
TEST_F(PreemptionTest, NoVictimSearchWhileNothingBelowIsPreemptible) {
  engine_->AddNode(GpuNode("n0", 4)).value();
  engine_->AddNode(GpuNode("n1", 4)).value();
  ASSERT_TRUE(Started(Tick(), Submit(Job("a", 3, PriorityClass::kLow, /*preemptible=*/false))));
  ASSERT_TRUE(Started(Tick(), Submit(Job("b", 3, PriorityClass::kLow, /*preemptible=*/false))));
  clock_.Advance(kHour);
  Submit(Job("high", 2, PriorityClass::kHigh));  // 2 GPUs free, one on each node
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->counters().victim_searches, 0);
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);

  ASSERT_TRUE(Started(Tick(), Submit(Job("low", 1, PriorityClass::kLow))));  // behind "high", which was blocked
  Submit(Job("nudge", 4, PriorityClass::kLow));  // any change triggers a pass
  Tick();
  EXPECT_EQ(engine_->counters().victim_searches, 1);  // fruitless (the low job is too young), so retried later
  EXPECT_LT(engine_->NextWakeup(), kInfiniteFuture);
}

TEST_F(PreemptionTest, VictimsMustHaveRunTheMinimumRuntime) {
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(Started(Tick(), Submit(Job("low", 8, PriorityClass::kLow))));
  clock_.Advance(5 * kMinute);
  Submit(Job("high", 8, PriorityClass::kHigh));
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->counters().victim_searches, 1);  // it looked, and found none old enough
  clock_.Advance(5 * kMinute);
  Submit(Job("nudge", 1, PriorityClass::kLow));  // any change triggers a pass
  EXPECT_EQ(Of(Tick(), DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(engine_->counters().victim_searches, 2);
}

// A node's bounds keep its earliest possible victim's start: a task started
// later on the node does not hide an older one from the search.
TEST_F(PreemptionTest, AYoungTaskDoesNotHideAnOldVictimOnItsNode) {
  engine_->AddNode(GpuNode("n0")).value();
  const JobId old_one = Submit(Job("old", 4, PriorityClass::kLow));
  ASSERT_TRUE(Started(Tick(), old_one));
  clock_.Advance(kHour);
  ASSERT_TRUE(Started(Tick(), Submit(Job("young", 4, PriorityClass::kLow))));
  clock_.Advance(kMinute);
  Submit(Job("high", 4, PriorityClass::kHigh));
  const SchedulingRound r = Tick();
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, old_one);
}

// A node's bounds count the fewest GPUs among its possible victims: a big
// victim beside a small one does not make the node look costlier than it is,
// whichever node is looked at first.
TEST_F(PreemptionTest, ABigVictimDoesNotHideACheapSmallOneOnItsNode) {
  for (const bool mixed_on_a100 : {true, false}) {
    SCOPED_TRACE(mixed_on_a100);
    Make();
    starts_.clear();
    engine_->AddNode(GpuNode("n0", 8, "A100")).value();
    engine_->AddNode(GpuNode("n1", 8, "H100")).value();
    auto on = [&](std::string name, int gpus, bool mixed_node) {
      JobSpec s = Job(std::move(name), gpus, PriorityClass::kLow);
      s.constraints.gpu_models = {mixed_node == mixed_on_a100 ? "A100" : "H100"};
      return Submit(s);
    };
    on("big", 7, true);
    const JobId small = on("small", 1, true);
    Tick();
    clock_.Advance(30 * kMinute);
    on("whole", 8, false);
    Tick();
    // Lost work: small 1 x 3 h, big 7 x 3 h, whole 8 x 2.5 h.
    clock_.Advance(150 * kMinute);
    Submit(Job("high", 1, PriorityClass::kHigh));
    const SchedulingRound r = Tick();
    ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
    EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, small);
  }
}

TEST_F(PreemptionTest, AClassThatStartedAJobHasItsNextHeadAskedWhetherItMaySearch) {
  // a1 and a2 share a class. In the pass after x exits, a1 starts and a2
  // becomes its class's head; the class was marked unable to search for a1
  // (backing off), which says nothing of a2. a2 comes before c1 in policy
  // order, so the pass's one search is a2's.
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  const JobId x = Submit(Job("x", 8, PriorityClass::kHigh, /*preemptible=*/false));
  const JobId l = Submit(Job("l", 8, PriorityClass::kLow));
  SchedulingRound r = Tick();
  ASSERT_TRUE(Started(r, x) && Started(r, l));
  clock_.Advance(9 * kMinute + 55 * kSecond);  // l is not yet a possible victim
  // Each of its own tenant (without fair share, tenants do not split classes).
  Submit(Job("a1", 4, PriorityClass::kHigh, false, "ta"));
  const JobId d = Submit(Job("d", 3, PriorityClass::kHigh, false, "td"));
  const JobId a2 = Submit(Job("a2", 4, PriorityClass::kHigh, false, "tb"));
  const JobId c1 = Submit(Job("c1", 2, PriorityClass::kHigh, false, "tc"));
  EXPECT_TRUE(Tick().decisions.empty());  // a1 searches in vain and backs off
  clock_.Advance(6 * kSecond);
  ExitAll(x);
  r = Tick();
  EXPECT_TRUE(Started(r, d));
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, l);
  EXPECT_NE(engine_->Explain(a2).value().reason.find("preempting"), std::string::npos)
      << engine_->Explain(a2).value().reason;
  EXPECT_EQ(engine_->Explain(c1).value().reason.find("preempting"), std::string::npos);
}

TEST_F(PreemptionTest, PrefersTheVictimThatLosesLeastWork) {
  engine_->AddNode(GpuNode("n0")).value();
  const JobId a = Submit(Job("a", 4, PriorityClass::kLow));
  const JobId b = Submit(Job("b", 4, PriorityClass::kLow));
  Tick();
  clock_.Advance(3 * kHour);
  // b checkpointed a minute ago; a never did.
  ASSERT_TRUE(engine_->CheckpointReported({.job = b, .token = starts_.at(b.value()).first, .step = 100}).ok());
  clock_.Advance(kMinute);
  Submit(Job("high", 4, PriorityClass::kHigh));
  const SchedulingRound r = Tick();
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, b);
  EXPECT_NEAR(engine_->counters().gpu_hours_lost_to_preemption, 4.0 / 60.0, 1e-9);
  (void)a;
}

// The same across nodes. The search passes over a node whose cheapest
// victim cannot beat the options found already, judging by the node's
// bounds (its possible victims' latest checkpoint) and by each task's copy
// of its attempt's last checkpoint: the victim that checkpointed last wins
// wherever it runs, whichever node is looked at first: the node's bounds
// must have heard of the checkpoint. With victims of 8 GPUs and of 1.
TEST_F(PreemptionTest, PrefersTheVictimThatLosesLeastWorkOnAnyNode) {
  for (const auto& [gpus, older_on_n0] : {std::pair{8, true}, {8, false}, {1, true}, {1, false}}) {
    SCOPED_TRACE(testing::Message() << gpus << " GPUs, older on n0: " << older_on_n0);
    Make();
    starts_.clear();
    engine_->AddNode(GpuNode("n0", gpus, "A100")).value();
    engine_->AddNode(GpuNode("n1", gpus, "H100")).value();
    auto whole_node = [&](std::string name, const char* model) {
      JobSpec s = Job(std::move(name), gpus, PriorityClass::kLow);
      s.constraints.gpu_models = {model};
      return Submit(s);
    };
    const JobId older = whole_node("older", older_on_n0 ? "A100" : "H100");
    Tick();
    clock_.Advance(kHour);
    const JobId younger = whole_node("younger", older_on_n0 ? "H100" : "A100");
    Tick();
    clock_.Advance(2 * kHour);
    // The older one checkpoints, so it has lost a minute of work when the
    // high job comes; the younger one two hours.
    ASSERT_TRUE(engine_->CheckpointReported({.job = older, .token = starts_.at(older.value()).first, .step = 1}).ok());
    clock_.Advance(kMinute);
    Submit(Job("high", gpus, PriorityClass::kHigh));
    const SchedulingRound r = Tick();
    ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
    EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, older);
    EXPECT_NEAR(engine_->counters().gpu_hours_lost_to_preemption, gpus / 60.0, 1e-9);
    (void)younger;
  }
}

TEST_F(PreemptionTest, PrefersFewerVictimsAtEqualCost) {
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  Submit(Job("big", 8, PriorityClass::kLow));
  Submit(Job("s1", 4, PriorityClass::kLow));
  Submit(Job("s2", 4, PriorityClass::kLow));
  Tick();
  clock_.Advance(kHour);
  Submit(Job("high", 8, PriorityClass::kHigh));
  const SchedulingRound r = Tick();
  // Losing 8 GPU-hours either way; one victim beats two.
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(engine_->GetSpec(Of(r, DecisionKind::kSignalCheckpoint)[0]->job)->name, "big");
}

TEST_F(PreemptionTest, NeverPreemptsWhenThePreemptorStillWouldNotFit) {
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  Submit(Job("victim", 8, PriorityClass::kLow));
  Submit(Job("keeper", 8, PriorityClass::kLow, /*preemptible=*/false));
  Tick();
  clock_.Advance(kHour);
  const JobId gang = Submit(Job("gang", 8, PriorityClass::kHigh, false, "t", /*tasks=*/2));
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->counters().preemptions, 0);
  EXPECT_EQ(State(gang), JobState::kQueued);
}

TEST_F(PreemptionTest, FreedRoomIsHeldForThePreemptor) {
  engine_->AddNode(GpuNode("n0")).value();
  const JobId low = Submit(Job("low", 8, PriorityClass::kLow));
  Tick();
  clock_.Advance(kHour);
  const JobId high = Submit(Job("high", 8, PriorityClass::kHigh, false));
  Tick();
  clock_.Advance(2 * kMinute);
  Tick();  // kill
  const JobId sneaky = Submit(Job("sneaky", 2, PriorityClass::kMedium));
  // The victim's tasks exit one GPU set at a time; nothing else may take them.
  ExitAll(low, 9);
  const SchedulingRound r = Tick();
  EXPECT_TRUE(Started(r, high));
  EXPECT_FALSE(Started(r, sneaky));
}

// A fruitless search wakes the engine when its backoff ends. If the job has
// left the queue, the tick after runs no pass, and must drop that wakeup
// (else, once it passed, a host would tick without end).
TEST_F(PreemptionTest, ABackoffWakeupForAJobNoLongerQueuedIsDropped) {
  // Enough evictable GPUs in all, but no node where they make room for it.
  for (const char* n : {"n0", "n1"}) {
    engine_->AddNode(GpuNode(n)).value();
    ASSERT_TRUE(Started(Tick(), Submit(Job(std::string(n) + "-kept", 4, PriorityClass::kLow, false))));
    ASSERT_TRUE(Started(Tick(), Submit(Job(std::string(n) + "-evictable", 4, PriorityClass::kLow))));
  }
  const JobId high = Submit(Job("high", 8, PriorityClass::kHigh, false));
  EXPECT_FALSE(Started(Tick(), high));  // a fruitless search: it backs off
  const Timestamp wakeup = engine_->NextWakeup();
  ASSERT_GT(wakeup, clock_.Now());
  ASSERT_LT(wakeup, kInfiniteFuture);
  ASSERT_TRUE(engine_->Cancel(high).ok());
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
  clock_.Set(wakeup);
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
}

// While its victims checkpoint, a nominee that found no room is not tried
// again until a node where it could fit frees up.
TEST_F(PreemptionTest, ANomineeIsNotTriedAgainWhileNothingFreesUp) {
  engine_->AddNode(GpuNode("n0")).value();
  const JobId low = Submit(Job("low", 8, PriorityClass::kLow));
  ASSERT_TRUE(Started(Tick(), low));
  clock_.Advance(kHour);
  const JobId high = Submit(Job("high", 8, PriorityClass::kHigh, false));
  ASSERT_EQ(Of(Tick(), DecisionKind::kSignalCheckpoint).size(), 1u);
  // Passes that change nothing for it (a job too large for any node arrives).
  Submit(Job("huge-0", 16, PriorityClass::kLow));
  Tick();  // the nominee tries and finds no room
  const std::int64_t tried = engine_->counters().placement_attempts;
  const std::int64_t passes = engine_->counters().passes;
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(kSecond);
    Submit(Job("huge-" + std::to_string(i), 16, PriorityClass::kLow));
    EXPECT_FALSE(Started(Tick(), high));
  }
  EXPECT_EQ(engine_->counters().passes, passes + 3);
  EXPECT_EQ(engine_->counters().placement_attempts, tried);
  // Its victim leaves: it starts.
  clock_.Advance(2 * kMinute);
  ASSERT_EQ(Of(Tick(), DecisionKind::kKill).size(), 1u);
  ExitAll(low, 15);
  EXPECT_TRUE(Started(Tick(), high));
}

TEST_F(PreemptionTest, RateLimitBoundsEvictionsPerTenant) {
  PreemptionOptions o = Options();
  o.max_victims_per_window = 1;
  Make(o);
  engine_->AddNode(GpuNode("n0")).value();
  engine_->AddNode(GpuNode("n1")).value();
  Submit(Job("l0", 8, PriorityClass::kLow, true, "other"));
  Submit(Job("l1", 8, PriorityClass::kLow, true, "other"));
  Tick();
  clock_.Advance(kHour);
  Submit(Job("h0", 8, PriorityClass::kHigh, false, "greedy"));
  // Another shape: jobs of one class preempt one at a time (the class head).
  const JobId h1 = Submit(Job("h1", 7, PriorityClass::kHigh, false, "greedy"));
  EXPECT_EQ(Of(Tick(), DecisionKind::kSignalCheckpoint).size(), 1u);
  clock_.Advance(kMinute);
  Submit(Job("nudge", 1, PriorityClass::kLow, true, "x"));
  EXPECT_TRUE(Of(Tick(), DecisionKind::kSignalCheckpoint).empty());
  clock_.Advance(10 * kMinute);
  Submit(Job("nudge2", 1, PriorityClass::kLow, true, "x"));
  EXPECT_EQ(Of(Tick(), DecisionKind::kSignalCheckpoint).size(), 1u) << engine_->Explain(h1).value().reason;
}

TEST_F(PreemptionTest, TenantWithinItsGuaranteeReclaimsBorrowedCapacity) {
  PreemptionOptions o = Options();
  o.priority = false;
  Make(o);
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(engine_
                  ->ConfigureTenants({{.name = "owner", .guarantee = ResourceVector::Of(0, 0, 8)},
                                      {.name = "borrower"}})
                  .ok());
  // Not preemptible, but it started on borrowed quota.
  const JobId borrowed = Submit(Job("borrowed", 8, PriorityClass::kHigh, false, "borrower"));
  ASSERT_TRUE(Started(Tick(), borrowed));
  clock_.Advance(kHour);
  const JobId mine = Submit(Job("mine", 8, PriorityClass::kLow, false, "owner"));
  SchedulingRound r = Tick();
  ASSERT_EQ(Of(r, DecisionKind::kSignalCheckpoint).size(), 1u);
  EXPECT_EQ(Of(r, DecisionKind::kSignalCheckpoint)[0]->job, borrowed);
  clock_.Advance(2 * kMinute);
  Tick();
  ExitAll(borrowed, 9);
  EXPECT_TRUE(Started(Tick(), mine));
  // Now the borrower is within its (zero) guarantee? No: it asks for more
  // than its guarantee, so it cannot reclaim back: no cycle.
  clock_.Advance(kHour);
  Submit(Job("nudge", 1, PriorityClass::kLow, false, "x"));
  EXPECT_TRUE(Of(Tick(), DecisionKind::kSignalCheckpoint).empty());
}

TEST_F(PreemptionTest, ReclaimDoesNotTakeFromATenantWithinItsGuarantee) {
  PreemptionOptions o = Options();
  o.priority = false;
  Make(o);
  engine_->AddNode(GpuNode("n0")).value();
  ASSERT_TRUE(engine_
                  ->ConfigureTenants({{.name = "a", .guarantee = ResourceVector::Of(0, 0, 8)},
                                      {.name = "b", .guarantee = ResourceVector::Of(0, 0, 8)}})
                  .ok());
  ASSERT_TRUE(Started(Tick(), Submit(Job("a-job", 8, PriorityClass::kLow, true, "a"))));
  clock_.Advance(kHour);
  Submit(Job("b-job", 8, PriorityClass::kHigh, true, "b"));
  EXPECT_TRUE(Tick().decisions.empty());
}

TEST(PreemptionOptionsTest, BadValuesAreRejected) {
  ManualClock clock;
  PreemptionOptions o;
  o.window = 0;
  absl::Status s = Engine::Create({.clock = &clock, .policies = {.preemption = o}}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("preemption.window = 0"), std::string::npos) << s;
  o = {};
  o.max_victims_per_window = 0;
  EXPECT_FALSE(Engine::Create({.clock = &clock, .policies = {.preemption = o}}).ok());
}

// Random workloads with priority preemption: victims are always preemptible
// and of a lower class than some waiting job; every workload drains (no
// loop, no starvation); each job is preempted at most once per higher-class
// job that exists.
RC_GTEST_PROP(PreemptionProperties, VictimsAreLowerClassAndWorkloadsDrain, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  std::mt19937_64 rng(seed);
  ManualClock clock(0);
  auto engine = Engine::Create({.clock = &clock, .seed = seed,
                                .policies = {.preemption = PreemptionOptions{.min_runtime = 0}}})
                    .value();
  const int nodes = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < nodes; ++i) RC_ASSERT(engine->AddNode(GpuNode("n" + std::to_string(i))).ok());
  LiveAttempts live;
  std::map<std::uint32_t, int> preempted;
  int higher_class_jobs = 0;
  static const int kGpus[] = {1, 2, 4, 8};
  const int jobs = 30;
  for (int i = 0; i < jobs; ++i) {
    const auto cls = static_cast<PriorityClass>(rng() % 3);
    higher_class_jobs += cls != PriorityClass::kLow;
    RC_ASSERT(engine->Submit(Job("j" + std::to_string(i), kGpus[rng() % 4], cls, rng() % 4 != 0)).ok());
  }
  for (int step = 0; step < 2000; ++step) {
    SchedulingRound r;
    RC_ASSERT(engine->Tick(&r).ok());
    int max_queued = -1;
    for (JobId j : engine->ListJobs({.state = JobState::kQueued}))
      max_queued = std::max(max_queued, static_cast<int>(engine->GetSpec(j)->priority_class));
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kSignalCheckpoint) continue;
      const JobSpec& v = *engine->GetSpec(d.job);
      RC_ASSERT(v.preemptible);
      RC_ASSERT(static_cast<int>(v.priority_class) < max_queued);
      RC_ASSERT(++preempted[d.job.value()] <= higher_class_jobs);
    }
    // Starts run 1-120 minutes; killed victims die at once.
    live.Apply(r, clock.Now(),
               [&](const Decision&) { return clock.Now() + static_cast<Duration>(1 + rng() % 120) * kMinute; });
    if (live.empty() && engine->NextWakeup() == kInfiniteFuture) break;
    const Timestamp next = live.NextEnd(engine->NextWakeup());
    if (next == kInfiniteFuture) break;
    clock.Set(next);
    live.ExitDue(*engine, clock.Now());
  }
  for (JobId j : engine->ListJobs({})) RC_ASSERT(engine->GetJob(j).value().state == JobState::kSucceeded);
}

}  // namespace
}  // namespace mlsched
