// A custom placement policy: keep one rack free of small jobs.
//
// Policies are pure: they receive the task and a view of candidate nodes from
// the engine's free-capacity index and return a choice. This one sends tasks
// with fewer than 8 GPUs anywhere except rack "r0" when it can, reserving r0's
// whole nodes for 8-GPU training; otherwise it behaves like best fit.
#include <cstdio>

#include "mlsched/mlsched.h"

using namespace mlsched;

class ProtectRack final : public PlacementPolicy {
 public:
  explicit ProtectRack(std::vector<bool> protected_nodes) : protected_(std::move(protected_nodes)) {}
  std::string_view name() const override { return "protect-rack"; }
  std::optional<NodeId> ChooseNode(const TaskRequest& task, const CandidateNodes& candidates) const override {
    if (task.per_task.gpus() >= 8) return candidates.Tightest();
    std::optional<NodeId> choice;
    candidates.ForEach([&](NodeId node, const ResourceVector&) {
      if (protected_[node.value()]) return true;  // keep looking
      choice = node;
      return false;
    });
    return choice ? choice : candidates.Tightest();
  }

 private:
  std::vector<bool> protected_;
};

int main() {
  ManualClock clock;
  std::vector<bool> in_r0;
  std::vector<NodeSpec> nodes;
  for (int i = 0; i < 4; ++i) {
    NodeSpec n{.name = "n" + std::to_string(i), .capacity = ResourceVector::Of(96'000, 1LL << 40, 0),
               .topology = i < 2 ? "r0" : "r1"};
    for (int g = 0; g < 8; ++g) n.gpus.push_back({.index = g, .model = "A100"});
    in_r0.push_back(i < 2);
    nodes.push_back(std::move(n));
  }
  auto engine = Engine::Create({.clock = &clock,
                                .policies = {.placement = std::make_shared<ProtectRack>(in_r0)}})
                    .value();
  for (NodeSpec& n : nodes) (void)engine->AddNode(n);
  for (int i = 0; i < 6; ++i) {
    (void)engine->Submit({.name = "small-" + std::to_string(i), .tenant = "t", .user = "u",
                          .task_groups = {{.per_task = ResourceVector::Of(4000, 16LL << 30, 2)}}});
  }
  (void)engine->Submit({.name = "big", .tenant = "t", .user = "u",
                        .task_groups = {{.count = 2, .per_task = ResourceVector::Of(32000, 256LL << 30, 8)}}});
  const SchedulingRound round = engine->Tick();
  for (const Decision& d : round.decisions) {
    for (const TaskPlacement& p : round.PlacementsOf(d)) {
      std::printf("%-8s task %u -> %s (%s) GPUs %s\n", engine->GetSpec(d.job)->name.c_str(), p.task,
                  nodes[p.node.value()].name.c_str(), nodes[p.node.value()].topology.c_str(),
                  FormatGpuSet(p.gpus).c_str());
    }
  }
  return 0;
}
