// LocalExecutor: runs the engine's tasks as real processes on this machine.
//
// Each task is a process started without a shell (argv as given, argv[0]
// looked up in PATH when it has no slash), with the job's environment and
// working directory, in a process group of its own, stdin from /dev/null and
// stdout/stderr in per-attempt log files capped at `log_limit_bytes` each
// (the rest is dropped and a marker line says so):
//
//   <log_dir>/job-<id>/e<epoch>-a<attempt>/task-<i>.out | .err
//
// Besides the job's own variables every task gets
//
//   CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES   exactly the GPU indices the engine
//                                                  assigned ("" and "none" for CPU tasks)
//   MLSCHED_JOB_ID, MLSCHED_JOB_NAME, MLSCHED_ATTEMPT, MLSCHED_FENCING_TOKEN
//   MLSCHED_TASK_INDEX (over the job), MLSCHED_NUM_TASKS,
//   MLSCHED_TASK_GROUP, MLSCHED_GANG_SIZE, MLSCHED_GANG_RANK (within the group)
//   MLSCHED_RESUME_STEP, MLSCHED_RESUME_URI, MLSCHED_RESUME_CHECKSUM
//                                                  the checkpoint to resume from (absent: start afresh)
//   MLSCHED_CHECKPOINT_DIR                         <log_dir>/job-<id>/checkpoints, kept across attempts
//   MLSCHED_RUN_DIR                                <log_dir> (absolute), shared by every job
//   MLSCHED_CHECKPOINT_SIGNAL                      the signal number that asks for a checkpoint
//   MLSCHED_REPORT_FD                              a pipe to the executor, see below
//
// A task reports to the executor by writing lines to MLSCHED_REPORT_FD:
//   "checkpoint <step> <uri> [<checksum>]"   -> CheckpointReported
//   "progress"                               -> ProgressReported
// (in a shell: `echo "checkpoint 40 file:///ckpt/40" >&"$MLSCHED_REPORT_FD"`).
//
// Supervision. Every task runs under a small supervisor process, the program
// `mlsched-supervisor` (installed in <prefix>/libexec/mlsched/), which the
// executor starts with posix_spawn: a launch costs the same whatever the
// size of the host process, and no copy-on-write snapshot of the host's
// memory lives on beside the task (from a host with 2 GiB touched, a
// launch took 96-103 ms with a forked supervisor, 7.6-9.2 ms spawned). The
// executor finds the program at `LocalExecutorOptions::supervisor`, else
// $MLSCHED_SUPERVISOR, else in ../libexec/mlsched/ beside the running
// program, the install directory or the build tree; Create() fails if it is
// in none. It runs with an empty environment of its own (the task's comes on
// its command line), so a job's LD_LIBRARY_PATH or LD_PRELOAD reaches the
// task only. The supervisor makes itself a
// child subreaper (PR_SET_CHILD_SUBREAPER), so processes that leave the
// task's group (setsid, double fork) are reparented to it rather than to
// init. When the task's main process ends, for whatever reason, the
// supervisor SIGKILLs whatever the task left behind — group members and
// reparented descendants, found by scanning /proc for its children — and
// reaps every one of them; only then does it report the exit, so an exit
// event means the task's GPUs are really free. If the host process dies, the
// supervisors get SIGHUP (PR_SET_PDEATHSIG) and kill their tasks: no orphans.
// Code between the supervisor's fork of the task and its exec uses only
// async-signal-safe system calls.
//
// Stopping. Kill() sends SIGTERM to each task's process group and SIGKILL
// `grace` later (from Poll(); grace 0 = SIGKILL at once). Time limits and
// cancellations reach the executor as engine Kill decisions, so they take the
// same path. SignalCheckpoint() sends `checkpoint_signal` (SIGUSR1 by
// default) to each task's group.
//
// OOM kills. Without per-task cgroups the kernel's verdict is read from the
// memory cgroup the task ran in: the `oom_kill` counter of cgroup v2
// memory.events (or cgroup v1 memory.oom_control) is read when the task
// starts and when it ends; a task that died of SIGKILL the executor did not
// send while that counter rose is reported with `oom_killed`. Tasks sharing a
// cgroup can be misattributed when two die of SIGKILL at once; with no
// readable counter nothing is reported as an OOM kill.
//
// Launch refuses, before starting anything (no partial state): a missing or
// non-executable program, a working directory that is not an accessible
// directory, an argument + environment block over the kernel's limit
// (ARG_MAX, or 128 KiB for one string), a stale fencing token, a node other
// than `options.node`.
//
// Events. The executor never calls the engine: Poll() waits for supervisor
// reports and appends ExecutorEvents for the host to Deliver(). It reads the
// host's monotonic clock for grace periods; the engine's determinism does
// not depend on it.
//
// Thread-safety: none; one thread calls every method. Because of
// PR_SET_PDEATHSIG, that thread must outlive the tasks it launches.
// The destructor SIGKILLs every live task and reaps it.
//
//   auto executor = LocalExecutor::Create({.log_dir = "/tmp/mlsched-logs"}).value();
//   SchedulingRound round;
//   engine->Tick(&round);
//   Dispatch(*engine, round, *executor);
//   std::vector<ExecutorEvent> events;
//   executor->Poll(250 * kMillisecond, &events);
//   for (const ExecutorEvent& e : events) Deliver(*engine, e);
#ifndef MLSCHED_EXEC_LOCAL_EXECUTOR_H_
#define MLSCHED_EXEC_LOCAL_EXECUTOR_H_

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/executor.h"
#include "mlsched/ids.h"
#include "mlsched/time.h"

namespace mlsched {

struct LocalExecutorOptions {
  std::string log_dir;  // required; created if missing
  std::int64_t log_limit_bytes = 64 << 20;  // per stream and task; >= 0
  int checkpoint_signal = SIGUSR1;
  // Start from the executor's own environment (then the job's variables,
  // then mlsched's) or from the job's variables alone.
  bool inherit_environment = true;
  // Refuse launches placed on another node. Unset: every placement runs here.
  NodeId node;
  // The supervisor program; empty: found as the comment at the top says.
  std::string supervisor;
};

class LocalExecutor final : public PollingExecutor {
 public:
  // Errors: empty or uncreatable log_dir, a bad signal number, negative
  // limit, a supervisor that is not an executable file or not found.
  static absl::StatusOr<std::unique_ptr<LocalExecutor>> Create(LocalExecutorOptions options);
  ~LocalExecutor() override;
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  std::string_view name() const override { return "local"; }
  // Starts every task of the attempt, or none (kInvalidArgument for bad
  // commands, kFailedPrecondition for a stale token, kInternal when fork
  // fails; tasks already started by the call are killed and reaped).
  absl::Status Launch(const LaunchRequest& request) override;
  // OK and nothing to do for an attempt that already ended here;
  // kFailedPrecondition for one never launched.
  absl::Status Kill(JobId job, FencingToken token, Duration grace) override;
  absl::Status SignalCheckpoint(JobId job, FencingToken token) override;

  // Waits at most `timeout` (0 = just look) for something to happen,
  // sends due SIGKILLs, and appends what happened to `events`. Returns early
  // as soon as it has at least one event. Errors only for a broken poll().
  absl::Status Poll(Duration timeout, std::vector<ExecutorEvent>* events) override;

  // From now on, launches of `job` with a token not newer than `token` are
  // refused (a node agent restores what its scheduler launched before).
  void Fence(JobId job, FencingToken token);
  // The attempts with live tasks here.
  std::vector<std::pair<JobId, FencingToken>> LiveAttempts() const;

  // Tasks whose exit has not been reported yet.
  int live_tasks() const;
  // Where a task's output goes ("out" or "err").
  std::string LogPath(JobId job, FencingToken token, int task, std::string_view stream) const;
  std::string CheckpointDir(JobId job) const;
  // The supervisor program in use (absolute).
  const std::string& supervisor_path() const;

 private:
  struct Impl;
  explicit LocalExecutor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlsched

#endif  // MLSCHED_EXEC_LOCAL_EXECUTOR_H_
