// The job state machine and attempts.
//
//   WaitingDeps -> Queued -> Starting -> Running -> Succeeded
//   Starting/Running -> Failed | TimedOut | Lost | Preempted
//   Failed | TimedOut | Lost | Preempted -> Queued      (attempts remain)
//                                        -> DeadLettered (attempts exhausted)
//   DeadLettered -> Queued                               (explicit requeue)
//   any non-terminal state -> Cancelled
//   WaitingDeps -> UpstreamFailed                        (a dependency can no longer succeed)
//
// Terminal states: Succeeded, Cancelled, UpstreamFailed, DeadLettered (the last
// one can be requeued by an operator). An illegal transition is an error and
// leaves the state unchanged: the engine never applies one silently.
//
// Each start of a job is an Attempt, identified by a FencingToken: the
// engine's epoch (raised on every fail-over) and the job's attempt number.
// Executors and node agents refuse commands carrying an older token, and the
// engine refuses reports carrying one, which makes each assignment happen
// exactly once across retries, partitions and fail-over.
//
// Thread-safety: plain values and pure functions.
//
//   JobLifecycle job(JobState::kQueued);
//   job.TransitionTo(JobState::kSucceeded);  // kFailedPrecondition; still Queued
//   job.TransitionTo(JobState::kStarting);   // OK
#ifndef MLSCHED_JOB_STATE_H_
#define MLSCHED_JOB_STATE_H_

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace mlsched {

enum class JobState : std::uint8_t {
  kWaitingDeps,
  kQueued,
  kStarting,
  kRunning,
  kSucceeded,
  kFailed,
  kTimedOut,
  kLost,
  kPreempted,
  kDeadLettered,
  kCancelled,
  kUpstreamFailed,
};
inline constexpr int kNumJobStates = 12;

std::string_view JobStateName(JobState s);
constexpr bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kCancelled || s == JobState::kUpstreamFailed ||
         s == JobState::kDeadLettered;
}
// Starting or Running: the job holds resources on behalf of a live attempt.
constexpr bool IsActive(JobState s) { return s == JobState::kStarting || s == JobState::kRunning; }

namespace job_state_internal {
constexpr std::uint32_t Bit(JobState s) { return std::uint32_t{1} << static_cast<int>(s); }
// kLegal[from]: the states reachable from `from` in one step (the diagram
// above), as bits. In the header: the engine asks at every state change.
inline constexpr std::array<std::uint32_t, kNumJobStates> kLegal = [] {
  using S = JobState;
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
}  // namespace job_state_internal

constexpr bool IsLegalTransition(JobState from, JobState to) {
  const int f = static_cast<int>(from);
  if (f < 0 || f >= kNumJobStates || static_cast<int>(to) >= kNumJobStates) return false;
  return (job_state_internal::kLegal[f] & job_state_internal::Bit(to)) != 0;
}
// OK, or kFailedPrecondition naming both states: "Queued -> Succeeded is not a
// legal job transition".
absl::Status CheckTransition(JobState from, JobState to);

// A job's state with the transition rules enforced.
class JobLifecycle {
 public:
  explicit JobLifecycle(JobState initial = JobState::kQueued) : state_(initial) {}
  JobState state() const { return state_; }
  // Applies the transition, or returns an error and leaves the state as it was.
  absl::Status TransitionTo(JobState next);

 private:
  JobState state_;
};

struct FencingToken {
  std::uint32_t epoch = 0;    // engine epoch; raised on every fail-over
  std::uint32_t attempt = 0;  // 1 for the first attempt of a job
  friend constexpr auto operator<=>(const FencingToken&, const FencingToken&) = default;
};
std::string FormatToken(const FencingToken& t);  // "e3/a2"

// How an attempt ended.
enum class AttemptEnd : std::uint8_t {
  kNone,       // still live
  kSucceeded,  // every task exited 0
  kFailed,     // a task exited non-zero or by a signal
  kLost,       // a node of the attempt went down
  kCancelled,  // the job was cancelled
  kTimedOut,
  kPreempted,
  kStuck,  // stopped reporting progress within the job's progress timeout
};
std::string_view AttemptEndName(AttemptEnd e);

}  // namespace mlsched

#endif  // MLSCHED_JOB_STATE_H_
