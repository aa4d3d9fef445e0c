// Embedding mlsched: a cluster, a job, one scheduling round, the job's life.
//
// The host owns time (a Clock), carries decisions out (an Executor) and feeds
// what happened back as events. Everything else is the engine's.
#include <cstdio>

#include "mlsched/mlsched.h"

using namespace mlsched;

int main() {
  ManualClock clock(1'700'000'000 * kSecond);
  auto engine = Engine::Create({.clock = &clock}).value();
  const ResourceCatalog& catalog = engine->catalog();

  NodeSpec node{.name = "gpu-0", .capacity = ParseResources(catalog, "cpu=96,memory=1Ti").value()};
  for (int i = 0; i < 8; ++i)
    node.gpus.push_back({.index = i, .uuid = "GPU-" + std::to_string(i), .model = "H100-80GB",
                         .memory_bytes = 80LL << 30, .topology_domain = i / 4});
  const NodeId gpu0 = engine->AddNode(node).value();

  const JobId job = engine->Submit({.name = "finetune-7b",
                                    .tenant = "research",
                                    .user = "ana",
                                    .priority_class = PriorityClass::kHigh,
                                    .task_groups = {{.name = "trainer", .count = 1,
                                                     .per_task = ParseResources(catalog, "cpu=16,memory=128Gi,gpu=4").value()}},
                                    .time_limit = 2 * kHour,
                                    .command = {.argv = {"python3", "train.py", "--model", "7b"}}})
                        .value();

  RecordingExecutor executor;
  SchedulingRound round = engine->Tick();
  if (!Dispatch(*engine, round, executor).ok()) return 1;
  for (const Decision& d : round.decisions) {
    for (const TaskPlacement& p : round.PlacementsOf(d)) {
      std::printf("%s job #%u token %s: task %u on node #%u, CUDA_VISIBLE_DEVICES=%s\n",
                  std::string(DecisionKindName(d.kind)).c_str(), d.job.value(), FormatToken(d.token).c_str(),
                  p.task, p.node.value(), FormatGpuSet(p.gpus).c_str());
    }
  }
  const FencingToken token = round.decisions.at(0).token;
  (void)engine->TaskStarted({.job = job, .token = token, .task = 0});
  clock.Advance(45 * kMinute);
  (void)engine->TaskExited({.job = job, .token = token, .task = 0, .exit_code = 0});
  const JobStatus status = engine->GetJob(job).value();
  std::printf("job %s is %s after %s; node %s has %d free GPUs\n", status.name.c_str(),
              std::string(JobStateName(status.state)).c_str(),
              FormatDuration(status.end_time - status.attempts[0].start).c_str(), node.name.c_str(),
              engine->GetNode(gpu0).value().free_gpus.size());
  return status.state == JobState::kSucceeded ? 0 : 1;
}
