// The main demo: a day of a mixed ML workload on a synthetic GPU cluster.
//
// Cluster: 48 nodes in two blocks — 24 x 8 H100 (one NVLink island each),
// 16 x 8 A100 (two islands of 4), 8 CPU-only nodes.
// Workload (24 simulated hours, diurnal arrivals, four tenants):
//   single-GPU fine-tuning, 2-4 GPU evaluation, 8-GPU training,
//   multi-node gangs (2-4 x 8 H100), CPU data preparation; a few jobs crash
//   and are retried.
// The same workload is replayed under four policy sets, each selected by a
// JSON policy document (policy/config.h): priority with aging; + DRF fair
// share between tenants with guarantees; + EASY backfill; + checkpoint-aware
// preemption. A comparison table comes first, then the details of the last.
//
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
#include "mlsched/policy/config.h"

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

struct Workload {
  std::vector<JobSpec> specs;
  std::vector<Planned> plans;
  std::vector<Timestamp> arrivals;
};

Workload MakeWorkload(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Workload w;
  const char* tenants[] = {"vision", "nlp", "speech"};
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
        s.constraints.topology = {.level = 1};  // prefer one rack
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
    s.name += "-" + std::to_string(w.specs.size());
    s.retry.max_attempts = 3;
    runtime = std::max<Duration>(runtime, kMinute);
    s.time_limit = 2 * runtime;  // users ask for twice what they need
    w.specs.push_back(std::move(s));
    w.plans.push_back({kind, runtime, rng() % 25 == 0});
    w.arrivals.push_back(t);
  }
  return w;
}

struct Row {
  int jobs = 0, succeeded = 0, retried = 0;
  std::vector<double> waits_min;
  double gpu_hours = 0;
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

struct Outcome {
  std::string name;
  int succeeded = 0, jobs = 0;
  std::vector<double> waits, gang_waits;
  double utilisation = 0, makespan_h = 0;
  EngineCounters counters;
};

// Replays the workload under one policy document; prints details if asked.
Outcome Run(const Workload& w, const std::string& name, const std::string& policy_json, std::uint64_t seed,
            bool details) {
  ManualClock clock(kStart);
  ResourceCatalog catalog;
  const PolicyDocument doc = ParsePolicyDocument(policy_json, catalog).value();
  auto engine = Engine::Create({.clock = &clock, .seed = seed, .policies = doc.policies}).value();
  if (!engine->ConfigureTenants(doc.tenants).ok()) std::abort();
  const std::vector<NodeSpec> cluster = MakeCluster();
  for (const NodeSpec& n : cluster) (void)engine->AddNode(n);

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  int seq = 0;
  for (std::size_t i = 0; i < w.arrivals.size(); ++i)
    events.push({w.arrivals[i], seq++, Event::kArrival, static_cast<int>(i)});
  std::vector<RunningTask> slots;
  std::map<std::uint32_t, int> workload_of;  // job id -> workload index
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<int>> slots_of;  // (job, attempt) -> slots
  std::map<std::uint32_t, Duration> saved_work;    // job -> work kept in its last checkpoint
  std::map<std::uint32_t, Timestamp> started_at;   // job -> start of its current attempt
  SchedulingRound round;
  std::int64_t tick_ns = 0, ticks = 0, gpu_us_busy = 0, busy_gpus = 0;
  Timestamp last = kStart;
  std::vector<std::pair<std::string, std::string>> explanations;
  Fragmentation frag_at_15;
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
        workload_of[engine->Submit(w.specs[e.index]).value().value()] = e.index;
      } else {
        const RunningTask& rt = slots[e.index];
        (void)engine->TaskExited({.job = rt.job, .token = rt.token, .task = rt.task, .exit_code = rt.exit_code});
      }
    }
    if (engine->NextWakeup() <= clock.Now()) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!engine->Tick(&round).ok()) std::abort();
      tick_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
      ++ticks;
      for (const Decision& d : round.decisions) {
        if (d.kind == DecisionKind::kStart) {
          const Planned& plan = w.plans[workload_of[d.job.value()]];
          const bool crash = plan.crashes_first && d.token.attempt == 1;
          started_at[d.job.value()] = clock.Now();
          // A job preempted earlier resumes from its checkpoint.
          const Duration remaining = std::max<Duration>(kMinute, plan.runtime - saved_work[d.job.value()]);
          for (const TaskPlacement& p : round.PlacementsOf(d)) {
            (void)engine->TaskStarted({.job = d.job, .token = d.token, .task = static_cast<int>(p.task)});
            slots.push_back({d.job, d.token, static_cast<int>(p.task), crash && p.task == 0 ? 1 : 0});
            slots_of[{d.job.value(), d.token.attempt}].push_back(static_cast<int>(slots.size() - 1));
            const Duration run = crash ? remaining / 2 : remaining;
            events.push({clock.Now() + run, seq++, Event::kTaskEnd, static_cast<int>(slots.size() - 1)});
          }
        } else if (d.kind == DecisionKind::kSignalCheckpoint) {
          // The victim writes a checkpoint at once: its work so far is kept.
          (void)engine->CheckpointReported({.job = d.job, .token = d.token, .step = 1});
          saved_work[d.job.value()] += clock.Now() - started_at[d.job.value()];
        } else if (d.kind == DecisionKind::kKill) {
          // Killed tasks end now (SIGTERM honoured at once).
          for (int slot : slots_of[{d.job.value(), d.token.attempt}])
            events.push({clock.Now(), seq++, Event::kTaskEnd, slot});
        }
      }
    }
    busy_gpus = engine->GetUtilization().allocated.gpus();
    if (!explained && clock.Now() >= kStart + 15 * kHour) {
      explained = true;
      frag_at_15 = engine->GetFragmentation();
      for (JobId id : engine->ListJobs({.state = JobState::kQueued})) {
        if (explanations.size() >= 4) break;
        explanations.emplace_back(engine->GetSpec(id)->name, engine->Explain(id).value().reason);
      }
    }
  }

  const Utilization u = engine->GetUtilization();
  Outcome out{.name = name, .counters = engine->counters()};
  std::map<std::string, Row> by_kind, by_tenant;
  Timestamp makespan = kStart;
  for (JobId id : engine->ListJobs({})) {
    const JobStatus st = engine->GetJob(id).value();
    const int wi = workload_of[id.value()];
    ++out.jobs;
    out.succeeded += st.state == JobState::kSucceeded;
    Row& k = by_kind[KindName(w.plans[wi].kind)];
    Row& tn = by_tenant[st.tenant];
    if (!st.attempts.empty()) {
      const double wait = static_cast<double>(st.attempts[0].start - st.submit_time) / kMinute;
      out.waits.push_back(wait);
      if (w.plans[wi].kind == Kind::kGang) out.gang_waits.push_back(wait);
    }
    for (Row* row : {&k, &tn}) {
      row->jobs++;
      row->succeeded += st.state == JobState::kSucceeded;
      row->retried += st.attempts.size() > 1;
      if (!st.attempts.empty())
        row->waits_min.push_back(static_cast<double>(st.attempts[0].start - st.submit_time) / kMinute);
      for (const AttemptInfo& a : st.attempts)
        row->gpu_hours += static_cast<double>(w.specs[wi].total_request().gpus()) *
                          static_cast<double>((a.end ? a.end : clock.Now()) - a.start) / kHour;
    }
    makespan = std::max(makespan, st.end_time);
  }
  out.makespan_h = static_cast<double>(makespan - kStart) / kHour;
  out.utilisation = 100.0 * static_cast<double>(gpu_us_busy) / (static_cast<double>(u.total.gpus()) * (makespan - kStart));
  if (!details) return out;

  std::printf("\nDetails for %s\n\n", name.c_str());
  auto table = [&](const char* title, const std::map<std::string, Row>& rows) {
    std::printf("%-22s %6s %9s %8s %11s %11s %10s\n", title, "jobs", "succeeded", "retried", "wait p50", "wait p95",
                "GPU-hours");
    for (const auto& [row_name, row] : rows) {
      std::printf("%-22s %6d %9d %8d %9.1f m %9.1f m %10.1f\n", row_name.c_str(), row.jobs, row.succeeded, row.retried,
                  Pct(row.waits_min, 0.5), Pct(row.waits_min, 0.95), row.gpu_hours);
    }
    std::printf("\n");
  };
  table("job type", by_kind);
  table("tenant", by_tenant);
  std::printf("at 15:00: %lld free GPUs, %lld of them on partly used nodes; largest gang that could start: "
              "%lld x 8 GPUs or %lld single GPUs\n",
              static_cast<long long>(frag_at_15.free_gpus), static_cast<long long>(frag_at_15.free_gpus_on_partial_nodes),
              static_cast<long long>(frag_at_15.largest_gang_in_8gpu_nodes),
              static_cast<long long>(frag_at_15.largest_gang_in_single_gpus));
  if (!explanations.empty()) {
    std::printf("why jobs waited at 15:00:\n");
    for (const auto& [job, reason] : explanations) std::printf("  %-14s %s\n", job.c_str(), reason.c_str());
  }
  const EngineCounters& c = out.counters;
  std::printf("\nengine: %lld passes, %lld starts, %lld kills, %lld reservations, %lld preemptions, "
              "%lld placement attempts, %lld jobs skipped by class; %.1f us per Tick on average\n",
              static_cast<long long>(c.passes), static_cast<long long>(c.starts), static_cast<long long>(c.kills),
              static_cast<long long>(c.reservations), static_cast<long long>(c.preemptions),
              static_cast<long long>(c.placement_attempts), static_cast<long long>(c.skipped_by_class),
              ticks ? static_cast<double>(tick_ns) / 1000.0 / static_cast<double>(ticks) : 0.0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2026;
  const Workload w = MakeWorkload(seed);
  const std::string tenants = R"("tenants": [
      {"name": "research", "weight": 3, "guarantee": "gpu=256"},
      {"name": "vision", "parent": "research", "guarantee": "gpu=96", "lending_limit": "gpu=64"},
      {"name": "nlp", "parent": "research", "guarantee": "gpu=96"},
      {"name": "speech", "parent": "research", "guarantee": "gpu=64", "borrowing_limit": "gpu=128"},
      {"name": "platform", "guarantee": "cpu=1536"}])";
  const std::vector<std::pair<std::string, std::string>> policy_sets = {
      {"priority+aging", R"({"ordering": "priority", "placement": "best-fit"})"},
      {"DRF", R"({"fair_share": {"usage_half_life": "1h"}, )" + tenants + "}"},
      {"DRF+EASY", R"({"fair_share": {"usage_half_life": "1h"}, "backfill": {"reservation_depth": "easy"}, )" + tenants + "}"},
      {"DRF+EASY+preemption", R"({"fair_share": {"usage_half_life": "1h"}, "backfill": {"reservation_depth": "easy"},
          "preemption": {"grace": "2m", "min_runtime": "10m"}, )" + tenants + "}"},
  };

  std::printf("mlsched demo: one simulated day of a mixed ML workload (seed %llu)\n\n",
              static_cast<unsigned long long>(seed));
  std::printf("cluster: 48 nodes, 320 GPUs (192 x H100-80GB in 3 racks, 128 x A100-80GB in 2), 8 CPU nodes\n");
  std::printf("workload: %zu jobs over 24 h: fine-tuning, evaluation (preemptible), 8-GPU training, "
              "2-4 node gangs, CPU data prep;\n          tenants research/{vision,nlp,speech} and platform, "
              "with guarantees\n\n",
              w.specs.size());
  std::vector<Outcome> outcomes;
  for (std::size_t i = 0; i < policy_sets.size(); ++i)
    outcomes.push_back(Run(w, policy_sets[i].first, policy_sets[i].second, seed, false));
  std::printf("%-22s %9s %11s %11s %13s %9s %9s %11s %9s\n", "policies", "succeeded", "wait mean", "wait p95",
              "gang wait p95", "GPU util", "makespan", "preemptions", "GPU-h lost");
  for (const Outcome& o : outcomes) {
    double mean = 0;
    for (double x : o.waits) mean += x;
    mean /= std::max<std::size_t>(1, o.waits.size());
    std::printf("%-22s %5d/%-3d %9.1f m %9.1f m %11.1f m %8.1f%% %7.1f h %11lld %9.1f\n", o.name.c_str(), o.succeeded,
                o.jobs, mean, Pct(o.waits, 0.95), Pct(o.gang_waits, 0.95), o.utilisation, o.makespan_h,
                static_cast<long long>(o.counters.preemptions), o.counters.gpu_hours_lost_to_preemption);
  }
  Run(w, policy_sets.back().first, policy_sets.back().second, seed, true);
  return 0;
}
