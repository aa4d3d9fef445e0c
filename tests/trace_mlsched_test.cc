// mlsched's own trace files: jobs CSV and JSON Lines, cluster CSV and JSON
// Lines, and ReadTrace's choice of reader.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "mlsched/sim/trace.h"
#include "status_matchers.h"
#include "test_support.h"

namespace mlsched::sim {
namespace {

using testing_util::FailsWithMessage;

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

constexpr std::string_view kJobsCsv =
    "# submit,name,... : a comment line\n"
    "submit,name,tenant,user,class,priority,tasks,cpu,memory,gpu,gpu_model,runtime,time_limit,"
    "preemptible\n"
    "90s,llama-ft,research,ana,high,5,2,16,128Gi,4,H100-80GB|A100-80GB,2h,3h,false\n"
    "0,prep,,,,,,500m,2Gi,,,30,,\n"
    "\n"
    "1.5,\"eval, nightly\",vision,bo,low,0,1,8,64Gi,1,,1h30m,2h,true\n";

constexpr std::string_view kJobsJsonl =
    R"({"submit": "90s", "name": "llama-ft", "tenant": "research", "user": "ana", "class": "high", "priority": 5, "tasks": 2, "cpu": 16, "memory": "128Gi", "gpu": 4, "gpu_model": ["H100-80GB", "A100-80GB"], "runtime": "2h", "time_limit": "3h", "preemptible": false})"
    "\n"
    R"({"submit": 0, "name": "prep", "cpu": "500m", "memory": "2Gi", "runtime": 30, "time_limit": null})"
    "\n\n"
    R"({"submit": 1.5, "name": "eval, nightly", "tenant": "vision", "user": "bo", "class": "low", "cpu": 8, "memory": "64Gi", "gpu": 1, "runtime": "1h30m", "time_limit": "2h", "preemptible": true})"
    "\n";

void ExpectTheThreeJobs(const Workload& w) {
  ASSERT_EQ(w.jobs.size(), 3u);
  EXPECT_TRUE(w.nodes.empty());
  // Sorted: prep (0 s), eval (1.5 s), llama-ft (90 s).
  const TraceJob& prep = w.jobs[0];
  EXPECT_EQ(prep.spec.name, "prep");
  EXPECT_EQ(prep.spec.tenant, "default");
  EXPECT_EQ(prep.spec.user, "default");
  EXPECT_EQ(prep.spec.priority_class, PriorityClass::kMedium);
  EXPECT_EQ(prep.spec.task_groups[0].count, 1);
  EXPECT_EQ(prep.spec.task_groups[0].per_task, ResourceVector::Of(500, 2 * kGiB, 0));
  EXPECT_EQ(prep.submit, 0);
  EXPECT_EQ(prep.runtime, 30 * kSecond);
  EXPECT_EQ(prep.spec.time_limit, 0);
  EXPECT_FALSE(prep.spec.preemptible);

  const TraceJob& eval = w.jobs[1];
  EXPECT_EQ(eval.spec.name, "eval, nightly");
  EXPECT_EQ(eval.spec.priority_class, PriorityClass::kLow);
  EXPECT_TRUE(eval.spec.preemptible);
  EXPECT_EQ(eval.submit, 1'500'000);
  EXPECT_EQ(eval.runtime, 90 * kMinute);
  EXPECT_EQ(eval.spec.time_limit, 2 * kHour);

  const TraceJob& ft = w.jobs[2];
  EXPECT_EQ(ft.spec.name, "llama-ft");
  EXPECT_EQ(ft.spec.tenant, "research");
  EXPECT_EQ(ft.spec.user, "ana");
  EXPECT_EQ(ft.spec.priority_class, PriorityClass::kHigh);
  EXPECT_EQ(ft.spec.priority, 5);
  EXPECT_EQ(ft.spec.task_groups[0].count, 2);
  EXPECT_EQ(ft.spec.task_groups[0].per_task, ResourceVector::Of(16'000, 128 * kGiB, 4));
  EXPECT_EQ(ft.spec.constraints.gpu_models, (std::vector<std::string>{"H100-80GB", "A100-80GB"}));
  EXPECT_EQ(ft.submit, 90 * kSecond);
  EXPECT_EQ(ft.runtime, 2 * kHour);
  EXPECT_EQ(ft.spec.time_limit, 3 * kHour);
}

TEST(JobsCsv, ReadsEveryColumnAndDefaults) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ParseJobsCsv(kJobsCsv, "jobs.csv", {}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  ExpectTheThreeJobs(*w);
  EXPECT_EQ(w->jobs[0].trace_id, 4);  // the line number
  EXPECT_EQ(stats.lines, 6);
  EXPECT_EQ(stats.jobs, 3);
  EXPECT_EQ(stats.skipped, 0);
}

TEST(JobsJsonl, ReadsTheSameJobsAsTheCsv) {
  absl::StatusOr<Workload> w = ParseJobsJsonl(kJobsJsonl, "jobs.jsonl");
  ASSERT_TRUE(w.ok()) << w.status();
  ExpectTheThreeJobs(*w);
}

TEST(JobsCsv, OnlySubmitAndRuntimeAreRequired) {
  absl::StatusOr<Workload> w = ParseJobsCsv("runtime,submit,gpu\n10m,0,1\n", "min.csv");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs[0].spec.name, "job-2");
  EXPECT_EQ(w->jobs[0].runtime, 10 * kMinute);
  EXPECT_EQ(w->jobs[0].spec.task_groups[0].per_task.gpus(), 1);
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv("submit,gpu\n0,1\n", "min.csv").status(),
                               "min.csv:1: missing column \"runtime\""));
}

TEST(JobsCsv, BadHeadersAndCellsAreErrorsWithLineAndColumn) {
  EXPECT_TRUE(
      FailsWithMessage(ParseJobsCsv("submit,runtime,gpus\n", "jobs.csv").status(),
                       "jobs.csv:1: column 3 \"gpus\": unknown column (known: submit, name, "
                       "tenant, user, class, priority, "
                       "tasks, cpu, memory, gpu, gpu_model, runtime, time_limit, preemptible)"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv("submit,runtime,submit\n", "jobs.csv").status(),
                               "jobs.csv:1: column 3 \"submit\": appears twice"));
  const std::string header = "submit,runtime,cpu,class,gpu\n";
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsCsv(header + "0,10,8x,high,1\n", "jobs.csv").status(),
      "jobs.csv:2: column 3 (cpu) = \"8x\": unknown suffix \"x\" (cpu takes cores or \"m\" for "
      "milli-cores)"));
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsCsv(header + "0,ten,8,high,1\n", "jobs.csv").status(),
      "jobs.csv:2: column 2 (runtime) = \"ten\": expected a number at offset 0 (times are "
      "seconds (\"90\", \"0.5\") or durations such as \"90s\", \"2h\", \"1h30m\" (units d, h, "
      "m, s, ms, us))"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv(header + "-5,10,8,high,1\n", "jobs.csv").status(),
                               "jobs.csv:2: column 1 (submit) = \"-5\": must not be negative"));
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsCsv(header + "0,10,8,urgent,1\n", "jobs.csv").status(),
      "jobs.csv:2: column 4 (class) = \"urgent\": not a priority class (high, medium, low)"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv(header + "0,10,8,high,1.5\n", "jobs.csv").status(),
                               "jobs.csv:2: column 5 (gpu) = \"1.5\": not an integer"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv(header + "0,10,8,high\n", "jobs.csv").status(),
                               "jobs.csv:2: 4 cells; the header has 5"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv(header + ",10,8,high,1\n", "jobs.csv").status(),
                               "jobs.csv:2: column 1 (submit): missing"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv(header + "0,10,\"8,high,1\n", "jobs.csv").status(),
                               "jobs.csv:2: cell 3: unterminated quote"));
  // JobSpec::Validate has the last word.
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsCsv(header + "0,10,0,high,0\n", "jobs.csv").status(),
      "jobs.csv:2: job \"job-2\": task_groups[0].per_task: requests nothing; ask for at "
      "least one resource"));
}

TEST(JobsJsonl, BadLinesAreErrorsWithLineAndKey) {
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsJsonl(R"({"submit": 0, "runtime": 1, "gpus": 1})", "jobs.jsonl").status(),
      "jobs.jsonl:1: key \"gpus\": unknown key (known: submit, name, tenant, user, class, "
      "priority, tasks, cpu, memory, gpu, gpu_model, runtime, time_limit, preemptible)"));
  EXPECT_TRUE(
      FailsWithMessage(ParseJobsJsonl("{\"submit\": 0, \"gpu\": 1}\n", "jobs.jsonl").status(),
                       "jobs.jsonl:1: key \"runtime\": missing"));
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsJsonl("\n{\"submit\": 0, \"runtime\": 1, \"gpu\": 1,}\n", "jobs.jsonl").status(),
      "jobs.jsonl:2: column 38: trailing comma before '}'"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsJsonl("[1]\n", "jobs.jsonl").status(),
                               "jobs.jsonl:1: expected a JSON object, got an array"));
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsJsonl(R"({"submit": 0, "runtime": 1, "gpu": 1, "preemptible": "maybe"})",
                     "jobs.jsonl")
          .status(),
      "jobs.jsonl:1: key \"preemptible\" = \"maybe\": not a boolean (true, false, 1, 0, yes, no)"));
  EXPECT_TRUE(FailsWithMessage(
      ParseJobsJsonl(R"({"submit": 0, "runtime": 1, "gpu": {"n": 1}})", "jobs.jsonl").status(),
      "jobs.jsonl:1: key \"gpu\" = {...}: expected a string, number or boolean"));
}

TEST(JobsCsv, LenientModeSkipsAndCountsBadLines) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ParseJobsCsv("submit,runtime,gpu\n0,10,1\n0,ten,1\n5,10,x\n9,10,2\n",
                                            "jobs.csv", {.lenient = true}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs.size(), 2u);
  EXPECT_EQ(stats.skipped, 2);
  ASSERT_EQ(stats.notes.size(), 3u);
  EXPECT_EQ(stats.notes[1], "jobs.csv:4: column 3 (gpu) = \"x\": not an integer");
  EXPECT_EQ(stats.notes[2], "jobs.csv: 2 skipped: malformed");
}

TEST(JobsCsv, EmptyFilesAndFilesWithoutJobsAreErrors) {
  EXPECT_TRUE(
      FailsWithMessage(ParseJobsCsv("", "jobs.csv").status(), "jobs.csv: empty file (no header)"));
  EXPECT_TRUE(FailsWithMessage(ParseJobsCsv("submit,runtime,gpu\n", "jobs.csv").status(),
                               "jobs.csv: no jobs"));
  EXPECT_TRUE(
      FailsWithMessage(ParseJobsJsonl("\n\n", "jobs.jsonl").status(), "jobs.jsonl: no jobs"));
}

TEST(JobsCsv, StopsAfterMaxJobs) {
  absl::StatusOr<Workload> w = ParseJobsCsv(kJobsCsv, "jobs.csv", {.max_jobs = 1});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(w->jobs[0].spec.name, "llama-ft");
}

constexpr std::string_view kClusterCsv =
    "name,count,cpu,memory,gpus,gpu_model,topology\n"
    "h100,3,96,1Ti,8,H100-80GB,block-0/rack-1\n"
    "login,,16,64Gi,,,\n";

TEST(ClusterCsv, CountMakesNumberedNodes) {
  absl::StatusOr<std::vector<NodeSpec>> nodes = ParseClusterCsv(kClusterCsv, "cluster.csv");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 4u);
  std::vector<std::string> names;
  for (const NodeSpec& n : *nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"h100-0", "h100-1", "h100-2", "login"}));
  const NodeSpec& h = (*nodes)[2];
  EXPECT_EQ(h.capacity, ResourceVector::Of(96'000, 1024 * kGiB, 0));
  ASSERT_EQ(h.gpus.size(), 8u);
  EXPECT_EQ(h.gpus[5].index, 5);
  EXPECT_EQ(h.gpu_model(), "H100-80GB");
  EXPECT_EQ(h.topology, "block-0/rack-1");
  EXPECT_TRUE((*nodes)[3].gpus.empty());
  EXPECT_EQ((*nodes)[3].topology, "");
}

TEST(ClusterJsonl, ReadsTheSameNodesAsTheCsv) {
  absl::StatusOr<std::vector<NodeSpec>> nodes = ParseClusterJsonl(
      R"({"name": "h100", "count": 3, "cpu": 96, "memory": "1Ti", "gpus": 8, "gpu_model": "H100-80GB", "topology": "block-0/rack-1"})"
      "\n"
      R"({"name": "login", "cpu": "16", "memory": "64Gi"})"
      "\n",
      "cluster.jsonl");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  absl::StatusOr<std::vector<NodeSpec>> csv = ParseClusterCsv(kClusterCsv, "cluster.csv");
  ASSERT_EQ(nodes->size(), csv->size());
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    EXPECT_EQ((*nodes)[i].name, (*csv)[i].name);
    EXPECT_EQ((*nodes)[i].capacity, (*csv)[i].capacity);
    EXPECT_EQ((*nodes)[i].gpus.size(), (*csv)[i].gpus.size());
    EXPECT_EQ((*nodes)[i].topology, (*csv)[i].topology);
  }
}

TEST(ClusterCsv, BadRowsAreErrors) {
  const std::string header = "name,count,cpu,memory,gpus,gpu_model\n";
  EXPECT_TRUE(FailsWithMessage(
      ParseClusterCsv(header + "a,2,8,1Gi,1,T4\na-1,,8,1Gi,,\n", "c.csv").status(),
      "c.csv:3: column 1 (name) = \"a-1\": node \"a-1\" is already defined on line 2"));
  EXPECT_TRUE(FailsWithMessage(ParseClusterCsv(header + "a,2,8,1Gi,4,\n", "c.csv").status(),
                               "c.csv:2: column 6 (gpu_model): missing (the nodes have GPUs)"));
  EXPECT_TRUE(FailsWithMessage(ParseClusterCsv(header + "a,0,8,1Gi,,\n", "c.csv").status(),
                               "c.csv:2: column 2 (count) = \"0\": must be in [1, 100000]"));
  EXPECT_TRUE(FailsWithMessage(ParseClusterCsv(header + "a,1,0,1Gi,,\n", "c.csv").status(),
                               "c.csv:2: column 3 (cpu) = \"0\": must be > 0"));
  EXPECT_TRUE(FailsWithMessage(
      ParseClusterCsv("name,cpu,memory,racks\n", "c.csv").status(),
      "c.csv:1: column 4 \"racks\": unknown column (known: name, count, cpu, memory, gpus, "
      "gpu_model, topology)"));
  EXPECT_TRUE(
      FailsWithMessage(ParseClusterCsv("name,cpu,memory\n", "c.csv").status(), "c.csv: no nodes"));
  EXPECT_EQ(ReadClusterCsv(testing_util::TestDir() + "/no-such-cluster.csv").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReadTrace, PicksTheReaderByFileName) {
  const std::string dir = testing_util::TestDir();
  std::ofstream(dir + "/t.csv") << kJobsCsv;
  std::ofstream(dir + "/t.jsonl") << kJobsJsonl;
  std::ofstream(dir + "/t.txt") << kJobsCsv;
  for (const char* name : {"/t.csv", "/t.jsonl"}) {
    absl::StatusOr<Workload> w = ReadTrace(dir + name);
    ASSERT_TRUE(w.ok()) << name << ": " << w.status();
    ExpectTheThreeJobs(*w);
  }
  EXPECT_TRUE(FailsWithMessage(
      ReadTrace(dir + "/t.txt").status(),
      dir + "/t.txt: unknown trace format (by name: .swf, .csv or .jsonl, each optionally .gz)"));
  EXPECT_EQ(ReadTrace(dir + "/missing.csv").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlsched::sim
