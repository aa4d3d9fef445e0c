// Tenants: who jobs are charged to, with quotas.
//
// Tenants form a forest: organisations at the top, teams below (any depth).
// Jobs run in leaf tenants. Each tenant has
// - a weight for fair share (policy/fair_share.h);
// - a guarantee (nominal quota) per resource: capacity it can always get
//   back, by reclaim preemption if others borrowed it;
// - a borrowing limit: how far above its guarantee it may go by borrowing
//   idle capacity (unset = no limit). A tenant never holds more than
//   guarantee + borrowing limit of the kinds the limit covers: those it lists
//   or that the tenant is guaranteed (a kind mentioned by neither is not
//   limited);
// - a lending limit: how much of its idle guarantee others may borrow
//   (unset = all of it). The rest stays free for it alone.
// In the manner of Kueue cohorts, siblings under one parent borrow from each
// other; an organisation (a tenant without parent) borrows from the idle
// capacity of the cluster and of the other organisations, and so cannot have
// a borrowing limit of its own.
//
// Quotas are checked together with placement: a job starts only when both
// its tenant's quota (at every level up to the organisation) and the nodes
// have room for it, so no job is admitted only to sit unplaceable.
//
// Quotas apply only to kinds some tenant is guaranteed: if no tenant has a
// CPU guarantee, nobody "borrows" CPU.
//
//   engine->ConfigureTenants({
//       {.name = "research", .weight = 2, .guarantee = Parse("gpu=64")},
//       {.name = "vision", .parent = "research", .guarantee = Parse("gpu=32"),
//        .borrowing_limit = Parse("gpu=16")}});
// Thread-safety: plain values; ConfigureTenants() copies them.
#ifndef MLSCHED_TENANT_H_
#define MLSCHED_TENANT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "mlsched/resources.h"

namespace mlsched {

struct TenantSpec {
  std::string name;
  std::string parent;  // "" for an organisation
  std::int64_t weight = 1;  // >= 1
  ResourceVector guarantee;
  std::optional<ResourceVector> borrowing_limit;  // unset = unlimited
  std::optional<ResourceVector> lending_limit;    // unset = lends all idle guarantee

  // Checks the spec on its own (names, signs, weight, root borrowing).
  absl::Status Validate() const;
};

struct TenantStatus {
  std::string name;
  std::string parent;
  std::int64_t weight = 1;
  ResourceVector guarantee;
  std::optional<ResourceVector> borrowing_limit;
  std::optional<ResourceVector> lending_limit;
  ResourceVector usage;      // allocated to its jobs (and its children's)
  double dominant_share = 0;  // weighted, as fair share last computed it
  std::int64_t pending_jobs = 0;
  std::int64_t running_jobs = 0;
  bool leaf = true;
};

}  // namespace mlsched

#endif  // MLSCHED_TENANT_H_
