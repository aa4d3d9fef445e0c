// Built against the installed tree: proves the exported CMake package works.
#include <cstdio>

#include "mlsched/mlsched.h"

int main() {
  mlsched::ManualClock clock;
  auto engine = mlsched::Engine::Create({.clock = &clock});
  if (!engine.ok()) return 1;
  mlsched::NodeSpec node{.name = "n0", .capacity = mlsched::ResourceVector::Of(8000, 1LL << 34, 0)};
  if (!(*engine)->AddNode(node).ok()) return 1;
  auto job = (*engine)->Submit({.name = "hello", .tenant = "t", .user = "u",
                                .task_groups = {{.per_task = mlsched::ResourceVector::Of(1000, 1LL << 30, 0)}}});
  if (!job.ok()) return 1;
  const mlsched::SchedulingRound round = (*engine)->Tick();
  std::printf("consumer: %zu decision(s)\n", round.decisions.size());
  return round.decisions.size() == 1 ? 0 : 1;
}
