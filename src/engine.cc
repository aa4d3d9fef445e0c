// Engine: events in, decisions out.
//
// Assumptions and design:
// - Pending jobs are grouped into classes of identical shape (task groups and
//   per-task requests) and constraints. Jobs of one class are interchangeable
//   for placement, so in a pass a class whose head does not fit is skipped as
//   a whole: a pass costs O(classes log classes + placements), not O(pending).
// - A pass repeatedly takes the class whose head job has the highest
//   effective priority (a heap of class heads), tries to place that job (all
//   tasks or none), and either commits it or blocks the class for the pass.
//   Capacity only shrinks during a pass, so a blocked class stays blocked: no
//   job starts while a higher-priority job that fits is left waiting.
// - A pass runs only when something could change its outcome (capacity freed,
//   nodes added, jobs queued): `dirty_`.
// - Attempts, tasks and placements live in flat arrays indexed by dense
//   integers; a live attempt holds its resources until each task has exited
//   (or its node is down), so a GPU is never handed out twice, even while a
//   killed task is still shutting down.
// - Every transition is written to the Store before it is applied.
#include "mlsched/engine.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "internal/cluster.h"
#include "internal/pending_queue.h"
#include "mlsched/status_macros.h"

namespace mlsched {
namespace internal {

namespace {

struct WaitInfo {
  enum class Code : std::uint8_t { kNone, kNoRoom, kPolicyInvalid };
  Code code = Code::kNone;
  std::uint16_t group = 0;
  std::uint32_t task = 0;
  std::uint32_t node = kNil;  // kPolicyInvalid: the node the policy chose
};

struct JobClass {
  std::vector<TaskGroup> groups;  // shape shared by every job of the class
  Constraints constraints;
  std::vector<std::vector<std::uint32_t>> eligible;  // per task group: node groups
  std::uint32_t groups_seen = 0;                      // node groups checked for eligibility
  std::uint64_t checked_capacity = ~std::uint64_t{0};
  bool infeasible = false;
  std::string infeasible_reason;
  std::uint64_t wait_pass = 0;  // pass in which `wait` was recorded
  WaitInfo wait;
  Timestamp wait_time = 0;
};

// Hot fields first: a pass touches these, never the spec (placement reads the
// shape from the job's class, which every job of the class shares).
struct JobRec {
  JobState state = JobState::kQueued;
  PriorityClass priority_class = PriorityClass::kMedium;
  std::uint32_t tenant = 0;
  std::uint32_t user = 0;
  std::uint32_t klass = 0;
  std::uint32_t last_attempt = kNil;
  std::uint32_t attempt_count = 0;
  std::uint32_t state_prev = kNil, state_next = kNil;
  std::int64_t base = 0;
  Timestamp submit = 0;
  Timestamp enq = 0;  // start of the current wait; kept across requeues
  Timestamp end = 0;
  std::uint64_t queued_pass = 0;  // passes_ when it was last queued
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
};

struct TaskRec {
  std::uint32_t attempt = 0;
  std::uint32_t node = 0;
  std::uint32_t node_pos = 0;  // index in the node's live_tasks
  std::uint32_t index = 0;     // flat task index in the job
  std::uint16_t group = 0;
  GpuSet gpus;
  bool started = false;
  bool exited = false;
  std::int32_t exit_code = 0;
  std::int32_t signal = 0;
};

struct PendingKill {
  std::uint32_t attempt;
  KillReason reason;
};

struct Tentative {
  std::uint32_t node;
  GpuSet gpus;
  std::uint16_t group;
  std::uint32_t task;
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

}  // namespace

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
  }

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
    return ApplyNodeState(n, state, now);
  }

  absl::Status Heartbeat(NodeId node) {
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
    cluster_.mutable_node(n).last_heartbeat = Now();
    return absl::OkStatus();
  }

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
    if (healthy) dirty_ = true;
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
  absl::StatusOr<JobId> Submit(JobSpec spec) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    if (!spec.idempotency_key.empty()) {
      auto it = by_idempotency_key_.find(spec.idempotency_key);
      if (it != by_idempotency_key_.end()) {
        ++counters_.duplicate_submits;
        return JobId(it->second);
      }
    }
    MLSCHED_RETURN_IF_ERROR(spec.Validate());
    for (std::size_t g = 0; g < spec.task_groups.size(); ++g) {
      MLSCHED_RETURN_IF_ERROR(CheckKindsRegistered(
          catalog_, spec.task_groups[g].per_task,
          fmt::format("job \"{}\": task_groups[{}].per_task", spec.name, g)));
    }
    const std::int64_t base = ordering_->BasePriority(spec);
    if (base < -kMaxBasePriority || base > kMaxBasePriority) {
      return absl::InvalidArgumentError(fmt::format(
          "job \"{}\": ordering policy \"{}\" gave base priority {}, outside +-{}", spec.name,
          ordering_->name(), base, kMaxBasePriority));
    }
    const Timestamp now = Now();
    const auto j = static_cast<std::uint32_t>(jobs_.size());
    if (j == kNil - 1) return absl::ResourceExhaustedError("the engine holds 2^32 - 2 jobs");
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kJobSubmitted, .time = now, .job = JobId(j),
                                     .to = JobState::kQueued, .spec = &spec}));
    JobRec& job = jobs_.emplace_back();
    job.tenant = tenants_.Intern(spec.tenant);
    job.user = users_.Intern(spec.user);
    job.klass = ClassFor(spec);
    job.base = base;
    job.priority_class = spec.priority_class;
    job.submit = now;
    job.enq = now;
    if (!spec.idempotency_key.empty()) by_idempotency_key_.emplace(spec.idempotency_key, j);
    job.spec = std::move(spec);
    if (tenant_jobs_.size() < tenants_.size()) {
      tenant_jobs_.resize(tenants_.size());
      pending_by_tenant_.resize(tenants_.size());
    }
    if (user_jobs_.size() < users_.size()) user_jobs_.resize(users_.size());
    tenant_jobs_[job.tenant].push_back(j);
    user_jobs_[job.user].push_back(j);
    StateLink(j, JobState::kQueued);
    Enqueue(j, now);
    return JobId(j);
  }

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
    return absl::OkStatus();
  }

  absl::Status TaskStarted(const TaskReport& r) {
    MLSCHED_RETURN_IF_ERROR(failed_);
    MLSCHED_ASSIGN_OR_RETURN(std::uint32_t a, CheckReport(r.job, r.token, r.task, "started"));
    AttemptRec& att = attempts_[a];
    TaskRec& task = tasks_[att.first_task + r.task];
    if (task.started || task.exited) return absl::OkStatus();  // duplicate: nothing to do
    const Timestamp now = Now();
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
    MLSCHED_RETURN_IF_ERROR(Journal({.kind = RecordKind::kTaskExited, .time = now, .job = r.job,
                                     .token = r.token, .task = r.task, .exit_code = r.exit_code,
                                     .signal = r.signal}));
    if (!task.started) {
      task.started = true;
      ++att.started;
    }
    task.exit_code = r.exit_code;
    task.signal = r.signal;
    ReleaseTask(att.first_task + r.task);
    if (att.outcome != AttemptEnd::kNone) return absl::OkStatus();  // already ending
    const std::uint32_t j = att.job;
    const bool success = r.exit_code == 0 && r.signal == 0;
    if (!success) {
      MLSCHED_RETURN_IF_ERROR(MaybeRunning(a, now));
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kFailed, now, att.token));
      EndAttempt(a, AttemptEnd::kFailed, KillReason::kGangFailed, now);
      return AfterAttemptEnded(j, now);
    }
    MLSCHED_RETURN_IF_ERROR(MaybeRunning(a, now));
    if (att.alive == 0) {
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kSucceeded, now, att.token));
      EndAttempt(a, AttemptEnd::kSucceeded, KillReason::kNone, now);
    }
    return absl::OkStatus();
  }

  // ----------------------------------------------------------- scheduling
  absl::Status Tick(SchedulingRound* round) {
    round->Clear();
    const Timestamp now = Now();
    round->time = now;
    MLSCHED_RETURN_IF_ERROR(failed_);
    queue_.AdvanceTo(now);
    EmitKills(round);
    if (!dirty_) return absl::OkStatus();
    dirty_ = false;
    ++counters_.passes;
    const std::uint64_t pass = counters_.passes;

    heap_.clear();
    for (std::uint32_t c = 0; c < classes_.size(); ++c) {
      if (queue_.ClassSize(c) == 0) continue;
      JobClass& klass = classes_[c];
      RefreshClass(klass);
      if (klass.infeasible) continue;
      heap_.push_back(*queue_.Head(c, now));
    }
    auto lower = [](const QueueHead& a, const QueueHead& b) { return b.Before(a); };
    std::make_heap(heap_.begin(), heap_.end(), lower);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), lower);
      const QueueHead head = heap_.back();
      heap_.pop_back();
      JobClass& klass = classes_[head.klass];
      WaitInfo wait;
      if (!TryPlace(head.job, klass, &wait)) {
        klass.wait = wait;
        klass.wait_pass = pass;
        klass.wait_time = now;
        counters_.skipped_by_class += static_cast<std::int64_t>(queue_.ClassSize(head.klass)) - 1;
        continue;
      }
      MLSCHED_RETURN_IF_ERROR(Commit(head.job, now, round));
      if (auto next = queue_.Head(head.klass, now)) {
        heap_.push_back(*next);
        std::push_heap(heap_.begin(), heap_.end(), lower);
      }
    }
    return absl::OkStatus();
  }

  Timestamp NextWakeup() const {
    if (!failed_.ok()) return kInfiniteFuture;
    if (dirty_ || !pending_kills_.empty()) return Now();
    return kInfiniteFuture;
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
    for (std::uint32_t a = job.last_attempt; a != kNil; a = attempts_[a].prev) {
      const AttemptRec& att = attempts_[a];
      AttemptInfo info{.token = att.token, .start = att.start, .end = att.end,
                       .outcome = att.outcome, .stopping = att.stopping};
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

  const JobSpec* GetSpec(JobId id) const {
    return id.valid() && id.value() < jobs_.size() ? &jobs_[id.value()].spec : nullptr;
  }

  std::vector<JobId> ListJobs(const JobFilter& f) const {
    std::vector<JobId> out;
    std::optional<std::uint32_t> tenant, user;
    if (f.tenant) {
      tenant = tenants_.Find(*f.tenant);
      if (!tenant) return out;
    }
    if (f.user) {
      user = users_.Find(*f.user);
      if (!user) return out;
    }
    auto keep = [&](std::uint32_t j) {
      const JobRec& job = jobs_[j];
      if (tenant && job.tenant != *tenant) return;
      if (user && job.user != *user) return;
      if (f.state && job.state != *f.state) return;
      out.push_back(JobId(j));
    };
    if (tenant) {
      for (std::uint32_t j : tenant_jobs_[*tenant]) keep(j);
    } else if (user) {
      for (std::uint32_t j : user_jobs_[*user]) keep(j);
    } else if (f.state) {
      for (std::uint32_t j = state_head_[static_cast<int>(*f.state)]; j != kNil; j = jobs_[j].state_next)
        keep(j);
    } else {
      for (std::uint32_t j = 0; j < jobs_.size(); ++j) keep(j);
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
      if (sum > 0) d.by_tenant.push_back({.tenant = tenants_.Name(t), .by_class = counts});
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
    if (job.state != JobState::kQueued) {
      e.verdict = Explanation::Verdict::kNotPending;
      e.reason = fmt::format("job is {}", JobStateName(job.state));
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
    return e;
  }

  EngineCounters counters() const { return counters_; }
  std::int64_t job_count() const { return static_cast<std::int64_t>(jobs_.size()); }
  std::int64_t node_count() const { return live_nodes_; }

 private:
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
    return job.value();
  }

  // Finds the attempt a report is about, refusing stale tokens.
  absl::StatusOr<std::uint32_t> CheckReport(JobId id, FencingToken token, std::int32_t task,
                                            std::string_view what) {
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
    if (absl::Status s = CheckTransition(job.state, to); !s.ok()) {
      return absl::InternalError(fmt::format("job \"{}\" (#{}): {}", job.spec.name, j, std::string(s.message())));
    }
    if (absl::Status s = Journal({.kind = RecordKind::kJobTransition, .time = now, .job = JobId(j),
                                  .from = job.state, .to = to, .token = token});
        !s.ok()) {
      return Fail(s);
    }
    StateUnlink(j);
    StateLink(j, to);
    if (IsTerminal(to)) job.end = now;
    return absl::OkStatus();
  }

  void Enqueue(std::uint32_t j, Timestamp now) {
    JobRec& job = jobs_[j];
    queue_.Push(j, job.klass, job.base, job.enq, now);
    job.queued_pass = counters_.passes;
    pending_by_tenant_[job.tenant][static_cast<int>(job.priority_class)]++;
    dirty_ = true;
  }

  void Dequeue(std::uint32_t j) {
    if (!queue_.Contains(j)) return;
    queue_.Remove(j);
    const JobRec& job = jobs_[j];
    pending_by_tenant_[job.tenant][static_cast<int>(job.priority_class)]--;
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
    AttemptRec& att = attempts_[a];
    att.outcome = outcome;
    att.end = now;
    if (att.alive > 0 && reason != KillReason::kNone) {
      att.stopping = true;
      pending_kills_.push_back({a, reason});
    }
  }

  // After Failed / Lost / TimedOut / Preempted: requeue or dead-letter.
  absl::Status AfterAttemptEnded(std::uint32_t j, Timestamp now) {
    JobRec& job = jobs_[j];
    if (static_cast<std::int32_t>(job.attempt_count) < job.spec.retry.max_attempts) {
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kQueued, now, {}));
      Enqueue(j, now);  // keeps job.enq: a retried job keeps its place and age
      return absl::OkStatus();
    }
    return Transition(j, JobState::kDeadLettered, now, {});
  }

  void ReleaseTask(std::uint32_t t) {
    TaskRec& task = tasks_[t];
    if (task.exited) return;
    task.exited = true;
    AttemptRec& att = attempts_[task.attempt];
    const JobClass& klass = classes_[jobs_[att.job].klass];
    cluster_.Release(task.node, klass.groups[task.group].per_task, task.gpus);
    // Unlink from the node's live list (swap with the last).
    NodeRec& node = cluster_.mutable_node(task.node);
    const std::uint32_t last = node.live_tasks.back();
    node.live_tasks[task.node_pos] = last;
    tasks_[last].node_pos = task.node_pos;
    node.live_tasks.pop_back();
    --att.alive;
    dirty_ = true;
  }

  absl::Status ApplyNodeState(std::uint32_t n, NodeState state, Timestamp now) {
    const NodeState before = cluster_.node(n).state;
    cluster_.SetState(n, state);
    if (state != NodeState::kDown) {
      if (state == NodeState::kUp && before != NodeState::kUp) dirty_ = true;
      return absl::OkStatus();
    }
    // Down: every task on the node is gone; their attempts are Lost.
    std::vector<std::uint32_t> lost = cluster_.node(n).live_tasks;
    for (std::uint32_t t : lost) {
      const std::uint32_t a = tasks_[t].attempt;
      tasks_[t].signal = 0;
      tasks_[t].exit_code = -1;
      ReleaseTask(t);
      AttemptRec& att = attempts_[a];
      if (att.outcome != AttemptEnd::kNone) continue;
      const std::uint32_t j = att.job;
      MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kLost, now, att.token));
      EndAttempt(a, AttemptEnd::kLost, KillReason::kNodeLost, now);
      MLSCHED_RETURN_IF_ERROR(AfterAttemptEnded(j, now));
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
  std::uint32_t ClassFor(const JobSpec& spec) {
    std::string key;
    for (const TaskGroup& g : spec.task_groups) {
      key.append(reinterpret_cast<const char*>(&g.count), sizeof g.count);
      for (int k = 0; k < kMaxResourceKinds; ++k) {
        const std::int64_t q = g.per_task.Get(ResourceKind(static_cast<std::uint8_t>(k)));
        key.append(reinterpret_cast<const char*>(&q), sizeof q);
      }
    }
    std::vector<std::string> models = spec.constraints.gpu_models;
    std::sort(models.begin(), models.end());
    models.erase(std::unique(models.begin(), models.end()), models.end());
    for (const std::string& m : models) {
      key += '\x01';
      key += m;
    }
    for (const auto& [k, v] : spec.constraints.node_labels) {
      key += '\x02';
      key += k;
      key += '\x03';
      key += v;
    }
    auto [it, inserted] = class_by_key_.try_emplace(std::move(key), static_cast<std::uint32_t>(classes_.size()));
    if (inserted) {
      JobClass& c = classes_.emplace_back();
      c.groups = spec.task_groups;
      for (TaskGroup& g : c.groups) g.name.clear();
      c.constraints = spec.constraints;
      c.eligible.resize(c.groups.size());
    }
    return it->second;
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
      if (hosts >= tg.count) continue;
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

  bool TryPlace(std::uint32_t j, const JobClass& c, WaitInfo* wait) {
    tentative_.clear();
    std::uint32_t flat = 0;
    for (std::size_t g = 0; g < c.groups.size(); ++g) {
      const TaskGroup& tg = c.groups[g];
      TaskRequest req{.job = JobId(j), .group = static_cast<int>(g), .gang_size = tg.count,
                      .per_task = tg.per_task};
      const CandidateNodes candidates = cluster_.Candidates(c.eligible[g], &tg.per_task);
      for (int t = 0; t < tg.count; ++t, ++flat) {
        req.task = t;
        ++counters_.placement_attempts;
        const std::optional<NodeId> choice = placement_->ChooseNode(req, candidates);
        const std::uint32_t n = choice ? choice->value() : kNil;
        const bool valid = choice && n < cluster_.node_count() && IsEligible(c, g, n) &&
                           cluster_.Fits(n, tg.per_task);
        if (!valid) {
          *wait = {.code = choice ? WaitInfo::Code::kPolicyInvalid : WaitInfo::Code::kNoRoom,
                   .group = static_cast<std::uint16_t>(g), .task = static_cast<std::uint32_t>(t),
                   .node = n};
          Rollback(c);
          return false;
        }
        const GpuSet gpus = cluster_.ChooseGpus(n, static_cast<int>(tg.per_task.gpus()));
        cluster_.Allocate(n, tg.per_task, gpus);
        tentative_.push_back({n, gpus, static_cast<std::uint16_t>(g), flat});
      }
    }
    return true;
  }

  void Rollback(const JobClass& c) {
    for (const Tentative& t : tentative_) cluster_.Release(t.node, c.groups[t.group].per_task, t.gpus);
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
    if (absl::Status s = Journal({.kind = RecordKind::kAttemptStarted, .time = now, .job = JobId(j),
                                  .token = token,
                                  .placements = std::span(round->placements).subspan(first, count)});
        !s.ok()) {
      Rollback(classes_[job.klass]);
      round->placements.resize(first);
      return Fail(s);
    }
    MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kStarting, now, token));
    Dequeue(j);
    const auto a = static_cast<std::uint32_t>(attempts_.size());
    attempts_.push_back({.job = j, .prev = job.last_attempt, .token = token,
                         .first_task = static_cast<std::uint32_t>(tasks_.size()), .task_count = count,
                         .alive = count, .start = now});
    job.last_attempt = a;
    job.attempt_count++;
    for (const Tentative& t : tentative_) {
      NodeRec& node = cluster_.mutable_node(t.node);
      const auto slot = static_cast<std::uint32_t>(tasks_.size());
      tasks_.push_back({.attempt = a, .node = t.node, .node_pos = static_cast<std::uint32_t>(node.live_tasks.size()),
                        .index = t.task, .group = t.group, .gpus = t.gpus});
      node.live_tasks.push_back(slot);
    }
    tentative_.clear();
    round->decisions.push_back({.kind = DecisionKind::kStart, .job = JobId(j), .token = token,
                                .first_placement = first, .placement_count = count});
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

  std::vector<JobRec> jobs_;
  std::vector<AttemptRec> attempts_;
  std::vector<TaskRec> tasks_;
  std::vector<JobClass> classes_;
  absl::flat_hash_map<std::string, std::uint32_t> class_by_key_;
  absl::flat_hash_map<std::string, std::uint32_t> by_idempotency_key_;
  absl::flat_hash_map<std::string, std::uint32_t> node_by_name_;
  Names tenants_, users_;
  std::vector<std::vector<std::uint32_t>> tenant_jobs_, user_jobs_;
  std::vector<std::array<std::int64_t, 3>> pending_by_tenant_;
  std::array<std::uint32_t, kNumJobStates> state_head_{};
  std::array<std::int64_t, kNumJobStates> state_count_{};
  std::vector<PendingKill> pending_kills_;
  std::int64_t live_nodes_ = 0;
  bool dirty_ = false;
  EngineCounters counters_;

  // Scratch reused across passes.
  std::vector<QueueHead> heap_;
  std::vector<Tentative> tentative_;
};

}  // namespace internal

// ------------------------------------------------------------------ Engine

std::string_view VerdictName(Explanation::Verdict v) {
  switch (v) {
    case Explanation::Verdict::kNotPending: return "not-pending";
    case Explanation::Verdict::kPending: return "pending";
    case Explanation::Verdict::kWait: return "wait";
    case Explanation::Verdict::kInfeasible: return "infeasible";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("engine options: clock is required");
  if (options.kill_grace < 0) {
    return absl::InvalidArgumentError(
        fmt::format("engine options: kill_grace = {}: must be >= 0", options.kill_grace));
  }
  if (options.epoch == 0) return absl::InvalidArgumentError("engine options: epoch = 0: must be >= 1");
  const PolicySet defaults = DefaultPolicySet();
  if (!options.policies.ordering) options.policies.ordering = defaults.ordering;
  if (!options.policies.placement) options.policies.placement = defaults.placement;
  if (absl::Status s = options.policies.ordering->Validate(); !s.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("ordering policy \"{}\": {}", options.policies.ordering->name(), std::string(s.message())));
  }
  auto impl = std::make_unique<internal::EngineImpl>(std::move(options));
  MLSCHED_RETURN_IF_ERROR(impl->RegisterExtended());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<internal::EngineImpl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const ResourceCatalog& Engine::catalog() const { return impl_->catalog(); }
Timestamp Engine::Now() const { return impl_->Now(); }
absl::StatusOr<NodeId> Engine::AddNode(NodeSpec spec) { return impl_->AddNode(std::move(spec)); }
absl::Status Engine::RemoveNode(NodeId node) { return impl_->RemoveNode(node); }
absl::Status Engine::SetNodeState(NodeId node, NodeState state) { return impl_->SetNodeState(node, state); }
absl::Status Engine::Heartbeat(NodeId node) { return impl_->Heartbeat(node); }
absl::Status Engine::SetGpuHealth(NodeId node, int gpu, bool healthy) {
  return impl_->SetGpuHealth(node, gpu, healthy);
}
absl::StatusOr<NodeId> Engine::FindNode(std::string_view name) const { return impl_->FindNode(name); }
absl::StatusOr<NodeStatus> Engine::GetNode(NodeId node) const { return impl_->GetNode(node); }
absl::StatusOr<JobId> Engine::Submit(JobSpec spec) { return impl_->Submit(std::move(spec)); }
absl::Status Engine::Cancel(JobId job) { return impl_->Cancel(job); }
absl::Status Engine::TaskStarted(const TaskReport& report) { return impl_->TaskStarted(report); }
absl::Status Engine::TaskExited(const TaskExit& report) { return impl_->TaskExited(report); }
absl::Status Engine::Tick(SchedulingRound* round) { return impl_->Tick(round); }
SchedulingRound Engine::Tick() {
  SchedulingRound round;
  if (!impl_->Tick(&round).ok()) round.Clear();
  return round;
}
Timestamp Engine::NextWakeup() const { return impl_->NextWakeup(); }
absl::Status Engine::error() const { return impl_->error(); }
absl::StatusOr<JobStatus> Engine::GetJob(JobId job) const { return impl_->GetJob(job); }
const JobSpec* Engine::GetSpec(JobId job) const { return impl_->GetSpec(job); }
std::vector<JobId> Engine::ListJobs(const JobFilter& filter) const { return impl_->ListJobs(filter); }
QueueDepth Engine::GetQueueDepth() const { return impl_->GetQueueDepth(); }
Utilization Engine::GetUtilization() const { return impl_->GetUtilization(); }
absl::StatusOr<Explanation> Engine::Explain(JobId job) const { return impl_->Explain(job); }
EngineCounters Engine::counters() const { return impl_->counters(); }
std::int64_t Engine::job_count() const { return impl_->job_count(); }
std::int64_t Engine::node_count() const { return impl_->node_count(); }

}  // namespace mlsched
