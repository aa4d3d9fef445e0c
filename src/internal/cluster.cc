#include "internal/cluster.h"

#include <algorithm>
#include <bit>

#include "absl/container/inlined_vector.h"

namespace mlsched::internal {

std::uint32_t Cluster::Add(NodeSpec spec, Timestamp now) {
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  NodeRec& n = nodes_.emplace_back();
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
  }
  n.group = it->second;
  groups_[n.group].nodes++;
  if (!n.all_gpus.empty()) n.model = &by_model_[std::string(spec.gpu_model())];
  n.spec = std::move(spec);
  AddTotals(n, +1);
  Index(index);
  Count(index);
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

void Cluster::BucketInsert(NodeGroup& g, std::uint32_t i, int k) {
  NodeRec& n = nodes_[i];
  n.bucket = k;
  n.prev = kNil;
  n.next = g.bucket_head[k - 1];
  if (n.next != kNil) nodes_[n.next].prev = i;
  g.bucket_head[k - 1] = i;
  g.nonempty |= std::uint64_t{1} << (k - 1);
}

void Cluster::BucketErase(NodeGroup& g, std::uint32_t i) {
  NodeRec& n = nodes_[i];
  const int k = n.bucket;
  if (n.prev != kNil) {
    nodes_[n.prev].next = n.next;
  } else {
    g.bucket_head[k - 1] = n.next;
  }
  if (n.next != kNil) nodes_[n.next].prev = n.prev;
  if (g.bucket_head[k - 1] == kNil) g.nonempty &= ~(std::uint64_t{1} << (k - 1));
  n.bucket = 0;
  n.prev = n.next = kNil;
}

void Cluster::Index(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (n.indexed || !Schedulable(n)) return;
  NodeGroup& g = groups_[n.group];
  const int k = static_cast<int>(n.free.gpus());
  if (k > 0) BucketInsert(g, i, k);
  n.indexed_cpu = n.free.cpu_millis();
  g.by_cpu.emplace(n.indexed_cpu, i);
  n.indexed = true;
}

void Cluster::Unindex(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (!n.indexed) return;
  NodeGroup& g = groups_[n.group];
  if (n.bucket > 0) BucketErase(g, i);
  g.by_cpu.erase({n.indexed_cpu, i});
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
  const bool was_serving = Serving(n);
  Unindex(i);
  Uncount(i);
  n.state = state;
  if (was_serving && !Serving(n)) AddTotals(n, -1);
  if (!was_serving && Serving(n)) AddTotals(n, +1);
  Index(i);
  Count(i);
}

void Cluster::MarkRemoved(std::uint32_t i) {
  NodeRec& n = nodes_[i];
  if (n.removed) return;
  Unindex(i);
  Uncount(i);
  if (Serving(n)) AddTotals(n, -1);
  n.removed = true;
  groups_[n.group].nodes--;
}

void Cluster::SetGpuHealth(std::uint32_t i, int gpu, bool healthy) {
  NodeRec& n = nodes_[i];
  if (n.unhealthy.Contains(gpu) == !healthy) return;
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
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) AddTotals(n, +1);
  Index(i);
  Count(i);
}

GpuSet Cluster::ChooseGpus(std::uint32_t i, int count) const {
  const NodeRec& n = nodes_[i];
  if (count <= 0) return {};
  if (count >= n.free_gpus.size()) return n.free_gpus;
  // One domain: the tightest that still holds `count`.
  int best = -1, best_free = kMaxGpusPerNode + 1;
  absl::InlinedVector<std::pair<int, int>, 8> by_free;  // (free, domain)
  for (int d = 0; d < static_cast<int>(n.domains.size()); ++d) {
    const int f = (n.domains[d] & n.free_gpus).size();
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
  if (best >= 0) return take_lowest(n.domains[best] & n.free_gpus, count);
  // Span domains: fullest first, so as few domains as possible are used.
  std::sort(by_free.begin(), by_free.end(),
            [](auto a, auto b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  GpuSet out;
  int need = count;
  for (auto [f, d] : by_free) {
    const GpuSet part = take_lowest(n.domains[d] & n.free_gpus, std::min(f, need));
    out = out | part;
    need -= part.size();
    if (need == 0) break;
  }
  return out;
}

void Cluster::Allocate(std::uint32_t i, const ResourceVector& request, GpuSet gpus) {
  NodeRec& n = nodes_[i];
  const bool serving = Serving(n);
  const bool reindex = n.indexed;
  if (reindex) Unindex(i);
  n.allocated += request;
  n.free -= request;
  n.allocated_gpus = n.allocated_gpus | gpus;
  n.free_gpus = n.free_gpus.Minus(gpus);
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) {
    allocated_ += request;
    if (request.gpus() > 0) n.model->allocated += request.gpus();
  }
  if (reindex) Index(i);
}

void Cluster::Release(std::uint32_t i, const ResourceVector& request, GpuSet gpus) {
  NodeRec& n = nodes_[i];
  const bool serving = Serving(n);
  const bool reindex = n.indexed;
  if (reindex) Unindex(i);
  n.allocated -= request;
  n.free += request;
  n.allocated_gpus = n.allocated_gpus.Minus(gpus);
  n.free_gpus = n.free_gpus | gpus.Minus(n.unhealthy);
  n.free.Set(kGpu, n.free_gpus.size());
  if (serving) {
    allocated_ -= request;
    if (request.gpus() > 0) n.model->allocated -= request.gpus();
  }
  if (reindex) Index(i);
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
  const std::int64_t want_gpus = request.gpus();
  if (want_gpus > 0) {
    // Union of non-empty bucket counts >= want over the groups, walked in order.
    const std::uint64_t at_least = ~std::uint64_t{0} << (want_gpus - 1);
    std::uint64_t counts = 0;
    for (std::uint32_t g : groups) counts |= groups_[g].nonempty;
    counts &= at_least;
    while (counts != 0) {
      const int bit = ascending ? std::countr_zero(counts) : 63 - std::countl_zero(counts);
      counts &= ~(std::uint64_t{1} << bit);
      for (std::uint32_t g : groups) {
        for (std::uint32_t i = groups_[g].bucket_head[bit]; i != kNil; i = nodes_[i].next) {
          if (request.FitsIn(nodes_[i].free) && !visit(i)) return;
        }
      }
    }
    return;
  }
  // CPU-only: GPU-less groups first, then GPU groups; within a tier a merge of
  // the groups' CPU trees in key order.
  using Iter = absl::btree_set<std::pair<std::int64_t, std::uint32_t>>::const_iterator;
  for (int tier = 0; tier < 2; ++tier) {
    struct Cursor {
      Iter it, end;
      std::uint32_t group;
    };
    absl::InlinedVector<Cursor, 8> cursors;
    for (std::uint32_t g : groups) {
      const NodeGroup& grp = groups_[g];
      if (grp.has_gpus() != (tier == 1)) continue;
      if (ascending) {
        Iter it = grp.by_cpu.lower_bound({request.cpu_millis(), 0});
        if (it != grp.by_cpu.end()) cursors.push_back({it, grp.by_cpu.end(), g});
      } else if (!grp.by_cpu.empty()) {
        // Descending: `it` points one past the next element to visit.
        cursors.push_back({grp.by_cpu.end(), grp.by_cpu.begin(), g});
      }
    }
    while (!cursors.empty()) {
      std::size_t pick = 0;
      for (std::size_t c = 1; c < cursors.size(); ++c) {
        const auto& a = ascending ? *cursors[c].it : *std::prev(cursors[c].it);
        const auto& b = ascending ? *cursors[pick].it : *std::prev(cursors[pick].it);
        if (ascending ? a < b : a > b) pick = c;
      }
      Cursor& cur = cursors[pick];
      std::uint32_t node;
      if (ascending) {
        node = cur.it->second;
        ++cur.it;
      } else {
        --cur.it;
        node = cur.it->second;
        if (cur.it->first < request.cpu_millis()) {  // everything further is smaller
          cursors.erase(cursors.begin() + pick);
          continue;
        }
      }
      const bool exhausted = cur.it == cur.end;
      if (exhausted) cursors.erase(cursors.begin() + pick);
      if (request.FitsIn(nodes_[node].free) && !visit(node)) return;
    }
  }
}

}  // namespace mlsched::internal
