// TenantTree: tenants, their usage, quota admission and fair shares.
//
// Assumptions and design:
// - Tenants form a forest under a virtual root whose capacity is the
//   cluster's up capacity. Jobs run in leaves. Usage is kept per tenant and
//   includes its descendants; a start or an exit walks the path to the root
//   (O(depth)).
// - Admission of a request r by leaf X checks, for X and every ancestor A:
//     usage(A) + r <= guarantee(A) + borrowing_limit(A)
//   for each kind the limit covers (a kind with neither guarantee nor limit
//   is not limited)
//   and, at every level, that the siblings' protected idle guarantee stays
//   free:  usage(P) + r + sum_{S sibling of A} protected(S) <= cap(P)
//   where protected(S) = max(0, guarantee(S) - lending_limit(S) - usage(S))
//   (0 when S lends everything) and cap(P) is guarantee + borrowing limit
//   (checked only when P has a borrowing limit) or, for the virtual root, the
//   cluster capacity. Each parent keeps the sum of its children's protected
//   amounts, updated with usage.
// - Dominant shares are max_k(U[k] / C[k]) / weight, U the allocation or its
//   exponentially decaying average (half-life h). The average is advanced
//   with the old allocation before each change, so it is exact for
//   piecewise-constant allocation.
#ifndef MLSCHED_SRC_INTERNAL_TENANTS_H_
#define MLSCHED_SRC_INTERNAL_TENANTS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "mlsched/resources.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"

namespace mlsched::internal {

inline constexpr std::uint32_t kRootTenant = 0;  // the virtual root

struct TenantRec {
  TenantSpec spec;
  std::uint32_t parent = kRootTenant;
  std::vector<std::uint32_t> children;
  ResourceVector usage;
  ResourceVector protected_amount;   // what it keeps for itself (see above)
  ResourceVector children_protected;  // sum over children
  std::array<double, kMaxResourceKinds> decayed{};  // EWMA of usage
  Timestamp decayed_at = 0;
  double share = 0;
  bool share_stale = false;  // its usage moved since `share` was computed (TenantTree::stale_shares_)
  std::int64_t jobs = 0;  // jobs ever submitted to it
  std::int64_t pending = 0;
  std::int64_t running = 0;
  bool leaf() const { return children.empty(); }
};

// Why a request does not fit its tenants' quotas.
struct QuotaBlock {
  std::uint32_t tenant = 0;  // the tenant whose limit blocks
  int kind = 0;              // the resource kind
  bool sibling_protection = false;  // blocked by siblings' protected guarantee
};

class TenantTree {
 public:
  TenantTree();

  // Index of `name`, creating an organisation with default settings if unknown.
  std::uint32_t FindOrCreate(const std::string& name);
  std::optional<std::uint32_t> Find(const std::string& name) const;
  // Validates the whole set (names, parents exist or are in the set, no
  // cycles, no jobs under a tenant that would get children), then applies it:
  // new tenants are added, existing ones updated. Nothing changes on error.
  absl::Status Configure(const std::vector<TenantSpec>& specs);

  const TenantRec& at(std::uint32_t t) const { return tenants_[t]; }
  TenantRec& mutable_at(std::uint32_t t) { return tenants_[t]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(tenants_.size()); }

  // Adds (sign +1) or removes (-1) `r` from the leaf's usage and its
  // ancestors', advancing decayed averages to `now` first.
  void AddUsage(std::uint32_t leaf, const ResourceVector& r, int sign, Timestamp now);
  // True if `r` fits the quotas of `leaf` and its ancestors; `cluster` is the
  // capacity of the virtual root.
  bool Admits(std::uint32_t leaf, const ResourceVector& r, const ResourceVector& cluster,
              QuotaBlock* why) const;
  // usage + r <= guarantee for every kind r asks for that the tenant has a
  // guarantee of, and there is at least one such kind (it stays within what
  // it is owed).
  bool WithinGuarantee(std::uint32_t t, const ResourceVector& r) const;
  // usage > guarantee in some kind that `of_interest` asks for and that is
  // quota-managed (some tenant has a guarantee of it).
  // Inline when no kind is managed (no tenant has a guarantee): then none.
  bool Borrowing(std::uint32_t t, const ResourceVector& of_interest) const {
    return has_guarantees_ && BorrowingManaged(t, of_interest);
  }

  void set_half_life(Duration h) {
    half_life_ = h;
    decay_interval_ = -1;  // the memo was for the old half-life
    all_shares_stale_ = true;
  }
  // Whether some tenant besides the root has children (only Configure gives
  // a tenant children): until then every named tenant is a leaf.
  bool has_inner_tenants() const { return has_inner_; }
  // Whether some tenant has a borrowing or lending limit: without one,
  // Admits() admits every job.
  bool has_limits() const { return has_limits_; }
  // Whether some tenant has a guarantee: without one, no job is within its
  // guarantee and no attempt borrows.
  bool has_guarantees() const { return has_guarantees_; }
  // Whether some tenant has a guarantee or a borrowing or lending limit.
  bool has_quotas() const {
    for (bool m : managed_) if (m) return true;
    for (const TenantRec& t : tenants_) if (t.spec.borrowing_limit || t.spec.lending_limit) return true;
    return false;
  }
  // Brings every tenant's share up to `now` against `cluster` capacity.
  // Without decay a share is a function of the tenant's usage and weight and
  // of the capacity: only the tenants whose usage moved since are
  // recomputed, unless weights or the capacity changed.
  void ComputeShares(Timestamp now, const ResourceVector& cluster);
  // Recomputes the shares of `leaf` and its ancestors.
  void UpdateShares(std::uint32_t leaf, Timestamp now, const ResourceVector& cluster);

  std::string FormatBlock(const QuotaBlock& b, const ResourceCatalog& catalog,
                          const ResourceVector& r) const;

 private:
  // guarantee + borrowing limit of kind `kind`, or nullopt when the tenant
  // has no borrowing limit or its quota mentions neither.
  std::optional<std::int64_t> Limit(std::uint32_t t, int kind) const;
  void Advance(TenantRec& t, Timestamp now);
  bool BorrowingManaged(std::uint32_t t, const ResourceVector& of_interest) const;  // Borrowing, some kind managed
  // The kinds the cluster has some of, with their capacity: a share looks
  // only at these (the others would divide by zero).
  struct Capacities {
    int count = 0;
    std::array<int, kMaxResourceKinds> kind{};
    std::array<double, kMaxResourceKinds> amount{};
    friend bool operator==(const Capacities&, const Capacities&) = default;
  };
  static Capacities CapacitiesOf(const ResourceVector& cluster);
  double Share(const TenantRec& t, const Capacities& caps) const;
  void RefreshProtected(std::uint32_t t);

  std::vector<TenantRec> tenants_;
  absl::flat_hash_map<std::string, std::uint32_t> by_name_;
  mutable std::uint32_t last_found_ = kRootTenant;  // Find's memo; the root: none
  Duration half_life_ = 0;
  // Advance's memo: the decay factor of the last interval computed. Tenants
  // advanced together share their interval, so a pass computes exp2 once.
  Duration decay_interval_ = -1;
  double decay_factor_ = 1;
  // ComputeShares' memo: the tenants whose usage moved since it last ran,
  // and the capacity it ran against. All are recomputed after a change of
  // tenants or weights (all_shares_stale_), and at its first run, before
  // which nothing is tracked (an engine without fair share never runs it).
  std::vector<std::uint32_t> stale_shares_;
  bool tracking_shares_ = false;
  bool all_shares_stale_ = true;
  Capacities shares_capacity_;
  std::array<bool, kMaxResourceKinds> managed_{};
  bool has_limits_ = false;  // some tenant has a borrowing or lending limit
  bool has_guarantees_ = false;  // some kind is managed_
  bool has_inner_ = false;   // some tenant other than the root has children
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_TENANTS_H_
