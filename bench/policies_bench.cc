// Policy benchmarks (issue targets; one thread, Release):
// 5,000 nodes x 8 GPUs, 50 tenants (5 organisations x 10 teams with
// guarantees), ~10,000 running and 10,000 pending jobs, DRF + EASY backfill +
// preemption on.
//   BM_Policies_PassAfterSubmit   a full pass (with the reservation) after one
//                                 submission: <= 10 ms
//   BM_Policies_PassAfterExit     the pass after one job's exit: <= 100 us
//   BM_Policies_VictimSearch      a 64-GPU high-priority gang (8 x 8 GPUs)
//                                 arrives in the full cluster: the pass that
//                                 finds its victims: <= 1 ms
#include <benchmark/benchmark.h>

#include <deque>
#include <random>
#include <unordered_map>
#include <vector>

#include "mlsched/engine.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

struct World {
  ManualClock clock{1'700'000'000 * kSecond};
  std::unique_ptr<Engine> engine;
  std::mt19937_64 rng{7};
  int submitted = 0;
  struct Running {
    JobId job;
    FencingToken token;
    std::uint32_t tasks;
  };
  std::deque<Running> running;  // in start order; may hold attempts killed since
  std::unordered_map<std::uint32_t, Running> live;  // by job
  std::vector<Running> killed;

  // victim_world: every running job is low and preemptible, pending jobs are
  // low too and reclaim is off, so the only victim search is the one measured.
  explicit World(double preemptible_fraction, bool victim_world = false) {
    engine = Engine::Create({.clock = &clock,
                             .seed = 1,
                             .policies = {.fair_share = FairShareOptions{.usage_half_life = kDay},
                                          .backfill = BackfillOptions{.reservation_depth = 1},
                                          .preemption = PreemptionOptions{.reclaim = !victim_world, .max_victims_per_window = victim_world ? 1 << 30 : 32}}})
                 .value();
    std::vector<TenantSpec> tenants;
    for (int o = 0; o < 5; ++o) {
      tenants.push_back({.name = "org-" + std::to_string(o), .guarantee = ResourceVector::Of(0, 0, 6000)});
      for (int t = 0; t < 10; ++t)
        tenants.push_back({.name = "team-" + std::to_string(o) + "-" + std::to_string(t),
                           .parent = "org-" + std::to_string(o),
                           .weight = 1 + t % 3,
                           .guarantee = ResourceVector::Of(0, 0, 600)});
    }
    if (!engine->ConfigureTenants(tenants).ok()) std::abort();
    for (int i = 0; i < 5000; ++i) {
      NodeSpec n{.name = "node-" + std::to_string(i), .capacity = ResourceVector::Of(128'000, 1024 * kGi, 0),
                 .topology = "block-" + std::to_string(i / 1000) + "/rack-" + std::to_string(i / 32)};
      for (int g = 0; g < 8; ++g) n.gpus.push_back({.index = g, .model = "H100", .topology_domain = g / 4});
      if (!engine->AddNode(std::move(n)).ok()) std::abort();
    }
    // Fill: submit until ~10,000 run, then 10,000 more pending.
    fraction_ = preemptible_fraction;
    while (engine->GetUtilization().allocated.gpus() < 39'000) {
      Submit(500, /*low_only=*/true);
      Tick();
    }
    Submit(10'000, victim_world);
    Tick();
  }

  JobSpec RandomJob(bool low_only) {
    static const int kGpus[] = {1, 2, 4, 8};
    static const Duration kLimits[] = {kHour, 2 * kHour, 4 * kHour, 8 * kHour, 24 * kHour};
    const int gpus = kGpus[rng() % 4];
    const int team = static_cast<int>(rng() % 50);
    return JobSpec{.name = "job-" + std::to_string(submitted++),
                   .tenant = "team-" + std::to_string(team / 10) + "-" + std::to_string(team % 10),
                   .user = "u",
                   .priority_class = low_only ? PriorityClass::kLow : static_cast<PriorityClass>(rng() % 2),
                   .task_groups = {{.per_task = ResourceVector::Of(12'000 * gpus, 96 * kGi * gpus, gpus)}},
                   .time_limit = kLimits[rng() % 5],
                   .preemptible = static_cast<double>(rng() % 1000) < fraction_ * 1000};
  }
  void Submit(int n, bool low_only) {
    for (int i = 0; i < n; ++i)
      if (!engine->Submit(RandomJob(low_only)).ok()) std::abort();
  }
  // Starts join `running`; a killed attempt (preempted, past its time limit)
  // is queued to exit, as an executor would report it after the kill.
  const SchedulingRound& Tick() {
    if (!engine->Tick(&round).ok()) std::abort();
    for (const Decision& d : round.decisions) {
      if (d.kind == DecisionKind::kStart) {
        running.push_back({d.job, d.token, d.placement_count});
        live[d.job.value()] = running.back();
      } else if (d.kind == DecisionKind::kKill) {
        if (auto it = live.find(d.job.value()); it != live.end() && it->second.token == d.token) {
          killed.push_back(it->second);
          live.erase(it);
        }
      }
    }
    return round;
  }
  // The pass a benchmark measures: a function of its own, so that
  // `valgrind --tool=callgrind --toggle-collect='*MeasuredTick*'` counts it alone.
  [[gnu::noinline]] const SchedulingRound& MeasuredTick() { return Tick(); }
  void Exit(const Running& r) {
    for (std::uint32_t t = 0; t < r.tasks; ++t)
      (void)engine->TaskExited({.job = r.job, .token = r.token, .task = static_cast<int>(t)});
  }
  // The oldest attempt still running exits.
  void ExitOldest() {
    while (!running.empty()) {
      const Running r = running.front();
      running.pop_front();
      auto it = live.find(r.job.value());
      if (it == live.end() || it->second.token != r.token) continue;  // killed meanwhile
      live.erase(it);
      Exit(r);
      return;
    }
  }
  // Reports the exits of killed attempts and tops the queue back up to
  // `pending` jobs, then lets the engine act on it: the world stays at the
  // benchmark's scenario from one iteration to the next.
  void Replenish(std::int64_t pending) {
    for (const Running& r : killed) Exit(r);
    killed.clear();
    const std::int64_t missing = pending - engine->GetQueueDepth().total;
    if (missing > 0) Submit(static_cast<int>(missing), false);
    Tick();
  }

  double fraction_ = 0;
  SchedulingRound round;
};

World& Shared() {
  static World* world = new World(0.1);
  return *world;
}

void BM_Policies_PassAfterSubmit(benchmark::State& state) {
  World& w = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    w.Submit(1, false);
    w.clock.Advance(kSecond);
    state.ResumeTiming();
    w.Tick();
  }
  state.counters["running"] = static_cast<double>(w.engine->GetUtilization().running_jobs);
  state.counters["pending"] = static_cast<double>(w.engine->GetQueueDepth().total);
  state.counters["reservations"] = static_cast<double>(w.engine->counters().reservations);
}
BENCHMARK(BM_Policies_PassAfterSubmit)->Unit(benchmark::kMicrosecond)->Iterations(200);

void BM_Policies_PassAfterExit(benchmark::State& state) {
  World& w = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    w.Replenish(10'000);
    state.ResumeTiming();
    w.clock.Advance(kSecond);
    w.ExitOldest();
    w.MeasuredTick();
  }
  state.counters["running"] = static_cast<double>(w.engine->GetUtilization().running_jobs);
  state.counters["pending"] = static_cast<double>(w.engine->GetQueueDepth().total);
  state.counters["preemptions"] = static_cast<double>(w.engine->counters().preemptions);
}
BENCHMARK(BM_Policies_PassAfterExit)->Unit(benchmark::kMicrosecond)->Iterations(2000);

void BM_Policies_VictimSearch(benchmark::State& state) {
  // Every low job may be evicted; enough searches per pass that the gang,
  // wherever it is in fair-share order, gets one.
  static World* world = new World(1.0, true);
  World& w = *world;
  w.clock.Advance(kHour);  // past the minimum runtime
  std::int64_t signals = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const JobId gang = w.engine
                           ->Submit({.name = "gang", .tenant = "team-0-0", .user = "u",
                                     .priority_class = PriorityClass::kHigh,
                                     .task_groups = {{.count = 8, .per_task = ResourceVector::Of(96'000, 768 * kGi, 8)}},
                                     .time_limit = kHour})
                           .value();
    state.ResumeTiming();
    const SchedulingRound& r = w.Tick();
    state.PauseTiming();
    for (const Decision& d : r.decisions) signals += d.kind == DecisionKind::kSignalCheckpoint;
    (void)w.engine->Cancel(gang);
    state.ResumeTiming();
  }
  state.counters["victims/search"] = static_cast<double>(signals) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Policies_VictimSearch)->Unit(benchmark::kMicrosecond)->Iterations(20);

}  // namespace
}  // namespace mlsched
