// The per-task supervisor: what runs in the process the LocalExecutor forks.
//
// Assumptions: the caller forked with SIGCHLD, SIGHUP and SIGTERM blocked and
// prepared everything (paths, argv, envp, open log files, pipes) before the
// fork, so the supervisor allocates nothing and calls only async-signal-safe
// system calls — the host may have had other threads at fork time.
//
// Algorithm: become a subreaper in a process group of its own, fork the task
// (own process group; stdin /dev/null, stdout/stderr to pipes, the report
// pipe as fd 3; exec), report "started" (or the exec error) on the status
// pipe, copy the task's output into the log files up to the cap, and when the
// task's main process has been reaped SIGKILL and reap every remaining
// descendant (its group and the processes reparented to the supervisor), then
// report the exit status and _exit. SIGHUP (the executor died) and SIGTERM
// (the executor rolls back a launch) make it SIGKILL the task's group.
#ifndef MLSCHED_SRC_EXEC_SUPERVISOR_H_
#define MLSCHED_SRC_EXEC_SUPERVISOR_H_

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

namespace mlsched::internal {

// Fixed-size records on the status pipe (smaller than PIPE_BUF: atomic).
struct SupervisorRecord {
  enum Kind : std::int32_t { kStarted = 1, kExecFailed = 2, kExited = 3 };
  std::int32_t kind = 0;
  std::int32_t a = 0;  // kStarted: task pid; kExecFailed: errno; kExited: wait status
  std::int32_t b = 0;  // kExecFailed: 1 = chdir, 2 = execve; kExited: leftover processes killed
};

inline constexpr int kReportFd = 3;  // the task's MLSCHED_REPORT_FD

struct SupervisorSpec {
  const char* path = nullptr;  // absolute path of the program
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* working_dir = nullptr;  // "" or nullptr: inherit
  int out_log = -1;  // log files, opened by the executor
  int err_log = -1;
  std::int64_t log_limit = 0;
  int status_fd = -1;  // write end of the status pipe
  int report_fd = -1;  // write end of the report pipe, becomes fd 3 in the task
  pid_t executor_pid = 0;
};

// Blocks SIGCHLD, SIGHUP and SIGTERM in the calling thread (before fork) and
// returns the previous mask through `old`.
void BlockSupervisorSignals(sigset_t* old);

[[noreturn]] void RunSupervisor(const SupervisorSpec& spec);

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_EXEC_SUPERVISOR_H_
