// Reference executor benchmarks (real processes; numbers depend on the
// machine's fork/exec cost more than on mlsched):
//   BM_LocalExecutor_LaunchToStarted  Launch() of /bin/true until its started
//                                     event: p50/p99 in microseconds.
//   BM_LocalExecutor_LaunchToExited   the same until its exit event (the
//                                     supervisor has reaped everything).
//   BM_Runner_TrivialJobs             N one-task jobs of /bin/true through the
//                                     engine (RealClock), the runner and the
//                                     executor, 16 at a time: jobs per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mlsched/engine.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/exec/local_executor.h"
#include "mlsched/exec/local_node.h"
#include "mlsched/exec/runner.h"

namespace mlsched {
namespace {

std::string LogDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mlsched-bench-XXXXXX").string();
  return ::mkdtemp(tmpl.data());
}

void Percentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void LaunchBench(benchmark::State& state, ExecutorEventKind until) {
  const std::string dir = LogDir();
  auto executor = LocalExecutor::Create({.log_dir = dir}).value();
  JobSpec spec{.name = "true", .tenant = "b", .user = "b",
               .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1, 0, 0)}},
               .command = {.argv = {"/bin/true"}}};
  TaskPlacement placement{.task = 0, .node = NodeId(0)};
  std::vector<ExecutorEvent> events;
  std::vector<double> us;
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    ++attempt;
    events.clear();
    const auto t0 = std::chrono::steady_clock::now();
    if (!executor->Launch({.job = JobId(1), .token = {.epoch = 1, .attempt = attempt}, .spec = &spec,
                           .tasks = {&placement, 1}})
             .ok())
      std::abort();
    bool seen = false;
    while (!seen) {
      if (!executor->Poll(kSecond, &events).ok()) std::abort();
      for (const ExecutorEvent& e : events) seen |= e.kind == until;
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    state.PauseTiming();
    while (executor->live_tasks() > 0) (void)executor->Poll(kSecond, &events);
    state.ResumeTiming();
  }
  Percentiles(state, us);
  executor.reset();
  std::filesystem::remove_all(dir);
}

void BM_LocalExecutor_LaunchToStarted(benchmark::State& state) { LaunchBench(state, ExecutorEventKind::kTaskStarted); }
void BM_LocalExecutor_LaunchToExited(benchmark::State& state) { LaunchBench(state, ExecutorEventKind::kTaskExited); }
BENCHMARK(BM_LocalExecutor_LaunchToStarted)->Unit(benchmark::kMicrosecond)->Iterations(1000);
BENCHMARK(BM_LocalExecutor_LaunchToExited)->Unit(benchmark::kMicrosecond)->Iterations(1000);

void BM_Runner_TrivialJobs(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const std::string dir = LogDir();
    RealClock clock;
    auto engine = Engine::Create({.clock = &clock, .seed = 1}).value();
    auto gpus = GpuMonitor::Open({.use_nvml = false}).value();
    // 16 slots: 16 tasks of 1 core at a time, whatever the machine.
    NodeSpec node = LocalNodeSpec(engine->catalog(), *gpus, {.cpu_millis = 16'000}).value();
    NodeId n = engine->AddNode(node).value();
    auto executor = LocalExecutor::Create({.log_dir = dir, .node = n}).value();
    std::vector<JobId> ids;
    for (int i = 0; i < jobs; ++i) {
      ids.push_back(engine
                        ->Submit({.name = "j" + std::to_string(i), .tenant = "b", .user = "b",
                                  .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1000, 0, 0)}},
                                  .command = {.argv = {"/bin/true"}}})
                        .value());
    }
    Runner runner({.engine = engine.get(), .clock = &clock, .executor = executor.get(), .max_wait = 50 * kMillisecond});
    absl::Status s = runner.RunUntil(
        [&] { return engine->GetQueueDepth().total == 0 && engine->GetUtilization().running_jobs == 0; }, 10 * kMinute);
    if (!s.ok()) std::abort();
    for (JobId j : ids)
      if (engine->GetState(j).value() != JobState::kSucceeded) std::abort();
    state.PauseTiming();
    executor.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["jobs_per_s"] = benchmark::Counter(static_cast<double>(jobs) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Runner_TrivialJobs)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace mlsched
