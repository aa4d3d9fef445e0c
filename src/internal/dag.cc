#include "internal/dag.h"

#include <algorithm>

#include "boost/graph/compressed_sparse_row_graph.hpp"
#include "boost/graph/depth_first_search.hpp"
#include "fmt/format.h"

namespace mlsched::internal {

namespace {

// Compressed sparse rows: two arrays for the whole graph, no per-vertex
// allocation (a 100,000-job workflow is checked in a few milliseconds).
using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// Records the DFS tree (to walk a cycle back), the first back edge, and the
// finishing order (whose reverse is a topological order).
class Recorder : public boost::default_dfs_visitor {
 public:
  Recorder(std::vector<std::uint32_t>* parent, std::vector<std::uint32_t>* finished, Edge* back, bool* has_back)
      : parent_(parent), finished_(finished), back_(back), has_back_(has_back) {}
  void tree_edge(Edge e, const Graph& g) const {
    (*parent_)[boost::target(e, g)] = static_cast<std::uint32_t>(boost::source(e, g));
  }
  void back_edge(Edge e, const Graph&) const {
    if (!*has_back_) {
      *back_ = e;
      *has_back_ = true;
    }
  }
  void finish_vertex(Vertex v, const Graph&) const { finished_->push_back(static_cast<std::uint32_t>(v)); }

 private:
  std::vector<std::uint32_t>* parent_;
  std::vector<std::uint32_t>* finished_;
  Edge* back_;
  bool* has_back_;
};

}  // namespace

absl::StatusOr<std::vector<std::uint32_t>> TopologicalOrder(std::uint32_t n, std::span<const DagEdge> edges,
                                                            absl::FunctionRef<std::string(std::uint32_t)> name,
                                                            std::string_view what) {
  const Graph g(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), n);
  std::vector<std::uint32_t> parent(n, ~std::uint32_t{0});
  std::vector<std::uint32_t> finished;
  finished.reserve(n);
  Edge back;
  bool has_back = false;
  boost::depth_first_search(g, boost::visitor(Recorder(&parent, &finished, &back, &has_back)));
  if (has_back) {
    // The back edge u -> v closes the cycle v -> ... -> u -> v along the tree.
    const auto u = static_cast<std::uint32_t>(boost::source(back, g));
    const auto v = static_cast<std::uint32_t>(boost::target(back, g));
    std::vector<std::uint32_t> cycle{u};
    for (std::uint32_t x = u; x != v; x = parent[x]) cycle.push_back(parent[x]);
    std::reverse(cycle.begin(), cycle.end());  // v ... u
    std::string text;
    constexpr std::size_t kShown = 20;  // a cycle of 100,000 jobs is named by its ends
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      if (cycle.size() > 2 * kShown && i == kShown) {
        text += fmt::format("... ({} more) -> ", cycle.size() - 2 * kShown);
        i = cycle.size() - kShown - 1;  // the loop's ++ lands on the first of the last kShown
      }
      text += name(cycle[i]);
      text += " -> ";
    }
    text += name(v);
    return absl::InvalidArgumentError(fmt::format("{}: dependency cycle: {}", what, text));
  }
  std::reverse(finished.begin(), finished.end());
  return finished;
}

CriticalPath LongestPath(std::span<const std::uint32_t> topo_order, std::span<const DagEdge> edges,
                         std::span<const std::int64_t> weight) {
  const std::size_t n = weight.size();
  CriticalPath out;
  if (n == 0) return out;
  // Parents by child, compressed.
  std::vector<std::uint32_t> start(n + 1, 0), parents(edges.size());
  for (const auto& e : edges) ++start[e.second + 1];
  for (std::size_t i = 0; i < n; ++i) start[i + 1] += start[i];
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (const auto& e : edges) parents[fill[e.second]++] = e.first;
  std::vector<std::int64_t> best(n, 0);
  std::vector<std::uint32_t> via(n, ~std::uint32_t{0});
  std::uint32_t end = topo_order.front();
  for (std::uint32_t v : topo_order) {
    constexpr std::uint32_t kNone = ~std::uint32_t{0};
    std::int64_t before = 0;
    for (std::uint32_t i = start[v]; i < start[v + 1]; ++i) {
      const std::uint32_t p = parents[i];  // ties go to the lowest vertex: deterministic
      if (via[v] == kNone || best[p] > before || (best[p] == before && p < via[v])) {
        before = best[p];
        via[v] = p;
      }
    }
    best[v] = before + weight[v];
    if (best[v] > best[end]) end = v;
  }
  out.length = best[end];
  for (std::uint32_t v = end; v != ~std::uint32_t{0}; v = via[v]) out.vertices.push_back(v);
  std::reverse(out.vertices.begin(), out.vertices.end());
  return out;
}

}  // namespace mlsched::internal
