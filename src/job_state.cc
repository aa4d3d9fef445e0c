#include "mlsched/job_state.h"

#include "fmt/format.h"

namespace mlsched {
namespace {
using S = JobState;
}  // namespace

std::string_view JobStateName(JobState s) {
  switch (s) {
    case S::kWaitingDeps: return "WaitingDeps";
    case S::kQueued: return "Queued";
    case S::kStarting: return "Starting";
    case S::kRunning: return "Running";
    case S::kSucceeded: return "Succeeded";
    case S::kFailed: return "Failed";
    case S::kTimedOut: return "TimedOut";
    case S::kLost: return "Lost";
    case S::kPreempted: return "Preempted";
    case S::kDeadLettered: return "DeadLettered";
    case S::kCancelled: return "Cancelled";
    case S::kUpstreamFailed: return "UpstreamFailed";
  }
  return "?";
}


absl::Status CheckTransition(JobState from, JobState to) {
  if (IsLegalTransition(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      fmt::format("{} -> {} is not a legal job transition", JobStateName(from), JobStateName(to)));
}

absl::Status JobLifecycle::TransitionTo(JobState next) {
  absl::Status s = CheckTransition(state_, next);
  if (s.ok()) state_ = next;
  return s;
}

std::string FormatToken(const FencingToken& t) { return fmt::format("e{}/a{}", t.epoch, t.attempt); }

std::string_view AttemptEndName(AttemptEnd e) {
  switch (e) {
    case AttemptEnd::kNone: return "live";
    case AttemptEnd::kSucceeded: return "succeeded";
    case AttemptEnd::kFailed: return "failed";
    case AttemptEnd::kLost: return "lost";
    case AttemptEnd::kCancelled: return "cancelled";
    case AttemptEnd::kTimedOut: return "timed-out";
    case AttemptEnd::kPreempted: return "preempted";
    case AttemptEnd::kStuck: return "stuck";
  }
  return "?";
}

}  // namespace mlsched
