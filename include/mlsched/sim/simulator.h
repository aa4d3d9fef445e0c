// Simulator: replays a workload through the real Engine.
//
// A discrete-event loop with a ManualClock and a simulated executor: jobs are
// submitted at their trace times; each start decision runs the job's tasks
// for its trace runtime (less the work saved by its last checkpoint), or
// until the engine kills it (time limit, preemption, lost node); every exit
// goes back to the engine as a task report. Events at one instant are all
// applied before the engine's pass at that instant. What is measured is what
// the engine would do live.
//
// Fault injection, from a generator seeded with `seed`: node failures
// (exponential time between failures per node, fixed repair time), task
// crashes (an attempt crashes with a probability, at a uniform point of its
// run, by signal 11: transient, so retried), and periodic checkpoints.
// Same workload + options + seed => identical results and digest.
//
//   sim::SimOptions options{.policies = sim::NamedPolicySet("drf-easy").value()};
//   sim::Report r = sim::Simulate(workload, options).value();
//
// Thread-safety: Simulate is reentrant; each call owns its engine.
#ifndef MLSCHED_SIM_SIMULATOR_H_
#define MLSCHED_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/retry.h"
#include "mlsched/sim/report.h"
#include "mlsched/sim/workload.h"
#include "mlsched/tenant.h"

namespace mlsched::sim {

struct FaultOptions {
  Duration node_mtbf = 0;          // mean time between failures of one node; 0 = none
  Duration node_repair = kHour;    // > 0
  double task_crash_probability = 0;  // per attempt, in [0, 1]
  Duration checkpoint_interval = 0;   // running jobs checkpoint this often; 0 = only when asked (preemption)
};

struct SimOptions {
  std::string name;        // the report's policy column; defaults to the policy set's description
  PolicySet policies;      // empty members: the engine's defaults
  std::vector<TenantSpec> tenants;  // quotas and weights; tenants of the trace not listed get weight 1
  std::uint64_t seed = 1;
  FaultOptions faults;
  // Applied to every job of the workload (a trace has no retry policy):
  // faults are transient, so retrying them is the norm.
  RetryPolicy retry{.max_attempts = 3, .backoff_base = 0};
  Duration sample_interval = 0;  // time series; 0 = makespan / 200 (estimated from the trace)
  bool keep_job_results = true;
  // Called now and then with the fraction of jobs ended (for progress bars).
  std::function<void(double)> progress;
};

absl::StatusOr<Report> Simulate(const Workload& workload, const SimOptions& options);

// Named policy sets for the CLI and the bindings:
//   fcfs (strict first come, first served: nobody overtakes a blocked job),
//   fifo (submission order; later jobs that fit start), priority (priority
//   + aging), sjf (shortest requested time first),
//   easy (FIFO + EASY backfill), conservative (FIFO + reservations for all),
//   drf (priority + DRF fair share), drf-easy (+ EASY backfill),
//   drf-easy-preempt (+ priority preemption and quota reclaim).
absl::StatusOr<PolicySet> NamedPolicySet(std::string_view name);
std::vector<std::string> PolicySetNames();

}  // namespace mlsched::sim

#endif  // MLSCHED_SIM_SIMULATOR_H_
