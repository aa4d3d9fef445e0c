// Trace readers: workloads from recorded job logs and from mlsched's own files.
//
// Each reader turns a file into a Workload (workload.h): the cluster, when the
// trace describes one, and the jobs in ascending submit time (stable). Files
// may be gzip-compressed whatever their name (recognised by the gzip magic
// bytes). Formats:
//
// - SWF, the Standard Workload Format of the Parallel Workloads Archive
//   (ReadSwf). The machine is modelled as a bare processor count so that
//   schedules can be compared job for job with textbook simulators: ONE node
//   "swf" with cpu = MaxProcs × 1000 milli-cores (MaxProcs from the header;
//   when it is missing, the larger of MaxNodes and the largest processor
//   count of a kept job), memory 2^50 bytes (never binding), no GPUs. Each job
//   is one task asking for cpu = procs × 1000 and nothing else, where procs is
//   the requested processor count (field 8) when positive, else the allocated
//   one (field 5). submit = field 2, runtime = field 4 (run time, as
//   recorded: a job that ran past its requested time is ended at that limit
//   by the engine, as on the real machine), time_limit = field 9 (requested
//   time) when positive, else none. Times may have decimals (rounded to the
//   microsecond). tenant = "u<user>" or "g<group>" (ReadOptions::swf_tenant;
//   "unknown" for -1), user = "u<user>", name = "job-<number>", trace_id =
//   job number. Dropped, and counted in ReadStats::skipped with a note: jobs
//   whose run time or processor count is unknown (-1), jobs of zero
//   processors, and partial-execution records (status 2, 3, 4; the job's
//   summary line is kept). A job larger than the machine stays: the engine
//   reports it infeasible. The header's UnixStartTime becomes
//   Workload::unix_start.
// - Alibaba GPU 2023 "openb" (ReadAlibabaGpu2023): a pod list and a node
//   list. The engine allocates whole GPU devices only, so GPU sharing is
//   modelled by capacity: the workload registers one extended resource
//   "gpu-milli" (extended kind 0, ResourceKind(3) in an engine created with
//   Workload::extended_resources) and each node offers gpus × 1000 of it.
//   A pod with num_gpu >= 1 and gpu_milli 1000 (or 0) asks for gpu = num_gpu
//   devices and gpu-milli = num_gpu × 1000; a pod with num_gpu 1 and
//   gpu_milli < 1000 asks for gpu-milli = gpu_milli and no device. This keeps
//   the per-node GPU capacity right, but does not model which device a share
//   lands on (two 600-milli pods may share a node of two GPUs although no
//   single GPU could hold both), and GPU-model constraints (gpu_spec, '|'
//   between models) bind only pods that ask for whole devices. qos gives the
//   class: LS high; Guaranteed, Burstable medium; BE low and preemptible.
//   submit = creation_time; runtime = deletion_time − scheduled_time (from
//   creation_time for pods never scheduled); no time limit. Pods never
//   deleted or with a negative duration are dropped (counted). tenant =
//   "qos-<qos>" (the trace has no tenant), user = "alibaba", name = the pod
//   name, trace_id = the line number. Columns are found by header name;
//   columns the reader does not use are ignored.
// - Philly arrivals as published with Gavel (ReadPhillyGavel): a directory
//   of "<cluster>.trace" files, one per Philly virtual cluster, with the
//   throughput table isolated_throughputs.csv and, optionally, the cluster
//   spec cluster_specs.json. Trace lines are tab-separated: job_type,
//   command, num_steps_arg, needs_data_dir, total_steps, arrival_time_s,
//   scale_factor (the job's GPU count); the table's columns (found by header
//   name) are gpu_type, job_type, scale_factor, steps_per_sec. A job's
//   duration is total_steps / steps_per_sec on ReadOptions::philly_gpu_type
//   ("v100") at its scale factor. The table lists scale factors 1, 2, 4 and
//   8 only (some job types 1 only): for another, the speed at the largest
//   tabulated scale factor below it is scaled linearly (counted in a note),
//   or with UnknownScale::kSkip the job is dropped (counted); a job type the
//   table lacks for the GPU type is a malformed line. A job asks for GPUs
//   only: one task of scale_factor GPUs when that fits a node
//   (ReadOptions::philly_gpus_per_node, 8), else a gang of whole nodes
//   (group "nodes") plus one task of the rest (group "rest"). The cluster
//   spec {"philly": ["500:0:0"]} counts v100:p100:k80 GPUs (the first spec
//   of the first member is used): the cluster is that many GPUs of the chosen
//   type on nodes of philly_gpus_per_node (the last one holds the rest),
//   model "V100" (the type in capitals), 4 cores and 64 GiB a GPU, which no
//   job asks for; without the file Workload::nodes is empty. tenant = user =
//   the virtual cluster (the file name without ".trace"); name =
//   "<cluster>-<line>"; submit = arrival_time_s; time_limit = the duration
//   (the scheduler knows it, as Gavel's does), or none when
//   philly_time_limits is false; trace_id = file index (files in name order)
//   × 1,000,000 + line. The table and the cluster spec are read strictly.
// - mlsched's jobs CSV (ReadJobsCsv) and JSON Lines (ReadJobsJsonl), and the
//   cluster CSV / JSON Lines (ReadClusterCsv, ReadClusterJsonl): see the
//   section "Trace files" of README.md. In these, unknown columns or keys are
//   errors, and trace_id is the line number.
//
// Errors are kInvalidArgument and say where and why, "<file>:<line>: <what>:
// <why>":
//
//   kth.swf:812: field 4 (run time) = "abc": not a number
//   jobs.csv:7: column 8 (cpu) = "8x": unknown suffix "x" (cpu takes cores or "m" for milli-cores)
//
// A missing file is kNotFound. A trace without a job is an error ("no jobs").
// With ReadOptions::lenient, malformed lines are skipped and counted instead.
//
//   sim::ReadStats stats;
//   absl::StatusOr<sim::Workload> w =
//       sim::ReadTrace("KTH-SP2-1996-2.1-cln.swf.gz", {.lenient = true}, &stats);
//   if (!w.ok()) return w.status();
//   for (const std::string& note : stats.notes) std::cerr << note << "\n";
//   absl::StatusOr<sim::Workload> philly = sim::ReadPhillyGavel("traces/philly-gavel", {.philly_gpu_type = "p100"});
//
// Thread-safety: the functions share no state and may run concurrently.
#ifndef MLSCHED_SIM_TRACE_H_
#define MLSCHED_SIM_TRACE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mlsched/node.h"
#include "mlsched/sim/workload.h"

namespace mlsched::sim {

struct ReadOptions {
  // Skip malformed lines (counted in ReadStats::skipped, first ones noted)
  // instead of failing on the first one.
  bool lenient = false;
  // Stop after this many jobs (in file order, before sorting); -1 = all.
  // (0 reads nothing and so fails with "no jobs".)
  std::int64_t max_jobs = -1;
  // SWF: whether users or groups become tenants.
  enum class TenantFrom : std::uint8_t { kUser, kGroup } swf_tenant = TenantFrom::kUser;
  // Philly (Gavel): the GPU type whose speeds give durations and whose count
  // the cluster spec gives ("v100", "p100" or "k80"); the GPUs of a node;
  // what to do with a scale factor the table lacks; whether jobs carry their
  // duration as their time limit.
  std::string philly_gpu_type = "v100";
  int philly_gpus_per_node = 8;
  enum class UnknownScale : std::uint8_t { kScaleLinearly, kSkip } philly_unknown_scale = UnknownScale::kScaleLinearly;
  bool philly_time_limits = true;
};

struct ReadStats {
  std::int64_t lines = 0;    // lines read (headers and comments included)
  std::int64_t jobs = 0;     // jobs produced
  std::int64_t skipped = 0;  // malformed lines skipped (lenient) plus jobs the format's rules drop
  // For the user: the first few skips with file:line and why, then one
  // total per reason ("12 skipped: run time unknown (-1)"), and facts worth
  // knowing about the trace (jobs longer than their requested time).
  std::vector<std::string> notes;
};

// SWF, plain or gzip'd. ParseSwf reads the text itself; `source` names it in
// messages.
absl::StatusOr<Workload> ReadSwf(const std::string& path, const ReadOptions& options = {},
                                 ReadStats* stats = nullptr);
absl::StatusOr<Workload> ParseSwf(std::string_view text, std::string_view source,
                                  const ReadOptions& options = {}, ReadStats* stats = nullptr);

// Alibaba cluster-trace-gpu-v2023 ("openb"): the pod list and the node list.
// Errors name the file they are in.
absl::StatusOr<Workload> ReadAlibabaGpu2023(const std::string& pods_csv,
                                            const std::string& nodes_csv,
                                            const ReadOptions& options = {},
                                            ReadStats* stats = nullptr);

// Philly (Gavel): every "*.trace" file of `dir` in name order, with
// `dir`/isolated_throughputs.csv and, when present, `dir`/cluster_specs.json.
// Errors name the file they are in. ParsePhillyGavel reads texts: each trace
// with its file name (which names its tenant), in the order given; an empty
// `cluster_json` means no cluster.
absl::StatusOr<Workload> ReadPhillyGavel(const std::string& dir, const ReadOptions& options = {},
                                         ReadStats* stats = nullptr);
struct TraceText {
  std::string name;  // "0e4a51.trace": the tenant is "0e4a51"
  std::string_view text;
};
absl::StatusOr<Workload> ParsePhillyGavel(const std::vector<TraceText>& traces,
                                          std::string_view throughputs_csv,
                                          std::string_view cluster_json,
                                          const ReadOptions& options = {},
                                          ReadStats* stats = nullptr);

// mlsched's jobs files (no cluster: Workload::nodes is empty).
absl::StatusOr<Workload> ReadJobsCsv(const std::string& path, const ReadOptions& options = {},
                                     ReadStats* stats = nullptr);
absl::StatusOr<Workload> ParseJobsCsv(std::string_view text, std::string_view source,
                                      const ReadOptions& options = {}, ReadStats* stats = nullptr);
absl::StatusOr<Workload> ReadJobsJsonl(const std::string& path, const ReadOptions& options = {},
                                       ReadStats* stats = nullptr);
absl::StatusOr<Workload> ParseJobsJsonl(std::string_view text, std::string_view source,
                                        const ReadOptions& options = {},
                                        ReadStats* stats = nullptr);

// mlsched's cluster files; strict (no lenient mode). At least one node.
absl::StatusOr<std::vector<NodeSpec>> ReadClusterCsv(const std::string& path);
absl::StatusOr<std::vector<NodeSpec>> ParseClusterCsv(std::string_view text,
                                                      std::string_view source);
absl::StatusOr<std::vector<NodeSpec>> ReadClusterJsonl(const std::string& path);
absl::StatusOr<std::vector<NodeSpec>> ParseClusterJsonl(std::string_view text,
                                                        std::string_view source);

// Picks a reader by file name, ignoring a final ".gz": ".swf" (ReadSwf),
// ".csv" (ReadJobsCsv), ".jsonl" (ReadJobsJsonl). Used by the CLI.
absl::StatusOr<Workload> ReadTrace(const std::string& path, const ReadOptions& options = {},
                                   ReadStats* stats = nullptr);

}  // namespace mlsched::sim

#endif  // MLSCHED_SIM_TRACE_H_
