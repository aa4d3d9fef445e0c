// PlacementPolicy: which node a task goes to.
//
// The engine asks the policy once per task, giving it the task's request and a
// CandidateNodes view over its free-capacity indexes, already restricted to
// nodes that are up, satisfy the job's constraints and have room for the task.
// The view enumerates candidates in order of the free amount of the task's key
// resource: free GPUs for GPU tasks, free whole CPU cores for CPU-only tasks
// (nodes whose free CPU differs by less than a core may come in either order,
// and GPU-less nodes come before GPU nodes). Tightest() is best fit, Loosest()
// is spread, and ForEach() lets a custom policy score candidates. Nothing is
// scanned that the index can skip.
//
// Gangs are the engine's business: it asks for each task in turn, holding the
// earlier tasks' choices tentatively, and places all or none. Inside the chosen
// node the engine picks concrete GPUs, inside one NVLink domain when possible.
//
// A policy is pure: it reads the view and returns a choice. Returning a node
// that is not a candidate is reported as the job's wait reason, not applied.
// nullopt should depend on the request and the view, not on which job asks:
// the engine treats jobs of one shape alike, so when the first task of a
// job's first task group is left waiting, every job (one task or a gang)
// whose task groups ask the same per task, with the same constraints and a
// runtime estimate no shorter, waits too for the rest of that pass.
//
// Thread-safety: a policy is called from the engine's thread only and must be
// immutable; the engine shares ownership of it (shared_ptr in PolicySet).
//
//   class MostFreeCpu final : public PlacementPolicy {
//     std::string_view name() const override { return "most-free-cpu"; }
//     std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes& c) const override {
//       std::optional<NodeId> best;
//       std::int64_t most = -1;
//       c.ForEach([&](NodeId n, const ResourceVector& free) {
//         if (free.cpu_millis() > most) { most = free.cpu_millis(); best = n; }
//         return true;
//       });
//       return best;
//     }
//   };
#ifndef MLSCHED_POLICY_PLACEMENT_H_
#define MLSCHED_POLICY_PLACEMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "mlsched/ids.h"
#include "mlsched/resources.h"

namespace mlsched {

namespace internal {
class Cluster;
}

struct TaskRequest {
  JobId job;
  int group = 0;      // task group index
  int task = 0;       // index within the group
  int gang_size = 1;  // tasks in the group
  ResourceVector per_task;
};

// Nodes a task fits on. Cheap to copy; valid only during ChooseNode().
class CandidateNodes {
 public:
  // The resource candidates are ordered by: kGpu for GPU tasks, else kCpu
  // (in whole cores).
  ResourceKind key() const;
  // The candidate with the least free key resource (best fit).
  std::optional<NodeId> Tightest() const;
  // The candidate with the most free key resource (spread).
  std::optional<NodeId> Loosest() const;
  // Visits candidates, least free key resource first, until `visit` returns false.
  void ForEach(absl::FunctionRef<bool(NodeId node, const ResourceVector& free)> visit) const;
  const ResourceVector& request() const { return *request_; }

 private:
  friend class internal::Cluster;
  CandidateNodes(const internal::Cluster* cluster, std::span<const std::uint32_t> groups,
                 const ResourceVector* request)
      : cluster_(cluster), groups_(groups), request_(request) {}
  const internal::Cluster* cluster_;
  std::span<const std::uint32_t> groups_;
  const ResourceVector* request_;
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual std::string_view name() const = 0;
  // A node for the task, or nullopt to leave the job waiting.
  virtual std::optional<NodeId> ChooseNode(const TaskRequest& task,
                                           const CandidateNodes& candidates) const = 0;
};

// Best fit on the task's key resource: keeps large holes for large jobs.
std::shared_ptr<const PlacementPolicy> NewBestFitPlacement();
// Most free key resource first: spreads load, leaves every node some room.
std::shared_ptr<const PlacementPolicy> NewSpreadPlacement();

}  // namespace mlsched

#endif  // MLSCHED_POLICY_PLACEMENT_H_
