// Jobs files for `mlsched run`: what they say, and errors with file:line:column.
#include "exec/jobs_file.h"

#include <string>

#include "gtest/gtest.h"
#include "mlsched/resources.h"
#include "status_matchers.h"

namespace mlsched {
namespace {

using testing_util::FailsMentioning;
using testing_util::FailsWithMessage;

absl::StatusOr<JobsFile> Parse(std::string_view text) {
  static const ResourceCatalog catalog;
  return ParseJobsFile(catalog, text, "jobs.yaml", "/work/here");
}

TEST(JobsFile, ReadsJobsDependenciesResourcesRetriesAndSchedules) {
  auto f = Parse(R"(
name: nightly
defaults:
  tenant: research
  resources: {cpu: 2, memory: 1Gi}
jobs:
  - name: prep
    command: [python3, prep.py, --fast]
    env: {A: "1"}
  - name: train
    after: [prep]
    command: [torchrun, train.py]
    tasks: 4
    resources: {cpu: 8, memory: 64Gi, gpu: 2}
    retry: {max_attempts: 3, backoff: 30s, backoff_cap: 5m, transient_exit_codes: [75, 76]}
    time_limit: 2h30m
    priority: high
    preemptible: true
    working_dir: runs/train
  - name: notify
    after_failure: train
    command: echo failed | mail ops
schedules:
  - name: hourly
    cron: "0 * * * *"
    runs: 2
    job: {command: [date]}
  - name: later
    in: 10s
    job: {command: [date], resources: "cpu=100m"}
)");
  ASSERT_TRUE(f.ok()) << f.status();
  const WorkflowSpec& wf = f->workflow;
  EXPECT_EQ(wf.name, "nightly");
  ASSERT_EQ(wf.jobs.size(), 3u);
  const JobSpec& prep = wf.jobs[0];
  EXPECT_EQ(prep.tenant, "research");
  EXPECT_EQ(prep.command.argv, (std::vector<std::string>{"python3", "prep.py", "--fast"}));
  EXPECT_EQ(prep.command.working_dir, "/work/here");
  EXPECT_EQ(prep.task_groups[0].per_task, ResourceVector::Of(2000, std::int64_t{1} << 30, 0));
  ASSERT_EQ(prep.command.env.size(), 1u);
  const JobSpec& train = wf.jobs[1];
  EXPECT_EQ(train.task_groups[0].count, 4);
  EXPECT_EQ(train.task_groups[0].per_task, ResourceVector::Of(8000, std::int64_t{64} << 30, 2));
  EXPECT_EQ(train.retry.max_attempts, 3);
  EXPECT_EQ(train.retry.backoff_base, 30 * kSecond);
  EXPECT_EQ(train.retry.backoff_cap, 5 * kMinute);
  EXPECT_EQ(train.retry.transient_exit_codes, (std::vector<std::int32_t>{75, 76}));
  EXPECT_EQ(train.time_limit, 2 * kHour + 30 * kMinute);
  EXPECT_EQ(train.priority_class, PriorityClass::kHigh);
  EXPECT_TRUE(train.preemptible);
  EXPECT_EQ(train.command.working_dir, "/work/here/runs/train");
  EXPECT_EQ(wf.jobs[2].command.argv, (std::vector<std::string>{"/bin/sh", "-c", "echo failed | mail ops"}));
  ASSERT_EQ(wf.edges.size(), 2u);
  EXPECT_EQ(wf.edges[0].parent, "prep");
  EXPECT_EQ(wf.edges[0].child, "train");
  EXPECT_EQ(wf.edges[1].kind, DependencyKind::kAfterFailure);
  ASSERT_EQ(f->schedules.size(), 2u);
  EXPECT_EQ(f->schedules[0].spec.cron, "0 * * * *");
  EXPECT_EQ(f->schedules[0].runs, 2);
  EXPECT_EQ(f->schedules[0].spec.job->name, "hourly");
  EXPECT_EQ(f->schedules[1].delay, 10 * kSecond);
  EXPECT_EQ(f->schedules[1].spec.job->task_groups[0].per_task.cpu_millis(), 100);
}

TEST(JobsFile, UnknownKeyNamesTheFileLineColumnAndTheKnownKeys) {
  auto f = Parse("jobs:\n  - name: a\n    comand: [true]\n");
  EXPECT_TRUE(FailsMentioning(f.status(), {"jobs.yaml:3:5: jobs[0].comand: unknown key (known: after, after_any",
                                           "command"}));
  f = Parse("jobs: []\nsettings: {}\n");
  EXPECT_TRUE(FailsMentioning(f.status(), {"jobs.yaml:2:1: settings: unknown key"}));
  f = Parse("jobs:\n  - name: a\n    command: [x]\n    retry: {max_attempts: 2, bakoff: 1s}\n");
  EXPECT_TRUE(FailsMentioning(f.status(), {"jobs.yaml:4:30: jobs[0].retry.bakoff: unknown key"}));
}

TEST(JobsFile, WrongTypesNameTheFileLineColumnAndWhatWasExpected) {
  EXPECT_TRUE(FailsWithMessage(Parse("jobs:\n  - name: a\n    command: [x]\n    tasks: two\n").status(),
                               "jobs.yaml:4:12: jobs[0].tasks: expected an integer, got \"two\""));
  EXPECT_TRUE(FailsWithMessage(Parse("jobs:\n  - name: a\n    command: {x: 1}\n").status(),
                               "jobs.yaml:3:14: jobs[0].command: expected a list, got a mapping"));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n    command: [x]\n    time_limit: 5 parsecs\n").status(),
                              {"jobs.yaml:4:17: jobs[0].time_limit: \"5 parsecs\""}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n    command: [x]\n    resources: {gpu: lots}\n").status(),
                              {"jobs.yaml:4:22: jobs[0].resources.gpu"}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n    command: [x]\n    preemptible: maybe\n").status(),
                              {"jobs.yaml:4:18: jobs[0].preemptible: expected true or false"}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n    command: [x]\n    tasks: 0\n").status(),
                              {"jobs.yaml:4:12: jobs[0].tasks: 0 is outside [1, 100000]"}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs: {a: 1}\n").status(), {"jobs.yaml:1:7: jobs: expected a list of jobs"}));
  EXPECT_TRUE(FailsMentioning(Parse("- just\n- a list\n").status(), {"jobs.yaml:1:1", "expected a mapping"}));
}

TEST(JobsFile, DependenciesAndNamesAreChecked) {
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n    command: [x]\n    after: [b]\n").status(),
                              {"jobs.yaml:4:13: jobs[0] (a): depends on \"b\": no job of that name"}));
  EXPECT_TRUE(FailsMentioning(
      Parse("jobs:\n  - name: a\n    command: [x]\n  - name: a\n    command: [y]\n").status(),
      {"jobs.yaml:4:11: jobs[1].name: \"a\" is also the name of jobs[0]"}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - command: [x]\n").status(), {"jobs.yaml:2:5: jobs[0].name: missing"}));
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: a\n").status(), {"jobs.yaml:2:5: jobs[0].command: missing"}));
  EXPECT_TRUE(FailsMentioning(Parse("defaults: {after: [a]}\njobs: []\n").status(),
                              {"defaults.after: dependencies are given per job"}));
}

TEST(JobsFile, SchedulesAreChecked) {
  EXPECT_TRUE(FailsMentioning(Parse("schedules:\n  - name: s\n    cron: \"61 * * * *\"\n    job: {command: [x]}\n")
                                  .status(),
                              {"jobs.yaml:2:5: schedules[0]", "61"}));
  EXPECT_TRUE(FailsMentioning(Parse("schedules:\n  - name: s\n    job: {command: [x]}\n").status(),
                              {"schedules[0]: needs `cron` (repeating) or `in`"}));
}

TEST(JobsFile, SyntaxErrorsNameTheirPosition) {
  EXPECT_TRUE(FailsMentioning(Parse("jobs:\n  - name: [unclosed\n").status(), {"jobs.yaml:", "not valid YAML"}));
}

TEST(JobsFile, TheExamplesParse) {
  ResourceCatalog catalog;
  for (const char* name : {"pipeline.yaml", "retry.yaml", "failing.yaml"}) {
    auto f = LoadJobsFile(catalog, std::string(MLSCHED_EXAMPLES_DIR) + "/jobs/" + name);
    EXPECT_TRUE(f.ok()) << name << ": " << f.status();
  }
  EXPECT_EQ(LoadJobsFile(catalog, "/nonexistent/jobs.yaml").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlsched
