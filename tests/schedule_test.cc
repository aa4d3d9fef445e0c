// Schedules through the engine: firing, misfires, concurrency, CRUD.
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"
#include "fmt/format.h"
#include "mlsched/cron.h"
#include "mlsched/engine.h"
#include "test_support.h"

namespace mlsched {
namespace {

using testing_util::EngineFixture;
using testing_util::GpuJob;
using testing_util::GpuNode;

// 2026-12-01 00:00:00 UTC.
constexpr Timestamp kDec1 = 1'796'083'200LL * kSecond;

class ScheduleTest : public EngineFixture {
 protected:
  void SetUp() override {
    clock_.Set(kDec1);
    Make();
    Add(GpuNode("g0", 8));
  }
  ScheduleSpec Hourly() { return {.name = "hourly", .cron = "0 * * * *", .job = GpuJob("etl", 1)}; }
  // Ticks and finishes every start.
  int TickAndFinish() {
    const SchedulingRound r = Tick();
    int started = 0;
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart) {
        Finish(r, d);
        ++started;
      }
    return started;
  }
};

TEST_F(ScheduleTest, FiresAtEachCronTimeOnce) {
  const ScheduleId id = engine_->CreateSchedule(Hourly()).value();
  Tick();
  EXPECT_EQ(engine_->NextWakeup(), kDec1 + kHour);
  EXPECT_EQ(engine_->PreviewSchedule(id, 3).value(),
            (std::vector<Timestamp>{kDec1 + kHour, kDec1 + 2 * kHour, kDec1 + 3 * kHour}));
  clock_.Set(kDec1 + kHour - kSecond);
  EXPECT_EQ(TickAndFinish(), 0);
  clock_.Set(kDec1 + kHour);
  EXPECT_EQ(TickAndFinish(), 1);
  EXPECT_EQ(TickAndFinish(), 0);  // never twice for one firing
  clock_.Set(kDec1 + 2 * kHour + 10 * kSecond);  // a little late: within the grace
  EXPECT_EQ(TickAndFinish(), 1);
  const ScheduleStatus st = engine_->GetSchedule(id).value();
  EXPECT_EQ(st.runs, 2);
  EXPECT_EQ(st.last_fire, kDec1 + 2 * kHour);
  EXPECT_EQ(st.next_fire, kDec1 + 3 * kHour);
  ASSERT_EQ(st.last_jobs.size(), 1u);
  EXPECT_EQ(engine_->GetSpec(st.last_jobs[0])->idempotency_key,
            fmt::format("schedule:hourly:{}", kDec1 + 2 * kHour));
  EXPECT_EQ(engine_->counters().schedule_runs, 2);
}

TEST_F(ScheduleTest, MisfirePolicies) {
  ScheduleSpec skip = Hourly();
  skip.misfire = MisfirePolicy::kSkip;
  ScheduleSpec once = Hourly();
  once.name = "once";
  ScheduleSpec all = Hourly();
  all.name = "all";
  all.misfire = MisfirePolicy::kRunAll;
  all.max_missed_runs = 3;
  const ScheduleId s = engine_->CreateSchedule(skip).value();
  const ScheduleId o = engine_->CreateSchedule(once).value();
  const ScheduleId a = engine_->CreateSchedule(all).value();
  clock_.Set(kDec1 + 5 * kHour + 30 * kMinute);  // the engine was down: 5 firings missed
  Tick();
  EXPECT_EQ(engine_->GetSchedule(s).value().runs, 0);
  EXPECT_EQ(engine_->GetSchedule(s).value().skipped, 5);
  EXPECT_EQ(engine_->GetSchedule(o).value().runs, 1);
  EXPECT_EQ(engine_->GetSchedule(o).value().last_fire, kDec1 + 5 * kHour);  // the latest stands for all
  EXPECT_EQ(engine_->GetSchedule(o).value().skipped, 4);
  EXPECT_EQ(engine_->GetSchedule(a).value().runs, 3);
  EXPECT_EQ(engine_->GetSchedule(a).value().skipped, 2);
  for (ScheduleId id : {s, o, a}) EXPECT_EQ(engine_->GetSchedule(id).value().next_fire, kDec1 + 6 * kHour);
  EXPECT_EQ(engine_->job_count(), 4);
}

TEST_F(ScheduleTest, ConcurrencyPolicies) {
  ScheduleSpec forbid = Hourly();
  forbid.name = "forbid";
  forbid.concurrency = ConcurrencyPolicy::kForbid;
  ScheduleSpec replace = Hourly();
  replace.name = "replace";
  replace.concurrency = ConcurrencyPolicy::kReplace;
  ScheduleSpec allow = Hourly();
  allow.name = "allow";
  const ScheduleId f = engine_->CreateSchedule(forbid).value();
  const ScheduleId r = engine_->CreateSchedule(replace).value();
  const ScheduleId a = engine_->CreateSchedule(allow).value();
  clock_.Set(kDec1 + kHour);
  Tick();  // all three start their first run and keep running
  const JobId replaced = engine_->GetSchedule(r).value().last_jobs[0];
  clock_.Set(kDec1 + 2 * kHour);
  Tick();
  EXPECT_EQ(engine_->GetSchedule(f).value().runs, 1);
  EXPECT_EQ(engine_->GetSchedule(f).value().skipped, 1);
  EXPECT_EQ(engine_->GetSchedule(r).value().runs, 2);
  EXPECT_EQ(State(replaced), JobState::kCancelled);
  EXPECT_EQ(engine_->GetSchedule(a).value().runs, 2);
}

TEST_F(ScheduleTest, PauseResumeUpdateDelete) {
  const ScheduleId id = engine_->CreateSchedule(Hourly()).value();
  ASSERT_TRUE(engine_->PauseSchedule(id).ok());
  EXPECT_EQ(engine_->GetSchedule(id).value().next_fire, kInfiniteFuture);
  clock_.Set(kDec1 + 3 * kHour + kMinute);
  Tick();
  EXPECT_EQ(engine_->GetSchedule(id).value().runs, 0);
  ASSERT_TRUE(engine_->ResumeSchedule(id).ok());  // what was missed while paused is skipped
  EXPECT_EQ(engine_->GetSchedule(id).value().next_fire, kDec1 + 4 * kHour);
  EXPECT_EQ(engine_->GetSchedule(id).value().skipped, 0);
  ScheduleSpec daily = Hourly();
  daily.name = "daily";
  daily.cron = "@daily";
  ASSERT_TRUE(engine_->UpdateSchedule(id, daily).ok());
  EXPECT_EQ(engine_->GetSchedule(id).value().next_fire, kDec1 + kDay);
  EXPECT_EQ(engine_->ListSchedules().size(), 1u);
  EXPECT_EQ(engine_->ListSchedules()[0].spec.name, "daily");
  clock_.Set(kDec1 + 4 * kHour);  // the hourly timer left over must not fire
  Tick();
  EXPECT_EQ(engine_->GetSchedule(id).value().runs, 0);
  ASSERT_TRUE(engine_->DeleteSchedule(id).ok());
  EXPECT_EQ(engine_->GetSchedule(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(engine_->ListSchedules().empty());
  clock_.Set(kDec1 + kDay);
  Tick();
  EXPECT_EQ(engine_->job_count(), 0);
  EXPECT_TRUE(engine_->CreateSchedule(daily).ok());  // the name is free again
}

TEST_F(ScheduleTest, OneOffRunsOnceAtItsTime) {
  const ScheduleId id =
      engine_->CreateSchedule({.name = "at", .run_at = kDec1 + 90 * kMinute, .job = GpuJob("report", 1)}).value();
  EXPECT_EQ(engine_->PreviewSchedule(id, 5).value(), std::vector<Timestamp>{kDec1 + 90 * kMinute});
  clock_.Set(kDec1 + 2 * kHour);
  Tick();
  EXPECT_EQ(engine_->GetSchedule(id).value().runs, 1);
  EXPECT_EQ(engine_->GetSchedule(id).value().next_fire, kInfiniteFuture);
  clock_.Set(kDec1 + kDay);
  Tick();
  EXPECT_EQ(engine_->job_count(), 1);
}

TEST_F(ScheduleTest, WorkflowSchedule) {
  WorkflowSpec wf{.name = "pipeline", .jobs = {GpuJob("prep", 1), GpuJob("train", 2)}, .edges = {{"prep", "train"}}};
  const ScheduleId id = engine_->CreateSchedule({.name = "nightly", .cron = "0 2 * * *", .workflow = wf}).value();
  clock_.Set(kDec1 + 2 * kHour);
  Tick();
  const ScheduleStatus st = engine_->GetSchedule(id).value();
  ASSERT_EQ(st.last_jobs.size(), 2u);
  EXPECT_EQ(engine_->GetWorkflow(st.last_workflow).value().name, fmt::format("pipeline@{}", kDec1 + 2 * kHour));
  EXPECT_EQ(State(st.last_jobs[1]), JobState::kWaitingDeps);
}

TEST_F(ScheduleTest, DaylightSavingGapInTheScheduleZone) {
  // America/New_York skips 02:00-03:00 on 2026-03-08: a 02:30 job runs at 03:00 EDT.
  const absl::TimeZone ny = mlsched::LoadTimeZone("America/New_York").value();
  ManualClock clock(absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(2026, 3, 7, 12, 0, 0), ny)));
  auto engine = Engine::Create({.clock = &clock}).value();
  const ScheduleId id = engine->CreateSchedule({.name = "dst", .cron = "30 2 * * *",
                                                 .time_zone = "America/New_York", .job = GpuJob("x", 1)})
                            .value();
  const std::vector<Timestamp> next = engine->PreviewSchedule(id, 2).value();
  EXPECT_EQ(next[0], absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(2026, 3, 8, 3, 0, 0), ny)));
  EXPECT_EQ(next[1], absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(2026, 3, 9, 2, 30, 0), ny)));
  EXPECT_EQ(next[1] - next[0], 23 * kHour + 30 * kMinute);
}

TEST_F(ScheduleTest, BadSchedulesAreRefusedAndChangeNothing) {
  struct Case {
    ScheduleSpec spec;
    std::string message;
  };
  ScheduleSpec both = Hourly();
  both.workflow = WorkflowSpec{.name = "w", .jobs = {GpuJob("a", 1)}};
  ScheduleSpec keyed = Hourly();
  keyed.job->idempotency_key = "k";
  ScheduleSpec bad_job = Hourly();
  bad_job.job->retry.max_attempts = 0;
  const Case cases[] = {
      {{.name = "m", .cron = "61 * * * *", .job = GpuJob("a", 1)},
       "schedule \"m\": cron \"61 * * * *\": minute field \"61\": 61 is outside 0-59"},
      {{.name = "z", .cron = "@daily", .time_zone = "Mars/Base", .job = GpuJob("a", 1)},
       "schedule \"z\": time zone \"Mars/Base\": unknown IANA time zone"},
      {{.name = "n", .job = GpuJob("a", 1)}, "schedule \"n\": cron, run_at: a schedule needs"},
      {both, "schedule \"hourly\": job, workflow: exactly one of them must be set"},
      {keyed, "schedule \"hourly\": job.idempotency_key: set by the schedule"},
      {bad_job, "schedule \"hourly\": job: job \"etl\": retry.max_attempts = 0"},
      {{.name = "g", .cron = "@daily", .job = GpuJob("a", 1), .misfire_grace = -1}, "misfire_grace"},
      {{.name = "r", .cron = "@daily", .job = GpuJob("a", 1), .max_missed_runs = 0}, "max_missed_runs = 0"},
  };
  for (const Case& c : cases) {
    const auto id = engine_->CreateSchedule(c.spec);
    ASSERT_FALSE(id.ok()) << c.message;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find(c.message), std::string::npos) << id.status() << "\nwanted " << c.message;
  }
  EXPECT_TRUE(engine_->ListSchedules().empty());
  ASSERT_TRUE(engine_->CreateSchedule(Hourly()).ok());
  EXPECT_EQ(engine_->CreateSchedule(Hourly()).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(engine_->PauseSchedule(ScheduleId(9)).code(), absl::StatusCode::kNotFound);
  Tick();
  EXPECT_EQ(engine_->NextWakeup(), kDec1 + kHour);
}

TEST(SchedulePolicyNames, RoundTripAndUnknownNamesAreRefused) {
  for (MisfirePolicy p : {MisfirePolicy::kSkip, MisfirePolicy::kRunOnce, MisfirePolicy::kRunAll})
    EXPECT_EQ(MisfirePolicyFromName(MisfirePolicyName(p)), p);
  for (ConcurrencyPolicy p : {ConcurrencyPolicy::kAllow, ConcurrencyPolicy::kForbid, ConcurrencyPolicy::kReplace})
    EXPECT_EQ(ConcurrencyPolicyFromName(ConcurrencyPolicyName(p)), p);
  EXPECT_EQ(MisfirePolicyFromName("run_once"), std::nullopt);
  EXPECT_EQ(ConcurrencyPolicyFromName(""), std::nullopt);
}

}  // namespace
}  // namespace mlsched
