// RecordingExecutor: remembers live attempts and enforces fencing tokens.
// Dispatch() needs an Engine and is tested with the engine.
#include "mlsched/executor.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "mlsched/decision.h"
#include "mlsched/gpu.h"
#include "mlsched/ids.h"
#include "mlsched/job_state.h"

namespace mlsched {
namespace {

constexpr FencingToken Token(std::uint32_t epoch, std::uint32_t attempt) {
  return FencingToken{.epoch = epoch, .attempt = attempt};
}

LaunchRequest Request(JobId job, FencingToken token, std::span<const TaskPlacement> tasks = {}) {
  return LaunchRequest{.job = job, .token = token, .spec = nullptr, .tasks = tasks};
}

::testing::AssertionResult Refused(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kFailedPrecondition) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected FailedPrecondition, got " << s;
}

TEST(RecordingExecutor, IsNamedRecordingAndStartsEmpty) {
  RecordingExecutor executor;
  EXPECT_EQ(executor.name(), "recording");
  EXPECT_TRUE(executor.live().empty());
  EXPECT_EQ(executor.launches(), 0);
  EXPECT_EQ(executor.kills(), 0);
  EXPECT_EQ(executor.checkpoint_signals(), 0);
}

TEST(RecordingExecutor, RecordsALaunchWithACopyOfItsTasks) {
  RecordingExecutor executor;
  std::vector<TaskPlacement> tasks = {
      {.task = 0, .group = 0, .node = NodeId(2), .gpus = GpuSet::FirstN(4)},
      {.task = 1, .group = 0, .node = NodeId(3), .gpus = GpuSet::FromMask(0xf0)},
  };
  const std::vector<TaskPlacement> expected = tasks;
  ASSERT_TRUE(executor.Launch(Request(JobId(7), Token(1, 1), tasks)).ok());
  tasks[0].node = NodeId(99);  // the caller's buffer is reused after the call
  tasks.clear();
  ASSERT_EQ(executor.live().size(), 1u);
  const RecordingExecutor::LiveAttempt& a = executor.live()[0];
  EXPECT_EQ(a.job, JobId(7));
  EXPECT_EQ(a.token, Token(1, 1));
  EXPECT_EQ(a.tasks, expected);
  EXPECT_FALSE(a.kill_requested);
  EXPECT_EQ(executor.launches(), 1);
}

TEST(RecordingExecutor, ListsLiveAttemptsInLaunchOrder) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(5), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(0), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(5), Token(1, 2))).ok());
  ASSERT_EQ(executor.live().size(), 3u);
  EXPECT_EQ(executor.live()[0].job, JobId(5));
  EXPECT_EQ(executor.live()[1].job, JobId(0));
  EXPECT_EQ(executor.live()[2].job, JobId(5));
  EXPECT_EQ(executor.live()[2].token, Token(1, 2));
  EXPECT_EQ(executor.launches(), 3);
}

TEST(RecordingExecutor, RefusesALaunchWithTheSameToken) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  const absl::Status s = executor.Launch(Request(JobId(1), Token(1, 1)));
  EXPECT_TRUE(Refused(s));
  EXPECT_NE(std::string(s.message()).find("e1/a1"), std::string::npos) << s;
  EXPECT_EQ(executor.live().size(), 1u);
  EXPECT_EQ(executor.launches(), 1);
}

TEST(RecordingExecutor, RefusesALaunchWithAnOlderAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 3))).ok());
  EXPECT_TRUE(Refused(executor.Launch(Request(JobId(1), Token(1, 2)))));
  EXPECT_EQ(executor.launches(), 1);
}

TEST(RecordingExecutor, RefusesALaunchFromAnOlderEpoch) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(2, 1))).ok());
  // A higher attempt number does not outrank a newer epoch.
  const absl::Status s = executor.Launch(Request(JobId(1), Token(1, 9)));
  EXPECT_TRUE(Refused(s));
  EXPECT_NE(std::string(s.message()).find("e1/a9"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("e2/a1"), std::string::npos) << s;
  EXPECT_EQ(executor.launches(), 1);
}

TEST(RecordingExecutor, AcceptsANewerEpochWithALowerAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 5))).ok());
  EXPECT_TRUE(executor.Launch(Request(JobId(1), Token(2, 1))).ok());
  EXPECT_EQ(executor.launches(), 2);
}

TEST(RecordingExecutor, FencesEachJobSeparately) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(0), Token(3, 4))).ok());
  EXPECT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  EXPECT_TRUE(executor.Launch(Request(JobId(1000), Token(1, 1))).ok());
  EXPECT_EQ(executor.launches(), 3);
}

TEST(RecordingExecutor, StillRefusesAnOldTokenAfterTheAttemptIsForgotten) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(4), Token(1, 1))).ok());
  executor.Forget(JobId(4), Token(1, 1));
  EXPECT_TRUE(Refused(executor.Launch(Request(JobId(4), Token(1, 1)))));
  EXPECT_TRUE(executor.Launch(Request(JobId(4), Token(1, 2))).ok());
}

TEST(RecordingExecutor, KillMarksTheLiveAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(2), Token(1, 1))).ok());
  EXPECT_TRUE(executor.Kill(JobId(2), Token(1, 1), 30 * kSecond).ok());
  EXPECT_EQ(executor.kills(), 1);
  ASSERT_EQ(executor.live().size(), 2u);  // still live until its exits are reported
  EXPECT_FALSE(executor.live()[0].kill_requested);
  EXPECT_TRUE(executor.live()[1].kill_requested);
}

TEST(RecordingExecutor, RefusesToKillAnUnknownAttempt) {
  RecordingExecutor executor;
  EXPECT_TRUE(Refused(executor.Kill(JobId(1), Token(1, 1), 0)));
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  EXPECT_TRUE(Refused(executor.Kill(JobId(1), Token(1, 2), 0)));  // not launched yet
  EXPECT_TRUE(Refused(executor.Kill(JobId(2), Token(1, 1), 0)));  // other job
  EXPECT_EQ(executor.kills(), 0);
  EXPECT_FALSE(executor.live()[0].kill_requested);
}

TEST(RecordingExecutor, RefusesToKillAForgottenAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  executor.Forget(JobId(1), Token(1, 1));
  EXPECT_TRUE(Refused(executor.Kill(JobId(1), Token(1, 1), 0)));
  EXPECT_EQ(executor.kills(), 0);
}

TEST(RecordingExecutor, SignalsACheckpointToALiveAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(3), Token(1, 1))).ok());
  EXPECT_TRUE(executor.SignalCheckpoint(JobId(3), Token(1, 1)).ok());
  EXPECT_TRUE(executor.SignalCheckpoint(JobId(3), Token(1, 1)).ok());
  EXPECT_EQ(executor.checkpoint_signals(), 2);
  EXPECT_FALSE(executor.live()[0].kill_requested);
}

TEST(RecordingExecutor, RefusesACheckpointSignalForAnUnknownAttempt) {
  RecordingExecutor executor;
  EXPECT_TRUE(Refused(executor.SignalCheckpoint(JobId(3), Token(1, 1))));
  ASSERT_TRUE(executor.Launch(Request(JobId(3), Token(1, 1))).ok());
  executor.Forget(JobId(3), Token(1, 1));
  EXPECT_TRUE(Refused(executor.SignalCheckpoint(JobId(3), Token(1, 1))));
  EXPECT_EQ(executor.checkpoint_signals(), 0);
}

// executor.h: "An executor must refuse a command whose token is older than one
// it has already seen for the same job (kFailedPrecondition)". Kill and
// SignalCheckpoint are commands too, even while the older attempt is live.
TEST(RecordingExecutor, KillWithAnOlderTokenStopsOnlyThatStillLiveAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(2, 1))).ok());  // fail-over relaunch
  ASSERT_TRUE(executor.Kill(JobId(1), Token(1, 1), 0).ok());
  ASSERT_EQ(executor.live().size(), 2u);
  EXPECT_TRUE(executor.live()[0].kill_requested);
  EXPECT_FALSE(executor.live()[1].kill_requested);  // the newer attempt is untouched
  executor.Forget(JobId(1), Token(1, 1));
  EXPECT_TRUE(Refused(executor.Kill(JobId(1), Token(1, 1), 0)));
  EXPECT_TRUE(Refused(executor.SignalCheckpoint(JobId(1), Token(1, 1))));
  EXPECT_EQ(executor.kills(), 1);
  EXPECT_EQ(executor.checkpoint_signals(), 0);
}

TEST(RecordingExecutor, ForgetRemovesOnlyThatAttempt) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(2), Token(1, 1))).ok());
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 2))).ok());
  executor.Forget(JobId(1), Token(1, 1));
  ASSERT_EQ(executor.live().size(), 2u);
  EXPECT_EQ(executor.live()[0].job, JobId(2));
  EXPECT_EQ(executor.live()[1].job, JobId(1));
  EXPECT_EQ(executor.live()[1].token, Token(1, 2));
  EXPECT_EQ(executor.launches(), 3);  // counters are history, not live state
}

TEST(RecordingExecutor, ForgettingAnUnknownAttemptChangesNothing) {
  RecordingExecutor executor;
  ASSERT_TRUE(executor.Launch(Request(JobId(1), Token(1, 1))).ok());
  executor.Forget(JobId(1), Token(1, 2));
  executor.Forget(JobId(9), Token(1, 1));
  ASSERT_EQ(executor.live().size(), 1u);
  EXPECT_EQ(executor.live()[0].token, Token(1, 1));
}

TEST(RecordingExecutor, IsUsableThroughTheExecutorInterface) {
  RecordingExecutor recording;
  Executor& executor = recording;
  EXPECT_EQ(executor.name(), "recording");
  ASSERT_TRUE(executor.Launch(Request(JobId(0), Token(1, 1))).ok());
  EXPECT_TRUE(executor.SignalCheckpoint(JobId(0), Token(1, 1)).ok());
  EXPECT_TRUE(executor.Kill(JobId(0), Token(1, 1), kSecond).ok());
  EXPECT_EQ(recording.launches(), 1);
  EXPECT_EQ(recording.checkpoint_signals(), 1);
  EXPECT_EQ(recording.kills(), 1);
}

// Caps the address space of this (forked death-test) process a little above
// what it uses, so an attempt at a huge allocation fails fast instead of
// exhausting the machine's memory.
void CapAddressSpace() {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  const rlim_t limit = static_cast<rlim_t>(pages) * 4096 + (rlim_t{512} << 20);
  const rlimit r{.rlim_cur = limit, .rlim_max = limit};
  setrlimit(RLIMIT_AS, &r);
}

// JobId() is "no id" (ids.h); a launch carrying it is a host bug that the
// executor should refuse, not a reason to size a table by its value (2^32).
TEST(RecordingExecutorDeathTest, RefusesALaunchWithoutAJobIdInsteadOfExhaustingMemory) {
  EXPECT_EXIT(
      {
        CapAddressSpace();
        RecordingExecutor executor;
        const absl::Status s = executor.Launch(Request(JobId(), Token(1, 1)));
        std::exit(s.ok() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace mlsched
