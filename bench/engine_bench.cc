// Engine benchmarks (issue targets, one thread, Release):
//   BM_Engine_Fill          10,000 nodes x 8 GPUs, 100,000 pending jobs, one
//                           pass fills the cluster: >= 1,000,000 placements/s.
//   BM_Engine_SteadyExit    cluster full, ~100,000 pending: one job's task
//                           exit followed by one Tick(): <= 5 us.
//   BM_Engine_PendingMemory bytes of heap per pending job: <= 1 KiB.
//
// Workload: 40% 1-GPU, 20% 2-GPU, 15% 4-GPU, 10% 8-GPU, 5% gangs of 2-4
// tasks x 8 GPUs, 10% CPU-only; three priority classes; 20 tenants. Each GPU
// asks for 12 cores and 96 GiB so GPUs are the binding resource.
#include <benchmark/benchmark.h>

#include <deque>
#include <random>

#include "heap.h"
#include "mlsched/engine.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

void AddCluster(Engine& engine, int nodes) {
  for (int i = 0; i < nodes; ++i) {
    NodeSpec n{.name = "node-" + std::to_string(i),
               .capacity = ResourceVector::Of(128'000, 1024 * kGi, 0),
               .topology = "block-" + std::to_string(i / 512) + "/rack-" + std::to_string(i / 32)};
    for (int g = 0; g < 8; ++g)
      n.gpus.push_back({.index = g, .model = "H100-80GB", .memory_bytes = 80 * kGi, .topology_domain = g / 4});
    if (!engine.AddNode(std::move(n)).ok()) std::abort();
  }
}

JobSpec RandomJob(std::mt19937_64& rng, int i) {
  const int r = static_cast<int>(rng() % 100);
  int gpus, tasks = 1;
  if (r < 40) gpus = 1;
  else if (r < 60) gpus = 2;
  else if (r < 75) gpus = 4;
  else if (r < 85) gpus = 8;
  else if (r < 90) { gpus = 8; tasks = 2 + static_cast<int>(rng() % 3); }
  else gpus = 0;
  const ResourceVector per_task = gpus > 0 ? ResourceVector::Of(12'000 * gpus, 96 * kGi * gpus, gpus)
                                           : ResourceVector::Of(4'000, 16 * kGi, 0);
  return JobSpec{.name = "job-" + std::to_string(i),
                 .tenant = "tenant-" + std::to_string(rng() % 20),
                 .user = "user-" + std::to_string(rng() % 200),
                 .priority_class = static_cast<PriorityClass>(rng() % 3),
                 .priority = static_cast<std::int32_t>(rng() % 10),
                 .task_groups = {{.count = tasks, .per_task = per_task}},
                 .time_limit = 4 * kHour};
}

struct World {
  ManualClock clock{1'700'000'000 * kSecond};
  std::unique_ptr<Engine> engine = Engine::Create({.clock = &clock, .seed = 1}).value();
  std::mt19937_64 rng{42};
  int submitted = 0;

  void Submit(int n) {
    for (int i = 0; i < n; ++i) {
      if (!engine->Submit(RandomJob(rng, submitted++)).ok()) std::abort();
      clock.Advance(kMillisecond);
    }
  }
};

void BM_Engine_Fill(benchmark::State& state) {
  std::int64_t starts = 0, tasks = 0, faults = 0;
  double system = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto world = std::make_unique<World>();
    AddCluster(*world->engine, 10'000);
    world->Submit(100'000);
    SchedulingRound round;
    faults -= bench::MinorFaults();
    system -= bench::SystemSeconds();
    state.ResumeTiming();
    if (!world->engine->Tick(&round).ok()) std::abort();
    state.PauseTiming();
    faults += bench::MinorFaults();
    system += bench::SystemSeconds();
    starts += static_cast<std::int64_t>(round.decisions.size());
    tasks += static_cast<std::int64_t>(round.placements.size());
    world.reset();
    state.ResumeTiming();
  }
  state.counters["placements/s"] = benchmark::Counter(static_cast<double>(starts), benchmark::Counter::kIsRate);
  state.counters["tasks/s"] = benchmark::Counter(static_cast<double>(tasks), benchmark::Counter::kIsRate);
  state.counters["jobs_started"] =
      benchmark::Counter(static_cast<double>(starts) / static_cast<double>(state.iterations()));
  // Per pass: first touches of fresh memory (the pass's new attempts, tasks
  // and decisions) and the kernel time they take.
  state.counters["page_faults"] = static_cast<double>(faults) / static_cast<double>(state.iterations());
  state.counters["system_ms"] = system * 1e3 / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Engine_Fill)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Engine_SteadyExit(benchmark::State& state) {
  World world;
  AddCluster(*world.engine, 10'000);
  world.Submit(130'000);
  SchedulingRound round;
  if (!world.engine->Tick(&round).ok()) std::abort();
  struct Running {
    JobId job;
    FencingToken token;
    std::uint32_t tasks;
  };
  std::deque<Running> running;
  auto track = [&](const SchedulingRound& r) {
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart) running.push_back({d.job, d.token, d.placement_count});
  };
  track(round);
  std::int64_t starts = 0;
  for (auto _ : state) {
    const Running victim = running.front();
    running.pop_front();
    for (std::uint32_t t = 0; t < victim.tasks; ++t) {
      if (!world.engine->TaskExited({.job = victim.job, .token = victim.token, .task = static_cast<int>(t)}).ok())
        std::abort();
    }
    if (!world.engine->Tick(&round).ok()) std::abort();
    starts += static_cast<std::int64_t>(round.decisions.size());
    track(round);
  }
  state.counters["pending_after"] = static_cast<double>(world.engine->GetQueueDepth().total);
  state.counters["starts/exit"] = static_cast<double>(starts) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Engine_SteadyExit)->Unit(benchmark::kMicrosecond)->Iterations(20'000);

void BM_Engine_PendingMemory(benchmark::State& state) {
  double per_job = 0;
  for (auto _ : state) {
    World world;
    AddCluster(*world.engine, 100);
    const std::size_t before = bench::HeapInUse();
    world.Submit(100'000);
    const std::size_t after = bench::HeapInUse();
    per_job = static_cast<double>(after - before) / 100'000.0;
  }
  state.counters["bytes/pending_job"] = per_job;
}
BENCHMARK(BM_Engine_PendingMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Engine_Submit(benchmark::State& state) {
  World world;
  AddCluster(*world.engine, 100);
  std::vector<JobSpec> specs;
  for (int i = 0; i < 100'000; ++i) specs.push_back(RandomJob(world.rng, i));
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == specs.size()) {
      state.PauseTiming();
      world.engine = Engine::Create({.clock = &world.clock, .seed = 1}).value();
      next = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(world.engine->Submit(specs[next++]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Engine_Submit)->Unit(benchmark::kNanosecond);

// Tick() with nothing to do: what the Python tick() adds its overhead to
// (bench/python_bench.py times the same call from Python).
void BM_Engine_IdleTick(benchmark::State& state) {
  World world;
  AddCluster(*world.engine, 1);
  SchedulingRound round;
  (void)world.engine->Tick(&round);
  for (auto _ : state) benchmark::DoNotOptimize(world.engine->Tick(&round));
}
BENCHMARK(BM_Engine_IdleTick)->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace mlsched


BENCHMARK_MAIN();
