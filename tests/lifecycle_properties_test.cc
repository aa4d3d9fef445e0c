// Lifecycle invariants under random workloads with injected faults: task
// crashes, lost nodes (missed heartbeats), unhealthy GPUs, duplicate and late
// reports, cancellations, and random dependency graphs.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <random>

#include "mlsched/engine.h"
#include "test_support.h"

namespace mlsched {
namespace {

using testing_util::GpuNode;
using testing_util::kGi;

struct Live {
  JobId job;
  FencingToken token;
  std::uint32_t task;
  NodeId node;
};

class World {
 public:
  explicit World(std::uint64_t seed) : rng_(seed) {
    engine_ = Engine::Create({.clock = &clock_, .seed = seed, .heartbeat_interval = 10 * kSecond,
                              .missed_heartbeats = 2})
                  .value();
    for (int i = 0; i < 4; ++i) nodes_.push_back(engine_->AddNode(GpuNode("n" + std::to_string(i), 4)).value());
    silent_.assign(nodes_.size(), false);
  }

  void Submit(int i) {
    JobSpec s{.name = "j" + std::to_string(i), .tenant = "t", .user = "u",
              .task_groups = {{.count = 1 + static_cast<int>(rng_() % 2),
                               .per_task = ResourceVector::Of(1000, kGi, static_cast<std::int64_t>(rng_() % 3))}}};
    s.retry = {.max_attempts = 1 + static_cast<int>(rng_() % 3),
               .backoff_base = static_cast<Duration>(rng_() % 3) * kSecond,
               .transient_exit_codes = {75}};
    if (rng_() % 4 == 0) s.time_limit = static_cast<Duration>(1 + rng_() % 5) * kMinute;
    const int deps = jobs_.empty() ? 0 : static_cast<int>(rng_() % 3);
    for (int d = 0; d < deps; ++d)
      s.dependencies.push_back({.job = jobs_[rng_() % jobs_.size()], .kind = static_cast<DependencyKind>(rng_() % 3)});
    auto id = engine_->Submit(s);
    RC_ASSERT(id.ok());
    jobs_.push_back(*id);
  }

  void Tick() {
    SchedulingRound r;
    RC_ASSERT(engine_->Tick(&r).ok());
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kStart) continue;
      // Never before every after-success dependency succeeded.
      for (const Dependency& dep : engine_->GetSpec(d.job)->dependencies) {
        const JobState ps = engine_->GetJob(dep.job).value().state;
        if (dep.kind == DependencyKind::kAfterSuccess) RC_ASSERT(ps == JobState::kSucceeded);
        if (dep.kind == DependencyKind::kAfterAny) RC_ASSERT(IsTerminal(ps));
        if (dep.kind == DependencyKind::kAfterFailure) RC_ASSERT(IsTerminal(ps) && ps != JobState::kSucceeded);
      }
      for (const TaskPlacement& p : r.PlacementsOf(d)) live_.push_back({d.job, d.token, p.task, p.node});
    }
    // Killed tasks exit (after their grace, which the test does not model).
    for (const Decision& d : r.decisions) {
      if (d.kind != DecisionKind::kKill) continue;
      for (const TaskPlacement& p : r.PlacementsOf(d)) Exit(d.job, d.token, p.task, 0, 15);
    }
  }

  void Exit(JobId job, FencingToken token, std::uint32_t task, int code, int signal) {
    const absl::Status s = engine_->TaskExited({.job = job, .token = token, .task = static_cast<int>(task),
                                                .exit_code = code, .signal = signal});
    // Either accepted, or refused as stale (the attempt was lost meanwhile).
    RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
    std::erase_if(live_, [&](const Live& l) { return l.job == job && l.token == token && l.task == task; });
    ended_.push_back({job, token, task, NodeId()});
  }

  void Step(int submit_limit) {
    const int op = static_cast<int>(rng_() % 100);
    if (op < 25 && static_cast<int>(jobs_.size()) < submit_limit) {
      Submit(static_cast<int>(jobs_.size()));
    } else if (op < 50) {
      Tick();
    } else if (op < 70 && !live_.empty()) {
      const Live l = live_[rng_() % live_.size()];
      (void)engine_->TaskStarted({.job = l.job, .token = l.token, .task = static_cast<int>(l.task)});
      const int kind = static_cast<int>(rng_() % 6);  // 0: crash, 1: transient code, 2: permanent code, else success
      Exit(l.job, l.token, l.task, kind == 1 ? 75 : kind == 2 ? 1 : 0, kind == 0 ? 11 : 0);
    } else if (op < 75 && !ended_.empty()) {
      // A duplicate or late report: never changes anything it should not.
      const Live l = ended_[rng_() % ended_.size()];
      const absl::Status s = engine_->TaskExited({.job = l.job, .token = l.token, .task = static_cast<int>(l.task),
                                                  .exit_code = static_cast<int>(rng_() % 2)});
      RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
    } else if (op < 80) {
      const std::size_t n = rng_() % nodes_.size();
      silent_[n] = !silent_[n];  // a node falls silent (or comes back)
    } else if (op < 83) {
      (void)engine_->SetGpuHealth(nodes_[rng_() % nodes_.size()], static_cast<int>(rng_() % 4), rng_() % 2 == 0);
    } else if (op < 86 && !jobs_.empty()) {
      (void)engine_->Cancel(jobs_[rng_() % jobs_.size()]);
    } else {
      Advance(static_cast<Duration>(rng_() % 20) * kSecond);
    }
    CheckInvariants();
  }

  void Advance(Duration d) {
    clock_.Advance(d);
    for (std::size_t n = 0; n < nodes_.size(); ++n)
      if (!silent_[n]) RC_ASSERT(engine_->Heartbeat(nodes_[n]).ok());
    // Tasks on a node declared down are gone with it.
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (engine_->GetNode(nodes_[n]).value().state == NodeState::kDown)
        std::erase_if(live_, [&](const Live& l) { return l.node == nodes_[n]; });
    }
  }

  void CheckInvariants() {
    for (JobId j : jobs_) {
      const JobStatus st = engine_->GetJob(j).value();
      const JobSpec& spec = *engine_->GetSpec(j);
      // Attempts that count against the budget never exceed it (between
      // operator requeues, which this test does not do).
      std::int32_t counted = 0;
      for (const AttemptInfo& a : st.attempts) counted += a.outcome != AttemptEnd::kPreempted;
      RC_ASSERT(counted <= spec.retry.max_attempts);
      // Attempt tokens are 1..n in order: the history holds every attempt.
      for (std::size_t i = 0; i < st.attempts.size(); ++i) RC_ASSERT(st.attempts[i].token.attempt == i + 1);
      // At most one live attempt, and only while the job is active.
      int live_attempts = 0;
      for (const AttemptInfo& a : st.attempts) live_attempts += a.outcome == AttemptEnd::kNone;
      RC_ASSERT(live_attempts == (IsActive(st.state) ? 1 : 0));
    }
    // No GPU of a node is held for a job in a terminal state, beyond tasks
    // still being killed.
    for (NodeId n : nodes_) {
      const NodeStatus ns = engine_->GetNode(n).value();
      RC_ASSERT(ns.allocated.FitsIn(ns.capacity));
    }
  }

  // Ends the run: nodes heal and beat, every task exits successfully, time
  // passes until nothing is left to do.
  void Drain() {
    std::fill(silent_.begin(), silent_.end(), false);
    for (NodeId n : nodes_) {
      for (int g = 0; g < 4; ++g) RC_ASSERT(engine_->SetGpuHealth(n, g, true).ok());
    }
    for (int round = 0; round < 5'000; ++round) {
      Advance(kSecond);
      for (NodeId n : nodes_) {
        if (engine_->GetNode(n).value().state == NodeState::kDown) RC_ASSERT(engine_->Heartbeat(n).ok());
      }
      while (!live_.empty()) {
        const Live l = live_.front();
        (void)engine_->TaskStarted({.job = l.job, .token = l.token, .task = static_cast<int>(l.task)});
        Exit(l.job, l.token, l.task, 0, 0);
      }
      Tick();
      if (live_.empty() && engine_->GetUtilization().running_jobs == 0 &&
          engine_->NextWakeup() == kInfiniteFuture && engine_->GetQueueDepth().total == 0) {
        break;
      }
      const Timestamp wake = engine_->NextWakeup();
      if (wake != kInfiniteFuture && wake > clock_.Now()) Advance(wake - clock_.Now());
    }
    std::array<int, kNumJobStates> seen{};
    for (JobId j : jobs_) {
      const JobStatus st = engine_->GetJob(j).value();
      if (st.state == JobState::kQueued) {  // only what cannot fit may wait
        RC_ASSERT(engine_->Explain(j).value().verdict == Explanation::Verdict::kInfeasible);
        continue;
      }
      RC_ASSERT(IsTerminal(st.state));  // exactly one terminal state per job
      seen[static_cast<int>(st.state)]++;
    }
    RC_ASSERT(engine_->GetUtilization().allocated.IsZero());  // no GPU held for a terminal job
  }

 private:
  ManualClock clock_{kDay};
  std::mt19937_64 rng_;
  std::unique_ptr<Engine> engine_;
  std::vector<NodeId> nodes_;
  std::vector<bool> silent_;
  std::vector<JobId> jobs_;
  std::vector<Live> live_;
  std::vector<Live> ended_;
};

RC_GTEST_PROP(LifecycleProperties, FaultsNeverBreakDependenciesRetriesOrTerminalStates, ()) {
  World w(*rc::gen::arbitrary<std::uint64_t>());
  const int steps = *rc::gen::inRange(50, 400);
  for (int i = 0; i < steps; ++i) w.Step(60);
  w.Drain();
}

}  // namespace
}  // namespace mlsched
