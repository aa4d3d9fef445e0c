// Simulator benchmarks (issue targets, one thread, Release):
//   BM_Sim_SwfEasy   a 200,000-job processor-count workload shaped like the
//                    HPC2N log (240 processors; power-of-two sizes; heavy-
//                    tailed run times; requested times 1-10x the run time,
//                    rounded up as users round them, see HpcLike; about 75%
//                    offered load) replayed under EASY backfill:
//                    >= 1,000,000 jobs/s (<= 0.2 s).
//   BM_Sim_SwfEasyExactEstimates  the same with every requested time exact
//                    to the microsecond: no two jobs share an estimate (the
//                    worst case for job classes, which group by estimate).
//   BM_Sim_SwfFcfs   the same as BM_Sim_SwfEasy under strict FCFS.
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

// Users type round requested times: in the KTH SP2 log (27,992 jobs) 270
// distinct values occur, and the 15 commonest (4 h, 5 min, 10 min, 1 min,
// 1 h, ...) cover 70% of the jobs. With `round_estimates`, 80% of the jobs
// round their estimate up to the next of these common values and the rest
// to the next whole minute (about 1,800 values over the run times here).
constexpr Duration kCommonEstimates[] = {
    kMinute,     2 * kMinute,  5 * kMinute,  10 * kMinute, 15 * kMinute, 20 * kMinute, 30 * kMinute, 45 * kMinute,
    kHour,       90 * kMinute, 2 * kHour,    3 * kHour,    4 * kHour,    5 * kHour,    6 * kHour,    8 * kHour,
    10 * kHour,  12 * kHour,   15 * kHour,   18 * kHour,   24 * kHour,   36 * kHour,   48 * kHour};

Duration RoundEstimate(Duration exact, bool to_common) {
  if (to_common) {
    for (Duration d : kCommonEstimates)
      if (d >= exact) return d;
  }
  return (exact + kMinute - 1) / kMinute * kMinute;
}

Workload HpcLike(int jobs, int procs, std::uint64_t seed, bool round_estimates = true) {
  std::mt19937_64 rng(seed), round_rng(seed + 1);
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  Workload w{.name = "hpc-like"};
  w.nodes.push_back({.name = "machine", .capacity = ResourceVector::Of(procs * 1000LL, std::int64_t{1} << 50, 0)});
  Timestamp t = 0;
  for (int i = 0; i < jobs; ++i) {
    const int size = std::min(procs, 1 << static_cast<int>(uniform() * uniform() * 8));  // mostly small
    const double run_s = std::exp(3 + 6 * uniform());  // 20 s .. 3 h, log-uniform
    const Duration runtime = static_cast<Duration>(run_s * kSecond);
    Duration requested = static_cast<Duration>(run_s * (1 + 9 * uniform() * uniform()) * kSecond) + kSecond;
    // A stream of its own: both variants see the same jobs (and the exact one
    // the workload this benchmark had before rounding).
    if (round_estimates) requested = RoundEstimate(requested, (round_rng() >> 11) * 0x1.0p-53 < 0.8);
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

void Replay(benchmark::State& state, const char* policy, bool round_estimates = true) {
  const Workload w = HpcLike(static_cast<int>(state.range(0)), 240, 42, round_estimates);
  SimOptions o{.name = policy, .policies = NamedPolicySet(policy).value(), .retry = {.max_attempts = 1},
               .keep_job_results = false};
  double utilization = 0, wait = 0, passes = 0;
  // Heap held at the end of the run (engine, simulator and report), per job.
  std::size_t baseline = 0, at_end = 0;
  std::int64_t faults = 0;
  double system = 0;
  o.progress = [&](double f) {
    if (f == 1.0) at_end = bench::HeapInUse();
  };
  for (auto _ : state) {
    baseline = bench::HeapInUse();
    faults -= bench::MinorFaults();
    system -= bench::SystemSeconds();
    const Report r = Simulate(w, o).value();
    faults += bench::MinorFaults();
    system += bench::SystemSeconds();
    utilization = r.cpu_utilization;
    wait = r.wait.mean;
    passes = static_cast<double>(r.passes);
  }
  state.counters["heap_bytes_per_job"] =
      static_cast<double>(at_end - baseline) / static_cast<double>(w.jobs.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.jobs.size()));
  state.counters["utilization"] = utilization;
  state.counters["mean_wait_s"] = wait;
  state.counters["passes"] = passes;
  state.counters["page_faults"] = static_cast<double>(faults);
  state.counters["system_s"] = system;
}

void BM_Sim_SwfEasy(benchmark::State& state) { Replay(state, "easy"); }
BENCHMARK(BM_Sim_SwfEasy)->Unit(benchmark::kMillisecond)->Iterations(1)->Arg(200'000)->Arg(5'000);

void BM_Sim_SwfEasyExactEstimates(benchmark::State& state) { Replay(state, "easy", /*round_estimates=*/false); }
BENCHMARK(BM_Sim_SwfEasyExactEstimates)->Unit(benchmark::kMillisecond)->Iterations(1)->Arg(200'000);

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
  std::int64_t faults = 0;
  double system = 0;
  for (auto _ : state) {
    baseline = bench::HeapInUse();
    faults -= bench::MinorFaults();
    system -= bench::SystemSeconds();
    r = Simulate(w, o).value();
    faults += bench::MinorFaults();
    system += bench::SystemSeconds();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.jobs.size()));
  state.counters["heap_bytes_per_job"] = static_cast<double>(at_end - baseline) / static_cast<double>(w.jobs.size());
  state.counters["gpu_utilization"] = r.gpu_utilization;
  state.counters["preemptions"] = static_cast<double>(r.preemptions);
  state.counters["us_per_pass"] = r.us_per_pass;
  state.counters["passes"] = static_cast<double>(r.passes);
  state.counters["page_faults"] = static_cast<double>(faults);
  state.counters["system_s"] = system;
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
