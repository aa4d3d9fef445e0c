// Backfill with reservations.
//
// When a job that leads the order cannot start, the engine computes its
// earliest start — a concrete set of nodes and GPUs — from when running
// attempts are expected to end (their start plus the RuntimeEstimator's
// estimate; an attempt already past its estimate counts as ending now) and
// reserves it. Later jobs may then start only where they cannot delay the
// reservation: on resources the reservation does not need, or anywhere if
// their own estimate ends them before the reservation starts. The first
// `reservation_depth` blocked jobs of a pass get reservations: 1 is EASY
// backfilling, kReserveAll is conservative backfilling. Jobs with no estimate
// (no time limit) are assumed to run forever: they never end before a
// reservation, and they make a reservation behind them impossible.
//
// Reservations are recomputed at every pass; Explain(job) reports a reserved
// job's expected start.
//
// Thread-safety: a RuntimeEstimator is called from the engine's thread only
// and must be pure; the engine shares ownership of it (shared_ptr).
//
//   PolicySet policies = DefaultPolicySet();
//   policies.backfill = BackfillOptions{.reservation_depth = 1};  // EASY
//   ...
//   engine->Explain(head).value().expected_start;  // when the head should start
#ifndef MLSCHED_POLICY_BACKFILL_H_
#define MLSCHED_POLICY_BACKFILL_H_

#include <limits>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "mlsched/job_spec.h"
#include "mlsched/time.h"

namespace mlsched {

// How long a job will run. Pure; called once per submission.
class RuntimeEstimator {
 public:
  virtual ~RuntimeEstimator() = default;
  virtual std::string_view name() const = 0;
  // Expected runtime, > 0; or 0 when unknown.
  virtual Duration Estimate(const JobSpec& job) const = 0;
};

// The job's time limit (0, unknown, when it has none).
std::shared_ptr<const RuntimeEstimator> NewTimeLimitEstimator();

inline constexpr int kReserveAll = std::numeric_limits<int>::max();

struct BackfillOptions {
  int reservation_depth = 1;  // >= 1; 1 = EASY, kReserveAll = conservative
  std::shared_ptr<const RuntimeEstimator> estimator;  // null = time limit
  absl::Status Validate() const;
};

}  // namespace mlsched

#endif  // MLSCHED_POLICY_BACKFILL_H_
