// Directed acyclic graphs for workflows, on Boost.Graph (kept out of the
// public headers).
#ifndef MLSCHED_SRC_INTERNAL_DAG_H_
#define MLSCHED_SRC_INTERNAL_DAG_H_

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "mlsched/workflow.h"

namespace mlsched::internal {

using DagEdge = std::pair<std::uint32_t, std::uint32_t>;  // (parent, child)

// A topological order of vertices 0..n-1 (every parent before its children),
// or kInvalidArgument naming one cycle: `<what>: dependency cycle: a -> b -> a`
// with `name(v)` for each vertex. Iterative depth-first search: a chain or a
// cycle of a million vertices does not overflow the stack.
absl::StatusOr<std::vector<std::uint32_t>> TopologicalOrder(std::uint32_t n, std::span<const DagEdge> edges,
                                                            absl::FunctionRef<std::string(std::uint32_t)> name,
                                                            std::string_view what);

// The longest path by vertex weight over a DAG given in topological order:
// its vertices, first to last, and its total weight. Empty for n == 0.
struct CriticalPath {
  std::vector<std::uint32_t> vertices;
  std::int64_t length = 0;
};
// WorkflowSpec::Validate, returning the edges as (parent, child) job indexes.
absl::StatusOr<std::vector<DagEdge>> ResolveWorkflow(const WorkflowSpec& spec);

CriticalPath LongestPath(std::span<const std::uint32_t> topo_order, std::span<const DagEdge> edges,
                         std::span<const std::int64_t> weight);

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_DAG_H_
