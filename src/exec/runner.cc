#include "mlsched/exec/runner.h"

#include <algorithm>
#include <utility>

#include "fmt/format.h"
#include "mlsched/status_macros.h"

namespace mlsched {

Runner::Runner(RunnerOptions options) : o_(std::move(options)) {}

absl::Status Runner::DeliverAll() {
  for (const ExecutorEvent& e : events_) {
    if (o_.on_event) o_.on_event(e);
    absl::Status s = Deliver(*o_.engine, e);
    if (s.code() == absl::StatusCode::kFailedPrecondition || s.code() == absl::StatusCode::kNotFound) {
      ++stale_reports_;  // an attempt the engine has moved past, or a pruned job
    } else if (s.code() == absl::StatusCode::kInvalidArgument && e.kind != ExecutorEventKind::kTaskExited &&
               e.kind != ExecutorEventKind::kTaskStarted) {
      ++stale_reports_;  // e.g. a checkpoint step going backwards: the task's mistake, not the loop's
    } else if (!s.ok()) {
      return s;
    }
  }
  events_.clear();
  return absl::OkStatus();
}

// Dispatch() stops at the first refusal; a live host must not lose the rest
// of the round, so each decision is carried out on its own.
absl::Status Runner::Carry(const SchedulingRound& round) {
  for (const Decision& d : round.decisions) {
    switch (d.kind) {
      case DecisionKind::kStart: {
        const ResumeFrom* resume = d.resume >= 0 ? &round.resumes[static_cast<std::size_t>(d.resume)] : nullptr;
        auto tasks = round.PlacementsOf(d);
        absl::Status s = o_.executor->Launch(
            {.job = d.job, .token = d.token, .spec = o_.engine->GetSpec(d.job), .tasks = tasks, .resume = resume});
        if (!s.ok()) {
          ++refused_launches_;
          for (const TaskPlacement& p : tasks) {
            const auto task = static_cast<std::int32_t>(p.task);
            events_.push_back({.kind = ExecutorEventKind::kTaskStarted, .job = d.job, .token = d.token, .task = task});
            events_.push_back({.kind = ExecutorEventKind::kTaskExited, .job = d.job, .token = d.token, .task = task,
                               .exit_code = 127, .detail = std::string(s.message())});
          }
        }
        break;
      }
      case DecisionKind::kKill:
      case DecisionKind::kSignalCheckpoint: {
        // An attempt whose launch was refused never ran here: nothing to stop.
        absl::Status s = d.kind == DecisionKind::kKill ? o_.executor->Kill(d.job, d.token, d.grace)
                                                       : o_.executor->SignalCheckpoint(d.job, d.token);
        if (s.code() == absl::StatusCode::kFailedPrecondition) break;
        MLSCHED_RETURN_IF_ERROR(s);
        break;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Runner::Step() {
  if (o_.engine == nullptr || o_.clock == nullptr || o_.executor == nullptr) {
    return absl::InvalidArgumentError("runner: engine, clock and executor are required");
  }
  Timestamp now = o_.clock->Now();
  if (o_.gpus != nullptr && now >= next_health_) {
    MLSCHED_RETURN_IF_ERROR(o_.gpus->CheckHealth(o_.node, &events_));
    next_health_ = now + o_.health_interval;
    MLSCHED_RETURN_IF_ERROR(DeliverAll());
  }
  if (o_.engine->NextWakeup() <= now) {
    MLSCHED_RETURN_IF_ERROR(o_.engine->Tick(&round_));
    if (o_.on_round) o_.on_round(round_);
    MLSCHED_RETURN_IF_ERROR(Carry(round_));
    MLSCHED_RETURN_IF_ERROR(DeliverAll());  // refused launches
  }
  now = o_.clock->Now();
  Timestamp until = std::min(o_.engine->NextWakeup(), now + o_.max_wait);
  if (o_.gpus != nullptr) until = std::min(until, next_health_);
  MLSCHED_RETURN_IF_ERROR(o_.executor->Poll(std::max<Duration>(0, until - now), &events_));
  return DeliverAll();
}

absl::Status Runner::RunUntil(const std::function<bool()>& done, Duration timeout) {
  const Timestamp deadline = o_.clock != nullptr ? o_.clock->Now() + timeout : 0;
  while (!done()) {
    if (o_.clock != nullptr && o_.clock->Now() >= deadline) {
      return absl::DeadlineExceededError(fmt::format("runner: not done after {}", FormatDuration(timeout)));
    }
    MLSCHED_RETURN_IF_ERROR(Step());
  }
  return absl::OkStatus();
}

}  // namespace mlsched
