// Workload: a cluster and the jobs submitted to it over time, as read from a
// trace or made by the synthetic generator. The simulator replays one.
//
// Times in a workload are microseconds from the start of the trace (the
// first submission need not be at 0). Each job carries what the engine needs
// (a JobSpec: tenant, user, task groups, time limit = the requested time) and
// what only the simulated executor knows: its actual run time.
//
//   sim::Workload w = sim::ReadSwf("HPC2N-2002-2.2-cln.swf.gz", {}).value();
//   sim::Workload s = sim::Synthetic({.jobs = 100'000, .seed = 7});
//
// Thread-safety: plain values.
#ifndef MLSCHED_SIM_WORKLOAD_H_
#define MLSCHED_SIM_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mlsched/job_spec.h"
#include "mlsched/node.h"
#include "mlsched/time.h"

namespace mlsched::sim {

struct TraceJob {
  JobSpec spec;
  Timestamp submit = 0;     // from the start of the trace
  Duration runtime = 0;     // what the job really runs, >= 0; capped by spec.time_limit when that is set
  std::int64_t trace_id = 0;  // the job's number in the trace (SWF job number, line number, ...)
};

struct Workload {
  std::string name;               // e.g. the file name
  std::vector<std::string> extended_resources;  // resource kinds the nodes and jobs use beyond cpu/memory/gpu
  std::vector<NodeSpec> nodes;    // the cluster; may be empty when the trace has none
  std::vector<TraceJob> jobs;     // ascending submit time (stable for equal times)
  // Unix time (microseconds) of the trace's time 0 when the trace records it
  // (SWF UnixStartTime); 0 = unknown. For showing dates, not for scheduling.
  Timestamp unix_start = 0;
};

}  // namespace mlsched::sim

#endif  // MLSCHED_SIM_WORKLOAD_H_
