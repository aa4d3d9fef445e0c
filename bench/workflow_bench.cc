// Workflow benchmarks (issue target, one thread, Release):
//   BM_Workflow_SubmitAndRelease  a layered 100,000-job DAG (100 layers of
//       1,000 jobs; each job depends on 3 jobs of the layer before: fan-in and
//       fan-out) is submitted as one workflow, then every job is started by
//       the engine and reported done, layer after layer, until the workflow
//       has succeeded: <= 200 ms for the whole.
//   BM_Workflow_Submit            the submission alone (validation, cycle
//       check on Boost.Graph, 100,000 jobs created).
#include <benchmark/benchmark.h>

#include "mlsched/engine.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;
constexpr int kLayers = 100, kWidth = 1'000;

WorkflowSpec Layered() {
  WorkflowSpec wf{.name = "layered"};
  wf.jobs.reserve(kLayers * kWidth);
  wf.edges.reserve(3 * kLayers * kWidth);
  for (int l = 0; l < kLayers; ++l) {
    for (int i = 0; i < kWidth; ++i) {
      wf.jobs.push_back({.name = "l" + std::to_string(l) + "-" + std::to_string(i), .tenant = "etl", .user = "u",
                         .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1000, kGi, 0)}}});
      if (l == 0) continue;
      for (int k : {0, 1, 7}) {
        wf.edges.push_back({.parent = "l" + std::to_string(l - 1) + "-" + std::to_string((i + k * 131) % kWidth),
                            .child = wf.jobs.back().name});
      }
    }
  }
  return wf;
}

std::unique_ptr<Engine> MakeEngine(ManualClock* clock) {
  auto engine = Engine::Create({.clock = clock}).value();
  for (int n = 0; n < 100; ++n) {  // 100 x 64 cores: 6,400 one-core jobs at once
    if (!engine->AddNode({.name = "cpu-" + std::to_string(n), .capacity = ResourceVector::Of(64'000, 512 * kGi, 0)})
             .ok())
      std::abort();
  }
  return engine;
}

void BM_Workflow_SubmitAndRelease(benchmark::State& state) {
  const WorkflowSpec spec = Layered();
  std::int64_t passes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ManualClock clock(0);
    auto engine = MakeEngine(&clock);
    WorkflowSpec copy = spec;
    SchedulingRound round;
    state.ResumeTiming();
    const WorkflowSubmission sub = engine->SubmitWorkflow(std::move(copy)).value();
    std::int64_t done = 0;
    while (done < kLayers * kWidth) {
      clock.Advance(kSecond);
      if (!engine->Tick(&round).ok()) std::abort();
      ++passes;
      if (round.decisions.empty()) std::abort();
      for (const Decision& d : round.decisions) {
        if (d.kind != DecisionKind::kStart) continue;
        if (!engine->TaskExited({.job = d.job, .token = d.token, .task = 0}).ok()) std::abort();
        ++done;
      }
    }
    state.PauseTiming();
    if (!engine->GetWorkflow(sub.id).value().succeeded) std::abort();
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["jobs"] = kLayers * kWidth;
  state.counters["passes"] = static_cast<double>(passes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Workflow_SubmitAndRelease)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Workflow_Submit(benchmark::State& state) {
  const WorkflowSpec spec = Layered();
  for (auto _ : state) {
    state.PauseTiming();
    ManualClock clock(0);
    auto engine = MakeEngine(&clock);
    WorkflowSpec copy = spec;
    state.ResumeTiming();
    benchmark::DoNotOptimize(engine->SubmitWorkflow(std::move(copy)).value());
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Workflow_Submit)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace mlsched
