// JobSpec: what a user submits.
//
// A job is one or more task groups; a group is N identical tasks that start
// together or not at all (a gang: a multi-node training run is one group of
// `nodes` tasks, each asking for 8 GPUs). The whole job is also placed
// atomically: it starts when every task of every group has a place.
//
// Ordering uses the priority class first (high > medium > low) and the integer
// priority inside it; aging raises the effective priority of a waiting job (see
// policy/ordering.h).
//
//   JobSpec spec{.name = "llama-ft-3", .tenant = "research", .user = "ana",
//                .priority_class = PriorityClass::kHigh,
//                .task_groups = {{.name = "workers", .count = 4,
//                                 .per_task = ParseResources(cat, "cpu=32,memory=256Gi,gpu=8").value()}},
//                .constraints = {.gpu_models = {"H100-80GB"}},
//                .time_limit = 12 * kHour,
//                .command = {.argv = {"torchrun", "train.py"}}};
//
// Validate() checks the spec on its own; the engine additionally checks that
// extended resource kinds are registered in its catalog.
//
// Thread-safety: plain values; the engine keeps its own copy of a submitted
// spec (Engine::GetSpec returns a pointer valid for the engine's lifetime).
#ifndef MLSCHED_JOB_SPEC_H_
#define MLSCHED_JOB_SPEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/ids.h"
#include "mlsched/resources.h"
#include "mlsched/retry.h"
#include "mlsched/time.h"

namespace mlsched {

enum class PriorityClass : std::uint8_t { kLow, kMedium, kHigh };
std::string_view PriorityClassName(PriorityClass c);

// Integer priority inside a class must lie in [kMinPriority, kMaxPriority].
inline constexpr std::int32_t kMinPriority = -100'000;
inline constexpr std::int32_t kMaxPriority = 100'000;
// Limits on one spec. Validate() also requires every per-kind total over all
// tasks to stay below 2^62, so sums of whole jobs never overflow.
inline constexpr std::int32_t kMaxTasksPerGroup = 100'000;
inline constexpr int kMaxTaskGroups = 64;

struct TaskGroup {
  std::string name;          // unique within the job; "" is allowed for a single group
  std::int32_t count = 1;    // tasks in the gang, >= 1
  ResourceVector per_task;   // request of each task; non-zero, no negative quantity
};

// Keeping a gang inside one topology domain. Levels index the nodes'
// topology path from the outside: with paths "block/rack", level 0 is the
// block and level 1 the rack.
struct TopologyConstraint {
  int level = -1;         // -1: no constraint
  bool required = false;  // false: prefer one domain, else span as few as possible
};

struct Constraints {
  // Acceptable GPU models (any of); empty accepts every model. Only meaningful
  // for tasks that request GPUs.
  std::vector<std::string> gpu_models;
  // Node labels that must all be present with these values.
  std::map<std::string, std::string> node_labels;
  // Applies to every task group with more than one task.
  TopologyConstraint topology;
};

struct Command {
  std::vector<std::string> argv;  // argv[0] is the program; no shell is involved
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
};

// Dependencies on other jobs, as Slurm's --dependency: the job waits
// (WaitingDeps) until each one is met. One that can no longer be met makes the
// job UpstreamFailed (or Cancelled, in a workflow that says so).
enum class DependencyKind : std::uint8_t {
  kAfterSuccess,  // Slurm afterok: the parent succeeded
  kAfterAny,      // Slurm afterany: the parent ended, however
  kAfterFailure,  // Slurm afternotok: the parent ended without success
};
std::string_view DependencyKindName(DependencyKind k);

struct Dependency {
  JobId job;
  DependencyKind kind = DependencyKind::kAfterSuccess;
  friend bool operator==(const Dependency&, const Dependency&) = default;
};

struct JobSpec {
  std::string name;    // required; need not be unique
  std::string tenant;  // required: the queue / team the job is charged to
  std::string user;    // required
  PriorityClass priority_class = PriorityClass::kMedium;
  std::int32_t priority = 0;
  std::vector<TaskGroup> task_groups;
  Constraints constraints;
  Duration time_limit = 0;  // 0 = none
  bool preemptible = false;
  Command command;
  std::string idempotency_key;  // optional; a repeated key returns the first job
  RetryPolicy retry;
  std::vector<Dependency> dependencies;  // existing jobs; at most 10,000
  // Stuck detection: with a timeout, a running attempt must report progress
  // (Engine::ProgressReported or a checkpoint) at least this often, else it
  // is killed as stuck and retried as a transient failure. 0 = no check.
  Duration progress_timeout = 0;
  // Not to start before this time (Slurm's --begin); 0 = as soon as possible.
  Timestamp begin_time = 0;

  // Errors name the job and the field:
  // `job "train-7": task_groups[0].per_task.gpu = -2: must be >= 0`.
  absl::Status Validate() const;

  std::int64_t total_tasks() const;
  // Sum over groups of count * per_task.
  ResourceVector total_request() const {  // inline: a trace replay asks once a job
    ResourceVector total;
    for (const TaskGroup& g : task_groups) total += g.per_task.Times(g.count);
    return total;
  }
};

}  // namespace mlsched

#endif  // MLSCHED_JOB_SPEC_H_
