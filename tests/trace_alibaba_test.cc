// Alibaba GPU 2023 ("openb") reader: nodes with gpu-milli capacity, whole
// and fractional GPU requests, QoS classes, durations, drops and errors.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "mlsched/engine.h"
#include "mlsched/sim/trace.h"
#include "status_matchers.h"
#include "test_support.h"

namespace mlsched::sim {
namespace {

using testing_util::FailsWithMessage;

constexpr ResourceKind kGpuMilli{3};
constexpr std::int64_t kMiB = std::int64_t{1} << 20;

constexpr std::string_view kNodes =
    "sn,cpu_milli,memory_mib,gpu,model\n"
    "node-a,64000,262144,2,P100\n"
    "node-b,96000,786432,8,V100M32\n"
    "node-c,32000,131072,0,\n";

// clang-format off
constexpr std::string_view kPodsHeader =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
    "creation_time,deletion_time,scheduled_time\n";
constexpr std::string_view kPods =
    "pod-0,12000,16384,1,1000,,LS,Running,100,1100,150\n"                     // 2 one whole GPU
    "pod-1,6000,12288,1,460,,BE,Running,50,500,60\n"                          // 3 46% of a GPU
    "pod-2,4000,8192,0,0,,Burstable,Succeeded,10,20,10\n"                     // 4 CPU only
    "pod-3,88000,65536,8,1000,V100M32|A100,Guaranteed,Running,200,300,250\n"  // 5 8 GPUs
    "pod-4,1000,1024,1,1000,,BE,Pending,300,400,\n"                           // 6 unscheduled
    "pod-5,1000,1024,1,1000,,LS,Running,400,,410\n"                           // 7 not deleted
    "pod-6,1000,1024,1,1000,,LS,Failed,500,505,510\n";                        // 8 negative
// clang-format on

std::string Write(std::string_view name, std::string_view text) {
  const std::string path = testing_util::TestDir() + "/" + std::string(name);
  std::ofstream(path) << text;
  return path;
}

TEST(AlibabaReader, NodesOfferGpusAndGpuMilli) {
  absl::StatusOr<Workload> w = ReadAlibabaGpu2023(
      Write("pods.csv", std::string(kPodsHeader) + std::string(kPods)), Write("nodes.csv", kNodes));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->extended_resources, (std::vector<std::string>{"gpu-milli"}));
  ASSERT_EQ(w->nodes.size(), 3u);
  const NodeSpec& b = w->nodes[1];
  EXPECT_EQ(b.name, "node-b");
  EXPECT_EQ(b.capacity.cpu_millis(), 96'000);
  EXPECT_EQ(b.capacity.memory_bytes(), 786432 * kMiB);
  EXPECT_EQ(b.capacity.Get(kGpuMilli), 8'000);
  ASSERT_EQ(b.gpus.size(), 8u);
  EXPECT_EQ(b.gpus[7].index, 7);
  EXPECT_EQ(b.gpu_model(), "V100M32");
  EXPECT_TRUE(w->nodes[2].gpus.empty());
  EXPECT_EQ(w->nodes[2].capacity.Get(kGpuMilli), 0);
}

TEST(AlibabaReader, PodsBecomeJobsWithWholeOrFractionalGpus) {
  ReadStats stats;
  const std::string pods = Write("pods.csv", std::string(kPodsHeader) + std::string(kPods));
  absl::StatusOr<Workload> w = ReadAlibabaGpu2023(pods, Write("nodes.csv", kNodes), {}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name, "pods.csv");
  // By creation time: pod-2 (10), pod-1 (50), pod-0 (100), pod-3 (200), pod-4 (300).
  ASSERT_EQ(w->jobs.size(), 5u);
  std::vector<std::string> names;
  for (const TraceJob& j : w->jobs) names.push_back(j.spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"pod-2", "pod-1", "pod-0", "pod-3", "pod-4"}));

  const TraceJob& cpu_only = w->jobs[0];
  EXPECT_EQ(cpu_only.spec.task_groups[0].per_task, ResourceVector::Of(4'000, 8192 * kMiB, 0));
  EXPECT_EQ(cpu_only.spec.priority_class, PriorityClass::kMedium);
  EXPECT_EQ(cpu_only.spec.tenant, "qos-Burstable");
  EXPECT_EQ(cpu_only.spec.user, "alibaba");
  EXPECT_EQ(cpu_only.trace_id, 4);

  const TraceJob& share = w->jobs[1];
  ResourceVector share_request = ResourceVector::Of(6'000, 12288 * kMiB, 0);
  share_request.Set(kGpuMilli, 460);
  EXPECT_EQ(share.spec.task_groups[0].per_task, share_request);
  EXPECT_EQ(share.spec.priority_class, PriorityClass::kLow);
  EXPECT_TRUE(share.spec.preemptible);
  EXPECT_EQ(share.submit, 50 * kSecond);
  EXPECT_EQ(share.runtime, 440 * kSecond);  // deletion - scheduled

  const TraceJob& whole = w->jobs[2];
  EXPECT_EQ(whole.spec.task_groups[0].per_task.gpus(), 1);
  EXPECT_EQ(whole.spec.task_groups[0].per_task.Get(kGpuMilli), 1'000);
  EXPECT_EQ(whole.spec.priority_class, PriorityClass::kHigh);
  EXPECT_FALSE(whole.spec.preemptible);
  EXPECT_EQ(whole.runtime, 950 * kSecond);
  EXPECT_EQ(whole.spec.time_limit, 0);

  const TraceJob& eight = w->jobs[3];
  EXPECT_EQ(eight.spec.task_groups[0].per_task.gpus(), 8);
  EXPECT_EQ(eight.spec.task_groups[0].per_task.Get(kGpuMilli), 8'000);
  EXPECT_EQ(eight.spec.constraints.gpu_models, (std::vector<std::string>{"V100M32", "A100"}));
  EXPECT_EQ(eight.spec.priority_class, PriorityClass::kMedium);

  EXPECT_EQ(w->jobs[4].runtime, 100 * kSecond);  // never scheduled: from creation

  EXPECT_EQ(stats.lines, 8);
  EXPECT_EQ(stats.jobs, 5);
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_EQ(
      stats.notes,
      (std::vector<std::string>{
          pods + ":7: pod \"pod-5\": never deleted (no end time); skipped",
          pods + ":8: pod \"pod-6\": negative duration (deleted before it was scheduled); skipped",
          pods + ": 1 skipped: negative duration (deleted before it was scheduled)",
          pods + ": 1 skipped: never deleted (no end time)",
      }));
}

TEST(AlibabaReader, TheEngineAcceptsTheNodesAndPods) {
  absl::StatusOr<Workload> w = ReadAlibabaGpu2023(
      Write("pods.csv", std::string(kPodsHeader) + std::string(kPods)), Write("nodes.csv", kNodes));
  ASSERT_TRUE(w.ok()) << w.status();
  ManualClock clock;
  auto engine =
      Engine::Create({.clock = &clock, .extended_resources = w->extended_resources}).value();
  ASSERT_EQ(engine->catalog().Find("gpu-milli"), kGpuMilli);
  for (const NodeSpec& n : w->nodes) EXPECT_TRUE(engine->AddNode(n).ok()) << n.name;
  for (const TraceJob& j : w->jobs) EXPECT_TRUE(engine->Submit(j.spec).ok()) << j.spec.name;
}

TEST(AlibabaReader, ColumnsAreFoundByName) {
  // Reordered columns, an extra one, and no gpu_spec or pod_phase.
  absl::StatusOr<Workload> w = ReadAlibabaGpu2023(
      Write("pods-reordered.csv",
            "qos,name,extra,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,scheduled_time,"
            "deletion_time\n"
            "LS,p,x,1000,0,0,0,5,5,65\n"),
      Write("nodes-extra.csv", "model,gpu,sn,memory_mib,cpu_milli,note\nT4,1,n,1024,8000,x\n"));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(w->jobs[0].runtime, 60 * kSecond);
  EXPECT_EQ(w->nodes[0].gpu_model(), "T4");
}

TEST(AlibabaReader, MalformedLinesAreErrorsWithFileAndLine) {
  const std::string nodes = Write("nodes.csv", kNodes);
  auto read = [&](std::string_view pods_text) {
    return ReadAlibabaGpu2023(
               Write("bad-pods.csv", std::string(kPodsHeader) + std::string(pods_text)), nodes)
        .status();
  };
  const std::string pods = testing_util::TestDir() + "/bad-pods.csv";
  EXPECT_TRUE(FailsWithMessage(
      read("p,1000,1024,1,1000,,Gold,Running,0,10,0\n"),
      pods + ":2: column 7 (qos) = \"Gold\": not a QoS class (LS, Guaranteed, Burstable, BE)"));
  EXPECT_TRUE(FailsWithMessage(read("p,lots,1024,1,1000,,LS,Running,0,10,0\n"),
                               pods + ":2: column 2 (cpu_milli) = \"lots\": not an integer"));
  EXPECT_TRUE(FailsWithMessage(read("p,1000,1024,1,1000,,LS,Running,-3,10,0\n"),
                               pods + ":2: column 9 (creation_time) = \"-3\": negative"));
  EXPECT_TRUE(FailsWithMessage(
      read("p,1000,1024,2,500,,LS,Running,0,10,0\n"),
      pods + ":2: column 5 (gpu_milli) = \"500\": a fractional share of several GPUs"));
  EXPECT_TRUE(
      FailsWithMessage(read("p,1000,1024,1,1000,,LS\n"), pods + ":2: 7 cells; the header has 11"));
  EXPECT_TRUE(FailsWithMessage(
      ReadAlibabaGpu2023(Write("no-qos.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"),
                         nodes)
          .status(),
      testing_util::TestDir() + "/no-qos.csv:1: missing column \"qos\" (header: "
                             "name,cpu_milli,memory_mib,num_gpu,gpu_milli)"));
  const std::string twice =
      Write("twice.csv", "sn,cpu_milli,memory_mib,gpu,model\nn,1000,1024,0,\nn,1000,1024,0,\n");
  EXPECT_TRUE(FailsWithMessage(
      ReadAlibabaGpu2023(Write("ok.csv", std::string(kPodsHeader) + std::string(kPods)), twice)
          .status(),
      twice + ":3: node \"n\": duplicate name (first on line 2)"));
  EXPECT_EQ(ReadAlibabaGpu2023(Write("ok.csv", std::string(kPodsHeader) + std::string(kPods)),
                               testing_util::TestDir() + "/none.csv")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(AlibabaReader, LenientModeSkipsMalformedPods) {
  ReadStats stats;
  absl::StatusOr<Workload> w = ReadAlibabaGpu2023(
      Write("lenient.csv", std::string(kPodsHeader) + "p,1000,1024,1,1000,,Gold,Running,0,10,0\n"
                                                      "q,1000,1024,1,1000,,LS,Running,0,10,0\n"),
      Write("nodes.csv", kNodes), {.lenient = true}, &stats);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->jobs.size(), 1u);
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.notes.size(), 2u);
}

TEST(AlibabaReader, APodListWithoutPodsIsAnError) {
  const std::string pods = Write("empty-pods.csv", kPodsHeader);
  EXPECT_TRUE(FailsWithMessage(ReadAlibabaGpu2023(pods, Write("nodes.csv", kNodes)).status(),
                               pods + ": no jobs"));
}

}  // namespace
}  // namespace mlsched::sim
