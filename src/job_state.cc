#include "mlsched/job_state.h"

#include <array>

#include "fmt/format.h"

namespace mlsched {
namespace {

using S = JobState;

constexpr std::uint32_t Bit(S s) { return std::uint32_t{1} << static_cast<int>(s); }

// kLegal[from] = set of states reachable in one step.
constexpr std::array<std::uint32_t, kNumJobStates> kLegal = [] {
  std::array<std::uint32_t, kNumJobStates> t{};
  auto allow = [&](S from, std::uint32_t to) { t[static_cast<int>(from)] |= to; };
  allow(S::kWaitingDeps, Bit(S::kQueued) | Bit(S::kCancelled) | Bit(S::kUpstreamFailed));
  allow(S::kQueued, Bit(S::kStarting) | Bit(S::kCancelled));
  const std::uint32_t attempt_ends =
      Bit(S::kFailed) | Bit(S::kTimedOut) | Bit(S::kLost) | Bit(S::kPreempted) | Bit(S::kCancelled);
  allow(S::kStarting, Bit(S::kRunning) | attempt_ends);
  allow(S::kRunning, Bit(S::kSucceeded) | attempt_ends);
  for (S s : {S::kFailed, S::kTimedOut, S::kLost, S::kPreempted})
    allow(s, Bit(S::kQueued) | Bit(S::kDeadLettered) | Bit(S::kCancelled));
  allow(S::kDeadLettered, Bit(S::kQueued));
  return t;
}();

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


bool IsLegalTransition(JobState from, JobState to) {
  const int f = static_cast<int>(from);
  if (f < 0 || f >= kNumJobStates || static_cast<int>(to) >= kNumJobStates) return false;
  return (kLegal[f] & Bit(to)) != 0;
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
