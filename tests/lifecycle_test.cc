// Retries, dead letters, time limits, stuck attempts, node heartbeats,
// unhealthy GPUs, checkpoints and history through the engine.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "internal/huge_page_allocator.h"
#include "internal/pending_queue.h"
#include "internal/record_blocks.h"
#include "internal/sanitizers.h"
#include "mlsched/engine.h"
#include "test_support.h"

namespace mlsched {
namespace {

using testing_util::EngineFixture;
using testing_util::GpuJob;
using testing_util::GpuNode;

class LifecycleTest : public EngineFixture {
 protected:
  void RetentionSweepKeepsOlderLiveJobs(bool ask_by_user_first);
};

TEST_F(LifecycleTest, TransientFailureIsRetriedAfterExponentialBackoff) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("flaky", 1);
  spec.retry = {.max_attempts = 3, .backoff_base = 10 * kSecond, .backoff_cap = kHour, .jitter = 0,
                .transient_exit_codes = {75}};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  Finish(r, *StartOf(r, j), 75);
  JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kQueued);
  EXPECT_EQ(st.eligible_at, clock_.Now() + 10 * kSecond);
  EXPECT_EQ(st.reason, "retry 1 of 2 after exit code 75 (transient)");
  EXPECT_EQ(engine_->Explain(j).value().verdict, Explanation::Verdict::kHeld);
  Tick();
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now() + 10 * kSecond);
  clock_.Advance(9 * kSecond);
  EXPECT_EQ(StartOf(Tick(), j), nullptr);  // still backing off
  clock_.Advance(kSecond);
  r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  Finish(r, *StartOf(r, j), 0, /*signal=*/9);  // killed by a signal: transient
  EXPECT_EQ(engine_->GetJob(j).value().eligible_at, clock_.Now() + 20 * kSecond);  // doubled
  clock_.Advance(20 * kSecond);
  r = Tick();
  Finish(r, *StartOf(r, j), 75);
  st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kDeadLettered);
  EXPECT_EQ(st.reason, "exit code 75 (transient); all 3 attempts used");
  ASSERT_EQ(st.attempts.size(), 3u);
  EXPECT_EQ(st.attempts[1].reason, "killed by signal 9 (transient)");
  EXPECT_EQ(engine_->counters().retries, 2);
  EXPECT_EQ(engine_->counters().dead_lettered, 1);
}

TEST_F(LifecycleTest, PermanentFailureIsDeadLetteredAtOnceAndCanBeRequeued) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("buggy", 1);
  spec.retry.max_attempts = 5;
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  Finish(r, *StartOf(r, j), 2);
  JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kDeadLettered);
  EXPECT_EQ(st.reason, "exit code 2 (permanent); not retried");
  EXPECT_EQ(engine_->ListJobs({.state = JobState::kDeadLettered}), std::vector<JobId>{j});
  // Requeue: a fresh budget of attempts.
  EXPECT_EQ(engine_->Requeue(Submit(GpuJob("other", 1))).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(engine_->Requeue(j).ok());
  EXPECT_EQ(State(j), JobState::kQueued);
  EXPECT_TRUE(engine_->GetJob(j).value().reason.empty());
  r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_EQ(StartOf(r, j)->token.attempt, 2u);
  Finish(r, *StartOf(r, j));
  EXPECT_EQ(State(j), JobState::kSucceeded);
}

TEST_F(LifecycleTest, RetryPermanentRetriesEveryFailure) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("stubborn", 1);
  spec.retry = {.max_attempts = 2, .backoff_base = 0, .retry_permanent = true};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  Finish(r, *StartOf(r, j), 1);
  EXPECT_EQ(State(j), JobState::kQueued);
  r = Tick();
  Finish(r, *StartOf(r, j), 1);
  EXPECT_EQ(State(j), JobState::kDeadLettered);
}

TEST_F(LifecycleTest, TimeLimitKillsWithGraceAndEndsTimedOut) {
  Make({.kill_grace = 45 * kSecond});
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("slow", 2);
  spec.time_limit = kHour;
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision start = *StartOf(r, j);
  StartAll(r, start);
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now() + kHour);
  clock_.Advance(kHour - kSecond);
  EXPECT_TRUE(Tick().decisions.empty());
  clock_.Advance(kSecond);
  r = Tick();
  const Decision* kill = Find(r, DecisionKind::kKill, j);
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->reason, KillReason::kTimeLimit);
  EXPECT_EQ(kill->grace, 45 * kSecond);
  const JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kDeadLettered);  // timeouts are permanent by default
  EXPECT_EQ(st.attempts[0].outcome, AttemptEnd::kTimedOut);
  EXPECT_EQ(st.reason, "time limit reached (permanent); not retried");
  EXPECT_EQ(st.attempts[0].lost_gpu_time, 2 * kHour);  // 2 GPUs, an hour, no checkpoint
  EXPECT_EQ(engine_->counters().timed_out, 1);
  // Its GPUs stay held until the killed task exits.
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 2);
  ExitKilled(r);
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 0);
}

// A job that ends before its time limit leaves a timer that can no longer
// fire: the host is not woken for it.
TEST_F(LifecycleTest, AnAttemptThatEndedWakesNoOneAtItsTimeLimit) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("quick", 1);
  spec.time_limit = kHour;
  spec.progress_timeout = 10 * kMinute;
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  EXPECT_EQ(engine_->NextWakeup(), clock_.Now() + 10 * kMinute);  // the progress check
  clock_.Advance(kMinute);
  Finish(r, *StartOf(r, j));
  Tick();
  EXPECT_EQ(State(j), JobState::kSucceeded);
  EXPECT_EQ(engine_->NextWakeup(), kInfiniteFuture);
}

TEST_F(LifecycleTest, AttemptWithoutProgressIsStuckAndRetried) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("hang", 1);
  spec.progress_timeout = 10 * kMinute;
  spec.retry = {.max_attempts = 2, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision start = *StartOf(r, j);
  StartAll(r, start);
  clock_.Advance(8 * kMinute);
  ASSERT_TRUE(engine_->ProgressReported({.job = j, .token = start.token}).ok());
  clock_.Advance(8 * kMinute);  // 16 min since start, 8 since progress: fine
  EXPECT_EQ(Find(Tick(), DecisionKind::kKill, j), nullptr);
  clock_.Advance(2 * kMinute);
  r = Tick();
  ASSERT_NE(Find(r, DecisionKind::kKill, j), nullptr);
  EXPECT_EQ(Find(r, DecisionKind::kKill, j)->reason, KillReason::kStuck);
  EXPECT_EQ(engine_->GetJob(j).value().attempts[0].outcome, AttemptEnd::kStuck);
  EXPECT_NE(StartOf(r, j), nullptr);  // stuck is transient: retried at once, on other GPUs
  EXPECT_EQ(engine_->counters().stuck, 1);
  EXPECT_EQ(engine_->ProgressReported({.job = j, .token = start.token}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LifecycleTest, MissedHeartbeatsTakeANodeDownAndRequeueItsJobs) {
  Make({.heartbeat_interval = 10 * kSecond, .missed_heartbeats = 3});
  const NodeId a = Add(GpuNode("g0", 8));
  const NodeId b = Add(GpuNode("g1", 8));
  JobSpec spec = GpuJob("train", 8);
  spec.retry = {.max_attempts = 3, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  const Decision first = *StartOf(r, j);
  StartAll(r, first);
  const NodeId used = r.PlacementsOf(first)[0].node;
  const NodeId other = used == a ? b : a;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(10 * kSecond);
    ASSERT_TRUE(engine_->Heartbeat(a).ok());
    ASSERT_TRUE(engine_->Heartbeat(b).ok());
    Tick();
  }
  EXPECT_EQ(engine_->GetNode(used).value().state, NodeState::kUp);
  // `used` falls silent; `other` keeps beating.
  clock_.Advance(20 * kSecond);
  ASSERT_TRUE(engine_->Heartbeat(other).ok());
  EXPECT_EQ(engine_->GetNode(used).value().state, NodeState::kUp);
  clock_.Advance(10 * kSecond);  // 30 s of silence: 3 missed beats
  ASSERT_TRUE(engine_->Heartbeat(other).ok());
  r = Tick();
  EXPECT_EQ(engine_->GetNode(used).value().state, NodeState::kDown);
  EXPECT_EQ(engine_->GetNode(other).value().state, NodeState::kUp);
  EXPECT_EQ(engine_->GetJob(j).value().attempts[0].outcome, AttemptEnd::kLost);
  EXPECT_EQ(engine_->counters().nodes_lost, 1);
  const Decision* second = StartOf(r, j);
  ASSERT_NE(second, nullptr);  // requeued and restarted on the other node
  EXPECT_EQ(r.PlacementsOf(*second)[0].node, other);
  // A late report from the lost attempt is stale.
  EXPECT_EQ(engine_->TaskExited({.job = j, .token = first.token, .task = 0}).code(),
            absl::StatusCode::kFailedPrecondition);
  // The node comes back with its next heartbeat.
  ASSERT_TRUE(engine_->Heartbeat(used).ok());
  EXPECT_EQ(engine_->GetNode(used).value().state, NodeState::kUp);
}

TEST_F(LifecycleTest, NodeTakenDownByTheHostStaysDownOnHeartbeat) {
  Make({.heartbeat_interval = 10 * kSecond});
  const NodeId a = Add(GpuNode("g0", 8));
  ASSERT_TRUE(engine_->SetNodeState(a, NodeState::kDown).ok());
  ASSERT_TRUE(engine_->Heartbeat(a).ok());
  EXPECT_EQ(engine_->GetNode(a).value().state, NodeState::kDown);
}

TEST_F(LifecycleTest, UnhealthyGpuEndsTheAttemptsUsingIt) {
  const NodeId n = Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("on-bad-gpu", 8);
  spec.retry = {.max_attempts = 2, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  StartAll(r, *StartOf(r, j));
  ASSERT_TRUE(engine_->SetGpuHealth(n, 3, false).ok());
  EXPECT_EQ(engine_->GetJob(j).value().attempts[0].outcome, AttemptEnd::kLost);
  r = Tick();
  ASSERT_NE(Find(r, DecisionKind::kKill, j), nullptr);
  EXPECT_EQ(Find(r, DecisionKind::kKill, j)->reason, KillReason::kGpuUnhealthy);
  ExitKilled(r);
  EXPECT_EQ(StartOf(Tick(), j), nullptr);  // 7 healthy GPUs cannot hold 8
  ASSERT_TRUE(engine_->SetGpuHealth(n, 3, true).ok());
  EXPECT_NE(StartOf(Tick(), j), nullptr);
}

TEST_F(LifecycleTest, RestartResumesFromTheLatestGoodCheckpoint) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("long", 4);
  spec.retry = {.max_attempts = 3, .backoff_base = 0};
  const JobId j = Submit(spec);
  SchedulingRound r = Tick();
  Decision d = *StartOf(r, j);
  EXPECT_EQ(d.resume, -1);
  StartAll(r, d);
  clock_.Advance(kHour);
  ASSERT_TRUE(engine_->CheckpointReported({.job = j, .token = d.token, .step = 100, .uri = "s3://ck/100",
                                           .checksum = "sha256:aa"}).ok());
  clock_.Advance(kHour);
  ASSERT_TRUE(engine_->CheckpointReported({.job = j, .token = d.token, .step = 200, .uri = "s3://ck/200"}).ok());
  EXPECT_EQ(engine_->CheckpointReported({.job = j, .token = d.token, .step = 150}).code(),
            absl::StatusCode::kInvalidArgument);
  clock_.Advance(30 * kMinute);
  Finish(r, d, 0, /*signal=*/9);
  const JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.attempts[0].lost_gpu_time, 4 * 30 * kMinute);  // since the step-200 checkpoint
  ASSERT_EQ(st.checkpoints.size(), 2u);
  r = Tick();
  d = *StartOf(r, j);
  ASSERT_GE(d.resume, 0);
  EXPECT_EQ(r.resumes[d.resume], (ResumeFrom{.step = 200, .uri = "s3://ck/200"}));
  // Step 200 turns out corrupt: the next start resumes from step 100.
  ASSERT_TRUE(engine_->CheckpointCorrupt(j, 200).ok());
  EXPECT_EQ(engine_->CheckpointCorrupt(j, 123).code(), absl::StatusCode::kNotFound);
  Finish(r, d, 0, 9);
  r = Tick();
  d = *StartOf(r, j);
  ASSERT_GE(d.resume, 0);
  EXPECT_EQ(r.resumes[d.resume], (ResumeFrom{.step = 100, .uri = "s3://ck/100", .checksum = "sha256:aa"}));
  EXPECT_EQ(engine_->GetJob(j).value().attempts[2].resumed_from_step, 100);
  EXPECT_TRUE(engine_->GetJob(j).value().checkpoints[1].corrupt);
}

TEST_F(LifecycleTest, BeginTimeHoldsAJobAndAgingStartsThen) {
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("later", 1);
  spec.begin_time = clock_.Now() + kHour;
  const JobId j = Submit(spec);
  EXPECT_EQ(StartOf(Tick(), j), nullptr);
  const Explanation e = engine_->Explain(j).value();
  EXPECT_EQ(e.verdict, Explanation::Verdict::kHeld);
  EXPECT_EQ(e.expected_start, spec.begin_time);
  EXPECT_EQ(engine_->NextWakeup(), spec.begin_time);
  clock_.Set(spec.begin_time);
  EXPECT_NE(StartOf(Tick(), j), nullptr);
}

TEST_F(LifecycleTest, DuplicateAndLateExitReportsNeverDoubleCount) {
  Add(GpuNode("g0", 8));
  const JobId j = Submit(GpuJob("once", 2));
  SchedulingRound r = Tick();
  const Decision d = *StartOf(r, j);
  Finish(r, d);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = d.token, .task = 0, .exit_code = 1}).code() ==
              absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(State(j), JobState::kSucceeded);
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 0);
  EXPECT_EQ(engine_->counters().stale_reports, 1);
}

TEST_F(LifecycleTest, HistoryQueriesByTimeRange) {
  Add(GpuNode("g0", 8));
  const Timestamp t0 = clock_.Now();
  const JobId a = Submit(GpuJob("a", 1));
  clock_.Advance(kHour);
  const JobId b = Submit(GpuJob("b", 1));
  SchedulingRound r = Tick();
  Finish(r, *StartOf(r, a));
  clock_.Advance(kHour);
  Finish(r, *StartOf(r, b));
  EXPECT_EQ(engine_->ListJobs({.submitted_from = t0, .submitted_to = t0 + kHour}), std::vector<JobId>{a});
  EXPECT_EQ(engine_->ListJobs({.submitted_from = t0 + kHour}), std::vector<JobId>{b});
  EXPECT_EQ(engine_->ListJobs({.ended_from = t0 + 2 * kHour}), std::vector<JobId>{b});
  EXPECT_EQ(engine_->ListJobs({.ended_to = t0 + 2 * kHour}), std::vector<JobId>{a});
}

TEST_F(LifecycleTest, RetentionPrunesOldFinishedJobs) {
  Make({.history_retention = kDay});
  Add(GpuNode("g0", 8));
  JobSpec keyed = GpuJob("old", 1);
  keyed.idempotency_key = "k1";
  const JobId old = Submit(keyed);
  const JobId running = Submit(GpuJob("running", 1));
  SchedulingRound r = Tick();
  Finish(r, *StartOf(r, old));
  StartAll(r, *StartOf(r, running));
  clock_.Advance(kDay + kSecond);
  Tick();
  const auto st = engine_->GetJob(old);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.status().message().find("pruned by history retention"), std::string::npos);
  EXPECT_EQ(engine_->GetSpec(old), nullptr);
  EXPECT_EQ(engine_->ListJobs({}), std::vector<JobId>{running});
  EXPECT_EQ(engine_->counters().pruned_jobs, 1);
  EXPECT_EQ(engine_->GetJob(running).value().state, JobState::kRunning);
  // The key is free again, and a dependency on a pruned job is refused.
  EXPECT_NE(Submit(keyed), old);
  JobSpec child = GpuJob("child", 1);
  child.dependencies = {{.job = old}};
  EXPECT_EQ(engine_->Submit(child).status().code(), absl::StatusCode::kInvalidArgument);
}

// A pruned job's spec and checkpoints' strings are freed at the prune, not
// when its block of the job (or checkpoint) table goes (see the next tests):
// a big spec or checkpoint URI does not stay for as long as the jobs around
// it are kept.
TEST_F(LifecycleTest, RetentionFreesABigSpecAtThePrune) {
#if defined(MLSCHED_ASAN)
  GTEST_SKIP() << "AddressSanitizer's allocator keeps no mallinfo2 statistics";
#else
  auto heap_in_use = [] {
    const struct mallinfo2 m = mallinfo2();
    return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
  };
  constexpr std::int64_t kBig = 4 << 20;
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  JobSpec spec = GpuJob("big", 1);
  spec.command = {.argv = {"/bin/true"}, .env = {{"BLOB", std::string(kBig, 'x')}}};
  const JobId big = Submit(spec);
  spec = {};  // the engine holds the only copy
  SchedulingRound r = Tick();
  const Decision& start = *StartOf(r, big);
  StartAll(r, start);
  ASSERT_TRUE(engine_->CheckpointReported({.job = big, .token = start.token, .step = 1,
                                           .uri = std::string(kBig, 'u'), .checksum = std::string(kBig, 'c')})
                  .ok());
  ASSERT_TRUE(engine_->TaskExited({.job = big, .token = start.token, .task = 0}).ok());
  const std::int64_t before = heap_in_use();
  clock_.Advance(2 * kSecond);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, 1);
  EXPECT_LT(heap_in_use(), before - 3 * kBig + kBig / 2);  // the spec, the URI and the checksum
#endif
}

// Under history retention the engine's heap does not grow with the number
// of jobs run: nothing kept per job outlives its prune or its purpose. (The
// tenant's and the user's lists of jobs held every id ever submitted,
// dependency edges and checkpoint records were never freed; aging's cap
// events stayed for the 20 hours of aging, and the time-limit and progress
// timers of ended attempts for the whole limit.) Each job here has a long
// limit, depends on a job of the previous wave and checkpoints once. Four
// times more jobs after a warm-up leave the heap where it was, and the lists
// still answer for the jobs kept. The same holds under fair share,
// backfill and preemption (the second test).
// Under AddressSanitizer, whose allocator keeps no mallinfo2 statistics,
// the memory is not measured but the jobs still run (a quarter as many
// after the warm-up): released blocks are freed there, so a read of one is
// reported.
class RetentionHeapTest : public LifecycleTest {
 protected:
#if defined(MLSCHED_ASAN)
  static constexpr int kAfterWarmUp = 1;
#else
  static constexpr int kAfterWarmUp = 4;  // times the warm-up
#endif
  // The heap in use and the huge-page blocks mapped (nothing under ASan).
  static std::optional<std::int64_t> MemoryInUse() {
#if defined(MLSCHED_ASAN)
    return std::nullopt;
#else
    const struct mallinfo2 m = mallinfo2();
    return static_cast<std::int64_t>(m.uordblks + m.hblkhd + internal::HugePageBytesMapped());
#endif
  }
  static void ExpectNoGrowthSince(std::optional<std::int64_t> before) {
    if (before) EXPECT_LT(*MemoryInUse() - *before, 64 << 10);
  }
  void RunAndCheckTheHeapStaysFlat(PolicySet policies);
};

TEST_F(RetentionHeapTest, KeepsTheHeapFlatHoweverManyJobsRun) { RunAndCheckTheHeapStaysFlat({}); }

TEST_F(RetentionHeapTest, KeepsTheHeapFlatUnderFairShareBackfillAndPreemption) {
  RunAndCheckTheHeapStaysFlat({.fair_share = FairShareOptions{}, .backfill = BackfillOptions{},
                               .preemption = PreemptionOptions{}});
}

// Workflows too: each is pruned with its last job, and its jobs' records
// (in the job, attempt and task tables, on blocks of their own) then go.
// Each workflow here has four pairs of jobs, the second of each pair after
// the first; a tick starts the first four of one workflow and the last four
// of the one before.
TEST_F(RetentionHeapTest, KeepsTheHeapFlatForWorkflows) {
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  int submitted = 0;
  auto run = [&](int workflows) {
    for (int w = 0; w < workflows; ++w) {
      WorkflowSpec spec{.name = "pairs"};
      for (int k = 0; k < 4; ++k) {
        spec.jobs.push_back(GpuJob("a" + std::to_string(k), 1));
        spec.jobs.push_back(GpuJob("b" + std::to_string(k), 1));
        spec.edges.push_back({.parent = "a" + std::to_string(k), .child = "b" + std::to_string(k)});
      }
      ASSERT_TRUE(engine_->SubmitWorkflow(std::move(spec)).ok());
      const SchedulingRound r = Tick();
      ASSERT_EQ(r.decisions.size(), submitted == 0 ? 4u : 8u);
      for (const Decision& d : r.decisions) Finish(r, d);
      submitted += 8;
      clock_.Advance(2 * kSecond);
    }
  };
  run(10'240);  // 81,920 jobs: three blocks of attempts and tasks, so that each table holds its spare
  const std::optional<std::int64_t> before = MemoryInUse();
  const std::int64_t pruned_before = engine_->counters().pruned_workflows;
  run(10'240 * kAfterWarmUp / 2);
  EXPECT_EQ(engine_->counters().pruned_workflows - pruned_before, 10'240 * kAfterWarmUp / 2);
  ExpectNoGrowthSince(before);
  // The last workflow's second jobs have not run; the one before ended now.
  EXPECT_EQ(engine_->ListJobs({}).size(), 12u);
}

void RetentionHeapTest::RunAndCheckTheHeapStaysFlat(PolicySet policies) {
  Make({.policies = std::move(policies), .history_retention = kSecond});
  Add(GpuNode("g0", 8));
  // Users' jobs asked for first: their index is kept, and swept, from then on.
  EXPECT_TRUE(engine_->ListJobs({.user = "ana"}).empty());
  SchedulingRound running;  // the wave that runs now
  auto run = [&](int waves) {
    for (int w = 0; w < waves; ++w) {
      for (std::size_t k = 0; k < 8; ++k) {
        JobSpec spec = GpuJob("j", 1);
        spec.time_limit = 1000 * kHour;
        spec.progress_timeout = 1000 * kHour;
        if (!running.decisions.empty())
          spec.dependencies = {{.job = running.decisions[k].job, .kind = DependencyKind::kAfterAny}};
        Submit(spec);
      }
      for (const Decision& d : running.decisions) {
        for (const TaskPlacement& p : running.PlacementsOf(d))
          ASSERT_TRUE(engine_->TaskExited({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)}).ok());
      }
      running = Tick();  // prunes the wave before last, starts this one
      ASSERT_EQ(running.decisions.size(), 8u);
      for (const Decision& d : running.decisions) {
        StartAll(running, d);
        ASSERT_TRUE(engine_->CheckpointReported(
                               {.job = d.job, .token = d.token, .step = 1, .uri = "s3://checkpoints/a-long-name/step-1"})
                        .ok());
      }
      clock_.Advance(2 * kSecond);
    }
  };
  run(6'144);  // 49,152 jobs: three blocks of edges, so that each table holds its spare block
  const std::optional<std::int64_t> before = MemoryInUse();
  run(6'144 * kAfterWarmUp);
  EXPECT_EQ(engine_->counters().pruned_jobs, 8 * 6'144 * (1 + kAfterWarmUp) - 16);  // the last two waves are kept
  // Without each sweep or release, in MiB: lists 1.5, cap events 3, timers
  // 6, edges 2.3, checkpoints 18.
  ExpectNoGrowthSince(before);
  EXPECT_EQ(engine_->ListJobs({.tenant = "research"}).size(), 16u);
  EXPECT_EQ(engine_->ListJobs({.user = "ana"}).size(), 16u);
  EXPECT_EQ(engine_->ListJobs({}).size(), 16u);
}

// The tenant's and user's lists of jobs are swept of pruned ids, never of
// held ones: here an old job runs on while 200 younger ones of its tenant
// and user come and go. The users' index is built by the first query by
// user: once before the jobs come and go (and kept since), once after.
TEST_F(LifecycleTest, RetentionSweepsPrunedJobsFromListsButKeepsOlderLiveOnes) {
  for (const bool asked_first : {false, true}) {
    SCOPED_TRACE(asked_first ? "users' index built first" : "users' index built last");
    RetentionSweepKeepsOlderLiveJobs(asked_first);
  }
}

void LifecycleTest::RetentionSweepKeepsOlderLiveJobs(bool ask_by_user_first) {
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  const JobId old = Submit(GpuJob("old", 1));
  if (ask_by_user_first) EXPECT_EQ(engine_->ListJobs({.user = "ana"}), std::vector<JobId>{old});
  SchedulingRound r = Tick();
  StartAll(r, *StartOf(r, old));
  std::vector<JobId> young;
  for (int i = 0; i < 200; ++i) {
    young.push_back(Submit(GpuJob("young", 1)));
    r = Tick();
    Finish(r, *StartOf(r, young.back()));
    clock_.Advance(2 * kSecond);
  }
  const JobId last = Submit(GpuJob("last", 1));
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, 200);
  EXPECT_EQ(engine_->ListJobs({.tenant = "research"}), (std::vector<JobId>{old, last}));
  EXPECT_EQ(engine_->ListJobs({.user = "ana"}), (std::vector<JobId>{old, last}));
  const TenantStatus t = engine_->GetTenant("research").value();
  EXPECT_EQ(t.running_jobs + t.pending_jobs, 2);
}

// When every job of a block of the job table (4,096 consecutive ids) is
// pruned, the block's memory is reused for new jobs. Whatever still names a
// job of that block — a parent's list of dependents, a timer, a tenant's job
// list — must not read it (under AddressSanitizer the block is freed, so a
// read is reported).
TEST_F(LifecycleTest, RetentionReleasesBlocksOfPrunedJobsAndNothingReadsThem) {
  constexpr auto kBlock = static_cast<std::uint32_t>(internal::PendingQueue::kJobBlock);  // jobs per block
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  const JobId parent = Submit(GpuJob("parent", 1));
  SchedulingRound r = Tick();
  StartAll(r, *StartOf(r, parent));
  auto cancelled = [&](JobSpec spec) {
    const JobId id = Submit(spec);
    EXPECT_TRUE(engine_->Cancel(id).ok());
    return id;
  };
  while (engine_->job_count() < kBlock) cancelled(GpuJob("filler", 1));
  // The second block: a dependent of the running parent and a job held for
  // a begin time, both cancelled, among cancelled fillers.
  JobSpec child = GpuJob("child", 1);
  child.dependencies = {{.job = parent}};
  const JobId dependent = cancelled(child);
  JobSpec later = GpuJob("later", 1);
  later.begin_time = clock_.Now() + kDay;
  const JobId held = cancelled(later);
  while (engine_->job_count() < 2 * kBlock) cancelled(GpuJob("filler", 1));
  const JobId kept = Submit(GpuJob("kept", 1));  // the third block
  clock_.Advance(2 * kSecond);
  SchedulingRound third = Tick();
  ASSERT_NE(StartOf(third, kept), nullptr);
  EXPECT_EQ(engine_->counters().pruned_jobs, 2 * kBlock - 1);  // all but the running parent
  for (JobId gone : {dependent, held, JobId(kBlock), JobId(kBlock + 1)}) {
    const auto st = engine_->GetJob(gone);
    EXPECT_EQ(st.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(st.status().message().find("pruned by history retention"), std::string::npos);
    EXPECT_EQ(engine_->GetSpec(gone), nullptr);
  }
  JobSpec orphan = GpuJob("orphan", 1);
  orphan.dependencies = {{.job = dependent}};
  EXPECT_EQ(engine_->Submit(orphan).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->ListJobs({}), (std::vector<JobId>{parent, kept}));
  EXPECT_EQ(engine_->ListJobs({.tenant = "research"}), (std::vector<JobId>{parent, kept}));
  const TenantStatus tenant = engine_->GetTenant("research").value();
  EXPECT_EQ(tenant.running_jobs + tenant.pending_jobs, 2);
  // The parent ends: its list of dependents names the released child.
  Finish(r, *StartOf(r, parent));
  EXPECT_EQ(State(parent), JobState::kSucceeded);
  // The held job's begin-time timer fires, and nothing starts.
  clock_.Advance(kDay);
  EXPECT_TRUE(Tick().decisions.empty());
  EXPECT_EQ(State(kept), JobState::kStarting);
  // New jobs take the released block's memory and work as any other.
  for (int i = 0; i < 3; ++i) {
    const JobId fresh = Submit(GpuJob("fresh", 1));
    r = Tick();
    ASSERT_NE(StartOf(r, fresh), nullptr);
    Finish(r, *StartOf(r, fresh));
    EXPECT_EQ(State(fresh), JobState::kSucceeded);
  }
}

// Attempts and tasks are released in blocks too, once their jobs are pruned;
// the time-limit and progress timers of those attempts then come due and
// must do nothing (and read nothing: under AddressSanitizer the blocks are
// freed).
TEST_F(LifecycleTest, RetentionReleasesBlocksOfAttemptsWhoseTimersStayHarmless) {
  // Enough jobs to fill a block of attempts, and one of tasks (each job has two).
  constexpr int kBlock = std::max(1 << internal::kAttemptBlockBits, 1 << (internal::kTaskBlockBits - 1));
  Make({.history_retention = kSecond});
  for (int n = 0; n < 2 * kBlock / 8 + 1; ++n) Add(GpuNode("g" + std::to_string(n), 8));
  std::vector<JobId> ids;
  for (int i = 0; i < kBlock + 8; ++i) {
    JobSpec spec = GpuJob("limited", 1, /*tasks=*/2);
    spec.time_limit = kHour;
    spec.progress_timeout = 2 * kHour;
    ids.push_back(Submit(spec));
  }
  SchedulingRound r;
  std::size_t finished = 0;
  for (int pass = 0; pass < 100 && finished < ids.size(); ++pass) {  // a pass may start only so many
    r = Tick();
    for (const Decision& d : r.decisions) {
      ASSERT_EQ(d.kind, DecisionKind::kStart);
      Finish(r, d);
      ++finished;
    }
  }
  ASSERT_EQ(finished, ids.size());
  clock_.Advance(2 * kSecond);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, kBlock + 8);
  const JobId late = Submit(GpuJob("late", 1));
  clock_.Advance(3 * kHour);  // past every time limit and progress timeout
  r = Tick();
  EXPECT_EQ(engine_->counters().timed_out, 0);
  EXPECT_EQ(engine_->counters().stuck, 0);
  ASSERT_NE(StartOf(r, late), nullptr);
  Finish(r, *StartOf(r, late));
  EXPECT_EQ(State(late), JobState::kSucceeded);
}

// Under backfill a job's class includes its runtime estimate, so jobs that
// ask distinct time limits make a class each. Under history retention (and
// here no unused class kept) a class is freed once its last job is pruned,
// and its id goes to the next new class, of any tenant: jobs in reused
// classes are scheduled, charged and explained as in new ones.
TEST_F(LifecycleTest, RetentionFreesJobClassesAndNewClassesReuseThem) {
  Make({.policies = {.fair_share = FairShareOptions{.usage_half_life = kMinute}, .backfill = BackfillOptions{}},
        .history_retention = kHour, .idle_job_classes_kept = 0});
  Add(GpuNode("g0", 8));
  // A wave of 20 whole-node jobs, alternately of two tenants, each with its
  // own time limit (and so its own class), run one at a time.
  auto wave = [&](int first, const std::string& even_tenant, const std::string& odd_tenant) {
    std::vector<JobId> ids;
    for (int i = first; i < first + 20; ++i) {
      JobSpec s = GpuJob("j" + std::to_string(i), 8);
      s.tenant = i % 2 ? odd_tenant : even_tenant;
      s.time_limit = (i + 1) * kMinute;
      ids.push_back(Submit(s));
    }
    std::vector<std::string> order;  // tenants, in start order
    for (int k = 0; k < 20; ++k) {
      SchedulingRound r = Tick();
      const Decision* d = nullptr;
      for (const Decision& x : r.decisions)
        if (x.kind == DecisionKind::kStart) d = &x;
      if (d == nullptr) {
        ADD_FAILURE() << "no start in round " << k;
        return order;
      }
      order.push_back(engine_->GetSpec(d->job)->tenant);
      // The others wait for the node, with an expected start at the end of
      // the running job's limit.
      for (JobId j : ids) {
        if (State(j) != JobState::kQueued) continue;
        const Explanation e = engine_->Explain(j).value();
        EXPECT_EQ(e.verdict, Explanation::Verdict::kWait) << e.reason;
      }
      EXPECT_EQ(engine_->GetTenant(order.back()).value().usage.gpus(), 8);
      clock_.Advance(kSecond);
      Finish(r, *d);
    }
    return order;
  };
  wave(0, "b", "a");
  EXPECT_EQ(engine_->counters().job_classes, 20);
  EXPECT_EQ(engine_->counters().job_classes_held, 20);  // their jobs are not pruned yet
  clock_.Advance(2 * kHour);
  Tick();
  // Kept: the class that numbers the shape, and per tenant at most the class
  // its list of classes still names (lists drop emptied classes when the
  // tenant next has work).
  EXPECT_EQ(engine_->counters().pruned_jobs, 20);
  EXPECT_LE(engine_->counters().job_classes_held, 3);
  // The last class freed is the last one of tenant "a"; it is reused for
  // tenant "c", whose class must not be scheduled as one of "a".
  const std::vector<std::string> second = wave(20, "c", "a");
  EXPECT_EQ(engine_->counters().job_classes, 40);
  // Tenant "a"'s listed class of the first wave went; "b"'s is still listed.
  EXPECT_LE(engine_->counters().job_classes_held, 22);
  // Fair share alternates the tenants in both waves.
  ASSERT_EQ(second.size(), 20u);
  for (std::size_t k = 1; k < second.size(); ++k)
    EXPECT_NE(second[k], second[k - 1]) << k;
  clock_.Advance(2 * kHour);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, 40);
  EXPECT_LE(engine_->counters().job_classes_held, 4);  // the shape's and one listed per tenant
  EXPECT_TRUE(engine_->GetUtilization().allocated.IsZero());
}

// A job killed as stuck is retried at once on another node while its killed
// task still holds the first; the retry succeeds. The job is pruned only once
// that earlier attempt's task has exited too (else its exit report would be
// refused and the first node's GPUs never freed).
TEST_F(LifecycleTest, RetentionWaitsForKilledTasksOfAnEarlierAttempt) {
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  Add(GpuNode("g1", 8));
  JobSpec spec = GpuJob("stuck-once", 8);
  spec.progress_timeout = kMinute;
  spec.retry = {.max_attempts = 2, .backoff_base = 0};
  const JobId j = Submit(spec);
  const SchedulingRound first = Tick();
  ASSERT_NE(StartOf(first, j), nullptr);
  StartAll(first, *StartOf(first, j));
  clock_.Advance(2 * kMinute);
  SchedulingRound r = Tick();  // killed as stuck, requeued
  ASSERT_NE(Find(r, DecisionKind::kKill, j), nullptr);
  const SchedulingRound kill = r;
  if (StartOf(r, j) == nullptr) r = Tick();
  ASSERT_NE(StartOf(r, j), nullptr);
  EXPECT_NE(r.PlacementsOf(*StartOf(r, j))[0].node, first.PlacementsOf(*StartOf(first, j))[0].node);
  Finish(r, *StartOf(r, j));
  EXPECT_EQ(State(j), JobState::kSucceeded);
  clock_.Advance(kMinute);
  Tick();
  EXPECT_TRUE(engine_->GetJob(j).ok());  // kept: the first attempt's task holds g0
  ExitKilled(kill);
  clock_.Advance(kMinute);
  Tick();
  EXPECT_EQ(engine_->GetJob(j).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine_->GetUtilization().allocated.IsZero());
}

// A whole-node job whose time limit (so, with backfill, whose job class) is
// set by its minutes.
JobSpec WholeNodeJob(int minutes) {
  JobSpec s = GpuJob("j" + std::to_string(minutes), 8);
  s.time_limit = minutes * kMinute;
  return s;
}

// The most recently emptied classes are kept for new jobs of the same class;
// older ones are freed.
TEST_F(LifecycleTest, RetentionKeepsTheMostRecentlyEmptiedClasses) {
  Make({.policies = {.backfill = BackfillOptions{}}, .history_retention = kSecond, .idle_job_classes_kept = 5});
  Add(GpuNode("g0", 8));
  for (int i = 1; i <= 20; ++i) {  // one at a time, each of its own class
    const JobId j = Submit(WholeNodeJob(i));
    const SchedulingRound r = Tick();
    ASSERT_NE(StartOf(r, j), nullptr);
    Finish(r, *StartOf(r, j));
  }
  clock_.Advance(2 * kSecond);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, 20);
  EXPECT_EQ(engine_->counters().job_classes, 20);
  // Kept: the 5 emptied last (16..20 minutes). (No pass needed their shape
  // numbered: every job started at once. A class that numbers a shape is
  // kept while it does, see NumberShape.)
  EXPECT_EQ(engine_->counters().job_classes_held, 5);
  Submit(WholeNodeJob(20));  // its class is kept
  Submit(WholeNodeJob(16));  // so is this one
  EXPECT_EQ(engine_->counters().job_classes, 20);
  Submit(WholeNodeJob(10));  // freed: made anew
  EXPECT_EQ(engine_->counters().job_classes, 21);
  EXPECT_EQ(engine_->counters().job_classes_held, 6);
}

// The class that numbers a shape is kept while it does, however few idle
// classes are kept: here a waiting job's pass numbered it.
TEST_F(LifecycleTest, RetentionKeepsTheClassThatNumbersItsShape) {
  Make({.policies = {.backfill = BackfillOptions{}}, .history_retention = kSecond, .idle_job_classes_kept = 0});
  Add(GpuNode("g0", 8));
  const JobId a = Submit(WholeNodeJob(1));
  SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, a), nullptr);
  const JobId b = Submit(WholeNodeJob(2));
  ASSERT_EQ(StartOf(Tick(), b), nullptr);  // no room: the failure numbers b's shape with b's class
  Finish(r, *StartOf(r, a));
  r = Tick();
  ASSERT_NE(StartOf(r, b), nullptr);
  Finish(r, *StartOf(r, b));
  clock_.Advance(2 * kSecond);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_jobs, 2);
  EXPECT_EQ(engine_->counters().job_classes, 2);
  EXPECT_EQ(engine_->counters().job_classes_held, 1);  // b's: it numbers the shape
}

// A cancelled job whose killed task has not exited yet still holds its
// node: it is pruned only once the executor reports the exit (which must
// still find the job, or the node's GPUs would never be freed).
TEST_F(LifecycleTest, RetentionWaitsForKilledTasksToExit) {
  Make({.history_retention = kSecond});
  Add(GpuNode("g0", 8));
  const JobId j = Submit(GpuJob("j", 8));
  SchedulingRound r = Tick();
  const Decision d = *StartOf(r, j);
  StartAll(r, d);
  ASSERT_TRUE(engine_->Cancel(j).ok());
  clock_.Advance(kMinute);
  Tick();
  EXPECT_EQ(State(j), JobState::kCancelled);
  EXPECT_EQ(engine_->counters().pruned_jobs, 0);
  ASSERT_TRUE(engine_->TaskExited({.job = j, .token = d.token, .task = 0, .signal = 15}).ok());
  EXPECT_EQ(engine_->GetUtilization().allocated.gpus(), 0);
  Tick();
  EXPECT_EQ(engine_->GetJob(j).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->counters().pruned_jobs, 1);
}

TEST_F(LifecycleTest, BadOptionsAndSpecsAreRefused) {
  EXPECT_EQ(Engine::Create({.clock = &clock_, .heartbeat_interval = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .missed_heartbeats = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .history_retention = -kDay}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Engine::Create({.clock = &clock_, .idle_job_classes_kept = -1}).status().message(),
            "engine options: idle_job_classes_kept = -1: must be >= 0");
  JobSpec spec = GpuJob("x", 1);
  spec.retry.backoff_base = -kSecond;
  EXPECT_EQ(engine_->Submit(spec).status().message(), "job \"x\": retry.backoff_base = -1.0s: must be >= 0");
  spec = GpuJob("x", 1);
  spec.progress_timeout = -1;
  EXPECT_EQ(engine_->Submit(spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = GpuJob("x", 1);
  spec.dependencies = {{.job = JobId(77)}};
  EXPECT_EQ(engine_->Submit(spec).status().message(), "job \"x\": dependencies[0].job = #77: unknown job");
  EXPECT_EQ(engine_->job_count(), 0);
}

}  // namespace
}  // namespace mlsched
