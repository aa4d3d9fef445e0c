// Jobs files for `mlsched run`: YAML naming jobs, their dependencies,
// resources, retries, and schedules.
//
//   defaults:                      # optional; every job starts from these
//     tenant: demo
//     resources: {cpu: 1, memory: 256Mi}
//   jobs:
//     - name: preprocess
//       command: [sh, preprocess.sh]     # argv, no shell; or a string run by /bin/sh -c
//     - name: train
//       after: [preprocess]              # also after_any, after_failure
//       tasks: 2                         # a gang
//       resources: {cpu: 1, memory: 512Mi, gpu: 1}
//       retry: {max_attempts: 3, backoff: 1s, transient_exit_codes: [75]}
//       time_limit: 10m
//   schedules:
//     - name: heartbeat
//       cron: "* * * * *"                # or `in: 5s` for a one-off
//       runs: 2                          # `mlsched run` waits for this many firings
//       job: {command: "date", resources: {cpu: 0.1}}
//
// Every error names the file, line and column: `jobs.yaml:7:7: jobs[1].tasks:
// expected an integer, got "two"`; unknown keys list the known ones. Relative
// working directories are taken from the file's directory, which is also the
// default working directory. Nothing is returned unless the whole file is
// valid.
//
// Internal to the CLI: the library reads YAML only for policy documents
// (internal/yaml.h); jobs files are the CLI's format.
#ifndef MLSCHED_SRC_EXEC_JOBS_FILE_H_
#define MLSCHED_SRC_EXEC_JOBS_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mlsched/resources.h"
#include "mlsched/schedule.h"
#include "mlsched/time.h"
#include "mlsched/workflow.h"

namespace mlsched {

struct JobsFile {
  std::string path;
  WorkflowSpec workflow;  // every job of the file; dependencies as edges
  struct ScheduleEntry {
    ScheduleSpec spec;       // run_at of a one-off is filled in from `delay` by the caller
    Duration delay = -1;     // one-off (`in:`): fire this long after the run starts; -1 = cron
    int runs = 1;            // firings to wait for
  };
  std::vector<ScheduleEntry> schedules;
};

absl::StatusOr<JobsFile> ParseJobsFile(const ResourceCatalog& catalog, std::string_view text,
                                       std::string_view path, std::string_view base_dir);
// Reads and parses `path`; relative directories are relative to its directory.
absl::StatusOr<JobsFile> LoadJobsFile(const ResourceCatalog& catalog, const std::string& path);

}  // namespace mlsched

#endif  // MLSCHED_SRC_EXEC_JOBS_FILE_H_
