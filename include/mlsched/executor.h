// Executor: carries out the engine's decisions.
//
// Hosts implement Executor to launch and stop tasks: in-process for local
// runs, through node agents for remote GPU nodes, or simulated. What happens
// comes back to the engine as events (Engine::TaskStarted / TaskExited); the
// executor never calls the engine itself, so the engine stays single-threaded.
//
// Every call carries the attempt's FencingToken. An executor must refuse a
// launch whose token is not newer than every token it has already seen for
// the same job (kFailedPrecondition), which is what makes a start happen
// exactly once. Kill and SignalCheckpoint name one attempt by its token and
// act on that attempt only if it is still live: stopping an old attempt that
// is still running is always safe, and never touches a newer one.
// Calls may block briefly (a remote executor sends a message); they must not
// wait for the task to finish.
//
//   SchedulingRound round;
//   MLSCHED_RETURN_IF_ERROR(engine.Tick(&round));
//   MLSCHED_RETURN_IF_ERROR(Dispatch(engine, round, executor));
#ifndef MLSCHED_EXECUTOR_H_
#define MLSCHED_EXECUTOR_H_

#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/decision.h"
#include "mlsched/ids.h"
#include "mlsched/job_spec.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched {

class Engine;

struct LaunchRequest {
  JobId job;
  FencingToken token;
  const JobSpec* spec = nullptr;  // valid during the call
  std::span<const TaskPlacement> tasks;
  // The checkpoint to resume from (the Start decision's), valid during the
  // call; nullptr = start afresh.
  const ResumeFrom* resume = nullptr;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string_view name() const = 0;
  virtual absl::Status Launch(const LaunchRequest& request) = 0;
  // Stops every live task of the attempt: a polite signal, then after
  // `grace` a forced kill.
  virtual absl::Status Kill(JobId job, FencingToken token, Duration grace) = 0;
  // Asks the attempt's tasks to write a checkpoint soon.
  virtual absl::Status SignalCheckpoint(JobId job, FencingToken token) = 0;
};

// Hands every decision of `round` to `executor`, in order. Stops at the first
// error and returns it.
absl::Status Dispatch(const Engine& engine, const SchedulingRound& round, Executor& executor);

// An in-memory executor for tests and examples: it remembers live attempts,
// enforces fencing, and lets the caller decide when tasks start and end.
class RecordingExecutor final : public Executor {
 public:
  struct LiveAttempt {
    JobId job;
    FencingToken token;
    std::vector<TaskPlacement> tasks;
    bool kill_requested = false;
  };

  std::string_view name() const override { return "recording"; }
  absl::Status Launch(const LaunchRequest& request) override;
  absl::Status Kill(JobId job, FencingToken token, Duration grace) override;
  absl::Status SignalCheckpoint(JobId job, FencingToken token) override;

  // Live attempts in launch order.
  const std::vector<LiveAttempt>& live() const { return live_; }
  // Forgets an attempt (the host has reported all its exits).
  void Forget(JobId job, FencingToken token);
  int launches() const { return launches_; }
  int kills() const { return kills_; }
  int checkpoint_signals() const { return checkpoint_signals_; }

 private:
  LiveAttempt* Find(JobId job, FencingToken token);
  std::vector<LiveAttempt> live_;
  std::map<std::uint32_t, FencingToken> newest_;  // by job id: newest token seen
  int launches_ = 0;
  int kills_ = 0;
  int checkpoint_signals_ = 0;
};

}  // namespace mlsched

#endif  // MLSCHED_EXECUTOR_H_
