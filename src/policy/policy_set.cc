#include "mlsched/policy/policy_set.h"

#include "fmt/format.h"

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
  } else {
    return absl::InvalidArgumentError(
        fmt::format("ordering policy \"{}\": unknown (known: fifo, priority)", ordering));
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
