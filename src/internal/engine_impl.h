#ifndef MLSCHED_SRC_INTERNAL_ENGINE_IMPL_H_
#define MLSCHED_SRC_INTERNAL_ENGINE_IMPL_H_

// The engine's state and its event handling (see src/engine.cc for the
// design notes). Scheduling passes are in src/internal/pass.cc, reservations
// in src/internal/backfill.cc, victim search in src/internal/preemption.cc,
// dependencies, retries, timers and checkpoints in src/internal/lifecycle.cc
// and schedules in src/internal/schedules.cc.

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <random>
#include <span>
#include <tuple>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "fmt/format.h"
#include "internal/chunked_bits.h"
#include "internal/chunked_vector.h"
#include "internal/cluster.h"
#include "internal/hash_chain.h"
#include "internal/huge_page_allocator.h"
#include "internal/pending_queue.h"
#include "internal/record_blocks.h"
#include "internal/swept_heap.h"
#include "internal/tenants.h"
#include "mlsched/cron.h"
#include "mlsched/engine.h"
#include "mlsched/status_macros.h"

namespace mlsched {
namespace internal {


struct WaitInfo {
  enum class Code : std::uint8_t { kNone, kNoRoom, kPolicyInvalid, kQuota, kTopology };
  Code code = Code::kNone;
  std::uint16_t group = 0;
  QuotaBlock quota;
  std::uint32_t task = 0;
  std::uint32_t node = kNil;  // kPolicyInvalid: the node the policy chose
};
static_assert(sizeof(WaitInfo) == 24, "JobClass keeps a WaitInfo in its first cache line");

// Tasks of one shape's task group that each node, and each topology domain
// of a level, could host on free resources, as of `mark` in the cluster's
// change log (EngineImpl::OrderDomains).
struct DomainHosts {
  bool built = false;
  std::uint64_t mark = 0;
  std::uint32_t nodes = 0, domains = 0, groups = 0;  // as counted: node count, domains, class's groups_seen
  std::vector<std::int64_t> per_node;
  std::vector<std::int64_t> per_domain;  // by EngineImpl::DomainSlot
};

struct alignas(64) JobClass {
  // The first cache line holds what every pass reads or writes for every
  // class with queued jobs; the second its total request (may a head search
  // for victims?). The rest is read when the class is tried.
  std::uint32_t tenant = 0;    // leaf tenant of every job of the class, when classes are per tenant
  mutable std::uint32_t shape = kNil;  // numbered on first use: see EngineImpl::NumberShape()
  bool infeasible = false;
  bool listed_by_tenant = false;  // in EngineImpl::tenant_classes_ (fair share)
  bool blocked_last_pass = false;  // this pass: its wait of the last pass was for room
  bool candidate = false;          // this pass: might start a job
  bool searchable = false;         // this pass: its head may search for victims
  bool settled = false;            // this pass: a class of its shape with no longer an estimate found
                                   // no room for one task, so it cannot start either (`wait` says why)
  bool started = false;            // this pass: a job of it started (`searchable` was its first head's)
  bool left_out = false;           // this pass: can neither start nor search; walked only among the first blocked
  WaitInfo wait;
  // Cluster::capacity_version() when checked (RefreshClass): it also moves
  // when a node group is created, so that is all a pass compares.
  std::uint64_t checked_capacity = ~std::uint64_t{0};
  std::uint64_t wait_pass = 0;  // pass in which `wait` was recorded (0: none to go by)
  Timestamp wait_time = 0;
  ResourceVector total;           // sum over groups of count * per_task
  std::uint32_t groups_seen = 0;  // node groups checked for eligibility
  Duration estimate = 0;          // runtime estimate shared by the class (backfill only)
  // A class whose jobs are all pruned is kept for its next job among the
  // most recently emptied, then freed and its id reused, unless it numbers
  // its shape (EngineImpl::DropClassRef; its count of jobs is in class_use_).
  mutable bool numbers_shape = false;  // EngineImpl::shape_first_class_ points to it
  bool evicted = false;                // to be freed once no tenant's list names it
  std::size_t hash = 0;                // under which class_index_ holds it
  // Inline for the common one-group class: making a class allocates nothing.
  absl::InlinedVector<TaskGroup, 1> groups;  // shape shared by every job of the class
  Constraints constraints;
  absl::InlinedVector<absl::InlinedVector<std::uint32_t, 4>, 1> eligible;  // per task group: node groups
  std::string infeasible_reason;
};

// Hot fields first: a pass touches these, never the spec (placement reads the
// shape from the job's class, which every job of the class shares). The
// first cache line holds what a pass reads of every class head.
struct alignas(64) JobRec {
  JobRec() = default;
  explicit JobRec(JobSpec&& s) : spec(std::move(s)) {}
  explicit JobRec(const JobSpec& s) : spec(s) {}

  JobState state = JobState::kQueued;
  PriorityClass priority_class = PriorityClass::kMedium;
  bool nominated = false;             // a preemption made room for it
  std::uint8_t preempt_failures = 0;  // fruitless searches in a row
  std::uint32_t tenant = 0;
  std::uint32_t klass = 0;
  std::int64_t base = 0;
  Timestamp enq = 0;  // start of the current wait; kept across requeues
  Timestamp preempt_retry_at = 0;            // no victim search before this
  Timestamp preempt_failed_at = 0;
  std::uint64_t preempt_failed_version = 0;  // VictimVersion() at its last failed victim search
  std::uint32_t last_attempt = kNil;
  std::uint32_t attempt_count = 0;
  std::uint32_t state_prev = kNil, state_next = kNil;
  Timestamp submit = 0;
  Timestamp end = 0;
  std::uint64_t queued_pass = 0;  // passes_ when it was last queued
  Duration estimate = 0;          // runtime estimate; 0 = unknown
  std::uint64_t reserved_pass = 0;  // pass of its last reservation
  Timestamp reserved_start = 0;
  // Lifecycle (src/internal/lifecycle.cc).
  std::uint32_t unmet = 0;                  // dependencies not yet met (WaitingDeps)
  std::uint32_t first_dependent = kNil;     // list of edges to its dependents in dep_edges_
  std::uint32_t workflow = kNil;
  std::uint32_t last_checkpoint_rec = kNil; // newest in checkpoints_
  std::uint32_t attempt_base = 0;           // attempts made before its last requeue from dead letter
  Timestamp hold_until = 0;                 // queued but held (backoff, begin time) until then
  bool pruned = false;                      // dropped by history retention
  bool watched = false;                     // has a time limit or a progress timeout
  JobSpec spec;
};

struct AttemptRec {
  std::uint32_t job = 0;
  std::uint32_t prev = kNil;  // the job's previous attempt
  FencingToken token;
  std::uint32_t first_task = 0;
  std::uint32_t task_count = 0;
  std::uint32_t started = 0;  // tasks that reported start (or exit)
  std::uint32_t alive = 0;    // tasks holding resources
  Timestamp start = 0;
  Timestamp end = 0;
  AttemptEnd outcome = AttemptEnd::kNone;
  bool stopping = false;
  bool preempting = false;  // asked to checkpoint; killed at kill_at
  bool borrowed = false;    // its tenant was borrowing when it started
  bool counted_evictable = false;  // its live tasks are in nodes' evictable_gpus
  bool counted_reclaimable = false;  // and in their reclaimable_gpus
  std::uint8_t cls = 0;            // the job's priority class, copied for victim search
  bool preemptible = false;
  // Also copied for victim search and reservation walks, which then read no
  // job record: the job's class when it started (any later class of the job
  // has the same task groups), tenant, base priority and GPUs (all tasks).
  std::uint32_t klass = 0;
  std::uint32_t tenant = 0;
  std::int64_t base = 0;
  std::int64_t gpus = 0;
  Timestamp kill_at = 0;
  Timestamp expected_end = kInfiniteFuture;  // start + estimate
  Timestamp last_checkpoint = 0;
  std::int64_t checkpoint_step = 0;
  std::uint32_t resumed_from = kNil;  // checkpoints_ record it started from
  Timestamp last_progress = 0;        // start, then the latest progress or checkpoint report
  Duration lost_gpu_time = 0;         // GPU-microseconds since the last checkpoint, set when it ends
  std::int32_t exit_code = 0;         // of the first failing task
  std::int32_t signal = 0;
};

// An edge from a job to one that depends on it.
struct DepEdge {
  std::uint32_t child = 0;
  std::uint32_t next = kNil;  // the parent's next edge
  DependencyKind kind = DependencyKind::kAfterSuccess;
};

struct CheckpointRec {
  std::uint32_t prev = kNil;  // the job's previous checkpoint
  bool corrupt = false;
  FencingToken token;
  std::int64_t step = 0;
  Timestamp time = 0;
  std::string uri;
  std::string checksum;
};

struct ScheduleRec {
  ScheduleSpec spec;
  std::optional<CronExpression> cron;  // none for a one-off
  absl::TimeZone tz;
  bool deleted = false;
  Timestamp next = kInfiniteFuture;  // nominal time of the next firing
  Timestamp last_fire = 0;
  std::int64_t runs = 0, skipped = 0, failed = 0;
  std::string last_error;
  std::vector<JobId> last_jobs;
  WorkflowId last_workflow;
};

struct WorkflowRec {
  std::string name;
  std::string idempotency_key;
  std::uint32_t first_job = 0;  // its jobs have consecutive ids
  std::uint32_t job_count = 0;
  std::uint32_t pruned_jobs = 0;  // by history retention: the workflow goes with the last
  bool pruned = false;
  UpstreamFailure on_upstream_failure = UpstreamFailure::kMarkUpstreamFailed;
  std::vector<std::uint32_t> topo;  // local indexes, parents first
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;  // local (parent, child)
};

// Lifecycle timers, fired by Tick in (time, kind, id) order. Entries are not
// removed when they become moot; each kind re-checks its condition on firing.
struct Timer {
  enum class Kind : std::uint8_t { kRelease, kTimeLimit, kProgress, kHeartbeat, kSchedule };
  Timestamp time;
  Kind kind;
  std::uint32_t id;  // job, attempt, attempt, node, schedule
  friend auto operator<=>(const Timer&, const Timer&) = default;
};

// A preemptor and the room made for it.
struct Nomination {
  std::uint32_t job = 0;
  std::vector<std::uint32_t> victims;  // attempts
  struct Slot {
    std::uint32_t node;
    ResourceVector amount;
    GpuSet gpus;
    // What ClaimNomination last claimed here (RemoveClaim takes it back).
    ResourceVector claimed;
    GpuSet claimed_gpus;
  };
  std::vector<Slot> plan;
  // The pass whose try to place the job found no room (0: none). In the
  // next pass it tries only if a node where a task could fit grew.
  std::int64_t no_room_pass = 0;
};

// A step of a node's time profile (conservative backfilling): what is free
// from t until the next step.
struct ProfileStep {
  Timestamp t;
  ResourceVector free;
  GpuSet gpus;
};

// One cache line each (a victim search reads the tasks of a node one after
// another, at random in the table), and 32,768 of them fill a huge page.
struct alignas(64) TaskRec {
  std::uint32_t attempt = 0;
  std::uint32_t node = 0;
  std::uint32_t node_pos = 0;  // index in the node's live_tasks
  std::uint32_t index = 0;     // flat task index in the job
  std::uint16_t group = 0;
  std::uint8_t cls = 0;        // the attempt's priority class and preemptible flag, copied so that
  bool preemptible = false;    // a victim search by priority skips other tasks without the attempt
  // Copied too, for a lower bound of a node's cheapest victim without reading
  // attempts (TryPreempt): the attempt's GPUs (at most 65,535 counted, which
  // keeps it a lower bound) and its last checkpoint (or start).
  std::uint16_t attempt_gpus = 0;
  bool started = false;
  bool exited = false;
  Timestamp start = 0;  // the attempt's start, copied too: young attempts are skipped alike
  Timestamp since = 0;
  GpuSet gpus;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
};
static_assert(sizeof(TaskRec) == 64, "a task per cache line, 32,768 to a huge page");

struct PendingKill {
  std::uint32_t attempt;
  KillReason reason;
};

struct Tentative {
  std::uint32_t node;
  GpuSet gpus;
  std::uint16_t group;
  std::uint32_t task;
  ResourceVector claim_taken;  // see Cluster::TakeFromClaim
};

// Dense interning of tenant / user names.
class Names {
 public:
  std::uint32_t Intern(const std::string& name) {
    auto [it, inserted] = ids_.try_emplace(name, static_cast<std::uint32_t>(names_.size()));
    if (inserted) names_.push_back(name);
    return it->second;
  }
  std::optional<std::uint32_t> Find(const std::string& name) const {
    auto it = ids_.find(name);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  const std::string& Name(std::uint32_t id) const { return names_[id]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(names_.size()); }

 private:
  absl::flat_hash_map<std::string, std::uint32_t> ids_;
  std::vector<std::string> names_;
};

class EngineImpl {
 public:
  explicit EngineImpl(EngineOptions options)
      : options_(std::move(options)),
        clock_(options_.clock),
        store_(options_.store),
        ordering_(options_.policies.ordering),
        placement_(options_.policies.placement),
        queue_(ordering_->aging()),
        rng_(options_.seed) {
    state_head_.fill(kNil);
    if (options_.policies.fair_share) tenants_.set_half_life(options_.policies.fair_share->usage_half_life);
    tenant_keyed_ = options_.policies.fair_share.has_value();
    cluster_.set_track_preemptible(options_.policies.preemption.has_value());
    if (options_.policies.backfill) {
      estimator_ = options_.policies.backfill->estimator ? options_.policies.backfill->estimator
                                                         : NewTimeLimitEstimator();
    }
  }

  // For tests only (through EngineTestPeer): with `full_pass_walk`, a pass
  // takes none of its shortcuts past blocked classes (none is left out of the
  // heaps, no candidate walk, none passed over on the way to a search) and
  // walks every class with queued jobs in order; with `full_profile_scan`,
  // conservative backfilling tries every profile time for one-task jobs too,
  // as for gangs. The properties EngineInvariants.PassShortcutsChangeNoDecision
  // and ConservativeOneTaskSearchChangesNoDecision compare both ways.
  void set_full_pass_walk_for_testing(bool on) { full_pass_walk_for_testing_ = on; }
  void set_full_profile_scan_for_testing(bool on) { full_profile_scan_for_testing_ = on; }

  absl::Status RegisterExtended() {
    for (const std::string& name : options_.extended_resources) {
      auto kind = catalog_.Register(name);
      if (!kind.ok()) return kind.status();
    }
    return absl::OkStatus();
  }

  const ResourceCatalog& catalog() const { return catalog_; }
  Timestamp Now() const { return clock_->Now(); }
  absl::Status error() const { return failed_; }

  // ---------------------------------------------------------------- nodes
  absl::StatusOr<NodeId> AddNode(NodeSpec spec) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_RETURN_IF_ERROR(spec.Validate());
    MLSCHED_RETURN_IF_ERROR(
        CheckKindsRegistered(catalog_, spec.capacity, fmt::format("node \"{}\": capacity", spec.name)));
    if (node_by_name_.contains(spec.name)) {
      return absl::AlreadyExistsError(fmt::format("node \"{}\": a node with this name exists", spec.name));
    }
    const Timestamp now = Now();
    const auto id = cluster_.node_count();
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kNodeAdded, .time = now, .node = NodeId(id),
                                     .node_spec = &spec}));
    node_by_name_.emplace(spec.name, id);
    cluster_.Add(std::move(spec), now);
    ++live_nodes_;
    dirty_ = true;
    node_watch_.push_back(0);
    ArmHeartbeat(id);
    return NodeId(id);
  }

  absl::Status RemoveNode(NodeId node) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
    const Timestamp now = Now();
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kNodeRemoved, .time = now, .node = node}));
    MLSCHED_RETURN_IF_ERROR(ApplyNodeState(n, NodeState::kDown, now));
    node_by_name_.erase(cluster_.node(n).spec.name);
    cluster_.MarkRemoved(n);
    --live_nodes_;
    return absl::OkStatus();
  }

  absl::Status SetNodeState(NodeId node, NodeState state) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
    if (static_cast<int>(state) > static_cast<int>(NodeState::kDown)) {
      return absl::InvalidArgumentError(
          fmt::format("node \"{}\": state {}: not a node state", cluster_.node(n).spec.name,
                      static_cast<int>(state)));
    }
    if (cluster_.node(n).state == state) return absl::OkStatus();
    const Timestamp now = Now();
    MLSCHED_RETURN_IF_ERROR(
        Journal({.kind = RecordKind::kNodeState, .time = now, .node = node, .node_state = state}));
    node_watch_[n] &= ~kDownByHeartbeat;  // the host decided: a heartbeat no longer brings it up
    if (state != NodeState::kDown) cluster_.mutable_node(n).last_heartbeat = now;
    MLSCHED_RETURN_IF_ERROR(ApplyNodeState(n, state, now));
    if (state != NodeState::kDown) ArmHeartbeat(n);
    return absl::OkStatus();
  }

  // O(1): the deadline is checked when its timer fires.
  absl::Status Heartbeat(NodeId node);

  absl::Status SetGpuHealth(NodeId node, int gpu, bool healthy) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
    const NodeRec& rec = cluster_.node(n);
    if (gpu < 0 || gpu >= rec.all_gpus.size()) {
      return absl::InvalidArgumentError(fmt::format("node \"{}\": gpu {}: the node has GPUs 0..{}",
                                                    rec.spec.name, gpu, rec.all_gpus.size() - 1));
    }
    if (rec.unhealthy.Contains(gpu) == !healthy) return absl::OkStatus();
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kGpuHealth, .time = Now(), .node = node,
                                     .task = gpu, .exit_code = healthy ? 1 : 0}));
    cluster_.SetGpuHealth(n, gpu, healthy);
    dirty_ = true;
    if (!healthy) return LoseAttemptsOnGpu(n, gpu, Now());
    return absl::OkStatus();
  }

  absl::StatusOr<NodeId> FindNode(std::string_view name) const {
    auto it = node_by_name_.find(std::string(name));
    if (it == node_by_name_.end()) return absl::NotFoundError(fmt::format("node \"{}\": unknown", name));
    return NodeId(it->second);
  }

  absl::StatusOr<NodeStatus> GetNode(NodeId node) const {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
    const NodeRec& r = cluster_.node(n);
    return NodeStatus{.id = node,
                      .name = r.spec.name,
                      .state = r.state,
                      .capacity = r.capacity,
                      .allocated = r.allocated,
                      .free_gpus = r.free_gpus,
                      .unhealthy_gpus = r.unhealthy,
                      .last_heartbeat = r.last_heartbeat,
                      .live_tasks = static_cast<std::int64_t>(r.live_tasks.size())};
  }

  // ----------------------------------------------------------------- jobs
  // `Spec` is JobSpec (moved into the record) or const JobSpec (copied into it).
  template <typename Spec>
  absl::StatusOr<JobId> Submit(Spec&& spec) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    if (!spec.idempotency_key.empty()) {
      auto it = by_idempotency_key_.find(spec.idempotency_key);
      if (it != by_idempotency_key_.end()) {
        ++counters_.duplicate_submits;
        return JobId(it->second);
      }
    }
    MLSCHED_RETURN_IF_ERROR(CheckSubmittable(spec));
    if (jobs_.size() >= kNil - 1) return absl::ResourceExhaustedError("the engine holds 2^32 - 2 jobs");
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, AddJob(std::forward<Spec>(spec), Now(), kNil));
    return JobId(j);
  }

  void ReserveJobs(std::size_t jobs) {
    if (jobs > kNil - 2) jobs = kNil - 2;
    jobs_.reserve(jobs);
    attempts_.reserve(jobs);
    tasks_.reserve(jobs);
  }

  absl::Status CheckJob(const JobSpec& spec) const {
    MLSCHED_RETURN_IF_ERROR(failed_);
    if (!spec.idempotency_key.empty() && by_idempotency_key_.contains(spec.idempotency_key)) return absl::OkStatus();
    return CheckSubmittable(spec);
  }

  absl::StatusOr<std::vector<JobId>> SubmitMany(std::vector<JobSpec> specs) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    if (jobs_.size() + specs.size() >= kNil - 1) return absl::ResourceExhaustedError("the engine holds 2^32 - 2 jobs");
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (!specs[i].idempotency_key.empty() && by_idempotency_key_.contains(specs[i].idempotency_key)) continue;
      if (absl::Status s = CheckSubmittable(specs[i]); !s.ok())
        return absl::Status(s.code(), fmt::format("jobs[{}]: {}", i, std::string(s.message())));
    }
    std::vector<JobId> ids;
    ids.reserve(specs.size());
    const Timestamp now = Now();
    for (JobSpec& spec : specs) {
      if (!spec.idempotency_key.empty()) {
        if (auto it = by_idempotency_key_.find(spec.idempotency_key); it != by_idempotency_key_.end()) {
          ++counters_.duplicate_submits;
          ids.push_back(JobId(it->second));
          continue;
        }
      }
      MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, AddJob(std::move(spec), now, kNil));
      ids.push_back(JobId(j));
    }
    return ids;
  }

  absl::StatusOr<WorkflowSubmission> SubmitWorkflow(WorkflowSpec spec);
  absl::StatusOr<WorkflowStatus> GetWorkflow(WorkflowId id) const;
  absl::Status Requeue(JobId id);
  absl::Status CheckpointCorrupt(JobId id, std::int64_t step);
  absl::Status ProgressReported(const TaskReport& r);

  // Schedules (src/internal/schedules.cc).
  absl::StatusOr<ScheduleId> CreateSchedule(ScheduleSpec spec);
  absl::StatusOr<ScheduleStatus> GetSchedule(ScheduleId id) const;
  std::vector<ScheduleStatus> ListSchedules() const;
  absl::Status UpdateSchedule(ScheduleId id, ScheduleSpec spec);
  absl::Status PauseSchedule(ScheduleId id);
  absl::Status ResumeSchedule(ScheduleId id);
  absl::Status DeleteSchedule(ScheduleId id);
  absl::StatusOr<std::vector<Timestamp>> PreviewSchedule(ScheduleId id, int n) const;

  absl::Status Cancel(JobId id) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
    JobRec& job = jobs_[j];
    if (IsTerminal(job.state)) {
      return absl::FailedPreconditionError(fmt::format("job \"{}\" (#{}): already {}; nothing to cancel",
                                                       job.spec.name, j, JobStateName(job.state)));
    }
    const Timestamp now = Now();
    if (IsActive(job.state)) {
      AttemptRec& a = attempts_[job.last_attempt];
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kCancelled, now, a.token));
      EndAttempt(job.last_attempt, AttemptEnd::kCancelled, KillReason::kCancelled, now);
      return absl::OkStatus();
    }
    MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kCancelled, now, {}));
    Dequeue(j);
    dirty_ = true;  // its reservation or nomination, if any, must go
    return absl::OkStatus();
  }

  absl::Status TaskStarted(const TaskReport& r) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t a, CheckReport(r.job, r.token, r.task, "started"));
    AttemptRec& att = attempts_[a];
    TaskRec& task = tasks_[att.first_task + r.task];
    if (task.started || task.exited) return absl::OkStatus();  // duplicate: nothing to do
    const Timestamp now = Now();
    if (journaling())
      MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kTaskStarted, .time = now, .job = r.job,
                                       .token = r.token, .task = r.task}));
    task.started = true;
    ++att.started;
    return MaybeRunning(a, now);
  }

  absl::Status TaskExited(const TaskExit& r) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t a, CheckReport(r.job, r.token, r.task, "exited"));
    AttemptRec& att = attempts_[a];
    TaskRec& task = tasks_[att.first_task + r.task];
    if (task.exited) return absl::OkStatus();  // duplicate: never counted twice
    const Timestamp now = Now();
    if (journaling())
      MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kTaskExited, .time = now, .job = r.job,
                                       .token = r.token, .task = r.task, .exit_code = r.exit_code,
                                       .signal = r.signal}));
    if (!task.started) {
      task.started = true;
      ++att.started;
    }
    task.exit_code = r.exit_code;
    task.signal = r.signal;
    ReleaseTask(att.first_task + r.task, now);
    if (att.outcome != AttemptEnd::kNone) return absl::OkStatus();  // already ending
    const std::uint32_t j = att.job;
    const bool success = r.exit_code == 0 && r.signal == 0;
    if (!success) {
      att.exit_code = r.exit_code;
      att.signal = r.signal;
      MLSCHED_RETURN_IF_ERROR(MaybeRunning(a, now));
      return EndAttemptWith(a, JobState::kFailed, AttemptEnd::kFailed, KillReason::kGangFailed, now);
    }
    MLSCHED_RETURN_IF_ERROR(MaybeRunning(a, now));
    if (att.alive == 0) {
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kSucceeded, now, att.token));
      EndAttempt(a, AttemptEnd::kSucceeded, KillReason::kNone, now);
    }
    return absl::OkStatus();
  }

  absl::Status CheckpointReported(const CheckpointReport& r) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t a, CheckReport(r.job, r.token, 0, "checkpoint"));
    AttemptRec& att = attempts_[a];
    if (r.step < 0 || r.step < att.checkpoint_step) {
      return absl::InvalidArgumentError(fmt::format("job #{}: checkpoint step {} is older than step {}",
                                                    r.job.value(), r.step, att.checkpoint_step));
    }
    const Timestamp now = Now();
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kCheckpoint, .time = now, .job = r.job, .token = r.token,
                                     .checkpoint_step = r.step, .checkpoint_uri = r.uri}));
    att.last_checkpoint = now;
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
      tasks_[t].since = now;
      if (!tasks_[t].exited) BoundVictim(tasks_[t]);
    }
    att.last_progress = now;
    att.checkpoint_step = r.step;
    JobRec& job = jobs_[att.job];
    checkpoints_.emplace_back(CheckpointRec{.prev = job.last_checkpoint_rec, .token = r.token, .step = r.step,
                                            .time = now, .uri = r.uri, .checksum = r.checksum});
    job.last_checkpoint_rec = static_cast<std::uint32_t>(checkpoints_.size() - 1);
    return absl::OkStatus();
  }

  // ----------------------------------------------------------- scheduling
  absl::Status Tick(SchedulingRound* round) {
    round->Clear();
    const Timestamp now = Now();
    round->time = now;
    MLSCHED_RETURN_IF_ERROR(failed_);
    // What is due now: usually nothing, tested here inline (every tick makes
    // these tests; the work behind them is out of line).
    queue_.AdvanceTo(now);
    if (!timers_.empty() && timers_.top().time <= now) MLSCHED_RETURN_IF_ERROR(FireTimers(now));
    if (!kill_timers_.empty() && kill_timers_.top().first <= now) MLSCHED_RETURN_IF_ERROR(FireKillTimers(now));
    if (PruneDue(now)) PruneHistory(now);
    if (!pending_kills_.empty()) EmitKills(round);
    if (now >= preempt_wakeup_) dirty_ = true;  // a blocked job may search for victims again
    if (!dirty_) return absl::OkStatus();
    dirty_ = false;
    if (queue_.size() == 0 && nominations_.empty()) {
      // Nothing to start, reserve or search for: no pass (after most exits
      // when the queue has drained). What a pass would take up later (grown
      // nodes, activated classes) waits for the next one; what it would reset
      // is reset here. Shares are worked out as a pass would: with decay,
      // when they are matters.
      preempt_wakeup_ = kInfiniteFuture;
      conservative_early_release_ = false;
      if (options_.policies.fair_share) tenants_.ComputeShares(now, cluster_.total());
      return absl::OkStatus();
    }
    ++counters_.passes;
    return RunPass(now, round);
  }

  // Defined in src/internal/pass.cc, backfill.cc and preemption.cc.
  absl::Status RunPass(Timestamp now, SchedulingRound* round);
  // Conservative backfilling (src/internal/conservative.cc).
  absl::Status RunConservativePass(Timestamp now, SchedulingRound* round);
  void BuildProfiles(Timestamp now);
  // Takes the plan's resources from the profile over [start, end), or gives them back.
  void UseProfile(const std::vector<Nomination::Slot>& plan, Timestamp start, Timestamp end, bool take);
  bool PlanFitsProfile(const std::vector<Nomination::Slot>& plan, Timestamp start, Timestamp end);
  bool EarliestInProfile(const JobClass& c, Timestamp now, Timestamp* start, std::vector<Nomination::Slot>* plan);
  bool conservative() const {
    return options_.policies.backfill && options_.policies.backfill->reservation_depth == kReserveAll;
  }
  bool Reserve(std::uint32_t j, const JobClass& c, Timestamp now);
  bool TryPreempt(std::uint32_t j, const JobClass& c, Timestamp now, SchedulingRound* round);
  absl::Status PlaceNominated(Timestamp now, SchedulingRound* round);
  void ClaimNomination(Nomination& nom, Timestamp now);
  void UnclaimNomination(const Nomination& nom);
  // Claims again what UnclaimNomination took back, in the same pass.
  void RestoreNominationClaim(const Nomination& nom, Timestamp now);
  // A class blocked for want of room in the previous pass stays blocked if no
  // node where it could find room grew since (see grown_).
  bool StillBlocked(JobClass& c) { return c.blocked_last_pass && !FitsGrown(c); }
  // Whether a task of some group fits an eligible grown node. It depends only
  // on the shape: worked out once per shape while the grown nodes stay as they are.
  bool FitsGrown(JobClass& c) {
    const std::uint32_t shape = c.shape != kNil ? c.shape : NumberShape(c);
    if (shape_grown_version_[shape] == grown_version_) return shape_fits_grown_[shape];
    return ShapeFitsGrown(c);
  }
  std::uint32_t ShapeOf(std::uint32_t klass) { return ShapeOf(classes_[klass]); }
  std::uint32_t ShapeOf(const JobClass& c) { return c.shape != kNil ? c.shape : NumberShape(c); }
  static bool OneTask(const JobClass& c) { return c.groups.size() == 1 && c.groups.front().count == 1; }
  bool ShapeFitsGrown(const JobClass& c);
  // Runtime estimate as an order: none (0) is the longest.
  static Duration EstimateOrder(const JobClass& c) {
    return c.estimate > 0 ? c.estimate : std::numeric_limits<Duration>::max();
  }
  std::uint32_t NumberShape(const JobClass& c);
  void RecomputeGrownMax();
  // Appends those of `classes` still candidates to shape_candidates_ (which
  // RunPass clears at the start of each pass) and numbers their shapes.
  void ListCandidatesByShape(std::span<const std::uint32_t> classes);
  // Changes whenever an attempt that `job` could evict starts (by priority
  // class, or any borrowed attempt when it could reclaim): a failed victim
  // search is repeated only when this moved (or a minute passed).
  std::uint64_t VictimVersion(const JobRec& job, bool reclaim) const;
  // Cheap necessary condition for a victim search by priority to find anything.
  // `room`: RoomByPriority(), the GPUs free plus those of preemptible attempts
  // below each priority class.
  using PreemptionRoom = std::array<std::int64_t, 3>;
  PreemptionRoom RoomByPriority() const;
  bool CouldPreemptByPriority(const JobRec& job, const JobClass& klass, const PreemptionRoom& room) const {
    if (!options_.policies.preemption->priority) return false;
    if (klass.total.gpus() == 0) return job.priority_class != PriorityClass::kLow;
    // Only lower classes' preemptible GPUs can be freed: with none, a search
    // would look for room on free GPUs alone, which placement found short.
    const std::int64_t room_here = room[static_cast<std::size_t>(job.priority_class)];
    return room_here > room[0] && room_here >= klass.total.gpus();
  }
  absl::Status FireKillTimers(Timestamp now);
  // Trial placement of a whole job on the backfill overlay among `nodes`;
  // fills `plan` (one slot per task) and leaves the overlay unchanged.
  bool TrialPlace(const JobClass& c, std::span<const std::uint32_t> nodes, std::vector<Nomination::Slot>* plan);
  void Touch(std::uint32_t n);

  Timestamp NextWakeup() const {
    if (!failed_.ok()) return kInfiniteFuture;
    if (dirty_ || !pending_kills_.empty()) return Now();
    DropEndedTimers();
    Timestamp next = preempt_wakeup_;
    if (!kill_timers_.empty()) next = std::min(next, kill_timers_.top().first);
    if (!timers_.empty()) next = std::min(next, timers_.top().time);
    return next == kInfiniteFuture ? next : std::max(Now(), next);
  }

  // A timer that can no longer fire: a time-limit or progress timer whose
  // attempt has ended (its end is final).
  bool TimerMoot(const Timer& t) const {
    return (t.kind == Timer::Kind::kTimeLimit || t.kind == Timer::Kind::kProgress) && !AttemptLive(t.id);
  }
  void PushTimer(const Timer& t) {
    timers_.Push(t, [this](const Timer& x) { return TimerMoot(x); });
  }
  // Time-limit, progress and kill timers of attempts that have ended do
  // nothing when they fire (FireTimers, FireKillTimers skip them): the ones
  // on top are dropped, so that a host is not woken for them. The attempt's
  // end is final, so this changes nothing but the wakeup.
  void DropEndedTimers() const {
    while (!timers_.empty() && TimerMoot(timers_.top())) timers_.pop();
    while (!kill_timers_.empty() && !AttemptLive(kill_timers_.top().second)) kill_timers_.pop();
  }

  // -------------------------------------------------------------- queries
  absl::StatusOr<JobStatus> GetJob(JobId id) const {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
    const JobRec& job = jobs_[j];
    const Timestamp now = Now();
    JobStatus s{.id = id,
                .name = job.spec.name,
                .tenant = job.spec.tenant,
                .user = job.spec.user,
                .state = job.state,
                .submit_time = job.submit,
                .end_time = job.end,
                .effective_priority = queue_.EffectivePriority(job.base, job.enq, now)};
    if (auto it = reasons_.find(j); it != reasons_.end()) s.reason = it->second;
    if (job.state == JobState::kQueued && job.hold_until > now && !queue_.Contains(j)) {
      s.eligible_at = job.hold_until;
      if (s.reason.empty()) s.reason = fmt::format("held until +{}", FormatDuration(job.hold_until - now));
    }
    if (job.workflow != kNil) s.workflow = WorkflowId(job.workflow);
    for (std::uint32_t c = job.last_checkpoint_rec; c != kNil; c = checkpoints_[c].prev) {
      const CheckpointRec& r = checkpoints_[c];
      s.checkpoints.push_back({.step = r.step, .uri = r.uri, .checksum = r.checksum, .time = r.time,
                               .token = r.token, .corrupt = r.corrupt});
    }
    std::reverse(s.checkpoints.begin(), s.checkpoints.end());
    for (std::uint32_t a = job.last_attempt; a != kNil; a = attempts_[a].prev) {
      const AttemptRec& att = attempts_[a];
      AttemptInfo info{.token = att.token, .start = att.start, .end = att.end,
                       .outcome = att.outcome, .stopping = att.stopping, .preempting = att.preempting,
                       .kill_at = att.kill_at, .last_checkpoint = att.last_checkpoint,
                       .checkpoint_step = att.checkpoint_step,
                       .resumed_from_step = att.resumed_from == kNil ? -1 : checkpoints_[att.resumed_from].step,
                       .lost_gpu_time = att.lost_gpu_time,
                       .reason = AttemptReason(job, att)};
      for (std::uint32_t t = 0; t < att.task_count; ++t) {
        const TaskRec& task = tasks_[att.first_task + t];
        info.tasks.push_back({.placement = {.task = task.index, .group = task.group,
                                            .node = NodeId(task.node), .gpus = task.gpus},
                              .started = task.started,
                              .exited = task.exited,
                              .exit_code = task.exit_code,
                              .signal = task.signal});
      }
      s.attempts.push_back(std::move(info));
    }
    std::reverse(s.attempts.begin(), s.attempts.end());
    return s;
  }

  absl::StatusOr<JobState> GetState(JobId id) const {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
    return jobs_[j].state;
  }

  const JobSpec* GetSpec(JobId id) const {
    return id.valid() && Held(id.value()) ? &jobs_[id.value()].spec : nullptr;
  }

  std::vector<JobId> ListJobs(const JobFilter& f) const {
    std::vector<JobId> out;
    std::optional<std::uint32_t> tenant, user;
    if (f.tenant) {
      tenant = tenants_.Find(*f.tenant);
      if (tenant && *tenant >= tenant_jobs_.size()) return out;
      if (!tenant) return out;
    }
    if (f.user) {
      IndexByUser();
      user = by_user_.names.Find(*f.user);
      if (!user) return out;
    }
    auto keep = [&](std::uint32_t j) {
      if (!Held(j)) return;
      const JobRec& job = jobs_[j];
      if (tenant && job.tenant != *tenant) return;
      if (user && job.spec.user != *f.user) return;
      if (f.state && job.state != *f.state) return;
      if (f.submitted_from && job.submit < *f.submitted_from) return;
      if (f.submitted_to && job.submit >= *f.submitted_to) return;
      if ((f.ended_from || f.ended_to) && !IsTerminal(job.state)) return;
      if (f.ended_from && job.end < *f.ended_from) return;
      if (f.ended_to && job.end >= *f.ended_to) return;
      out.push_back(JobId(j));
    };
    if (tenant) {
      for (std::uint32_t j : tenant_jobs_[*tenant].ids) keep(j);
    } else if (user) {
      for (std::uint32_t j : by_user_.jobs[*user]) keep(j);
    } else if (f.state) {
      for (std::uint32_t j = state_head_[static_cast<int>(*f.state)]; j != kNil; j = jobs_[j].state_next)
        keep(j);
    } else {  // every held job is on its state's list: O(jobs held), however many were pruned
      for (std::uint32_t head : state_head_)
        for (std::uint32_t j = head; j != kNil; j = jobs_[j].state_next) keep(j);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  QueueDepth GetQueueDepth() const {
    QueueDepth d;
    for (std::uint32_t t = 0; t < pending_by_tenant_.size(); ++t) {
      const auto& counts = pending_by_tenant_[t];
      std::int64_t sum = 0;
      for (int c = 0; c < 3; ++c) {
        d.by_class[c] += counts[c];
        sum += counts[c];
      }
      d.total += sum;
      if (sum > 0) d.by_tenant.push_back({.tenant = tenants_.at(t).spec.name, .by_class = counts});
    }
    std::sort(d.by_tenant.begin(), d.by_tenant.end(),
              [](const auto& a, const auto& b) { return a.tenant < b.tenant; });
    return d;
  }

  Utilization GetUtilization() const {
    Utilization u{.total = cluster_.total(), .allocated = cluster_.allocated()};
    for (const auto& [model, count] : cluster_.gpus_by_model())
      u.gpus_by_model.push_back({.model = model, .total = count.total, .allocated = count.allocated});
    u.running_jobs = state_count_[static_cast<int>(JobState::kStarting)] +
                     state_count_[static_cast<int>(JobState::kRunning)];
    u.pending_jobs = static_cast<std::int64_t>(queue_.size());
    return u;
  }

  absl::StatusOr<Explanation> Explain(JobId id) const {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
    const JobRec& job = jobs_[j];
    const Timestamp now = Now();
    Explanation e{.job = id, .state = job.state,
                  .effective_priority = queue_.EffectivePriority(job.base, job.enq, now)};
    if (job.state == JobState::kWaitingDeps) {
      e.verdict = Explanation::Verdict::kHeld;
      e.reason = fmt::format("waiting for {} dependenc{} to be met", job.unmet, job.unmet == 1 ? "y" : "ies");
      return e;
    }
    if (job.state != JobState::kQueued) {
      e.verdict = Explanation::Verdict::kNotPending;
      e.reason = fmt::format("job is {}", JobStateName(job.state));
      if (auto it = reasons_.find(j); it != reasons_.end()) e.reason += ": " + it->second;
      return e;
    }
    if (!queue_.Contains(j)) {
      e.verdict = Explanation::Verdict::kHeld;
      e.expected_start = job.hold_until;
      e.reason = job.attempt_count > job.attempt_base
                     ? fmt::format("retry backoff: eligible at +{}", FormatDuration(job.hold_until - now))
                     : fmt::format("begin time: eligible at +{}", FormatDuration(job.hold_until - now));
      return e;
    }
    const JobClass& klass = classes_[job.klass];
    if (klass.checked_capacity == cluster_.capacity_version() && klass.infeasible) {
      e.verdict = Explanation::Verdict::kInfeasible;
      e.reason = klass.infeasible_reason;
      return e;
    }
    if (klass.wait_pass == 0 || klass.wait_pass < job.queued_pass + 1 || dirty_) {
      e.verdict = Explanation::Verdict::kPending;
      e.reason = "queued; not yet considered by a scheduling pass";
      return e;
    }
    e.verdict = Explanation::Verdict::kWait;
    e.evaluated_at = klass.wait_time;
    e.reason = FormatWait(job, klass);
    if (job.nominated) {
      Timestamp latest = 0;
      for (const Nomination& n : nominations_) {
        if (n.job != j) continue;
        for (std::uint32_t a : n.victims)
          if (attempts_.contains(a)) latest = std::max(latest, attempts_[a].kill_at);
      }
      e.expected_start = latest;
      e.reason = fmt::format("preempting: lower-priority or borrowing jobs were asked to checkpoint and are killed by {}; "
                             "their resources are held for this job", FormatDuration(latest - now) + " from now");
    } else if (job.reserved_pass == static_cast<std::uint64_t>(counters_.passes) && counters_.passes > 0) {
      e.expected_start = job.reserved_start;
      e.reason += fmt::format("; reserved: expected to start at +{} (when running jobs reach their time limits)",
                              FormatDuration(job.reserved_start - now));
    }
    return e;
  }

  Fragmentation GetFragmentation() const {
    const Cluster::Fragmentation f = cluster_.fragmentation();
    return {.free_gpus = f.free_gpus,
            .free_gpus_on_partial_nodes = f.free_gpus_on_partial_nodes,
            .largest_gang_in_8gpu_nodes = f.nodes_with_8_free_gpus,
            .largest_gang_in_single_gpus = f.free_gpus};
  }

  // -------------------------------------------------------------- tenants
  absl::Status ConfigureTenants(const std::vector<TenantSpec>& specs) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    for (const TenantSpec& t : specs) {
      MLSCHED_RETURN_IF_ERROR(CheckKindsRegistered(catalog_, t.guarantee, fmt::format("tenant \"{}\": guarantee", t.name)));
      if (t.borrowing_limit) {
        MLSCHED_RETURN_IF_ERROR(CheckKindsRegistered(catalog_, *t.borrowing_limit,
                                                     fmt::format("tenant \"{}\": borrowing_limit", t.name)));
      }
      if (t.lending_limit) {
        MLSCHED_RETURN_IF_ERROR(CheckKindsRegistered(catalog_, *t.lending_limit,
                                                     fmt::format("tenant \"{}\": lending_limit", t.name)));
      }
    }
    // Validate on a copy first so that a refused call is never journaled.
    {
      TenantTree trial = tenants_;
      MLSCHED_RETURN_IF_ERROR(trial.Configure(specs));
    }
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kTenantsConfigured, .time = Now(), .tenants = specs}));
    MLSCHED_RETURN_IF_ERROR(tenants_.Configure(specs));
    if (!tenant_keyed_ && tenants_.has_quotas()) RekeyByTenant();
    dirty_ = true;  // limits may have grown
    return absl::OkStatus();
  }

  // Quotas appeared: from now on classes are per tenant (a class blocked by
  // one tenant's quota must not block another's jobs). Queued jobs move.
  void RekeyByTenant() {
    tenant_keyed_ = true;
    const Timestamp now = Now();
    // Every job that can still be queued moves (running ones too: they may be
    // requeued). The shape is the same, so running attempts read the same
    // requests from the new class.
    for (std::uint32_t j = 0; j < jobs_.size(); ++j) {
      if (!jobs_.contains(j)) continue;  // pruned
      JobRec& job = jobs_[j];
      if (IsTerminal(job.state)) continue;
      const bool queued = queue_.Contains(j);
      if (queued) queue_.Remove(j);
      const std::uint32_t old = job.klass;
      job.klass = ClassFor(job.spec, job.tenant, estimator_ ? job.estimate : 0);
      // Attempts whose tasks still hold resources (the running one, killed
      // ones not yet exited) read their requests from the new class: the old
      // one may be freed now.
      for (std::uint32_t a = job.last_attempt; a != kNil; a = attempts_[a].prev)
        if (attempts_[a].alive > 0) attempts_[a].klass = job.klass;
      DropClassRef(old);
      if (queued) queue_.Push(j, job.klass, job.base, job.enq, now);
    }
  }

  TenantStatus TenantStatusOf(std::uint32_t t) const {
    const TenantRec& rec = tenants_.at(t);
    TenantStatus st{.name = rec.spec.name,
                    .parent = rec.parent == kRootTenant ? "" : tenants_.at(rec.parent).spec.name,
                    .weight = rec.spec.weight,
                    .guarantee = rec.spec.guarantee,
                    .borrowing_limit = rec.spec.borrowing_limit,
                    .lending_limit = rec.spec.lending_limit,
                    .usage = rec.usage,
                    .dominant_share = rec.share,
                    .leaf = rec.leaf()};
    if (t < tenant_jobs_.size()) {
      for (std::uint32_t j : tenant_jobs_[t].ids) {
        if (!jobs_.contains(j)) continue;  // pruned
        st.pending_jobs += jobs_[j].state == JobState::kQueued;
        st.running_jobs += IsActive(jobs_[j].state);
      }
    }
    return st;
  }

  absl::StatusOr<TenantStatus> GetTenant(std::string_view name) const {
    auto t = tenants_.Find(std::string(name));
    if (!t) return absl::NotFoundError(fmt::format("tenant \"{}\": unknown", name));
    return TenantStatusOf(*t);
  }

  std::vector<TenantStatus> ListTenants() const {
    std::vector<TenantStatus> out;
    for (std::uint32_t t = 1; t < tenants_.size(); ++t) out.push_back(TenantStatusOf(t));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  EngineCounters counters() const {
    EngineCounters c = counters_;
    c.job_classes_held = static_cast<std::int64_t>(class_index_.live());
    return c;
  }
  std::int64_t job_count() const { return static_cast<std::int64_t>(jobs_.size()); }
  std::int64_t node_count() const { return live_nodes_; }

 private:
  // ------------------------------------------- lifecycle (lifecycle.cc)
  // Everything Submit checks before it changes anything; errors start with
  // `job "name": `.
  absl::Status CheckSubmittable(const JobSpec& spec, bool validated = false) const;
  // Creates the job (journaled) as Queued or WaitingDeps. Dependencies on
  // jobs with ids >= `first_internal` (a workflow's own, created in the same
  // call) are counted as unmet and linked by the caller. Settle() then applies
  // what dependencies that already ended decided, and queues or holds it.
  // `Spec` is JobSpec (moved into the record) or const JobSpec (copied into
  // it); both are instantiated in lifecycle.cc.
  template <typename Spec>
  absl::StatusOr<std::uint32_t> CreateJob(Spec&& spec, Timestamp now, std::uint32_t workflow,
                                          std::uint32_t first_internal);
  absl::Status Settle(std::uint32_t j, Timestamp now);
  template <typename Spec>
  absl::StatusOr<std::uint32_t> AddJob(Spec&& spec, Timestamp now, std::uint32_t workflow) {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CreateJob(std::forward<Spec>(spec), now, workflow, kNil));
    MLSCHED_RETURN_IF_ERROR(Settle(j, now));
    return j;
  }
  // A job reached a terminal state: release or fail its dependents, and theirs.
  absl::Status ResolveDependents(std::uint32_t j, Timestamp now);
  // Queued: into the pending queue now, or at `begin_time`.
  void MakeEligible(std::uint32_t j, Timestamp now);
  void Hold(std::uint32_t j, Timestamp until);
  absl::Status FireTimers(Timestamp now);
  void PruneHistory(Timestamp now);
  // Whether PruneHistory(now) has anything to do.
  bool PruneDue(Timestamp now) const {
    return options_.history_retention > 0 &&
           (!prune_later_.empty() || (!ended_.empty() && ended_.front().first < now - options_.history_retention));
  }
  bool TasksAlive(const JobRec& job) const;
  void Prune(std::uint32_t j);  // a terminal job none of whose tasks holds resources
  // Counts the records of pruned job j (its job, attempt, task, edge and
  // checkpoint records) for the release of their blocks.
  void ReleaseRecords(std::uint32_t j);
  void PruneWorkflow(std::uint32_t w);  // once its last job is pruned
  // A tenant's jobs, by id, and how many of them were pruned
  // since the last sweep. Once the pruned are half of the list (and more
  // than a few), a sweep by the pruned bits drops them: amortised O(1) per
  // prune, and no job record read (they are cold by then).
  struct JobList {
    std::vector<std::uint32_t> ids;
    std::uint32_t pruned = 0;
  };
  void PruneFromList(JobList& list) {
    if (++list.pruned < 32 || 2 * list.pruned < list.ids.size()) return;
    std::erase_if(list.ids, [this](std::uint32_t j) { return !Held(j); });
    list.pruned = 0;
  }
  // Each user's jobs (ListJobs by user), built by the first such query from
  // the held jobs and kept from then on: until a caller asks, submission and
  // pruning pay nothing for users (their names' interning and lists were
  // 2% of a trace replay's instructions). Pruned ids are swept from every
  // list at once, when they are half of all entries: amortised O(1) a prune.
  struct UserIndex {
    bool built = false;
    Names names;
    std::vector<std::vector<std::uint32_t>> jobs;  // by user id
    std::size_t entries = 0, pruned = 0;           // over all lists
  };
  void IndexByUser() const {
    if (by_user_.built) return;
    by_user_.built = true;
    for (std::uint32_t head : state_head_)
      for (std::uint32_t j = head; j != kNil; j = jobs_[j].state_next) AddToUserIndex(j);
  }
  void AddToUserIndex(std::uint32_t j) const {
    const std::uint32_t u = by_user_.names.Intern(jobs_[j].spec.user);
    if (by_user_.jobs.size() <= u) by_user_.jobs.resize(u + 1);
    by_user_.jobs[u].push_back(j);
    ++by_user_.entries;
  }
  void PruneFromUserIndex() {
    if (!by_user_.built || ++by_user_.pruned < 32 || 2 * by_user_.pruned < by_user_.entries) return;
    by_user_.entries = 0;
    for (std::vector<std::uint32_t>& list : by_user_.jobs) {
      std::erase_if(list, [this](std::uint32_t j) { return !Held(j); });
      by_user_.entries += list.size();
    }
    by_user_.pruned = 0;
  }
  void ArmHeartbeat(std::uint32_t n);
  absl::Status LoseAttemptsOnGpu(std::uint32_t n, int gpu, Timestamp now);
  // Timers and the checkpoint to resume from for a new attempt; returns the
  // index in round->resumes or -1.
  std::int32_t AttemptStarted(std::uint32_t a, Timestamp now, SchedulingRound* round);
  std::string AttemptReason(const JobRec& job, const AttemptRec& att) const;
  // The live attempt `a` ends without success: the job moves to `state`, the
  // attempt's live tasks are killed, and the job is retried or dead-lettered.
  absl::Status EndAttemptWith(std::uint32_t a, JobState state, AttemptEnd outcome, KillReason reason, Timestamp now);
  // Schedules.
  absl::StatusOr<std::uint32_t> CheckSchedule(ScheduleId id) const;
  absl::Status CheckScheduleSpec(const ScheduleSpec& spec, std::uint32_t self) const;
  void ArmSchedule(std::uint32_t s, Timestamp from);
  absl::Status FireSchedule(std::uint32_t s, Timestamp due, Timestamp now);
  void RunSchedule(std::uint32_t s, Timestamp nominal);
  ScheduleStatus ScheduleStatusOf(std::uint32_t s) const;

  // --------------------------------------------------------------- checks
  absl::StatusOr<std::uint32_t> CheckNode(NodeId node) const {
    if (!node.valid() || node.value() >= cluster_.node_count() || cluster_.node(node.value()).removed) {
      return absl::NotFoundError(fmt::format("node #{}: unknown node", node.valid() ? std::int64_t(node.value()) : -1));
    }
    return node.value();
  }

  absl::StatusOr<std::uint32_t> CheckJob(JobId job) const {
    if (!job.valid() || job.value() >= jobs_.size()) {
      return absl::NotFoundError(fmt::format("job #{}: unknown job", job.valid() ? std::int64_t(job.value()) : -1));
    }
    if (!jobs_.contains(job.value())) {
      return absl::NotFoundError(fmt::format("job #{}: pruned by history retention", job.value()));
    }
    if (jobs_[job.value()].pruned) {
      return absl::NotFoundError(fmt::format("job #{}: pruned by history retention (ended at {})", job.value(),
                                             jobs_[job.value()].end));
    }
    return job.value();
  }

  // Whether attempt a has not ended (an ended one may be released).
  bool AttemptLive(std::uint32_t a) const {
    return attempt_live_.Test(a);
  }

  // Whether job j exists and is not pruned.
  bool Held(std::uint32_t j) const {
    return jobs_.contains(j) && !pruned_bits_.Test(j);
  }
  // The attempt of a report about task `task` of job `id`'s newest attempt
  // while that attempt holds resources, with its token: the report
  // CheckReport accepts almost always, found with no status built. kNil for
  // anything else, which CheckReport then works out (and words) in full.
  std::uint32_t NewestLiveAttempt(JobId id, FencingToken token, std::int32_t task) const {
    const std::uint32_t j = id.value();
    if (!id.valid() || j >= jobs_.size() || !Held(j) || token.epoch != options_.epoch) return kNil;
    const std::uint32_t a = jobs_[j].last_attempt;
    if (a == kNil) return kNil;
    const AttemptRec& att = attempts_[a];
    if (att.token != token || task < 0 || static_cast<std::uint32_t>(task) >= att.task_count || att.alive == 0)
      return kNil;
    return a;
  }

  // Finds the attempt a report is about, refusing stale tokens.
  absl::StatusOr<std::uint32_t> CheckReport(JobId id, FencingToken token, std::int32_t task,
                                            std::string_view what) {
    if (const std::uint32_t a = NewestLiveAttempt(id, token, task); a != kNil) return a;  // the usual report
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
    const JobRec& job = jobs_[j];
    auto stale = [&](std::string_view why) {
      ++counters_.stale_reports;
      return absl::FailedPreconditionError(fmt::format("job \"{}\" (#{}): task {} {} with token {}: {}",
                                                       job.spec.name, j, task, what, FormatToken(token), why));
    };
    if (token.epoch != options_.epoch) {
      return stale(fmt::format("stale fencing token (engine epoch is {})", options_.epoch));
    }
    std::uint32_t a = job.last_attempt;
    while (a != kNil && attempts_[a].token.attempt > token.attempt) a = attempts_[a].prev;
    if (a == kNil || attempts_[a].token != token) return stale("no such attempt");
    const AttemptRec& att = attempts_[a];
    if (task < 0 || static_cast<std::uint32_t>(task) >= att.task_count) {
      return absl::InvalidArgumentError(fmt::format("job \"{}\" (#{}): task {} {}: the attempt has tasks 0..{}",
                                                    job.spec.name, j, task, what, att.task_count - 1));
    }
    if (att.alive == 0 && !tasks_[att.first_task + task].exited) {
      return stale(fmt::format("stale fencing token (attempt {} has ended)", AttemptEndName(att.outcome)));
    }
    if (att.alive == 0) return stale(fmt::format("attempt already ended ({})", AttemptEndName(att.outcome)));
    return a;
  }

  absl::Status Journal(const JournalRecord& r) {
    if (store_ == nullptr) return absl::OkStatus();
    return store_->Append(r);
  }
  // Whether there is a store to journal to. The hot paths (submission,
  // transitions, starts, task reports) test it before they build a record:
  // the compiler builds one before Journal's own test otherwise, at about
  // twenty instructions a record.
  bool journaling() const { return store_ != nullptr; }

  // Journal failures after the first applied change stop the engine.
  absl::Status Fail(absl::Status s) {
    if (failed_.ok()) failed_ = s;
    return s;
  }

  // ------------------------------------------------------- state changes
  void StateLink(std::uint32_t j, JobState s) {
    JobRec& job = jobs_[j];
    job.state = s;
    const int i = static_cast<int>(s);
    job.state_prev = kNil;
    job.state_next = state_head_[i];
    if (job.state_next != kNil) jobs_[job.state_next].state_prev = j;
    state_head_[i] = j;
    ++state_count_[i];
  }

  void StateUnlink(std::uint32_t j) {
    JobRec& job = jobs_[j];
    const int i = static_cast<int>(job.state);
    if (job.state_prev != kNil) {
      jobs_[job.state_prev].state_next = job.state_next;
    } else {
      state_head_[i] = job.state_next;
    }
    if (job.state_next != kNil) jobs_[job.state_next].state_prev = job.state_prev;
    --state_count_[i];
  }

  absl::Status Transition(std::uint32_t j, JobState to, Timestamp now, FencingToken token) {
    JobRec& job = jobs_[j];
    if (!IsLegalTransition(job.state, to)) {  // (the status, with its message, only then)
      const absl::Status s = CheckTransition(job.state, to);
      return absl::InternalError(fmt::format("job \"{}\" (#{}): {}", job.spec.name, j, std::string(s.message())));
    }
    if (journaling()) {
      if (absl::Status s = Journal({.kind = RecordKind::kJobTransition, .time = now, .job = JobId(j),
                                    .from = job.state, .to = to, .token = token});
          !s.ok()) {
        return Fail(s);
      }
    }
    StateUnlink(j);
    StateLink(j, to);
    if (!IsTerminal(to)) {
      job.end = 0;
      return absl::OkStatus();
    }
    job.end = now;
    if (options_.history_retention > 0) ended_.emplace_back(now, j);
    return job.first_dependent == kNil ? absl::OkStatus() : ResolveDependents(j, now);
  }

  void Enqueue(std::uint32_t j, Timestamp now) {
    JobRec& job = jobs_[j];
    queue_.Push(j, job.klass, job.base, job.enq, now);
    job.queued_pass = counters_.passes;
    if (conservative()) {  // a new arrival: it reserves after every earlier one
      if (conservative_ticket_.size() < jobs_.size()) conservative_ticket_.resize(jobs_.size());
      conservative_.push_back({.job = j, .ticket = ++conservative_tickets_});
      conservative_ticket_[j] = conservative_tickets_;
    }
    pending_by_tenant_[job.tenant][static_cast<int>(job.priority_class)]++;
    queued_preemptible_ += job.spec.preemptible;
    dirty_ = true;
  }

  void Dequeue(std::uint32_t j) {
    if (!queue_.Contains(j)) return;
    queue_.Remove(j);
    const JobRec& job = jobs_[j];
    pending_by_tenant_[job.tenant][static_cast<int>(job.priority_class)]--;
    queued_preemptible_ -= job.spec.preemptible;
  }

  // Starting -> Running once every task has started (or exited).
  absl::Status MaybeRunning(std::uint32_t a, Timestamp now) {
    const AttemptRec& att = attempts_[a];
    const std::uint32_t j = att.job;
    if (jobs_[j].state != JobState::kStarting || att.outcome != AttemptEnd::kNone) return absl::OkStatus();
    if (att.started < att.task_count) return absl::OkStatus();
    return Transition(j, JobState::kRunning, now, att.token);
  }

  // Marks the attempt ended; its live tasks are killed at the next Tick.
  void EndAttempt(std::uint32_t a, AttemptEnd outcome, KillReason reason, Timestamp now) {
    UncountEvictable(a);
    AttemptRec& att = attempts_[a];
    att.outcome = outcome;
    attempt_live_.Clear(a);
    att.end = now;
    if (outcome != AttemptEnd::kSucceeded) {
      const std::int64_t gpus = classes_[jobs_[att.job].klass].total.gpus();
      att.lost_gpu_time = gpus * (now - std::max(att.start, att.last_checkpoint));
      counters_.gpu_hours_lost += static_cast<double>(att.lost_gpu_time) / static_cast<double>(kHour);
    }
    if (att.alive > 0 && reason != KillReason::kNone) {
      att.stopping = true;
      pending_kills_.push_back({a, reason});
    }
  }

  // After Failed / Lost / TimedOut / Preempted / stuck: requeue (at once or
  // after a backoff) or dead-letter, per the job's retry policy (retry.h).
  absl::Status AfterAttemptEnded(std::uint32_t j, Timestamp now);

  // The attempt can no longer be a victim: take its live tasks out of the
  // nodes' evictable counts.
  void UncountEvictable(std::uint32_t a) {
    AttemptRec& att = attempts_[a];
    if (!att.counted_evictable && !att.counted_reclaimable) return;
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
      const TaskRec& task = tasks_[t];
      if (task.exited) continue;
      const auto gpus = static_cast<std::int32_t>(task.gpus.size());
      if (att.counted_evictable) {
        cluster_.AddEvictable(task.node, att.cls, -gpus);
        evictable_gpus_[att.cls] -= gpus;
      }
      if (att.counted_reclaimable) cluster_.AddReclaimable(task.node, -gpus);
    }
    att.counted_evictable = false;
    att.counted_reclaimable = false;
  }

  void ReleaseTask(std::uint32_t t, Timestamp now) {
    TaskRec& task = tasks_[t];
    if (task.exited) return;
    if (attempts_[task.attempt].counted_evictable) {
      cluster_.AddEvictable(task.node, attempts_[task.attempt].cls, -static_cast<std::int32_t>(task.gpus.size()));
      evictable_gpus_[attempts_[task.attempt].cls] -= task.gpus.size();
    }
    if (attempts_[task.attempt].counted_reclaimable)
      cluster_.AddReclaimable(task.node, -static_cast<std::int32_t>(task.gpus.size()));
    task.exited = true;
    AttemptRec& att = attempts_[task.attempt];
    const JobRec& job = jobs_[att.job];
    const JobClass& klass = classes_[job.klass];
    cluster_.Release(task.node, klass.groups[task.group].per_task, task.gpus);
    tenants_.AddUsage(job.tenant, klass.groups[task.group].per_task, -1, now);
    // Unlink from the node's live list (swap with the last).
    NodeRec& node = cluster_.mutable_node(task.node);
    const std::uint32_t last = node.live_tasks.back();
    node.live_tasks[task.node_pos] = last;
    tasks_[last].node_pos = task.node_pos;
    node.live_tasks.pop_back();
    if (node.live_tasks.empty() && task.node < victim_bounds_.size()) victim_bounds_[task.node] = {};
    --att.alive;
    if (att.expected_end > now) conservative_early_release_ = true;  // earlier than planned: compress
    if (att.alive == 0 && att.expected_end != kInfiniteFuture) running_by_end_.erase({att.expected_end, task.attempt});
    dirty_ = true;
  }

  absl::Status ApplyNodeState(std::uint32_t n, NodeState state, Timestamp now) {
    const NodeState before = cluster_.node(n).state;
    cluster_.SetState(n, state);
    dirty_ = true;  // capacity changed: feasibility and reservations are recomputed
    if (state != NodeState::kDown) {
      (void)before;
      return absl::OkStatus();
    }
    // Down: every task on the node is gone; their attempts are Lost.
    std::vector<std::uint32_t> lost = cluster_.node(n).live_tasks;
    for (std::uint32_t t : lost) {
      const std::uint32_t a = tasks_[t].attempt;
      tasks_[t].signal = 0;
      tasks_[t].exit_code = -1;
      ReleaseTask(t, now);
      AttemptRec& att = attempts_[a];
      if (att.outcome != AttemptEnd::kNone) continue;
      MLSCHED_RETURN_IF_ERROR(EndAttemptWith(a, JobState::kLost, AttemptEnd::kLost, KillReason::kNodeLost, now));
    }
    return absl::OkStatus();
  }

  void EmitKills(SchedulingRound* round) {
    for (const PendingKill& k : pending_kills_) {
      const AttemptRec& att = attempts_[k.attempt];
      if (att.alive == 0) continue;
      Decision d{.kind = DecisionKind::kKill, .job = JobId(att.job), .token = att.token,
                 .reason = k.reason, .grace = options_.kill_grace,
                 .first_placement = static_cast<std::uint32_t>(round->placements.size())};
      for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
        const TaskRec& task = tasks_[t];
        if (task.exited) continue;
        round->placements.push_back(
            {.task = task.index, .group = task.group, .node = NodeId(task.node), .gpus = task.gpus});
      }
      d.placement_count = static_cast<std::uint32_t>(round->placements.size()) - d.first_placement;
      round->decisions.push_back(d);
      ++counters_.kills;
    }
    pending_kills_.clear();
  }

  // --------------------------------------------------------- job classes
  // The class of a job, counted as one more job of it (DropClassRef undoes
  // that): found by a hash of its shape (no key is built, so a known class
  // costs no allocation; internal/hash_chain.h). GPU models are compared as
  // a sorted set. A new class takes the id of the last one freed, if any.
  std::uint32_t ClassFor(const JobSpec& spec, std::uint32_t tenant, Duration estimate) {
    const std::vector<std::string>* models = &spec.constraints.gpu_models;
    if (models->size() > 1 && !std::is_sorted(models->begin(), models->end(), std::less_equal<>())) {
      class_models_ = *models;  // not a strictly increasing list: sort it, drop repeats
      std::sort(class_models_.begin(), class_models_.end());
      class_models_.erase(std::unique(class_models_.begin(), class_models_.end()), class_models_.end());
      models = &class_models_;
    }
    const TopologyConstraint& topo = spec.constraints.topology;
    std::size_t h = absl::HashOf(tenant, estimate, topo.level, topo.required, *models, spec.constraints.node_labels);
    for (const TaskGroup& g : spec.task_groups) h = absl::HashOf(h, g.count, g.per_task);
    const auto [id, added] = class_index_.FindOrAdd(h, [&](std::uint32_t c) {
      const JobClass& k = classes_[c];
      return k.tenant == tenant && k.estimate == estimate && k.constraints.topology.level == topo.level &&
             k.constraints.topology.required == topo.required &&
             std::equal(k.groups.begin(), k.groups.end(), spec.task_groups.begin(), spec.task_groups.end(),
                        [](const TaskGroup& a, const TaskGroup& b) {
                          return a.count == b.count && a.per_task == b.per_task;
                        }) &&
             k.constraints.gpu_models == *models && k.constraints.node_labels == spec.constraints.node_labels;
    });
    if (!added) {
      ClassUse& use = class_use_[id];
      if (use.jobs++ == 0) {  // unused until now: no longer to be freed
        if (use.idle_stamp != 0) --idle_class_count_;
        use.idle_stamp = 0;
        classes_[id].evicted = false;
      }
      return id;
    }
    if (id < classes_.size()) {  // a freed class: made anew, keeping its buffers
      JobClass& old = classes_[id];
      auto models_buffer = std::move(old.constraints.gpu_models);
      std::destroy_at(&old);
      std::construct_at(&old);
      old.constraints.gpu_models = std::move(models_buffer);
    } else {
      classes_.emplace_back();
      class_use_.emplace_back();
    }
    class_use_[id] = {.jobs = 1, .idle_stamp = 0};
    JobClass& c = classes_[id];
    ++counters_.job_classes;
    c.hash = h;
    c.tenant = tenant;
    c.estimate = estimate;
    c.total = spec.total_request();
    c.groups.assign(spec.task_groups.begin(), spec.task_groups.end());
    for (TaskGroup& g : c.groups) g.name.clear();
    c.constraints = spec.constraints;
    c.constraints.gpu_models = *models;
    c.eligible.resize(c.groups.size());
    return id;
  }

  // One job fewer of class `k` (pruned, or moved to another class). The
  // unused classes are kept for their next jobs, the most recently unused
  // EngineOptions::idle_job_classes_kept of them; older ones are freed, but
  // for those that number their shapes (few: one per shape). Reads only
  // class_use_ unless a class is freed.
  void DropClassRef(std::uint32_t k) {
    ClassUse& use = class_use_[k];
    if (--use.jobs > 0) return;
    use.idle_stamp = ++idle_stamp_;
    idle_classes_.emplace_back(k, use.idle_stamp);
    ++idle_class_count_;
    if (idle_classes_.size() > 2 * idle_class_count_ + 64) {  // mostly stale entries: drop them
      std::erase_if(idle_classes_, [&](const auto& e) { return class_use_[e.first].idle_stamp != e.second; });
    }
    while (idle_class_count_ > static_cast<std::size_t>(options_.idle_job_classes_kept)) {
      const auto [old, stamp] = idle_classes_.front();
      idle_classes_.pop_front();
      if (class_use_[old].idle_stamp != stamp) continue;  // used again since, and maybe unused again later
      class_use_[old].idle_stamp = 0;
      --idle_class_count_;
      JobClass& o = classes_[old];
      if (o.numbers_shape) continue;
      o.evicted = true;
      FreeClassIfEvicted(old);
    }
  }
  // Frees evicted class `k` once no tenant's list names it: its id goes to
  // the next new class. A pruned job's class is not read again; nor is a
  // freed one's pending-queue record, which is empty.
  void FreeClassIfEvicted(std::uint32_t k) {
    JobClass& c = classes_[k];
    if (!c.evicted || c.listed_by_tenant) return;
    c.evicted = false;
    class_index_.Remove(c.hash, k);
  }

  // Brings eligibility up to date with new node groups and recomputes the
  // feasibility verdict when capacity changed.
  void RefreshClass(JobClass& c) {
    const std::uint32_t groups = cluster_.group_count();
    for (; c.groups_seen < groups; ++c.groups_seen) {
      for (std::size_t g = 0; g < c.groups.size(); ++g) {
        if (cluster_.GroupMatches(c.groups_seen, c.constraints, c.groups[g].per_task.gpus() > 0))
          c.eligible[g].push_back(c.groups_seen);
      }
    }
    if (c.checked_capacity == cluster_.capacity_version()) return;
    c.checked_capacity = cluster_.capacity_version();
    c.infeasible = false;
    c.infeasible_reason.clear();
    for (std::size_t g = 0; g < c.groups.size(); ++g) {
      const TaskGroup& tg = c.groups[g];
      std::int64_t hosts = 0;
      for (std::uint32_t grp : c.eligible[g]) {
        for (const auto& [cap, count] : cluster_.group(grp).up_capacity) {
          hosts += cap.CopiesThatFit(tg.per_task) * count;
        }
      }
      if (hosts >= tg.count) {
        // A required topology domain must be able to hold the whole gang.
        const int level = c.constraints.topology.level;
        if (!c.constraints.topology.required || level < 0 || tg.count <= 1) continue;
        const std::uint32_t domains = cluster_.domain_count(level);
        domain_sums_.assign(domains + 1, 0);
        std::int64_t best = 0;
        for (std::uint32_t grp : c.eligible[g]) {
          for (std::uint32_t n : cluster_.group(grp).members) {
            const NodeRec& node = cluster_.node(n);
            if (node.removed || node.state != NodeState::kUp) continue;
            std::int64_t& h = domain_sums_[DomainSlot(n, level, domains)];
            h += node.EffectiveCapacity().CopiesThatFit(tg.per_task);
            best = std::max(best, h);
          }
        }
        if (best >= tg.count) continue;
        c.infeasible = true;
        c.infeasible_reason = fmt::format(
            "task_groups[{}]: needs its {} tasks of {} inside one topology domain at level {}, but no such "
            "domain of up nodes{} can hold more than {}",
            g, tg.count, FormatResources(catalog_, tg.per_task), level, DescribeConstraints(c, g), best);
        return;
      }
      c.infeasible = true;
      const std::string req = FormatResources(catalog_, tg.per_task);
      if (hosts == 0) {
        c.infeasible_reason = fmt::format(
            "task_groups[{}]: no up node{} can hold one task ({})", g, DescribeConstraints(c, g), req);
      } else {
        c.infeasible_reason = fmt::format(
            "task_groups[{}]: needs {} tasks of {} but the up nodes{} can hold at most {} such tasks",
            g, tg.count, req, DescribeConstraints(c, g), hosts);
      }
      return;
    }
  }

  std::string DescribeConstraints(const JobClass& c, std::size_t g) const {
    std::string out;
    if (c.groups[g].per_task.gpus() > 0 && !c.constraints.gpu_models.empty()) {
      out += " with GPU model in {";
      for (std::size_t i = 0; i < c.constraints.gpu_models.size(); ++i)
        out += (i ? ", " : "") + c.constraints.gpu_models[i];
      out += "}";
    }
    if (!c.constraints.node_labels.empty()) {
      out += out.empty() ? " with labels {" : " and labels {";
      bool first = true;
      for (const auto& [k, v] : c.constraints.node_labels) {
        out += (first ? "" : ", ") + k + "=" + v;
        first = false;
      }
      out += "}";
    }
    return out;
  }

  std::string FormatWait(const JobRec& job, const JobClass& c) const {
    const WaitInfo& w = c.wait;
    const TaskGroup& tg = job.spec.task_groups[w.group];
    const std::string group_name = tg.name.empty() ? fmt::format("task_groups[{}]", w.group)
                                                   : fmt::format("task group \"{}\"", tg.name);
    if (w.code == WaitInfo::Code::kQuota) return tenants_.FormatBlock(w.quota, catalog_, c.total);
    if (w.code == WaitInfo::Code::kTopology) {
      return fmt::format("waiting for room: {} needs its {} tasks inside one topology domain at level {}; "
                         "no domain has room for all of them",
                         group_name, tg.count, c.constraints.topology.level);
    }
    if (w.code == WaitInfo::Code::kPolicyInvalid) {
      return fmt::format("placement policy \"{}\" chose node #{} for task {} of {}, which is not a candidate",
                         placement_->name(), w.node, w.task, group_name);
    }
    // What the eligible nodes offer right now.
    std::int64_t best_gpus = 0, best_cpu = 0;
    for (std::uint32_t grp : c.eligible[w.group]) {
      const NodeGroup& ng = cluster_.group(grp);
      best_gpus = std::max<std::int64_t>(best_gpus, ng.by_gpus.Max());
      best_cpu = std::max<std::int64_t>(best_cpu, ng.by_cpu.Max());
    }
    std::string offer = tg.per_task.gpus() > 0
                            ? fmt::format("the most free GPUs on an eligible up node is {}", best_gpus)
                            : fmt::format("the most free CPU on an eligible up node is {} whole cores",
                                          best_cpu);
    if (tg.count == 1 && tg.per_task.gpus() > 0 && best_gpus >= tg.per_task.gpus())
      offer += "; where the GPUs are free they are held for a reserved or nominated job, or CPU or memory is short";
    if (tg.count > 1) {
      return fmt::format("waiting for room: gang {} needs {} tasks of {} at once; task {} found no room ({})",
                         group_name, tg.count, FormatResources(catalog_, tg.per_task), w.task, offer);
    }
    return fmt::format("waiting for room: {} needs {}; no eligible up node has it free ({})", group_name,
                       FormatResources(catalog_, tg.per_task), offer);
  }

  // ------------------------------------------------------------ placement
  bool IsEligible(const JobClass& c, std::size_t g, std::uint32_t n) const {
    const NodeRec& node = cluster_.node(n);
    if (node.removed || node.state != NodeState::kUp) return false;
    const auto& e = c.eligible[g];
    return std::find(e.begin(), e.end(), node.group) != e.end();
  }

  // Places every task of job j or none (tentative_ holds the choices). The
  // caller has set the cluster's candidate end (for claims).
  bool TryPlace(std::uint32_t j, const JobClass& c, WaitInfo* wait) {
    tentative_.clear();
    std::uint32_t flat = 0;
    for (std::size_t g = 0; g < c.groups.size(); ++g) {
      const TaskGroup& tg = c.groups[g];
      // A gang more GPU tasks than the free GPUs could host, counted from
      // the index alone, fails here, not after a walk of the candidates.
      if (tg.count > 1 && tg.per_task.gpus() > 0) {
        const std::int64_t bound = cluster_.GpuHostsUpperBound(c.eligible[g], tg.per_task.gpus());
        if (bound < tg.count) {
          *wait = {.code = WaitInfo::Code::kNoRoom, .group = static_cast<std::uint16_t>(g),
                   .task = static_cast<std::uint32_t>(bound)};
          return Fail(c, wait);
        }
      }
      const int level = tg.count > 1 ? c.constraints.topology.level : -1;
      if (level < 0) {
        if (!PlaceTasks(j, c, g, tg.count, flat, -1, kNil, wait)) return Fail(c, wait);
        flat += tg.count;
        continue;
      }
      // Topology: one domain that holds the whole gang (the tightest such),
      // else — unless required — the fullest domains first.
      OrderDomains(c, ShapeOf(c), g, level);
      if (domain_order_.empty()) {  // no room anywhere: not a topology matter
        *wait = {.code = WaitInfo::Code::kNoRoom, .group = static_cast<std::uint16_t>(g)};
        return Fail(c, wait);
      }
      if (c.constraints.topology.required && domain_order_[0].second < tg.count) {
        *wait = {.code = WaitInfo::Code::kTopology, .group = static_cast<std::uint16_t>(g)};
        return Fail(c, wait);
      }
      int placed = 0;
      for (std::size_t i = 0; i < domain_order_.size(); ++i) {
        if (i == 1) SortDomainsAfterFirst(tg.count);  // the first did not hold the whole gang: rarely needed
        const int before = static_cast<int>(tentative_.size());
        PlaceTasks(j, c, g, tg.count - placed, flat + placed, level, domain_order_[i].first, wait);
        placed += static_cast<int>(tentative_.size()) - before;
        if (placed == tg.count || c.constraints.topology.required) break;
      }
      cluster_.set_domain_filter(-1, kNil);
      if (placed < tg.count) {
        if (wait->code == WaitInfo::Code::kNone) *wait = {.code = WaitInfo::Code::kNoRoom};
        wait->group = static_cast<std::uint16_t>(g);
        wait->task = static_cast<std::uint32_t>(placed);
        return Fail(c, wait);
      }
      flat += tg.count;
    }
    return true;
  }

  bool Fail(const JobClass& c, WaitInfo*) {
    cluster_.set_domain_filter(-1, kNil);
    Rollback(c);
    return false;
  }

  // Places up to `count` tasks of group g (all of them, or reports why not).
  bool PlaceTasks(std::uint32_t j, const JobClass& c, std::size_t g, int count, std::uint32_t first_flat,
                  int level, std::uint32_t domain, WaitInfo* wait) {
    const TaskGroup& tg = c.groups[g];
    cluster_.set_domain_filter(level, domain);
    TaskRequest req{.job = JobId(j), .group = static_cast<int>(g), .gang_size = tg.count, .per_task = tg.per_task};
    const CandidateNodes candidates = cluster_.Candidates(c.eligible[g], &tg.per_task);
    for (int t = 0; t < count; ++t) {
      req.task = static_cast<int>(first_flat - FirstFlat(c, g)) + t;
      ++counters_.placement_attempts;
      const std::optional<NodeId> choice = placement_->ChooseNode(req, candidates);
      const std::uint32_t n = choice ? choice->value() : kNil;
      const bool valid = choice && n < cluster_.node_count() && IsEligible(c, g, n) && cluster_.Fits(n, tg.per_task) &&
                         (level < 0 || cluster_.DomainOf(n, level) == domain);
      if (!valid) {
        *wait = {.code = choice ? WaitInfo::Code::kPolicyInvalid : WaitInfo::Code::kNoRoom,
                 .group = static_cast<std::uint16_t>(g), .task = static_cast<std::uint32_t>(req.task), .node = n};
        return false;
      }
      const GpuSet gpus = cluster_.ChooseGpus(n, static_cast<int>(tg.per_task.gpus()));
      const ResourceVector taken = cluster_.TakeFromClaim(n, tg.per_task);
      cluster_.Allocate(n, tg.per_task, gpus);
      tentative_.push_back({n, gpus, static_cast<std::uint16_t>(g), first_flat + static_cast<std::uint32_t>(t), taken});
    }
    return true;
  }

  static std::uint32_t FirstFlat(const JobClass& c, std::size_t g) {
    std::uint32_t f = 0;
    for (std::size_t i = 0; i < g; ++i) f += static_cast<std::uint32_t>(c.groups[i].count);
    return f;
  }

  // domain_order_ = (domain at `level`, tasks of group g it can host now),
  // the tightest domain that holds the whole group first if there is one,
  // then by hosts descending (DomainBefore). Only the first is put in place
  // here; SortDomainsAfterFirst orders the rest when a placement needs
  // them. The counts per domain are kept per shape,
  // group and level, and brought up to date through the cluster's change
  // log: a gang's placement costs the nodes changed since the last one of
  // its shape, not a walk of every free node (DomainHosts).
  void OrderDomains(const JobClass& c, std::uint32_t shape, std::size_t g, int level) {
    const TaskGroup& tg = c.groups[g];
    cluster_.set_domain_filter(-1, kNil);
    const DomainHosts& d = RefreshDomainHosts(c, shape, g, level);
    // Claims that apply to the candidate (set_candidate_end) hold part of
    // some nodes: their domains count what is left.
    domain_sums_.assign(d.per_domain.begin(), d.per_domain.end());
    for (std::uint32_t n : cluster_.claimed()) {
      if (n >= d.per_node.size() || d.per_node[n] == 0) continue;
      const std::int64_t left = cluster_.Available(n).CopiesThatFit(tg.per_task);
      domain_sums_[DomainSlot(n, level, d.domains)] += left - d.per_node[n];
    }
    domain_order_.clear();
    for (std::uint32_t slot = 0; slot < domain_sums_.size(); ++slot)
      if (domain_sums_[slot] > 0) domain_order_.emplace_back(slot == d.domains ? kNil : slot, domain_sums_[slot]);
    const auto first = std::min_element(domain_order_.begin(), domain_order_.end(), DomainBefore{tg.count});
    if (first != domain_order_.end()) std::iter_swap(domain_order_.begin(), first);
  }
  // The order of domain_order_: those that hold all `count` tasks first,
  // tightest first; then by hosts descending; ties by domain id.
  struct DomainBefore {
    std::int64_t count;
    bool operator()(const std::pair<std::uint32_t, std::int64_t>& a,
                    const std::pair<std::uint32_t, std::int64_t>& b) const {
      const bool a_all = a.second >= count, b_all = b.second >= count;
      if (a_all != b_all) return a_all;
      if (a_all) return a.second != b.second ? a.second < b.second : a.first < b.first;
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    }
  };
  void SortDomainsAfterFirst(std::int64_t count) {
    std::sort(domain_order_.begin() + 1, domain_order_.end(), DomainBefore{count});
  }
  // Domains of a level as array slots: nodes without a domain at the level
  // count in the slot after the last domain.
  std::uint32_t DomainSlot(std::uint32_t n, int level, std::uint32_t domains) const {
    const std::uint32_t d = cluster_.DomainOf(n, level);
    return d == kNil ? domains : d;
  }
  // Tasks of group g that node n could host on its free resources (claims
  // aside): 0 unless it is up and of an eligible node group.
  std::int64_t FreeHosts(const JobClass& c, std::size_t g, std::uint32_t n) const {
    if (!IsEligible(c, g, n)) return 0;
    return cluster_.node(n).free.CopiesThatFit(c.groups[g].per_task);
  }
  const DomainHosts& RefreshDomainHosts(const JobClass& c, std::uint32_t shape, std::size_t g, int level) {
    const auto key = std::make_tuple(shape, static_cast<std::uint32_t>(g), level);
    if (domain_hosts_by_shape_.size() >= kDomainHostsKept && !domain_hosts_by_shape_.contains(key))
      domain_hosts_by_shape_.clear();
    DomainHosts& d = domain_hosts_by_shape_[key];
    const std::uint32_t nodes = cluster_.node_count(), domains = cluster_.domain_count(level);
    auto update = [&](std::uint32_t n) {
      const std::int64_t hosts = FreeHosts(c, g, n);
      d.per_domain[DomainSlot(n, level, domains)] += hosts - d.per_node[n];
      d.per_node[n] = hosts;
      return true;
    };
    // Eligibility is the class's own list (classes of a shape agree once
    // refreshed): counted afresh when the list has grown.
    const bool current = d.built && d.nodes == nodes && d.domains == domains && d.groups == c.groups_seen &&
                         cluster_.ForEachChangedSince(d.mark, update);
    if (!current) {  // first use, nodes or groups added, or the log no longer reaches back: count afresh
      d.built = true;
      d.nodes = nodes;
      d.domains = domains;
      d.groups = c.groups_seen;
      d.per_node.assign(nodes, 0);
      d.per_domain.assign(domains + 1, 0);
      for (std::uint32_t grp : c.eligible[g])
        for (std::uint32_t n : cluster_.group(grp).members) update(n);
    }
    d.mark = cluster_.ChangeMark();
    return d;
  }

  void Rollback(const JobClass& c) {
    for (const Tentative& t : tentative_) {
      cluster_.Release(t.node, c.groups[t.group].per_task, t.gpus, /*grew=*/false);
      cluster_.ReturnToClaim(t.node, t.claim_taken);
    }
    tentative_.clear();
  }

  absl::Status Commit(std::uint32_t j, Timestamp now, SchedulingRound* round) {
    JobRec& job = jobs_[j];
    const FencingToken token{.epoch = options_.epoch, .attempt = job.attempt_count + 1};
    const auto first = static_cast<std::uint32_t>(round->placements.size());
    for (const Tentative& t : tentative_) {
      round->placements.push_back({.task = t.task, .group = t.group, .node = NodeId(t.node), .gpus = t.gpus});
    }
    const auto count = static_cast<std::uint32_t>(tentative_.size());
    if (journaling()) {
      if (absl::Status s = Journal({.kind = RecordKind::kAttemptStarted, .time = now, .job = JobId(j),
                                    .token = token,
                                    .placements = std::span(round->placements).subspan(first, count)});
          !s.ok()) {
        Rollback(classes_[job.klass]);
        round->placements.resize(first);
        return Fail(s);
      }
    }
    MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kStarting, now, token));
    Dequeue(j);
    const auto a = static_cast<std::uint32_t>(attempts_.size());
    attempt_live_.Append(a);
    attempt_live_.Set(a);
    attempts_.emplace_back(AttemptRec{.job = j, .prev = job.last_attempt, .token = token,
                                      .first_task = static_cast<std::uint32_t>(tasks_.size()), .task_count = count,
                                      .alive = count, .start = now});
    job.last_attempt = a;
    job.attempt_count++;
    job.nominated = false;
    job.preempt_failures = 0;
    job.preempt_retry_at = 0;
    {
      const JobClass& klass = classes_[job.klass];
      tenants_.AddUsage(job.tenant, klass.total, +1, now);
      AttemptRec& att = attempts_[a];
      att.borrowed = tenants_.Borrowing(job.tenant, klass.total);
      if (estimator_ && job.estimate > 0) {  // only backfill reads expected ends
        att.expected_end = now + job.estimate;
        running_by_end_.emplace(att.expected_end, a);
      }
      if (options_.policies.fair_share) tenants_.UpdateShares(job.tenant, now, cluster_.total());
      att.cls = static_cast<std::uint8_t>(job.priority_class);
      att.preemptible = job.spec.preemptible;
      att.klass = job.klass;
      att.tenant = job.tenant;
      att.base = job.base;
      att.gpus = klass.total.gpus();
      if (att.preemptible) ++victim_version_[att.cls];
      if (att.preemptible || att.borrowed) ++victim_version_[3];
      if (att.preemptible && options_.policies.preemption) {
        att.counted_evictable = true;
        evictable_gpus_[att.cls] += klass.total.gpus();
        for (const Tentative& t : tentative_)
          cluster_.AddEvictable(t.node, att.cls, static_cast<std::int32_t>(t.gpus.size()));
      }
      if ((att.preemptible || att.borrowed) && options_.policies.preemption && options_.policies.preemption->reclaim) {
        att.counted_reclaimable = true;
        for (const Tentative& t : tentative_) cluster_.AddReclaimable(t.node, static_cast<std::int32_t>(t.gpus.size()));
      }
    }
    for (const Tentative& t : tentative_) {
      NodeRec& node = cluster_.mutable_node(t.node);
      const auto slot = static_cast<std::uint32_t>(tasks_.size());
      tasks_.emplace_back(TaskRec{.attempt = a, .node = t.node,
                                  .node_pos = static_cast<std::uint32_t>(node.live_tasks.size()),
                                  .index = t.task, .group = t.group, .cls = attempts_[a].cls,
                                  .preemptible = attempts_[a].preemptible,
                                  .attempt_gpus = static_cast<std::uint16_t>(std::min<std::int64_t>(attempts_[a].gpus, 65'535)),
                                  .start = now, .since = now, .gpus = t.gpus});
      node.live_tasks.push_back(slot);
      BoundVictim(tasks_[slot]);
    }
    tentative_.clear();
    round->decisions.push_back({.kind = DecisionKind::kStart, .job = JobId(j), .token = token,
                                .first_placement = first, .placement_count = count,
                                .resume = AttemptStarted(a, now, round)});
    ++counters_.starts;
    return absl::OkStatus();
  }

  // ----------------------------------------------------------------- data
  EngineOptions options_;
  Clock* clock_;
  Store* store_;
  std::shared_ptr<const OrderingPolicy> ordering_;
  std::shared_ptr<const PlacementPolicy> placement_;
  ResourceCatalog catalog_;
  Cluster cluster_;
  PendingQueue queue_;
  std::mt19937_64 rng_;  // the engine's only randomness (retry jitter, ties) — seeded
  absl::Status failed_;

  // The big tables. Jobs in chunks of 4,096 records (2.5 MiB, on huge pages):
  // job records never move, at most one chunk is held beyond them, and under
  // history retention a chunk whose jobs are all pruned is released and its
  // memory reused (PruneHistory).
  using JobTable = ChunkedVector<JobRec, PendingQueue::kJobBlockBits, HugePageAllocator<JobRec>>;
  JobTable jobs_;
  // A bit per job, set when it is pruned (JobRec::pruned): Held() reads no
  // record. Released with its block of jobs_.
  ChunkedBits<PendingQueue::kJobBlockBits> pruned_bits_;
  std::vector<std::uint32_t> pruned_in_chunk_;  // pruned jobs per chunk of jobs_ (a workflow's with the workflow)
  // Attempts and tasks in creation order, in blocks released (as the job
  // table's) once every record of a block belongs to a pruned job. An index
  // held past its job's end (a timer, a nomination's victims) is checked with
  // contains() before it is read. Chunks of 16,384 attempts and 32,768
  // tasks, each on huge pages (internal/record_blocks.h).
  ChunkedVector<AttemptRec, kAttemptBlockBits, HugePageAllocator<AttemptRec>> attempts_;
  // A bit per attempt, set until it ends (AttemptEnd::kNone): AttemptLive()
  // reads no record, since the timers it checks mostly name attempts long
  // ended, whose records are cold. Released with its block of attempts_.
  ChunkedBits<kAttemptBlockBits> attempt_live_;
  ChunkedVector<TaskRec, kTaskBlockBits, HugePageAllocator<TaskRec>> tasks_;
  std::vector<std::uint32_t> pruned_attempts_in_chunk_, pruned_tasks_in_chunk_;
  std::vector<std::pair<Timestamp, std::uint32_t>> prune_later_;  // due for pruning, but killed tasks have not exited yet
  ChunkedVector<JobClass> classes_;  // never moves a class (see NumberShape)
  HashChain class_index_;                  // classes by a hash of what makes them (ClassFor)
  // By class, apart from the classes (so that pruning a job reads a dense
  // array): its jobs not pruned, and while it has none the stamp under which
  // idle_classes_ holds it (0: not there).
  struct ClassUse {
    std::uint32_t jobs = 0;
    std::uint64_t idle_stamp = 0;
  };
  std::vector<ClassUse> class_use_;
  // Classes without jobs, oldest first, as (class, its idle_stamp then); an
  // entry whose stamp is no longer its class's is stale (DropClassRef).
  std::deque<std::pair<std::uint32_t, std::uint64_t>> idle_classes_;
  std::size_t idle_class_count_ = 0;  // entries not stale
  std::uint64_t idle_stamp_ = 0;
  std::vector<std::string> class_models_;  // ClassFor's scratch
  absl::flat_hash_map<std::string, std::uint32_t> by_idempotency_key_;
  absl::flat_hash_map<std::string, std::uint32_t> node_by_name_;
  TenantTree tenants_;
  mutable UserIndex by_user_;  // mutable: built by the first query (IndexByUser)
  std::shared_ptr<const RuntimeEstimator> estimator_;  // set with backfill
  // Running attempts by expected end (attempts with an estimate only).
  absl::btree_set<std::pair<Timestamp, std::uint32_t>> running_by_end_;
  // Preemption: kill deadlines, nominations, evictions per preempting tenant.
  // Mutable: NextWakeup() drops timers that can no longer fire from the top.
  mutable std::priority_queue<std::pair<Timestamp, std::uint32_t>, std::vector<std::pair<Timestamp, std::uint32_t>>,
                              std::greater<>>
      kill_timers_;
  std::vector<Nomination> nominations_;
  std::vector<std::uint8_t> nomination_keep_;  // PlaceNominated's scratch
  absl::flat_hash_map<std::uint32_t, std::deque<Timestamp>> evictions_;
  // Backfill overlay over nodes, valid where stamp == ov_epoch_: what will
  // be free, with what of it comes from releases. One record per node (a
  // walk touches thousands of nodes: one or two cache lines each).
  struct OverlayNode {
    std::uint64_t stamp = 0;
    std::uint32_t order = 0;  // index in ov_touched_
    GpuSet gpus;
    ResourceVector free;
    ResourceVector released;
  };
  std::uint64_t ov_epoch_ = 0;
  std::vector<OverlayNode> ov_;
  // Conservative backfilling: waiting jobs in arrival order, each with the
  // ticket of its latest enqueueing (older entries of a requeued job are
  // stale), and the profiles a pass rebuilds.
  struct ConservativeEntry {
    std::uint32_t job;
    std::uint64_t ticket;
    bool reserved = false;
    Timestamp start = 0;
    std::vector<Nomination::Slot> plan;
  };
  bool conservative_early_release_ = false;  // an attempt released before its expected end
  std::vector<ConservativeEntry> conservative_;
  std::vector<std::uint64_t> conservative_ticket_;  // by job
  std::uint64_t conservative_tickets_ = 0;
  std::vector<std::vector<ProfileStep>> profiles_;  // by node
  std::vector<std::uint32_t> profile_nodes_;
  std::vector<Timestamp> profile_times_;
  std::vector<std::uint32_t> ov_touched_;
  std::vector<bool> eligible_group_;     // scratch of ReserveOneTask: by node group
  std::vector<std::uint32_t> fitting_;   // scratch of ReserveOneTask
  std::vector<Nomination::Slot> one_task_plan_;
  // Scratch of the general reservation walk (Reserve, TrialPlace): kept so
  // that a walk allocates nothing once they have grown.
  std::vector<std::int64_t> walk_hosts_;     // by task group: tasks the touched nodes host
  std::vector<Nomination::Slot> walk_plan_;
  std::vector<std::pair<std::uint32_t, std::pair<ResourceVector, GpuSet>>> trial_used_;  // TrialPlace's node copies
  // Pass selection scratch.
  std::vector<std::vector<QueueHead>> leaf_heaps_;     // by tenant (fair share)
  std::vector<std::vector<std::uint32_t>> child_heaps_;  // by tenant, incl. the root
  // Reservations made earlier in this pass, as seen by later ones: at the
  // reservation's start it consumes what it takes from released resources;
  // at start + estimate it releases everything it took.
  struct VirtualEvent {
    Timestamp time;
    std::uint32_t node;
    bool release;
    ResourceVector amount;
    GpuSet gpus;
  };
  std::vector<VirtualEvent> virtual_events_;
  // The first reservation of the last pass, reused while its plan holds.
  struct LastReservation {
    std::uint32_t job = kNil;
    Timestamp start = 0;
    std::vector<Nomination::Slot> plan;
  };
  LastReservation last_reservation_;
  bool ReuseReservation(std::uint32_t j, const JobClass& c, Timestamp now);
  // Where a reservation walk touches a node: (expected end, attempt, task)
  // of its first release.
  using ReleaseOrder = std::tuple<Timestamp, std::uint32_t, std::uint32_t>;
  ReleaseOrder FirstRelease(std::uint32_t n) const;
  // Full walks of first reservations of one-task classes that found no room
  // before any release, with their basis: the cluster's change mark and the
  // claims when they were made (or last proven to give the same result). By
  // shape: a walk depends on the class only through its task request and
  // eligible node groups. Several, because the job that reserves first moves
  // between classes.
  struct ProvenWalk {
    std::uint32_t shape = kNil;  // kNil: unused
    Timestamp start = 0;
    std::vector<Nomination::Slot> plan;  // one slot, on node P
    std::int64_t chosen_key = 0;  // P's best-fit key at the start
    GpuSet chosen_gpus;           // P's free GPUs at the start, which the slot's were chosen from
    // Where the walk touched the runner-up: the next node after P that fit
    // at the start with P's key (never, if none did).
    ReleaseOrder runner_up{kInfiniteFuture, kNil, kNil};
    std::uint64_t change_mark = 0;
    struct Claim {
      std::uint32_t node;
      ResourceVector amount;
      GpuSet gpus;
    };
    std::vector<Claim> claims;
    std::uint64_t used = 0;  // pass it was last made or proven in
  };
  std::array<ProvenWalk, 16> proven_walks_;
  bool RepeatProvenWalk(std::uint32_t j, const JobClass& c, Timestamp now);
  bool ReserveOneTask(std::uint32_t j, const JobClass& c, Timestamp now);
  void Reserved(std::uint32_t j, const JobClass& c, Timestamp start, const std::vector<Nomination::Slot>& plan);
  void NotReserved(std::uint32_t j);
  void RememberWalk(std::uint32_t shape, Timestamp start, const std::vector<Nomination::Slot>& plan,
                    std::int64_t chosen_key, GpuSet chosen_gpus, ReleaseOrder runner_up);
  void SetBasis(ProvenWalk* walk);
  bool ClaimPlan(std::uint32_t j, const JobClass& c, Timestamp now, Timestamp start,
                 const std::vector<Nomination::Slot>& plan);
  void ClaimReservation(const JobClass& c, Timestamp start, const std::vector<Nomination::Slot>& plan);
  std::array<std::int64_t, 3> evictable_gpus_{};  // over all nodes, by class
  // Per node and victim-search level (0 and 1: preemptible work of class <=
  // the level; kReclaimLevel: any work), bounds over the live tasks a search
  // at that level may take: the earliest start, the latest checkpoint (or
  // start) and the fewest GPUs of their attempts (the tasks' saturating
  // copies, at least 1). A search passes over a node whose possible victims
  // are all too young, or whose cheapest one cannot cost less than the
  // options it has, without reading its tasks. A task's start or checkpoint
  // is folded in at once; a task's end leaves them as they are, which only
  // loosens them (the earliest start was no later, the latest checkpoint no
  // earlier, the fewest GPUs no more); they are exact again after a search
  // reads the node's tasks, and reset when the node empties. One cache line
  // a node; kept with preemption (level kReclaimLevel with quota reclaim),
  // whose options are fixed when the engine is made.
  struct alignas(64) VictimBounds {
    std::array<Timestamp, 3> earliest_start{kInfiniteFuture, kInfiniteFuture, kInfiniteFuture};
    std::array<Timestamp, 3> latest_since{};
    std::array<std::uint16_t, 3> min_gpus{};
    // Whether the task is a possible victim at `level`.
    static bool Covers(const TaskRec& task, int level) {
      return level == kReclaimLevel || (task.preemptible && task.cls <= level);
    }
    // The GPUs a task's attempt counts for in a cost: its saturating copy, at least 1.
    static std::uint16_t Gpus(const TaskRec& task) { return std::max<std::uint16_t>(1, task.attempt_gpus); }
    void Add(const TaskRec& task, int level) {
      const std::uint16_t gpus = Gpus(task);
      const bool first = earliest_start[level] == kInfiniteFuture;
      earliest_start[level] = std::min(earliest_start[level], task.start);
      latest_since[level] = first ? task.since : std::max(latest_since[level], task.since);
      min_gpus[level] = first ? gpus : std::min(min_gpus[level], gpus);
    }
    // The least a victim at `level` can cost at `now`; meaningless while
    // the level has no task (earliest_start is kInfiniteFuture): test that first.
    double LeastCost(int level, Timestamp now) const {
      return static_cast<double>(min_gpus[level]) * static_cast<double>(now - latest_since[level]);
    }
  };
  static_assert(sizeof(VictimBounds) == 64);
  std::vector<VictimBounds> victim_bounds_;
  // After `task` started or checkpointed.
  void BoundVictim(const TaskRec& task) {
    if (!options_.policies.preemption) return;
    if (victim_bounds_.size() <= task.node) victim_bounds_.resize(cluster_.node_count());
    const int levels = options_.policies.preemption->reclaim ? 3 : 2;
    for (int level = 0; level < levels; ++level)
      if (VictimBounds::Covers(task, level)) victim_bounds_[task.node].Add(task, level);
  }
  // Bumped when a possible victim starts: [class] for preemptible attempts by
  // priority class, [3] for any attempt reclaim could take.
  std::array<std::uint64_t, 4> victim_version_{1, 1, 1, 1};
  // Queued jobs that would start as possible victims by priority: while
  // there are none, no start in a pass can add one.
  std::int64_t queued_preemptible_ = 0;
  // Classes include the tenant only when fair share or quotas need it; keeps
  // the number of classes (and so the cost of a pass) low otherwise.
  bool tenant_keyed_ = false;
  // Scratch of TryPreempt.
  struct VictimOption {
    double cost;
    std::int64_t priority;  // highest victim base priority
    std::int64_t hosts;
    std::uint32_t node;
    std::uint32_t first_victim;
    std::uint32_t victim_count;
  };
  std::vector<VictimOption> victim_options_;
  std::vector<std::pair<double, std::uint32_t>> victim_candidates_;  // (cost, attempt)
  std::vector<double> best_costs_;
  std::vector<char> tenant_borrowing_;  // by tenant
  std::vector<std::uint32_t> preempt_victims_;  // scratch of TryPreempt
  std::vector<std::uint32_t> option_victims_;   // scratch: victims of all options, flat
  std::vector<std::uint32_t> preempt_nodes_;
  std::vector<std::uint32_t> grown_;  // this pass: nodes that may have more room than last pass
  bool released_since_last_pass_ = false;  // some node grew: reservations may move earlier
  // When a job whose victim search found nothing may search again.
  Timestamp preempt_wakeup_ = kInfiniteFuture;
  ResourceVector grown_max_free_;
  struct GrownNode {
    std::uint32_t group;
    ResourceVector free;
  };
  std::vector<GrownNode> grown_info_;
  std::uint64_t grown_version_ = 0;  // bumped by RecomputeGrownMax()
  // By shape: whether a task fits a grown node, as of shape_grown_version_.
  HashChain shape_index_;                         // shapes by a hash of the shape (NumberShape)
  std::vector<const JobClass*> shape_first_class_;  // per shape: the class that numbered it
  std::vector<std::uint64_t> shape_grown_version_;
  std::vector<bool> shape_fits_grown_;
  // A pass's classes that were candidates, from the front (RunPass keeps the
  // count; the vector only grows, so it is not filled anew each pass).
  std::vector<std::uint32_t> candidate_classes_;
  // This pass, per shape: its candidate classes not yet settled (RunPass's
  // settle_same_shape), and the shapes that have some. Built at the pass's
  // first failure (ListCandidatesByShape), not while marking.
  std::vector<std::vector<std::uint32_t>> shape_candidates_;
  std::vector<std::uint32_t> shapes_touched_;
  // Fair share: classes by leaf tenant (classes_by_tenant_ of them listed so
  // far), and by tenant the pass that found it with a class in the running
  // and the pass that built its heap of class heads.
  std::vector<std::vector<std::uint32_t>> tenant_classes_;
  std::vector<std::uint32_t> activated_scratch_;
  std::size_t classes_by_tenant_ = 0;
  std::vector<std::uint64_t> leaf_pass_, leaf_heap_built_;
  std::vector<std::uint64_t> tenant_started_pass_;  // RunPass: the last pass a job of the tenant started in
  std::vector<std::uint32_t> active_leaves_;
  std::uint32_t reservations_this_pass_ = 0;
  std::uint32_t preemptors_this_pass_ = 0;
  bool victim_search_ran_ = false;  // set by TryPreempt when it scanned nodes
  // Each tenant's jobs. Under history retention they hold about the jobs
  // kept, not every job ever submitted (PruneFromList). Users' are in
  // by_user_, once asked for.
  std::vector<JobList> tenant_jobs_;
  std::vector<std::array<std::int64_t, 3>> pending_by_tenant_;
  std::array<std::uint32_t, kNumJobStates> state_head_{};
  std::array<std::int64_t, kNumJobStates> state_count_{};
  std::vector<PendingKill> pending_kills_;
  std::int64_t live_nodes_ = 0;
  bool dirty_ = false;
  EngineCounters counters_;

  // Lifecycle (src/internal/lifecycle.cc).
  // Dependency edges and checkpoint records, in blocks released (as the job
  // table's) once every record of a block belongs to a pruned job: nothing
  // reads a pruned job's edges or checkpoints.
  ChunkedVector<DepEdge, 14> dep_edges_;
  ChunkedVector<CheckpointRec, 12> checkpoints_;
  std::vector<std::uint32_t> pruned_edges_in_chunk_, pruned_checkpoints_in_chunk_;
  // In blocks released once all their workflows are pruned (each with its
  // last job).
  ChunkedVector<WorkflowRec, 10> workflows_;
  std::vector<std::uint32_t> pruned_workflows_in_chunk_;
  std::vector<ScheduleRec> schedules_;
  absl::flat_hash_map<std::string, std::uint32_t> schedule_by_name_;  // live schedules
  absl::flat_hash_map<std::string, std::uint32_t> workflow_by_key_;
  absl::flat_hash_map<std::uint32_t, std::string> reasons_;  // by job: dead letter, upstream failure, retry
  // Lifecycle timers (see Timer), by time. The time-limit and progress
  // timers of ended attempts are swept out (internal/swept_heap.h): with
  // long limits the heap would otherwise hold every attempt started within
  // the longest of them. Mutable: see kill_timers_.
  mutable SweptHeap<Timer> timers_;
  static constexpr std::uint8_t kHeartbeatArmed = 1, kDownByHeartbeat = 2;
  std::vector<std::uint8_t> node_watch_;  // by node
  std::deque<std::pair<Timestamp, std::uint32_t>> ended_;  // terminal jobs by end time (retention only)
  std::vector<std::uint32_t> resolve_stack_;
  bool resolving_ = false;

  bool full_pass_walk_for_testing_ = false;     // see set_full_pass_walk_for_testing
  bool full_profile_scan_for_testing_ = false;  // see set_full_profile_scan_for_testing

  // Scratch reused across passes.
  std::vector<QueueHead> heap_;
  std::vector<QueueHead> first_blocked_;  // RunPass: the first blocked heads, in order
  std::vector<Tentative> tentative_;
  // OrderDomains' counts, for the gang shapes placed most recently: at most
  // kDomainHostsKept (each holds a count per node), forgotten all at once
  // when full and rebuilt on next use.
  static constexpr std::size_t kDomainHostsKept = 16;
  absl::flat_hash_map<std::tuple<std::uint32_t, std::uint32_t, int>, DomainHosts> domain_hosts_by_shape_;
  std::vector<std::int64_t> domain_sums_;  // by DomainSlot: OrderDomains' and RefreshClass's scratch
  std::vector<std::pair<std::uint32_t, std::int64_t>> domain_order_;
};

}  // namespace internal
}  // namespace mlsched

#endif  // MLSCHED_SRC_INTERNAL_ENGINE_IMPL_H_
