// Decisions: what one scheduling round asks the host to do.
//
// Engine::Tick() fills a SchedulingRound; the host carries each decision out
// through its Executor (see Dispatch() in executor.h) and reports back with
// TaskStarted / TaskExited events. A Start decision lists one TaskPlacement
// per task: the node and the concrete GPU indices to pin it to. A Kill asks
// for every live task of the attempt to be stopped after `grace`. A
// SignalCheckpoint asks a preemption victim to write a checkpoint; its Kill
// follows `grace` later.
//
// Placements are stored flat in the round (one allocation reused across
// rounds); `round.PlacementsOf(decision)` gives a decision's slice.
//
// Thread-safety: plain values. A round is owned by the caller of Tick(); it
// stays valid until passed to the next Tick(), which clears it.
//
//   SchedulingRound round;
//   engine->Tick(&round);
//   for (const Decision& d : round.decisions)
//     if (d.kind == DecisionKind::kStart)
//       for (const TaskPlacement& p : round.PlacementsOf(d)) Launch(d.job, p.node, p.gpus);
#ifndef MLSCHED_DECISION_H_
#define MLSCHED_DECISION_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsched/gpu.h"
#include "mlsched/ids.h"
#include "mlsched/job_state.h"
#include "mlsched/time.h"

namespace mlsched {

enum class DecisionKind : std::uint8_t { kStart, kKill, kSignalCheckpoint };
std::string_view DecisionKindName(DecisionKind k);

enum class KillReason : std::uint8_t {
  kNone,
  kCancelled,   // the job was cancelled
  kGangFailed,  // another task of the gang failed or was lost
  kNodeLost,    // a node of the attempt went down
  kTimeLimit,
  kPreempted,
  kStuck,         // no progress report within the job's progress timeout
  kGpuUnhealthy,  // a GPU of the attempt was reported unhealthy
};
std::string_view KillReasonName(KillReason r);

struct TaskPlacement {
  std::uint32_t task = 0;   // index over all tasks of the job, group by group
  std::uint16_t group = 0;  // task group index
  NodeId node;
  GpuSet gpus;              // empty for CPU-only tasks
  friend bool operator==(const TaskPlacement&, const TaskPlacement&) = default;
};

struct Decision {
  DecisionKind kind = DecisionKind::kStart;
  JobId job;
  FencingToken token;
  KillReason reason = KillReason::kNone;
  Duration grace = 0;  // Kill: time between SIGTERM and SIGKILL
  std::uint32_t first_placement = 0;
  std::uint32_t placement_count = 0;
  // Start: index in SchedulingRound::resumes of the checkpoint to resume
  // from (the job's latest one not reported corrupt); -1 = start afresh.
  std::int32_t resume = -1;
  friend bool operator==(const Decision&, const Decision&) = default;
};

// The checkpoint a started attempt resumes from.
struct ResumeFrom {
  std::int64_t step = 0;
  std::string uri;
  std::string checksum;
  friend bool operator==(const ResumeFrom&, const ResumeFrom&) = default;
};

struct SchedulingRound {
  Timestamp time = 0;
  std::vector<Decision> decisions;
  std::vector<TaskPlacement> placements;
  std::vector<ResumeFrom> resumes;

  std::span<const TaskPlacement> PlacementsOf(const Decision& d) const {
    return std::span<const TaskPlacement>(placements).subspan(d.first_placement,
                                                              d.placement_count);
  }
  void Clear() {
    decisions.clear();
    placements.clear();
    resumes.clear();
  }
  bool empty() const { return decisions.empty(); }
};

}  // namespace mlsched

#endif  // MLSCHED_DECISION_H_
