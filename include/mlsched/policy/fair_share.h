// Fair share: weighted DRF between tenants, level by level.
//
// With fair share on, a pass picks the next job by walking the tenant tree
// from the top: at each level the child tenant with the lowest weighted
// dominant share goes next; inside a leaf tenant, jobs go by effective
// priority (OrderingPolicy). A tenant's dominant share is
//
//   max over resource kinds k of  usage_k / cluster_capacity_k,  divided by its weight
//
// where usage is the tenant's allocation, or — with a usage half-life — an
// exponentially decaying average of its allocation over time, so a tenant
// that used much lately yields to one that did not (historical fairness).
// Shares are ratios (doubles), recomputed once per pass for every tenant and
// after each start for the tenants on the started job's path; the tenant
// heaps are updated incrementally, never rebuilt per decision.
//
// Without fair share, jobs of all tenants are ordered together by effective
// priority. Quotas (tenant.h) apply either way.
//
// Thread-safety: plain values; shares are computed on the engine's thread.
//
// Options are plain values, shared by nothing; set them on the PolicySet:
//
//   PolicySet policies = DefaultPolicySet();
//   policies.fair_share = FairShareOptions{.usage_half_life = 7 * kDay};
//   auto engine = Engine::Create({.clock = &clock, .policies = policies});
#ifndef MLSCHED_POLICY_FAIR_SHARE_H_
#define MLSCHED_POLICY_FAIR_SHARE_H_

#include "absl/status/status.h"
#include "mlsched/time.h"

namespace mlsched {

struct FairShareOptions {
  // 0: shares use the current allocation (pure DRF). > 0: an exponentially
  // decaying average of the allocation with this half-life.
  Duration usage_half_life = 0;
  absl::Status Validate() const;
};

}  // namespace mlsched

#endif  // MLSCHED_POLICY_FAIR_SHARE_H_
