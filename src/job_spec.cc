#include "mlsched/job_spec.h"

#include <algorithm>

#include "mlsched/gpu.h"

#include "absl/base/attributes.h"
#include "fmt/format.h"
#include "mlsched/status_macros.h"

namespace mlsched {

std::string_view PriorityClassName(PriorityClass c) {
  switch (c) {
    case PriorityClass::kLow: return "low";
    case PriorityClass::kMedium: return "medium";
    case PriorityClass::kHigh: return "high";
  }
  return "?";
}

namespace {
std::string KindField(int i) {
  static constexpr std::string_view kKinds[] = {"cpu", "memory", "gpu"};
  return i < 3 ? std::string(kKinds[i]) : fmt::format("extended#{}", i);
}

// The error for a bad field of job `job`. Cold: the compiler then lays every
// check's error path (with its message's formatting) apart from the path a
// valid spec takes through Validate().
ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE absl::Status BadField(std::string_view job, std::string_view field,
                                                                  std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("job \"{}\": {}: {}", job, field, why));
}
}  // namespace

absl::Status JobSpec::Validate() const {
  auto bad = [&](std::string_view field, std::string_view why) { return BadField(name, field, why); };
  if (name.empty()) return bad("name", "must not be empty");
  if (name.size() > 253) return bad("name", "longer than 253 characters");
  if (tenant.empty()) return bad("tenant", "must not be empty");
  if (user.empty()) return bad("user", "must not be empty");
  if (static_cast<int>(priority_class) > static_cast<int>(PriorityClass::kHigh))
    return bad(fmt::format("priority_class = {}", static_cast<int>(priority_class)), "not a priority class");
  if (priority < kMinPriority || priority > kMaxPriority) {
    return bad(fmt::format("priority = {}", priority),
               fmt::format("must be in [{}, {}]", kMinPriority, kMaxPriority));
  }
  if (task_groups.empty()) return bad("task_groups", "at least one task group is required");
  if (task_groups.size() > static_cast<std::size_t>(kMaxTaskGroups))
    return bad("task_groups", fmt::format("{} groups; at most {}", task_groups.size(), kMaxTaskGroups));
  // Whole-job totals can reach 2^62 only when tasks x the largest quantity
  // can: the exact sums below are worked out only then.
  std::int64_t tasks = 0, largest = 0;
  for (std::size_t g = 0; g < task_groups.size(); ++g) {
    const TaskGroup& group = task_groups[g];
    // At most kMaxTaskGroups groups: pairwise is cheaper than a set, and allocates nothing.
    for (std::size_t e = 0; e < g; ++e) {
      if (task_groups[e].name == group.name)
        return bad(fmt::format("task_groups[{}].name = \"{}\"", g, group.name), "duplicate group name");
    }
    if (group.count < 1 || group.count > kMaxTasksPerGroup) {
      return bad(fmt::format("task_groups[{}].count = {}", g, group.count),
                 fmt::format("must be in [1, {}]", kMaxTasksPerGroup));
    }
    for (int i = 0; i < kMaxResourceKinds; ++i) {
      const std::int64_t q = group.per_task.Get(ResourceKind(static_cast<std::uint8_t>(i)));
      if (q < 0) return bad(fmt::format("task_groups[{}].per_task.{} = {}", g, KindField(i), q), "must be >= 0");
      if (q > (std::int64_t{1} << 50))
        return bad(fmt::format("task_groups[{}].per_task.{} = {}", g, KindField(i), q), "implausibly large");
      largest = std::max(largest, q);
    }
    tasks += group.count;
    if (group.per_task.IsZero())
      return bad(fmt::format("task_groups[{}].per_task", g), "requests nothing; ask for at least one resource");
    if (group.per_task.gpus() > kMaxGpusPerNode) {
      return bad(fmt::format("task_groups[{}].per_task.gpu = {}", g, group.per_task.gpus()),
                 fmt::format("a task runs on one node; at most {} GPUs", kMaxGpusPerNode));
    }
  }
  for (int i = 0; i < kMaxResourceKinds && __int128(tasks) * largest >= (__int128(1) << 62); ++i) {
    __int128 total = 0;
    for (const TaskGroup& group : task_groups)
      total += __int128(group.count) * group.per_task.Get(ResourceKind(static_cast<std::uint8_t>(i)));
    if (total >= (__int128(1) << 62)) {
      return bad(fmt::format("task_groups (total {})", KindField(i)),
                 "the job's total request is too large (2^62 or more)");
    }
  }
  for (std::size_t i = 0; i < constraints.gpu_models.size(); ++i) {
    if (constraints.gpu_models[i].empty())
      return bad(fmt::format("constraints.gpu_models[{}]", i), "must not be empty");
  }
  for (const auto& [key, value] : constraints.node_labels) {
    if (key.empty()) return bad("constraints.node_labels", "a label key must not be empty");
  }
  if (constraints.topology.level < -1 || constraints.topology.level > 15) {
    return bad(fmt::format("constraints.topology.level = {}", constraints.topology.level),
               "must be -1 (none) or a path level in [0, 15]");
  }
  if (time_limit < 0) return bad(fmt::format("time_limit = {}", time_limit), "must be >= 0 (0 = none)");
  MLSCHED_RETURN_IF_ERROR(retry.Validate(name));
  if (dependencies.size() > 10'000)
    return bad(fmt::format("dependencies ({} of them)", dependencies.size()), "at most 10000");
  for (std::size_t i = 0; i < dependencies.size(); ++i) {
    if (!dependencies[i].job.valid()) return bad(fmt::format("dependencies[{}].job", i), "not a job id");
    if (static_cast<int>(dependencies[i].kind) > static_cast<int>(DependencyKind::kAfterFailure)) {
      return bad(fmt::format("dependencies[{}].kind = {}", i, static_cast<int>(dependencies[i].kind)),
                 "not a dependency kind");
    }
  }
  if (progress_timeout < 0)
    return bad(fmt::format("progress_timeout = {}", progress_timeout), "must be >= 0 (0 = none)");
  if (begin_time < 0) return bad(fmt::format("begin_time = {}", begin_time), "must be >= 0 (0 = none)");
  for (std::size_t i = 0; i < command.env.size(); ++i) {
    const std::string& key = command.env[i].first;
    if (key.empty() || key.find('=') != std::string::npos)
      return bad(fmt::format("command.env[{}] = \"{}\"", i, key), "not a valid variable name");
  }
  if (!command.argv.empty() && command.argv[0].empty()) return bad("command.argv[0]", "must not be empty");
  return absl::OkStatus();
}

std::string_view DependencyKindName(DependencyKind k) {
  switch (k) {
    case DependencyKind::kAfterSuccess: return "afterok";
    case DependencyKind::kAfterAny: return "afterany";
    case DependencyKind::kAfterFailure: return "afternotok";
  }
  return "?";
}

std::int64_t JobSpec::total_tasks() const {
  std::int64_t n = 0;
  for (const TaskGroup& g : task_groups) n += g.count;
  return n;
}

}  // namespace mlsched
