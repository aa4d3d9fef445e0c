// PolicySet: the policies one engine runs with.
//
// Each pass the engine releases eligible jobs, orders them (`fair_share`
// between tenants when set, `ordering` inside a tenant or globally), places
// them with `placement`, reserves for blocked jobs and backfills around the
// reservations (`backfill`, when set) and preempts for blocked jobs
// (`preemption`, when set). Unset optional policies are off.
//
//   PolicySet policies = MakePolicySet("priority", "best-fit").value();
//   EngineOptions options{.clock = &clock, .policies = policies};
//
// Thread-safety: a value; policies inside are shared, immutable objects, so a
// PolicySet may be copied to several engines.
#ifndef MLSCHED_POLICY_POLICY_SET_H_
#define MLSCHED_POLICY_POLICY_SET_H_

#include <memory>
#include <string_view>

#include <optional>

#include "absl/status/statusor.h"
#include "mlsched/policy/backfill.h"
#include "mlsched/policy/fair_share.h"
#include "mlsched/policy/ordering.h"
#include "mlsched/policy/placement.h"
#include "mlsched/policy/preemption.h"

namespace mlsched {

struct PolicySet {
  std::shared_ptr<const OrderingPolicy> ordering;
  std::shared_ptr<const PlacementPolicy> placement;
  std::optional<FairShareOptions> fair_share;
  std::optional<BackfillOptions> backfill;
  std::optional<PreemptionOptions> preemption;
  // Textbook FCFS: the first job in policy order that has no room stops the
  // pass, so no later job overtakes it. Off (the default), any later job
  // that fits starts (greedy list scheduling, which can starve wide jobs:
  // backfill protects them with reservations instead). Not with backfill.
  bool strict_order = false;
  // Checks every option; errors name the policy and field.
  absl::Status Validate() const;
};

// Priority with aging, best-fit placement.
PolicySet DefaultPolicySet();

// By name: ordering "fifo" | "priority"; placement "best-fit" | "spread".
// Unknown names are kInvalidArgument listing the known ones.
absl::StatusOr<PolicySet> MakePolicySet(std::string_view ordering, std::string_view placement);

}  // namespace mlsched

#endif  // MLSCHED_POLICY_POLICY_SET_H_
