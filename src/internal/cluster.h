// Cluster: nodes, their free capacity and the indexes placement searches.
//
// Assumptions and design:
// - Nodes with the same GPU model and the same labels form a node group; job
//   constraints are matched against groups, never against single nodes, so a
//   job class resolves its eligible groups once.
// - Each group indexes its Up nodes two ways, both BucketIndex (intrusive
//   lists per key, O(1) update, no allocation): by number of free healthy GPUs
//   (1..64) and by free whole CPU cores (0..4095, larger counts share the last
//   bucket). Best fit for a GPU task walks the GPU buckets upward from the
//   request; for a CPU-only task it walks the CPU buckets upward from the
//   request's cores, GPU-less groups first. CPU best fit is therefore exact to
//   one core; every candidate is still checked exactly. Memory and extended
//   kinds are checked, not indexed.
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

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "mlsched/gpu.h"
#include "mlsched/job_spec.h"
#include "mlsched/node.h"
#include "mlsched/policy/placement.h"
#include "mlsched/resources.h"
#include "mlsched/time.h"
#include "internal/bucket_index.h"

namespace mlsched::internal {

inline constexpr std::uint32_t kNil = ~std::uint32_t{0};

// GPUs of one model on nodes that are up or draining.
struct ModelCount {
  std::int64_t total = 0;  // healthy
  std::int64_t allocated = 0;
};

// The victim-search index level for quota reclaim (levels 0 and 1 are by
// priority class).
inline constexpr int kReclaimLevel = 2;

struct alignas(64) NodeRec {
  // First what placement, reservation walks and victim searches read for
  // every node they visit, in the first cache lines; then the rest.
  NodeState state = NodeState::kUp;
  bool removed = false;
  bool indexed = false;  // in its group's indexes (links live in Cluster)
  bool counted = false;  // counted in its group's up capacity
  std::uint32_t group = kNil;
  GpuSet free_gpus;          // healthy and unallocated
  GpuSet unhealthy;
  // Resources promised to a reservation or a nominated preemptor that must
  // come from what is free now; valid while claim_stamp == the cluster's.
  std::uint64_t claim_stamp = 0;
  Timestamp claim_start = 0;
  GpuSet claim_gpus;
  // GPUs held by live tasks of preemptible attempts that could still be
  // evicted, by the attempt's priority class (kept by the engine).
  std::array<std::int32_t, 3> evictable_gpus{};
  // GPUs held by live tasks of attempts that quota reclaim could evict
  // (preemptible or started while their tenant borrowed), any class.
  std::int32_t reclaimable_gpus = 0;
  ResourceVector free;       // capacity - allocated, gpu = healthy free GPUs
  // Live task slots on this node (owned by the engine).
  std::vector<std::uint32_t> live_tasks;
  ResourceVector claim_amount;
  NodeSpec spec;
  ResourceVector capacity;   // as registered
  ResourceVector allocated;  // held by live tasks
  GpuSet all_gpus;
  GpuSet allocated_gpus;     // held by live tasks (healthy or not)
  std::vector<GpuSet> domains;  // GPUs by topology domain
  Timestamp last_heartbeat = 0;
  ResourceVector counted_capacity;  // key under which it is counted in its group
  struct ModelCount* model = nullptr;  // counts of its GPU model (null without GPUs)
  // Topology domain id per level of the path (interned by the Cluster).
  std::vector<std::uint32_t> domains_by_level;

  // Capacity that healthy GPUs allow.
  ResourceVector EffectiveCapacity() const {
    ResourceVector c = capacity;
    c.Set(kGpu, all_gpus.Minus(unhealthy).size());
    return c;
  }
};

// Key of the CPU index: free whole cores, clamped to the last bucket.
inline int CpuBucket(std::int64_t cpu_millis) {
  const std::int64_t cores = cpu_millis / 1000;
  return cores < 0 ? 0 : cores >= BucketIndex::kMaxBuckets ? BucketIndex::kMaxBuckets - 1 : static_cast<int>(cores);
}

struct NodeGroup {
  std::vector<std::uint32_t> members;  // every node ever added to the group
  std::string gpu_model;  // "" for GPU-less nodes
  std::map<std::string, std::string> labels;
  BucketIndex by_gpus{kMaxGpusPerNode + 1};  // free healthy GPUs 1..64 (0 not indexed)
  // The same for the group's nodes in each topology domain, [level][domain]:
  // a gang kept in one domain walks that domain's nodes only.
  std::vector<std::vector<BucketIndex>> by_gpus_in_domain;
  BucketIndex by_cpu{BucketIndex::kMaxBuckets};
  // Victim search: [L] for L < 2 buckets nodes by free GPUs plus GPUs of
  // preemptible work of priority class <= L (what a class L+1 job could get);
  // [kReclaimLevel] by free GPUs plus reclaimable GPUs. Capped at 64.
  std::array<BucketIndex, 3> by_preemptible{BucketIndex(kMaxGpusPerNode + 1), BucketIndex(kMaxGpusPerNode + 1),
                                            BucketIndex(kMaxGpusPerNode + 1)};
  absl::flat_hash_map<ResourceVector, std::int64_t> up_capacity;  // effective capacity -> nodes
  std::int64_t nodes = 0;
  bool has_gpus() const { return !gpu_model.empty(); }
};

class Cluster {
 public:
  // Adds a validated node; returns its dense index.
  std::uint32_t Add(NodeSpec spec, Timestamp now);
  void SetState(std::uint32_t node, NodeState state);
  void MarkRemoved(std::uint32_t node);
  void SetGpuHealth(std::uint32_t node, int gpu, bool healthy);

  // Whether `request` fits the node's free resources, less any claim that a
  // task ending at the current candidate end would run into.
  bool Fits(std::uint32_t node, const ResourceVector& request) const {
    const NodeRec& n = nodes_[node];
    if (!ClaimApplies(n)) return request.FitsIn(n.free);
    return request.FitsIn(Available(node));
  }
  // Free resources less any claim that applies (GPU count from free GPUs).
  ResourceVector Available(std::uint32_t node) const {
    const NodeRec& n = nodes_[node];
    if (!ClaimApplies(n)) return n.free;
    ResourceVector free = n.free - n.claim_amount;
    free.Set(kGpu, n.free_gpus.Minus(n.claim_gpus).size());
    return free;
  }
  // GPUs for a task inside one topology domain when possible (the domain with
  // the fewest free GPUs that still has `count`), else from the fullest
  // domains first so the task spans as few domains as possible. Claimed GPUs
  // are avoided when the claim applies.
  GpuSet ChooseGpus(std::uint32_t node, int count) const {
    const NodeRec& n = nodes_[node];
    if (ClaimApplies(n)) return ChooseGpusFrom(n.domains, n.free_gpus.Minus(n.claim_gpus), count);
    if (n.claim_stamp == claim_stamp_) {
      // A task that ends before the claim starts takes claimed GPUs first:
      // they are back in time, and the unclaimed ones stay for tasks that
      // run past the claim (EASY's "extra" processors).
      const GpuSet claimed = n.free_gpus & n.claim_gpus;
      const int from_claim = std::min(count, claimed.size());
      const GpuSet first = ChooseGpusFrom(n.domains, claimed, from_claim);
      if (from_claim == count) return first;
      return first | ChooseGpusFrom(n.domains, n.free_gpus.Minus(n.claim_gpus), count - from_claim);
    }
    return ChooseGpusFrom(n.domains, n.free_gpus, count);
  }
  // A task that ends before the node's claim starts may use claimed
  // resources: they are back before the claim needs them. Its CPU, memory and
  // extended resources count against the claim first, so what is unclaimed
  // stays for tasks that run past the claim. Returns what was taken from the
  // claim (ReturnToClaim undoes it on rollback).
  ResourceVector TakeFromClaim(std::uint32_t node, const ResourceVector& request) {
    NodeRec& n = nodes_[node];
    ResourceVector taken;
    if (n.claim_stamp != claim_stamp_ || ClaimApplies(n)) return taken;
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      if (kind == kGpu) continue;  // GPUs are claimed as concrete devices
      const std::int64_t q = std::min(request.Get(kind), n.claim_amount.Get(kind));
      if (q <= 0) continue;
      taken.Set(kind, q);
      n.claim_amount.Set(kind, n.claim_amount.Get(kind) - q);
    }
    return taken;
  }
  void ReturnToClaim(std::uint32_t node, const ResourceVector& taken) {
    if (taken.IsZero()) return;
    nodes_[node].claim_amount += taken;
  }
  static GpuSet ChooseGpusFrom(const std::vector<GpuSet>& domains, GpuSet free, int count);

  // Whether the victim-search index (by_preemptible) is kept: only engines
  // with preemption on need it. Set before the first node is added.
  void set_track_preemptible(bool on) { track_preemptible_ = on; }

  // Changes the GPUs of preemptible work of class `cls` on a node (kept in
  // NodeRec::evictable_gpus and in the victim-search index).
  void AddEvictable(std::uint32_t node, int cls, std::int32_t delta) {
    const bool reindex = nodes_[node].indexed;
    if (reindex) BeforeChange(node);
    nodes_[node].evictable_gpus[cls] += delta;
    if (reindex) AfterChange(node);
  }
  // Changes a node's reclaimable GPUs (NodeRec::reclaimable_gpus).
  void AddReclaimable(std::uint32_t node, std::int32_t delta) {
    const bool reindex = nodes_[node].indexed;
    if (reindex) BeforeChange(node);
    nodes_[node].reclaimable_gpus += delta;
    if (reindex) AfterChange(node);
  }
  // Visits nodes of `groups` where a job of priority class level+1 could
  // get at least `min_gpus` GPUs by evicting lower-class preemptible work
  // (level kReclaimLevel: by evicting reclaimable work), most such GPUs
  // first, until `visit` returns false.
  void ForEachPreemptionCandidate(std::span<const std::uint32_t> groups, int level, int min_gpus,
                                  absl::FunctionRef<bool(std::uint32_t)> visit) const;

  // Claims (reservations, nominations) live for one pass: ClearClaims() at
  // the start of each. A claim applies to a task unless the task ends (its
  // start plus estimated runtime) no later than the claim starts.
  void ClearClaims() {
    ++claim_stamp_;
    prev_claimed_.swap(claimed_);
    claimed_.clear();
  }
  // Nodes that held claims in the pass before the last ClearClaims().
  std::span<const std::uint32_t> previously_claimed() const { return prev_claimed_; }

  // Nodes whose free capacity may have grown (releases, nodes up or added,
  // GPUs healthy again) since the last TakeGrown(), each once.
  void MarkGrown(std::uint32_t node) {
    if (grown_stamp_.size() <= node) grown_stamp_.resize(nodes_.size(), 0);
    if (grown_stamp_[node] == grown_epoch_) return;
    grown_stamp_[node] = grown_epoch_;
    grown_.push_back(node);
  }
  void TakeGrown(std::vector<std::uint32_t>* out) {
    out->swap(grown_);
    grown_.clear();
    ++grown_epoch_;
  }
  void AddClaim(std::uint32_t node, Timestamp start, const ResourceVector& amount, GpuSet gpus);
  // Takes back part of this pass's claim on `node`: `amount` and `gpus`
  // must have been added by AddClaim since the last ClearClaims().
  void RemoveClaim(std::uint32_t node, const ResourceVector& amount, GpuSet gpus) {
    NodeRec& n = nodes_[node];
    n.claim_amount -= amount;
    n.claim_gpus = n.claim_gpus.Minus(gpus);
  }
  bool HasClaim(std::uint32_t node) const { return nodes_[node].claim_stamp == claim_stamp_; }
  // Nodes claimed since the last ClearClaims().
  std::span<const std::uint32_t> claimed() const { return claimed_; }

  // A log of the nodes that changed: free resources, state, GPU health, or
  // place in the free-capacity indexes (which decides the order candidates
  // are visited in). Claims are not logged. A reader takes a ChangeMark()
  // and later visits every node changed since (some more than once): what
  // was computed at the mark can only be affected through those nodes. The
  // log keeps the last kChangeLogSize entries; a mark older than that can no
  // longer be answered. Each node is logged once per mark, so the log grows
  // by at most one entry per node between two marks.
  static constexpr std::uint64_t kChangeLogSize = 1024;
  std::uint64_t ChangeMark() {
    ++change_epoch_;
    return change_count_;
  }
  // Calls visit(node) for every node changed since `mark` until it returns
  // false. False if it did, or if the log does not reach back that far.
  bool ForEachChangedSince(std::uint64_t mark, absl::FunctionRef<bool(std::uint32_t)> visit) const {
    if (change_count_ - mark > kChangeLogSize) return false;
    for (std::uint64_t i = mark; i < change_count_; ++i)
      if (!visit(change_log_[i % kChangeLogSize])) return false;
    return true;
  }
  void set_candidate_end(Timestamp end) { candidate_end_ = end; }
  // Optional topology filter for candidates: only nodes whose domain at
  // `level` is `domain`. level < 0 disables it.
  void set_domain_filter(int level, std::uint32_t domain) {
    filter_level_ = level;
    filter_domain_ = domain;
  }
  // Domains at `level` are numbered 0, 1, ... domain_count(level) - 1.
  std::uint32_t domain_count(int level) const {
    return level >= 0 && static_cast<std::size_t>(level) < domain_ids_.size()
               ? static_cast<std::uint32_t>(domain_ids_[level].size())
               : 0;
  }
  std::uint32_t DomainOf(std::uint32_t node, int level) const {
    const auto& d = nodes_[node].domains_by_level;
    return level >= 0 && static_cast<std::size_t>(level) < d.size() ? d[level] : kNil;
  }

  struct Fragmentation {
    std::int64_t free_gpus = 0;               // healthy free GPUs on up nodes
    std::int64_t free_gpus_on_partial_nodes = 0;  // on up nodes with some GPUs in use
    std::int64_t nodes_with_8_free_gpus = 0;  // largest gang of 8-GPU tasks that could start
  };
  Fragmentation fragmentation() const { return frag_; }
  void Allocate(std::uint32_t node, const ResourceVector& request, GpuSet gpus);
  // `grew` = false for undoing a tentative allocation of the same pass: that
  // gives back nothing that was free before the pass.
  void Release(std::uint32_t node, const ResourceVector& request, GpuSet gpus, bool grew = true);

  CandidateNodes Candidates(std::span<const std::uint32_t> groups,
                            const ResourceVector* request) const {
    return CandidateNodes(this, groups, request);
  }
  // An upper bound on the tasks of `gpus` GPUs each (> 0) that the up nodes
  // of `groups` could host now: free GPUs alone, from the index's bucket
  // sizes, without visiting a node. A gang larger than this cannot start.
  std::int64_t GpuHostsUpperBound(std::span<const std::uint32_t> groups, std::int64_t gpus) const {
    std::int64_t hosts = 0;
    for (std::uint32_t g : groups) {
      const BucketIndex& idx = groups_[g].by_gpus;
      for (int b = idx.NextAtOrAbove(static_cast<int>(gpus)); b >= 0; b = idx.NextAtOrAbove(b + 1))
        hosts += static_cast<std::int64_t>(idx.size(b)) * (b / gpus);
    }
    return hosts;
  }
  // Visits nodes of `groups` that `request` fits on, ordered by the free
  // amount of the request's key resource (ascending or descending).
  void ForEachCandidate(std::span<const std::uint32_t> groups, const ResourceVector& request,
                        bool ascending, absl::FunctionRef<bool(std::uint32_t)> visit) const;

  // Groups whose nodes a task of this kind may use.
  bool GroupMatches(std::uint32_t group, const Constraints& constraints, bool wants_gpus) const;

  const NodeRec& node(std::uint32_t i) const { return nodes_[i]; }
  std::uint32_t next_by_gpus(std::uint32_t i) const { return gpu_links_[i].next; }
  std::uint32_t next_by_cpu(std::uint32_t i) const { return cpu_links_[i].next; }
  NodeRec& mutable_node(std::uint32_t i) { return nodes_[i]; }
  std::uint32_t node_count() const { return static_cast<std::uint32_t>(nodes_.size()); }
  const NodeGroup& group(std::uint32_t g) const { return groups_[g]; }
  std::uint32_t group_count() const { return static_cast<std::uint32_t>(groups_.size()); }

  // Bumped when the counted capacity changes (feasibility verdicts must be
  // recomputed) and when a group is created (eligibility lists must grow):
  // a class checked at the current version is up to date on both.
  std::uint64_t groups_version() const { return groups_.size(); }
  std::uint64_t capacity_version() const { return capacity_version_; }

  // Totals over nodes that are up or draining.
  const ResourceVector& total() const { return total_; }
  const ResourceVector& allocated() const { return allocated_; }
  const std::map<std::string, ModelCount>& gpus_by_model() const { return by_model_; }

 private:
  bool ClaimApplies(const NodeRec& n) const {
    return n.claim_stamp == claim_stamp_ && candidate_end_ > n.claim_start;
  }
  bool PassesFilter(std::uint32_t i) const {
    return filter_level_ < 0 || DomainOf(i, filter_level_) == filter_domain_;
  }
  void CountFragmentation(const NodeRec& n, int sign);
  bool Schedulable(const NodeRec& n) const { return n.state == NodeState::kUp && !n.removed; }
  bool Serving(const NodeRec& n) const { return n.state != NodeState::kDown && !n.removed; }
  void Index(std::uint32_t i);
  void Unindex(std::uint32_t i);
  // Around a change to an indexed node's free resources or preemptible GPUs
  // (its state and group stay): Unindex before and Index after, in effect —
  // the node ends first in each of its new buckets — but a list the node
  // already heads in the same bucket is left alone, and its neighbours'
  // links with it (a start, then its evictable GPUs, moves the node to the
  // head of its GPU and CPU buckets once, not three times).
  void BeforeChange(std::uint32_t i) {
    MarkChanged(i);
    CountFragmentation(nodes_[i], -1);
  }
  void AfterChange(std::uint32_t i) { PlaceInBuckets(i); }
  void PlaceInBuckets(std::uint32_t i);
  void Count(std::uint32_t i);
  void Uncount(std::uint32_t i);
  void AddTotals(const NodeRec& n, int sign);
  void MarkChanged(std::uint32_t i) {
    if (change_stamp_[i] == change_epoch_) return;  // logged since the last mark
    change_stamp_[i] = change_epoch_;
    change_log_[change_count_++ % kChangeLogSize] = i;
  }

  std::vector<NodeRec> nodes_;
  std::vector<BucketLink> gpu_links_;  // by node
  std::vector<std::vector<BucketLink>> domain_gpu_links_;  // [level][node], for by_gpus_in_domain
  std::vector<BucketLink> cpu_links_;  // by node
  std::array<std::vector<BucketLink>, 3> preemptible_links_;  // by node
  std::vector<NodeGroup> groups_;
  std::map<std::pair<std::string, std::map<std::string, std::string>>, std::uint32_t> group_by_key_;
  std::uint64_t capacity_version_ = 0;
  std::uint64_t claim_stamp_ = 1;
  bool track_preemptible_ = false;
  Timestamp candidate_end_ = kInfiniteFuture;
  int filter_level_ = -1;
  std::uint32_t filter_domain_ = kNil;
  std::vector<absl::flat_hash_map<std::string, std::uint32_t>> domain_ids_;  // per level
  Fragmentation frag_;
  std::vector<std::uint32_t> claimed_, prev_claimed_;
  std::vector<std::uint32_t> grown_;
  std::vector<std::uint64_t> grown_stamp_;
  std::uint64_t grown_epoch_ = 1;
  std::vector<std::uint32_t> change_log_ = std::vector<std::uint32_t>(kChangeLogSize);  // a ring
  std::uint64_t change_count_ = 0;  // entries ever logged
  std::vector<std::uint64_t> change_stamp_;  // by node: change_epoch_ when last logged
  std::uint64_t change_epoch_ = 1;
  ResourceVector total_;
  ResourceVector allocated_;
  std::map<std::string, ModelCount> by_model_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_CLUSTER_H_
