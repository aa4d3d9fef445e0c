// Synthetic workloads: a GPU cluster and ML-like jobs from a seed.
//
// For experiments without a trace, and for tests and benchmarks that need a
// realistic mix at any scale. The shapes follow what the Philly (Jeon et
// al., ATC 2019) and PAI (Weng et al., NSDI 2022) studies report: most jobs
// use one GPU, few use many, and the few large ones hold most GPU-time;
// run times are heavy-tailed; arrivals follow the working day.
//
// The cluster: `nodes` GPU nodes of `gpus_per_node` GPUs of `gpu_model`
// (80 GiB each), 12 cores and 128 GiB per GPU (96 cores and 1 TiB for 8
// GPUs), one NVLink domain per 8 GPUs, named gpu-0..; plus `cpu_nodes` nodes
// of 128 cores and 512 GiB without GPUs, named cpu-0... Topology paths
// "block-b/rack-r": `nodes_per_rack` nodes per rack, `racks_per_block`
// racks per block; the CPU nodes fill racks of their own after the GPU racks.
//
// The jobs, each one task group (distributions are of all jobs):
// - shape: `cpu_job_fraction` CPU-only preprocessing jobs (4, 8, 16 or 32
//   cores with weights 30/30/25/15 %, 8 GiB per core); `gang_fraction`
//   multi-node gangs of 2, 3, 4, 6 or 8 tasks (45/10/30/5/10 %) of a whole
//   node's GPUs each, preferring one rack (topology level 1, not required);
//   the rest single-node GPU jobs of 1, 2, 4 or 8 GPUs (53/18/15/14 %, so
//   with the defaults about half of the GPU jobs use one GPU). A GPU task
//   asks for 10 cores and 96 GiB per GPU. Counts above gpus_per_node
//   become gpus_per_node; gangs larger than the cluster shrink to it.
// - run time: log-normal, by shape (median, σ of the log): CPU 15 min, 1.0;
//   1 GPU 30 min, 1.5; 2–4 GPUs 1 h, 1.5; 8 GPUs 2 h, 1.5; gangs 6 h, 1.2;
//   at least 1 minute, at most `max_runtime`.
// - time limit: `exact_limit_fraction` of jobs ask exactly their run time;
//   the others overestimate it by a factor log-uniform in [1.2, 5], rounded
//   up to whole 5 minutes.
// - tenants "team-0".."team-<tenants-1>" with Zipf weights 1/(k+1)^
//   tenant_skew; users "team-k-u0".. (uniform, `users_per_tenant` each).
// - priority: 10 % high, 75 % medium, 15 % low and preemptible.
// - arrivals: a Poisson process whose rate, with `diurnal`, varies over the
//   day as mean × (1 + diurnal_amplitude × cos(2π (t − 15:00) / 24 h))
//   (peak at 15:00, trough at 03:00; time 0 is a midnight), drawn by
//   thinning. The mean gap is `mean_interarrival`, or, when that is 0, the
//   one that makes the offered GPU load (GPU-time of all jobs over GPUs ×
//   arrival span) equal `load`.
//
// Deterministic: the same options give the same workload on every platform.
// Randomness is std::mt19937_64 (its sequence is fixed by the C++ standard)
// through this file's own transforms (no std:: distributions, whose
// results differ between standard libraries); each aspect (shape, run time,
// limit, tenant, class, arrival) draws from its own stream, so changing the
// arrival options leaves the jobs' shapes alone. Out-of-range options are
// clamped to the nearest sensible value (at least one node, one tenant, ...).
//
//   sim::Workload w = sim::Synthetic({.jobs = 20'000, .seed = 7, .nodes = 128});
//
// Thread-safety: a pure function.
#ifndef MLSCHED_SIM_SYNTHETIC_H_
#define MLSCHED_SIM_SYNTHETIC_H_

#include <cstdint>
#include <string>

#include "mlsched/sim/workload.h"
#include "mlsched/time.h"

namespace mlsched::sim {

struct SyntheticOptions {
  std::int64_t jobs = 10'000;
  std::uint64_t seed = 1;
  int tenants = 8;
  double tenant_skew = 1.0;  // Zipf exponent; 0 = uniform
  int users_per_tenant = 4;
  Duration mean_interarrival = 0;  // 0: chosen for `load`
  double load = 0.85;              // offered GPU load when mean_interarrival is 0
  bool diurnal = true;
  double diurnal_amplitude = 0.5;  // in [0, 1)
  // Cluster.
  int nodes = 64;         // GPU nodes
  int gpus_per_node = 8;  // 0..64
  std::string gpu_model = "A100-80GB";
  int cpu_nodes = 4;
  int nodes_per_rack = 32;
  int racks_per_block = 4;
  // Jobs.
  double cpu_job_fraction = 0.10;
  double gang_fraction = 0.05;
  double exact_limit_fraction = 0.2;
  Duration max_runtime = 3 * kDay;
};

Workload Synthetic(const SyntheticOptions& options);

}  // namespace mlsched::sim

#endif  // MLSCHED_SIM_SYNTHETIC_H_
