// NodeSpec::Validate: structural checks whose errors name the node and field.
#include "mlsched/node.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "mlsched/gpu.h"
#include "mlsched/resources.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

std::vector<GpuDevice> Gpus(int n, std::string_view model = "H100-80GB") {
  std::vector<GpuDevice> gpus;
  for (int i = 0; i < n; ++i) {
    gpus.push_back({.index = i,
                    .uuid = "GPU-" + std::to_string(1000 + i),
                    .model = std::string(model),
                    .memory_bytes = 80 * kGi,
                    .topology_domain = i / 2});
  }
  return gpus;
}

// A valid four-GPU node whose capacity leaves the GPU count to the device list.
NodeSpec FourGpuNode() {
  return NodeSpec{.name = "gpu-3",
                  .capacity = ResourceVector::Of(96'000, 1024 * kGi, 0),
                  .labels = {{"zone", "eu-1"}},
                  .gpus = Gpus(4),
                  .topology = "block-a/rack-07"};
}


using testing_util::FailsMentioning;
using testing_util::FailsWithMessage;

TEST(NodeValidation, AcceptsAWellFormedGpuNode) {
  const NodeSpec node = FourGpuNode();
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, AcceptsACpuOnlyNode) {
  const NodeSpec node{.name = "cpu-1", .capacity = ResourceVector::Of(64'000, 256 * kGi, 0)};
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, AcceptsSixtyFourGpus) {
  NodeSpec node = FourGpuNode();
  node.gpus = Gpus(kMaxGpusPerNode);
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, AcceptsANameOf253Characters) {
  NodeSpec node = FourGpuNode();
  node.name = std::string(253, 'n');
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, RejectsAnEmptyName) {
  NodeSpec node = FourGpuNode();
  node.name = "";
  EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"\": name: must not be empty"));
}

TEST(NodeValidation, RejectsANameLongerThan253Characters) {
  NodeSpec node = FourGpuNode();
  node.name = std::string(254, 'n');
  EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"" + node.name + "\"", ": name: "}));
}

TEST(NodeValidation, RejectsNegativeCapacityAndNamesTheKind) {
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(kCpu, -1);
    EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": capacity.cpu = -1: must be >= 0"));
  }
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(kMemory, -5);
    EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": capacity.memory = -5: must be >= 0"));
  }
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(kGpu, -2);
    EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": capacity.gpu = -2: must be >= 0"));
  }
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(ResourceKind(5), -3);
    EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": capacity.", " = -3: must be >= 0"}));
  }
}

TEST(NodeValidation, RejectsZeroCpu) {
  NodeSpec node = FourGpuNode();
  node.capacity.Set(kCpu, 0);
  EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": capacity.cpu = 0: must be > 0"));
}

TEST(NodeValidation, RejectsZeroMemory) {
  NodeSpec node = FourGpuNode();
  node.capacity.Set(kMemory, 0);
  EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": capacity.memory = 0: must be > 0"));
}

TEST(NodeValidation, RejectsMoreThanSixtyFourGpus) {
  NodeSpec node = FourGpuNode();
  node.gpus = Gpus(kMaxGpusPerNode + 1);
  EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": gpus: ", "65"}));
}

TEST(NodeValidation, TakesTheGpuCountFromTheDevicesWhenCapacityGpuIsZero) {
  NodeSpec node = FourGpuNode();
  ASSERT_EQ(node.capacity.gpus(), 0);
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, AcceptsACapacityGpuCountThatMatchesTheDevices) {
  NodeSpec node = FourGpuNode();
  node.capacity.Set(kGpu, 4);
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, RejectsACapacityGpuCountThatDiffersFromTheDevices) {
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(kGpu, 2);
    EXPECT_TRUE(FailsWithMessage(node.Validate(),
                                 "node \"gpu-3\": capacity.gpu = 2: does not match the 4 GPU devices listed"));
  }
  {
    NodeSpec node = FourGpuNode();
    node.capacity.Set(kGpu, 5);
    EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": capacity.gpu = 5"}));
  }
  {
    NodeSpec node = FourGpuNode();
    node.gpus.clear();
    node.capacity.Set(kGpu, 8);
    EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": capacity.gpu = 8", "0 GPU devices"}));
  }
}

TEST(NodeValidation, RejectsGpuIndicesOutOfOrderWithTheDocumentedMessage) {
  NodeSpec node = FourGpuNode();
  node.gpus[2].index = 7;
  EXPECT_TRUE(FailsWithMessage(node.Validate(),
                               "node \"gpu-3\": gpus[2].index = 7: GPU indices must be 0..3 in order"));
}

TEST(NodeValidation, RejectsSwappedGpuIndices) {
  NodeSpec node = FourGpuNode();
  node.gpus[0].index = 1;
  node.gpus[1].index = 0;
  EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": gpus[0].index = 1"}));
}

TEST(NodeValidation, RejectsGpuIndicesThatDoNotStartAtZero) {
  NodeSpec node = FourGpuNode();
  for (GpuDevice& g : node.gpus) ++g.index;
  EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": gpus[0].index = 1"}));
}

TEST(NodeValidation, RejectsAGpuWithoutAModel) {
  {
    NodeSpec node = FourGpuNode();
    for (GpuDevice& g : node.gpus) g.model = "";
    EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": gpus[0].model: must not be empty"));
  }
  {
    NodeSpec node = FourGpuNode();
    node.gpus[2].model = "";
    EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": gpus[2].model: must not be empty"));
  }
}

TEST(NodeValidation, RejectsMixedGpuModels) {
  NodeSpec node = FourGpuNode();
  node.gpus[1].model = "A100-80GB";
  EXPECT_TRUE(FailsMentioning(node.Validate(),
                              {"node \"gpu-3\": gpus[1].model = \"A100-80GB\"", "\"H100-80GB\""}));
}

TEST(NodeValidation, RejectsNegativeGpuMemory) {
  NodeSpec node = FourGpuNode();
  node.gpus[3].memory_bytes = -1;
  EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": gpus[3].memory_bytes = -1: must be >= 0"));
}

TEST(NodeValidation, RejectsANegativeTopologyDomain) {
  NodeSpec node = FourGpuNode();
  node.gpus[1].topology_domain = -1;
  EXPECT_TRUE(FailsWithMessage(node.Validate(), "node \"gpu-3\": gpus[1].topology_domain = -1: must be >= 0"));
}

TEST(NodeValidation, AcceptsAnyNonNegativeTopologyDomains) {
  NodeSpec node = FourGpuNode();
  node.gpus[0].topology_domain = 7;
  node.gpus[1].topology_domain = 0;
  node.gpus[2].topology_domain = 7;
  node.gpus[3].topology_domain = 123;
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, RejectsADuplicateGpuUuid) {
  NodeSpec node = FourGpuNode();
  node.gpus[2].uuid = node.gpus[0].uuid;
  EXPECT_TRUE(FailsMentioning(node.Validate(),
                              {"node \"gpu-3\": gpus[2].uuid = \"" + node.gpus[0].uuid + "\"", "duplicate"}));
}

TEST(NodeValidation, AllowsSeveralGpusWithoutAUuid) {
  NodeSpec node = FourGpuNode();
  for (GpuDevice& g : node.gpus) g.uuid = "";
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, AcceptsUnhealthyGpus) {
  NodeSpec node = FourGpuNode();
  node.gpus[1].healthy = false;
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

TEST(NodeValidation, RejectsAnEmptyLabelKey) {
  NodeSpec node = FourGpuNode();
  node.labels[""] = "x";
  EXPECT_TRUE(FailsMentioning(node.Validate(), {"node \"gpu-3\": labels"}));
}

TEST(NodeValidation, AcceptsAnEmptyLabelValueAndTopology) {
  NodeSpec node = FourGpuNode();
  node.labels["spot"] = "";
  node.topology = "";
  EXPECT_TRUE(node.Validate().ok()) << node.Validate();
}

// Every error path, for several node names: the message starts with the node.
TEST(NodeValidation, EveryErrorStartsWithTheNodeName) {
  const std::vector<std::function<void(NodeSpec&)>> breakages = {
      [](NodeSpec& n) { n.capacity.Set(kCpu, -1); },
      [](NodeSpec& n) { n.capacity.Set(kCpu, 0); },
      [](NodeSpec& n) { n.capacity.Set(kMemory, 0); },
      [](NodeSpec& n) { n.capacity.Set(ResourceKind(7), -1); },
      [](NodeSpec& n) { n.gpus = Gpus(65); },
      [](NodeSpec& n) { n.capacity.Set(kGpu, 3); },
      [](NodeSpec& n) { n.gpus[3].index = 4; },
      [](NodeSpec& n) { n.gpus[3].model = ""; },
      [](NodeSpec& n) { n.gpus[3].model = "L4"; },
      [](NodeSpec& n) { n.gpus[3].memory_bytes = -8; },
      [](NodeSpec& n) { n.gpus[3].topology_domain = -2; },
      [](NodeSpec& n) { n.gpus[3].uuid = n.gpus[1].uuid; },
      [](NodeSpec& n) { n.labels[""] = "v"; },
  };
  for (std::string_view name : {"gpu-3", "a", "node with \"quotes\""}) {
    for (std::size_t i = 0; i < breakages.size(); ++i) {
      NodeSpec node = FourGpuNode();
      node.name = std::string(name);
      breakages[i](node);
      const absl::Status s = node.Validate();
      EXPECT_TRUE(FailsMentioning(s, {})) << "breakage " << i;
      EXPECT_EQ(std::string(s.message()).rfind("node \"" + std::string(name) + "\": ", 0), 0u)
          << "breakage " << i << ": " << s;
    }
  }
}

TEST(NodeSpec, GpuModelIsTheModelOfItsGpus) {
  EXPECT_EQ(FourGpuNode().gpu_model(), "H100-80GB");
  NodeSpec node = FourGpuNode();
  node.gpus = Gpus(2, "A100-40GB");
  EXPECT_EQ(node.gpu_model(), "A100-40GB");
}

TEST(NodeSpec, GpuModelIsEmptyWithoutGpus) {
  const NodeSpec node{.name = "cpu-1", .capacity = ResourceVector::Of(1000, kGi, 0)};
  EXPECT_EQ(node.gpu_model(), "");
}

TEST(NodeState, NamesEveryState) {
  EXPECT_EQ(NodeStateName(NodeState::kUp), "Up");
  EXPECT_EQ(NodeStateName(NodeState::kDraining), "Draining");
  EXPECT_EQ(NodeStateName(NodeState::kDown), "Down");
}

}  // namespace
}  // namespace mlsched
