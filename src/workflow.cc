#include "mlsched/workflow.h"

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "internal/dag.h"
#include "mlsched/status_macros.h"

namespace mlsched {

absl::Status WorkflowSpec::Validate() const { return internal::ResolveWorkflow(*this).status(); }

absl::StatusOr<std::vector<internal::DagEdge>> internal::ResolveWorkflow(const WorkflowSpec& spec) {
  const auto& [name, jobs, edges, on_upstream_failure, key] = spec;
  (void)key;
  // spec.name, not the binding: clang before 16 cannot capture structured bindings.
  auto bad = [&](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("workflow \"{}\": {}: {}", spec.name, field, why));
  };
  if (name.empty()) return bad("name", "must not be empty");
  if (jobs.empty()) return bad("jobs", "a workflow has at least one job");
  if (jobs.size() > 1'000'000) return bad(fmt::format("jobs ({} of them)", jobs.size()), "at most 1000000");
  if (static_cast<int>(on_upstream_failure) > static_cast<int>(UpstreamFailure::kCancel))
    return bad("on_upstream_failure", "not an upstream-failure policy");
  absl::flat_hash_map<std::string_view, std::size_t> by_name;
  by_name.reserve(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (absl::Status s = jobs[i].Validate(); !s.ok())
      return bad(fmt::format("jobs[{}]", i), std::string(s.message()));
    auto [it, inserted] = by_name.emplace(jobs[i].name, i);
    if (!inserted) {
      return bad(fmt::format("jobs[{}].name = \"{}\"", i, jobs[i].name),
                 fmt::format("jobs[{}] has the same name; names are unique within a workflow", it->second));
    }
  }
  std::vector<internal::DagEdge> resolved;
  resolved.reserve(edges.size());
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const WorkflowEdge& e = edges[i];
    auto parent = by_name.find(e.parent);
    if (parent == by_name.end())
      return bad(fmt::format("edges[{}].parent = \"{}\"", i, e.parent), "no job of that name");
    auto child = by_name.find(e.child);
    if (child == by_name.end())
      return bad(fmt::format("edges[{}].child = \"{}\"", i, e.child), "no job of that name");
    if (static_cast<int>(e.kind) > static_cast<int>(DependencyKind::kAfterFailure))
      return bad(fmt::format("edges[{}].kind = {}", i, static_cast<int>(e.kind)), "not a dependency kind");
    resolved.emplace_back(static_cast<std::uint32_t>(parent->second), static_cast<std::uint32_t>(child->second));
  }
  return resolved;
}

}  // namespace mlsched
