// Preemption: making room for a job that must not wait.
//
// Two triggers, each optional:
// - priority: a blocked job may evict preemptible running jobs of a strictly
//   lower priority class;
// - reclaim: a blocked job whose tenant stays within its guarantee may evict
//   jobs of tenants that run on borrowed quota (preemptible jobs, or jobs that
//   started while their tenant was borrowing).
// Victims are chosen to minimise, in this order, the GPU-time lost since each
// victim's last checkpoint, the victims' priority, and their number; a victim
// set is chosen only if the preemptor then certainly fits. Victims first get a
// SignalCheckpoint decision, then after `grace` a Kill; they are requeued
// keeping their place and age. The preemptor is nominated to the freed
// resources: nothing else may take them while the victims wind down.
//
// Anti-thrash: victims must have run `min_runtime`; each tenant may cause at
// most `max_victims_per_window` evictions per `window`; priority preemption
// only goes downwards in class and reclaim only takes borrowed capacity, so
// no job can evict the job that evicted it.
//
// The host carries out SignalCheckpoint decisions (Executor::SignalCheckpoint)
// and reports checkpoints back so that the cost of evicting stays low:
//
//   PolicySet policies = DefaultPolicySet();
//   policies.preemption = PreemptionOptions{.grace = 2 * kMinute, .min_runtime = 10 * kMinute};
//   ...
//   for (const Decision& d : round.decisions)
//     if (d.kind == DecisionKind::kSignalCheckpoint) executor.SignalCheckpoint(d.job, d.token);
//   engine->CheckpointReported({.job = j, .token = t, .step = 1200, .uri = "s3://ckpt/1200"});
//
// Thread-safety: plain values; the engine runs preemption on its own thread.
#ifndef MLSCHED_POLICY_PREEMPTION_H_
#define MLSCHED_POLICY_PREEMPTION_H_

#include "absl/status/status.h"
#include "mlsched/time.h"

namespace mlsched {

struct PreemptionOptions {
  bool priority = true;
  bool reclaim = true;
  Duration grace = 2 * kMinute;         // checkpoint signal -> kill
  Duration min_runtime = 10 * kMinute;  // a victim must have run this long
  int max_victims_per_window = 32;      // per preempting tenant, >= 1
  Duration window = 10 * kMinute;       // > 0
  // Victim searches per pass (each scans the eligible nodes), >= 1. A job
  // whose search found nothing backs off (10 s, doubling up to 5 min) and
  // then searches again only after a possible victim has started or a
  // minute has passed.
  int max_preemptors_per_pass = 1;
  absl::Status Validate() const;
};

}  // namespace mlsched

#endif  // MLSCHED_POLICY_PREEMPTION_H_
