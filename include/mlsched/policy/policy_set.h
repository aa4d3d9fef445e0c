// PolicySet: the policies one engine runs with.
//
// Each pass the engine releases eligible jobs, orders them with `ordering` and
// places them with `placement`. Later policies (fair share, backfill,
// preemption) join this aggregate as they land.
//
//   PolicySet policies = MakePolicySet("priority", "best-fit").value();
//   EngineOptions options{.clock = &clock, .policies = policies};
#ifndef MLSCHED_POLICY_POLICY_SET_H_
#define MLSCHED_POLICY_POLICY_SET_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "mlsched/policy/ordering.h"
#include "mlsched/policy/placement.h"

namespace mlsched {

struct PolicySet {
  std::shared_ptr<const OrderingPolicy> ordering;
  std::shared_ptr<const PlacementPolicy> placement;
};

// Priority with aging, best-fit placement.
PolicySet DefaultPolicySet();

// By name: ordering "fifo" | "priority"; placement "best-fit" | "spread".
// Unknown names are kInvalidArgument listing the known ones.
absl::StatusOr<PolicySet> MakePolicySet(std::string_view ordering, std::string_view placement);

}  // namespace mlsched

#endif  // MLSCHED_POLICY_POLICY_SET_H_
