// Engine: the deterministic scheduling state machine.
//
// The host feeds the engine events — nodes added, removed, changing state,
// GPUs changing health, jobs submitted or cancelled, tasks started or exited —
// and calls Tick() when NextWakeup() says so. Tick() runs one scheduling pass
// (none while nothing is queued) and returns a SchedulingRound of decisions
// for the host's Executor.
//
// Determinism: the engine reads time only from its Clock and randomness only
// from a generator seeded with `options.seed`. The same sequence of calls with
// the same clock readings and seed yields the same decisions, bit for bit.
//
// Errors: every call that can fail returns absl::Status; a refused call
// changes nothing. Unknown ids are kNotFound, bad arguments kInvalidArgument,
// calls that do not fit the current state (cancelling a finished job, a report
// with a stale fencing token) kFailedPrecondition.
//
// Thread-safety: none. The engine is single-threaded by design; a live host
// serializes calls (one loop, or a mutex around the engine). The one free
// function that acts on the process, ReleaseCachedMemory(), is safe from any
// thread.
//
// Ownership: Create() returns the engine as a unique_ptr; it holds copies of
// what it is given, except the Clock and Store, which must outlive it.
//
//   ManualClock clock;
//   auto engine = Engine::Create({.clock = &clock}).value();
//   NodeId n = engine->AddNode(node_spec).value();
//   JobId j = engine->Submit(job_spec).value();
//   SchedulingRound round;
//   engine->Tick(&round);                        // Start j on n, GPUs {0,1}
//   engine->TaskStarted({.job = j, .token = round.decisions[0].token, .task = 0});
//   engine->TaskExited({.job = j, .token = ..., .task = 0, .exit_code = 0});
//   engine.reset();
//   mlsched::ReleaseCachedMemory();              // the freed tables' memory, back to the system
#ifndef MLSCHED_ENGINE_H_
#define MLSCHED_ENGINE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/clock.h"
#include "mlsched/decision.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/job_state.h"
#include "mlsched/node.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/resources.h"
#include "mlsched/schedule.h"
#include "mlsched/store.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"
#include "mlsched/workflow.h"

namespace mlsched {

namespace internal {
class EngineImpl;
class EngineTestPeer;  // tests only: src/internal/engine_test_peer.h
}

struct EngineOptions {
  Clock* clock = nullptr;    // required; not owned
  Store* store = nullptr;    // optional; not owned; nullptr = journal nowhere
  std::uint64_t seed = 0;    // the engine's only source of randomness
  std::uint32_t epoch = 1;   // fencing epoch; raise it on every fail-over
  PolicySet policies;        // empty members are filled with DefaultPolicySet()
  std::vector<std::string> extended_resources;  // registered in the catalog, in order
  Duration kill_grace = 30 * kSecond;            // SIGTERM -> SIGKILL for kills
  // Node failure detection: a node that has not called Heartbeat() for
  // `heartbeat_interval * missed_heartbeats` goes Down (its attempts are
  // Lost and requeued); its next heartbeat brings it back Up. 0 = off.
  Duration heartbeat_interval = 0;
  std::int32_t missed_heartbeats = 3;  // >= 1
  // Jobs that ended more than this long ago are pruned from memory (GetJob
  // then says so). 0 = keep every job. A pruned job's records are freed by
  // blocks of 4,096 consecutive jobs, whose memory new jobs reuse; a job is
  // pruned only once none of its tasks holds resources. A workflow is pruned
  // with its last job (GetWorkflow then says so); until then its jobs keep
  // their records, which its status reads.
  Duration history_retention = 0;
  // Under history retention, job classes (jobs of one shape, tenant and
  // runtime estimate share one) whose jobs are all pruned are kept for new
  // jobs of the same class: the most recently emptied this many (>= 0) of
  // them. Older ones are freed, so a long run of jobs with distinct time
  // limits does not grow the engine.
  std::int32_t idle_job_classes_kept = 4096;
};

struct TaskReport {
  JobId job;
  FencingToken token;
  std::int32_t task = 0;  // index over all tasks of the job
};

struct TaskExit {
  JobId job;
  FencingToken token;
  std::int32_t task = 0;
  std::int32_t exit_code = 0;  // meaningful when signal == 0
  std::int32_t signal = 0;     // non-zero: the task was killed by this signal
};

// A running attempt wrote a checkpoint. Used to price preemption (GPU-time
// lost since the last checkpoint).
struct CheckpointReport {
  JobId job;
  FencingToken token;
  std::int64_t step = 0;  // >= 0, not below the attempt's previous checkpoint
  std::string uri;
  std::string checksum;   // optional, passed back on resume
};

struct CheckpointInfo {
  std::int64_t step = 0;
  std::string uri;
  std::string checksum;
  Timestamp time = 0;
  FencingToken token;    // the attempt that wrote it
  bool corrupt = false;  // reported corrupt: never resumed from
};

struct TaskStatus {
  TaskPlacement placement;
  bool started = false;
  bool exited = false;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
};

struct AttemptInfo {
  FencingToken token;
  Timestamp start = 0;
  Timestamp end = 0;  // 0 while live
  AttemptEnd outcome = AttemptEnd::kNone;
  bool stopping = false;    // a kill was sent; resources held until tasks exit
  bool preempting = false;  // asked to checkpoint; killed at kill_at
  Timestamp kill_at = 0;
  Timestamp last_checkpoint = 0;  // 0: none reported
  std::int64_t checkpoint_step = 0;
  std::int64_t resumed_from_step = -1;  // the checkpoint it started from; -1 = none
  Duration lost_gpu_time = 0;  // GPU-microseconds of work since its last checkpoint, for ended attempts
  std::string reason;          // how it ended, e.g. "exit code 3 (permanent)"
  std::vector<TaskStatus> tasks;
};

struct JobStatus {
  JobId id;
  std::string name;
  std::string tenant;
  std::string user;
  JobState state = JobState::kQueued;
  Timestamp submit_time = 0;
  Timestamp end_time = 0;  // when it reached a terminal state
  std::int64_t effective_priority = 0;  // now; meaningful while queued
  // Why it is in its state when that needs saying: the dead-letter reason,
  // the dependency that failed, the retry backoff.
  std::string reason;
  Timestamp eligible_at = 0;  // queued but held (retry backoff, begin time) until then; 0 = not held
  WorkflowId workflow;        // the workflow it belongs to, if any
  std::vector<AttemptInfo> attempts;    // oldest first
  std::vector<CheckpointInfo> checkpoints;  // oldest first
};

// Why a job is not running (or that it is).
struct Explanation {
  enum class Verdict : std::uint8_t {
    kNotPending,   // running or finished; see `state`
    kPending,      // queued; not yet considered by a pass
    kWait,         // feasible, no room now
    kInfeasible,   // cannot fit even on the empty cluster as it is
    kHeld,         // waiting for dependencies, its begin time or a retry backoff
  };
  JobId job;
  JobState state = JobState::kQueued;
  Verdict verdict = Verdict::kNotPending;
  std::string reason;
  std::int64_t effective_priority = 0;
  Timestamp evaluated_at = 0;    // time of the pass that produced `reason`
  Timestamp expected_start = 0;  // reserved (backfill) or nominated start; 0 = unknown
};
std::string_view VerdictName(Explanation::Verdict v);

struct JobFilter {
  std::optional<std::string> tenant;
  std::optional<std::string> user;
  std::optional<JobState> state;
  // Half-open time ranges [from, to): submitted in, ended in (ended implies terminal).
  std::optional<Timestamp> submitted_from, submitted_to;
  std::optional<Timestamp> ended_from, ended_to;
};

struct QueueDepth {
  struct Row {
    std::string tenant;
    std::array<std::int64_t, 3> by_class{};  // indexed by PriorityClass
  };
  std::array<std::int64_t, 3> by_class{};  // all tenants
  std::int64_t total = 0;
  std::vector<Row> by_tenant;  // tenants with pending jobs, by name
};

struct Utilization {
  ResourceVector total;      // capacity of nodes that are up or draining
  ResourceVector allocated;  // held by live attempts
  struct Model {
    std::string model;
    std::int64_t total = 0;      // healthy GPUs on up/draining nodes
    std::int64_t allocated = 0;
  };
  std::vector<Model> gpus_by_model;  // by model name
  std::int64_t running_jobs = 0;
  std::int64_t pending_jobs = 0;
};

struct Fragmentation {
  std::int64_t free_gpus = 0;                   // healthy free GPUs on up nodes
  std::int64_t free_gpus_on_partial_nodes = 0;  // free GPUs on up nodes with some GPUs in use
  std::int64_t largest_gang_in_8gpu_nodes = 0;  // up nodes with 8 or more free GPUs
  std::int64_t largest_gang_in_single_gpus = 0; // = free_gpus: 1-GPU tasks that could start
};

struct NodeStatus {
  NodeId id;
  std::string name;
  NodeState state = NodeState::kUp;
  ResourceVector capacity;
  ResourceVector allocated;
  GpuSet free_gpus;
  GpuSet unhealthy_gpus;
  Timestamp last_heartbeat = 0;
  std::int64_t live_tasks = 0;
};

struct EngineCounters {
  std::int64_t passes = 0;  // scheduling passes run (a Tick with nothing queued runs none)
  std::int64_t starts = 0;
  std::int64_t kills = 0;
  std::int64_t stale_reports = 0;  // reports refused for a stale fencing token
  std::int64_t duplicate_submits = 0;
  std::int64_t placement_attempts = 0;
  std::int64_t skipped_by_class = 0;  // jobs not tried because their class did not fit
  // Passes that, once no reservation or victim search was left to make,
  // walked the classes that could still start a job and passed over the
  // blocked ones (see src/internal/pass.cc).
  std::int64_t candidate_walks = 0;
  // Queued classes that passes left out of their walk from the start: they
  // could neither start a job nor search for victims, and were not among
  // the first blocked classes, which reserve (summed over all passes).
  std::int64_t classes_left_out = 0;
  std::int64_t reservations = 0;      // backfill reservations made (over all passes)
  std::int64_t preemptions = 0;       // victims asked to checkpoint and then killed
  std::int64_t preempting_passes = 0; // passes in which a job preempted
  // Victim searches that scanned nodes (at most max_preemptors_per_pass a
  // pass; a job whose search found nothing backs off, see policy/preemption.h).
  std::int64_t victim_searches = 0;
  double gpu_hours_lost_to_preemption = 0;  // GPU-time since victims' last checkpoint
  double gpu_hours_lost = 0;         // the same over every ended attempt that did not succeed
  std::int64_t retries = 0;          // failed attempts requeued for another try
  std::int64_t dead_lettered = 0;
  std::int64_t timed_out = 0;        // attempts killed at their time limit
  std::int64_t stuck = 0;            // attempts killed for want of progress reports
  std::int64_t nodes_lost = 0;       // nodes declared down for missed heartbeats
  std::int64_t pruned_jobs = 0;      // dropped by history retention
  std::int64_t pruned_workflows = 0; // dropped by history retention with their last job
  std::int64_t schedule_runs = 0;    // schedule firings that submitted work
  std::int64_t job_classes = 0;      // job classes made (one freed and made again counts again)
  // Classes held now. With history retention a class is freed once its
  // last job is pruned, so a long run of jobs with distinct runtime
  // estimates does not grow the engine.
  std::int64_t job_classes_held = 0;
};

class Engine {
 public:
  // Errors: missing clock, invalid policy options, bad extended resource names.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ResourceCatalog& catalog() const;
  Timestamp Now() const;

  // --- Nodes -------------------------------------------------------------
  // Errors: invalid spec, duplicate name (kAlreadyExists), unknown kinds.
  absl::StatusOr<NodeId> AddNode(NodeSpec spec);
  // Marks the node down (its attempts are Lost) and forgets it.
  absl::Status RemoveNode(NodeId node);
  absl::Status SetNodeState(NodeId node, NodeState state);
  absl::Status Heartbeat(NodeId node);
  // An unhealthy GPU is not placed on; a task already on it keeps running.
  absl::Status SetGpuHealth(NodeId node, int gpu, bool healthy);
  absl::StatusOr<NodeId> FindNode(std::string_view name) const;
  absl::StatusOr<NodeStatus> GetNode(NodeId node) const;

  // --- Tenants -----------------------------------------------------------
  // Adds or updates tenants atomically (see tenant.h); a job's tenant that was
  // never configured is created as an organisation with weight 1 and no quota.
  absl::Status ConfigureTenants(const std::vector<TenantSpec>& tenants);
  absl::StatusOr<TenantStatus> GetTenant(std::string_view name) const;
  std::vector<TenantStatus> ListTenants() const;  // by name

  // --- Jobs --------------------------------------------------------------
  // Validates and queues the job. A repeated idempotency key returns the
  // first job's id and changes nothing. The engine keeps its own copy of the
  // spec: one given by reference is copied once, straight into the job's
  // record (a trace replay submits its jobs so); one moved in is moved there.
  absl::StatusOr<JobId> Submit(const JobSpec& spec);
  absl::StatusOr<JobId> Submit(JobSpec&& spec);
  // Submits many jobs at once, all or nothing: every job is checked first,
  // and if one is refused (the error starts "jobs[i]: ") none is submitted.
  // Ids in the order of `specs`.
  absl::StatusOr<std::vector<JobId>> SubmitMany(std::vector<JobSpec> specs);
  // Whether Submit would accept the job now (the same checks), without
  // submitting it.
  absl::Status CheckJob(const JobSpec& spec) const;
  // A hint, like vector::reserve, from a trace replay or a bulk loader that
  // knows its size: room for `jobs` jobs in all in the lists of the job,
  // attempt and task tables' blocks. (The records themselves never move;
  // their blocks are allocated as jobs arrive.)
  void ReserveJobs(std::size_t jobs);
  // All jobs of the workflow or none; see workflow.h.
  absl::StatusOr<WorkflowSubmission> SubmitWorkflow(WorkflowSpec spec);
  // Errors: kNotFound for an unknown workflow, or one pruned by history
  // retention (with its last job).
  absl::StatusOr<WorkflowStatus> GetWorkflow(WorkflowId workflow) const;
  // A dead-lettered job back to the queue, with a fresh attempt budget.
  absl::Status Requeue(JobId job);

  // Schedules (schedule.h). Firings happen in Tick(), at their time.
  absl::StatusOr<ScheduleId> CreateSchedule(ScheduleSpec spec);
  absl::StatusOr<ScheduleStatus> GetSchedule(ScheduleId schedule) const;
  std::vector<ScheduleStatus> ListSchedules() const;  // live ones, by name
  // Replaces the spec (the name may change); the next firing is recomputed from now.
  absl::Status UpdateSchedule(ScheduleId schedule, ScheduleSpec spec);
  absl::Status PauseSchedule(ScheduleId schedule);
  absl::Status ResumeSchedule(ScheduleId schedule);
  // Jobs it already created are not touched.
  absl::Status DeleteSchedule(ScheduleId schedule);
  // The next `n` nominal firing times from now (fewer for a one-off).
  absl::StatusOr<std::vector<Timestamp>> PreviewSchedule(ScheduleId schedule, int n) const;
  // Cancels a non-terminal job; a live attempt is killed (Kill decision at the
  // next Tick) and keeps its resources until its tasks report their exit.
  absl::Status Cancel(JobId job);
  // Reports with a stale token are kFailedPrecondition and are counted.
  absl::Status TaskStarted(const TaskReport& report);
  absl::Status TaskExited(const TaskExit& report);
  absl::Status CheckpointReported(const CheckpointReport& report);
  // A checkpoint turned out unusable: later starts resume from an earlier one.
  absl::Status CheckpointCorrupt(JobId job, std::int64_t step);
  // The attempt is alive and making progress (for JobSpec::progress_timeout).
  absl::Status ProgressReported(const TaskReport& report);

  // --- Scheduling --------------------------------------------------------
  // Runs one pass at Now() and appends its decisions to `round` (cleared
  // first); with nothing queued, timers and kills only (no pass: it would
  // decide nothing). Reuses round's buffers: in steady state a pass
  // allocates nothing.
  absl::Status Tick(SchedulingRound* round);
  // Convenience: a new round; an error is returned as an empty round after
  // which error() is set.
  SchedulingRound Tick();
  // When Tick() must be called next: Now() if anything changed since the last
  // pass, a later time for timers, kInfiniteFuture if nothing is due.
  Timestamp NextWakeup() const;
  // OK, or the store error that stopped the engine.
  absl::Status error() const;

  // --- Queries -----------------------------------------------------------
  absl::StatusOr<JobStatus> GetJob(JobId job) const;
  // The state alone: O(1), no allocation.
  absl::StatusOr<JobState> GetState(JobId job) const;
  const JobSpec* GetSpec(JobId job) const;  // nullptr if unknown
  // Held jobs that match, in ascending ids. By tenant, user or state it
  // reads only that list; the users' lists are built by the first query by
  // user (a walk of the held jobs) and kept from then on.
  std::vector<JobId> ListJobs(const JobFilter& filter) const;
  QueueDepth GetQueueDepth() const;
  Utilization GetUtilization() const;
  Fragmentation GetFragmentation() const;
  absl::StatusOr<Explanation> Explain(JobId job) const;
  EngineCounters counters() const;
  std::int64_t job_count() const;
  std::int64_t node_count() const;  // nodes not removed

 private:
  friend class internal::EngineTestPeer;
  explicit Engine(std::unique_ptr<internal::EngineImpl> impl);
  std::unique_ptr<internal::EngineImpl> impl_;
};

// Gives back to the system the memory engines keep for reuse. The biggest
// tables (chunks of the job, attempt and task tables) keep freed chunks, up
// to 64 MiB per process, for the next chunk or the next engine, which then
// faults in no fresh memory. A host that is done with its engines, or short
// of memory, calls this; engines still running keep what they use. Returns
// the bytes given back. Thread-safe.
std::size_t ReleaseCachedMemory();

}  // namespace mlsched

#endif  // MLSCHED_ENGINE_H_
