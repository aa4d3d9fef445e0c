// Properties of the engine over random clusters, workloads and event orders.
//
// A harness plays a random scenario against the engine, acting as host and
// executor: it submits jobs, ticks, reports task starts and exits (some
// failing), takes nodes down and up, cancels jobs and moves the clock. It keeps
// its own model of which GPUs each live task holds and checks the engine's
// decisions against it after every step.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <random>
#include <set>

#include "internal/engine_test_peer.h"
#include "mlsched/engine.h"

namespace mlsched {
namespace {

constexpr std::int64_t kGi = std::int64_t{1} << 30;
const char* const kModels[] = {"A100", "H100"};

struct LiveTask {
  JobId job;
  FencingToken token;
  std::uint32_t task;
  NodeId node;
  GpuSet gpus;
  bool killed = false;
};

struct Harness {
  explicit Harness(std::uint64_t seed, bool check_priority = true, EngineOptions options = {})
      : rng(seed), check_priority(check_priority) {
    options.clock = &clock;
    options.seed = seed;
    engine = Engine::Create(std::move(options)).value();
  }

  void AddNodes(int count) {
    for (int i = 0; i < count; ++i) {
      const int gpus = std::uniform_int_distribution<int>(0, 2)(rng) == 0 ? 0 : 8;
      NodeSpec n{.name = "n" + std::to_string(i),
                 .capacity = ResourceVector::Of(64'000, 512 * kGi, 0)};
      const std::string model = kModels[rng() % 2];
      for (int g = 0; g < gpus; ++g)
        n.gpus.push_back({.index = g, .model = model, .topology_domain = g / 4});
      node_model.push_back(gpus ? model : "");
      nodes.push_back(engine->AddNode(std::move(n)).value());
    }
  }

  JobSpec RandomJob(int i) {
    static const int kGpuChoices[] = {0, 1, 2, 4, 8};
    const int gpus = kGpuChoices[rng() % 5];
    const int tasks = gpus == 8 ? 1 + static_cast<int>(rng() % 3) : 1 + static_cast<int>(rng() % 2);
    JobSpec s{.name = "j" + std::to_string(i), .tenant = "t" + std::to_string(rng() % 3), .user = "u",
              .priority_class = static_cast<PriorityClass>(rng() % 3),
              .priority = static_cast<std::int32_t>(rng() % 100),
              .task_groups = {{.count = tasks,
                               .per_task = ResourceVector::Of(1000 * (1 + rng() % 16), kGi * (1 + rng() % 64), gpus)}}};
    if (gpus > 0 && rng() % 4 == 0) s.constraints.gpu_models = {kModels[rng() % 2]};
    s.retry.max_attempts = 1 + static_cast<int>(rng() % 3);
    s.retry.backoff_base = static_cast<Duration>(rng() % 3) * 5 * kSecond;  // 0: retry at once
    if (rng() % 2) s.retry.transient_exit_codes = {1};
    if (limits) s.time_limit = static_cast<Duration>(1 + rng() % 120) * kMinute;  // a class per limit under backfill
    if (preemptible_jobs) s.preemptible = rng() % 3 == 0;
    return s;
  }

  // Applies a round as the executor would; returns false on a violated invariant.
  void Apply(const SchedulingRound& r) {
    for (const Decision& d : r.decisions) {
      decisions.push_back(d);
      for (const TaskPlacement& p : r.PlacementsOf(d)) placements.push_back(p);
      if (d.kind == DecisionKind::kKill) {
        for (LiveTask& t : live)
          if (t.job == d.job && t.token == d.token) t.killed = true;
        continue;
      }
      if (d.kind == DecisionKind::kSignalCheckpoint) continue;  // names a victim's live tasks; its kill follows
      const JobSpec* spec = engine->GetSpec(d.job);
      RC_ASSERT(spec != nullptr);
      // Gangs are all-or-nothing: one placement per task of the job.
      RC_ASSERT(static_cast<std::int64_t>(d.placement_count) == spec->total_tasks());
      for (const TaskPlacement& p : r.PlacementsOf(d)) {
        const ResourceVector& req = spec->task_groups[p.group].per_task;
        RC_ASSERT(p.gpus.size() == req.gpus());
        // A GPU belongs to at most one live task.
        for (const LiveTask& t : live) {
          if (t.node == p.node) RC_ASSERT((t.gpus & p.gpus).empty());
        }
        if (!spec->constraints.gpu_models.empty()) {
          const std::string& m = node_model[p.node.value()];
          RC_ASSERT(std::find(spec->constraints.gpu_models.begin(), spec->constraints.gpu_models.end(), m) !=
                    spec->constraints.gpu_models.end());
        }
        live.push_back({d.job, d.token, p.task, p.node, p.gpus});
      }
    }
  }

  void CheckNodes() {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto st = engine->GetNode(nodes[i]);
      RC_ASSERT(st.ok());
      // Never over-committed.
      RC_ASSERT(st->allocated.FitsIn(st->capacity));
      RC_ASSERT(!st->allocated.AnyNegative());
      GpuSet held;
      for (const LiveTask& t : live)
        if (t.node == nodes[i]) held = held | t.gpus;
      RC_ASSERT(st->allocated.gpus() == held.size());
      RC_ASSERT((st->free_gpus & held).empty());
    }
  }

  // No job started in the pass while a waiting job of strictly higher
  // effective priority would still fit now (capacity only shrank in the pass).
  void CheckPriority(const SchedulingRound& r) {
    std::int64_t lowest_started = std::numeric_limits<std::int64_t>::max();
    for (const Decision& d : r.decisions)
      if (d.kind == DecisionKind::kStart)
        lowest_started = std::min(lowest_started, started_priority[d.job.value()]);
    if (lowest_started == std::numeric_limits<std::int64_t>::max()) return;
    for (JobId j : engine->ListJobs({.state = JobState::kQueued})) {
      const JobStatus st = engine->GetJob(j).value();
      if (st.effective_priority <= lowest_started || st.eligible_at != 0) continue;  // held: not eligible
      const JobSpec& spec = *engine->GetSpec(j);
      const TaskGroup& g = spec.task_groups[0];
      std::int64_t hosts = 0;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeStatus n = engine->GetNode(nodes[i]).value();
        if (n.state != NodeState::kUp) continue;
        if (g.per_task.gpus() > 0) {
          if (node_model[i].empty()) continue;
          if (!spec.constraints.gpu_models.empty() && spec.constraints.gpu_models[0] != node_model[i]) continue;
        }
        ResourceVector free = n.capacity - n.allocated;
        free.Set(kGpu, n.free_gpus.size());
        hosts += free.CopiesThatFit(g.per_task);
      }
      RC_ASSERT(hosts < g.count);
    }
  }

  SchedulingRound Tick() {
    // Effective priorities are read before the pass, at the pass's time.
    started_priority.assign(engine->job_count(), 0);
    for (JobId j : engine->ListJobs({.state = JobState::kQueued}))
      started_priority[j.value()] = engine->GetJob(j).value().effective_priority;
    SchedulingRound r;
    RC_ASSERT(engine->Tick(&r).ok());
    Apply(r);
    if (check_priority) CheckPriority(r);
    return r;
  }

  void Step(int submitted_limit) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 30 && submitted < submitted_limit) {
      if (workflows && rng() % 4 == 0) {  // a chain of two or three jobs
        const int n = 2 + static_cast<int>(rng() % 2);
        WorkflowSpec w{.name = "w" + std::to_string(submitted)};
        for (int k = 0; k < n; ++k) {
          JobSpec job = RandomJob(submitted + k);
          job.name = w.name + "-" + std::to_string(k);
          if (k > 0)
            w.edges.push_back({.parent = w.jobs.back().name, .child = job.name,
                               .kind = static_cast<DependencyKind>(rng() % 3)});
          w.jobs.push_back(std::move(job));
        }
        RC_ASSERT(engine->SubmitWorkflow(std::move(w)).ok());
        submitted += n;
      } else {
        RC_ASSERT(engine->Submit(RandomJob(submitted++)).ok());
      }
    } else if (op < 55) {
      Tick();
    } else if (op < 80 && !live.empty()) {
      const std::size_t i = rng() % live.size();
      const LiveTask t = live[i];
      if (workflows && rng() % 3 == 0) {  // checkpoints first (refused if the attempt has ended)
        (void)engine->CheckpointReported({.job = t.job, .token = t.token, .step = static_cast<std::int64_t>(rng() % 100),
                                          .uri = "s3://bucket/" + std::to_string(t.job.value())});
      }
      const bool fail = rng() % 6 == 0;
      if (rng() % 2) (void)engine->TaskStarted({.job = t.job, .token = t.token, .task = static_cast<int>(t.task)});
      const absl::Status exited = engine->TaskExited({.job = t.job, .token = t.token, .task = static_cast<int>(t.task),
                                                      .exit_code = fail ? 1 : 0});
      if (!exited.ok()) RC_FAIL(exited.ToString());
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op < 85 && !nodes.empty()) {
      const std::size_t i = rng() % nodes.size();
      const NodeState s = static_cast<NodeState>(rng() % 3);
      RC_ASSERT(engine->SetNodeState(nodes[i], s).ok());
      if (s == NodeState::kDown) std::erase_if(live, [&](const LiveTask& t) { return t.node == nodes[i]; });
    } else if (op < 90 && submitted > 0) {
      (void)engine->Cancel(JobId(static_cast<std::uint32_t>(rng() % submitted)));
    } else {
      clock.Advance(static_cast<Duration>(rng() % (30 * kMinute)));
    }
    CheckNodes();
  }

  ManualClock clock{0};
  std::unique_ptr<Engine> engine;
  std::mt19937_64 rng;
  bool check_priority;
  bool limits = false;  // jobs ask time limits
  bool workflows = false;  // some submissions are workflows; running jobs checkpoint
  bool preemptible_jobs = false;  // a third of the jobs are preemptible
  std::vector<NodeId> nodes;
  std::vector<std::string> node_model;
  std::vector<LiveTask> live;
  std::vector<Decision> decisions;
  std::vector<TaskPlacement> placements;
  std::vector<std::int64_t> started_priority;
  int submitted = 0;
};

RC_GTEST_PROP(EngineInvariants, NeverOvercommitsAndGpusHaveOneOwner, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int nodes = *rc::gen::inRange(1, 12);
  Harness h(seed);
  h.AddNodes(nodes);
  for (int step = 0; step < 300; ++step) h.Step(80);
}

RC_GTEST_PROP(EngineInvariants, SameInputsAndSeedGiveIdenticalDecisions, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int nodes = *rc::gen::inRange(1, 10);
  Harness a(seed, false), b(seed, false);
  a.AddNodes(nodes);
  b.AddNodes(nodes);
  for (int step = 0; step < 250; ++step) {
    a.Step(60);
    b.Step(60);
  }
  RC_ASSERT(a.decisions == b.decisions);
  RC_ASSERT(a.placements == b.placements);
  RC_ASSERT(!a.decisions.empty() || a.submitted == 0 || nodes == 0 || true);
}

// History retention only forgets. With fair share, backfill and preemption
// on, and quotas configured at some step, a random scenario gets the same
// decisions whether ended jobs are kept or pruned at once, their job classes
// (beyond the few kept) freed and reused for new jobs.
RC_GTEST_PROP(EngineInvariants, HistoryRetentionChangesNoDecision, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int nodes = *rc::gen::inRange(1, 8);
  PolicySet policies = DefaultPolicySet();
  policies.fair_share = FairShareOptions{.usage_half_life = kHour};
  policies.backfill = BackfillOptions{};
  policies.preemption = PreemptionOptions{};
  Harness kept(seed, false, {.policies = policies});
  Harness pruned(seed, false,
                 {.policies = policies, .history_retention = 1, .idle_job_classes_kept = *rc::gen::inRange(0, 4)});
  kept.limits = pruned.limits = true;
  kept.workflows = pruned.workflows = true;  // pruned with their last job, edges and checkpoints by blocks
  kept.AddNodes(nodes);
  pruned.AddNodes(nodes);
  // Quotas appear midway: every job still live moves to a class of its tenant
  // (old classes may be freed, killed attempts still name them).
  const int quotas_at = *rc::gen::inRange(0, 300);
  const std::vector<TenantSpec> tenants = {{.name = "t0", .guarantee = ResourceVector::Of(0, 0, 8)},
                                           {.name = "t1"}, {.name = "t2"}};
  for (int step = 0; step < 300; ++step) {
    if (step == quotas_at) {
      RC_ASSERT(kept.engine->ConfigureTenants(tenants).ok());
      RC_ASSERT(pruned.engine->ConfigureTenants(tenants).ok());
    }
    kept.Step(80);
    pruned.Step(80);
  }
  RC_ASSERT(kept.decisions == pruned.decisions);
  RC_ASSERT(kept.placements == pruned.placements);
  RC_ASSERT(pruned.engine->counters().job_classes_held <= kept.engine->counters().job_classes_held);
  RC_TAG(pruned.engine->counters().pruned_workflows > 0);
}

RC_GTEST_PROP(EngineInvariants, EveryFinishedWorkloadDrainsTheCluster, ()) {
  // Run everything to completion: all jobs end in a terminal state and every
  // resource is free again.
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  Harness h(seed);
  h.AddNodes(*rc::gen::inRange(1, 8));
  for (int step = 0; step < 200; ++step) h.Step(40);
  for (int round = 0; round < 10'000; ++round) {
    for (const LiveTask& t : h.live)
      RC_ASSERT(h.engine->TaskExited({.job = t.job, .token = t.token, .task = static_cast<int>(t.task)}).ok());
    h.live.clear();
    for (NodeId n : h.nodes) RC_ASSERT(h.engine->SetNodeState(n, NodeState::kUp).ok());
    const SchedulingRound r = h.Tick();
    if (!r.decisions.empty() || !h.live.empty()) continue;
    const Timestamp wake = h.engine->NextWakeup();  // retry backoffs
    if (wake == kInfiniteFuture) break;
    h.clock.Set(std::max(wake, h.clock.Now()));
  }
  for (JobId j : h.engine->ListJobs({})) {
    const JobStatus st = h.engine->GetJob(j).value();
    if (st.state == JobState::kQueued) {
      // Only jobs that can never fit may remain.
      RC_ASSERT(h.engine->Explain(j).value().verdict == Explanation::Verdict::kInfeasible);
    } else {
      RC_ASSERT(IsTerminal(st.state));
    }
  }
  RC_ASSERT(h.engine->GetUtilization().allocated.IsZero());
}

// Plays the same 300 steps on both harnesses and checks that they decided
// alike (`full` has one of its engine's shortcuts switched off).
void StepBoth(Harness& fast, Harness& full) {
  for (int step = 0; step < 300; ++step) {
    fast.Step(120);
    full.Step(120);
  }
  RC_ASSERT(fast.decisions == full.decisions);
  RC_ASSERT(fast.placements == full.placements);
}

// A pass's shortcuts past blocked classes (left out of the heaps, the
// candidate walk, passing over on the way to a search) decide nothing a full
// walk would not: random scenarios under random policy sets (EASY or deeper
// backfill, up to 17 reservations; or strict order; fair share; preemption
// with preemptible jobs; a guarantee or borrowing limits; class bases that
// priority and aging can overturn) get the same
// decisions and placements with the shortcuts and without.
RC_GTEST_PROP(EngineInvariants, PassShortcutsChangeNoDecision, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int nodes = *rc::gen::inRange(1, 8);
  PolicySet policies = DefaultPolicySet();
  // Class bases within reach of priority and aging: a low-class job may come
  // before a blocked higher-class one.
  if (*rc::gen::arbitrary<bool>()) policies.ordering = NewPriorityOrdering({.class_base = {0, 50, 100}});
  const int depth = *rc::gen::element(0, 1, 2, 3, 17);  // 0: no backfill
  if (depth > 0) policies.backfill = BackfillOptions{.reservation_depth = depth};
  policies.strict_order = depth == 0 && *rc::gen::inRange(0, 3) == 0;  // (not with backfill)
  if (*rc::gen::arbitrary<bool>()) policies.fair_share = FairShareOptions{.usage_half_life = kHour};
  if (*rc::gen::arbitrary<bool>()) policies.preemption = PreemptionOptions{};
  const int tenants = *rc::gen::inRange(0, 3);  // none, a guarantee, a borrowing limit
  Harness fast(seed, false, {.policies = policies});
  Harness full(seed, false, {.policies = policies});
  internal::EngineTestPeer::Impl(*full.engine).set_full_pass_walk_for_testing(true);
  for (Harness* h : {&fast, &full}) {
    h->limits = true;  // a class per time limit under backfill: many blocked classes
    h->preemptible_jobs = true;
    if (tenants == 1)
      RC_ASSERT(h->engine->ConfigureTenants({{.name = "t0", .guarantee = ResourceVector::Of(0, 0, 8)}}).ok());
    if (tenants == 2)
      RC_ASSERT(h->engine
                    ->ConfigureTenants({{.name = "org"},
                                        {.name = "t0", .parent = "org", .borrowing_limit = ResourceVector::Of(0, 0, 4)},
                                        {.name = "t1", .parent = "org", .borrowing_limit = ResourceVector::Of(0, 0, 8)},
                                        {.name = "t2", .parent = "org"}})
                    .ok());
    h->AddNodes(nodes);
  }
  StepBoth(fast, full);
  RC_TAG(fast.engine->counters().classes_left_out > 0, fast.engine->counters().candidate_walks > 0);
}

// Conservative backfilling finds a one-task job's earliest start node by
// node; trying every time of every node's profile, as for gangs, gives the
// same decisions and placements in random scenarios (jobs with time limits;
// nodes going down and up; early exits, which compress the reservations).
RC_GTEST_PROP(EngineInvariants, ConservativeOneTaskSearchChangesNoDecision, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const int nodes = *rc::gen::inRange(1, 8);
  PolicySet policies = DefaultPolicySet();
  policies.backfill = BackfillOptions{.reservation_depth = kReserveAll};
  Harness fast(seed, false, {.policies = policies});
  Harness full(seed, false, {.policies = policies});
  internal::EngineTestPeer::Impl(*full.engine).set_full_profile_scan_for_testing(true);
  for (Harness* h : {&fast, &full}) {
    h->limits = true;
    h->AddNodes(nodes);
  }
  StepBoth(fast, full);
  RC_TAG(fast.engine->counters().reservations > 0);
}

}  // namespace
}  // namespace mlsched
