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

#include "internal/engine_impl.h"
#include "internal/huge_page_allocator.h"

namespace mlsched {

// ------------------------------------------------------------------ Engine

std::size_t ReleaseCachedMemory() { return internal::TrimHugePageCache(); }

std::string_view VerdictName(Explanation::Verdict v) {
  switch (v) {
    case Explanation::Verdict::kNotPending: return "not-pending";
    case Explanation::Verdict::kPending: return "pending";
    case Explanation::Verdict::kWait: return "wait";
    case Explanation::Verdict::kInfeasible: return "infeasible";
    case Explanation::Verdict::kHeld: return "held";
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
  if (options.heartbeat_interval < 0) {
    return absl::InvalidArgumentError(fmt::format("engine options: heartbeat_interval = {}: must be >= 0 (0 = off)",
                                                  options.heartbeat_interval));
  }
  if (options.missed_heartbeats < 1) {
    return absl::InvalidArgumentError(
        fmt::format("engine options: missed_heartbeats = {}: must be >= 1", options.missed_heartbeats));
  }
  if (options.history_retention < 0) {
    return absl::InvalidArgumentError(fmt::format(
        "engine options: history_retention = {}: must be >= 0 (0 = keep all)", options.history_retention));
  }
  if (options.idle_job_classes_kept < 0) {
    return absl::InvalidArgumentError(fmt::format("engine options: idle_job_classes_kept = {}: must be >= 0",
                                                  options.idle_job_classes_kept));
  }
  const PolicySet defaults = DefaultPolicySet();
  if (!options.policies.ordering) options.policies.ordering = defaults.ordering;
  if (!options.policies.placement) options.policies.placement = defaults.placement;
  MLSCHED_RETURN_IF_ERROR(options.policies.Validate());
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
absl::StatusOr<JobId> Engine::Submit(const JobSpec& spec) { return impl_->Submit(spec); }
absl::StatusOr<JobId> Engine::Submit(JobSpec&& spec) { return impl_->Submit(std::move(spec)); }
absl::Status Engine::CheckJob(const JobSpec& spec) const { return impl_->CheckJob(spec); }
void Engine::ReserveJobs(std::size_t jobs) { impl_->ReserveJobs(jobs); }
absl::StatusOr<std::vector<JobId>> Engine::SubmitMany(std::vector<JobSpec> specs) {
  return impl_->SubmitMany(std::move(specs));
}
absl::Status Engine::Cancel(JobId job) { return impl_->Cancel(job); }
absl::StatusOr<WorkflowSubmission> Engine::SubmitWorkflow(WorkflowSpec spec) {
  return impl_->SubmitWorkflow(std::move(spec));
}
absl::StatusOr<WorkflowStatus> Engine::GetWorkflow(WorkflowId workflow) const { return impl_->GetWorkflow(workflow); }
absl::Status Engine::Requeue(JobId job) { return impl_->Requeue(job); }
absl::StatusOr<ScheduleId> Engine::CreateSchedule(ScheduleSpec spec) { return impl_->CreateSchedule(std::move(spec)); }
absl::StatusOr<ScheduleStatus> Engine::GetSchedule(ScheduleId id) const { return impl_->GetSchedule(id); }
std::vector<ScheduleStatus> Engine::ListSchedules() const { return impl_->ListSchedules(); }
absl::Status Engine::UpdateSchedule(ScheduleId id, ScheduleSpec spec) { return impl_->UpdateSchedule(id, std::move(spec)); }
absl::Status Engine::PauseSchedule(ScheduleId id) { return impl_->PauseSchedule(id); }
absl::Status Engine::ResumeSchedule(ScheduleId id) { return impl_->ResumeSchedule(id); }
absl::Status Engine::DeleteSchedule(ScheduleId id) { return impl_->DeleteSchedule(id); }
absl::StatusOr<std::vector<Timestamp>> Engine::PreviewSchedule(ScheduleId id, int n) const {
  return impl_->PreviewSchedule(id, n);
}
absl::Status Engine::CheckpointCorrupt(JobId job, std::int64_t step) { return impl_->CheckpointCorrupt(job, step); }
absl::Status Engine::ProgressReported(const TaskReport& report) { return impl_->ProgressReported(report); }
absl::Status Engine::TaskStarted(const TaskReport& report) { return impl_->TaskStarted(report); }
absl::Status Engine::TaskExited(const TaskExit& report) { return impl_->TaskExited(report); }
absl::Status Engine::CheckpointReported(const CheckpointReport& report) {
  return impl_->CheckpointReported(report);
}
absl::Status Engine::ConfigureTenants(const std::vector<TenantSpec>& tenants) {
  return impl_->ConfigureTenants(tenants);
}
absl::StatusOr<TenantStatus> Engine::GetTenant(std::string_view name) const { return impl_->GetTenant(name); }
std::vector<TenantStatus> Engine::ListTenants() const { return impl_->ListTenants(); }
Fragmentation Engine::GetFragmentation() const { return impl_->GetFragmentation(); }
absl::Status Engine::Tick(SchedulingRound* round) { return impl_->Tick(round); }
SchedulingRound Engine::Tick() {
  SchedulingRound round;
  if (!impl_->Tick(&round).ok()) round.Clear();
  return round;
}
Timestamp Engine::NextWakeup() const { return impl_->NextWakeup(); }
absl::Status Engine::error() const { return impl_->error(); }
absl::StatusOr<JobStatus> Engine::GetJob(JobId job) const { return impl_->GetJob(job); }
absl::StatusOr<JobState> Engine::GetState(JobId job) const { return impl_->GetState(job); }
const JobSpec* Engine::GetSpec(JobId job) const { return impl_->GetSpec(job); }
std::vector<JobId> Engine::ListJobs(const JobFilter& filter) const { return impl_->ListJobs(filter); }
QueueDepth Engine::GetQueueDepth() const { return impl_->GetQueueDepth(); }
Utilization Engine::GetUtilization() const { return impl_->GetUtilization(); }
absl::StatusOr<Explanation> Engine::Explain(JobId job) const { return impl_->Explain(job); }
EngineCounters Engine::counters() const { return impl_->counters(); }
std::int64_t Engine::job_count() const { return impl_->job_count(); }
std::int64_t Engine::node_count() const { return impl_->node_count(); }

}  // namespace mlsched
