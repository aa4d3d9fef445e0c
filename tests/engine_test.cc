#include "mlsched/engine.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "internal/huge_page_allocator.h"
#include "mlsched/executor.h"
#include "mlsched/store.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

NodeSpec GpuNode(std::string name, int gpus, std::string model = "A100", int domains = 1,
                 std::map<std::string, std::string> labels = {}) {
  NodeSpec n{.name = std::move(name),
             .capacity = ResourceVector::Of(64'000, 512 * kGi, 0),
             .labels = std::move(labels)};
  for (int i = 0; i < gpus; ++i) {
    n.gpus.push_back({.index = i, .uuid = "GPU-" + std::to_string(i), .model = model,
                      .memory_bytes = 80 * kGi, .topology_domain = i * domains / std::max(gpus, 1)});
  }
  return n;
}

NodeSpec CpuNode(std::string name, std::int64_t cpu_millis = 32'000) {
  return NodeSpec{.name = std::move(name), .capacity = ResourceVector::Of(cpu_millis, 128 * kGi, 0)};
}

JobSpec Job(std::string name, int gpus, int tasks = 1, PriorityClass cls = PriorityClass::kMedium,
            std::string tenant = "research", std::string user = "ana") {
  return JobSpec{.name = std::move(name), .tenant = std::move(tenant), .user = std::move(user),
                 .priority_class = cls,
                 .task_groups = {{.name = "", .count = tasks,
                                  .per_task = ResourceVector::Of(4000, 16 * kGi, gpus)}}};
}

class EngineTest : public ::testing::Test {
 protected:
  void Make(PolicySet policies = {}, Store* store = nullptr) {
    engine_ = Engine::Create({.clock = &clock_, .store = store, .seed = 7, .policies = policies}).value();
  }
  void SetUp() override { Make(); }
  NodeId Add(NodeSpec spec) { return engine_->AddNode(std::move(spec)).value(); }
  JobId Submit(JobSpec spec) { return engine_->Submit(std::move(spec)).value(); }
  SchedulingRound Tick() {
    SchedulingRound round;
    EXPECT_TRUE(engine_->Tick(&round).ok());
    return round;
  }
  const Decision* StartOf(const SchedulingRound& r, JobId job) {
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart && d.job == job) return &d;
    return nullptr;
  }
  JobState State(JobId job) { return engine_->GetJob(job).value().state; }
  void StartAll(const SchedulingRound& r, const Decision& d) {
    for (const TaskPlacement& p : r.PlacementsOf(d))
      ASSERT_TRUE(engine_->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)}).ok());
  }
  void ExitAll(const SchedulingRound& r, const Decision& d, int code = 0) {
    for (const TaskPlacement& p : r.PlacementsOf(d))
      ASSERT_TRUE(engine_->TaskExited({.job = d.job, .token = d.token, .task = static_cast<int>(p.task),
                                       .exit_code = code}).ok());
  }

  ManualClock clock_{1'000 * kSecond};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, StartsJobWithConcreteNodeAndGpus) {
  const NodeId n = Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("ft", 2));
  const SchedulingRound r = Tick();
  ASSERT_EQ(r.decisions.size(), 1u);
  const Decision& d = r.decisions[0];
  EXPECT_EQ(d.kind, DecisionKind::kStart);
  EXPECT_EQ(d.job, j);
  EXPECT_EQ(d.token, (FencingToken{.epoch = 1, .attempt = 1}));
  ASSERT_EQ(r.PlacementsOf(d).size(), 1u);
  EXPECT_EQ(r.PlacementsOf(d)[0].node, n);
  EXPECT_EQ(r.PlacementsOf(d)[0].gpus.size(), 2);
  EXPECT_EQ(State(j), JobState::kStarting);
  StartAll(r, d);
  EXPECT_EQ(State(j), JobState::kRunning);
  ExitAll(r, d);
  EXPECT_EQ(State(j), JobState::kSucceeded);
  EXPECT_EQ(engine_->GetNode(n).value().free_gpus.size(), 8);
}

// A spec given by reference is copied into the job's record and left as it
// was; one moved in is the record's. Both are checked alike: a bad one is
// refused either way and changes nothing.
TEST_F(EngineTest, SubmitTakesTheSpecByReferenceOrMovedIn) {
  JobSpec given = Job("by-reference", 1);
  given.constraints.node_labels = {{"zone", "a"}};
  given.command.argv = {"/bin/true", "--flag"};
  const JobSpec before = given;
  const JobId a = engine_->Submit(given).value();
  EXPECT_EQ(given.name, before.name);
  EXPECT_EQ(given.command.argv, before.command.argv);
  EXPECT_EQ(given.constraints.node_labels, before.constraints.node_labels);
  ASSERT_NE(engine_->GetSpec(a), nullptr);
  EXPECT_NE(engine_->GetSpec(a), &given);
  EXPECT_EQ(engine_->GetSpec(a)->command.argv, before.command.argv);
  EXPECT_EQ(engine_->GetSpec(a)->constraints.node_labels, before.constraints.node_labels);

  JobSpec moved = Job("moved", 2);
  moved.command.argv = {"/bin/false"};
  const JobId b = engine_->Submit(std::move(moved)).value();
  EXPECT_EQ(engine_->GetSpec(b)->name, "moved");
  EXPECT_EQ(engine_->GetSpec(b)->command.argv, std::vector<std::string>{"/bin/false"});

  const JobSpec bad = Job("", 1);
  EXPECT_EQ(engine_->Submit(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Submit(Job("", 1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->job_count(), 2);
  EXPECT_EQ(engine_->GetQueueDepth().total, 2);
}

TEST_F(EngineTest, SubmitManyIsAllOrNothingAndCheckJobSubmitsNothing) {
  std::vector<JobSpec> bad = {Job("a", 1), Job("b", 1), Job("", 1)};
  const absl::Status s = engine_->SubmitMany(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("jobs[2]: "), std::string_view::npos) << s;
  EXPECT_EQ(engine_->job_count(), 0);
  EXPECT_TRUE(engine_->CheckJob(Job("a", 1)).ok());
  EXPECT_EQ(engine_->CheckJob(Job("", 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->job_count(), 0);  // checking submits nothing
  JobSpec keyed = Job("k", 1);
  keyed.idempotency_key = "once";
  const std::vector<JobId> ids = engine_->SubmitMany({Job("a", 1), keyed, Job("c", 2), keyed}).value();
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[3], ids[1]);  // a repeated key is the first job
  EXPECT_EQ(engine_->job_count(), 3);
  EXPECT_EQ(engine_->GetJob(ids[2]).value().name, "c");
  EXPECT_EQ(engine_->counters().duplicate_submits, 1);
}

TEST_F(EngineTest, ReserveJobsKeepsTheJobsThereAndAcceptsMore) {
  const JobId first = Submit(Job("first", 1));
  engine_->ReserveJobs(1000);
  engine_->ReserveJobs(0);  // less than held: a no-op
  EXPECT_EQ(engine_->job_count(), 1);
  EXPECT_EQ(engine_->GetJob(first).value().name, "first");
  for (int i = 0; i < 1000; ++i) Submit(Job("more", 1));
  EXPECT_EQ(engine_->job_count(), 1001);
  EXPECT_EQ(engine_->GetJob(first).value().name, "first");
}

// An engine's job table takes its chunks (2.5 MiB) on blocks that are kept
// for reuse when it goes; ReleaseCachedMemory() gives them back, once.
TEST_F(EngineTest, ReleaseCachedMemoryGivesBackWhatEnginesKept) {
  ReleaseCachedMemory();
  Submit(Job("first", 1));
  engine_.reset();
  const std::size_t released = ReleaseCachedMemory();
  if (internal::HugeBlocksMapped()) {
    EXPECT_GE(released, std::size_t{5} << 19);  // at least the job table's chunk
  } else {
    EXPECT_EQ(released, 0u);  // off Linux, or under AddressSanitizer: nothing is kept
  }
  EXPECT_EQ(ReleaseCachedMemory(), 0u);
}

TEST_F(EngineTest, JobsOfOneShapeShareAClassWhateverTheModelOrder) {
  // Classes are found by a hash of the shape: equal shapes (GPU models as a
  // set) share one, and each different shape gets its own.
  JobSpec a = Job("a", 1), b = Job("b", 1), c = Job("c", 2), d = Job("d", 1);
  a.constraints.gpu_models = {"H100", "A100"};
  b.constraints.gpu_models = {"A100", "H100", "A100"};
  c.constraints.gpu_models = {"A100", "H100"};
  d.constraints.gpu_models = {"A100"};
  Add(GpuNode("g0", 8));
  for (const JobSpec* s : {&a, &b, &c, &d}) Submit(*s);
  EXPECT_EQ(engine_->counters().job_classes, 3);
}

TEST_F(EngineTest, BestFitPicksTheNodeWithFewestFreeGpusThatFits) {
  Add(GpuNode("g0", 8));
  const NodeId small = Add(GpuNode("g1", 4));
  Add(GpuNode("g2", 8));
  const JobId j = Submit(Job("a", 3));
  const SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, j))[0].node, small);
}

TEST_F(EngineTest, SpreadPicksTheNodeWithMostFreeGpus) {
  Make(MakePolicySet("priority", "spread").value());
  Add(GpuNode("g0", 4));
  const NodeId big = Add(GpuNode("g1", 8));
  const JobId j = Submit(Job("a", 1));
  const SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, j))[0].node, big);
}

TEST_F(EngineTest, GangIsPlacedAllOrNothing) {
  Add(GpuNode("g0", 8));
  Add(GpuNode("g1", 8));
  const JobId gang = Submit(Job("gang", 8, /*tasks=*/3));
  SchedulingRound r = Tick();
  EXPECT_TRUE(r.decisions.empty());
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 0);
  EXPECT_EQ(State(gang), JobState::kQueued);
  Add(GpuNode("g2", 8));
  r = Tick();
  const Decision* d = StartOf(r, gang);
  ASSERT_NE(d, nullptr);
  std::set<NodeId> nodes;
  for (const TaskPlacement& p : r.PlacementsOf(*d)) nodes.insert(p.node);
  EXPECT_EQ(nodes.size(), 3u);
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 24);
}

TEST_F(EngineTest, GangLargerThanTheFreeGpusCanHostWaitsAndSaysWhichTaskFails) {
  // Three nodes: 8 free GPUs, 8 free, and 4 free (4 taken). A gang of four
  // 4-GPU tasks fits in 8 + 8 + 4 = 5 hosts; a gang of three 8-GPU tasks cannot:
  // at most two hosts, so task 2 finds no room.
  Add(GpuNode("g0", 8));
  Add(GpuNode("g1", 8));
  Add(GpuNode("g2", 8));
  const JobId blocker = Submit(Job("blocker", 4));
  ASSERT_NE(StartOf(Tick(), blocker), nullptr);
  const JobId big = Submit(Job("big", 8, /*tasks=*/3));
  const JobId fits = Submit(Job("fits", 4, /*tasks=*/5));
  const SchedulingRound r = Tick();
  EXPECT_EQ(StartOf(r, big), nullptr);
  EXPECT_NE(StartOf(r, fits), nullptr);
  const Explanation e = engine_->Explain(big).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kWait);
  EXPECT_NE(e.reason.find("task 2 found no room"), std::string::npos) << e.reason;
}

TEST_F(EngineTest, MultiGpuTaskStaysInsideOneNvlinkDomain) {
  // 8 GPUs in two domains {0-3} {4-7}; occupy GPU 0 so domain 0 has 3 free.
  Add(GpuNode("g0", 8, "A100", /*domains=*/2));
  const JobId one = Submit(Job("one", 1));
  SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, one), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, one))[0].gpus, GpuSet::FromMask(0b1));
  const JobId four = Submit(Job("four", 4));
  r = Tick();
  ASSERT_NE(StartOf(r, four), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, four))[0].gpus, GpuSet::FromMask(0xF0));
}

TEST_F(EngineTest, HigherPriorityClassStartsFirst) {
  Add(GpuNode("g0", 8));
  const JobId low = Submit(Job("low", 8, 1, PriorityClass::kLow));
  const JobId high = Submit(Job("high", 8, 1, PriorityClass::kHigh));
  const SchedulingRound r = Tick();
  EXPECT_NE(StartOf(r, high), nullptr);
  EXPECT_EQ(StartOf(r, low), nullptr);
}

TEST_F(EngineTest, AgingLetsALongWaitingJobOvertake) {
  PriorityOrderingOptions o;
  o.aging = {.points_per_hour = 1'000'000, .cap = 2'000'000};
  Make({.ordering = NewPriorityOrdering(o)});
  const NodeId n = Add(GpuNode("g0", 8));
  const JobId blocker = Submit(Job("blocker", 8));
  SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, blocker), nullptr);
  const JobId low = Submit(Job("low", 8, 1, PriorityClass::kLow));
  clock_.Advance(90 * kMinute);  // low gains 1.5M points: above medium's 1M base
  const JobId medium = Submit(Job("medium", 8, 1, PriorityClass::kMedium));
  EXPECT_GT(engine_->GetJob(low).value().effective_priority,
            engine_->GetJob(medium).value().effective_priority);
  ExitAll(r, *StartOf(r, blocker));
  r = Tick();
  EXPECT_NE(StartOf(r, low), nullptr);
  EXPECT_EQ(StartOf(r, medium), nullptr);
  (void)n;
}

TEST_F(EngineTest, LowerPriorityJobThatFitsIsNotBlockedByOneThatDoesNot) {
  Add(GpuNode("g0", 4));
  const JobId big = Submit(Job("big", 8, 1, PriorityClass::kHigh));
  const JobId small = Submit(Job("small", 2, 1, PriorityClass::kLow));
  const SchedulingRound r = Tick();
  EXPECT_EQ(StartOf(r, big), nullptr);
  EXPECT_NE(StartOf(r, small), nullptr);
}

TEST_F(EngineTest, CancelQueuedJobRemovesItFromTheQueue) {
  const JobId j = Submit(Job("a", 1));
  ASSERT_TRUE(engine_->Cancel(j).ok());
  EXPECT_EQ(State(j), JobState::kCancelled);
  EXPECT_EQ(engine_->GetQueueDepth().total, 0);
  Add(GpuNode("g0", 8));
  EXPECT_TRUE(Tick().decisions.empty());
}

TEST_F(EngineTest, CancelRunningJobKillsItAndHoldsGpusUntilExit) {
  const NodeId n = Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 8));
  SchedulingRound r = Tick();
  const Decision start = *StartOf(r, j);
  StartAll(r, start);
  ASSERT_TRUE(engine_->Cancel(j).ok());
  EXPECT_EQ(State(j), JobState::kCancelled);
  const JobId next = Submit(Job("next", 8));
  SchedulingRound kill = Tick();
  ASSERT_EQ(kill.decisions.size(), 1u);
  EXPECT_EQ(kill.decisions[0].kind, DecisionKind::kKill);
  EXPECT_EQ(kill.decisions[0].reason, KillReason::kCancelled);
  EXPECT_EQ(kill.decisions[0].token, start.token);
  EXPECT_EQ(engine_->GetNode(n).value().free_gpus.size(), 0);  // still held
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = start.token, .task = 0, .signal = 15}).ok());
  EXPECT_EQ(State(j), JobState::kCancelled);
  r = Tick();
  EXPECT_NE(StartOf(r, next), nullptr);
}

TEST_F(EngineTest, CancellingAFinishedJobIsAnErrorAndChangesNothing) {
  Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 1));
  const SchedulingRound r = Tick();
  ExitAll(r, *StartOf(r, j));
  ASSERT_EQ(State(j), JobState::kSucceeded);
  const absl::Status s = engine_->Cancel(j);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("already Succeeded"), std::string::npos) << s;
  EXPECT_EQ(State(j), JobState::kSucceeded);
}

TEST_F(EngineTest, FailedTaskTearsDownTheGangAndRetriesWhenAttemptsRemain) {
  Add(GpuNode("g0", 8));
  Add(GpuNode("g1", 8));
  JobSpec spec = Job("gang", 8, 2);
  spec.retry = {.max_attempts = 2, .backoff_base = 0, .transient_exit_codes = {3}};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision first = *StartOf(r, j);
  StartAll(r, first);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = first.token, .task = 0, .exit_code = 3}).ok());
  EXPECT_EQ(State(j), JobState::kQueued);  // Failed, then requeued
  r = Tick();
  // The surviving task is killed; the retry cannot start until it has exited.
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].kind, DecisionKind::kKill);
  EXPECT_EQ(r.decisions[0].reason, KillReason::kGangFailed);
  ASSERT_EQ(r.PlacementsOf(r.decisions[0]).size(), 1u);
  EXPECT_EQ(r.PlacementsOf(r.decisions[0])[0].task, 1u);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = first.token, .task = 1, .signal = 9}).ok());
  r = Tick();
  const Decision* second = StartOf(r, j);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->token.attempt, 2u);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = second->token, .task = 0, .exit_code = 1}).ok());
  EXPECT_EQ(State(j), JobState::kDeadLettered);
  const JobStatus status = engine_->GetJob(j).value();
  ASSERT_EQ(status.attempts.size(), 2u);
  EXPECT_EQ(status.attempts[0].outcome, AttemptEnd::kFailed);
  EXPECT_EQ(status.attempts[1].outcome, AttemptEnd::kFailed);
  EXPECT_EQ(status.attempts[0].tasks[0].exit_code, 3);
}

TEST_F(EngineTest, NodeDownLosesItsAttemptsAndRequeuesThem) {
  const NodeId a = Add(GpuNode("g0", 8));
  const NodeId b = Add(GpuNode("g1", 8));
  JobSpec spec = Job("gang", 8, 2);
  spec.retry = {.max_attempts = 3, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision first = *StartOf(r, j);
  StartAll(r, first);
  ASSERT_TRUE(engine_->SetNodeState(a, NodeState::kDown).ok());
  EXPECT_EQ(State(j), JobState::kQueued);
  EXPECT_EQ(engine_->GetUtilization().total.gpus(), 8);
  r = Tick();
  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].kind, DecisionKind::kKill);
  EXPECT_EQ(r.decisions[0].reason, KillReason::kNodeLost);
  ASSERT_EQ(r.PlacementsOf(r.decisions[0]).size(), 1u);
  const TaskPlacement survivor = r.PlacementsOf(r.decisions[0])[0];
  EXPECT_EQ(survivor.node, b);
  EXPECT_EQ(engine_->GetJob(j).value().attempts[0].outcome, AttemptEnd::kLost);
  // The node comes back; once the killed task exits the gang restarts.
  ASSERT_TRUE(engine_->SetNodeState(a, NodeState::kUp).ok());
  EXPECT_TRUE(Tick().decisions.empty());
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = first.token, .task = static_cast<int>(survivor.task),
                                   .signal = 9}).ok());
  r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr) << engine_->Explain(j).value().reason << " state "
                                    << JobStateName(State(j));
  EXPECT_EQ(StartOf(r, j)->token.attempt, 2u);
}

TEST_F(EngineTest, DrainingNodeReceivesNoNewTasks) {
  const NodeId a = Add(GpuNode("g0", 8));
  ASSERT_TRUE(engine_->SetNodeState(a, NodeState::kDraining).ok());
  const JobId j = Submit(Job("a", 1));
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->Explain(j).value().verdict, Explanation::Verdict::kInfeasible);
  ASSERT_TRUE(engine_->SetNodeState(a, NodeState::kUp).ok());
  EXPECT_NE(StartOf(Tick(), j), nullptr);
}

TEST_F(EngineTest, UnhealthyGpuIsNotPlacedOn) {
  const NodeId a = Add(GpuNode("g0", 2));
  ASSERT_TRUE(engine_->SetGpuHealth(a, 0, false).ok());
  const JobId j = Submit(Job("a", 1));
  const SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, j))[0].gpus, GpuSet::FromMask(0b10));
  const JobId k = Submit(Job("b", 1));
  EXPECT_EQ(StartOf(Tick(), k), nullptr);
  ASSERT_TRUE(engine_->SetGpuHealth(a, 0, true).ok());
  EXPECT_NE(StartOf(Tick(), k), nullptr);
  EXPECT_EQ(engine_->SetGpuHealth(a, 5, false).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, StaleTokenReportsAreRefusedAndCounted) {
  Add(GpuNode("g0", 8));
  JobSpec spec = Job("a", 1);
  spec.retry = {.max_attempts = 2, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision first = *StartOf(r, j);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = first.token, .task = 0, .signal = 9}).ok());
  r = Tick();
  const Decision second = *StartOf(r, j);
  // A late report from attempt 1 must not touch attempt 2.
  absl::Status s = engine_->TaskExited({.job = j, .token = first.token, .task = 0, .exit_code = 0});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("token e1/a1"), std::string::npos) << s;
  s = engine_->TaskStarted({.job = j, .token = {.epoch = 0, .attempt = 2}, .task = 0});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  s = engine_->TaskStarted({.job = j, .token = {.epoch = 1, .attempt = 9}, .task = 0});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->counters().stale_reports, 3);
  EXPECT_EQ(State(j), JobState::kStarting);
  // Duplicate exit of the live attempt is applied once.
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = second.token, .task = 0}).ok());
  EXPECT_EQ(State(j), JobState::kSucceeded);
  s = engine_->TaskExited({.job = j, .token = second.token, .task = 0});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(State(j), JobState::kSucceeded);
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 0);
}

TEST_F(EngineTest, ReportForATaskIndexOutOfRangeIsInvalid) {
  Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 1));
  const SchedulingRound r = Tick();
  const Decision d = *StartOf(r, j);
  EXPECT_EQ(engine_->TaskStarted({.job = j, .token = d.token, .task = 1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(State(j), JobState::kStarting);
}

TEST_F(EngineTest, RepeatedIdempotencyKeyReturnsTheFirstJob) {
  JobSpec spec = Job("a", 1);
  spec.idempotency_key = "req-42";
  const JobId first = Submit(spec);
  spec.name = "other";
  const JobId again = Submit(spec);
  EXPECT_EQ(first, again);
  EXPECT_EQ(engine_->job_count(), 1);
  EXPECT_EQ(engine_->counters().duplicate_submits, 1);
}

TEST_F(EngineTest, GangLargerThanTheClusterIsInfeasibleWithAReason) {
  Add(GpuNode("g0", 8));
  Add(GpuNode("g1", 8));
  const JobId j = Submit(Job("huge", 8, 4));
  EXPECT_TRUE(Tick().decisions.empty());
  const Explanation e = engine_->Explain(j).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kInfeasible);
  EXPECT_NE(e.reason.find("needs 4 tasks"), std::string::npos) << e.reason;
  EXPECT_NE(e.reason.find("at most 2"), std::string::npos) << e.reason;
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);  // no busy loop
  Add(GpuNode("g2", 8));
  Add(GpuNode("g3", 8));
  EXPECT_NE(StartOf(Tick(), j), nullptr);
}

TEST_F(EngineTest, ExplainSaysWhyAFeasibleJobWaits) {
  Add(GpuNode("g0", 8));
  const JobId blocker = Submit(Job("blocker", 6));
  Tick();
  const JobId j = Submit(Job("waits", 4));
  EXPECT_EQ(engine_->Explain(j).value().verdict, Explanation::Verdict::kPending);
  Tick();
  const Explanation e = engine_->Explain(j).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kWait);
  EXPECT_NE(e.reason.find("most free GPUs on an eligible up node is 2"), std::string::npos) << e.reason;
  EXPECT_EQ(engine_->Explain(blocker).value().verdict, Explanation::Verdict::kNotPending);
}

TEST_F(EngineTest, ConstraintsRestrictGpuModelAndLabels) {
  Add(GpuNode("a100", 8, "A100"));
  const NodeId h = Add(GpuNode("h100", 8, "H100", 1, {{"zone", "eu"}}));
  JobSpec spec = Job("needs-h100", 8);
  spec.constraints.gpu_models = {"H100"};
  spec.constraints.node_labels = {{"zone", "eu"}};
  const JobId j = Submit(spec);
  JobSpec other = Job("needs-us", 1);
  other.constraints.node_labels = {{"zone", "us"}};
  const JobId k = Submit(other);
  const SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, j))[0].node, h);
  EXPECT_EQ(StartOf(r, k), nullptr);
  const Explanation e = engine_->Explain(k).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kInfeasible);
  EXPECT_NE(e.reason.find("zone=us"), std::string::npos) << e.reason;
}

TEST_F(EngineTest, CpuOnlyJobsPreferNodesWithoutGpus) {
  Add(GpuNode("g0", 8));
  const NodeId cpu = Add(CpuNode("c0"));
  JobSpec spec = Job("etl", 0);
  const JobId j = Submit(spec);
  const SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(r.PlacementsOf(*StartOf(r, j))[0].node, cpu);
  EXPECT_TRUE(r.PlacementsOf(*StartOf(r, j))[0].gpus.empty());
}

TEST_F(EngineTest, BadInputIsRefusedAndChangesNothing) {
  const NodeId n = Add(GpuNode("g0", 8));
  EXPECT_EQ(engine_->AddNode(GpuNode("g0", 8)).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(engine_->node_count(), 1);
  EXPECT_EQ(engine_->SetNodeState(NodeId(5), NodeState::kDown).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->Heartbeat(NodeId(5)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->Cancel(JobId(3)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->TaskExited({.job = JobId(3)}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->GetJob(JobId()).status().code(), absl::StatusCode::kNotFound);

  JobSpec negative = Job("neg", 1);
  negative.task_groups[0].per_task.Set(kGpu, -2);
  absl::Status s = engine_->Submit(negative).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "job \"neg\": task_groups[0].per_task.gpu = -2: must be >= 0");

  JobSpec unknown_kind = Job("ext", 1);
  unknown_kind.task_groups[0].per_task.Set(ResourceKind(5), 1);
  s = engine_->Submit(unknown_kind).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown resource kind"), std::string::npos) << s;

  JobSpec empty = Job("zero", 0);
  empty.task_groups[0].per_task = {};
  EXPECT_EQ(engine_->Submit(empty).status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(engine_->job_count(), 0);
  EXPECT_EQ(engine_->GetQueueDepth().total, 0);
  EXPECT_EQ(engine_->GetNode(n).value().free_gpus.size(), 8);
}

TEST_F(EngineTest, ExtendedResourcesAreScheduled) {
  engine_ = Engine::Create({.clock = &clock_, .extended_resources = {"rdma"}}).value();
  const ResourceKind rdma = *engine_->catalog().Find("rdma");
  NodeSpec node = GpuNode("g0", 8);
  node.capacity.Set(rdma, 1);
  Add(node);
  JobSpec a = Job("a", 1);
  a.task_groups[0].per_task.Set(rdma, 1);
  JobSpec b = a;
  b.name = "b";
  const JobId ja = Submit(a);
  const JobId jb = Submit(b);
  const SchedulingRound r = Tick();
  EXPECT_NE(StartOf(r, ja), nullptr);
  EXPECT_EQ(StartOf(r, jb), nullptr);
}

TEST_F(EngineTest, QueriesByTenantUserStateAndUtilization) {
  Add(GpuNode("g0", 8, "A100"));
  Add(GpuNode("h0", 4, "H100"));
  const JobId a = Submit(Job("a", 8, 1, PriorityClass::kHigh, "vision", "bo"));
  const JobId b = Submit(Job("b", 8, 1, PriorityClass::kLow, "nlp", "cy"));
  const JobId c = Submit(Job("c", 4, 1, PriorityClass::kLow, "nlp", "bo"));
  Tick();
  EXPECT_EQ(engine_->ListJobs({.tenant = "nlp"}), (std::vector<JobId>{b, c}));
  EXPECT_EQ(engine_->ListJobs({.user = "bo"}), (std::vector<JobId>{a, c}));
  EXPECT_EQ(engine_->ListJobs({.state = JobState::kQueued}), (std::vector<JobId>{b}));
  EXPECT_EQ(engine_->ListJobs({.tenant = "nlp", .state = JobState::kStarting}), (std::vector<JobId>{c}));
  EXPECT_TRUE(engine_->ListJobs({.tenant = "nobody"}).empty());
  // Tenant and user together; a job submitted after the users' lists were
  // built (by the query above) is in its user's list.
  EXPECT_EQ(engine_->ListJobs({.tenant = "nlp", .user = "bo"}), (std::vector<JobId>{c}));
  const JobId e = Submit(Job("e", 1, 1, PriorityClass::kLow, "vision", "cy"));
  EXPECT_EQ(engine_->ListJobs({.user = "cy"}), (std::vector<JobId>{b, e}));
  EXPECT_TRUE(engine_->ListJobs({.user = "nobody"}).empty());
  ASSERT_TRUE(engine_->Cancel(e).ok());
  const QueueDepth d = engine_->GetQueueDepth();
  EXPECT_EQ(d.total, 1);
  EXPECT_EQ(d.by_class[static_cast<int>(PriorityClass::kLow)], 1);
  ASSERT_EQ(d.by_tenant.size(), 1u);
  EXPECT_EQ(d.by_tenant[0].tenant, "nlp");
  const Utilization u = engine_->GetUtilization();
  EXPECT_EQ(u.total.gpus(), 12);
  EXPECT_EQ(u.allocated.gpus(), 12);
  EXPECT_EQ(u.running_jobs, 2);
  EXPECT_EQ(u.pending_jobs, 1);
  ASSERT_EQ(u.gpus_by_model.size(), 2u);
  EXPECT_EQ(u.gpus_by_model[0].model, "A100");
  EXPECT_EQ(u.gpus_by_model[0].allocated, 8);
  EXPECT_EQ(u.gpus_by_model[1].model, "H100");
  EXPECT_EQ(u.gpus_by_model[1].total, 4);
}

TEST_F(EngineTest, NextWakeupIsNowOnlyWhenAPassCouldChangeSomething) {
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
  Add(GpuNode("g0", 8));
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now());
  Tick();
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
  Submit(Job("a", 1));
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now());
  Tick();
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
}

// An exit that leaves nothing queued wakes the engine but runs no pass (a
// pass would decide nothing); the next job queued gets one, and starts on the
// room the exit left.
TEST_F(EngineTest, ATickWithNothingQueuedRunsNoPass) {
  Add(GpuNode("g0", 8));
  const JobId a = Submit(Job("a", 8));
  SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, a), nullptr);
  const std::int64_t passes = engine_->counters().passes;
  StartAll(r, *StartOf(r, a));
  ExitAll(r, *StartOf(r, a));
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now());
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(engine_->counters().passes, passes);
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);  // and no busy loop
  const JobId b = Submit(Job("b", 8));
  EXPECT_NE(StartOf(Tick(), b), nullptr);
  EXPECT_EQ(engine_->counters().passes, passes + 1);
}

TEST_F(EngineTest, RemovedNodeLosesItsTasksAndItsName) {
  const NodeId n = Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 8));
  Tick();
  ASSERT_TRUE(engine_->RemoveNode(n).ok());
  EXPECT_EQ(State(j), JobState::kDeadLettered);
  EXPECT_EQ(engine_->node_count(), 0);
  EXPECT_EQ(engine_->GetNode(n).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->FindNode("g0").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine_->AddNode(GpuNode("g0", 8)).ok());
  EXPECT_EQ(engine_->GetUtilization().total.gpus(), 8);
}

TEST_F(EngineTest, EveryTransitionIsJournaledBeforeItIsVisible) {
  MemoryStore store;
  Make({}, &store);
  Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 2));
  SchedulingRound r = Tick();
  StartAll(r, *StartOf(r, j));
  ExitAll(r, *StartOf(r, j));
  std::vector<RecordKind> kinds;
  for (const StoredRecord& rec : store.records()) kinds.push_back(rec.record.kind);
  EXPECT_EQ(kinds, (std::vector<RecordKind>{RecordKind::kNodeAdded, RecordKind::kJobSubmitted,
                                            RecordKind::kAttemptStarted, RecordKind::kJobTransition,
                                            RecordKind::kTaskStarted, RecordKind::kJobTransition,
                                            RecordKind::kTaskExited, RecordKind::kJobTransition}));
  EXPECT_EQ(store.records()[1].spec->name, "a");
  EXPECT_EQ(store.records()[2].placements.size(), 1u);
  EXPECT_EQ(store.records()[7].record.to, JobState::kSucceeded);
}

TEST_F(EngineTest, TenantConfigurationAndCheckpointsAreJournaled) {
  MemoryStore store;
  Make({}, &store);
  Add(GpuNode("g0", 8));
  ASSERT_FALSE(engine_->ConfigureTenants({{.name = "t", .parent = "missing"}}).ok());
  ASSERT_TRUE(engine_->ConfigureTenants({{.name = "research", .guarantee = ResourceVector::Of(0, 0, 8)}}).ok());
  const JobId j = Submit(Job("a", 1, 1, PriorityClass::kMedium, "research"));
  const SchedulingRound r = Tick();
  ASSERT_TRUE(engine_->CheckpointReported({.job = j, .token = StartOf(r, j)->token, .step = 7, .uri = "s3://ckpt/7"}).ok());
  int tenant_records = 0;
  const StoredRecord* checkpoint = nullptr;
  for (const StoredRecord& rec : store.records()) {
    if (rec.record.kind == RecordKind::kTenantsConfigured) {
      ++tenant_records;
      ASSERT_EQ(rec.tenants.size(), 1u);
      EXPECT_EQ(rec.tenants[0].name, "research");
    }
    if (rec.record.kind == RecordKind::kCheckpoint) checkpoint = &rec;
  }
  EXPECT_EQ(tenant_records, 1);  // the refused configuration left no trace
  ASSERT_NE(checkpoint, nullptr);
  EXPECT_EQ(checkpoint->record.checkpoint_step, 7);
  EXPECT_EQ(checkpoint->checkpoint_uri, "s3://ckpt/7");
  EXPECT_EQ(engine_->GetJob(j).value().attempts[0].checkpoint_step, 7);
}

class FailingStore final : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  absl::Status Append(const JournalRecord& r) override {
    if (fail) return absl::UnavailableError("disk full");
    return StoreWrapper::Append(r);
  }
  bool fail = false;
};

TEST_F(EngineTest, StoreFailureOnSubmitRefusesTheJob) {
  MemoryStore memory;
  FailingStore store(&memory);
  Make({}, &store);
  store.fail = true;
  EXPECT_EQ(engine_->Submit(Job("a", 1)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_->job_count(), 0);
  store.fail = false;
  EXPECT_TRUE(engine_->Submit(Job("a", 1)).ok());
  EXPECT_TRUE(engine_->error().ok());
}

TEST_F(EngineTest, StoreFailureDuringTickStopsTheEngine) {
  MemoryStore memory;
  FailingStore store(&memory);
  Make({}, &store);
  const NodeId n = Add(GpuNode("g0", 8));
  const JobId j = Submit(Job("a", 1));
  store.fail = true;
  SchedulingRound r;
  EXPECT_EQ(engine_->Tick(&r).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(r.decisions.empty());
  EXPECT_EQ(State(j), JobState::kQueued);
  EXPECT_EQ(engine_->GetNode(n).value().free_gpus.size(), 8);  // tentative placement rolled back
  store.fail = false;
  EXPECT_EQ(engine_->error().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(engine_->Submit(Job("b", 1)).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(EngineTest, DispatchHandsDecisionsToTheExecutor) {
  Add(GpuNode("g0", 8));
  JobSpec spec = Job("a", 1);
  spec.command.argv = {"python3", "train.py"};
  const JobId j = Submit(spec);
  RecordingExecutor executor;
  SchedulingRound r = Tick();
  ASSERT_TRUE(Dispatch(*engine_, r, executor).ok());
  ASSERT_EQ(executor.live().size(), 1u);
  EXPECT_EQ(executor.live()[0].job, j);
  ASSERT_TRUE(engine_->Cancel(j).ok());
  r = Tick();
  ASSERT_TRUE(Dispatch(*engine_, r, executor).ok());
  EXPECT_TRUE(executor.live()[0].kill_requested);
  // The executor refuses a replayed launch with the same token.
  SchedulingRound replay;
  replay.decisions.push_back({.kind = DecisionKind::kStart, .job = j, .token = {.epoch = 1, .attempt = 1}});
  EXPECT_EQ(Dispatch(*engine_, replay, executor).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, QuotasConfiguredAfterSubmissionApplyPerTenant) {
  Add(GpuNode("g0", 8));
  // Same shape, two tenants: without quotas they share one job class.
  const JobId a1 = Submit(Job("a1", 4, 1, PriorityClass::kHigh, "a"));
  const JobId a2 = Submit(Job("a2", 4, 1, PriorityClass::kHigh, "a"));
  const JobId b1 = Submit(Job("b1", 4, 1, PriorityClass::kLow, "b"));
  ASSERT_TRUE(engine_
                  ->ConfigureTenants({{.name = "a", .parent = "org", .guarantee = ResourceVector::Of(0, 0, 4),
                                       .borrowing_limit = ResourceVector::Of(0, 0, 0)},
                                      {.name = "org"}})
                  .ok());
  const SchedulingRound r = Tick();
  EXPECT_NE(StartOf(r, a1), nullptr);
  EXPECT_EQ(StartOf(r, a2), nullptr);  // a is at its quota
  EXPECT_NE(StartOf(r, b1), nullptr);  // and that does not block b's job of the same shape
  EXPECT_NE(engine_->Explain(a2).value().reason.find("waiting for quota: tenant \"a\""), std::string::npos)
      << engine_->Explain(a2).value().reason;
}

TEST_F(EngineTest, CreateRejectsBadOptions) {
  EXPECT_EQ(Engine::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .epoch = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .extended_resources = {"GPU!"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .extended_resources = {"cpu"}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  PriorityOrderingOptions bad;
  bad.aging.cap = -1;
  const absl::Status s =
      Engine::Create({.clock = &clock_, .policies = {.ordering = NewPriorityOrdering(bad)}}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("aging.cap = -1"), std::string::npos) << s;
}

}  // namespace
}  // namespace mlsched
