// Report: what one simulation measured, and how to print or save it.
//
// Metrics over the jobs that started and ended in the run: job completion
// time (JCT = end - submit) and waiting time (first start - submit) as mean
// and percentiles; bounded slowdown max(1, (wait + run) / max(run, 10 s));
// makespan; GPU and CPU utilisation overall and sampled over time; each
// tenant's share of GPU-time and Jain's fairness index; fragmentation;
// preemptions, GPU-hours lost, retries, dead letters; and the scheduler's own
// cost (passes, decisions per second, time per pass — the only wall-clock
// figures, kept out of the digest).
//
// `digest` hashes every job's outcome (start, end, state, attempts): the same
// workload, options and seed give the same digest.
//
//   std::cout << FormatComparison({fifo_report, drf_report});
//   WriteJson(report, "out.json");
//
// Thread-safety: plain values and functions.
#ifndef MLSCHED_SIM_REPORT_H_
#define MLSCHED_SIM_REPORT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/ids.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched::sim {

struct Distribution {
  std::int64_t count = 0;
  double mean = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
};
// Nearest-rank percentiles of `values` (reordered in place; O(n)).
Distribution Summarize(std::span<double> values);

struct JobResult {
  std::int64_t trace_id = 0;
  JobId job;
  std::string tenant;
  Timestamp submit = 0;
  Timestamp first_start = -1;  // -1: never started
  Timestamp end = -1;          // -1: not ended when the run stopped
  JobState state = JobState::kQueued;
  std::int32_t attempts = 0;
  std::int64_t gpus = 0;       // GPUs of one attempt
  Duration runtime = 0;        // from the trace
};

struct TimePoint {
  Timestamp time = 0;
  std::int64_t gpus_used = 0;
  std::int64_t cpu_used = 0;  // milli-cores
  std::int64_t pending = 0;
  std::int64_t running = 0;
  std::int64_t free_gpus_on_partial_nodes = 0;
  std::vector<std::int64_t> tenant_gpus;  // by Report::tenants order
};

struct TenantResult {
  std::string name;
  std::int64_t jobs = 0;
  double gpu_hours = 0;
  double share = 0;  // of all GPU-hours used
  Distribution wait;  // seconds
};

struct Report {
  std::string policy;
  std::string workload;
  std::int64_t jobs = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;      // ended otherwise (dead-lettered, cancelled, upstream failed)
  std::int64_t unfinished = 0;  // not ended when the run stopped (e.g. could never fit)
  Distribution jct;             // seconds
  Distribution wait;            // seconds
  Distribution bounded_slowdown;
  Duration makespan = 0;        // first submit to last end
  double gpu_utilization = 0;   // GPU-time used / (GPUs x makespan)
  double cpu_utilization = 0;
  // Jain's fairness index of the active tenants' allocations per unit of
  // weight (GPUs; CPU on a cluster without GPUs), averaged over the samples
  // in which two or more tenants had work. Tenants with little demand lower
  // it: it measures equality of allocation, not of satisfaction.
  double jain_index = 1;
  double mean_free_gpus_on_partial_nodes = 0;
  std::int64_t preemptions = 0;
  double gpu_hours_lost = 0;
  std::int64_t retries = 0;
  std::int64_t dead_lettered = 0;
  std::int64_t node_failures = 0;
  std::int64_t passes = 0;
  std::int64_t decisions = 0;
  double wall_seconds = 0;
  double decisions_per_second = 0;
  double us_per_pass = 0;
  double jobs_per_second = 0;  // simulated jobs per wall second
  std::uint64_t digest = 0;
  std::vector<TenantResult> tenants;  // by name
  std::vector<TimePoint> series;
  std::vector<JobResult> job_results;  // by submission order
};

// A table with one column per report.
std::string FormatComparison(std::span<const Report> reports);
// The reports (without per-job rows) as a JSON document.
std::string ToJson(std::span<const Report> reports);
absl::Status WriteJson(std::span<const Report> reports, const std::string& path);
// One row per job: trace_id,job,tenant,submit,first_start,end,state,attempts,gpus,runtime,wait,jct.
absl::Status WriteJobsCsv(const Report& report, const std::string& path);

}  // namespace mlsched::sim

#endif  // MLSCHED_SIM_REPORT_H_
