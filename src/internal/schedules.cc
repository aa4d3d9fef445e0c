// Schedules: cron or one-off firings that submit a job or a workflow.
//
// Each live, unpaused schedule has one valid timer, at `next` (its nominal
// firing time). Timers left over from an update, a pause or a deletion are
// recognised when they fire (their time is not the schedule's `next`) and
// dropped. A firing is evaluated in Tick(): on time, it submits once; late
// by more than the misfire grace, the misfire policy decides.
#include "internal/engine_impl.h"

namespace mlsched::internal {

absl::StatusOr<std::uint32_t> EngineImpl::CheckSchedule(ScheduleId id) const {
  if (!id.valid() || id.value() >= schedules_.size() || schedules_[id.value()].deleted) {
    return absl::NotFoundError(
        fmt::format("schedule #{}: unknown schedule", id.valid() ? std::int64_t(id.value()) : -1));
  }
  return id.value();
}

absl::Status EngineImpl::CheckScheduleSpec(const ScheduleSpec& spec, std::uint32_t self) const {
  MLSCHED_RETURN_IF_ERROR(spec.Validate());
  if (auto it = schedule_by_name_.find(spec.name); it != schedule_by_name_.end() && it->second != self) {
    return absl::AlreadyExistsError(fmt::format("schedule \"{}\": a schedule with this name exists", spec.name));
  }
  auto with_name = [&](const absl::Status& s) {
    return absl::Status(s.code(), fmt::format("schedule \"{}\": {}", spec.name, std::string(s.message())));
  };
  if (spec.job) {
    if (absl::Status s = CheckSubmittable(*spec.job, /*validated=*/true); !s.ok()) return with_name(s);
  } else {
    for (const JobSpec& job : spec.workflow->jobs)
      if (absl::Status s = CheckSubmittable(job, /*validated=*/true); !s.ok()) return with_name(s);
  }
  return absl::OkStatus();
}

// The next firing strictly after `from` (a one-off fires at run_at, or at
// once if that has passed and it never fired).
void EngineImpl::ArmSchedule(std::uint32_t s, Timestamp from) {
  ScheduleRec& rec = schedules_[s];
  if (rec.cron) {
    rec.next = rec.cron->Next(from, rec.tz);
  } else {
    rec.next = rec.runs + rec.skipped + rec.failed == 0 ? rec.spec.run_at : kInfiniteFuture;
  }
  if (!rec.spec.paused && rec.next != kInfiniteFuture)
    PushTimer({.time = rec.next, .kind = Timer::Kind::kSchedule, .id = s});
}

absl::StatusOr<ScheduleId> EngineImpl::CreateSchedule(ScheduleSpec spec) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_RETURN_IF_ERROR(CheckScheduleSpec(spec, kNil));
  const auto s = static_cast<std::uint32_t>(schedules_.size());
  ScheduleRec& rec = schedules_.emplace_back();
  if (!spec.cron.empty()) rec.cron = CronExpression::Parse(spec.cron).value();
  rec.tz = LoadTimeZone(spec.time_zone).value();
  schedule_by_name_.emplace(spec.name, s);
  rec.spec = std::move(spec);
  ArmSchedule(s, Now());
  return ScheduleId(s);
}

absl::Status EngineImpl::UpdateSchedule(ScheduleId id, ScheduleSpec spec) {
  MLSCHED_RETURN_IF_ERROR(failed_);
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  MLSCHED_RETURN_IF_ERROR(CheckScheduleSpec(spec, s));
  ScheduleRec& rec = schedules_[s];
  schedule_by_name_.erase(rec.spec.name);
  schedule_by_name_.emplace(spec.name, s);
  rec.cron.reset();
  if (!spec.cron.empty()) rec.cron = CronExpression::Parse(spec.cron).value();
  rec.tz = LoadTimeZone(spec.time_zone).value();
  rec.spec = std::move(spec);
  ArmSchedule(s, Now());
  return absl::OkStatus();
}

absl::Status EngineImpl::PauseSchedule(ScheduleId id) {
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  schedules_[s].spec.paused = true;
  schedules_[s].next = kInfiniteFuture;  // its pending timer no longer matches
  return absl::OkStatus();
}

absl::Status EngineImpl::ResumeSchedule(ScheduleId id) {
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  ScheduleRec& rec = schedules_[s];
  if (!rec.spec.paused) return absl::OkStatus();
  rec.spec.paused = false;
  ArmSchedule(s, Now());
  return absl::OkStatus();
}

absl::Status EngineImpl::DeleteSchedule(ScheduleId id) {
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  ScheduleRec& rec = schedules_[s];
  schedule_by_name_.erase(rec.spec.name);
  rec.deleted = true;
  rec.next = kInfiniteFuture;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Timestamp>> EngineImpl::PreviewSchedule(ScheduleId id, int n) const {
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  if (n < 0 || n > 10'000) {
    return absl::InvalidArgumentError(fmt::format("schedule #{}: preview of {} firings: must be in [0, 10000]", s, n));
  }
  const ScheduleRec& rec = schedules_[s];
  if (rec.cron) return rec.cron->Preview(Now(), rec.tz, n);
  std::vector<Timestamp> out;
  if (n > 0 && rec.next != kInfiniteFuture) out.push_back(rec.next);
  return out;
}

ScheduleStatus EngineImpl::ScheduleStatusOf(std::uint32_t s) const {
  const ScheduleRec& rec = schedules_[s];
  return {.id = ScheduleId(s), .spec = rec.spec, .next_fire = rec.next, .last_fire = rec.last_fire,
          .runs = rec.runs, .skipped = rec.skipped, .failed = rec.failed, .last_error = rec.last_error,
          .last_jobs = rec.last_jobs, .last_workflow = rec.last_workflow};
}

absl::StatusOr<ScheduleStatus> EngineImpl::GetSchedule(ScheduleId id) const {
  MLSCHED_ASSIGN_OR_RETURN(std::uint32_t s, CheckSchedule(id));
  return ScheduleStatusOf(s);
}

std::vector<ScheduleStatus> EngineImpl::ListSchedules() const {
  std::vector<ScheduleStatus> out;
  for (std::uint32_t s = 0; s < schedules_.size(); ++s)
    if (!schedules_[s].deleted) out.push_back(ScheduleStatusOf(s));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.spec.name < b.spec.name; });
  return out;
}

absl::Status EngineImpl::FireSchedule(std::uint32_t s, Timestamp due, Timestamp now) {
  ScheduleRec& rec = schedules_[s];
  if (rec.deleted || rec.spec.paused || rec.next != due) return absl::OkStatus();  // a stale timer
  if (now - due <= rec.spec.misfire_grace || !rec.cron) {
    RunSchedule(s, due);  // on time (a late one-off still runs once)
    ArmSchedule(s, due);  // a later firing already due fires in this Tick too
    return failed_;
  }
  // Misfire: every firing from `due` up to now was missed. Counting them
  // stops after a million (a schedule every minute, down for two years).
  std::vector<Timestamp> missed{due};
  std::int64_t seen = 1;
  for (Timestamp t = rec.cron->Next(due, rec.tz); t <= now && seen < 1'000'000; t = rec.cron->Next(t, rec.tz), ++seen) {
    if (rec.spec.misfire != MisfirePolicy::kRunAll) {
      missed[0] = t;  // only the latest matters
      ++rec.skipped;
    } else if (static_cast<std::int32_t>(missed.size()) < rec.spec.max_missed_runs) {
      missed.push_back(t);
    } else {
      ++rec.skipped;  // past the bound
    }
  }
  {
    switch (rec.spec.misfire) {
      case MisfirePolicy::kSkip: rec.skipped += 1; break;
      case MisfirePolicy::kRunOnce: RunSchedule(s, missed.back()); break;
      case MisfirePolicy::kRunAll:
        for (Timestamp t : missed) RunSchedule(s, t);
        break;
    }
  }
  ArmSchedule(s, now);
  return failed_;
}

void EngineImpl::RunSchedule(std::uint32_t s, Timestamp nominal) {
  ScheduleRec& rec = schedules_[s];
  bool running = false;
  auto live = [&](JobId j) { return jobs_.contains(j.value()) && !IsTerminal(jobs_[j.value()].state); };
  for (JobId j : rec.last_jobs) running = running || live(j);
  if (running && rec.spec.concurrency == ConcurrencyPolicy::kForbid) {
    ++rec.skipped;
    return;
  }
  if (running && rec.spec.concurrency == ConcurrencyPolicy::kReplace) {
    for (JobId j : rec.last_jobs)
      if (live(j)) (void)Cancel(j);
  }
  const std::string key = fmt::format("schedule:{}:{}", rec.spec.name, nominal);
  absl::Status status;
  if (rec.spec.job) {
    JobSpec spec = *rec.spec.job;
    spec.idempotency_key = key;
    auto id = Submit(std::move(spec));
    status = id.status();
    if (id.ok()) rec.last_jobs = {*id};
  } else {
    WorkflowSpec spec = *rec.spec.workflow;
    spec.idempotency_key = key;
    spec.name = fmt::format("{}@{}", spec.name, nominal);
    auto sub = SubmitWorkflow(std::move(spec));
    status = sub.status();
    if (sub.ok()) {
      rec.last_jobs = std::move(sub->jobs);
      rec.last_workflow = sub->id;
    }
  }
  if (!status.ok()) {  // e.g. its tenant gained child tenants since: recorded, not fatal
    ++rec.failed;
    rec.last_error = std::string(status.message());
    return;
  }
  rec.last_fire = nominal;
  ++rec.runs;
  ++counters_.schedule_runs;
}

}  // namespace mlsched::internal
