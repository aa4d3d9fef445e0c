// GpuMonitor against the fake NVML library the test suite builds
// (tests/fake_nvml), configured through FAKE_NVML_* variables.
#include "mlsched/exec/gpu_monitor.h"

#include <stdlib.h>

#include <string>
#include <vector>

#include "exec_test_support.h"
#include "gtest/gtest.h"
#include "mlsched/exec/local_node.h"
#include "mlsched/resources.h"

namespace mlsched {
namespace {

class FakeNvml : public ::testing::Test {
 protected:
  void SetUp() override { testing::ClearFakeNvml(); }
  absl::StatusOr<std::unique_ptr<GpuMonitor>> Open(GpuMonitorOptions o = {}) {
    o.nvml_library = FAKE_NVML_PATH;
    return GpuMonitor::Open(o);
  }
};

TEST_F(FakeNvml, DiscoversCountUuidModelAndMemory) {
  ::setenv("FAKE_NVML_COUNT", "4", 1);
  ::setenv("FAKE_NVML_NAME", "NVIDIA H100 80GB HBM3", 1);
  ::setenv("FAKE_NVML_MEMORY_MIB", "81559", 1);
  auto m = Open();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->source(), "nvml");
  const auto& d = (*m)->devices();
  ASSERT_EQ(d.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(d[i].index, i);
    EXPECT_EQ(d[i].model, "H100 80GB HBM3");
    EXPECT_EQ(d[i].memory_bytes, std::int64_t{81559} << 20);
    EXPECT_TRUE(d[i].healthy);
  }
  EXPECT_EQ(d[2].uuid, "GPU-fake0000-0000-0000-0000-000000000002");
  auto s = (*m)->Sample();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[1].utilization_percent, 51);
  EXPECT_EQ((*s)[1].memory_utilization_percent, 20);
  EXPECT_EQ((*s)[1].memory_used_bytes, (std::int64_t{81559} << 20) / 4);
}

TEST_F(FakeNvml, LibraryFoundThroughTheEnvironment) {
  ::setenv("FAKE_NVML_COUNT", "1", 1);
  ::setenv("MLSCHED_NVML_LIBRARY", FAKE_NVML_PATH, 1);
  auto m = GpuMonitor::Open({});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->devices().size(), 1u);
}

TEST_F(FakeNvml, UncorrectedEccErrorsMakeAGpuUnhealthyOnceAndForAll) {
  ::setenv("FAKE_NVML_COUNT", "2", 1);
  auto m = Open();
  ASSERT_TRUE(m.ok());
  std::vector<ExecutorEvent> events;
  ASSERT_TRUE((*m)->CheckHealth(NodeId(5), &events).ok());
  EXPECT_TRUE(events.empty());  // healthy GPUs are not announced
  ::setenv("FAKE_NVML_ECC", "1:3", 1);
  ASSERT_TRUE((*m)->CheckHealth(NodeId(5), &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ExecutorEventKind::kGpuHealth);
  EXPECT_EQ(events[0].node, NodeId(5));
  EXPECT_EQ(events[0].gpu, 1);
  EXPECT_FALSE(events[0].healthy);
  EXPECT_NE(events[0].detail.find("3 uncorrected ECC errors"), std::string::npos) << events[0].detail;
  ::unsetenv("FAKE_NVML_ECC");  // counters do not go down on real GPUs; health is sticky anyway
  ASSERT_TRUE((*m)->CheckHealth(NodeId(5), &events).ok());
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(FakeNvml, EccThresholdIsConfigurable) {
  ::setenv("FAKE_NVML_COUNT", "1", 1);
  ::setenv("FAKE_NVML_ECC", "0:2", 1);
  auto m = Open({.max_uncorrected_ecc = 5});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE((*m)->devices()[0].healthy);
}

TEST_F(FakeNvml, LostGpuIsUnhealthyAtDiscovery) {
  ::setenv("FAKE_NVML_COUNT", "3", 1);
  ::setenv("FAKE_NVML_LOST", "2", 1);
  auto m = Open();
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ((*m)->devices().size(), 3u);
  EXPECT_FALSE((*m)->devices()[2].healthy);
  EXPECT_EQ((*m)->devices()[2].model, "A100-SXM4-80GB");  // from its neighbours
  std::vector<ExecutorEvent> events;
  ASSERT_TRUE((*m)->CheckHealth(NodeId(0), &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gpu, 2);
  EXPECT_NE(events[0].detail.find("GPU_IS_LOST"), std::string::npos);
}

TEST_F(FakeNvml, CriticalXidMakesAGpuUnhealthyButApplicationXidsDoNot) {
  ::setenv("FAKE_NVML_COUNT", "2", 1);
  auto m = Open();
  ASSERT_TRUE(m.ok());
  ::setenv("FAKE_NVML_XID", "0:13,1:79", 1);
  std::vector<ExecutorEvent> events;
  ASSERT_TRUE((*m)->CheckHealth(NodeId(0), &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gpu, 1);
  EXPECT_NE(events[0].detail.find("Xid 79"), std::string::npos);
}

TEST_F(FakeNvml, InitialisationFailureIsAnErrorNamingNvmlsMessage) {
  ::setenv("FAKE_NVML_INIT_ERROR", "9", 1);
  auto m = Open();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("Driver Not Loaded"), std::string::npos) << m.status();
}

TEST(GpuMonitorWithoutNvml, NoLibraryMeansNoGpus) {
  auto m = GpuMonitor::Open({.nvml_library = "/nonexistent/libnvidia-ml.so.1"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->source(), "none");
  EXPECT_TRUE((*m)->devices().empty());
}

TEST(GpuMonitorWithoutNvml, SimulatedGpusForDevelopment) {
  auto m = GpuMonitor::Open({.use_nvml = false, .simulated_gpus = 3, .simulated_model = "SIM"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->source(), "simulated");
  ASSERT_EQ((*m)->devices().size(), 3u);
  EXPECT_EQ((*m)->devices()[1].model, "SIM");
  EXPECT_FALSE(GpuMonitor::Open({.use_nvml = false, .simulated_gpus = -1}).ok());
  EXPECT_FALSE(GpuMonitor::Open({.use_nvml = false, .simulated_gpus = 65}).ok());
}

TEST(LocalNode, DescribesThisMachineWithItsGpus) {
  ResourceCatalog catalog;
  auto m = GpuMonitor::Open({.use_nvml = false, .simulated_gpus = 2});
  ASSERT_TRUE(m.ok());
  auto spec = LocalNodeSpec(catalog, **m, {.name = "here"});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "here");
  EXPECT_GE(spec->capacity.cpu_millis(), 1000);
  EXPECT_GT(spec->capacity.memory_bytes(), 0);
  EXPECT_EQ(spec->capacity.gpus(), 2);
  EXPECT_EQ(spec->gpus.size(), 2u);
  EXPECT_FALSE(LocalNodeSpec(catalog, **m, {.reserved_cpu_millis = std::int64_t{1} << 40}).ok());
}

}  // namespace
}  // namespace mlsched
