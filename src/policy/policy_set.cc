#include "mlsched/policy/policy_set.h"

#include "fmt/format.h"
#include "mlsched/status_macros.h"

namespace mlsched {

PolicySet DefaultPolicySet() {
  return {.ordering = NewPriorityOrdering(), .placement = NewBestFitPlacement()};
}

absl::StatusOr<PolicySet> MakePolicySet(std::string_view ordering, std::string_view placement) {
  PolicySet set;
  if (ordering == "fifo") {
    set.ordering = NewFifoOrdering();
  } else if (ordering == "priority") {
    set.ordering = NewPriorityOrdering();
  } else if (ordering == "shortest-first") {
    set.ordering = NewShortestFirstOrdering();
  } else {
    return absl::InvalidArgumentError(
        fmt::format("ordering policy \"{}\": unknown (known: fifo, priority, shortest-first)", ordering));
  }
  if (placement == "best-fit") {
    set.placement = NewBestFitPlacement();
  } else if (placement == "spread") {
    set.placement = NewSpreadPlacement();
  } else {
    return absl::InvalidArgumentError(
        fmt::format("placement policy \"{}\": unknown (known: best-fit, spread)", placement));
  }
  return set;
}

}  // namespace mlsched

namespace mlsched {

absl::Status FairShareOptions::Validate() const {
  if (usage_half_life < 0) {
    return absl::InvalidArgumentError(
        fmt::format("fair_share.usage_half_life = {}: must be >= 0", usage_half_life));
  }
  return absl::OkStatus();
}

absl::Status BackfillOptions::Validate() const {
  if (reservation_depth < 1) {
    return absl::InvalidArgumentError(fmt::format(
        "backfill.reservation_depth = {}: must be >= 1 (1 = EASY, \"all\" = conservative)",
        reservation_depth));
  }
  return absl::OkStatus();
}

absl::Status PreemptionOptions::Validate() const {
  auto bad = [](std::string_view field, std::int64_t v, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("preemption.{} = {}: {}", field, v, why));
  };
  if (grace < 0) return bad("grace", grace, "must be >= 0");
  if (min_runtime < 0) return bad("min_runtime", min_runtime, "must be >= 0");
  if (max_victims_per_window < 1) return bad("max_victims_per_window", max_victims_per_window, "must be >= 1");
  if (window <= 0) return bad("window", window, "must be > 0");
  if (max_preemptors_per_pass < 1) return bad("max_preemptors_per_pass", max_preemptors_per_pass, "must be >= 1");
  return absl::OkStatus();
}

absl::Status PolicySet::Validate() const {
  if (ordering) {
    if (absl::Status s = ordering->Validate(); !s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("ordering policy \"{}\": {}", ordering->name(), std::string(s.message())));
    }
  }
  if (fair_share) MLSCHED_RETURN_IF_ERROR(fair_share->Validate());
  if (backfill) MLSCHED_RETURN_IF_ERROR(backfill->Validate());
  if (preemption) MLSCHED_RETURN_IF_ERROR(preemption->Validate());
  if (backfill && backfill->reservation_depth == kReserveAll && (fair_share || preemption)) {
    return absl::InvalidArgumentError(fmt::format(
        "backfill.reservation_depth = \"all\" (conservative): not with {} (conservative backfilling reserves in "
        "arrival order and never lets a job delay a reservation); use a finite depth",
        fair_share ? "fair_share" : "preemption"));
  }
  if (strict_order && backfill) {
    return absl::InvalidArgumentError(
        "strict_order: not with backfill (its reservations decide which jobs may pass a blocked one)");
  }
  return absl::OkStatus();
}

namespace {
class TimeLimitEstimator final : public RuntimeEstimator {
 public:
  std::string_view name() const override { return "time-limit"; }
  Duration Estimate(const JobSpec& job) const override { return job.time_limit; }
};
}  // namespace

std::shared_ptr<const RuntimeEstimator> NewTimeLimitEstimator() {
  return std::make_shared<TimeLimitEstimator>();
}

}  // namespace mlsched
