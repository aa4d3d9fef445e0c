// Runner: the host loop that drives an Engine with a polling executor
// (LocalExecutor, RemoteExecutor).
//
// One Step(): tick the engine when NextWakeup() is due, carry out the round's
// decisions on the executor, wait for executor events until the engine's next
// wakeup (at most `max_wait`), deliver them to the engine, and sample GPU
// health every `health_interval` when a GpuMonitor is given. The engine reads
// time only from its Clock (a RealClock for a live host); the runner and the
// executor may read the wall and monotonic clocks.
//
// A launch the executor refuses (missing program, bad working directory, too
// large an environment) is not an error of the loop: each of the attempt's
// tasks is reported to the engine as started and exited with code 127, and
// the observer sees a kTaskExited event whose detail is the refusal. Reports
// the engine refuses for a stale fencing token are counted and dropped.
//
// Thread-safety: none; one thread owns the runner, the engine and the executor.
//
//   Runner runner({.engine = engine.get(), .clock = &clock, .executor = executor.get()});
//   MLSCHED_RETURN_IF_ERROR(runner.RunUntil([&] { return AllDone(); }, 10 * kMinute));
#ifndef MLSCHED_EXEC_RUNNER_H_
#define MLSCHED_EXEC_RUNNER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "mlsched/clock.h"
#include "mlsched/decision.h"
#include "mlsched/engine.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/time.h"

namespace mlsched {

struct RunnerOptions {
  Engine* engine = nullptr;          // required; not owned
  const Clock* clock = nullptr;      // required: the engine's clock
  PollingExecutor* executor = nullptr;  // required
  GpuMonitor* gpus = nullptr;        // optional: health checks for `node`
  NodeId node;                       // the node the GpuMonitor describes
  Duration health_interval = 5 * kSecond;
  Duration max_wait = 250 * kMillisecond;  // longest wait inside one Step()
  // Observers, called before the engine sees the event / after the round.
  std::function<void(const ExecutorEvent&)> on_event;
  std::function<void(const SchedulingRound&)> on_round;
};

class Runner {
 public:
  explicit Runner(RunnerOptions options);
  absl::Status Step();
  // Steps until `done()` holds (checked before every step) or `timeout` of
  // the engine's clock has passed (kDeadlineExceeded).
  absl::Status RunUntil(const std::function<bool()>& done, Duration timeout);
  std::int64_t stale_reports() const { return stale_reports_; }
  std::int64_t refused_launches() const { return refused_launches_; }

 private:
  absl::Status Carry(const SchedulingRound& round);
  absl::Status DeliverAll();
  RunnerOptions o_;
  SchedulingRound round_;
  std::vector<ExecutorEvent> events_;
  Timestamp next_health_ = 0;
  std::int64_t stale_reports_ = 0;
  std::int64_t refused_launches_ = 0;
};

}  // namespace mlsched

#endif  // MLSCHED_EXEC_RUNNER_H_
