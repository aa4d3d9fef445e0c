#include "mlsched/schedule.h"

#include "fmt/format.h"
#include "mlsched/cron.h"

namespace mlsched {

std::string_view MisfirePolicyName(MisfirePolicy p) {
  switch (p) {
    case MisfirePolicy::kSkip: return "skip";
    case MisfirePolicy::kRunOnce: return "run-once";
    case MisfirePolicy::kRunAll: return "run-all";
  }
  return "?";
}

std::string_view ConcurrencyPolicyName(ConcurrencyPolicy p) {
  switch (p) {
    case ConcurrencyPolicy::kAllow: return "allow";
    case ConcurrencyPolicy::kForbid: return "forbid";
    case ConcurrencyPolicy::kReplace: return "replace";
  }
  return "?";
}

std::optional<MisfirePolicy> MisfirePolicyFromName(std::string_view name) {
  for (MisfirePolicy p : {MisfirePolicy::kSkip, MisfirePolicy::kRunOnce, MisfirePolicy::kRunAll})
    if (MisfirePolicyName(p) == name) return p;
  return std::nullopt;
}

std::optional<ConcurrencyPolicy> ConcurrencyPolicyFromName(std::string_view name) {
  for (ConcurrencyPolicy p : {ConcurrencyPolicy::kAllow, ConcurrencyPolicy::kForbid, ConcurrencyPolicy::kReplace})
    if (ConcurrencyPolicyName(p) == name) return p;
  return std::nullopt;
}

absl::Status ScheduleSpec::Validate() const {
  auto bad = [&](std::string_view field, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("schedule \"{}\": {}: {}", name, field, why));
  };
  if (name.empty()) return bad("name", "must not be empty");
  if (job.has_value() == workflow.has_value()) return bad("job, workflow", "exactly one of them must be set");
  if (cron.empty()) {
    if (run_at <= 0) return bad("cron, run_at", "a schedule needs a cron expression or a run_at time");
  } else {
    if (run_at != 0) return bad("run_at", "only for one-off schedules (without cron)");
    if (auto parsed = CronExpression::Parse(cron); !parsed.ok())
      return absl::InvalidArgumentError(fmt::format("schedule \"{}\": {}", name, std::string(parsed.status().message())));
  }
  if (auto tz = LoadTimeZone(time_zone); !tz.ok())
    return absl::InvalidArgumentError(fmt::format("schedule \"{}\": {}", name, std::string(tz.status().message())));
  if (static_cast<int>(misfire) > static_cast<int>(MisfirePolicy::kRunAll))
    return bad(fmt::format("misfire = {}", static_cast<int>(misfire)), "not a misfire policy");
  if (static_cast<int>(concurrency) > static_cast<int>(ConcurrencyPolicy::kReplace))
    return bad(fmt::format("concurrency = {}", static_cast<int>(concurrency)), "not a concurrency policy");
  if (misfire_grace < 0) return bad(fmt::format("misfire_grace = {}", FormatDuration(misfire_grace)), "must be >= 0");
  if (max_missed_runs < 1 || max_missed_runs > 1000)
    return bad(fmt::format("max_missed_runs = {}", max_missed_runs), "must be in [1, 1000]");
  if (job) {
    if (absl::Status s = job->Validate(); !s.ok())
      return absl::InvalidArgumentError(fmt::format("schedule \"{}\": job: {}", name, std::string(s.message())));
    if (!job->idempotency_key.empty()) return bad("job.idempotency_key", "set by the schedule for each firing");
  } else {
    if (absl::Status s = workflow->Validate(); !s.ok())
      return absl::InvalidArgumentError(fmt::format("schedule \"{}\": workflow: {}", name, std::string(s.message())));
    if (!workflow->idempotency_key.empty())
      return bad("workflow.idempotency_key", "set by the schedule for each firing");
  }
  return absl::OkStatus();
}

}  // namespace mlsched
