// The per-task supervisor: the program `mlsched-supervisor`, which the
// LocalExecutor starts with posix_spawn for every task.
//
// Why a program of its own: a forked copy of the host would cost a copy of
// the host's page tables per launch (85 ms for a host with 2 GiB touched, on
// the development VM) and would pin a copy-on-write snapshot of the host's
// memory for as long as the task runs. posix_spawn shares the host's memory
// until the exec, so a launch costs the same whatever the host's size.
//
// Invocation (by the executor only; supervisor_main.cc):
//
//   mlsched-supervisor <kProtocol> <log limit> <executor pid> <working dir> <program> <n> <argv 0..n-1> <env...>
//
// with an empty environment of its own (the task's is on the command line,
// so that a job's LD_LIBRARY_PATH or LD_PRELOAD does not load into the
// supervisor) and descriptors
// kSpawnReportFd..kSpawnErrLogFd open, signals SIGCHLD, SIGHUP and SIGTERM
// blocked, every disposition at its default, in a process group of its own.
// A program that gets another protocol string reports an exec failure with
// kProtocolMismatch, so a stale installed supervisor is named, not obeyed.
//
// Algorithm: become a subreaper, fork the task
// (own process group; stdin /dev/null, stdout/stderr to pipes, the report
// pipe as fd 3; exec), report "started" (or the exec error) on the status
// pipe, copy the task's output into the log files up to the cap, and when the
// task's main process has been reaped SIGKILL and reap every remaining
// descendant (its group and the processes reparented to the supervisor), then
// report the exit status and _exit. SIGHUP (the executor died) and SIGTERM
// (the executor rolls back a launch) make it SIGKILL the task's group.
// Between its fork and the task's exec it calls only async-signal-safe
// system calls.
#ifndef MLSCHED_SRC_EXEC_SUPERVISOR_H_
#define MLSCHED_SRC_EXEC_SUPERVISOR_H_

#include <sys/types.h>

#include <cstdint>

namespace mlsched::internal {

// Fixed-size records on the status pipe (smaller than PIPE_BUF: atomic).
struct SupervisorRecord {
  enum Kind : std::int32_t { kStarted = 1, kExecFailed = 2, kExited = 3 };
  std::int32_t kind = 0;
  std::int32_t a = 0;  // kStarted: task pid; kExecFailed: errno; kExited: wait status
  std::int32_t b = 0;  // kExecFailed: 1 = chdir, 2 = execve, kProtocolMismatch; kExited: leftover processes killed
};

inline constexpr std::int32_t kProtocolMismatch = 3;  // SupervisorRecord::b of kExecFailed
inline constexpr char kProtocol[] = "mlsched-supervisor/1";

inline constexpr int kReportFd = 3;  // the task's MLSCHED_REPORT_FD

// The supervisor's descriptors, as the executor hands them over.
inline constexpr int kSpawnReportFd = 3;  // write end of the report pipe
inline constexpr int kSpawnStatusFd = 4;  // write end of the status pipe
inline constexpr int kSpawnOutLogFd = 5;
inline constexpr int kSpawnErrLogFd = 6;

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

[[noreturn]] void RunSupervisor(const SupervisorSpec& spec);

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_EXEC_SUPERVISOR_H_
