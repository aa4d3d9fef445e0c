#include "mlsched/node.h"

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace mlsched {

std::string_view NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kUp: return "Up";
    case NodeState::kDraining: return "Draining";
    case NodeState::kDown: return "Down";
  }
  return "?";
}

absl::Status NodeSpec::Validate() const {
  auto bad = [&](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("node \"{}\": {}: {}", name, field, why));
  };
  if (name.empty()) return bad("name", "must not be empty");
  if (name.size() > 253) return bad("name", "longer than 253 characters");
  static constexpr std::string_view kKinds[] = {"cpu", "memory", "gpu"};
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const std::int64_t q = capacity.Get(ResourceKind(static_cast<std::uint8_t>(i)));
    if (q < 0) {
      return bad(fmt::format("capacity.{} = {}", i < 3 ? kKinds[i] : "extended#" + std::to_string(i), q),
                 "must be >= 0");
    }
  }
  if (capacity.cpu_millis() <= 0) return bad(fmt::format("capacity.cpu = {}", capacity.cpu_millis()), "must be > 0");
  if (capacity.memory_bytes() <= 0)
    return bad(fmt::format("capacity.memory = {}", capacity.memory_bytes()), "must be > 0");
  if (gpus.size() > static_cast<std::size_t>(kMaxGpusPerNode))
    return bad("gpus", fmt::format("{} GPUs; at most {} per node", gpus.size(), kMaxGpusPerNode));
  if (capacity.gpus() != 0 && capacity.gpus() != static_cast<std::int64_t>(gpus.size())) {
    return bad(fmt::format("capacity.gpu = {}", capacity.gpus()),
               fmt::format("does not match the {} GPU devices listed", gpus.size()));
  }
  absl::flat_hash_set<std::string_view> uuids;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const GpuDevice& g = gpus[i];
    if (g.index != static_cast<int>(i)) {
      return bad(fmt::format("gpus[{}].index = {}", i, g.index),
                 fmt::format("GPU indices must be 0..{} in order", gpus.size() - 1));
    }
    if (g.model.empty()) return bad(fmt::format("gpus[{}].model", i), "must not be empty");
    if (g.model != gpus[0].model) {
      return bad(fmt::format("gpus[{}].model = \"{}\"", i, g.model),
                 fmt::format("differs from gpus[0].model = \"{}\"; one model per node", gpus[0].model));
    }
    if (g.memory_bytes < 0) return bad(fmt::format("gpus[{}].memory_bytes = {}", i, g.memory_bytes), "must be >= 0");
    if (g.topology_domain < 0)
      return bad(fmt::format("gpus[{}].topology_domain = {}", i, g.topology_domain), "must be >= 0");
    if (!g.uuid.empty() && !uuids.insert(g.uuid).second)
      return bad(fmt::format("gpus[{}].uuid = \"{}\"", i, g.uuid), "duplicate UUID on this node");
  }
  for (const auto& [key, value] : labels) {
    if (key.empty()) return bad("labels", "a label key must not be empty");
  }
  return absl::OkStatus();
}

}  // namespace mlsched
