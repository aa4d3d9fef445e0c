// The engine driven live: a RealClock, the Runner loop, real processes on the
// LocalExecutor. Time limits, cancellation, preemption with a checkpoint and
// a resumed retry, GPU health from (fake) NVML, refused launches.
#include "mlsched/exec/runner.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "exec_test_support.h"
#include "gtest/gtest.h"
#include "mlsched/engine.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/exec/local_node.h"

namespace mlsched {
namespace {

using testing::ReadFile;
using testing::ScratchDir;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::ClearFakeNvml(); }
  void Start(int gpus, std::optional<PreemptionOptions> preemption = std::nullopt, bool fake_nvml = false) {
    PolicySet policies = DefaultPolicySet();
    policies.preemption = preemption;
    engine_ = Engine::Create({.clock = &clock_, .seed = 1, .policies = policies, .kill_grace = kSecond}).value();
    GpuMonitorOptions gopt{.use_nvml = fake_nvml, .simulated_gpus = gpus};
    if (fake_nvml) gopt.nvml_library = FAKE_NVML_PATH;
    monitor_ = GpuMonitor::Open(gopt).value();
    NodeSpec spec = LocalNodeSpec(engine_->catalog(), *monitor_, {.cpu_millis = 8000}).value();
    node_ = engine_->AddNode(spec).value();
    executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .node = node_}).value();
    runner_ = std::make_unique<Runner>(RunnerOptions{.engine = engine_.get(),
                                                     .clock = &clock_,
                                                     .executor = executor_.get(),
                                                     .gpus = monitor_.get(),
                                                     .node = node_,
                                                     .health_interval = 200 * kMillisecond,
                                                     .max_wait = 100 * kMillisecond,
                                                     .on_event = [this](const ExecutorEvent& e) {
                                                       seen_.push_back(e);
                                                     }});
  }
  JobSpec Job(std::string name, std::string script, int gpus = 0, int tasks = 1) {
    return JobSpec{.name = name, .tenant = "t", .user = "u",
                   .task_groups = {{.name = "g", .count = tasks, .per_task = ResourceVector::Of(100, 0, gpus)}},
                   .command = {.argv = {dir_.Script(name + ".sh", script)}}};
  }
  bool Terminal(JobId j) { return IsTerminal(engine_->GetState(j).value()); }
  JobState State(JobId j) { return engine_->GetState(j).value(); }
  absl::Status RunUntil(const std::function<bool()>& done) {
    return runner_->RunUntil(done, testing::kPatience);
  }
  absl::Status RunToEnd(std::vector<JobId> jobs) {
    return RunUntil([&] {
      for (JobId j : jobs)
        if (!Terminal(j)) return false;
      return executor_->live_tasks() == 0;
    });
  }

  ScratchDir dir_;
  RealClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<GpuMonitor> monitor_;
  std::unique_ptr<LocalExecutor> executor_;
  std::unique_ptr<Runner> runner_;
  std::vector<ExecutorEvent> seen_;
  NodeId node_;
};

TEST_F(RunnerTest, WorkflowOfRealProcessesRunsToCompletionWithGpusPinned) {
  Start(2);
  std::string out = dir_.path();
  WorkflowSpec wf{.name = "pipe",
                  .jobs = {Job("prep", "echo prepared > " + out + "/prep.txt"),
                           Job("train", "cat " + out + "/prep.txt >/dev/null && echo $CUDA_VISIBLE_DEVICES > " + out +
                                            "/train-$MLSCHED_GANG_RANK.txt", 1, 2),
                           Job("eval", "cat " + out + "/train-0.txt " + out + "/train-1.txt > " + out + "/eval.txt")},
                  .edges = {{"prep", "train"}, {"train", "eval"}}};
  WorkflowSubmission sub = engine_->SubmitWorkflow(wf).value();
  ASSERT_TRUE(RunToEnd(sub.jobs).ok());
  for (JobId j : sub.jobs) EXPECT_EQ(State(j), JobState::kSucceeded) << engine_->GetJob(j)->reason;
  std::string eval = ReadFile(out + "/eval.txt");
  EXPECT_TRUE(eval == "0\n1\n" || eval == "1\n0\n") << eval;
}

TEST_F(RunnerTest, TimeLimitKillsTheTaskAndTheJobTimesOut) {
  Start(0);
  std::string pidfile = dir_.File("pid");
  JobSpec spec = Job("slow", "echo $$ > " + pidfile + "; exec sleep 1000");
  spec.time_limit = 500 * kMillisecond;
  JobId j = engine_->Submit(spec).value();
  ASSERT_TRUE(RunToEnd({j}).ok());
  JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kDeadLettered);
  ASSERT_EQ(st.attempts.size(), 1u);
  EXPECT_EQ(st.attempts[0].outcome, AttemptEnd::kTimedOut);
  EXPECT_TRUE(testing::ProcessGone(std::stoi(ReadFile(pidfile))));
}

TEST_F(RunnerTest, CancelStopsTheRunningTask) {
  Start(0);
  std::string pidfile = dir_.File("pid");
  JobId j = engine_->Submit(Job("long", "echo $$ > " + pidfile + "; exec sleep 1000")).value();
  ASSERT_TRUE(RunUntil([&] { return State(j) == JobState::kRunning && !ReadFile(pidfile).empty(); }).ok());
  ASSERT_TRUE(engine_->Cancel(j).ok());
  ASSERT_TRUE(RunToEnd({j}).ok());
  EXPECT_EQ(State(j), JobState::kCancelled);
  EXPECT_TRUE(testing::ProcessGone(std::stoi(ReadFile(pidfile))));
}

// A preemptible low-priority job holds the only GPU. A high-priority job
// arrives: the victim is asked for a checkpoint (SIGUSR1), writes it, reports
// it and is killed after the grace period; the high job runs; the victim's
// retry starts from the checkpoint.
TEST_F(RunnerTest, PreemptionAsksForACheckpointAndTheRetryResumesFromIt) {
  Start(1, PreemptionOptions{.grace = 2 * kSecond, .min_runtime = 0});
  std::string result = dir_.File("result");
  std::string ready = dir_.File("ready");
  JobSpec low = Job("low",
                    "if [ -n \"$MLSCHED_RESUME_STEP\" ]; then\n"
                    "  echo \"resumed $MLSCHED_RESUME_STEP $(cat ${MLSCHED_RESUME_URI#file://})\" > " + result + "\n"
                    "  exit 0\n"
                    "fi\n"
                    "trap 'echo state-42 > $MLSCHED_CHECKPOINT_DIR/ckpt;"
                     " echo \"checkpoint 42 file://$MLSCHED_CHECKPOINT_DIR/ckpt\" >&$MLSCHED_REPORT_FD' USR1\n"
                    "echo ready > " + ready + "\n"
                    "while :; do sleep 0.1; done",
                    1);
  low.priority_class = PriorityClass::kLow;
  low.preemptible = true;
  low.retry.max_attempts = 1;  // preemptions do not use up attempts
  JobId lj = engine_->Submit(low).value();
  // The signal's default action would end the task: wait until it has its handler.
  ASSERT_TRUE(RunUntil([&] { return State(lj) == JobState::kRunning && !ReadFile(ready).empty(); }).ok());
  JobSpec high = Job("high", "exit 0", 1);
  high.priority_class = PriorityClass::kHigh;
  JobId hj = engine_->Submit(high).value();
  ASSERT_TRUE(RunToEnd({lj, hj}).ok());
  EXPECT_EQ(State(hj), JobState::kSucceeded);
  JobStatus st = engine_->GetJob(lj).value();
  EXPECT_EQ(st.state, JobState::kSucceeded) << st.reason;
  ASSERT_EQ(st.attempts.size(), 2u);
  EXPECT_EQ(st.attempts[0].outcome, AttemptEnd::kPreempted);
  EXPECT_EQ(st.attempts[1].resumed_from_step, 42);
  EXPECT_EQ(ReadFile(result), "resumed 42 state-42\n");
}

TEST_F(RunnerTest, FailingStepIsRetriedUntilItSucceeds) {
  Start(0);
  std::string count = dir_.File("count");
  JobSpec flaky = Job("flaky", "n=$(cat " + count + " 2>/dev/null || echo 0); echo $((n+1)) > " + count +
                                   "; [ $n -ge 1 ]");
  flaky.retry = {.max_attempts = 3, .backoff_base = 0, .backoff_cap = 0, .retry_permanent = true};
  JobId j = engine_->Submit(flaky).value();
  ASSERT_TRUE(RunToEnd({j}).ok());
  JobStatus st = engine_->GetJob(j).value();
  EXPECT_EQ(st.state, JobState::kSucceeded) << st.reason;
  EXPECT_EQ(st.attempts.size(), 2u);
}

TEST_F(RunnerTest, UnhealthyGpuReportedByNvmlIsNotPlacedOn) {
  ::setenv("FAKE_NVML_COUNT", "2", 1);
  ::setenv("FAKE_NVML_ECC", "0:1", 1);
  Start(0, std::nullopt, /*fake_nvml=*/true);
  ::unsetenv("FAKE_NVML_ECC");
  std::string out = dir_.File("gpus");
  JobId j = engine_->Submit(Job("one-gpu", "echo $CUDA_VISIBLE_DEVICES > " + out, 1)).value();
  ASSERT_TRUE(RunToEnd({j}).ok());
  EXPECT_EQ(State(j), JobState::kSucceeded);
  EXPECT_EQ(ReadFile(out), "1\n");
  EXPECT_EQ(engine_->GetNode(node_)->unhealthy_gpus, GpuSet::FromMask(0b01));
}

TEST_F(RunnerTest, GpuTurningUnhealthyWhileRunningIsReportedToTheEngine) {
  ::setenv("FAKE_NVML_COUNT", "2", 1);
  Start(0, std::nullopt, /*fake_nvml=*/true);
  JobId j = engine_->Submit(Job("sleepy", "sleep 0.5", 1)).value();
  ASSERT_TRUE(RunUntil([&] { return State(j) == JobState::kRunning; }).ok());
  ::setenv("FAKE_NVML_XID", "1:48", 1);  // double-bit ECC error
  ASSERT_TRUE(RunUntil([&] { return !engine_->GetNode(node_)->unhealthy_gpus.empty(); }).ok());
  ::unsetenv("FAKE_NVML_XID");
  EXPECT_EQ(engine_->GetNode(node_)->unhealthy_gpus, GpuSet::FromMask(0b10));
  ASSERT_TRUE(RunToEnd({j}).ok());
}

TEST_F(RunnerTest, RefusedLaunchFailsThatJobAndTheOthersRun) {
  Start(0);
  JobSpec bad = Job("bad", "true", 0, /*tasks=*/3);
  bad.command.argv = {"no-such-program-mlsched"};
  JobId b = engine_->Submit(bad).value();
  JobId g = engine_->Submit(Job("good", "true")).value();
  ASSERT_TRUE(RunToEnd({b, g}).ok());
  EXPECT_EQ(State(g), JobState::kSucceeded);
  JobStatus st = engine_->GetJob(b).value();
  EXPECT_EQ(st.state, JobState::kDeadLettered);
  EXPECT_NE(st.reason.find("127"), std::string::npos) << st.reason;
  EXPECT_EQ(runner_->refused_launches(), 1);
  bool explained = false;
  for (const ExecutorEvent& e : seen_)
    explained |= e.job == b && e.detail.find("no-such-program-mlsched") != std::string::npos;
  EXPECT_TRUE(explained);
}

}  // namespace
}  // namespace mlsched
