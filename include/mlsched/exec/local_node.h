// LocalNodeSpec: this machine as a NodeSpec, for a host that runs tasks here.
//
// Capacity is the online CPUs (in milli-cores) and the physical memory,
// optionally less a reserve for the host itself; GPUs are the monitor's
// devices (all in NVLink domain 0: NVML topology is not read), with their
// health at discovery.
//
// Thread-safety: a pure function of the machine's state.
//
//   auto gpus = GpuMonitor::Open({.simulated_gpus = 2}).value();
//   NodeSpec spec = LocalNodeSpec(engine->catalog(), *gpus, {.name = "localhost"}).value();
//   NodeId node = engine->AddNode(spec).value();
#ifndef MLSCHED_EXEC_LOCAL_NODE_H_
#define MLSCHED_EXEC_LOCAL_NODE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/node.h"
#include "mlsched/resources.h"

namespace mlsched {

struct LocalNodeOptions {
  std::string name = "localhost";
  std::int64_t reserved_cpu_millis = 0;   // kept back for the host
  std::int64_t reserved_memory_bytes = 0;
  // 0: as detected; else this capacity replaces the detected one.
  std::int64_t cpu_millis = 0;
  std::int64_t memory_bytes = 0;
};

absl::StatusOr<NodeSpec> LocalNodeSpec(const ResourceCatalog& catalog, const GpuMonitor& gpus,
                                       const LocalNodeOptions& options);

}  // namespace mlsched

#endif  // MLSCHED_EXEC_LOCAL_NODE_H_
