// Philly (Gavel) reader: durations from the throughput table, scale factors
// it lacks, the cluster spec, tasks per node, tenants per virtual cluster,
// drops, errors; and a replay where shortest-first beats FIFO.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "mlsched/sim/simulator.h"
#include "mlsched/sim/trace.h"
#include "status_matchers.h"
#include "test_support.h"

namespace mlsched::sim {
namespace {

using testing_util::FailsWithMessage;

constexpr std::string_view kTable =
    "gpu_type,job_type,scale_factor,steps_per_sec\n"
    "v100,ResNet-50 (batch size 64),1,4.0\n"
    "v100,ResNet-50 (batch size 64),2,8.0\n"
    "v100,ResNet-50 (batch size 64),8,20.0\n"
    "v100,A3C,1,5.0\n"
    "v100,Big,1,0.0\n"  // does not run on a V100
    "k80,A3C,1,2.5\n";
constexpr std::string_view kCluster = R"({"philly": ["20:0:8"]})";

// Fields: job_type, command, num_steps_arg, needs_data_dir, total_steps, arrival_time_s, scale_factor.
std::string Line(std::string_view type, std::int64_t steps, std::string_view arrival, int scale) {
  return fmt::format("{}\tpython3 train.py\t-step\t1\t{}\t{}\t{}\n", type, steps, arrival, scale);
}

// A directory holding the given files.
std::string Dir(const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir = testing_util::TestDir() + "/philly";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [name, text] : files) std::ofstream(dir + "/" + name) << text;
  return dir;
}

std::string Standard() {
  return Dir({{"vc-a.trace", Line("ResNet-50 (batch size 64)", 4000, "30.5", 1) +  // line 1: 1000 s
                                 Line("A3C", 500, "0.000000", 1)},                  // line 2: 100 s
              {"vc-b.trace", Line("ResNet-50 (batch size 64)", 2000, "10", 12)},    // line 1: 8 + 4 GPUs
              {"isolated_throughputs.csv", std::string(kTable)},
              {"cluster_specs.json", std::string(kCluster)},
              {"README.txt", "not a trace"}});
}

TEST(PhillyReader, DurationsTenantsAndTasksPerNode) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ReadPhillyGavel(Standard(), {}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "philly");
  ASSERT_EQ(w->jobs.size(), 3u);
  EXPECT_EQ(stats.jobs, 3);
  EXPECT_EQ(stats.lines, 3);
  // By arrival: vc-a line 2, vc-b line 1, vc-a line 1.
  const TraceJob& a3c = w->jobs[0];
  EXPECT_EQ(a3c.spec.name, "vc-a-2");
  EXPECT_EQ(a3c.spec.tenant, "vc-a");
  EXPECT_EQ(a3c.spec.user, "vc-a");
  EXPECT_EQ(a3c.submit, 0);
  EXPECT_EQ(a3c.runtime, 100 * kSecond);  // 500 steps at 5 a second
  EXPECT_EQ(a3c.spec.time_limit, a3c.runtime);
  EXPECT_EQ(a3c.trace_id, 2);
  ASSERT_EQ(a3c.spec.task_groups.size(), 1u);
  EXPECT_EQ(a3c.spec.task_groups[0].count, 1);
  EXPECT_EQ(a3c.spec.task_groups[0].per_task, ResourceVector::Of(0, 0, 1));
  EXPECT_TRUE(a3c.spec.Validate().ok());

  // 12 GPUs: a whole node and a task of the other 4; the table stops at 8,
  // so the speed at 8 is scaled by 12 / 8: 2000 / 30 s.
  const TraceJob& gang = w->jobs[1];
  EXPECT_EQ(gang.spec.tenant, "vc-b");
  EXPECT_EQ(gang.submit, 10 * kSecond);
  EXPECT_EQ(gang.trace_id, 1'000'001);
  EXPECT_EQ(gang.runtime, std::llround(2000.0 / 30.0 * kSecond));
  ASSERT_EQ(gang.spec.task_groups.size(), 2u);
  EXPECT_EQ(gang.spec.task_groups[0].count, 1);
  EXPECT_EQ(gang.spec.task_groups[0].per_task.gpus(), 8);
  EXPECT_EQ(gang.spec.task_groups[1].count, 1);
  EXPECT_EQ(gang.spec.task_groups[1].per_task.gpus(), 4);
  EXPECT_TRUE(gang.spec.Validate().ok());

  const TraceJob& resnet = w->jobs[2];
  EXPECT_EQ(resnet.submit, 30 * kSecond + kSecond / 2);
  EXPECT_EQ(resnet.runtime, 1000 * kSecond);
  EXPECT_EQ(stats.notes, (std::vector<std::string>{
                             "Philly trace: 1 jobs ran at a throughput scaled linearly from a smaller tabulated "
                             "scale factor"}));

  // 20 V100s on nodes of 8: 8, 8 and 4.
  ASSERT_EQ(w->nodes.size(), 3u);
  EXPECT_EQ(w->nodes[0].name, "v100-0");
  EXPECT_EQ(w->nodes[0].gpus.size(), 8u);
  EXPECT_EQ(w->nodes[0].gpu_model(), "V100");
  EXPECT_EQ(w->nodes[2].gpus.size(), 4u);
  for (const NodeSpec& n : w->nodes) EXPECT_TRUE(n.Validate().ok()) << n.name;
}

TEST(PhillyReader, OptionsChooseTheGpuTypeNodeSizeLimitsAndUnknownScales) {
  const std::string dir = Standard();
  {
    ReadStats stats;
    absl::StatusOr<Workload> w =
        ReadPhillyGavel(dir, {.philly_unknown_scale = ReadOptions::UnknownScale::kSkip}, &stats);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->jobs.size(), 2u);
    EXPECT_EQ(stats.skipped, 1);
    EXPECT_EQ(stats.notes[0],
              dir + "/vc-b.trace:1: ResNet-50 (batch size 64) job of 12 GPUs: no throughput at its scale factor; "
                    "skipped");
  }
  {
    absl::StatusOr<Workload> w = ReadPhillyGavel(dir, {.philly_gpus_per_node = 4, .philly_time_limits = false});
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->nodes.size(), 5u);
    const TraceJob& gang = w->jobs[1];
    ASSERT_EQ(gang.spec.task_groups.size(), 1u);
    EXPECT_EQ(gang.spec.task_groups[0].count, 3);
    EXPECT_EQ(gang.spec.task_groups[0].per_task.gpus(), 4);
    for (const TraceJob& j : w->jobs) EXPECT_EQ(j.spec.time_limit, 0);
  }
  {
    // On K80s only A3C runs: the other job types are malformed lines there.
    ReadStats stats;
    absl::StatusOr<Workload> w = ReadPhillyGavel(dir, {.lenient = true, .philly_gpu_type = "k80"}, &stats);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_EQ(w->jobs.size(), 1u);
    EXPECT_EQ(w->jobs[0].runtime, 200 * kSecond);
    EXPECT_EQ(w->nodes.size(), 1u);
    EXPECT_EQ(w->nodes[0].gpu_model(), "K80");
    EXPECT_EQ(stats.skipped, 2);
  }
  EXPECT_TRUE(FailsWithMessage(ReadPhillyGavel(dir, {.philly_gpus_per_node = 0}).status(),
                               "ReadOptions::philly_gpus_per_node = 0: must be in [1, 64]"));
  EXPECT_TRUE(FailsWithMessage(
      ReadPhillyGavel(dir, {.philly_gpu_type = "a100"}).status(),
      "isolated_throughputs.csv: no throughput for GPU type \"a100\" (ReadOptions::philly_gpu_type)"));
  absl::StatusOr<Workload> some = ReadPhillyGavel(dir, {.max_jobs = 2});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->jobs.size(), 2u);  // vc-a's two, in file order
}

TEST(PhillyReader, AJobTypeThatDoesNotRunOnTheGpuIsDropped) {
  ReadStats stats;
  absl::StatusOr<Workload> w =
      ReadPhillyGavel(Dir({{"vc.trace", Line("Big", 10, "0", 1) + Line("A3C", 10, "1", 1)},
                           {"isolated_throughputs.csv", std::string(kTable)}}),
                      {}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs.size(), 1u);
  EXPECT_TRUE(w->nodes.empty());  // no cluster spec
  EXPECT_EQ(stats.skipped, 1);
}

TEST(PhillyReader, MalformedLinesSayWhereAndWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"A3C\tpython3\t-step\t1\t10\t0\n", "6 tab-separated fields; Philly (Gavel) trace lines have 7"},
      {Line("A3C", 0, "0", 1), "field 5 (total_steps) = \"0\": not a step count in [1, 2^50]"},
      {Line("A3C", 10, "-5", 1), "field 6 (arrival_time_s) = \"-5\": negative"},
      {Line("A3C", 10, "soon", 1), "field 6 (arrival_time_s) = \"soon\": not a number of seconds"},
      {Line("A3C", 10, "0", 0), "field 7 (scale_factor) = \"0\": not a GPU count in [1, 1048576]"},
      {Line("Chess", 10, "0", 1),
       "field 1 (job_type) = \"Chess\": no throughput for it on v100 in isolated_throughputs.csv"},
  };
  for (const auto& [line, why] : cases) {
    SCOPED_TRACE(why);
    const std::string dir =
        Dir({{"vc.trace", Line("A3C", 10, "0", 1) + line}, {"isolated_throughputs.csv", std::string(kTable)}});
    EXPECT_TRUE(FailsWithMessage(ReadPhillyGavel(dir).status(), dir + "/vc.trace:2: " + why));
    ReadStats stats;
    absl::StatusOr<Workload> w = ReadPhillyGavel(dir, {.lenient = true}, &stats);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->jobs.size(), 1u);
    EXPECT_EQ(stats.skipped, 1);
  }
}

TEST(PhillyReader, TheTableAndTheClusterSpecAreReadStrictly) {
  auto with = [](std::string table, std::string cluster) {
    std::vector<std::pair<std::string, std::string>> files = {{"vc.trace", Line("A3C", 10, "0", 1)},
                                                              {"isolated_throughputs.csv", std::move(table)}};
    if (!cluster.empty()) files.push_back({"cluster_specs.json", std::move(cluster)});
    return ReadPhillyGavel(Dir(files), {.lenient = true}).status();
  };
  const std::string header = "gpu_type,job_type,scale_factor,steps_per_sec\n";
  EXPECT_TRUE(FailsWithMessage(with("gpu_type,job_type,steps_per_sec\nv100,A3C,5\n", ""),
                               "isolated_throughputs.csv:1: missing column \"scale_factor\" (header: "
                               "gpu_type,job_type,steps_per_sec)"));
  EXPECT_TRUE(FailsWithMessage(with(header + "v100,A3C,1,-2\n", ""),
                               "isolated_throughputs.csv:2: column 4 (steps_per_sec) = \"-2\": not a number >= 0"));
  EXPECT_TRUE(FailsWithMessage(with(header + "v100,A3C,1,2\nv100,A3C,1,3\n", ""),
                               "isolated_throughputs.csv:3: v100 \"A3C\" at scale factor 1: listed twice"));
  EXPECT_TRUE(FailsWithMessage(with(header + "v100,A3C,1\n", ""),
                               "isolated_throughputs.csv:2: 3 cells; the header has 4"));
  EXPECT_TRUE(FailsWithMessage(with("", ""), "isolated_throughputs.csv: empty (no header)"));
  const std::string table = header + "v100,A3C,1,5\n";
  EXPECT_TRUE(FailsWithMessage(with(table, R"({"philly": ["20:0"]})"),
                               "cluster_specs.json:1:13: \"philly\": \"20:0\": expected three GPU counts, "
                               "v100:p100:k80"));
  EXPECT_TRUE(FailsWithMessage(with(table, R"({"philly": ["0:4:4"]})"),
                               "cluster_specs.json:1:13: \"philly\": \"0:4:4\": no v100 GPUs "
                               "(ReadOptions::philly_gpu_type)"));
  EXPECT_TRUE(FailsWithMessage(with(table, R"(["20:0:0"])"),
                               "cluster_specs.json:1:1: expected an object naming a cluster, as {\"philly\": "
                               "[\"500:0:0\"]}"));
  EXPECT_FALSE(with(table, R"({"philly": [)").ok());  // not JSON
}

TEST(PhillyReader, MissingFilesAndEmptyTraces) {
  const std::string missing = testing_util::TestDir() + "/nowhere";
  EXPECT_EQ(ReadPhillyGavel(missing).status().code(), absl::StatusCode::kNotFound);
  const std::string no_traces = Dir({{"isolated_throughputs.csv", std::string(kTable)}});
  EXPECT_TRUE(FailsWithMessage(ReadPhillyGavel(no_traces).status(), "\"" + no_traces + "\": no .trace files"));
  const std::string no_table = Dir({{"vc.trace", Line("A3C", 10, "0", 1)}});
  EXPECT_EQ(ReadPhillyGavel(no_table).status().code(), absl::StatusCode::kNotFound);
  const std::string empty = Dir({{"vc.trace", ""}, {"isolated_throughputs.csv", std::string(kTable)}});
  EXPECT_TRUE(FailsWithMessage(ReadPhillyGavel(empty).status(), empty + "/vc.trace: no jobs"));
}

// The jobs carry their durations as time limits, so shortest-first can use
// them: one GPU, busy when a long job and then four short ones arrive. FIFO
// runs the long one next; shortest-first runs the short ones first.
TEST(PhillyReader, ShortestFirstCutsMeanCompletionTimeOnTheReplay) {
  std::string trace = Line("A3C", 500, "0", 1) + Line("A3C", 50'000, "1", 1);  // 100 s, then 10,000 s
  for (int i = 2; i <= 5; ++i) trace += Line("A3C", 500, fmt::format("{}", i), 1);  // 100 s each
  absl::StatusOr<Workload> w = ReadPhillyGavel(Dir({{"vc.trace", trace},
                                                    {"isolated_throughputs.csv", std::string(kTable)},
                                                    {"cluster_specs.json", R"({"one": ["1:0:0"]})"}}));
  ASSERT_TRUE(w.ok()) << w.status();
  auto mean_jct = [&](const std::string& policies) {
    absl::StatusOr<Report> r = Simulate(*w, {.name = policies, .policies = NamedPolicySet(policies).value()});
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->succeeded, 6);
    return r->jct.mean;
  };
  const double fifo = mean_jct("fifo"), sjf = mean_jct("sjf");
  EXPECT_LT(sjf, 0.5 * fifo);
  absl::StatusOr<Workload> no_limits = ReadPhillyGavel(Dir({{"vc.trace", trace},
                                                            {"isolated_throughputs.csv", std::string(kTable)},
                                                            {"cluster_specs.json", R"({"one": ["1:0:0"]})"}}),
                                                       {.philly_time_limits = false});
  ASSERT_TRUE(no_limits.ok());
  absl::StatusOr<Report> blind =
      Simulate(*no_limits, {.name = "sjf", .policies = NamedPolicySet("sjf").value()});
  ASSERT_TRUE(blind.ok());
  EXPECT_DOUBLE_EQ(blind->jct.mean, fifo);  // without limits shortest-first has nothing to go by
}

}  // namespace
}  // namespace mlsched::sim
