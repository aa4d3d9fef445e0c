// Synthetic workloads: determinism, the cluster, the mix of jobs within
// loose bounds, and that every job fits the cluster it comes with.
#include "mlsched/sim/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mlsched/engine.h"

namespace mlsched::sim {
namespace {

bool SameJob(const TraceJob& a, const TraceJob& b) {
  const JobSpec& x = a.spec;
  const JobSpec& y = b.spec;
  return a.submit == b.submit && a.runtime == b.runtime && a.trace_id == b.trace_id &&
         x.name == y.name && x.tenant == y.tenant && x.user == y.user &&
         x.priority_class == y.priority_class && x.preemptible == y.preemptible &&
         x.time_limit == y.time_limit && x.task_groups.size() == y.task_groups.size() &&
         x.task_groups[0].count == y.task_groups[0].count &&
         x.task_groups[0].per_task == y.task_groups[0].per_task &&
         x.constraints.gpu_models == y.constraints.gpu_models &&
         x.constraints.topology.level == y.constraints.topology.level;
}

TEST(Synthetic, SameSeedSameWorkloadOtherSeedOtherWorkload) {
  const Workload a = Synthetic({.jobs = 2'000, .seed = 42});
  const Workload b = Synthetic({.jobs = 2'000, .seed = 42});
  const Workload c = Synthetic({.jobs = 2'000, .seed = 43});
  ASSERT_EQ(a.jobs.size(), 2'000u);
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  int differ = 0;
  for (std::size_t i = 0; i < a.jobs.size(); ++i) {
    EXPECT_TRUE(SameJob(a.jobs[i], b.jobs[i])) << i;
    differ += !SameJob(a.jobs[i], c.jobs[i]);
  }
  EXPECT_GT(differ, 1'900);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (std::size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
  EXPECT_EQ(a.name, "synthetic-seed42");
}

TEST(Synthetic, ArrivalOptionsDoNotChangeTheJobs) {
  const Workload a = Synthetic({.jobs = 500, .seed = 9});
  const Workload b =
      Synthetic({.jobs = 500, .seed = 9, .mean_interarrival = 10 * kSecond, .diurnal = false});
  for (std::size_t i = 0; i < a.jobs.size(); ++i) {
    TraceJob x = a.jobs[i];
    x.submit = b.jobs[i].submit;
    EXPECT_TRUE(SameJob(x, b.jobs[i])) << i;
  }
}

TEST(Synthetic, BuildsTheDescribedCluster) {
  const Workload w = Synthetic({.jobs = 1, .nodes = 70, .cpu_nodes = 3});
  ASSERT_EQ(w.nodes.size(), 73u);
  const NodeSpec& g = w.nodes[0];
  EXPECT_EQ(g.name, "gpu-0");
  EXPECT_EQ(g.capacity, ResourceVector::Of(96'000, std::int64_t{1} << 40, 0));
  ASSERT_EQ(g.gpus.size(), 8u);
  EXPECT_EQ(g.gpu_model(), "A100-80GB");
  EXPECT_EQ(g.topology, "block-0/rack-0");
  EXPECT_EQ(w.nodes[33].topology, "block-0/rack-1");
  EXPECT_EQ(w.nodes[69].topology, "block-0/rack-2");
  EXPECT_EQ(w.nodes[70].name, "cpu-0");
  EXPECT_TRUE(w.nodes[70].gpus.empty());
  EXPECT_EQ(w.nodes[70].topology, "block-0/rack-3");  // a rack of its own
  for (const NodeSpec& n : w.nodes) EXPECT_TRUE(n.Validate().ok()) << n.name;
  EXPECT_EQ(Synthetic({.jobs = 1, .nodes = 300}).nodes[260].topology, "block-2/rack-8");
}

// True when some set of nodes could hold the job on an empty cluster.
bool Fits(const TraceJob& j, const std::vector<NodeSpec>& nodes) {
  const TaskGroup& g = j.spec.task_groups[0];
  std::int64_t hosts = 0;
  for (const NodeSpec& n : nodes) {
    const bool model_ok =
        g.per_task.gpus() == 0 || j.spec.constraints.gpu_models.empty() ||
        std::count(j.spec.constraints.gpu_models.begin(), j.spec.constraints.gpu_models.end(),
                   std::string(n.gpu_model())) > 0;
    ResourceVector capacity = n.capacity;
    capacity.Set(kGpu, static_cast<std::int64_t>(n.gpus.size()));
    if (model_ok && g.per_task.FitsIn(capacity)) hosts += capacity.CopiesThatFit(g.per_task);
  }
  return hosts >= g.count;
}

TEST(Synthetic, EveryJobFitsTheCluster) {
  for (const SyntheticOptions& o :
       {SyntheticOptions{.jobs = 5'000, .seed = 3},
        SyntheticOptions{.jobs = 2'000, .seed = 4, .nodes = 2, .gpus_per_node = 4},
        SyntheticOptions{.jobs = 1'000, .seed = 5, .nodes = 1, .cpu_nodes = 0},
        SyntheticOptions{.jobs = 500, .seed = 6, .nodes = 0, .cpu_nodes = 2}}) {
    const Workload w = Synthetic(o);
    for (const TraceJob& j : w.jobs) {
      ASSERT_TRUE(j.spec.Validate().ok()) << j.spec.Validate();
      ASSERT_TRUE(Fits(j, w.nodes)) << j.spec.name << " (nodes " << o.nodes << ")";
    }
  }
}

TEST(Synthetic, TheEngineAcceptsTheClusterAndTheJobs) {
  const Workload w = Synthetic({.jobs = 300, .seed = 11});
  ManualClock clock;
  auto engine = Engine::Create({.clock = &clock}).value();
  for (const NodeSpec& n : w.nodes) ASSERT_TRUE(engine->AddNode(n).ok()) << n.name;
  for (const TraceJob& j : w.jobs) ASSERT_TRUE(engine->Submit(j.spec).ok()) << j.spec.name;
}

TEST(Synthetic, TheMixIsAsDocumented) {
  const SyntheticOptions o{.jobs = 20'000, .seed = 1};
  const Workload w = Synthetic(o);
  double cpu = 0, gang = 0, gpu_jobs = 0, one_gpu = 0, high = 0, low = 0, exact = 0;
  std::map<std::string, int> tenants;
  double gpu_time = 0;
  Timestamp previous = 0;
  for (const TraceJob& j : w.jobs) {
    const TaskGroup& g = j.spec.task_groups[0];
    cpu += g.per_task.gpus() == 0;
    gang += g.count > 1;
    gpu_jobs += g.per_task.gpus() > 0;
    one_gpu += g.per_task.gpus() == 1 && g.count == 1;
    high += j.spec.priority_class == PriorityClass::kHigh;
    low += j.spec.priority_class == PriorityClass::kLow;
    EXPECT_EQ(j.spec.preemptible, j.spec.priority_class == PriorityClass::kLow);
    exact += j.spec.time_limit == j.runtime;
    ++tenants[j.spec.tenant];
    EXPECT_GE(j.runtime, kMinute);
    EXPECT_LE(j.runtime, o.max_runtime);
    EXPECT_GE(j.spec.time_limit, j.runtime);
    EXPECT_LE(j.spec.time_limit, 5 * j.runtime + 5 * kMinute);
    EXPECT_GE(j.submit, previous);
    previous = j.submit;
    gpu_time += static_cast<double>(g.count * g.per_task.gpus()) * static_cast<double>(j.runtime);
  }
  const double n = static_cast<double>(w.jobs.size());
  EXPECT_NEAR(cpu / n, 0.10, 0.02);
  EXPECT_NEAR(gang / n, 0.05, 0.01);
  EXPECT_NEAR(one_gpu / gpu_jobs, 0.50, 0.04);
  EXPECT_NEAR(high / n, 0.10, 0.02);
  EXPECT_NEAR(low / n, 0.15, 0.02);
  EXPECT_NEAR(exact / n, 0.20, 0.03);
  // Zipf: team-0 is the largest, about twice team-1 and eight times team-7.
  ASSERT_EQ(tenants.size(), 8u);
  EXPECT_NEAR(tenants["team-0"] / static_cast<double>(tenants["team-1"]), 2.0, 0.3);
  EXPECT_NEAR(tenants["team-0"] / static_cast<double>(tenants["team-7"]), 8.0, 2.0);
  // Heavy tail: the mean run time is well above the median.
  std::vector<Duration> runtimes;
  for (const TraceJob& j : w.jobs) runtimes.push_back(j.runtime);
  std::sort(runtimes.begin(), runtimes.end());
  double mean = 0;
  for (Duration r : runtimes) mean += static_cast<double>(r) / n;
  EXPECT_GT(mean, 2.0 * static_cast<double>(runtimes[runtimes.size() / 2]));
  // Offered load: GPU-time over GPUs × span, near the asked 0.85.
  const double load = gpu_time / (64.0 * 8.0 * static_cast<double>(w.jobs.back().submit));
  EXPECT_NEAR(load, 0.85, 0.1);
}

TEST(Synthetic, ArrivalsFollowTheDay) {
  const Workload w = Synthetic({.jobs = 20'000, .seed = 2});
  int afternoon = 0, night = 0;  // 12:00-18:00 and 00:00-06:00
  for (const TraceJob& j : w.jobs) {
    const Duration hour = (j.submit % kDay) / kHour;
    afternoon += hour >= 12 && hour < 18;
    night += hour < 6;
  }
  // Rate ∝ 1 + 0.5 cos(...): the afternoon gets about 2.6 times the night.
  EXPECT_GT(afternoon, 2 * night);
  EXPECT_LT(afternoon, 3 * night);

  const Workload flat = Synthetic({.jobs = 20'000, .seed = 2, .diurnal = false});
  afternoon = night = 0;
  for (const TraceJob& j : flat.jobs) {
    const Duration hour = (j.submit % kDay) / kHour;
    afternoon += hour >= 12 && hour < 18;
    night += hour < 6;
  }
  EXPECT_NEAR(afternoon / static_cast<double>(night), 1.0, 0.15);
}

TEST(Synthetic, GivenMeanInterarrivalIsKept) {
  const Workload w =
      Synthetic({.jobs = 10'000, .seed = 8, .mean_interarrival = 2 * kMinute, .diurnal = false});
  const double mean = static_cast<double>(w.jobs.back().submit) / 10'000.0;
  EXPECT_NEAR(mean / static_cast<double>(2 * kMinute), 1.0, 0.05);
}

}  // namespace
}  // namespace mlsched::sim
