#include "mlsched/exec/local_node.h"

#include <unistd.h>

#include <algorithm>

#include "fmt/format.h"

namespace mlsched {

absl::StatusOr<NodeSpec> LocalNodeSpec(const ResourceCatalog&, const GpuMonitor& gpus,
                                       const LocalNodeOptions& options) {
  std::int64_t cpu = options.cpu_millis;
  if (cpu == 0) cpu = std::int64_t{1000} * std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  std::int64_t memory = options.memory_bytes;
  if (memory == 0) memory = std::int64_t{::sysconf(_SC_PHYS_PAGES)} * ::sysconf(_SC_PAGESIZE);
  cpu -= options.reserved_cpu_millis;
  memory -= options.reserved_memory_bytes;
  if (cpu <= 0 || memory <= 0) {
    return absl::InvalidArgumentError(fmt::format(
        "node \"{}\": nothing left after the host's reserve (cpu {}m, memory {} bytes)", options.name, cpu, memory));
  }
  NodeSpec spec{.name = options.name,
                .capacity = ResourceVector::Of(cpu, memory, static_cast<std::int64_t>(gpus.devices().size())),
                .gpus = gpus.devices()};
  if (absl::Status s = spec.Validate(); !s.ok()) return s;
  return spec;
}

}  // namespace mlsched
