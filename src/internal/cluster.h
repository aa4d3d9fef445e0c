// Cluster: nodes, their free capacity and the indexes placement searches.
//
// Assumptions and design:
// - Nodes with the same GPU model and the same labels form a node group; job
//   constraints are matched against groups, never against single nodes, so a
//   job class resolves its eligible groups once.
// - Each group indexes its Up nodes two ways: by number of free healthy GPUs
//   (intrusive lists per count 1..64 with a bitmask of non-empty counts: O(1)
//   update, O(1) to find the tightest or loosest non-empty count) and by free
//   CPU (a B-tree of (free milli-cores, node)). Best fit for a GPU task walks
//   the GPU buckets upward from the request; for a CPU-only task it walks the
//   CPU tree upward from the request, GPU-less groups first. Memory and
//   extended kinds are checked, not indexed.
// - Each group also counts its Up nodes by effective capacity, which answers
//   "could this job ever fit as the cluster is now" without touching nodes.
// - Only healthy, unallocated GPUs are free. A GPU that turns unhealthy while
//   allocated stays with its task and is not returned to the free set.
#ifndef MLSCHED_SRC_INTERNAL_CLUSTER_H_
#define MLSCHED_SRC_INTERNAL_CLUSTER_H_

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "mlsched/gpu.h"
#include "mlsched/job_spec.h"
#include "mlsched/node.h"
#include "mlsched/policy/placement.h"
#include "mlsched/resources.h"
#include "mlsched/time.h"

namespace mlsched::internal {

inline constexpr std::uint32_t kNil = ~std::uint32_t{0};

// GPUs of one model on nodes that are up or draining.
struct ModelCount {
  std::int64_t total = 0;  // healthy
  std::int64_t allocated = 0;
};

struct NodeRec {
  NodeSpec spec;
  NodeState state = NodeState::kUp;
  bool removed = false;
  std::uint32_t group = kNil;
  ResourceVector capacity;   // as registered
  ResourceVector allocated;  // held by live tasks
  ResourceVector free;       // capacity - allocated, gpu = healthy free GPUs
  GpuSet all_gpus;
  GpuSet allocated_gpus;     // held by live tasks (healthy or not)
  GpuSet free_gpus;          // healthy and unallocated
  GpuSet unhealthy;
  std::vector<GpuSet> domains;  // GPUs by topology domain
  Timestamp last_heartbeat = 0;
  // Index links.
  bool indexed = false;
  int bucket = 0;  // free GPU count when indexed in a bucket (0 = in none)
  std::uint32_t prev = kNil, next = kNil;
  std::int64_t indexed_cpu = 0;
  ResourceVector counted_capacity;  // key under which it is counted in its group
  bool counted = false;
  struct ModelCount* model = nullptr;  // counts of its GPU model (null without GPUs)
  // Live task slots on this node (owned by the engine).
  std::vector<std::uint32_t> live_tasks;

  // Capacity that healthy GPUs allow.
  ResourceVector EffectiveCapacity() const {
    ResourceVector c = capacity;
    c.Set(kGpu, all_gpus.Minus(unhealthy).size());
    return c;
  }
};

struct NodeGroup {
  std::string gpu_model;  // "" for GPU-less nodes
  std::map<std::string, std::string> labels;
  std::array<std::uint32_t, kMaxGpusPerNode> bucket_head;  // [k-1] = nodes with k free GPUs
  std::uint64_t nonempty = 0;                              // bit k-1 set: bucket k non-empty
  absl::btree_set<std::pair<std::int64_t, std::uint32_t>> by_cpu;
  absl::flat_hash_map<ResourceVector, std::int64_t> up_capacity;  // effective capacity -> nodes
  std::int64_t nodes = 0;
  NodeGroup() { bucket_head.fill(kNil); }
  bool has_gpus() const { return !gpu_model.empty(); }
};

class Cluster {
 public:
  // Adds a validated node; returns its dense index.
  std::uint32_t Add(NodeSpec spec, Timestamp now);
  void SetState(std::uint32_t node, NodeState state);
  void MarkRemoved(std::uint32_t node);
  void SetGpuHealth(std::uint32_t node, int gpu, bool healthy);

  bool Fits(std::uint32_t node, const ResourceVector& request) const {
    return request.FitsIn(nodes_[node].free);
  }
  // GPUs for a task inside one topology domain when possible (the domain with
  // the fewest free GPUs that still has `count`), else from the fullest
  // domains first so the task spans as few domains as possible.
  GpuSet ChooseGpus(std::uint32_t node, int count) const;
  void Allocate(std::uint32_t node, const ResourceVector& request, GpuSet gpus);
  void Release(std::uint32_t node, const ResourceVector& request, GpuSet gpus);

  CandidateNodes Candidates(std::span<const std::uint32_t> groups,
                            const ResourceVector* request) const {
    return CandidateNodes(this, groups, request);
  }
  // Visits nodes of `groups` that `request` fits on, ordered by the free
  // amount of the request's key resource (ascending or descending).
  void ForEachCandidate(std::span<const std::uint32_t> groups, const ResourceVector& request,
                        bool ascending, absl::FunctionRef<bool(std::uint32_t)> visit) const;

  // Groups whose nodes a task of this kind may use.
  bool GroupMatches(std::uint32_t group, const Constraints& constraints, bool wants_gpus) const;

  const NodeRec& node(std::uint32_t i) const { return nodes_[i]; }
  NodeRec& mutable_node(std::uint32_t i) { return nodes_[i]; }
  std::uint32_t node_count() const { return static_cast<std::uint32_t>(nodes_.size()); }
  const NodeGroup& group(std::uint32_t g) const { return groups_[g]; }
  std::uint32_t group_count() const { return static_cast<std::uint32_t>(groups_.size()); }

  // Bumped when a group is created (eligibility lists must grow) and when the
  // counted capacity changes (feasibility verdicts must be recomputed).
  std::uint64_t groups_version() const { return groups_.size(); }
  std::uint64_t capacity_version() const { return capacity_version_; }

  // Totals over nodes that are up or draining.
  const ResourceVector& total() const { return total_; }
  const ResourceVector& allocated() const { return allocated_; }
  const std::map<std::string, ModelCount>& gpus_by_model() const { return by_model_; }

 private:
  bool Schedulable(const NodeRec& n) const { return n.state == NodeState::kUp && !n.removed; }
  bool Serving(const NodeRec& n) const { return n.state != NodeState::kDown && !n.removed; }
  void Index(std::uint32_t i);
  void Unindex(std::uint32_t i);
  void Reindex(std::uint32_t i) {
    Unindex(i);
    Index(i);
  }
  void Count(std::uint32_t i);
  void Uncount(std::uint32_t i);
  void AddTotals(const NodeRec& n, int sign);
  void BucketInsert(NodeGroup& g, std::uint32_t i, int k);
  void BucketErase(NodeGroup& g, std::uint32_t i);

  std::vector<NodeRec> nodes_;
  std::vector<NodeGroup> groups_;
  std::map<std::pair<std::string, std::map<std::string, std::string>>, std::uint32_t> group_by_key_;
  std::uint64_t capacity_version_ = 0;
  ResourceVector total_;
  ResourceVector allocated_;
  std::map<std::string, ModelCount> by_model_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_CLUSTER_H_
