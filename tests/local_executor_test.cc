// LocalExecutor with real processes: exits, signals, kills, descendants,
// GPU pinning, checkpoints, logs, and launches refused before anything starts.
#include "mlsched/exec/local_executor.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "exec_test_support.h"
#include "gtest/gtest.h"
#include "mlsched/job_spec.h"
#include "status_matchers.h"

namespace mlsched {
namespace {

using testing::Count;
using testing::Find;
using testing::PollUntil;
using testing::ProcessGone;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WaitForFile;
using testing_util::FailsMentioning;

constexpr FencingToken kToken{.epoch = 1, .attempt = 1};

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs")}).value();
  }

  JobSpec Spec(std::vector<std::string> argv, int tasks = 1) {
    return JobSpec{.name = "t", .tenant = "a", .user = "u",
                   .task_groups = {{.name = "g", .count = tasks, .per_task = ResourceVector::Of(1000, 0, 0)}},
                   .command = {.argv = std::move(argv)}};
  }
  std::vector<TaskPlacement> Placements(int tasks, GpuSet gpus = {}) {
    std::vector<TaskPlacement> out;
    for (int i = 0; i < tasks; ++i)
      out.push_back({.task = static_cast<std::uint32_t>(i), .group = 0, .node = NodeId(0), .gpus = gpus});
    return out;
  }
  absl::Status Launch(const JobSpec& spec, std::vector<TaskPlacement> placements, JobId job = JobId(1),
                      FencingToken token = kToken, const ResumeFrom* resume = nullptr) {
    placements_ = std::move(placements);
    return executor_->Launch({.job = job, .token = token, .spec = &spec, .tasks = placements_, .resume = resume});
  }
  // Waits for `n` exits.
  bool WaitExits(int n) {
    return PollUntil(*executor_, events_, [n](const auto& ev) { return Count(ev, ExecutorEventKind::kTaskExited) >= n; });
  }
  const ExecutorEvent& Exit(int task = 0) {
    const ExecutorEvent* e = Find(events_, ExecutorEventKind::kTaskExited, task);
    EXPECT_NE(e, nullptr);
    static ExecutorEvent none;
    return e != nullptr ? *e : none;
  }

  ScratchDir dir_;
  std::unique_ptr<LocalExecutor> executor_;
  std::vector<TaskPlacement> placements_;
  std::vector<ExecutorEvent> events_;
};

TEST_F(LocalExecutorTest, SuccessfulTaskReportsStartThenExitZeroAndLogsItsOutput) {
  JobSpec spec = Spec({"sh", "-c", "echo hello; echo oops >&2"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  EXPECT_EQ(executor_->live_tasks(), 1);
  ASSERT_TRUE(WaitExits(1));
  ASSERT_EQ(events_.front().kind, ExecutorEventKind::kTaskStarted);
  EXPECT_EQ(Exit().exit_code, 0);
  EXPECT_EQ(Exit().signal, 0);
  EXPECT_FALSE(Exit().killed_by_executor);
  EXPECT_EQ(Exit().token, kToken);
  EXPECT_EQ(executor_->live_tasks(), 0);
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), "hello\n");
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "err")), "oops\n");
}

TEST_F(LocalExecutorTest, NonZeroExitCodeIsReported) {
  JobSpec spec = Spec({"sh", "-c", "exit 3"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 3);
  EXPECT_EQ(Exit().signal, 0);
}

TEST_F(LocalExecutorTest, CrashBySignalIsReportedAsTheSignal) {
  JobSpec spec = Spec({"sh", "-c", "kill -SEGV $$"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGSEGV);
  EXPECT_FALSE(Exit().killed_by_executor);
  EXPECT_FALSE(Exit().oom_killed);
}

// The kernel's OOM killer ends a task in a memory-limited cgroup. The test
// puts itself in a fresh memory cgroup just long enough to launch the task
// (children inherit it), so it needs root and a writable cgroup v1 memory
// hierarchy or cgroup v2; elsewhere it is skipped.
class MemoryCgroup {
 public:
  MemoryCgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
      auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
      std::string ctl = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
      if (("," + ctl + ",").find(",memory,") != std::string::npos) {
        parent_ = "/sys/fs/cgroup/memory" + path;
        limit_file_ = "memory.limit_in_bytes";
      } else if (ctl.empty() && parent_.empty()) {
        parent_ = "/sys/fs/cgroup" + path;
        limit_file_ = "memory.max";
      }
    }
    if (parent_.empty()) return;
    dir_ = parent_ + "/mlsched-oom-" + std::to_string(::getpid());
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      dir_.clear();
      return;
    }
    std::ofstream(dir_ + "/" + limit_file_) << (64 << 20) << "\n";
    ok_ = ReadFile(dir_ + "/" + limit_file_).find("671") == 0;  // 67108864
  }
  ~MemoryCgroup() {
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool ok() const { return ok_; }
  bool Enter() { return Write(dir_, ::getpid()); }
  bool Leave() { return Write(parent_, ::getpid()); }

 private:
  static bool Write(const std::string& dir, pid_t pid) {
    std::ofstream out(dir + "/cgroup.procs");
    out << pid << "\n";
    out.flush();
    return out.good();
  }
  std::string parent_, limit_file_, dir_;
  bool ok_ = false;
};

TEST_F(LocalExecutorTest, OomKillIsRecognisedFromTheCgroupCounter) {
  MemoryCgroup cg;
  if (!cg.ok()) GTEST_SKIP() << "no writable memory cgroup here";
  JobSpec spec = Spec({"sh", "-c", "x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo survived"});
  if (!cg.Enter()) GTEST_SKIP() << "cannot move into the memory cgroup";
  absl::Status launched = Launch(spec, Placements(1));
  ASSERT_TRUE(cg.Leave());
  ASSERT_TRUE(launched.ok()) << launched;
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGKILL);
  EXPECT_TRUE(Exit().oom_killed) << Exit().detail;
  EXPECT_FALSE(Exit().killed_by_executor);
  EXPECT_NE(Exit().detail.find("OOM"), std::string::npos) << Exit().detail;
}

TEST_F(LocalExecutorTest, ProgramThatCannotBeExecutedExitsWith127AndSaysWhy) {
  std::string bogus = dir_.File("not-a-program");
  std::ofstream(bogus) << "\x7f" "garbage";
  ::chmod(bogus.c_str(), 0755);
  JobSpec spec = Spec({bogus});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 127);
  EXPECT_NE(Exit().detail.find("exec"), std::string::npos) << Exit().detail;
}

TEST_F(LocalExecutorTest, KillWithGraceLetsAPoliteTaskStopOnSigterm) {
  std::string pidfile = dir_.File("pid");
  JobSpec spec = Spec({"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 1000"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitForFile(pidfile, executor_.get(), &events_));
  ASSERT_TRUE(executor_->Kill(JobId(1), kToken, 30 * kSecond).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGTERM);
  EXPECT_TRUE(Exit().killed_by_executor);
}

TEST_F(LocalExecutorTest, KillEscalatesToSigkillAfterGraceForATaskIgnoringSigterm) {
  std::string ready = dir_.File("ready");
  JobSpec spec = Spec({"sh", "-c", "trap '' TERM; echo up > " + ready + "; while :; do sleep 1; done"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitForFile(ready, executor_.get(), &events_));
  ASSERT_TRUE(executor_->Kill(JobId(1), kToken, 200 * kMillisecond).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGKILL);
  EXPECT_TRUE(Exit().killed_by_executor);
  EXPECT_FALSE(Exit().oom_killed);
}

// The task forks a child that ignores SIGTERM and a grandchild that leaves the
// process group (setsid) and ignores SIGTERM too; the main process ignores
// SIGTERM as well. After the kill every one of them is gone.
TEST_F(LocalExecutorTest, EveryDescendantIsKilledAndReapedEvenOnesThatLeftTheGroup) {
  std::string pids = dir_.File("pids");
  JobSpec spec = Spec({"sh", "-c",
                       "trap '' TERM\n"
                       "sh -c 'trap \"\" TERM; while :; do sleep 1; done' &\n"
                       "echo $! >> " + pids + "\n"
                       "setsid sh -c 'trap \"\" TERM; echo $$ >> " + pids + "; while :; do sleep 1; done' &\n"
                       "while [ $(wc -l < " + pids + ") -lt 2 ]; do sleep 0.05; done\n"
                       "echo $$ >> " + pids + "\n"
                       "while :; do sleep 1; done"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(PollUntil(*executor_, events_, [&](const auto&) {
    std::istringstream in(ReadFile(pids));
    int n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n >= 3;
  }));
  std::vector<pid_t> all;
  std::istringstream in(ReadFile(pids));
  for (pid_t p; in >> p;) all.push_back(p);
  ASSERT_EQ(all.size(), 3u);
  for (pid_t p : all) EXPECT_FALSE(ProcessGone(p)) << p;
  ASSERT_TRUE(executor_->Kill(JobId(1), kToken, 200 * kMillisecond).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGKILL);
  for (pid_t p : all) EXPECT_TRUE(ProcessGone(p)) << "process " << p << " survived the task";
}

TEST_F(LocalExecutorTest, BackgroundProcessesLeftBehindByATaskThatExitedAreKilled) {
  std::string pidfile = dir_.File("bg");
  JobSpec spec = Spec({"sh", "-c", "setsid sh -c 'echo $$ > " + pidfile + "; exec sleep 1000' & "
                                   "while [ ! -s " + pidfile + " ]; do sleep 0.05; done; exit 0"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 0);
  EXPECT_NE(Exit().detail.find("leftover"), std::string::npos) << Exit().detail;
  pid_t bg = std::stoi(ReadFile(pidfile));
  EXPECT_TRUE(ProcessGone(bg));
}

TEST_F(LocalExecutorTest, TaskSeesExactlyItsGpusAndItsPlaceInTheJob) {
  JobSpec spec = Spec({"sh", "-c",
                       "echo CUDA=$CUDA_VISIBLE_DEVICES NVIDIA=$NVIDIA_VISIBLE_DEVICES "
                       "JOB=$MLSCHED_JOB_ID ATTEMPT=$MLSCHED_ATTEMPT TASK=$MLSCHED_TASK_INDEX "
                       "GANG=$MLSCHED_GANG_SIZE RANK=$MLSCHED_GANG_RANK RESUME=${MLSCHED_RESUME_STEP:-none} "
                       "FD=$MLSCHED_REPORT_FD"},
                      2);
  std::vector<TaskPlacement> p = Placements(2);
  p[0].gpus = GpuSet::FromMask(0b0101);
  p[1].gpus = GpuSet::FromMask(0b1010);
  ASSERT_TRUE(Launch(spec, p, JobId(7), {.epoch = 1, .attempt = 3}).ok());
  ASSERT_TRUE(WaitExits(2));
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(7), {.epoch = 1, .attempt = 3}, 0, "out")),
            "CUDA=0,2 NVIDIA=0,2 JOB=7 ATTEMPT=3 TASK=0 GANG=2 RANK=0 RESUME=none FD=3\n");
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(7), {.epoch = 1, .attempt = 3}, 1, "out")),
            "CUDA=1,3 NVIDIA=1,3 JOB=7 ATTEMPT=3 TASK=1 GANG=2 RANK=1 RESUME=none FD=3\n");
}

TEST_F(LocalExecutorTest, CpuTaskSeesNoGpus) {
  JobSpec spec = Spec({"sh", "-c", "echo \"[$CUDA_VISIBLE_DEVICES] $NVIDIA_VISIBLE_DEVICES\""});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), "[] none\n");
}

TEST_F(LocalExecutorTest, JobEnvironmentAndWorkingDirectoryAreApplied) {
  JobSpec spec = Spec({"sh", "-c", "echo $GREETING; pwd"});
  spec.command.env = {{"GREETING", "hi there"}};
  spec.command.working_dir = dir_.path();
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), "hi there\n" + dir_.path() + "\n");
}

TEST_F(LocalExecutorTest, CheckpointSignalReachesTheTaskWhichReportsItsCheckpoint) {
  std::string ready = dir_.File("ready");
  JobSpec spec = Spec({"sh", "-c",
                       "trap 'echo step7 > $MLSCHED_CHECKPOINT_DIR/ckpt; "
                       "echo \"checkpoint 7 file://$MLSCHED_CHECKPOINT_DIR/ckpt abc\" >&$MLSCHED_REPORT_FD; exit 0' USR1\n"
                       "echo up > " + ready + "\n"
                       "while :; do sleep 0.1; done"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitForFile(ready, executor_.get(), &events_));
  ASSERT_TRUE(executor_->SignalCheckpoint(JobId(1), kToken).ok());
  ASSERT_TRUE(WaitExits(1));
  const ExecutorEvent* c = Find(events_, ExecutorEventKind::kCheckpoint);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->step, 7);
  EXPECT_EQ(c->uri, "file://" + executor_->CheckpointDir(JobId(1)) + "/ckpt");
  EXPECT_EQ(c->checksum, "abc");
  EXPECT_EQ(ReadFile(executor_->CheckpointDir(JobId(1)) + "/ckpt"), "step7\n");
  EXPECT_EQ(Exit().exit_code, 0);
}

TEST_F(LocalExecutorTest, ResumeCheckpointIsPassedToTheTask) {
  JobSpec spec = Spec({"sh", "-c", "echo $MLSCHED_RESUME_STEP $MLSCHED_RESUME_URI"});
  ResumeFrom resume{.step = 40, .uri = "file:///ckpt/40"};
  ASSERT_TRUE(Launch(spec, Placements(1), JobId(1), kToken, &resume).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), "40 file:///ckpt/40\n");
}

TEST_F(LocalExecutorTest, LogsAreCappedAtTheLimit) {
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("capped"), .log_limit_bytes = 1000}).value();
  JobSpec spec = Spec({"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  std::string out = ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out"));
  EXPECT_EQ(out.substr(0, 11), "0123456789\n");
  EXPECT_LT(out.size(), 1100u);
  EXPECT_NE(out.find("[mlsched: log truncated at 1000 bytes]"), std::string::npos);
  EXPECT_EQ(Exit().exit_code, 0);
}

TEST_F(LocalExecutorTest, DestroyingTheExecutorKillsItsTasks) {
  std::string pidfile = dir_.File("pid");
  JobSpec spec = Spec({"sh", "-c", "trap '' TERM; echo $$ > " + pidfile + "; while :; do sleep 1; done"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitForFile(pidfile, executor_.get(), &events_));
  pid_t pid = std::stoi(ReadFile(pidfile));
  executor_.reset();
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(LocalExecutorTest, KillOfAnAttemptThatAlreadyEndedIsANoOpAndUnknownOnesAreRefused) {
  JobSpec spec = Spec({"true"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_TRUE(executor_->Kill(JobId(1), kToken, kSecond).ok());
  EXPECT_TRUE(executor_->SignalCheckpoint(JobId(1), kToken).ok());
  EXPECT_EQ(executor_->Kill(JobId(2), kToken, kSecond).code(), absl::StatusCode::kFailedPrecondition);
}

// --- Launches refused before anything starts --------------------------------

TEST_F(LocalExecutorTest, StaleTokenIsRefused) {
  JobSpec spec = Spec({"true"});
  ASSERT_TRUE(Launch(spec, Placements(1), JobId(1), {.epoch = 1, .attempt = 2}).ok());
  EXPECT_EQ(Launch(spec, Placements(1), JobId(1), {.epoch = 1, .attempt = 2}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Launch(spec, Placements(1), JobId(1), {.epoch = 1, .attempt = 1}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(executor_->live_tasks(), 0);
}

TEST_F(LocalExecutorTest, MissingExecutableIsRefusedAndNothingStarts) {
  JobSpec spec = Spec({"no-such-program-mlsched"}, 2);
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(2)), {"command.argv[0]", "no-such-program-mlsched", "PATH"}));
  spec.command.argv = {dir_.File("missing.sh")};
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(2)), {"missing.sh", "no such file"}));
  EXPECT_EQ(executor_->live_tasks(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("logs/job-1")));
  // The refusal used up no token: the same attempt may still launch.
  spec.command.argv = {"true"};
  EXPECT_TRUE(Launch(spec, Placements(2)).ok());
  EXPECT_TRUE(WaitExits(2));
}

TEST_F(LocalExecutorTest, UnusableWorkingDirectoryIsRefused) {
  JobSpec spec = Spec({"true"});
  spec.command.working_dir = dir_.File("nope");
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"command.working_dir", "nope", "No such file"}));
  std::string file = dir_.Script("plain", "true");
  spec.command.working_dir = file;
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"command.working_dir", "not a directory"}));
  EXPECT_EQ(executor_->live_tasks(), 0);
}

TEST_F(LocalExecutorTest, EnvironmentTooLargeIsRefused) {
  JobSpec spec = Spec({"true"});
  spec.command.env = {{"HUGE", std::string(200 * 1024, 'x')}};
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"environment variable HUGE", "at most"}));
  spec.command.env.clear();
  for (int i = 0; i < 40; ++i) spec.command.env.push_back({"BIG" + std::to_string(i), std::string(100 * 1024, 'y')});
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"ARG_MAX"}));
  spec.command.env = {{"BAD=NAME", "1"}};
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"command.env[0]", "BAD=NAME"}));
  EXPECT_EQ(executor_->live_tasks(), 0);
}

TEST_F(LocalExecutorTest, EmptyCommandAndOtherNodesAreRefused) {
  JobSpec spec = Spec({});
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"command.argv is empty"}));
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .node = NodeId(3)}).value();
  spec = Spec({"true"});
  EXPECT_TRUE(FailsMentioning(Launch(spec, Placements(1)), {"node #0", "node #3"}));
}

// The supervisor is the installed program, started with posix_spawn: not a
// forked copy of the host, which would pin a snapshot of the host's memory
// for as long as the task runs.
TEST_F(LocalExecutorTest, TasksRunUnderTheSupervisorProgramNotACopyOfTheHost) {
  JobSpec spec = Spec({"sh", "-c", "readlink /proc/$PPID/exe"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 0);
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), executor_->supervisor_path() + "\n");
  EXPECT_NE(executor_->supervisor_path().find("mlsched-supervisor"), std::string::npos);
}

// The job's environment is the task's alone: the supervisor runs with an
// empty one, so a job's LD_LIBRARY_PATH or LD_PRELOAD cannot break it.
TEST_F(LocalExecutorTest, TheJobsEnvironmentReachesTheTaskNotItsSupervisor) {
  JobSpec spec = Spec({"sh", "-c", "tr '\\0' '\\n' < /proc/$PPID/environ | grep -c JOB_ONLY; echo \"$JOB_ONLY\""});
  spec.command.env = {{"JOB_ONLY", "yes"}};
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(ReadFile(executor_->LogPath(JobId(1), kToken, 0, "out")), "0\nyes\n");
}

// Near the kernel's limit on arguments and environment, the supervisor's own
// arguments count too: a launch either starts or is refused as too large,
// never fails to start the supervisor (E2BIG).
TEST_F(LocalExecutorTest, ALaunchNearTheArgumentLimitStartsOrIsRefusedClearly) {
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .inherit_environment = false}).value();
  const long arg_max = ::sysconf(_SC_ARG_MAX);
  ASSERT_GT(arg_max, 0);
  JobSpec spec = Spec({"true"});
  // Variables of at most 100,000 bytes: blocks from 2 KB under the limit to
  // 2 KB over it, as this test counts (the executor adds its own MLSCHED_*
  // variables, about a kilobyte, and counts a pointer per string).
  int started = 0, refused = 0;
  std::uint32_t attempt = 0;
  for (long target = arg_max - 2000; target <= arg_max + 2000; target += 100) {
    spec.command.env.clear();
    long left = target;
    for (int v = 0; left > 32; ++v) {
      const std::string name = "V" + std::to_string(v);
      const long value = std::min<long>(100'000, left - static_cast<long>(name.size()) - 2);
      spec.command.env.push_back({name, std::string(static_cast<std::size_t>(value), 'x')});
      left -= static_cast<long>(name.size()) + 2 + value;
    }
    const absl::Status s = Launch(spec, Placements(1), JobId(1), {.epoch = 1, .attempt = ++attempt});
    if (s.ok()) {
      ++started;
      ASSERT_TRUE(WaitExits(1));
      EXPECT_EQ(Exit().exit_code, 0) << Exit().detail;
      events_.clear();
    } else {
      ++refused;
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      EXPECT_NE(s.message().find("ARG_MAX"), std::string::npos) << s;
    }
  }
  EXPECT_GT(started, 0);
  EXPECT_GT(refused, 0);
}

// A supervisor of another mlsched version (here the real one, handed another
// protocol string by a wrapper) refuses, and the task's exit says why.
TEST_F(LocalExecutorTest, ASupervisorOfAnotherProtocolIsNamedNotObeyed) {
  const std::string wrapper = dir_.File("old-supervisor");
  std::ofstream(wrapper) << "#!/bin/sh\nshift\nexec '" << executor_->supervisor_path()
                         << "' mlsched-supervisor/0 \"$@\"\n";
  ::chmod(wrapper.c_str(), 0755);
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .supervisor = wrapper}).value();
  JobSpec spec = Spec({"true"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 127);
  EXPECT_NE(Exit().detail.find("does not speak mlsched-supervisor/1"), std::string::npos) << Exit().detail;
  EXPECT_NE(Exit().detail.find(wrapper), std::string::npos) << Exit().detail;
}

// A supervisor that dies without a word still ends the task's attempt.
TEST_F(LocalExecutorTest, ASupervisorThatDiesSilentlyEndsItsTask) {
  const std::string quitter = dir_.File("quitter");
  std::ofstream(quitter) << "#!/bin/sh\nexit 0\n";
  ::chmod(quitter.c_str(), 0755);
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .supervisor = quitter}).value();
  JobSpec spec = Spec({"sleep", "30"});
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().signal, SIGKILL);
  EXPECT_NE(Exit().detail.find("supervisor died"), std::string::npos) << Exit().detail;
  EXPECT_EQ(executor_->live_tasks(), 0);
}

// A supervisor removed after Create (an upgrade in progress) fails the
// launch with an error naming it; nothing is left running, and the launch
// can be made again once the program is back.
TEST_F(LocalExecutorTest, ASupervisorGoneAfterCreateFailsTheLaunchClearly) {
  const std::string copy = dir_.File("supervisor-copy");
  std::filesystem::copy_file(executor_->supervisor_path(), copy);
  executor_ = LocalExecutor::Create({.log_dir = dir_.File("logs"), .supervisor = copy}).value();
  ASSERT_EQ(::rename(copy.c_str(), (copy + ".away").c_str()), 0);
  JobSpec spec = Spec({"true"});
  const absl::Status s = Launch(spec, Placements(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;  // the machine changed under the executor
  for (const std::string& needle : {std::string("cannot start the supervisor"), copy, std::string("No such file")})
    EXPECT_NE(std::string(s.message()).find(needle), std::string::npos) << s;
  EXPECT_EQ(executor_->live_tasks(), 0);
  ASSERT_EQ(::rename((copy + ".away").c_str(), copy.c_str()), 0);
  ASSERT_TRUE(Launch(spec, Placements(1)).ok());
  ASSERT_TRUE(WaitExits(1));
  EXPECT_EQ(Exit().exit_code, 0);
}

// Run by hand, the supervisor says what it is for and does nothing.
TEST_F(LocalExecutorTest, TheSupervisorRunByHandRefuses) {
  const std::string out = dir_.File("by-hand.txt");
  const int rc = std::system(("'" + executor_->supervisor_path() + "' sh -c true 2>'" + out + "'").c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(ReadFile(out).find("started by mlsched's LocalExecutor only"), std::string::npos) << ReadFile(out);
}

TEST(LocalExecutorOptions, ASupervisorThatIsNotAProgramIsRefused) {
  ScratchDir dir;
  EXPECT_TRUE(FailsMentioning(LocalExecutor::Create({.log_dir = dir.File("logs"), .supervisor = "/no/such/program"})
                                  .status(),
                              {"supervisor = \"/no/such/program\"", "no such file"}));
  const std::string plain = dir.File("plain");
  std::ofstream(plain) << "not a program";
  EXPECT_TRUE(FailsMentioning(LocalExecutor::Create({.log_dir = dir.File("logs"), .supervisor = plain}).status(),
                              {"supervisor", "not an executable file"}));
  ::setenv("MLSCHED_SUPERVISOR", "/no/such/program", 1);
  const auto from_env = LocalExecutor::Create({.log_dir = dir.File("logs")});
  ::unsetenv("MLSCHED_SUPERVISOR");
  EXPECT_TRUE(FailsMentioning(from_env.status(), {"MLSCHED_SUPERVISOR = \"/no/such/program\"", "no such file"}));
}

// The option comes first, then $MLSCHED_SUPERVISOR, then the places looked in.
TEST(LocalExecutorOptions, TheSupervisorIsTakenFromTheOptionThenTheEnvironment) {
  ScratchDir dir;
  const std::string found = LocalExecutor::Create({.log_dir = dir.File("logs")}).value()->supervisor_path();
  const std::string a = dir.File("a"), b = dir.File("b");
  for (const std::string& p : {a, b}) {
    std::ofstream(p) << "#!/bin/sh\nexec '" << found << "' \"$@\"\n";
    ::chmod(p.c_str(), 0755);
  }
  ::setenv("MLSCHED_SUPERVISOR", b.c_str(), 1);
  const auto by_env = LocalExecutor::Create({.log_dir = dir.File("logs")});
  const auto by_option = LocalExecutor::Create({.log_dir = dir.File("logs"), .supervisor = a});
  ::unsetenv("MLSCHED_SUPERVISOR");
  ASSERT_TRUE(by_env.ok() && by_option.ok());
  EXPECT_EQ((*by_env)->supervisor_path(), b);
  EXPECT_EQ((*by_option)->supervisor_path(), a);
}

TEST(LocalExecutorOptions, BadOptionsAreRefused) {
  EXPECT_FALSE(LocalExecutor::Create({}).ok());
  EXPECT_FALSE(LocalExecutor::Create({.log_dir = "/tmp/x", .log_limit_bytes = -1}).ok());
  EXPECT_FALSE(LocalExecutor::Create({.log_dir = "/tmp/x", .checkpoint_signal = SIGKILL}).ok());
  EXPECT_FALSE(LocalExecutor::Create({.log_dir = "/proc/no/such/dir"}).ok());
}

}  // namespace
}  // namespace mlsched
