// Preemption: victim search, nominations, and the checkpoint-then-kill cycle.
//
// Victim search for a blocked job J (see policy/preemption.h for the rules):
// for every up node eligible for a task group of J, the node's evictable
// attempts are sorted by cost (GPU-time lost since their last checkpoint,
// then priority) and taken until one task of J fits; the node then costs the
// sum. The cheapest nodes (free ones cost nothing) are taken until they host
// all of J's tasks. The union of victims is released on the overlay and a
// trial placement of the whole job must succeed, else nothing is preempted.
// Cost: one scan of the eligible nodes' live tasks.
#include "internal/engine_impl.h"

namespace mlsched::internal {

absl::Status EngineImpl::FireKillTimers(Timestamp now) {
  while (!kill_timers_.empty() && kill_timers_.top().first <= now) {
    const std::uint32_t a = kill_timers_.top().second;
    kill_timers_.pop();
    if (!AttemptLive(a) || !attempts_[a].preempting) continue;  // ended on its own
    MLSCHED_RETURN_IF_ERROR(EndAttemptWith(a, JobState::kPreempted, AttemptEnd::kPreempted, KillReason::kPreempted, now));
  }
  return absl::OkStatus();
}

// Holds what is already free of a nomination's planned room.
void EngineImpl::ClaimNomination(Nomination& nom, Timestamp now) {
  for (Nomination::Slot& slot : nom.plan) {
    const NodeRec& node = cluster_.node(slot.node);
    ResourceVector from_free = slot.amount;
    for (std::uint32_t a : nom.victims) {
      if (!attempts_.contains(a)) continue;  // ended long ago
      const AttemptRec& att = attempts_[a];
      for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
        const TaskRec& task = tasks_[t];
        if (task.exited || task.node != slot.node) continue;
        from_free -= classes_[att.klass].groups[task.group].per_task;
      }
    }
    ResourceVector claim;
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      claim.Set(kind, std::max<std::int64_t>(0, from_free.Get(kind)));
    }
    claim.Set(kGpu, 0);
    slot.claimed = claim;
    slot.claimed_gpus = slot.gpus & node.free_gpus;
    cluster_.AddClaim(slot.node, now, slot.claimed, slot.claimed_gpus);
  }
}

void EngineImpl::UnclaimNomination(const Nomination& nom) {
  for (const Nomination::Slot& slot : nom.plan) cluster_.RemoveClaim(slot.node, slot.claimed, slot.claimed_gpus);
}

// Within a pass nothing a claim is worked out from moves: no task exits,
// the nominee's own try placed nothing, and other nominees' starts took no
// GPU of its claim. So the claim is the one ClaimNomination made.
void EngineImpl::RestoreNominationClaim(const Nomination& nom, Timestamp now) {
  for (const Nomination::Slot& slot : nom.plan) cluster_.AddClaim(slot.node, now, slot.claimed, slot.claimed_gpus);
}

absl::Status EngineImpl::PlaceNominated(Timestamp now, SchedulingRound* round) {
  // Drop nominations whose job is no longer waiting for them.
  std::erase_if(nominations_, [&](const Nomination& nom) {
    JobRec& job = jobs_[nom.job];
    if (job.state == JobState::kQueued && job.nominated) return false;
    job.nominated = false;
    return true;
  });
  if (nominations_.empty()) return absl::OkStatus();
  // Each nominee tries with every other nomination's room claimed, so no
  // nominee takes the room made for another: all are claimed, and each
  // takes back its own claim while it tries. (Nominations claim disjoint
  // GPUs, so taking one back leaves the others' intact.)
  cluster_.ClearClaims();
  for (Nomination& nom : nominations_) ClaimNomination(nom, now);
  nomination_keep_.assign(nominations_.size(), 1);
  for (std::size_t i = 0; i < nominations_.size(); ++i) {
    Nomination& nom = nominations_[i];
    UnclaimNomination(nom);
    JobRec& job = jobs_[nom.job];
    JobClass& klass = classes_[job.klass];
    WaitInfo wait;
    cluster_.set_candidate_end(kInfiniteFuture);
    if (!tenant_keyed_ || tenants_.Admits(job.tenant, klass.total, cluster_.total(), &wait.quota)) {
      // Found no room in the last pass, and no node grew where a task of it
      // could fit (victims still leaving): it cannot fit now either.
      if (nom.no_room_pass != 0 && nom.no_room_pass + 1 == counters_.passes && !FitsGrown(klass)) {
        nom.no_room_pass = counters_.passes;
      } else if (TryPlace(nom.job, klass, &wait)) {
        MLSCHED_RETURN_IF_ERROR(Commit(nom.job, now, round));
        nomination_keep_[i] = 0;
        continue;
      } else {
        nom.no_room_pass = wait.code == WaitInfo::Code::kNoRoom ? counters_.passes : 0;
      }
    }
    bool victims_live = false;
    for (std::uint32_t a : nom.victims) victims_live |= attempts_.contains(a) && attempts_[a].alive > 0;
    if (!victims_live) {
      job.nominated = false;  // the room was not enough after all: start over
      nomination_keep_[i] = 0;
      continue;
    }
    RestoreNominationClaim(nom, now);
  }
  std::size_t w = 0;
  for (std::size_t i = 0; i < nominations_.size(); ++i) {
    if (!nomination_keep_[i]) continue;
    if (w != i) nominations_[w] = std::move(nominations_[i]);  // never self-move: it would empty the plan
    ++w;
  }
  nominations_.resize(w);
  return absl::OkStatus();
}

bool EngineImpl::TryPreempt(std::uint32_t j, const JobClass& c, Timestamp now, SchedulingRound* round) {
  const PreemptionOptions& opt = *options_.policies.preemption;
  const JobRec& job = jobs_[j];
  const bool by_priority = opt.priority && job.priority_class != PriorityClass::kLow;  // the lowest evicts nobody
  const bool by_reclaim = opt.reclaim && tenants_.WithinGuarantee(job.tenant, c.total);
  if (!by_priority && !by_reclaim) return false;

  // Rate limit per preempting tenant.
  std::deque<Timestamp>& recent = evictions_[job.tenant];
  while (!recent.empty() && recent.front() <= now - opt.window) recent.pop_front();
  const std::int64_t budget = opt.max_victims_per_window - static_cast<std::int64_t>(recent.size());
  if (budget <= 0) return false;

  const int cls = static_cast<int>(job.priority_class);
  // Which tenants borrow what the job asks for: fixed during the search.
  if (by_reclaim) {
    tenant_borrowing_.resize(tenants_.size());
    for (std::uint32_t t = 0; t < tenants_.size(); ++t) tenant_borrowing_[t] = tenants_.Borrowing(t, c.total);
  }
  auto evictable = [&](std::uint32_t a) {
    const AttemptRec& att = attempts_[a];
    if (att.outcome != AttemptEnd::kNone || att.preempting || att.stopping || att.job == j) return false;
    if (now - att.start < opt.min_runtime) return false;
    if (by_priority && att.preemptible && att.cls < cls) return true;
    if (by_reclaim)
      return att.tenant != job.tenant && (att.preemptible || att.borrowed) && tenant_borrowing_[att.tenant];
    return false;
  };
  // GPUs that priority preemption could free on a node (an upper bound).
  auto priority_gpus = [&](const NodeRec& node) {
    std::int64_t sum = 0;
    for (int k = 0; k < cls; ++k) sum += node.evictable_gpus[k];
    return sum;
  };
  // Cheap global bound: without reclaim, there must be evictable GPUs of
  // lower classes (placement already found free GPUs alone short), and with
  // the free GPUs they must cover the job.
  if (!by_reclaim && c.total.gpus() > 0) {
    std::int64_t evictable_below = 0;
    for (int k = 0; k < cls; ++k) evictable_below += evictable_gpus_[k];
    if (evictable_below == 0 || cluster_.fragmentation().free_gpus + evictable_below < c.total.gpus()) return false;
  }
  // The victim-search level (victim_bounds_, Cluster::by_preemptible): by
  // priority, the preemptor's class less one (the lowest class evicts nobody).
  const int level = by_reclaim ? kReclaimLevel : cls - 1;
  if (victim_bounds_.size() < cluster_.node_count()) victim_bounds_.resize(cluster_.node_count());
  auto cost = [&](std::uint32_t a) {
    const AttemptRec& att = attempts_[a];
    const Timestamp since = std::max(att.start, att.last_checkpoint);
    return static_cast<double>(std::max<std::int64_t>(1, att.gpus)) * static_cast<double>(now - since);
  };

  // One option per node: its cost and the victims (a slice of option_victims_).
  using Option = VictimOption;
  std::vector<Option>& options = victim_options_;
  std::vector<std::pair<double, std::uint32_t>>& candidates = victim_candidates_;
  option_victims_.clear();
  preempt_victims_.clear();
  preempt_nodes_.clear();
  victim_search_ran_ = true;
  ++counters_.victim_searches;
  cluster_.set_candidate_end(kInfiniteFuture);
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    const ResourceVector& per_task = c.groups[g].per_task;
    const auto need = static_cast<std::size_t>(c.groups[g].count);
    options.clear();
    option_victims_.clear();
    // Only the `need` cheapest options are taken (see below). A node whose
    // cheapest victim already costs more than the need-th cheapest option so
    // far cannot offer one of them: its victims are not sorted and tried.
    // best_costs_ is a max-heap of the need cheapest option costs so far.
    best_costs_.clear();
    auto note_option = [&](double cost) {
      if (best_costs_.size() < need) {
        best_costs_.push_back(cost);
        std::push_heap(best_costs_.begin(), best_costs_.end());
      } else if (cost < best_costs_.front()) {
        std::pop_heap(best_costs_.begin(), best_costs_.end());
        best_costs_.back() = cost;
        std::push_heap(best_costs_.begin(), best_costs_.end());
      }
    };
    auto beyond_need = [&](double cost) { return best_costs_.size() == need && cost > best_costs_.front(); };
    auto consider = [&](std::uint32_t n) {
        const NodeRec& node = cluster_.node(n);
        if (node.removed || node.state != NodeState::kUp) return true;
        // The node's bounds: every possible victim too young, or none cheaper
        // than the options so far (each costs at least the fewest GPUs times
        // the time since the latest checkpoint) — the tasks' bound below
        // would say the same. Most nodes stop here, without reading tasks;
        // one with too few GPUs free for a task (it cannot host one now)
        // without reading its free resources either.
        VictimBounds& bounds = victim_bounds_[n];
        auto settled_by_bounds = [&] {
          return bounds.earliest_start[level] > now - opt.min_runtime || beyond_need(bounds.LeastCost(level, now));
        };
        const bool short_of_gpus = node.free_gpus.size() < per_task.gpus();
        if (short_of_gpus && settled_by_bounds()) return true;
        ResourceVector avail = cluster_.Available(n);
        if (per_task.FitsIn(avail)) {
          options.push_back({0, 0, avail.CopiesThatFit(per_task), n, 0, 0});
          note_option(0);
          return true;
        }
        // Not even evicting every lower-class preemptible GPU (with reclaim:
        // every reclaimable one, which includes those) would do.
        if (avail.gpus() + (by_reclaim ? node.reclaimable_gpus : priority_gpus(node)) < per_task.gpus()) return true;
        if (!short_of_gpus && settled_by_bounds()) return true;
        // A bound from the tasks alone: every victim costs at least the
        // cheapest task's attempt that might be one (by the tasks' copies of
        // its checkpoint time and GPUs, whose count saturates: never above
        // the real cost). Most other nodes stop here once the cheapest
        // options are known, without reading attempts. The node's bounds are
        // made exact on the way.
        // (From the tasks' copies: evictable() would refuse the others.)
        auto may_be_victim = [&](const TaskRec& task) {
          return VictimBounds::Covers(task, level) && now - task.start >= opt.min_runtime;
        };
        auto least_cost = [&](const TaskRec& task) {
          return static_cast<double>(VictimBounds::Gpus(task)) * static_cast<double>(now - task.since);
        };
        double bound = std::numeric_limits<double>::infinity();
        bounds.earliest_start[level] = kInfiniteFuture;
        for (std::uint32_t t : node.live_tasks) {
          const TaskRec& task = tasks_[t];
          if (!VictimBounds::Covers(task, level)) continue;
          bounds.Add(task, level);
          if (now - task.start < opt.min_runtime) continue;
          bound = std::min(bound, least_cost(task));
        }
        if (bound == std::numeric_limits<double>::infinity() || beyond_need(bound)) return true;
        candidates.clear();
        double cheapest = std::numeric_limits<double>::infinity();
        for (std::uint32_t t : node.live_tasks) {
          const TaskRec& task = tasks_[t];
          if (!may_be_victim(task)) continue;
          // A victim that alone costs more than the options so far can only
          // be in an option that is not taken: its attempt is not read.
          if (beyond_need(least_cost(task))) continue;
          const std::uint32_t a = task.attempt;
          bool seen = false;
          for (const auto& cand : candidates) seen |= cand.second == a;
          if (seen || !evictable(a)) continue;
          candidates.emplace_back(cost(a), a);
          cheapest = std::min(cheapest, candidates.back().first);
        }
        // Costs are not negative, so an option costs at least its cheapest victim.
        if (candidates.empty() || beyond_need(cheapest)) return true;
        std::sort(candidates.begin(), candidates.end(), [&](const auto& x, const auto& y) {
          if (x.first != y.first) return x.first < y.first;
          return attempts_[x.second].base < attempts_[y.second].base;
        });
        Option o{0, std::numeric_limits<std::int64_t>::min(), 0, n,
                 static_cast<std::uint32_t>(option_victims_.size()), 0};
        GpuSet gpus = cluster_.HasClaim(n) ? node.free_gpus.Minus(node.claim_gpus) : node.free_gpus;
        for (const auto& [victim_cost, a] : candidates) {
          const AttemptRec& att = attempts_[a];
          for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
            const TaskRec& task = tasks_[t];
            if (task.exited || task.node != n) continue;
            avail += classes_[att.klass].groups[task.group].per_task;
            gpus = gpus | task.gpus.Minus(node.unhealthy);
          }
          avail.Set(kGpu, gpus.size());
          o.cost += victim_cost;
          o.priority = std::max(o.priority, att.base);
          option_victims_.push_back(a);
          ++o.victim_count;
          if (per_task.FitsIn(avail)) break;
        }
        if (!per_task.FitsIn(avail)) {
          option_victims_.resize(o.first_victim);
          return true;
        }
        o.hosts = avail.CopiesThatFit(per_task);
        options.push_back(o);
        note_option(o.cost);
        return true;
    };
    if (per_task.gpus() > 0 && (by_reclaim || cls >= 1)) {
      // Only nodes where free GPUs plus lower-class preemptible GPUs (with
      // reclaim: plus reclaimable GPUs, a superset) suffice.
      cluster_.ForEachPreemptionCandidate(c.eligible[g], level, static_cast<int>(per_task.gpus()), consider);
    } else {
      for (std::uint32_t grp : c.eligible[g])
        for (std::uint32_t n : cluster_.group(grp).members) consider(n);
    }
    // Only the cheapest options are needed: select them before sorting.
    auto cheaper = [](const Option& a, const Option& b) {
      if (a.cost != b.cost) return a.cost < b.cost;
      if (a.priority != b.priority) return a.priority < b.priority;
      if (a.victim_count != b.victim_count) return a.victim_count < b.victim_count;
      return a.node < b.node;
    };
    if (options.size() > need) {
      std::nth_element(options.begin(), options.begin() + static_cast<std::ptrdiff_t>(need), options.end(), cheaper);
      options.resize(need + 1);
    }
    std::sort(options.begin(), options.end(), cheaper);
    std::int64_t covered = 0;
    std::size_t take = 0;
    while (take < options.size() && covered < c.groups[g].count) covered += options[take++].hosts;
    if (covered < c.groups[g].count) return false;
    options.resize(take);
    for (const Option& o : options) {
      for (std::uint32_t v = 0; v < o.victim_count; ++v) preempt_victims_.push_back(option_victims_[o.first_victim + v]);
      preempt_nodes_.push_back(o.node);
    }
  }
  std::sort(preempt_victims_.begin(), preempt_victims_.end());
  preempt_victims_.erase(std::unique(preempt_victims_.begin(), preempt_victims_.end()), preempt_victims_.end());
  auto clear = [&] {
    preempt_victims_.clear();
    preempt_nodes_.clear();
  };
  if (preempt_victims_.empty() || static_cast<std::int64_t>(preempt_victims_.size()) > budget) {
    clear();
    return false;
  }
  // Verify: release every victim task on the overlay; the whole job must fit.
  ++ov_epoch_;
  ov_touched_.clear();
  for (std::uint32_t n : preempt_nodes_) Touch(n);
  for (std::uint32_t a : preempt_victims_) {
    const AttemptRec& att = attempts_[a];
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
      const TaskRec& task = tasks_[t];
      if (task.exited) continue;
      const NodeRec& node = cluster_.node(task.node);
      if (node.removed || node.state != NodeState::kUp) continue;
      Touch(task.node);
      ov_[task.node].free += classes_[att.klass].groups[task.group].per_task;
      ov_[task.node].gpus = ov_[task.node].gpus | task.gpus.Minus(node.unhealthy);
    }
  }
  Nomination nom{.job = j};
  if (!TrialPlace(c, ov_touched_, &nom.plan)) {
    clear();
    return false;
  }
  // Act: checkpoint signal now, kill after the grace period.
  double lost = 0;
  for (std::uint32_t a : preempt_victims_) {
    UncountEvictable(a);
    AttemptRec& att = attempts_[a];
    att.preempting = true;
    att.kill_at = now + opt.grace;
    kill_timers_.emplace(att.kill_at, a);
    lost += cost(a);
    Decision d{.kind = DecisionKind::kSignalCheckpoint, .job = JobId(att.job), .token = att.token,
               .reason = KillReason::kPreempted, .grace = opt.grace,
               .first_placement = static_cast<std::uint32_t>(round->placements.size())};
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
      const TaskRec& task = tasks_[t];
      if (!task.exited)
        round->placements.push_back({.task = task.index, .group = task.group, .node = NodeId(task.node), .gpus = task.gpus});
    }
    d.placement_count = static_cast<std::uint32_t>(round->placements.size()) - d.first_placement;
    round->decisions.push_back(d);
    recent.push_back(now);
    ++counters_.preemptions;
  }
  counters_.gpu_hours_lost_to_preemption += lost / static_cast<double>(kHour);
  ++counters_.preempting_passes;
  nom.victims = preempt_victims_;
  jobs_[j].nominated = true;
  // Claim, for the rest of this pass, what is already free of the planned room.
  for (const Nomination::Slot& slot : nom.plan) {
    const NodeRec& node = cluster_.node(slot.node);
    ResourceVector claim;
    const ResourceVector avail = cluster_.Available(slot.node);
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      claim.Set(kind, std::min(std::max<std::int64_t>(0, avail.Get(kind)), slot.amount.Get(kind)));
    }
    claim.Set(kGpu, 0);
    cluster_.AddClaim(slot.node, now, claim, slot.gpus & node.free_gpus);
  }
  nominations_.push_back(std::move(nom));
  clear();
  return true;
}

}  // namespace mlsched::internal
