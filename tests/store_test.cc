// Store: MemoryStore keeps owned copies of records; StoreWrapper forwards and
// is the base for fault injection.
#include "mlsched/store.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "mlsched/decision.h"
#include "mlsched/gpu.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/node.h"
#include "mlsched/resources.h"

namespace mlsched {
namespace {

JobSpec SomeSpec() {
  return JobSpec{.name = "train-7", .tenant = "research", .user = "ana",
                 .task_groups = {{.name = "w", .count = 2,
                                  .per_task = ResourceVector::Of(8000, std::int64_t{64} << 30, 4)}}};
}

NodeSpec SomeNode() {
  return NodeSpec{.name = "gpu-1",
                  .capacity = ResourceVector::Of(96'000, std::int64_t{1} << 40, 0),
                  .labels = {{"zone", "eu-1"}},
                  .gpus = {{.index = 0, .uuid = "GPU-a", .model = "H100"},
                           {.index = 1, .uuid = "GPU-b", .model = "H100"}},
                  .topology = "block-a/rack-07"};
}

TEST(MemoryStore, IsNamedMemoryAndStartsEmpty) {
  MemoryStore store;
  EXPECT_EQ(store.name(), "memory");
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.records().empty());
}

TEST(MemoryStore, KeepsRecordsInAppendOrder) {
  MemoryStore store;
  for (int i = 0; i < 5; ++i) {
    JournalRecord r{.kind = RecordKind::kTaskStarted, .time = 100 + i, .job = JobId(i), .task = i};
    ASSERT_TRUE(store.Append(r).ok());
  }
  ASSERT_EQ(store.size(), 5u);
  ASSERT_EQ(store.records().size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(store.records()[i].record.time, 100 + i);
    EXPECT_EQ(store.records()[i].record.job, JobId(i));
    EXPECT_EQ(store.records()[i].record.task, i);
  }
}

TEST(MemoryStore, KeepsEveryScalarField) {
  MemoryStore store;
  const JournalRecord r{.kind = RecordKind::kTaskExited,
                        .time = 123'456,
                        .job = JobId(7),
                        .node = NodeId(3),
                        .from = JobState::kRunning,
                        .to = JobState::kFailed,
                        .node_state = NodeState::kDraining,
                        .token = {.epoch = 2, .attempt = 5},
                        .task = 11,
                        .exit_code = 137,
                        .signal = 9};
  ASSERT_TRUE(store.Append(r).ok());
  const JournalRecord& kept = store.records()[0].record;
  EXPECT_EQ(kept.kind, RecordKind::kTaskExited);
  EXPECT_EQ(kept.time, 123'456);
  EXPECT_EQ(kept.job, JobId(7));
  EXPECT_EQ(kept.node, NodeId(3));
  EXPECT_EQ(kept.from, JobState::kRunning);
  EXPECT_EQ(kept.to, JobState::kFailed);
  EXPECT_EQ(kept.node_state, NodeState::kDraining);
  EXPECT_EQ(kept.token, (FencingToken{.epoch = 2, .attempt = 5}));
  EXPECT_EQ(kept.task, 11);
  EXPECT_EQ(kept.exit_code, 137);
  EXPECT_EQ(kept.signal, 9);
}

TEST(MemoryStore, CopiesTheJobSpecAndClearsThePointer) {
  MemoryStore store;
  {
    auto spec = std::make_unique<JobSpec>(SomeSpec());
    ASSERT_TRUE(store.Append({.kind = RecordKind::kJobSubmitted, .job = JobId(0),
                              .to = JobState::kQueued, .spec = spec.get()})
                    .ok());
    spec->name = "changed after append";
    spec->task_groups.clear();
  }  // the original is gone
  const StoredRecord& stored = store.records()[0];
  EXPECT_EQ(stored.record.spec, nullptr);
  ASSERT_TRUE(stored.spec.has_value());
  EXPECT_EQ(stored.spec->name, "train-7");
  ASSERT_EQ(stored.spec->task_groups.size(), 1u);
  EXPECT_EQ(stored.spec->task_groups[0].count, 2);
  EXPECT_EQ(stored.spec->task_groups[0].per_task, ResourceVector::Of(8000, std::int64_t{64} << 30, 4));
}

TEST(MemoryStore, CopiesTheNodeSpecAndClearsThePointer) {
  MemoryStore store;
  {
    auto node = std::make_unique<NodeSpec>(SomeNode());
    ASSERT_TRUE(store.Append({.kind = RecordKind::kNodeAdded, .node = NodeId(0),
                              .node_spec = node.get()})
                    .ok());
    node->name = "changed";
    node->gpus.clear();
  }
  const StoredRecord& stored = store.records()[0];
  EXPECT_EQ(stored.record.node_spec, nullptr);
  ASSERT_TRUE(stored.node_spec.has_value());
  EXPECT_EQ(stored.node_spec->name, "gpu-1");
  EXPECT_EQ(stored.node_spec->gpus.size(), 2u);
  EXPECT_EQ(stored.node_spec->topology, "block-a/rack-07");
  EXPECT_EQ(stored.node_spec->labels.at("zone"), "eu-1");
}

TEST(MemoryStore, CopiesThePlacementsAndClearsTheSpan) {
  MemoryStore store;
  std::vector<TaskPlacement> placements = {
      {.task = 0, .group = 0, .node = NodeId(4), .gpus = GpuSet::FromMask(0b0011)},
      {.task = 1, .group = 0, .node = NodeId(5), .gpus = GpuSet::FromMask(0b1100)},
  };
  const std::vector<TaskPlacement> expected = placements;
  ASSERT_TRUE(store.Append({.kind = RecordKind::kAttemptStarted, .job = JobId(1),
                            .token = {.epoch = 1, .attempt = 1}, .placements = placements})
                  .ok());
  placements[0].node = NodeId(99);
  placements.clear();
  placements.shrink_to_fit();
  const StoredRecord& stored = store.records()[0];
  EXPECT_TRUE(stored.record.placements.empty());
  EXPECT_EQ(stored.placements, expected);
}

TEST(MemoryStore, LeavesCopiesEmptyWhenTheRecordPointsToNothing) {
  MemoryStore store;
  ASSERT_TRUE(store.Append({.kind = RecordKind::kJobTransition, .job = JobId(2),
                            .from = JobState::kQueued, .to = JobState::kCancelled})
                  .ok());
  const StoredRecord& stored = store.records()[0];
  EXPECT_FALSE(stored.spec.has_value());
  EXPECT_FALSE(stored.node_spec.has_value());
  EXPECT_TRUE(stored.placements.empty());
}

TEST(MemoryStore, IsUsableThroughTheStoreInterface) {
  MemoryStore memory;
  Store& store = memory;
  EXPECT_EQ(store.name(), "memory");
  ASSERT_TRUE(store.Append({.kind = RecordKind::kNodeRemoved, .node = NodeId(8)}).ok());
  ASSERT_EQ(memory.size(), 1u);
  EXPECT_EQ(memory.records()[0].record.kind, RecordKind::kNodeRemoved);
}

TEST(StoreWrapper, ForwardsNameAndAppendToItsTarget) {
  MemoryStore memory;
  StoreWrapper wrapper(&memory);
  EXPECT_EQ(wrapper.target(), &memory);
  EXPECT_EQ(wrapper.name(), "memory");
  const JobSpec spec = SomeSpec();
  ASSERT_TRUE(wrapper.Append({.kind = RecordKind::kJobSubmitted, .job = JobId(3), .spec = &spec}).ok());
  ASSERT_EQ(memory.size(), 1u);
  EXPECT_EQ(memory.records()[0].record.job, JobId(3));
  ASSERT_TRUE(memory.records()[0].spec.has_value());
  EXPECT_EQ(memory.records()[0].spec->name, "train-7");
}

// A store that fails the Nth append and every one after it, the way a disk
// that fills up does; earlier appends reach the target.
class FailAfter final : public StoreWrapper {
 public:
  FailAfter(Store* target, int successes) : StoreWrapper(target), successes_(successes) {}
  absl::Status Append(const JournalRecord& record) override {
    ++calls_;
    if (successes_ <= 0) return absl::UnavailableError("injected: disk full");
    --successes_;
    return StoreWrapper::Append(record);
  }
  int calls() const { return calls_; }

 private:
  int successes_;
  int calls_ = 0;
};

TEST(StoreWrapper, InjectsAFailureByOverridingAppend) {
  MemoryStore memory;
  FailAfter faulty(&memory, /*successes=*/2);
  Store& store = faulty;  // the engine sees only the interface
  EXPECT_EQ(store.name(), "memory");
  EXPECT_TRUE(store.Append({.kind = RecordKind::kNodeAdded, .node = NodeId(0)}).ok());
  EXPECT_TRUE(store.Append({.kind = RecordKind::kNodeAdded, .node = NodeId(1)}).ok());
  const absl::Status third = store.Append({.kind = RecordKind::kNodeAdded, .node = NodeId(2)});
  EXPECT_EQ(third.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(third.message()), "injected: disk full");
  EXPECT_EQ(store.Append({.kind = RecordKind::kNodeAdded, .node = NodeId(3)}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(faulty.calls(), 4);
  ASSERT_EQ(memory.size(), 2u) << "failed appends must not reach the target";
  EXPECT_EQ(memory.records()[0].record.node, NodeId(0));
  EXPECT_EQ(memory.records()[1].record.node, NodeId(1));
}

TEST(StoreWrapper, WrappersStack) {
  MemoryStore memory;
  StoreWrapper inner(&memory);
  StoreWrapper outer(&inner);
  EXPECT_EQ(outer.name(), "memory");
  ASSERT_TRUE(outer.Append({.kind = RecordKind::kGpuHealth, .node = NodeId(1), .task = 3}).ok());
  ASSERT_EQ(memory.size(), 1u);
  EXPECT_EQ(memory.records()[0].record.task, 3);
}

TEST(RecordKind, NamesEveryKind) {
  EXPECT_EQ(RecordKindName(RecordKind::kNodeAdded), "node-added");
  EXPECT_EQ(RecordKindName(RecordKind::kNodeRemoved), "node-removed");
  EXPECT_EQ(RecordKindName(RecordKind::kNodeState), "node-state");
  EXPECT_EQ(RecordKindName(RecordKind::kGpuHealth), "gpu-health");
  EXPECT_EQ(RecordKindName(RecordKind::kJobSubmitted), "job-submitted");
  EXPECT_EQ(RecordKindName(RecordKind::kJobTransition), "job-transition");
  EXPECT_EQ(RecordKindName(RecordKind::kAttemptStarted), "attempt-started");
  EXPECT_EQ(RecordKindName(RecordKind::kTaskStarted), "task-started");
  EXPECT_EQ(RecordKindName(RecordKind::kTaskExited), "task-exited");
}

}  // namespace
}  // namespace mlsched
