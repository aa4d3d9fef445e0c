// Schedules: jobs or whole workflows created by a cron expression in an IANA
// time zone (cron.h), or once at a given time.
//
// Each firing submits a copy of the schedule's job (or workflow) with the
// idempotency key "schedule:<name>:<nominal firing time>", so a firing
// produces its job exactly once however often it is evaluated.
//
// Late firings (the engine was down, or Tick() ran late) are misfires when
// they are seen more than `misfire_grace` after their time:
//   kSkip     none of the missed firings runs; the schedule goes on from now;
//   kRunOnce  one run now stands for all of them (Kubernetes CronJob, Quartz);
//   kRunAll   every missed firing runs, oldest first, at most
//             `max_missed_runs` of them (the later ones are skipped).
// Firings late by less than the grace all run, each once.
// When a firing comes while the previous run is still going (any of its
// jobs not terminal):
//   kAllow    both run;
//   kForbid   the new firing is skipped;
//   kReplace  the previous run's unfinished jobs are cancelled first.
// A paused schedule does not fire; resuming goes on from the resume time
// (what was missed while paused is skipped, not a misfire).
//
//   ScheduleSpec nightly{.name = "retrain", .cron = "30 2 * * *", .time_zone = "Europe/Berlin",
//                        .job = train_spec, .concurrency = ConcurrencyPolicy::kForbid};
//   ScheduleId id = engine->CreateSchedule(nightly).value();
//   std::vector<Timestamp> next = engine->PreviewSchedule(id, 5).value();
//
// Thread-safety: plain values.
#ifndef MLSCHED_SCHEDULE_H_
#define MLSCHED_SCHEDULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/time.h"
#include "mlsched/workflow.h"

namespace mlsched {

enum class MisfirePolicy : std::uint8_t { kSkip, kRunOnce, kRunAll };
enum class ConcurrencyPolicy : std::uint8_t { kAllow, kForbid, kReplace };
std::string_view MisfirePolicyName(MisfirePolicy p);
std::string_view ConcurrencyPolicyName(ConcurrencyPolicy p);
// The policy of that name ("skip", "run-once", "run-all"; "allow",
// "forbid", "replace"), or nullopt.
std::optional<MisfirePolicy> MisfirePolicyFromName(std::string_view name);
std::optional<ConcurrencyPolicy> ConcurrencyPolicyFromName(std::string_view name);

struct ScheduleSpec {
  std::string name;               // required; unique among live schedules
  std::string cron;               // 5 fields or an @macro; empty for a one-off
  std::string time_zone = "UTC";  // IANA name
  Timestamp run_at = 0;           // one-off (cron empty): fire once at this time
  std::optional<JobSpec> job;     // exactly one of job and workflow
  std::optional<WorkflowSpec> workflow;
  MisfirePolicy misfire = MisfirePolicy::kRunOnce;
  Duration misfire_grace = kMinute;  // >= 0
  std::int32_t max_missed_runs = 10;  // kRunAll: in [1, 1000]
  ConcurrencyPolicy concurrency = ConcurrencyPolicy::kAllow;
  bool paused = false;

  // Checks the fields, parses the cron expression and loads the time zone.
  // `schedule "nightly": cron "61 2 * * *": minute field "61": 61 is outside 0-59`.
  absl::Status Validate() const;
};

struct ScheduleStatus {
  ScheduleId id;
  ScheduleSpec spec;
  Timestamp next_fire = kInfiniteFuture;  // nominal time of the next firing; infinite when paused or done
  Timestamp last_fire = 0;                // nominal time of the last run; 0 = none
  std::int64_t runs = 0;                  // firings that submitted work
  std::int64_t skipped = 0;               // firings not run (misfire skip, forbid, bound of kRunAll)
  std::int64_t failed = 0;                // firings whose submission was refused
  std::string last_error;                 // why the last refused submission was refused
  std::vector<JobId> last_jobs;           // jobs of the last run
  WorkflowId last_workflow;               // for workflow schedules
};

}  // namespace mlsched

#endif  // MLSCHED_SCHEDULE_H_
