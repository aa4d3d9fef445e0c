// RetryPolicy: when a failed attempt is retried, and after how long.
//
// Every attempt that ends without success is classified:
//
//   transient  the node was lost, the job was preempted, a GPU turned
//              unhealthy, the attempt stopped reporting progress (stuck), a
//              task was killed by a signal, or a task exited with one of
//              `transient_exit_codes`;
//   permanent  any other non-zero exit, and an attempt killed at its time
//              limit (running it again would most likely time out again).
//
// A transient failure is retried while attempts remain; a permanent one only
// when `retry_permanent` is set. Preemptions never use up attempts: they are
// not the job's fault. A job that cannot be retried is dead-lettered with the
// reason and its full attempt history (Engine::Requeue brings it back).
//
// The n-th retry waits min(backoff_cap, backoff_base * 2^(n-1)), shortened by
// a jitter factor drawn from the engine's seed, the job and n: the same seed
// gives the same delays, while jobs that failed together spread out.
//
//   RetryPolicy retry{.max_attempts = 5, .backoff_base = 30 * kSecond,
//                     .backoff_cap = 10 * kMinute, .transient_exit_codes = {75}};
//
// Thread-safety: plain values and pure functions.
#ifndef MLSCHED_RETRY_H_
#define MLSCHED_RETRY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched {

struct RetryPolicy {
  // Attempts in total, including the first, in [1, 1000]. 1 means "never retry".
  std::int32_t max_attempts = 1;
  Duration backoff_base = 10 * kSecond;  // >= 0; 0 retries at once
  Duration backoff_cap = 10 * kMinute;   // >= backoff_base
  double jitter = 0.1;                   // in [0, 1]: a delay d becomes d * (1 - jitter * u), u in [0, 1)
  std::vector<std::int32_t> transient_exit_codes;  // exit codes in [1, 255] that mean "try again"
  bool retry_permanent = false;                    // retry permanent failures as well

  // Errors name the job: `job "x": retry.backoff_base = -1.0s: must be >= 0`.
  absl::Status Validate(std::string_view job_name) const;
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

enum class FailureClass : std::uint8_t { kTransient, kPermanent };
std::string_view FailureClassName(FailureClass c);

// How an attempt failed: its outcome and, for kFailed, the first failing
// task's exit code or signal.
struct AttemptFailure {
  AttemptEnd outcome = AttemptEnd::kFailed;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
};

FailureClass Classify(const RetryPolicy& policy, const AttemptFailure& failure);

// "exit code 3", "signal 9", "node lost", "time limit", ... for reasons.
std::string DescribeFailure(const AttemptFailure& failure);

// Delay before retry number `retry` (1 for the first retry) of `job`.
// Deterministic in (policy, seed, job, retry).
Duration BackoffDelay(const RetryPolicy& policy, std::uint64_t seed, std::uint64_t job, std::int32_t retry);

}  // namespace mlsched

#endif  // MLSCHED_RETRY_H_
