#include "internal/cluster.h"

#include <algorithm>
#include <bit>

#include "absl/container/inlined_vector.h"

namespace mlsched::internal {

std::uint32_t Cluster::Add(NodeSpec spec, Timestamp now) {
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  NodeRec& n = nodes_.emplace_back();
  gpu_links_.emplace_back();
  cpu_links_.emplace_back();
  for (auto& links : preemptible_links_) links.emplace_back();
  change_stamp_.push_back(0);
  MarkChanged(index);
  n.live_tasks.reserve(spec.gpus.size() + 1);
  n.capacity = spec.capacity;
  n.capacity.Set(kGpu, static_cast<std::int64_t>(spec.gpus.size()));
  n.all_gpus = GpuSet::FirstN(static_cast<int>(spec.gpus.size()));
  for (const GpuDevice& g : spec.gpus) {
    if (!g.healthy) n.unhealthy.Add(g.index);
    if (static_cast<std::size_t>(g.topology_domain) >= n.domains.size())
      n.domains.resize(g.topology_domain + 1);
    n.domains[g.topology_domain].Add(g.index);
  }
  n.free_gpus = n.all_gpus.Minus(n.unhealthy);
  n.free = n.capacity;
  n.free.Set(kGpu, n.free_gpus.size());
  n.last_heartbeat = now;

  auto key = std::make_pair(std::string(spec.gpu_model()), spec.labels);
  auto [it, inserted] = group_by_key_.try_emplace(std::move(key), static_cast<std::uint32_t>(groups_.size()));
  if (inserted) {
    NodeGroup& g = groups_.emplace_back();
    g.gpu_model = it->first.first;
    g.labels = it->first.second;
    ++capacity_version_;  // classes' eligibility lists must grow too
  }
  n.group = it->second;
  groups_[n.group].nodes++;
  groups_[n.group].members.push_back(index);
  // Topology: "block-a/rack-3" -> level 0 "block-a", level 1 "block-a/rack-3".
  std::string_view path = spec.topology;
  std::size_t level = 0;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string prefix(std::string_view(spec.topology).substr(
        0, (slash == std::string_view::npos ? spec.topology.size() : (path.data() - spec.topology.data()) + slash)));
    if (domain_ids_.size() <= level) domain_ids_.emplace_back();
    auto [d, fresh] = domain_ids_[level].try_emplace(prefix, static_cast<std::uint32_t>(domain_ids_[level].size()));
    n.domains_by_level.push_back(d->second);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    ++level;
  }
  if (domain_gpu_links_.size() < domain_ids_.size()) domain_gpu_links_.resize(domain_ids_.size());
  for (std::vector<BucketLink>& links : domain_gpu_links_) links.resize(nodes_.size());
  if (!n.all_gpus.empty()) n.model = &by_model_[std::string(spec.gpu_model())];
  n.spec = std::move(spec);
  AddTotals(n, +1);
  Index(index);
  Count(index);
  MarkGrown(index);
  return index;
}

void Cluster::AddTotals(const NodeRec& n, int sign) {
  const ResourceVector eff = n.EffectiveCapacity();
  if (sign > 0) {
    total_ += eff;
    allocated_ += n.allocated;
  } else {
    total_ -= eff;
    allocated_ -= n.allocated;
  }
  if (n.all_gpus.empty()) return;
  ModelCount& m = *n.model;
  m.total += sign * eff.gpus();
  m.allocated += sign * n.allocated.gpus();
}

void Cluster::CountFragmentation(const NodeRec& n, int sign) {
  const std::int64_t free = n.free_gpus.size();
  frag_.free_gpus += sign * free;
  if (free > 0 && !n.allocated_gpus.empty()) frag_.free_gpus_on_partial_nodes += sign * free;
  if (free >= 8) frag_.nodes_with_8_free_gpus += sign;
}

void Cluster::Index(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (n.indexed || !Schedulable(n)) return;
  MarkChanged(i);  // re-inserted first in its buckets: visiting order changes
  PlaceInBuckets(i);
  n.indexed = true;
}

// Node i first in the bucket of each index that its state puts it in (out of
// those it belongs in no longer), and counted in the fragmentation figures.
void Cluster::PlaceInBuckets(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  CountFragmentation(n, +1);
  NodeGroup& g = groups_[n.group];
  const int k = static_cast<int>(n.free.gpus());
  g.by_gpus.Move(gpu_links_, i, k > 0 ? k : -1);
  for (std::size_t level = 0; level < n.domains_by_level.size(); ++level) {
    if (k <= 0 && domain_gpu_links_[level][i].bucket < 0) continue;
    auto& by_domain = g.by_gpus_in_domain;
    if (by_domain.size() <= level) by_domain.resize(level + 1);
    const std::uint32_t d = n.domains_by_level[level];
    if (by_domain[level].size() <= d) by_domain[level].resize(d + 1, BucketIndex(kMaxGpusPerNode + 1));
    by_domain[level][d].Move(domain_gpu_links_[level], i, k > 0 ? k : -1);
  }
  g.by_cpu.Move(cpu_links_, i, CpuBucket(n.free.cpu_millis()));
  if (!track_preemptible_) return;
  auto place = [&](int level, std::int64_t gpus) {
    g.by_preemptible[level].Move(preemptible_links_[level], i,
                                 gpus > 0 ? static_cast<int>(std::min<std::int64_t>(gpus, kMaxGpusPerNode)) : -1);
  };
  std::int64_t reachable = n.free_gpus.size();
  for (int level = 0; level < 2; ++level) place(level, reachable += n.evictable_gpus[level]);
  place(kReclaimLevel, static_cast<std::int64_t>(n.free_gpus.size()) + n.reclaimable_gpus);
}

void Cluster::Unindex(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (!n.indexed) return;
  MarkChanged(i);
  CountFragmentation(n, -1);
  NodeGroup& g = groups_[n.group];
  g.by_gpus.Erase(gpu_links_, i);
  for (std::size_t level = 0; level < n.domains_by_level.size(); ++level) {
    if (domain_gpu_links_[level][i].bucket >= 0)
      g.by_gpus_in_domain[level][n.domains_by_level[level]].Erase(domain_gpu_links_[level], i);
  }
  g.by_cpu.Erase(cpu_links_, i);
  if (track_preemptible_)
    for (int level = 0; level < 3; ++level) g.by_preemptible[level].Erase(preemptible_links_[level], i);
  n.indexed = false;
}

void Cluster::Count(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (n.counted || !Schedulable(n)) return;
  n.counted_capacity = n.EffectiveCapacity();
  groups_[n.group].up_capacity[n.counted_capacity]++;
  n.counted = true;
  ++capacity_version_;
}

void Cluster::Uncount(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (!n.counted) return;
  auto& counts = groups_[n.group].up_capacity;
  auto it = counts.find(n.counted_capacity);
  if (--it->second == 0) counts.erase(it);
  n.counted = false;
  ++capacity_version_;
}

void Cluster::SetState(std::uint32_t i, NodeState state) {
  NodeRec& n = nodes_[i];
  if (n.state == state) return;
  MarkChanged(i);
  const bool was_serving = Serving(n);
  Unindex(i);
  Uncount(i);
  n.state = state;
  if (was_serving && !Serving(n)) AddTotals(n, -1);
  if (!was_serving && Serving(n)) AddTotals(n, +1);
  Index(i);
  Count(i);
  if (state == NodeState::kUp) MarkGrown(i);
}

void Cluster::MarkRemoved(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (n.removed) return;
  MarkChanged(i);
  Unindex(i);
  Uncount(i);
  if (Serving(n)) AddTotals(n, -1);
  n.removed = true;
  groups_[n.group].nodes--;
}

void Cluster::SetGpuHealth(std::uint32_t i, int gpu, bool healthy) {
  NodeRec& n = nodes_[i];
  if (n.unhealthy.Contains(gpu) == !healthy) return;
  MarkChanged(i);
  const bool serving = Serving(n);
  if (serving) AddTotals(n, -1);
  Unindex(i);
  Uncount(i);
  if (healthy) {
    n.unhealthy.Remove(gpu);
  } else {
    n.unhealthy.Add(gpu);
  }
  n.free_gpus = n.all_gpus.Minus(n.allocated_gpus).Minus(n.unhealthy);
  if (healthy) MarkGrown(i);
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) AddTotals(n, +1);
  Index(i);
  Count(i);
}

GpuSet Cluster::ChooseGpusFrom(const std::vector<GpuSet>& domains, GpuSet free, int count) {
  if (count <= 0) return {};
  if (count >= free.size()) return free;
  // One domain: the tightest that still holds `count`.
  int best = -1, best_free = kMaxGpusPerNode + 1;
  absl::InlinedVector<std::pair<int, int>, 8> by_free;  // (free, domain)
  for (int d = 0; d < static_cast<int>(domains.size()); ++d) {
    const int f = (domains[d] & free).size();
    if (f == 0) continue;
    by_free.emplace_back(f, d);
    if (f >= count && f < best_free) {
      best = d;
      best_free = f;
    }
  }
  auto take_lowest = [](GpuSet from, int k) {
    GpuSet out;
    for (int gpu : from) {
      if (k-- == 0) break;
      out.Add(gpu);
    }
    return out;
  };
  if (best >= 0) return take_lowest(domains[best] & free, count);
  // Span domains: fullest first, so as few domains as possible are used.
  std::sort(by_free.begin(), by_free.end(),
            [](auto a, auto b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  GpuSet out;
  int need = count;
  for (auto [f, d] : by_free) {
    const GpuSet part = take_lowest(domains[d] & free, std::min(f, need));
    out = out | part;
    need -= part.size();
    if (need == 0) break;
  }
  return out;
}

void Cluster::AddClaim(std::uint32_t i, Timestamp start, const ResourceVector& amount, GpuSet gpus) {
  NodeRec& n = nodes_[i];
  if (n.claim_stamp != claim_stamp_) {
    claimed_.push_back(i);
    n.claim_stamp = claim_stamp_;
    n.claim_start = start;
    n.claim_amount = amount;
    n.claim_gpus = gpus;
    return;
  }
  n.claim_start = std::min(n.claim_start, start);
  n.claim_amount += amount;
  n.claim_gpus = n.claim_gpus | gpus;
}

void Cluster::Allocate(std::uint32_t i, const ResourceVector& request, GpuSet gpus) {
  NodeRec& n = nodes_[i];
  MarkChanged(i);
  const bool serving = Serving(n);
  const bool reindex = n.indexed;
  if (reindex) BeforeChange(i);
  n.allocated += request;
  n.free -= request;
  n.allocated_gpus = n.allocated_gpus | gpus;
  n.free_gpus = n.free_gpus.Minus(gpus);
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) {
    allocated_ += request;
    if (request.gpus() > 0) n.model->allocated += request.gpus();
  }
  if (reindex) AfterChange(i);
}

void Cluster::Release(std::uint32_t i, const ResourceVector& request, GpuSet gpus, bool grew) {
  NodeRec& n = nodes_[i];
  MarkChanged(i);
  const bool serving = Serving(n);
  const bool reindex = n.indexed;
  if (reindex) BeforeChange(i);
  n.allocated -= request;
  n.free += request;
  n.allocated_gpus = n.allocated_gpus.Minus(gpus);
  n.free_gpus = n.free_gpus | gpus.Minus(n.unhealthy);
  if (grew) MarkGrown(i);
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) {
    allocated_ -= request;
    if (request.gpus() > 0) n.model->allocated -= request.gpus();
  }
  if (reindex) AfterChange(i);
}

bool Cluster::GroupMatches(std::uint32_t gi, const Constraints& c, bool wants_gpus) const {
  const NodeGroup& g = groups_[gi];
  if (wants_gpus) {
    if (!g.has_gpus()) return false;
    if (!c.gpu_models.empty() &&
        std::find(c.gpu_models.begin(), c.gpu_models.end(), g.gpu_model) == c.gpu_models.end())
      return false;
  }
  for (const auto& [key, value] : c.node_labels) {
    auto it = g.labels.find(key);
    if (it == g.labels.end() || it->second != value) return false;
  }
  return true;
}

void Cluster::ForEachCandidate(std::span<const std::uint32_t> groups, const ResourceVector& request,
                               bool ascending, absl::FunctionRef<bool(std::uint32_t)> visit) const {
  // Walks the non-empty buckets of `index_of(group)` from `lowest` upward (or
  // from the top down to `lowest`), visiting every group's nodes per bucket.
  auto walk = [&](auto index_of, const std::vector<BucketLink>& links, int lowest, int tier) {
    int bucket = ascending ? BucketIndex::kMaxBuckets : BucketIndex::kMaxBuckets - 1;
    bool first = true;
    while (true) {
      // The next bucket that is non-empty in any of the groups.
      int next = -1;
      for (std::uint32_t g : groups) {
        if (tier >= 0 && groups_[g].has_gpus() != (tier == 1)) continue;
        const BucketIndex& idx = index_of(groups_[g]);
        const int b = ascending ? idx.NextAtOrAbove(first ? lowest : bucket + 1)
                                : idx.NextAtOrBelow(first ? BucketIndex::kMaxBuckets - 1 : bucket - 1);
        if (b < 0 || (!ascending && b < lowest)) continue;
        if (next < 0 || (ascending ? b < next : b > next)) next = b;
      }
      if (next < 0) return true;
      bucket = next;
      first = false;
      for (std::uint32_t g : groups) {
        if (tier >= 0 && groups_[g].has_gpus() != (tier == 1)) continue;
        for (std::uint32_t i = index_of(groups_[g]).head(bucket); i != BucketIndex::kEnd; i = links[i].next) {
          if (Fits(i, request) && PassesFilter(i) && !visit(i)) return false;
        }
      }
    }
  };
  if (request.gpus() > 0 && filter_level_ >= 0 && filter_domain_ != kNil) {
    // Kept in one domain: that domain's own index, in the same order as the
    // filtered walk of the whole group's index (both list the most recently
    // indexed node first).
    static const BucketIndex kNone(kMaxGpusPerNode + 1);
    const auto level = static_cast<std::size_t>(filter_level_);
    const std::uint32_t domain = filter_domain_;
    walk(
        [&](const NodeGroup& g) -> const BucketIndex& {
          return level < g.by_gpus_in_domain.size() && domain < g.by_gpus_in_domain[level].size()
                     ? g.by_gpus_in_domain[level][domain]
                     : kNone;
        },
        domain_gpu_links_[level], static_cast<int>(request.gpus()), -1);
    return;
  }
  if (request.gpus() > 0) {
    walk([](const NodeGroup& g) -> const BucketIndex& { return g.by_gpus; }, gpu_links_,
         static_cast<int>(request.gpus()), -1);
    return;
  }
  // CPU-only: GPU-less groups first, then GPU groups.
  for (int tier = 0; tier < 2; ++tier) {
    if (!walk([](const NodeGroup& g) -> const BucketIndex& { return g.by_cpu; }, cpu_links_,
              CpuBucket(request.cpu_millis()), tier))
      return;
  }
}

void Cluster::ForEachPreemptionCandidate(std::span<const std::uint32_t> groups, int level, int min_gpus,
                                         absl::FunctionRef<bool(std::uint32_t)> visit) const {
  int bucket = BucketIndex::kMaxBuckets;
  while (true) {
    int next = -1;
    for (std::uint32_t g : groups) {
      const int b = groups_[g].by_preemptible[level].NextAtOrBelow(bucket - 1);
      if (b >= min_gpus && b > next) next = b;
    }
    if (next < 0) return;
    bucket = next;
    for (std::uint32_t g : groups) {
      for (std::uint32_t i = groups_[g].by_preemptible[level].head(bucket); i != BucketIndex::kEnd;
           i = preemptible_links_[level][i].next) {
        if (!visit(i)) return;
      }
    }
  }
}

}  // namespace mlsched::internal
