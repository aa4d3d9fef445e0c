// The main demo: a day of a mixed ML workload on a synthetic GPU cluster.
//
// Cluster: 48 nodes in two blocks — 24 x 8 H100 (one NVLink island each),
// 16 x 8 A100 (two islands of 4), 8 CPU-only nodes.
// Workload (24 simulated hours, diurnal arrivals, four tenants):
//   single-GPU fine-tuning, 2-4 GPU evaluation, 8-GPU training,
//   multi-node gangs (2-4 x 8 H100), CPU data preparation; a few jobs crash
//   and are retried.
// The host loop here is a small discrete-event driver: it moves a ManualClock
// to the next arrival or task end, feeds events to the engine, ticks it when
// NextWakeup() says so and "runs" each started task for its duration. The
// engine is the real one; only the executor is pretend.
//
// Usage: mlsched_mixed_workload [seed]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <queue>
#include <random>

#include "mlsched/mlsched.h"

using namespace mlsched;

namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;
const Timestamp kStart = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z

enum class Kind { kFinetune, kEval, kTrain8, kGang, kCpuPrep };
const char* KindName(Kind k) {
  switch (k) {
    case Kind::kFinetune: return "fine-tune (1 GPU)";
    case Kind::kEval: return "evaluation (2-4 GPU)";
    case Kind::kTrain8: return "training (8 GPU)";
    case Kind::kGang: return "multi-node gang";
    case Kind::kCpuPrep: return "CPU data prep";
  }
  return "?";
}

struct Planned {
  Kind kind;
  Duration runtime;
  bool crashes_first;  // the first attempt exits 1 half-way
};

struct Event {
  Timestamp at;
  int seq;  // FIFO among equal times: deterministic
  enum { kArrival, kTaskEnd } type;
  int index;  // arrival: workload index; task end: running slot
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct RunningTask {
  JobId job;
  FencingToken token;
  int task;
  int exit_code;
};

std::string GpuUuid(std::size_t node, int gpu) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "GPU-%04zx-%02x", node, gpu);
  return buf;
}

std::vector<NodeSpec> MakeCluster() {
  std::vector<NodeSpec> nodes;
  auto gpu_node = [&](std::string name, std::string model, int islands, std::string topo) {
    NodeSpec n{.name = std::move(name), .capacity = ResourceVector::Of(128'000, 1024 * kGi, 0),
               .labels = {{"pool", "gpu"}}, .topology = std::move(topo)};
    for (int g = 0; g < 8; ++g)
      n.gpus.push_back({.index = g, .uuid = GpuUuid(nodes.size(), g), .model = model,
                        .memory_bytes = 80 * kGi, .topology_domain = g * islands / 8});
    nodes.push_back(std::move(n));
  };
  for (int i = 0; i < 24; ++i)
    gpu_node("h100-" + std::to_string(i), "H100-80GB", 1, "block-a/rack-" + std::to_string(i / 8));
  for (int i = 0; i < 16; ++i)
    gpu_node("a100-" + std::to_string(i), "A100-80GB", 2, "block-b/rack-" + std::to_string(i / 8));
  for (int i = 0; i < 8; ++i)
    nodes.push_back({.name = "cpu-" + std::to_string(i), .capacity = ResourceVector::Of(192'000, 768 * kGi, 0),
                     .labels = {{"pool", "cpu"}}, .topology = "block-b/rack-cpu"});
  return nodes;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2026;
  std::mt19937_64 rng(seed);
  ManualClock clock(kStart);
  auto engine = Engine::Create({.clock = &clock, .seed = seed}).value();

  const std::vector<NodeSpec> cluster = MakeCluster();
  for (const NodeSpec& n : cluster) (void)engine->AddNode(n);

  // --- the workload --------------------------------------------------------
  const char* tenants[] = {"vision", "nlp", "speech", "platform"};
  std::vector<JobSpec> specs;
  std::vector<Planned> plans;
  std::vector<Timestamp> arrivals;
  std::lognormal_distribution<double> minutes(4.0, 1.0);  // heavy-tailed, median ~55 min
  Timestamp t = kStart;
  while (t < kStart + 24 * kHour) {
    // Diurnal: twice as many arrivals at 14:00 as at 02:00.
    const double hour = static_cast<double>((t - kStart) % kDay) / kHour;
    const double rate_per_min = 0.35 * (1.0 + 0.5 * std::sin((hour - 8.0) / 24.0 * 2 * M_PI));
    t += static_cast<Duration>(std::exponential_distribution<double>(rate_per_min)(rng) * kMinute);
    const int r = static_cast<int>(rng() % 100);
    const Kind kind = r < 38 ? Kind::kFinetune : r < 58 ? Kind::kEval : r < 76 ? Kind::kTrain8
                    : r < 84 ? Kind::kGang : Kind::kCpuPrep;
    const std::string tenant = kind == Kind::kCpuPrep ? "platform" : tenants[rng() % 3];
    JobSpec s{.name = "", .tenant = tenant, .user = tenant + "-user" + std::to_string(rng() % 5)};
    Duration runtime = static_cast<Duration>(minutes(rng) * kMinute);
    switch (kind) {
      case Kind::kFinetune:
        s.name = "ft";
        s.task_groups = {{.name = "worker", .per_task = ResourceVector::Of(8'000, 64 * kGi, 1)}};
        break;
      case Kind::kEval: {
        const int gpus = rng() % 2 ? 2 : 4;
        s.name = "eval";
        s.priority_class = PriorityClass::kLow;
        s.preemptible = true;
        s.task_groups = {{.name = "worker", .per_task = ResourceVector::Of(8'000 * gpus, 64 * kGi * gpus, gpus)}};
        runtime /= 2;
        break;
      }
      case Kind::kTrain8:
        s.name = "train";
        s.task_groups = {{.name = "worker", .per_task = ResourceVector::Of(96'000, 900 * kGi, 8)}};
        runtime *= 3;
        break;
      case Kind::kGang:
        s.name = "pretrain";
        s.priority_class = PriorityClass::kHigh;
        s.task_groups = {{.name = "rank", .count = 2 + static_cast<int>(rng() % 3),
                          .per_task = ResourceVector::Of(96'000, 900 * kGi, 8)}};
        s.constraints.gpu_models = {"H100-80GB"};
        runtime *= 4;
        break;
      case Kind::kCpuPrep:
        s.name = "prep";
        s.task_groups = {{.name = "shard", .count = 1 + static_cast<int>(rng() % 4),
                          .per_task = ResourceVector::Of(16'000, 64 * kGi, 0)}};
        s.constraints.node_labels = {{"pool", "cpu"}};
        runtime /= 3;
        break;
    }
    s.name += "-" + std::to_string(specs.size());
    s.retry.max_attempts = 3;
    s.time_limit = 2 * runtime;
    specs.push_back(std::move(s));
    plans.push_back({kind, std::max<Duration>(runtime, kMinute), rng() % 25 == 0});
    arrivals.push_back(t);
  }

  // --- the host loop -------------------------------------------------------
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  int seq = 0;
  for (std::size_t i = 0; i < arrivals.size(); ++i) events.push({arrivals[i], seq++, Event::kArrival, static_cast<int>(i)});
  std::vector<RunningTask> slots;
  std::map<std::uint32_t, int> workload_of;  // job id -> workload index
  SchedulingRound round;
  std::int64_t tick_ns = 0, ticks = 0, gpu_us_busy = 0;
  Timestamp last = kStart;
  std::int64_t busy_gpus = 0;
  std::vector<std::pair<std::string, std::string>> explanations;
  bool explained = false;

  while (!events.empty() || engine->NextWakeup() != kInfiniteFuture) {
    Timestamp next = events.empty() ? kInfiniteFuture : events.top().at;
    next = std::min(next, engine->NextWakeup());
    gpu_us_busy += busy_gpus * (next - last);
    last = next;
    clock.Set(next);
    while (!events.empty() && events.top().at <= next) {
      const Event e = events.top();
      events.pop();
      if (e.type == Event::kArrival) {
        const JobId id = engine->Submit(specs[e.index]).value();
        workload_of[id.value()] = e.index;
      } else {
        const RunningTask& rt = slots[e.index];
        (void)engine->TaskExited({.job = rt.job, .token = rt.token, .task = rt.task, .exit_code = rt.exit_code});
      }
    }
    if (engine->NextWakeup() <= clock.Now()) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!engine->Tick(&round).ok()) return 1;
      tick_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
      ++ticks;
      for (const Decision& d : round.decisions) {
        if (d.kind != DecisionKind::kStart) continue;
        const Planned& plan = plans[workload_of[d.job.value()]];
        const bool crash = plan.crashes_first && d.token.attempt == 1;
        for (const TaskPlacement& p : round.PlacementsOf(d)) {
          (void)engine->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)});
          slots.push_back({d.job, d.token, static_cast<int>(p.task), crash && p.task == 0 ? 1 : 0});
          const Duration run = crash ? plan.runtime / 2 : plan.runtime;
          events.push({clock.Now() + run, seq++, Event::kTaskEnd, static_cast<int>(slots.size() - 1)});
        }
      }
    }
    busy_gpus = engine->GetUtilization().allocated.gpus();
    // Mid-afternoon: ask the engine why some jobs wait.
    if (!explained && clock.Now() >= kStart + 15 * kHour) {
      explained = true;
      for (JobId id : engine->ListJobs({.state = JobState::kQueued})) {
        if (explanations.size() >= 4) break;
        explanations.emplace_back(engine->GetSpec(id)->name, engine->Explain(id).value().reason);
      }
    }
  }

  // --- the summary ---------------------------------------------------------
  const Utilization u = engine->GetUtilization();
  std::printf("mlsched demo: one simulated day of a mixed ML workload (seed %llu)\n\n",
              static_cast<unsigned long long>(seed));
  std::printf("cluster: %zu nodes, %lld GPUs (", cluster.size(), static_cast<long long>(u.total.gpus()));
  for (std::size_t i = 0; i < u.gpus_by_model.size(); ++i)
    std::printf("%s%lld x %s", i ? ", " : "", static_cast<long long>(u.gpus_by_model[i].total),
                u.gpus_by_model[i].model.c_str());
  std::printf("), %lld cores\n", static_cast<long long>(u.total.cpu_millis() / 1000));
  std::printf("workload: %zu jobs over 24 h, 4 tenants, policies %s + %s\n\n", specs.size(), "priority+aging", "best-fit");

  struct Row {
    int jobs = 0, succeeded = 0, retried = 0;
    std::vector<double> waits_min;
    double gpu_hours = 0;
  };
  std::map<std::string, Row> by_kind, by_tenant;
  Timestamp makespan = kStart;
  for (JobId id : engine->ListJobs({})) {
    const JobStatus st = engine->GetJob(id).value();
    const int w = workload_of[id.value()];
    Row& k = by_kind[KindName(plans[w].kind)];
    Row& tn = by_tenant[st.tenant];
    for (Row* row : {&k, &tn}) {
      row->jobs++;
      row->succeeded += st.state == JobState::kSucceeded;
      row->retried += st.attempts.size() > 1;
      if (!st.attempts.empty())
        row->waits_min.push_back(static_cast<double>(st.attempts[0].start - st.submit_time) / kMinute);
      for (const AttemptInfo& a : st.attempts)
        row->gpu_hours += static_cast<double>(specs[w].total_request().gpus()) *
                          static_cast<double>((a.end ? a.end : clock.Now()) - a.start) / kHour;
    }
    makespan = std::max(makespan, st.end_time);
  }
  auto pct = [](std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
  };
  auto table = [&](const char* title, const std::map<std::string, Row>& rows) {
    std::printf("%-22s %6s %9s %8s %11s %11s %10s\n", title, "jobs", "succeeded", "retried", "wait p50", "wait p95",
                "GPU-hours");
    for (const auto& [name, row] : rows) {
      std::printf("%-22s %6d %9d %8d %9.1f m %9.1f m %10.1f\n", name.c_str(), row.jobs, row.succeeded, row.retried,
                  pct(row.waits_min, 0.5), pct(row.waits_min, 0.95), row.gpu_hours);
    }
    std::printf("\n");
  };
  table("job type", by_kind);
  table("tenant", by_tenant);

  const double span_h = static_cast<double>(makespan - kStart) / kHour;
  std::printf("makespan %.1f h; mean GPU utilisation over it %.1f%%\n", span_h,
              100.0 * static_cast<double>(gpu_us_busy) / (static_cast<double>(u.total.gpus()) * (makespan - kStart)));
  if (!explanations.empty()) {
    std::printf("\nwhy jobs waited at 15:00:\n");
    for (const auto& [name, reason] : explanations) std::printf("  %-14s %s\n", name.c_str(), reason.c_str());
  }
  const EngineCounters c = engine->counters();
  std::printf("\nengine: %lld passes, %lld starts, %lld kills, %lld placement attempts, %lld jobs skipped by class;"
              " %.1f us per Tick on average\n",
              static_cast<long long>(c.passes), static_cast<long long>(c.starts), static_cast<long long>(c.kills),
              static_cast<long long>(c.placement_attempts), static_cast<long long>(c.skipped_by_class),
              ticks ? static_cast<double>(tick_ns) / 1000.0 / static_cast<double>(ticks) : 0.0);
  return 0;
}
