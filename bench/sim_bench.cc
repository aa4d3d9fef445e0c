// Simulator benchmarks (issue targets, one thread, Release):
//   BM_Sim_SwfEasy   a 200,000-job processor-count workload shaped like the
//                    HPC2N log (240 processors; power-of-two sizes; heavy-
//                    tailed run times; requested times 1-10x the run time;
//                    about 75% offered load) replayed under EASY backfill:
//                    >= 1,000,000 jobs/s (<= 0.2 s).
//   BM_Sim_SwfFcfs   the same under strict FCFS.
// The workload is generated here (no trace file in the repository); the
// CLI replays real logs: `mlsched-sim --trace <log.swf.gz> --policies easy`.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "heap.h"
#include "mlsched/sim/simulator.h"
#include "mlsched/sim/synthetic.h"

namespace mlsched::sim {
namespace {

Workload HpcLike(int jobs, int procs, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  Workload w{.name = "hpc-like"};
  w.nodes.push_back({.name = "machine", .capacity = ResourceVector::Of(procs * 1000LL, std::int64_t{1} << 50, 0)});
  Timestamp t = 0;
  for (int i = 0; i < jobs; ++i) {
    const int size = std::min(procs, 1 << static_cast<int>(uniform() * uniform() * 8));  // mostly small
    const double run_s = std::exp(3 + 6 * uniform());  // 20 s .. 3 h, log-uniform
    const Duration runtime = static_cast<Duration>(run_s * kSecond);
    const Duration requested = static_cast<Duration>(run_s * (1 + 9 * uniform() * uniform()) * kSecond) + kSecond;
    // Offered load ~75%: mean work per job / (procs * 0.75) between arrivals.
    t += static_cast<Duration>(-std::log(1 - uniform()) * 95 * kSecond);
    w.jobs.push_back({.spec = {.name = "j", .tenant = "u" + std::to_string(rng() % 64), .user = "u",
                               .task_groups = {{.count = 1, .per_task = ResourceVector::Of(size * 1000LL, 1, 0)}},
                               .time_limit = requested},
                      .submit = t,
                      .runtime = runtime,
                      .trace_id = i});
  }
  return w;
}

void Replay(benchmark::State& state, const char* policy) {
  const Workload w = HpcLike(static_cast<int>(state.range(0)), 240, 42);
  SimOptions o{.name = policy, .policies = NamedPolicySet(policy).value(), .retry = {.max_attempts = 1},
               .keep_job_results = false};
  double utilization = 0, wait = 0;
  // Heap held at the end of the run (engine, simulator and report), per job.
  std::size_t baseline = 0, at_end = 0;
  o.progress = [&](double f) {
    if (f == 1.0) at_end = bench::HeapInUse();
  };
  for (auto _ : state) {
    baseline = bench::HeapInUse();
    const Report r = Simulate(w, o).value();
    utilization = r.cpu_utilization;
    wait = r.wait.mean;
  }
  state.counters["heap_bytes_per_job"] =
      static_cast<double>(at_end - baseline) / static_cast<double>(w.jobs.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.jobs.size()));
  state.counters["utilization"] = utilization;
  state.counters["mean_wait_s"] = wait;
}

void BM_Sim_SwfEasy(benchmark::State& state) { Replay(state, "easy"); }
BENCHMARK(BM_Sim_SwfEasy)->Unit(benchmark::kMillisecond)->Iterations(1)->Arg(200'000)->Arg(5'000);

void BM_Sim_SwfFcfs(benchmark::State& state) { Replay(state, "fcfs"); }
BENCHMARK(BM_Sim_SwfFcfs)->Unit(benchmark::kMillisecond)->Iterations(1)->Arg(200'000);

}  // namespace
}  // namespace mlsched::sim

namespace mlsched::sim {
namespace {

// BM_Sim_Synthetic: the synthetic ML workload (state.range(0) jobs on
// state.range(1) nodes x 8 GPUs) under DRF + EASY backfill + preemption.
// Target: 1,000,000 jobs on 10,000 nodes in <= 5 s.
void BM_Sim_Synthetic(benchmark::State& state) {
  const Workload w = Synthetic({.jobs = state.range(0), .seed = 7, .nodes = static_cast<int>(state.range(1)),
                                .cpu_nodes = static_cast<int>(state.range(1) / 16)});
  SimOptions o{.name = "drf-easy-preempt", .policies = NamedPolicySet("drf-easy-preempt").value(),
               .keep_job_results = false};
  std::size_t baseline = 0, at_end = 0;
  o.progress = [&](double f) {
    if (f == 1.0) at_end = bench::HeapInUse();
  };
  Report r;
  for (auto _ : state) {
    baseline = bench::HeapInUse();
    r = Simulate(w, o).value();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.jobs.size()));
  state.counters["heap_bytes_per_job"] = static_cast<double>(at_end - baseline) / static_cast<double>(w.jobs.size());
  state.counters["gpu_utilization"] = r.gpu_utilization;
  state.counters["preemptions"] = static_cast<double>(r.preemptions);
  state.counters["us_per_pass"] = r.us_per_pass;
}
BENCHMARK(BM_Sim_Synthetic)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Args({30'000, 1'000})
    ->Args({100'000, 1'000})
    ->Args({300'000, 3'000})
    ->Args({1'000'000, 10'000});

}  // namespace
}  // namespace mlsched::sim
