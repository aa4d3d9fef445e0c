#include "mlsched/exec/executor_event.h"

#include <string.h>

#include "fmt/format.h"
#include "mlsched/engine.h"

namespace mlsched {

std::string_view ExecutorEventKindName(ExecutorEventKind k) {
  switch (k) {
    case ExecutorEventKind::kTaskStarted: return "started";
    case ExecutorEventKind::kTaskExited: return "exited";
    case ExecutorEventKind::kCheckpoint: return "checkpoint";
    case ExecutorEventKind::kProgress: return "progress";
    case ExecutorEventKind::kGpuHealth: return "gpu-health";
    case ExecutorEventKind::kHeartbeat: return "heartbeat";
  }
  return "?";
}

absl::Status Deliver(Engine& engine, const ExecutorEvent& e) {
  switch (e.kind) {
    case ExecutorEventKind::kTaskStarted:
      return engine.TaskStarted({.job = e.job, .token = e.token, .task = e.task});
    case ExecutorEventKind::kTaskExited:
      return engine.TaskExited(
          {.job = e.job, .token = e.token, .task = e.task, .exit_code = e.exit_code, .signal = e.signal});
    case ExecutorEventKind::kCheckpoint:
      return engine.CheckpointReported(
          {.job = e.job, .token = e.token, .step = e.step, .uri = e.uri, .checksum = e.checksum});
    case ExecutorEventKind::kProgress:
      return engine.ProgressReported({.job = e.job, .token = e.token, .task = e.task});
    case ExecutorEventKind::kGpuHealth:
      return engine.SetGpuHealth(e.node, e.gpu, e.healthy);
    case ExecutorEventKind::kHeartbeat:
      return engine.Heartbeat(e.node);
  }
  return absl::InvalidArgumentError("unknown executor event kind");
}

std::string DescribeEvent(const ExecutorEvent& e) {
  if (e.kind == ExecutorEventKind::kHeartbeat) return fmt::format("node #{} heartbeat", e.node.value());
  if (e.kind == ExecutorEventKind::kGpuHealth) {
    return fmt::format("node #{} GPU {} {}{}{}", e.node.value(), e.gpu, e.healthy ? "healthy" : "unhealthy",
                       e.detail.empty() ? "" : ": ", e.detail);
  }
  std::string head = fmt::format("job #{} {} task {} {}", e.job.value(), FormatToken(e.token), e.task,
                                 ExecutorEventKindName(e.kind));
  switch (e.kind) {
    case ExecutorEventKind::kTaskExited:
      if (e.signal != 0) {
        const char* name = ::sigabbrev_np(e.signal);
        head += fmt::format(": signal {} (SIG{})", e.signal, name != nullptr ? name : "?");
      } else {
        head += fmt::format(": exit code {}", e.exit_code);
      }
      if (e.oom_killed) head += " OOM kill";
      break;
    case ExecutorEventKind::kCheckpoint:
      head += fmt::format(": step {} at {}", e.step, e.uri);
      break;
    default:
      break;
  }
  if (!e.detail.empty() && e.kind != ExecutorEventKind::kTaskStarted) head += " (" + e.detail + ")";
  return head;
}

}  // namespace mlsched
