// Nodes: machines the engine places tasks on.
//
// A NodeSpec is what a host (or a node agent) registers: a unique name, the
// schedulable capacity, labels for constraints, the GPUs with their model and
// NVLink domains, and the node's place in the data-centre topology as a path
// from the outside in ("block-a/rack-07").
//
// Every GPU on one node has the same model (as on every production GPU node);
// capacity.gpus() either is 0 and is then taken from `gpus.size()`, or must
// equal it.
//
//   NodeSpec node{.name = "gpu-017",
//                 .capacity = ParseResources(catalog, "cpu=96,memory=1Ti").value(),
//                 .labels = {{"zone", "eu-1"}},
//                 .gpus = EightGpus("H100-80GB"),
//                 .topology = "block-a/rack-07"};
//   NodeId id = engine.AddNode(node).value();
//
// Thread-safety: plain values; AddNode() takes its own copy.
#ifndef MLSCHED_NODE_H_
#define MLSCHED_NODE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/gpu.h"
#include "mlsched/resources.h"

namespace mlsched {

// Up: schedulable. Draining: running tasks continue, nothing new starts.
// Down: unreachable; its attempts are Lost and its resources are released.
enum class NodeState : std::uint8_t { kUp, kDraining, kDown };

std::string_view NodeStateName(NodeState state);

struct NodeSpec {
  std::string name;
  ResourceVector capacity;
  std::map<std::string, std::string> labels;
  std::vector<GpuDevice> gpus;
  std::string topology;  // "block/rack" path; may be empty

  // Structural checks; errors name the node and field:
  // `node "gpu-3": gpus[2].index = 7: GPU indices must be 0..3 in order`.
  absl::Status Validate() const;
  // Model of the node's GPUs ("" when it has none).
  std::string_view gpu_model() const { return gpus.empty() ? std::string_view() : gpus[0].model; }
};

}  // namespace mlsched

#endif  // MLSCHED_NODE_H_
