#include "mlsched/decision.h"

namespace mlsched {

std::string_view DecisionKindName(DecisionKind k) {
  switch (k) {
    case DecisionKind::kStart: return "start";
    case DecisionKind::kKill: return "kill";
    case DecisionKind::kSignalCheckpoint: return "signal-checkpoint";
  }
  return "?";
}

std::string_view KillReasonName(KillReason r) {
  switch (r) {
    case KillReason::kNone: return "none";
    case KillReason::kCancelled: return "cancelled";
    case KillReason::kGangFailed: return "gang-failed";
    case KillReason::kNodeLost: return "node-lost";
    case KillReason::kTimeLimit: return "time-limit";
    case KillReason::kPreempted: return "preempted";
    case KillReason::kStuck: return "stuck";
    case KillReason::kGpuUnhealthy: return "gpu-unhealthy";
  }
  return "?";
}

}  // namespace mlsched
