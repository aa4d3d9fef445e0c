#include "internal/tenants.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace mlsched::internal {
namespace {

ResourceVector ClampedDiff(const ResourceVector& a, const ResourceVector& b) {
  ResourceVector out;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const ResourceKind k(static_cast<std::uint8_t>(i));
    out.Set(k, std::max<std::int64_t>(0, a.Get(k) - b.Get(k)));
  }
  return out;
}

}  // namespace

TenantTree::TenantTree() {
  TenantRec& root = tenants_.emplace_back();
  root.spec.name = "";
  root.parent = kRootTenant;
}

std::optional<std::uint32_t> TenantTree::Find(const std::string& name) const {
  // A submission looks its tenant up twice once tenants have children (to
  // check that it names a leaf, then to charge it), and submissions come in
  // runs from one tenant: the last name found is compared first. Names map
  // to ids for good, so this memo never goes stale.
  if (last_found_ != kRootTenant && tenants_[last_found_].spec.name == name) return last_found_;
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  last_found_ = it->second;
  return it->second;
}

std::uint32_t TenantTree::FindOrCreate(const std::string& name) {
  if (auto t = Find(name)) return *t;
  const auto id = static_cast<std::uint32_t>(tenants_.size());
  TenantRec& t = tenants_.emplace_back();
  t.spec.name = name;
  t.parent = kRootTenant;
  tenants_[kRootTenant].children.push_back(id);
  by_name_.emplace(name, id);
  all_shares_stale_ = true;
  return id;
}

absl::Status TenantTree::Configure(const std::vector<TenantSpec>& specs) {
  // Validate everything first.
  absl::flat_hash_map<std::string, const TenantSpec*> incoming;
  for (const TenantSpec& s : specs) {
    if (absl::Status st = s.Validate(); !st.ok()) return st;
    if (!incoming.emplace(s.name, &s).second) {
      return absl::InvalidArgumentError(fmt::format("tenant \"{}\": listed twice", s.name));
    }
  }
  auto parent_of = [&](const std::string& name) -> std::optional<std::string> {
    if (auto it = incoming.find(name); it != incoming.end()) return it->second->parent;
    if (auto t = Find(name)) {
      const std::uint32_t p = tenants_[*t].parent;
      return p == kRootTenant ? std::string() : tenants_[p].spec.name;
    }
    return std::nullopt;
  };
  for (const TenantSpec& s : specs) {
    if (!s.parent.empty() && !parent_of(s.parent)) {
      return absl::InvalidArgumentError(
          fmt::format("tenant \"{}\": parent = \"{}\": unknown tenant", s.name, s.parent));
    }
    // Walk up: a cycle comes back to s.name.
    std::string cur = s.parent;
    std::string path = s.name;
    for (std::size_t steps = 0; !cur.empty(); ++steps) {
      path += " -> " + cur;
      if (cur == s.name || steps > incoming.size() + tenants_.size()) {
        return absl::InvalidArgumentError(
            fmt::format("tenant \"{}\": parent = \"{}\": cycle {}", s.name, s.parent, path));
      }
      cur = parent_of(cur).value_or("");
    }
    if (!s.parent.empty()) {
      if (auto p = Find(s.parent); p && tenants_[*p].jobs > 0) {
        return absl::FailedPreconditionError(fmt::format(
            "tenant \"{}\": parent = \"{}\": that tenant runs jobs; only leaf tenants run jobs",
            s.name, s.parent));
      }
    }
    if (auto t = Find(s.name)) {
      const std::uint32_t old_parent = tenants_[*t].parent;
      const std::string old_parent_name = old_parent == kRootTenant ? "" : tenants_[old_parent].spec.name;
      if (old_parent_name != s.parent && !tenants_[*t].usage.IsZero()) {
        return absl::FailedPreconditionError(fmt::format(
            "tenant \"{}\": parent: cannot move a tenant while it holds resources", s.name));
      }
    }
  }
  // Apply: create missing tenants, then set specs and links.
  for (const TenantSpec& s : specs) FindOrCreate(s.name);
  for (const TenantSpec& s : specs) {
    const std::uint32_t t = *Find(s.name);
    const std::uint32_t new_parent = s.parent.empty() ? kRootTenant : *Find(s.parent);
    TenantRec& rec = tenants_[t];
    if (rec.parent != new_parent) {
      auto& old_children = tenants_[rec.parent].children;
      old_children.erase(std::find(old_children.begin(), old_children.end(), t));
      tenants_[new_parent].children.push_back(t);
      rec.parent = new_parent;
    }
    rec.spec = s;
  }
  all_shares_stale_ = true;  // weights may have changed
  has_inner_ = false;
  for (std::uint32_t t = 1; t < tenants_.size(); ++t) has_inner_ = has_inner_ || !tenants_[t].leaf();
  has_limits_ = false;
  for (const TenantRec& t : tenants_) has_limits_ = has_limits_ || t.spec.borrowing_limit || t.spec.lending_limit;
  managed_ = {};
  for (const TenantRec& t : tenants_)
    for (int i = 0; i < kMaxResourceKinds; ++i)
      managed_[i] = managed_[i] || t.spec.guarantee.Get(ResourceKind(static_cast<std::uint8_t>(i))) > 0;
  has_guarantees_ = std::find(managed_.begin(), managed_.end(), true) != managed_.end();
  // Recompute protected amounts bottom-up (cheap: tenants are few).
  for (TenantRec& t : tenants_) t.children_protected = {};
  for (std::uint32_t t = 1; t < tenants_.size(); ++t) RefreshProtected(t);
  for (std::uint32_t t = 1; t < tenants_.size(); ++t)
    tenants_[tenants_[t].parent].children_protected += tenants_[t].protected_amount;
  return absl::OkStatus();
}

void TenantTree::RefreshProtected(std::uint32_t t) {
  TenantRec& rec = tenants_[t];
  if (!rec.spec.lending_limit) {
    rec.protected_amount = {};
    return;
  }
  rec.protected_amount = ClampedDiff(ClampedDiff(rec.spec.guarantee, *rec.spec.lending_limit), rec.usage);
}

void TenantTree::Advance(TenantRec& t, Timestamp now) {
  if (half_life_ <= 0) {
    t.decayed_at = now;
    return;
  }
  if (now <= t.decayed_at) return;
  if (now - t.decayed_at != decay_interval_) {
    decay_interval_ = now - t.decayed_at;
    decay_factor_ = std::exp2(-static_cast<double>(decay_interval_) / static_cast<double>(half_life_));
  }
  const double d = decay_factor_;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const double a = static_cast<double>(t.usage.Get(ResourceKind(static_cast<std::uint8_t>(i))));
    t.decayed[i] = t.decayed[i] * d + a * (1.0 - d);
  }
  t.decayed_at = now;
}

void TenantTree::AddUsage(std::uint32_t leaf, const ResourceVector& r, int sign, Timestamp now) {
  if (tracking_shares_) {
    for (std::uint32_t t = leaf; t != kRootTenant; t = tenants_[t].parent) {
      // Its ancestors were marked with it (or, after a change of tenants, all
      // shares are recomputed anyway).
      if (tenants_[t].share_stale) break;
      tenants_[t].share_stale = true;
      stale_shares_.push_back(t);
    }
  }
  for (std::uint32_t t = leaf;; t = tenants_[t].parent) {
    TenantRec& rec = tenants_[t];
    Advance(rec, now);
    if (sign > 0) {
      rec.usage += r;
    } else {
      rec.usage -= r;
    }
    if (t != kRootTenant && rec.spec.lending_limit) {  // else nothing is protected (RefreshProtected)
      const ResourceVector before = rec.protected_amount;
      RefreshProtected(t);
      TenantRec& parent = tenants_[rec.parent];
      parent.children_protected -= before;
      parent.children_protected += rec.protected_amount;
    }
    if (t == kRootTenant) break;
  }
}

std::optional<std::int64_t> TenantTree::Limit(std::uint32_t t, int kind) const {
  const TenantRec& rec = tenants_[t];
  if (!rec.spec.borrowing_limit) return std::nullopt;
  const ResourceKind k(static_cast<std::uint8_t>(kind));
  const std::int64_t g = rec.spec.guarantee.Get(k), b = rec.spec.borrowing_limit->Get(k);
  if (g == 0 && b == 0) return std::nullopt;  // a kind the quota does not mention
  return g + b;
}

bool TenantTree::Admits(std::uint32_t leaf, const ResourceVector& r, const ResourceVector& cluster,
                        QuotaBlock* why) const {
  if (!has_limits_) return true;  // guarantees alone never refuse a job
  for (std::uint32_t t = leaf; t != kRootTenant; t = tenants_[t].parent) {
    const TenantRec& rec = tenants_[t];
    const TenantRec& parent = tenants_[rec.parent];
    for (int i = 0; i < kMaxResourceKinds; ++i) {
      const ResourceKind k(static_cast<std::uint8_t>(i));
      const std::int64_t want = r.Get(k);
      if (want == 0 || !managed_[i]) continue;  // nobody is guaranteed this kind: no quota on it
      if (const std::optional<std::int64_t> cap = Limit(t, i); cap && rec.usage.Get(k) + want > *cap) {
        *why = {.tenant = t, .kind = i};
        return false;
      }
      // Siblings' protected idle guarantee must stay free: against the
      // capacity of the nearest ancestor with a limit, or of the cluster.
      const std::int64_t siblings_protected = parent.children_protected.Get(k) - rec.protected_amount.Get(k);
      if (siblings_protected <= 0) continue;
      std::uint32_t a = rec.parent;
      while (a != kRootTenant && !Limit(a, i)) a = tenants_[a].parent;
      const std::int64_t cap = a == kRootTenant ? cluster.Get(k) : *Limit(a, i);
      const std::int64_t used = tenants_[a].usage.Get(k);
      // What the rest of the cluster (or of that ancestor) keeps protected
      // outside this parent is checked at the parent's own level.
      if (used + want + siblings_protected > cap) {
        *why = {.tenant = t, .kind = i, .sibling_protection = true};
        return false;
      }
    }
  }
  return true;
}

bool TenantTree::WithinGuarantee(std::uint32_t t, const ResourceVector& r) const {
  const TenantRec& rec = tenants_[t];
  bool guaranteed = false;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const ResourceKind k(static_cast<std::uint8_t>(i));
    if (r.Get(k) <= 0 || rec.spec.guarantee.Get(k) <= 0) continue;  // only kinds it is owed
    guaranteed = true;
    if (rec.usage.Get(k) + r.Get(k) > rec.spec.guarantee.Get(k)) return false;
  }
  return guaranteed;
}

bool TenantTree::BorrowingManaged(std::uint32_t t, const ResourceVector& of_interest) const {
  const TenantRec& rec = tenants_[t];
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const ResourceKind k(static_cast<std::uint8_t>(i));
    if (!managed_[i]) continue;  // nobody is guaranteed this kind: no one borrows it
    if (of_interest.Get(k) > 0 && rec.usage.Get(k) > rec.spec.guarantee.Get(k)) return true;
  }
  return false;
}

TenantTree::Capacities TenantTree::CapacitiesOf(const ResourceVector& cluster) {
  Capacities caps;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const std::int64_t c = cluster.Get(ResourceKind(static_cast<std::uint8_t>(i)));
    if (c <= 0) continue;
    caps.kind[caps.count] = i;
    caps.amount[caps.count] = static_cast<double>(c);
    ++caps.count;
  }
  return caps;
}

double TenantTree::Share(const TenantRec& t, const Capacities& caps) const {
  double best = 0;
  for (int k = 0; k < caps.count; ++k) {
    const int i = caps.kind[k];
    const double u = half_life_ > 0 ? t.decayed[i]
                                    : static_cast<double>(t.usage.Get(ResourceKind(static_cast<std::uint8_t>(i))));
    best = std::max(best, u / caps.amount[k]);
  }
  return best / static_cast<double>(std::max<std::int64_t>(1, t.spec.weight));
}

void TenantTree::ComputeShares(Timestamp now, const ResourceVector& cluster) {
  const Capacities caps = CapacitiesOf(cluster);
  auto compute = [&](TenantRec& t) {
    Advance(t, now);
    t.share = Share(t, caps);
    t.share_stale = false;
  };
  tracking_shares_ = true;
  if (half_life_ > 0 || all_shares_stale_ || !(caps == shares_capacity_)) {  // decay moves every share
    for (std::uint32_t t = 1; t < tenants_.size(); ++t) compute(tenants_[t]);
    all_shares_stale_ = false;
    shares_capacity_ = caps;
  } else {
    for (std::uint32_t t : stale_shares_) compute(tenants_[t]);
  }
  stale_shares_.clear();
}

void TenantTree::UpdateShares(std::uint32_t leaf, Timestamp now, const ResourceVector& cluster) {
  const Capacities caps = CapacitiesOf(cluster);
  for (std::uint32_t t = leaf; t != kRootTenant; t = tenants_[t].parent) {
    Advance(tenants_[t], now);
    tenants_[t].share = Share(tenants_[t], caps);
  }
}

std::string TenantTree::FormatBlock(const QuotaBlock& b, const ResourceCatalog& catalog,
                                    const ResourceVector& r) const {
  const TenantRec& t = tenants_[b.tenant];
  const ResourceKind k(static_cast<std::uint8_t>(b.kind));
  const std::string_view kind = catalog.Name(k);
  if (b.sibling_protection) {
    return fmt::format(
        "waiting for quota: tenant \"{}\" would need {} {} more, but the rest is kept for other tenants' "
        "guarantees (they lend only part of it)",
        t.spec.name, r.Get(k), kind);
  }
  return fmt::format(
      "waiting for quota: tenant \"{}\" uses {} {} of guarantee {} + borrowing limit {}; the job needs {} more",
      t.spec.name, t.usage.Get(k), kind, t.spec.guarantee.Get(k), t.spec.borrowing_limit->Get(k), r.Get(k));
}

}  // namespace mlsched::internal
