// Job lifecycle: dependencies and workflows, holds (begin time, retry
// backoff), retries and dead letters, time limits, stuck attempts, node
// heartbeats, unhealthy GPUs, checkpoints and history retention.
//
// Dependencies are an edge list per parent (dep_edges_, linked through
// JobRec::first_dependent) and an unmet count per child: releasing a child
// costs O(1) per edge, and a whole DAG is released in O(V + E). Boost.Graph
// checks a workflow for cycles once, when it is submitted (internal/dag.h).
//
// Timers (time limits, progress deadlines, heartbeat deadlines, holds) live in
// one heap; an entry that became moot is skipped when it fires, so reports
// (heartbeats, progress) cost O(1) and never touch the heap. The timers of
// ended attempts are swept out as the heap grows (internal/swept_heap.h).
#include <memory>

#include "internal/dag.h"
#include "internal/engine_impl.h"

namespace mlsched::internal {

namespace {

// Whether a dependency of `kind` is met by a parent that ended in `state`.
bool Met(DependencyKind kind, JobState state) {
  switch (kind) {
    case DependencyKind::kAfterSuccess: return state == JobState::kSucceeded;
    case DependencyKind::kAfterAny: return true;
    case DependencyKind::kAfterFailure: return state != JobState::kSucceeded;
  }
  return false;
}

// Counts record i of `table` as pruned; releases its chunk (and says so) when
// every record of the chunk is.
template <typename Table>
bool CountPruned(Table& table, std::vector<std::uint32_t>& pruned_per_chunk, std::uint32_t i) {
  const std::size_t chunk = i / Table::kChunk;
  if (pruned_per_chunk.size() <= chunk) pruned_per_chunk.resize(chunk + 1, 0);
  if (++pruned_per_chunk[chunk] != Table::kChunk) return false;
  table.release_chunk(chunk);
  return true;
}

}  // namespace

// ------------------------------------------------------------- submission

absl::Status EngineImpl::CheckSubmittable(const JobSpec& spec, bool validated) const {
  if (!validated) MLSCHED_RETURN_IF_ERROR(spec.Validate());
  for (std::size_t g = 0; g < spec.task_groups.size(); ++g) {
    if (absl::Status s = CheckKindsRegistered(catalog_, spec.task_groups[g].per_task, "per_task"); !s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("job \"{}\": task_groups[{}].{}", spec.name, g, std::string(s.message())));
    }
  }
  const std::int64_t base = ordering_->BasePriority(spec);
  if (base < -kMaxBasePriority || base > kMaxBasePriority) {
    return absl::InvalidArgumentError(fmt::format("job \"{}\": ordering policy \"{}\" gave base priority {}, outside +-{}",
                                                  spec.name, ordering_->name(), base, kMaxBasePriority));
  }
  // (No lookup while every tenant is a leaf: the submission's own lookup,
  // in CreateJob, is then the only one.)
  if (auto t = tenants_.has_inner_tenants() ? tenants_.Find(spec.tenant) : std::nullopt;
      t && !tenants_.at(*t).leaf()) {
    return absl::InvalidArgumentError(fmt::format(
        "job \"{}\": tenant = \"{}\": that tenant has child tenants; jobs run in leaf tenants", spec.name, spec.tenant));
  }
  for (std::size_t i = 0; i < spec.dependencies.size(); ++i) {
    const JobId parent = spec.dependencies[i].job;
    if (parent.value() >= jobs_.size()) {
      return absl::InvalidArgumentError(
          fmt::format("job \"{}\": dependencies[{}].job = #{}: unknown job", spec.name, i, parent.value()));
    }
    if (!Held(parent.value())) {
      return absl::InvalidArgumentError(fmt::format(
          "job \"{}\": dependencies[{}].job = #{}: pruned by history retention; its outcome is no longer known",
          spec.name, i, parent.value()));
    }
  }
  return absl::OkStatus();
}

template <typename Spec>
absl::StatusOr<std::uint32_t> EngineImpl::CreateJob(Spec&& submitted, Timestamp now, std::uint32_t workflow,
                                                     std::uint32_t first_internal) {
  const auto j = static_cast<std::uint32_t>(jobs_.size());
  std::uint32_t unmet = 0;
  bool doomed = false;  // a dependency on a job that already ended can never be met
  for (const Dependency& d : submitted.dependencies) {
    const std::uint32_t p = d.job.value();
    if (p >= first_internal || !IsTerminal(jobs_[p].state)) {
      ++unmet;
    } else if (!Met(d.kind, jobs_[p].state)) {
      doomed = true;
    }
  }
  const JobState initial = unmet > 0 || doomed ? JobState::kWaitingDeps : JobState::kQueued;
  if (journaling()) {
    if (absl::Status s = Journal({.kind = RecordKind::kJobSubmitted, .time = now, .job = JobId(j), .to = initial,
                                  .spec = &submitted});
        !s.ok()) {
      return workflow == kNil ? s : Fail(s);  // a half-submitted workflow stops the engine
    }
  }
  const std::uint32_t leaf = tenants_.FindOrCreate(submitted.tenant);
  tenants_.mutable_at(leaf).jobs++;
  pruned_bits_.Append(j);
  JobRec& job = jobs_.emplace_back(std::forward<Spec>(submitted));  // moved or copied in once, read from the record below
  const JobSpec& spec = job.spec;
  job.tenant = leaf;
  job.estimate = estimator_ ? std::max<Duration>(0, estimator_->Estimate(spec)) : spec.time_limit;
  job.klass = ClassFor(spec, tenant_keyed_ ? leaf : 0, estimator_ ? job.estimate : 0);
  job.base = ordering_->BasePriority(spec);
  job.priority_class = spec.priority_class;
  job.submit = now;
  job.enq = now;
  job.unmet = unmet;
  job.workflow = workflow;
  job.watched = spec.time_limit > 0 || spec.progress_timeout > 0;
  if (!spec.idempotency_key.empty()) by_idempotency_key_.emplace(spec.idempotency_key, j);
  for (const Dependency& d : spec.dependencies) {
    const std::uint32_t p = d.job.value();
    if (p >= first_internal || IsTerminal(jobs_[p].state)) continue;
    dep_edges_.emplace_back(DepEdge{.child = j, .next = jobs_[p].first_dependent, .kind = d.kind});
    jobs_[p].first_dependent = static_cast<std::uint32_t>(dep_edges_.size() - 1);
  }
  if (tenant_jobs_.size() < tenants_.size()) {
    tenant_jobs_.resize(tenants_.size());
    pending_by_tenant_.resize(tenants_.size());
  }
  tenant_jobs_[job.tenant].ids.push_back(j);
  if (by_user_.built) AddToUserIndex(j);
  StateLink(j, initial);
  return j;
}

template absl::StatusOr<std::uint32_t> EngineImpl::CreateJob(JobSpec&&, Timestamp, std::uint32_t, std::uint32_t);
template absl::StatusOr<std::uint32_t> EngineImpl::CreateJob(const JobSpec&, Timestamp, std::uint32_t, std::uint32_t);

absl::Status EngineImpl::Settle(std::uint32_t j, Timestamp now) {
  JobRec& job = jobs_[j];
  if (job.state == JobState::kQueued) {
    MakeEligible(j, now);
    return absl::OkStatus();
  }
  if (job.state != JobState::kWaitingDeps) return absl::OkStatus();
  for (const Dependency& d : job.spec.dependencies) {
    const JobRec& parent = jobs_[d.job.value()];
    if (!IsTerminal(parent.state) || Met(d.kind, parent.state)) continue;
    reasons_[j] = fmt::format("dependency {} on job \"{}\" (#{}) can never be met: it ended {}",
                              DependencyKindName(d.kind), parent.spec.name, d.job.value(), JobStateName(parent.state));
    const bool cancel = job.workflow != kNil &&
                        workflows_[job.workflow].on_upstream_failure == UpstreamFailure::kCancel;
    return Transition(j, cancel ? JobState::kCancelled : JobState::kUpstreamFailed, now, {});
  }
  return absl::OkStatus();
}

void EngineImpl::MakeEligible(std::uint32_t j, Timestamp now) {
  const JobRec& job = jobs_[j];
  if (job.spec.begin_time > now) {
    Hold(j, job.spec.begin_time);
  } else {
    Enqueue(j, now);
  }
}

void EngineImpl::Hold(std::uint32_t j, Timestamp until) {
  jobs_[j].hold_until = until;
  PushTimer({.time = until, .kind = Timer::Kind::kRelease, .id = j});
}

absl::Status EngineImpl::ResolveDependents(std::uint32_t j, Timestamp now) {
  if (jobs_[j].first_dependent == kNil) return absl::OkStatus();
  resolve_stack_.push_back(j);
  if (resolving_) return absl::OkStatus();  // an outer call drains the stack
  resolving_ = true;
  absl::Status status;
  while (!resolve_stack_.empty() && status.ok()) {
    const std::uint32_t p = resolve_stack_.back();
    resolve_stack_.pop_back();
    const JobState ended = jobs_[p].state;
    for (std::uint32_t e = jobs_[p].first_dependent; e != kNil && status.ok(); e = dep_edges_[e].next) {
      const DepEdge& edge = dep_edges_[e];
      if (!jobs_.contains(edge.child)) continue;  // pruned: ended long ago
      JobRec& child = jobs_[edge.child];
      if (child.state != JobState::kWaitingDeps) continue;  // cancelled, or already failed by another parent
      if (Met(edge.kind, ended)) {
        if (--child.unmet > 0) continue;
        status = Transition(edge.child, JobState::kQueued, now, {});
        if (status.ok()) MakeEligible(edge.child, now);
        continue;
      }
      reasons_[edge.child] = fmt::format("dependency {} on job \"{}\" (#{}) can never be met: it ended {}",
                                         DependencyKindName(edge.kind), jobs_[p].spec.name, p, JobStateName(ended));
      const bool cancel = child.workflow != kNil &&
                          workflows_[child.workflow].on_upstream_failure == UpstreamFailure::kCancel;
      status = Transition(edge.child, cancel ? JobState::kCancelled : JobState::kUpstreamFailed, now, {});
    }
  }
  resolve_stack_.clear();
  resolving_ = false;
  return status;
}

absl::StatusOr<WorkflowSubmission> EngineImpl::SubmitWorkflow(WorkflowSpec spec) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  if (!spec.idempotency_key.empty()) {
    if (auto it = workflow_by_key_.find(spec.idempotency_key); it != workflow_by_key_.end()) {
      ++counters_.duplicate_submits;
      const WorkflowRec& w = workflows_[it->second];
      WorkflowSubmission sub{.id = WorkflowId(it->second)};
      for (std::uint32_t i = 0; i < w.job_count; ++i) sub.jobs.push_back(JobId(w.first_job + i));
      return sub;
    }
  }
  MLSCHED_ASSIGN_OR_RETURN(std::vector<DagEdge> edges, ResolveWorkflow(spec));
  const auto n = static_cast<std::uint32_t>(spec.jobs.size());
  absl::flat_hash_map<std::string_view, std::uint32_t> keys;
  for (std::uint32_t i = 0; i < n; ++i) {
    const JobSpec& job = spec.jobs[i];
    if (absl::Status s = CheckSubmittable(job, /*validated=*/true); !s.ok()) {
      return absl::Status(s.code(), fmt::format("workflow \"{}\": jobs[{}]: {}", spec.name, i, std::string(s.message())));
    }
    if (!job.idempotency_key.empty() &&
        (by_idempotency_key_.contains(job.idempotency_key) || !keys.emplace(job.idempotency_key, i).second)) {
      return absl::InvalidArgumentError(fmt::format(
          "workflow \"{}\": jobs[{}].idempotency_key = \"{}\": already used; a workflow's jobs are new jobs",
          spec.name, i, job.idempotency_key));
    }
  }
  MLSCHED_ASSIGN_OR_RETURN(
      std::vector<std::uint32_t> topo,
      TopologicalOrder(
          n, edges, [&](std::uint32_t v) { return spec.jobs[v].name; }, fmt::format("workflow \"{}\"", spec.name)));
  if (jobs_.size() + n >= kNil - 1) return absl::ResourceExhaustedError("the engine holds 2^32 - 2 jobs");

  // Every check passed: from here on the workflow is added whole.
  const Timestamp now = Now();
  const auto w = static_cast<std::uint32_t>(workflows_.size());
  const auto first = static_cast<std::uint32_t>(jobs_.size());
  {
    std::vector<std::uint32_t> parents(n, 0);
    for (const DagEdge& e : edges) ++parents[e.second];
    for (std::uint32_t i = 0; i < n; ++i) spec.jobs[i].dependencies.reserve(spec.jobs[i].dependencies.size() + parents[i]);
  }
  for (std::size_t e = 0; e < spec.edges.size(); ++e)
    spec.jobs[edges[e].second].dependencies.push_back({.job = JobId(first + edges[e].first), .kind = spec.edges[e].kind});
  WorkflowRec& rec = workflows_.emplace_back();
  rec.name = spec.name;
  rec.first_job = first;
  rec.job_count = n;
  rec.on_upstream_failure = spec.on_upstream_failure;
  rec.topo = std::move(topo);
  rec.edges = std::move(edges);
  rec.idempotency_key = spec.idempotency_key;
  if (!spec.idempotency_key.empty()) workflow_by_key_.emplace(spec.idempotency_key, w);
  jobs_.reserve(jobs_.size() + n);
  for (std::uint32_t i = 0; i < n; ++i) MLSCHED_RETURN_IF_ERROR(CreateJob(std::move(spec.jobs[i]), now, w, first).status());
  for (std::size_t e = 0; e < workflows_[w].edges.size(); ++e) {
    const auto [parent, child] = workflows_[w].edges[e];
    dep_edges_.emplace_back(DepEdge{.child = first + child, .next = jobs_[first + parent].first_dependent,
                                    .kind = spec.edges[e].kind});
    jobs_[first + parent].first_dependent = static_cast<std::uint32_t>(dep_edges_.size() - 1);
  }
  for (std::uint32_t v : workflows_[w].topo) MLSCHED_RETURN_IF_ERROR(Settle(first + v, now));
  WorkflowSubmission sub{.id = WorkflowId(w)};
  sub.jobs.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) sub.jobs.push_back(JobId(first + i));
  return sub;
}

absl::StatusOr<WorkflowStatus> EngineImpl::GetWorkflow(WorkflowId id) const {
  if (!id.valid() || id.value() >= workflows_.size()) {
    return absl::NotFoundError(
        fmt::format("workflow #{}: unknown workflow", id.valid() ? std::int64_t(id.value()) : -1));
  }
  if (!workflows_.contains(id.value()) || workflows_[id.value()].pruned)
    return absl::NotFoundError(fmt::format("workflow #{}: pruned by history retention", id.value()));
  const WorkflowRec& w = workflows_[id.value()];
  const Timestamp now = Now();
  WorkflowStatus st{.id = id, .name = w.name};
  std::vector<std::int64_t> ran(w.job_count, 0);
  st.jobs.reserve(w.job_count);
  st.finished = true;
  st.succeeded = true;
  for (std::uint32_t i = 0; i < w.job_count; ++i) {
    const std::uint32_t j = w.first_job + i;
    const JobRec& job = jobs_[j];
    st.jobs.push_back(JobId(j));
    st.by_state[static_cast<int>(job.state)]++;
    st.finished = st.finished && IsTerminal(job.state);
    st.succeeded = st.succeeded && job.state == JobState::kSucceeded;
    for (std::uint32_t a = job.last_attempt; a != kNil; a = attempts_[a].prev)
      ran[i] += (attempts_[a].end != 0 ? attempts_[a].end : now) - attempts_[a].start;
  }
  const CriticalPath path = LongestPath(w.topo, w.edges, ran);
  st.critical_path_length = path.length;
  for (std::uint32_t v : path.vertices) st.critical_path.push_back(JobId(w.first_job + v));
  return st;
}

absl::Status EngineImpl::Requeue(JobId id) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
  JobRec& job = jobs_[j];
  if (job.state != JobState::kDeadLettered) {
    return absl::FailedPreconditionError(fmt::format(
        "job \"{}\" (#{}): is {}; only dead-lettered jobs can be requeued", job.spec.name, j, JobStateName(job.state)));
  }
  const Timestamp now = Now();
  MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kQueued, now, {}));
  job.attempt_base = job.attempt_count;
  job.enq = now;
  reasons_.erase(j);
  MakeEligible(j, now);
  return absl::OkStatus();
}

// ------------------------------------------------------- retries, timers

absl::Status EngineImpl::EndAttemptWith(std::uint32_t a, JobState state, AttemptEnd outcome, KillReason reason,
                                        Timestamp now) {
  const std::uint32_t j = attempts_[a].job;
  MLSCHED_RETURN_IF_ERROR(Transition(j, state, now, attempts_[a].token));
  EndAttempt(a, outcome, reason, now);
  return AfterAttemptEnded(j, now);
}

absl::Status EngineImpl::AfterAttemptEnded(std::uint32_t j, Timestamp now) {
  JobRec& job = jobs_[j];
  const AttemptRec& last = attempts_[job.last_attempt];
  if (last.outcome == AttemptEnd::kPreempted) {  // not the job's fault: no attempt used, no backoff
    MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kQueued, now, {}));
    Enqueue(j, now);  // keeps job.enq: a requeued victim keeps its place and age
    return absl::OkStatus();
  }
  const RetryPolicy& policy = job.spec.retry;
  std::int32_t used = 0;
  for (std::uint32_t a = job.last_attempt; a != kNil && attempts_[a].token.attempt > job.attempt_base;
       a = attempts_[a].prev) {
    used += attempts_[a].outcome != AttemptEnd::kPreempted;
  }
  const AttemptFailure failure{.outcome = last.outcome, .exit_code = last.exit_code, .signal = last.signal};
  const FailureClass cls = Classify(policy, failure);
  const bool retryable = cls == FailureClass::kTransient || policy.retry_permanent;
  if (retryable && used < policy.max_attempts) {
    MLSCHED_RETURN_IF_ERROR(Transition(j, JobState::kQueued, now, {}));
    ++counters_.retries;
    const Duration delay = BackoffDelay(policy, options_.seed, j, used);
    reasons_[j] = fmt::format("retry {} of {} after {} ({})", used, policy.max_attempts - 1,
                              DescribeFailure(failure), FailureClassName(cls));
    if (delay > 0) {
      Hold(j, now + delay);
    } else {
      Enqueue(j, now);  // keeps job.enq: a retried job keeps its place and age
    }
    return absl::OkStatus();
  }
  reasons_[j] = retryable ? fmt::format("{} ({}); all {} attempts used", DescribeFailure(failure),
                                        FailureClassName(cls), policy.max_attempts)
                          : fmt::format("{} ({}); not retried", DescribeFailure(failure), FailureClassName(cls));
  ++counters_.dead_lettered;
  return Transition(j, JobState::kDeadLettered, now, {});
}

std::string EngineImpl::AttemptReason(const JobRec& job, const AttemptRec& att) const {
  if (att.outcome == AttemptEnd::kNone || att.outcome == AttemptEnd::kSucceeded) return "";
  if (att.outcome == AttemptEnd::kCancelled) return "cancelled";
  const AttemptFailure failure{.outcome = att.outcome, .exit_code = att.exit_code, .signal = att.signal};
  return fmt::format("{} ({})", DescribeFailure(failure), FailureClassName(Classify(job.spec.retry, failure)));
}

std::int32_t EngineImpl::AttemptStarted(std::uint32_t a, Timestamp now, SchedulingRound* round) {
  AttemptRec& att = attempts_[a];
  JobRec& job = jobs_[att.job];
  att.last_progress = now;
  if (!reasons_.empty()) reasons_.erase(att.job);
  if (job.watched) {
    if (job.spec.time_limit > 0)
      PushTimer({.time = now + job.spec.time_limit, .kind = Timer::Kind::kTimeLimit, .id = a});
    if (job.spec.progress_timeout > 0)
      PushTimer({.time = now + job.spec.progress_timeout, .kind = Timer::Kind::kProgress, .id = a});
  }
  std::uint32_t c = job.last_checkpoint_rec;
  while (c != kNil && checkpoints_[c].corrupt) c = checkpoints_[c].prev;
  if (c == kNil) return -1;
  att.resumed_from = c;
  att.checkpoint_step = checkpoints_[c].step;
  const CheckpointRec& r = checkpoints_[c];
  round->resumes.push_back({.step = r.step, .uri = r.uri, .checksum = r.checksum});
  return static_cast<std::int32_t>(round->resumes.size() - 1);
}

absl::Status EngineImpl::FireTimers(Timestamp now) {
  while (!timers_.empty() && timers_.top().time <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    switch (t.kind) {
      case Timer::Kind::kRelease: {
        if (!jobs_.contains(t.id)) break;  // pruned: ended long ago
        JobRec& job = jobs_[t.id];
        if (job.state != JobState::kQueued || job.hold_until != t.time || queue_.Contains(t.id)) break;
        job.hold_until = 0;
        // A job held for its begin time ages from then, as Slurm's age factor does.
        if (job.attempt_count == job.attempt_base && job.spec.begin_time == t.time) job.enq = t.time;
        Enqueue(t.id, now);
        break;
      }
      case Timer::Kind::kTimeLimit: {
        if (!AttemptLive(t.id)) break;
        ++counters_.timed_out;
        MLSCHED_RETURN_IF_ERROR(
            EndAttemptWith(t.id, JobState::kTimedOut, AttemptEnd::kTimedOut, KillReason::kTimeLimit, now));
        break;
      }
      case Timer::Kind::kProgress: {
        if (!AttemptLive(t.id)) break;
        const AttemptRec& att = attempts_[t.id];
        const Timestamp deadline = att.last_progress + jobs_[att.job].spec.progress_timeout;
        if (now < deadline) {
          PushTimer({.time = deadline, .kind = Timer::Kind::kProgress, .id = t.id});
          break;
        }
        ++counters_.stuck;
        MLSCHED_RETURN_IF_ERROR(EndAttemptWith(t.id, JobState::kFailed, AttemptEnd::kStuck, KillReason::kStuck, now));
        break;
      }
      case Timer::Kind::kSchedule:
        MLSCHED_RETURN_IF_ERROR(FireSchedule(t.id, t.time, now));
        break;
      case Timer::Kind::kHeartbeat: {
        const std::uint32_t n = t.id;
        const NodeRec& node = cluster_.node(n);
        if (node.removed || node.state == NodeState::kDown) {
          node_watch_[n] &= ~kHeartbeatArmed;
          break;
        }
        const Timestamp deadline = node.last_heartbeat + options_.heartbeat_interval * options_.missed_heartbeats;
        if (now < deadline) {
          PushTimer({.time = deadline, .kind = Timer::Kind::kHeartbeat, .id = n});
          break;
        }
        node_watch_[n] = kDownByHeartbeat;  // disarmed; its next heartbeat brings it back
        ++counters_.nodes_lost;
        MLSCHED_RETURN_IF_ERROR(Journal(
            {.kind = RecordKind::kNodeState, .time = now, .node = NodeId(n), .node_state = NodeState::kDown}));
        MLSCHED_RETURN_IF_ERROR(ApplyNodeState(n, NodeState::kDown, now));
        break;
      }
    }
  }
  return absl::OkStatus();
}

// --------------------------------------------------------- nodes and GPUs

void EngineImpl::ArmHeartbeat(std::uint32_t n) {
  if (options_.heartbeat_interval == 0 || (node_watch_[n] & kHeartbeatArmed)) return;
  node_watch_[n] |= kHeartbeatArmed;
  PushTimer({.time = cluster_.node(n).last_heartbeat + options_.heartbeat_interval * options_.missed_heartbeats,
             .kind = Timer::Kind::kHeartbeat,
             .id = n});
}

absl::Status EngineImpl::Heartbeat(NodeId node) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t n, CheckNode(node));
  const Timestamp now = Now();
  cluster_.mutable_node(n).last_heartbeat = now;
  if ((node_watch_[n] & kDownByHeartbeat) && cluster_.node(n).state == NodeState::kDown) {
    // Back after being declared down: its old attempts were already Lost
    // and requeued; their fencing tokens are stale, so the node's executor
    // kills rather than adopts them.
    MLSCHED_RETURN_IF_ERROR(
        Journal({.kind = RecordKind::kNodeState, .time = now, .node = node, .node_state = NodeState::kUp}));
    node_watch_[n] &= ~kDownByHeartbeat;
    MLSCHED_RETURN_IF_ERROR(ApplyNodeState(n, NodeState::kUp, now));
    ArmHeartbeat(n);
  }
  return absl::OkStatus();
}

absl::Status EngineImpl::LoseAttemptsOnGpu(std::uint32_t n, int gpu, Timestamp now) {
  const std::vector<std::uint32_t> live = cluster_.node(n).live_tasks;
  for (std::uint32_t t : live) {
    if (!tasks_[t].gpus.Contains(gpu)) continue;
    const std::uint32_t a = tasks_[t].attempt;
    if (attempts_[a].outcome != AttemptEnd::kNone) continue;
    MLSCHED_RETURN_IF_ERROR(EndAttemptWith(a, JobState::kLost, AttemptEnd::kLost, KillReason::kGpuUnhealthy, now));
  }
  return absl::OkStatus();
}

// ------------------------------------------------- checkpoints, progress

absl::Status EngineImpl::CheckpointCorrupt(JobId id, std::int64_t step) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t j, CheckJob(id));
  std::uint32_t c = jobs_[j].last_checkpoint_rec;
  while (c != kNil && checkpoints_[c].step != step) c = checkpoints_[c].prev;
  if (c == kNil) {
    return absl::NotFoundError(
        fmt::format("job \"{}\" (#{}): no checkpoint at step {}", jobs_[j].spec.name, j, step));
  }
  if (checkpoints_[c].corrupt) return absl::OkStatus();
  MLSCHED_RETURN_IF_ERROR(
      Journal({.kind = RecordKind::kCheckpointCorrupt, .time = Now(), .job = id, .checkpoint_step = step}));
  checkpoints_[c].corrupt = true;
  return absl::OkStatus();
}

absl::Status EngineImpl::ProgressReported(const TaskReport& r) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t a, CheckReport(r.job, r.token, r.task, "progress"));
  if (attempts_[a].outcome != AttemptEnd::kNone) {  // ending: its tasks are being killed
    ++counters_.stale_reports;
    return absl::FailedPreconditionError(fmt::format("job \"{}\" (#{}): progress with token {}: attempt already ended ({})",
                                                     jobs_[r.job.value()].spec.name, r.job.value(),
                                                     FormatToken(r.token), AttemptEndName(attempts_[a].outcome)));
  }
  attempts_[a].last_progress = Now();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- history

void EngineImpl::PruneHistory(Timestamp now) {
  if (options_.history_retention == 0) return;
  // Jobs whose killed tasks had not exited yet when their time came.
  for (std::size_t i = 0; i < prune_later_.size();) {
    const auto [end, j] = prune_later_[i];
    const JobRec& job = jobs_[j];
    const bool same_end = IsTerminal(job.state) && job.end == end;  // else requeued since
    if (same_end && TasksAlive(job)) {
      ++i;
      continue;
    }
    prune_later_[i] = prune_later_.back();
    prune_later_.pop_back();
    if (same_end) Prune(j);
  }
  while (!ended_.empty() && ended_.front().first < now - options_.history_retention) {
    const auto [end, j] = ended_.front();
    ended_.pop_front();
    if (!jobs_.contains(j)) continue;  // its chunk is released: seen already
    const JobRec& job = jobs_[j];
    if (job.pruned || !IsTerminal(job.state) || job.end != end) continue;  // requeued since, or seen already
    if (TasksAlive(job)) {
      prune_later_.emplace_back(end, j);  // its tasks still hold resources: the executor reports their exits
      continue;
    }
    Prune(j);
  }
}

// Whether a task of some attempt of the job has not exited: the newest
// attempt's, or a killed one's of an attempt before a requeue.
bool EngineImpl::TasksAlive(const JobRec& job) const {
  for (std::uint32_t a = job.last_attempt; a != kNil; a = attempts_[a].prev) {
    if (attempts_[a].alive > 0) return true;
  }
  return false;
}

void EngineImpl::Prune(std::uint32_t j) {
  JobRec& job = jobs_[j];
  StateUnlink(j);
  job.pruned = true;
  pruned_bits_.Set(j);
  if (!by_idempotency_key_.empty() && !job.spec.idempotency_key.empty())
    by_idempotency_key_.erase(job.spec.idempotency_key);
  if (!reasons_.empty()) reasons_.erase(j);
  std::destroy_at(&job.spec);  // frees what it holds, more cheaply than assigning JobSpec{}
  std::construct_at(&job.spec);
  DropClassRef(job.klass);
  PruneFromList(tenant_jobs_[job.tenant]);
  PruneFromUserIndex();
  ++counters_.pruned_jobs;
  if (job.workflow == kNil) {
    ReleaseRecords(j);
    return;
  }
  // A workflow's status reads all of its jobs and their attempts: their
  // records go with the workflow, when its last job is pruned.
  WorkflowRec& w = workflows_[job.workflow];
  if (++w.pruned_jobs == w.job_count) PruneWorkflow(job.workflow);
}

void EngineImpl::PruneWorkflow(std::uint32_t w) {
  WorkflowRec& rec = workflows_[w];
  const std::uint32_t first = rec.first_job, n = rec.job_count;
  if (!rec.idempotency_key.empty()) workflow_by_key_.erase(rec.idempotency_key);
  std::destroy_at(&rec);  // frees its name, key and graph now, not when its block goes
  std::construct_at(&rec);
  rec.pruned = true;
  ++counters_.pruned_workflows;
  CountPruned(workflows_, pruned_workflows_in_chunk_, w);  // may release rec
  for (std::uint32_t j = first; j < first + n; ++j) ReleaseRecords(j);
}

// When every record of a chunk of the job, attempt, task, edge or checkpoint
// table is pruned, the chunk's memory goes to the next chunk.
void EngineImpl::ReleaseRecords(std::uint32_t j) {
  JobRec& job = jobs_[j];
  for (std::uint32_t e = job.first_dependent; e != kNil;) {  // its edges to its dependents, long released
    const std::uint32_t next = dep_edges_[e].next;
    CountPruned(dep_edges_, pruned_edges_in_chunk_, e);
    e = next;
  }
  job.first_dependent = kNil;
  for (std::uint32_t c = job.last_checkpoint_rec; c != kNil;) {
    CheckpointRec& rec = checkpoints_[c];
    const std::uint32_t prev = rec.prev;
    std::string().swap(rec.uri);  // now, not when the block goes
    std::string().swap(rec.checksum);
    CountPruned(checkpoints_, pruned_checkpoints_in_chunk_, c);
    c = prev;
  }
  job.last_checkpoint_rec = kNil;
  for (std::uint32_t a = job.last_attempt; a != kNil;) {
    const AttemptRec& att = attempts_[a];
    const std::uint32_t prev = att.prev;
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t)
      CountPruned(tasks_, pruned_tasks_in_chunk_, t);
    if (CountPruned(attempts_, pruned_attempts_in_chunk_, a))  // released att
      attempt_live_.ReleaseBlock(a / decltype(attempts_)::kChunk);
    a = prev;
  }
  if (CountPruned(jobs_, pruned_in_chunk_, j)) {
    pruned_bits_.ReleaseBlock(j / JobTable::kChunk);
    queue_.ReleaseJobs(j & ~static_cast<std::uint32_t>(JobTable::kChunk - 1));
  }
}

}  // namespace mlsched::internal
