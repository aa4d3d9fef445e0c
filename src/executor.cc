#include "mlsched/executor.h"

#include "fmt/format.h"
#include "mlsched/engine.h"

namespace mlsched {

absl::Status Dispatch(const Engine& engine, const SchedulingRound& round, Executor& executor) {
  for (const Decision& d : round.decisions) {
    absl::Status s;
    switch (d.kind) {
      case DecisionKind::kStart: {
        const JobSpec* spec = engine.GetSpec(d.job);
        if (spec == nullptr) {
          return absl::NotFoundError(fmt::format("job #{}: not known to the engine", d.job.value()));
        }
        const ResumeFrom* resume = nullptr;
        if (d.resume >= 0 && static_cast<std::size_t>(d.resume) < round.resumes.size()) {
          resume = &round.resumes[static_cast<std::size_t>(d.resume)];
        }
        s = executor.Launch({.job = d.job, .token = d.token, .spec = spec,
                             .tasks = round.PlacementsOf(d), .resume = resume});
        break;
      }
      case DecisionKind::kKill:
        s = executor.Kill(d.job, d.token, d.grace);
        break;
      case DecisionKind::kSignalCheckpoint:
        s = executor.SignalCheckpoint(d.job, d.token);
        break;
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

RecordingExecutor::LiveAttempt* RecordingExecutor::Find(JobId job, FencingToken token) {
  for (LiveAttempt& a : live_)
    if (a.job == job && a.token == token) return &a;
  return nullptr;
}

absl::Status RecordingExecutor::Launch(const LaunchRequest& request) {
  if (!request.job.valid()) return absl::InvalidArgumentError("launch: the request names no job");
  const std::uint32_t j = request.job.value();
  if (request.token <= newest_[j]) {
    return absl::FailedPreconditionError(
        fmt::format("job #{}: launch with token {} refused; {} already seen", j,
                    FormatToken(request.token), FormatToken(newest_[j])));
  }
  newest_[j] = request.token;
  live_.push_back({.job = request.job, .token = request.token,
                   .tasks = {request.tasks.begin(), request.tasks.end()}});
  ++launches_;
  return absl::OkStatus();
}

absl::Status RecordingExecutor::Kill(JobId job, FencingToken token, Duration) {
  LiveAttempt* a = Find(job, token);
  if (a == nullptr) {
    return absl::FailedPreconditionError(fmt::format(
        "job #{}: kill for token {}: no such live attempt", job.value(), FormatToken(token)));
  }
  a->kill_requested = true;
  ++kills_;
  return absl::OkStatus();
}

absl::Status RecordingExecutor::SignalCheckpoint(JobId job, FencingToken token) {
  if (Find(job, token) == nullptr) {
    return absl::FailedPreconditionError(fmt::format(
        "job #{}: checkpoint for token {}: no such live attempt", job.value(), FormatToken(token)));
  }
  ++checkpoint_signals_;
  return absl::OkStatus();
}

void RecordingExecutor::Forget(JobId job, FencingToken token) {
  std::erase_if(live_, [&](const LiveAttempt& a) { return a.job == job && a.token == token; });
}

}  // namespace mlsched
