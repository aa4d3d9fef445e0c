// JobSpec::Validate: every error names the job and the field; totals.
#include "mlsched/job_spec.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "mlsched/gpu.h"
#include "mlsched/resources.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;

ResourceKind Kind(int index) { return ResourceKind(static_cast<std::uint8_t>(index)); }

// A valid single-group job: 4 workers with 8 GPUs each.
JobSpec TrainJob() {
  return JobSpec{.name = "train-7",
                 .tenant = "research",
                 .user = "ana",
                 .priority_class = PriorityClass::kHigh,
                 .task_groups = {{.name = "workers", .count = 4,
                                  .per_task = ResourceVector::Of(32'000, 256 * kGi, 8)}},
                 .constraints = {.gpu_models = {"H100-80GB"}, .node_labels = {{"zone", "eu-1"}}},
                 .time_limit = 12 * kHour,
                 .command = {.argv = {"torchrun", "train.py"}, .env = {{"NCCL_DEBUG", "INFO"}}}};
}

using testing_util::FailsMentioning;
using testing_util::FailsWithMessage;

TEST(JobSpecValidation, AcceptsAWellFormedSpec) {
  const JobSpec spec = TrainJob();
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
}

TEST(JobSpecValidation, AcceptsAMinimalSpec) {
  const JobSpec spec{.name = "j", .tenant = "t", .user = "u",
                     .task_groups = {{.per_task = ResourceVector::Of(1, 0, 0)}}};
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
}

TEST(JobSpecValidation, RejectsAnEmptyName) {
  JobSpec spec = TrainJob();
  spec.name = "";
  EXPECT_TRUE(FailsWithMessage(spec.Validate(), "job \"\": name: must not be empty"));
}

TEST(JobSpecValidation, RejectsANameLongerThan253Characters) {
  JobSpec spec = TrainJob();
  spec.name = std::string(253, 'j');
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.name += 'j';
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"" + spec.name + "\": name: "}));
}

TEST(JobSpecValidation, RejectsAnEmptyTenant) {
  JobSpec spec = TrainJob();
  spec.tenant = "";
  EXPECT_TRUE(FailsWithMessage(spec.Validate(), "job \"train-7\": tenant: must not be empty"));
}

TEST(JobSpecValidation, RejectsAnEmptyUser) {
  JobSpec spec = TrainJob();
  spec.user = "";
  EXPECT_TRUE(FailsWithMessage(spec.Validate(), "job \"train-7\": user: must not be empty"));
}

TEST(JobSpecValidation, RejectsAnUnknownPriorityClass) {
  JobSpec spec = TrainJob();
  spec.priority_class = static_cast<PriorityClass>(3);
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": priority_class = 3"}));
}

TEST(JobSpecValidation, AcceptsEveryPriorityClass) {
  for (PriorityClass c : {PriorityClass::kLow, PriorityClass::kMedium, PriorityClass::kHigh}) {
    JobSpec spec = TrainJob();
    spec.priority_class = c;
    EXPECT_TRUE(spec.Validate().ok()) << PriorityClassName(c);
  }
}

TEST(JobSpecValidation, AcceptsPrioritiesAtTheBounds) {
  for (std::int32_t p : {kMinPriority, 0, kMaxPriority}) {
    JobSpec spec = TrainJob();
    spec.priority = p;
    EXPECT_TRUE(spec.Validate().ok()) << p;
  }
}

TEST(JobSpecValidation, RejectsPrioritiesOutsideTheRange) {
  JobSpec spec = TrainJob();
  spec.priority = kMaxPriority + 1;
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": priority = 100001: must be in [-100000, 100000]"));
  spec.priority = kMinPriority - 1;
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": priority = -100001"}));
  spec.priority = std::numeric_limits<std::int32_t>::min();
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": priority = "}));
}

TEST(JobSpecValidation, RejectsASpecWithoutTaskGroups) {
  JobSpec spec = TrainJob();
  spec.task_groups.clear();
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": task_groups: at least one task group is required"));
}

TEST(JobSpecValidation, AcceptsSixtyFourTaskGroupsButNotMore) {
  JobSpec spec = TrainJob();
  spec.task_groups.clear();
  for (int g = 0; g < kMaxTaskGroups; ++g) {
    spec.task_groups.push_back({.name = "g" + std::to_string(g), .count = 1,
                                .per_task = ResourceVector::Of(1000, 0, 0)});
  }
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.task_groups.push_back({.name = "extra", .count = 1, .per_task = ResourceVector::Of(1000, 0, 0)});
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": task_groups: ", "65"}));
}

TEST(JobSpecValidation, RejectsDuplicateGroupNames) {
  JobSpec spec = TrainJob();
  spec.task_groups.push_back(spec.task_groups[0]);
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": task_groups[1].name = \"workers\": duplicate group name"));
}

TEST(JobSpecValidation, AllowsAnUnnamedGroupOnlyOnce) {
  JobSpec spec = TrainJob();
  spec.task_groups[0].name = "";
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.task_groups.push_back(spec.task_groups[0]);
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": task_groups[1].name = \"\""}));
}

TEST(JobSpecValidation, RejectsTaskCountsOutsideTheRange) {
  for (std::int32_t count : {0, -1, kMaxTasksPerGroup + 1}) {
    JobSpec spec = TrainJob();
    spec.task_groups[0].count = count;
    EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                                 "job \"train-7\": task_groups[0].count = " + std::to_string(count) +
                                     ": must be in [1, 100000]"))
        << count;
  }
}

TEST(JobSpecValidation, AcceptsTaskCountsAtTheBounds) {
  for (std::int32_t count : {1, kMaxTasksPerGroup}) {
    JobSpec spec = TrainJob();
    spec.task_groups[0].count = count;
    EXPECT_TRUE(spec.Validate().ok()) << count;
  }
}

TEST(JobSpecValidation, RejectsANegativeGpuRequestWithTheDocumentedMessage) {
  JobSpec spec = TrainJob();
  spec.task_groups[0].per_task.Set(kGpu, -2);
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": task_groups[0].per_task.gpu = -2: must be >= 0"));
}

TEST(JobSpecValidation, RejectsANegativeRequestOfAnyKind) {
  {
    JobSpec spec = TrainJob();
    spec.task_groups[0].per_task.Set(kCpu, -1);
    EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                                 "job \"train-7\": task_groups[0].per_task.cpu = -1: must be >= 0"));
  }
  {
    JobSpec spec = TrainJob();
    spec.task_groups[0].per_task.Set(kMemory, -4096);
    EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                                 "job \"train-7\": task_groups[0].per_task.memory = -4096: must be >= 0"));
  }
  {
    JobSpec spec = TrainJob();
    spec.task_groups[0].per_task.Set(Kind(6), -3);
    EXPECT_TRUE(FailsMentioning(spec.Validate(),
                                {"job \"train-7\": task_groups[0].per_task.", " = -3: must be >= 0"}));
  }
}

TEST(JobSpecValidation, NamesTheGroupThatIsWrong) {
  JobSpec spec = TrainJob();
  spec.task_groups.push_back({.name = "ps", .count = 2, .per_task = ResourceVector::Of(4000, 0, -1)});
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": task_groups[1].per_task.gpu = -1: must be >= 0"));
}

TEST(JobSpecValidation, RejectsImplausiblyLargeRequests) {
  const std::int64_t limit = std::int64_t{1} << 50;
  JobSpec spec = TrainJob();
  spec.task_groups[0].per_task.Set(kMemory, limit);
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.task_groups[0].per_task.Set(kMemory, limit + 1);
  EXPECT_TRUE(FailsMentioning(spec.Validate(),
                              {"job \"train-7\": task_groups[0].per_task.memory = " + std::to_string(limit + 1)}));
}

// The whole job's total of a kind must stay below 2^62: 4,095 tasks of
// 2^50 bytes pass, 4,096 do not, nor do two groups that reach it together.
TEST(JobSpecValidation, RejectsAJobWhoseTotalReaches2To62) {
  const std::int64_t big = std::int64_t{1} << 50;
  JobSpec spec = TrainJob();
  spec.task_groups[0].count = 4095;
  spec.task_groups[0].per_task = ResourceVector::Of(1000, big, 0);
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.task_groups[0].count = 4096;
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"task_groups (total memory)", "2^62 or more"}));
  spec.task_groups[0].count = 2048;
  spec.task_groups.push_back({.name = "more", .count = 2048, .per_task = ResourceVector::Of(1, big, 0)});
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"task_groups (total memory)"}));
}

TEST(JobSpecValidation, RejectsAGroupThatRequestsNothing) {
  JobSpec spec = TrainJob();
  spec.task_groups[0].per_task = ResourceVector();
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": task_groups[0].per_task: "}));
}

TEST(JobSpecValidation, RejectsMoreGpusPerTaskThanANodeCanHold) {
  JobSpec spec = TrainJob();
  spec.task_groups[0].per_task.Set(kGpu, kMaxGpusPerNode);
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
  spec.task_groups[0].per_task.Set(kGpu, kMaxGpusPerNode + 1);
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": task_groups[0].per_task.gpu = 65: "}));
}

TEST(JobSpecValidation, RejectsAnEmptyGpuModel) {
  JobSpec spec = TrainJob();
  spec.constraints.gpu_models = {"H100-80GB", ""};
  EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                               "job \"train-7\": constraints.gpu_models[1]: must not be empty"));
}

TEST(JobSpecValidation, RejectsAnEmptyNodeLabelKey) {
  JobSpec spec = TrainJob();
  spec.constraints.node_labels[""] = "x";
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": constraints.node_labels: "}));
}

TEST(JobSpecValidation, RejectsANegativeTimeLimit) {
  JobSpec spec = TrainJob();
  spec.time_limit = -1;
  EXPECT_TRUE(FailsMentioning(spec.Validate(), {"job \"train-7\": time_limit = -1: must be >= 0"}));
  spec.time_limit = 0;  // none
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
}

TEST(JobSpecValidation, RejectsMaxAttemptsOutsideTheRange) {
  for (std::int32_t attempts : {0, -1, 1001}) {
    JobSpec spec = TrainJob();
    spec.retry.max_attempts = attempts;
    EXPECT_TRUE(FailsWithMessage(spec.Validate(), "job \"train-7\": retry.max_attempts = " +
                                                      std::to_string(attempts) + ": must be in [1, 1000]"))
        << attempts;
  }
  for (std::int32_t attempts : {1, 1000}) {
    JobSpec spec = TrainJob();
    spec.retry.max_attempts = attempts;
    EXPECT_TRUE(spec.Validate().ok()) << attempts;
  }
}

TEST(JobSpecValidation, RejectsInvalidEnvironmentVariableNames) {
  {
    JobSpec spec = TrainJob();
    spec.command.env.push_back({"", "x"});
    EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                                 "job \"train-7\": command.env[1] = \"\": not a valid variable name"));
  }
  {
    JobSpec spec = TrainJob();
    spec.command.env = {{"A=B", "x"}};
    EXPECT_TRUE(FailsWithMessage(spec.Validate(),
                                 "job \"train-7\": command.env[0] = \"A=B\": not a valid variable name"));
  }
}

TEST(JobSpecValidation, RejectsAnEmptyProgramName) {
  JobSpec spec = TrainJob();
  spec.command.argv = {"", "train.py"};
  EXPECT_TRUE(FailsWithMessage(spec.Validate(), "job \"train-7\": command.argv[0]: must not be empty"));
}

TEST(JobSpecValidation, AcceptsASpecWithoutACommand) {
  JobSpec spec = TrainJob();
  spec.command = {};
  EXPECT_TRUE(spec.Validate().ok()) << spec.Validate();
}

// Every error path: the message starts with `job "<name>": `.
TEST(JobSpecValidation, EveryErrorStartsWithTheJobName) {
  const std::vector<std::function<void(JobSpec&)>> breakages = {
      [](JobSpec& s) { s.tenant = ""; },
      [](JobSpec& s) { s.user = ""; },
      [](JobSpec& s) { s.priority_class = static_cast<PriorityClass>(9); },
      [](JobSpec& s) { s.priority = kMaxPriority + 1; },
      [](JobSpec& s) { s.task_groups.clear(); },
      [](JobSpec& s) { s.task_groups.resize(65); },
      [](JobSpec& s) { s.task_groups.push_back(s.task_groups[0]); },
      [](JobSpec& s) { s.task_groups[0].count = 0; },
      [](JobSpec& s) { s.task_groups[0].per_task.Set(kGpu, -1); },
      [](JobSpec& s) { s.task_groups[0].per_task.Set(kCpu, (std::int64_t{1} << 50) + 1); },
      [](JobSpec& s) { s.task_groups[0].per_task = ResourceVector(); },
      [](JobSpec& s) { s.task_groups[0].per_task.Set(kGpu, 100); },
      [](JobSpec& s) { s.constraints.gpu_models.push_back(""); },
      [](JobSpec& s) { s.constraints.node_labels[""] = ""; },
      [](JobSpec& s) { s.time_limit = -kSecond; },
      [](JobSpec& s) { s.retry.max_attempts = 0; },
      [](JobSpec& s) { s.command.env.push_back({"X=1", ""}); },
      [](JobSpec& s) { s.command.argv = {""}; },
  };
  for (std::string_view name : {"train-7", "x"}) {
    for (std::size_t i = 0; i < breakages.size(); ++i) {
      JobSpec spec = TrainJob();
      spec.name = std::string(name);
      breakages[i](spec);
      const absl::Status s = spec.Validate();
      EXPECT_TRUE(FailsMentioning(s, {})) << "breakage " << i;
      EXPECT_EQ(std::string(s.message()).rfind("job \"" + std::string(name) + "\": ", 0), 0u)
          << "breakage " << i << ": " << s;
    }
  }
}

TEST(JobSpecTotals, CountsTasksOverAllGroups) {
  JobSpec spec = TrainJob();
  EXPECT_EQ(spec.total_tasks(), 4);
  spec.task_groups.push_back({.name = "ps", .count = 3, .per_task = ResourceVector::Of(2000, kGi, 0)});
  EXPECT_EQ(spec.total_tasks(), 7);
}

TEST(JobSpecTotals, SumsCountTimesRequestOverAllGroups) {
  JobSpec spec = TrainJob();
  spec.task_groups.push_back({.name = "ps", .count = 3, .per_task = ResourceVector::Of(2000, kGi, 0)});
  spec.task_groups[1].per_task.Set(Kind(3), 1);
  ResourceVector expected = ResourceVector::Of(4 * 32'000 + 3 * 2000, 4 * 256 * kGi + 3 * kGi, 32);
  expected.Set(Kind(3), 3);
  EXPECT_EQ(spec.total_request(), expected);
}

TEST(JobSpecTotals, AreZeroWithoutGroups) {
  JobSpec spec;
  EXPECT_EQ(spec.total_tasks(), 0);
  EXPECT_TRUE(spec.total_request().IsZero());
}

// Validate's limits exist to "keep one spec's resources well inside 64-bit
// arithmetic": a spec it accepts must have a total request that fits in int64.
// Computed here in 128 bits so the check itself cannot overflow.
TEST(JobSpecTotals, AcceptedSpecsHaveATotalRequestThatFitsInInt64) {
  JobSpec spec = TrainJob();
  spec.task_groups[0].count = kMaxTasksPerGroup;
  spec.task_groups[0].per_task = ResourceVector::Of(1000, std::int64_t{1} << 50, 0);
  if (!spec.Validate().ok()) return;  // rejecting the spec also keeps the promise
  __int128 total_memory = 0;
  for (const TaskGroup& g : spec.task_groups)
    total_memory += static_cast<__int128>(g.count) * g.per_task.memory_bytes();
  EXPECT_LE(total_memory, static_cast<__int128>(std::numeric_limits<std::int64_t>::max()))
      << "Validate accepted a spec whose total memory request overflows int64 ("
      << kMaxTasksPerGroup << " tasks x 2^50 bytes)";
}

RC_GTEST_PROP(JobSpecTotals, TotalsMatchAGroupByGroupSum, ()) {
  const int groups = *rc::gen::inRange(1, 8);
  JobSpec spec = TrainJob();
  spec.task_groups.clear();
  std::int64_t tasks = 0;
  std::vector<std::int64_t> expected(kMaxResourceKinds, 0);
  for (int g = 0; g < groups; ++g) {
    TaskGroup group{.name = "g" + std::to_string(g), .count = *rc::gen::inRange(1, 1000)};
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const std::int64_t q = *rc::gen::inRange<std::int64_t>(0, 1'000'000);
      group.per_task.Set(Kind(k), q);
      expected[k] += q * group.count;
    }
    tasks += group.count;
    spec.task_groups.push_back(group);
  }
  RC_ASSERT(spec.total_tasks() == tasks);
  const ResourceVector total = spec.total_request();
  for (int k = 0; k < kMaxResourceKinds; ++k) RC_ASSERT(total.Get(Kind(k)) == expected[k]);
}

TEST(PriorityClass, NamesEveryClass) {
  EXPECT_EQ(PriorityClassName(PriorityClass::kLow), "low");
  EXPECT_EQ(PriorityClassName(PriorityClass::kMedium), "medium");
  EXPECT_EQ(PriorityClassName(PriorityClass::kHigh), "high");
}

}  // namespace
}  // namespace mlsched
