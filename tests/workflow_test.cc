// Workflows and job dependencies through the engine.
#include <gtest/gtest.h>

#include "fmt/format.h"
#include "mlsched/engine.h"
#include "test_support.h"

namespace mlsched {
namespace {

using testing_util::EngineFixture;
using testing_util::GpuJob;
using testing_util::GpuNode;
using testing_util::kGi;

class WorkflowTest : public EngineFixture {
 protected:
  void SetUp() override {
    Make();
    Add(GpuNode("g0", 8));
  }
  // Runs every start of one tick to success; returns the jobs started.
  std::vector<JobId> RunTickToSuccess(int code = 0) {
    const SchedulingRound r = Tick();
    std::vector<JobId> started;
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kStart) continue;
      started.push_back(d.job);
      Finish(r, d, code);
    }
    return started;
  }
  WorkflowSpec Pipeline() {
    return {.name = "nightly",
            .jobs = {GpuJob("prep", 1), GpuJob("train", 4), GpuJob("eval", 1), GpuJob("publish", 1)},
            .edges = {{"prep", "train"}, {"train", "eval"}, {"eval", "publish"}}};
  }
};

TEST_F(WorkflowTest, ReleasesJobsAsParentsSucceed) {
  const WorkflowSubmission sub = engine_->SubmitWorkflow(Pipeline()).value();
  ASSERT_EQ(sub.jobs.size(), 4u);
  EXPECT_EQ(State(sub.jobs[0]), JobState::kQueued);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(State(sub.jobs[i]), JobState::kWaitingDeps);
  EXPECT_EQ(engine_->Explain(sub.jobs[1]).value().verdict, Explanation::Verdict::kHeld);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{sub.jobs[i]}) << i;
    clock_.Advance(kMinute);
  }
  const WorkflowStatus st = engine_->GetWorkflow(sub.id).value();
  EXPECT_TRUE(st.finished);
  EXPECT_TRUE(st.succeeded);
  EXPECT_EQ(st.by_state[static_cast<int>(JobState::kSucceeded)], 4);
  // The workflow's edges are in the children's specs.
  ASSERT_EQ(engine_->GetSpec(sub.jobs[1])->dependencies.size(), 1u);
  EXPECT_EQ(engine_->GetSpec(sub.jobs[1])->dependencies[0].job, sub.jobs[0]);
  EXPECT_EQ(engine_->GetJob(sub.jobs[2]).value().workflow, sub.id);
}

TEST_F(WorkflowTest, FanInWaitsForEveryParent) {
  WorkflowSpec wf{.name = "fan", .jobs = {GpuJob("a", 1), GpuJob("b", 1), GpuJob("join", 1)},
                  .edges = {{"a", "join"}, {"b", "join"}}};
  const WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  SchedulingRound r = Tick();
  ASSERT_NE(StartOf(r, sub.jobs[0]), nullptr);
  ASSERT_NE(StartOf(r, sub.jobs[1]), nullptr);
  Finish(r, *StartOf(r, sub.jobs[0]));
  EXPECT_EQ(State(sub.jobs[2]), JobState::kWaitingDeps);
  EXPECT_EQ(engine_->Explain(sub.jobs[2]).value().reason, "waiting for 1 dependency to be met");
  Finish(r, *StartOf(r, sub.jobs[1]));
  EXPECT_EQ(State(sub.jobs[2]), JobState::kQueued);
}

TEST_F(WorkflowTest, FailurePropagatesAsUpstreamFailedThroughTheChain) {
  const WorkflowSubmission sub = engine_->SubmitWorkflow(Pipeline()).value();
  RunTickToSuccess(/*code=*/1);  // prep fails permanently: dead-lettered
  EXPECT_EQ(State(sub.jobs[0]), JobState::kDeadLettered);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(State(sub.jobs[i]), JobState::kUpstreamFailed) << i;
  const JobStatus train = engine_->GetJob(sub.jobs[1]).value();
  EXPECT_NE(train.reason.find("dependency afterok on job \"prep\""), std::string::npos) << train.reason;
  EXPECT_NE(train.reason.find("ended DeadLettered"), std::string::npos) << train.reason;
  const WorkflowStatus st = engine_->GetWorkflow(sub.id).value();
  EXPECT_TRUE(st.finished);
  EXPECT_FALSE(st.succeeded);
  EXPECT_EQ(st.by_state[static_cast<int>(JobState::kUpstreamFailed)], 3);
}

TEST_F(WorkflowTest, CancelPolicyCancelsDependents) {
  WorkflowSpec wf = Pipeline();
  wf.on_upstream_failure = UpstreamFailure::kCancel;
  const WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  ASSERT_TRUE(engine_->Cancel(sub.jobs[1]).ok());
  EXPECT_EQ(State(sub.jobs[2]), JobState::kCancelled);
  EXPECT_EQ(State(sub.jobs[3]), JobState::kCancelled);
  EXPECT_EQ(State(sub.jobs[0]), JobState::kQueued);  // upstream jobs are not touched
}

TEST_F(WorkflowTest, AfterAnyAndAfterFailureEdges) {
  WorkflowSpec wf{.name = "handlers",
                  .jobs = {GpuJob("train", 1), GpuJob("cleanup", 1), GpuJob("alert", 1), GpuJob("report", 1)},
                  .edges = {{"train", "cleanup", DependencyKind::kAfterAny},
                            {"train", "alert", DependencyKind::kAfterFailure},
                            {"train", "report", DependencyKind::kAfterSuccess}}};
  WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  RunTickToSuccess(/*code=*/2);  // train fails
  EXPECT_EQ(State(sub.jobs[1]), JobState::kQueued);
  EXPECT_EQ(State(sub.jobs[2]), JobState::kQueued);
  EXPECT_EQ(State(sub.jobs[3]), JobState::kUpstreamFailed);
  // And when train succeeds: the failure handler can never run.
  wf.name = "handlers-2";
  sub = engine_->SubmitWorkflow(wf).value();
  while (State(sub.jobs[0]) != JobState::kSucceeded) RunTickToSuccess();
  EXPECT_EQ(State(sub.jobs[2]), JobState::kUpstreamFailed);
  EXPECT_NE(State(sub.jobs[3]), JobState::kUpstreamFailed);
}

TEST_F(WorkflowTest, DependenciesOnExistingJobs) {
  const JobId parent = Submit(GpuJob("parent", 1));
  JobSpec child = GpuJob("child", 1);
  child.dependencies = {{.job = parent}};
  const JobId c = Submit(child);
  EXPECT_EQ(State(c), JobState::kWaitingDeps);
  EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{parent});
  EXPECT_EQ(State(c), JobState::kQueued);
  // On a job that already succeeded: queued at once; on one that failed: upstream-failed at once.
  child.name = "late";
  EXPECT_EQ(State(Submit(child)), JobState::kQueued);
  const JobId x = Submit(GpuJob("x", 1));
  ASSERT_TRUE(engine_->Cancel(x).ok());
  JobSpec on_cancelled = GpuJob("on-cancelled", 1);
  on_cancelled.dependencies = {{.job = x}};
  const JobId oc = Submit(on_cancelled);
  EXPECT_EQ(State(oc), JobState::kUpstreamFailed);
  EXPECT_NE(engine_->GetJob(oc).value().reason.find("ended Cancelled"), std::string::npos);
}

TEST_F(WorkflowTest, BadWorkflowsAreRefusedWholeAndChangeNothing) {
  const std::int64_t before = engine_->job_count();
  struct Case {
    WorkflowSpec spec;
    std::string message;
  };
  WorkflowSpec cycle = Pipeline();
  cycle.edges.push_back({"publish", "train"});
  WorkflowSpec self = Pipeline();
  self.edges.push_back({"eval", "eval"});
  WorkflowSpec unknown = Pipeline();
  unknown.edges.push_back({"prep", "trian"});
  WorkflowSpec dup = Pipeline();
  dup.jobs.push_back(GpuJob("prep", 1));
  WorkflowSpec bad_job = Pipeline();
  bad_job.jobs[2].retry.max_attempts = 0;
  WorkflowSpec bad_dep = Pipeline();
  bad_dep.jobs[0].dependencies = {{.job = JobId(999)}};
  const Case cases[] = {
      {cycle, "workflow \"nightly\": dependency cycle: train -> eval -> publish -> train"},
      {self, "workflow \"nightly\": dependency cycle: eval -> eval"},
      {unknown, "workflow \"nightly\": edges[3].child = \"trian\": no job of that name"},
      {dup, "workflow \"nightly\": jobs[4].name = \"prep\": jobs[0] has the same name"},
      {bad_job, "workflow \"nightly\": jobs[2]: job \"eval\": retry.max_attempts = 0"},
      {bad_dep, "workflow \"nightly\": jobs[0]: job \"prep\": dependencies[0].job = #999: unknown job"},
      {{.name = "empty"}, "workflow \"empty\": jobs: a workflow has at least one job"},
  };
  for (const Case& c : cases) {
    auto sub = engine_->SubmitWorkflow(c.spec);
    ASSERT_FALSE(sub.ok()) << c.message;
    EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(sub.status().message().find(c.message), std::string::npos) << sub.status() << "\nwanted " << c.message;
  }
  EXPECT_EQ(engine_->job_count(), before);
  EXPECT_EQ(engine_->GetWorkflow(WorkflowId(0)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(WorkflowTest, IdempotencyKeyReturnsTheFirstWorkflow) {
  WorkflowSpec wf = Pipeline();
  wf.idempotency_key = "nightly-2026-12-03";
  const WorkflowSubmission a = engine_->SubmitWorkflow(wf).value();
  const WorkflowSubmission b = engine_->SubmitWorkflow(wf).value();
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.jobs, b.jobs);
  EXPECT_EQ(engine_->job_count(), 4);
}

TEST_F(WorkflowTest, CriticalPathFollowsTheLongestRunningChain) {
  // a -> b -> d and a -> c -> d; c runs longest.
  WorkflowSpec wf{.name = "diamond", .jobs = {GpuJob("a", 1), GpuJob("b", 1), GpuJob("c", 1), GpuJob("d", 1)},
                  .edges = {{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}}};
  const WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  SchedulingRound r = Tick();
  clock_.Advance(10 * kSecond);
  Finish(r, *StartOf(r, sub.jobs[0]));
  r = Tick();
  clock_.Advance(5 * kSecond);
  Finish(r, *StartOf(r, sub.jobs[1]));
  clock_.Advance(20 * kSecond);
  Finish(r, *StartOf(r, sub.jobs[2]));
  r = Tick();
  clock_.Advance(3 * kSecond);  // d still running
  const WorkflowStatus st = engine_->GetWorkflow(sub.id).value();
  EXPECT_EQ(st.critical_path, (std::vector<JobId>{sub.jobs[0], sub.jobs[2], sub.jobs[3]}));
  EXPECT_EQ(st.critical_path_length, 10 * kSecond + 25 * kSecond + 3 * kSecond);
  EXPECT_FALSE(st.finished);
  EXPECT_EQ(st.by_state[static_cast<int>(JobState::kStarting)], 1);
}

TEST_F(WorkflowTest, LargeLayeredWorkflowReleasesEveryJob) {
  // 20 layers of 50 jobs, each job depending on 3 jobs of the layer before.
  WorkflowSpec wf{.name = "layers"};
  constexpr int kLayers = 20, kWidth = 50;
  for (int l = 0; l < kLayers; ++l) {
    for (int i = 0; i < kWidth; ++i) {
      JobSpec s = GpuJob(fmt::format("l{}-{}", l, i), 0);
      s.task_groups[0].per_task = ResourceVector::Of(100, kGi, 0);
      wf.jobs.push_back(s);
      if (l == 0) continue;
      for (int k = 0; k < 3; ++k) wf.edges.push_back({fmt::format("l{}-{}", l - 1, (i + k * 17) % kWidth), wf.jobs.back().name});
    }
  }
  const WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  std::vector<int> finished_layer(sub.jobs.size(), -1);
  for (int step = 0; step < 100 && !engine_->GetWorkflow(sub.id).value().finished; ++step) {
    const std::vector<JobId> started = RunTickToSuccess();
    for (JobId j : started) {
      const int idx = static_cast<int>(j.value() - sub.jobs[0].value());
      finished_layer[idx] = step;
      // Every parent finished in an earlier step.
      for (const Dependency& d : engine_->GetSpec(j)->dependencies)
        EXPECT_LT(finished_layer[d.job.value() - sub.jobs[0].value()], step);
    }
  }
  EXPECT_TRUE(engine_->GetWorkflow(sub.id).value().succeeded);
}

// Under history retention a workflow's jobs are pruned one by one as they
// end, but the workflow's status still reads them all (their states and
// ids) until its last job is pruned; then the workflow goes too, and its
// idempotency key is free for a new workflow.
TEST_F(WorkflowTest, RetentionPrunesAWorkflowWithItsLastJob) {
  Make({.history_retention = kMinute});
  Add(GpuNode("g0", 8));
  WorkflowSpec spec = Pipeline();
  spec.idempotency_key = "nightly-1";
  const WorkflowSubmission sub = engine_->SubmitWorkflow(spec).value();
  EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{sub.jobs[0]});  // prep
  clock_.Advance(kHour);
  EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{sub.jobs[1]});  // train; prep is pruned
  EXPECT_EQ(engine_->GetJob(sub.jobs[0]).status().code(), absl::StatusCode::kNotFound);
  WorkflowStatus st = engine_->GetWorkflow(sub.id).value();
  EXPECT_EQ(st.by_state[static_cast<int>(JobState::kSucceeded)], 2);
  EXPECT_EQ(st.jobs, sub.jobs);
  EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{sub.jobs[2]});
  EXPECT_EQ(RunTickToSuccess(), std::vector<JobId>{sub.jobs[3]});
  clock_.Advance(kMinute - 1);
  Tick();
  st = engine_->GetWorkflow(sub.id).value();  // its last jobs ended a minute ago, less 1 us
  EXPECT_TRUE(st.finished && st.succeeded);
  EXPECT_EQ(engine_->counters().pruned_workflows, 0);
  EXPECT_EQ(engine_->SubmitWorkflow(spec).value().id, sub.id);  // the key still names it
  clock_.Advance(2);
  Tick();
  EXPECT_EQ(engine_->counters().pruned_workflows, 1);
  EXPECT_EQ(engine_->counters().pruned_jobs, 4);
  const absl::StatusOr<WorkflowStatus> gone = engine_->GetWorkflow(sub.id);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), fmt::format("workflow #{}: pruned by history retention", sub.id.value()));
  const WorkflowSubmission again = engine_->SubmitWorkflow(spec).value();
  EXPECT_NE(again.id, sub.id);
  EXPECT_EQ(engine_->GetWorkflow(again.id).value().jobs, again.jobs);
}

}  // namespace
}  // namespace mlsched
