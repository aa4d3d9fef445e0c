// ExecutorEvent: what a host-side executor saw happen, queued for the engine.
//
// Executors never call the engine (it is single-threaded and owned by the
// host). The reference executors queue what they observe — a task started,
// a task exited, a task wrote a checkpoint or reported progress, a GPU
// changed health — as ExecutorEvents; the host's loop hands each one to
// Deliver(), which makes the matching Engine call (TaskStarted, TaskExited,
// CheckpointReported, ProgressReported, SetGpuHealth, Heartbeat).
//
// Thread-safety: plain values; Deliver() calls the engine and so follows the
// engine's rule (one thread at a time).
//
//   std::vector<ExecutorEvent> events;
//   executor.Poll(100 * kMillisecond, &events);
//   for (const ExecutorEvent& e : events) Deliver(*engine, e);  // stale reports are refused
#ifndef MLSCHED_EXEC_EXECUTOR_EVENT_H_
#define MLSCHED_EXEC_EXECUTOR_EVENT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include <vector>

#include "mlsched/executor.h"
#include "mlsched/ids.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched {

class Engine;

enum class ExecutorEventKind : std::uint8_t {
  kTaskStarted,   // the task's program is running (exec succeeded)
  kTaskExited,    // the task and every process it started are gone
  kCheckpoint,    // the attempt wrote a checkpoint (step, uri, checksum)
  kProgress,      // the attempt says it is alive and making progress
  kGpuHealth,     // GPU `gpu` of `node` became healthy or unhealthy
  kHeartbeat,     // the agent of `node` is alive (remote executors)
};
std::string_view ExecutorEventKindName(ExecutorEventKind k);

struct ExecutorEvent {
  ExecutorEventKind kind = ExecutorEventKind::kTaskStarted;
  JobId job;
  FencingToken token;
  std::int32_t task = 0;  // index over all tasks of the job
  // kTaskExited: exit code (when signal == 0) or the signal that ended it.
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
  bool oom_killed = false;         // the kernel's OOM killer ended it (see local_executor.h)
  bool killed_by_executor = false; // it died after the executor's SIGTERM/SIGKILL
  // kCheckpoint
  std::int64_t step = 0;
  std::string uri;
  std::string checksum;
  // kGpuHealth
  NodeId node;
  std::int32_t gpu = -1;
  bool healthy = true;
  // Human-readable detail: why a launch failed after fork ("exec
  // /bin/nothere: No such file or directory"), the GPU fault, the log file.
  std::string detail;
  Timestamp time = 0;  // host wall-clock time it was observed (for logs; the engine uses its clock)
};

// An Executor whose reports are collected by polling: the reference
// executors (LocalExecutor, RemoteExecutor) are such, and Runner drives any.
class PollingExecutor : public Executor {
 public:
  // Waits at most `timeout` (0 = just look) and appends what happened;
  // returns as soon as there is at least one event.
  virtual absl::Status Poll(Duration timeout, std::vector<ExecutorEvent>* events) = 0;
};

// Makes the engine call that matches `event`. Returns the engine's status:
// kFailedPrecondition for a stale fencing token, which a host usually counts
// and ignores (the engine counts it too).
absl::Status Deliver(Engine& engine, const ExecutorEvent& event);

// One line for logs: "job #3 e1/a2 task 0 exited: signal 9 (OOM kill)".
std::string DescribeEvent(const ExecutorEvent& event);

}  // namespace mlsched

#endif  // MLSCHED_EXEC_EXECUTOR_EVENT_H_
