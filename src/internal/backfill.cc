// Backfill reservations: the earliest start of a blocked job.
//
// The overlay holds, for the nodes it has touched, what will be free: now
// (free less existing claims) plus what running attempts release, walked in
// order of their expected end (an attempt past its estimate counts as ending
// now). After each batch of releases with the same end time, if every task
// group has enough hosts among touched nodes and nodes with room now (a
// cheap count), a trial placement on the overlay decides. The first time it
// succeeds is the reservation: its start time and, per node, the resources
// and GPUs it takes. The part of those that is free now becomes a claim that
// later placements in the pass must respect unless they end before it starts.
#include "internal/engine_impl.h"

namespace mlsched::internal {

void EngineImpl::Touch(std::uint32_t n) {
  if (ov_.size() < cluster_.node_count()) ov_.resize(cluster_.node_count());
  OverlayNode& o = ov_[n];
  if (o.stamp == ov_epoch_) return;
  o.stamp = ov_epoch_;
  // Existing claims are taken: a reservation never counts on resources that
  // an earlier reservation or a nomination holds.
  cluster_.set_candidate_end(kInfiniteFuture);
  o.free = cluster_.Available(n);
  const NodeRec& node = cluster_.node(n);
  o.gpus = cluster_.HasClaim(n) ? node.free_gpus.Minus(node.claim_gpus) : node.free_gpus;
  o.released = {};
  o.order = static_cast<std::uint32_t>(ov_touched_.size());
  ov_touched_.push_back(n);
}

bool EngineImpl::TrialPlace(const JobClass& c, std::span<const std::uint32_t> nodes,
                            std::vector<Nomination::Slot>* plan) {
  plan->clear();
  // Work on copies of the touched entries so the overlay stays as it was.
  auto& used = trial_used_;
  used.clear();
  auto avail = [&](std::uint32_t n) -> std::pair<ResourceVector, GpuSet> {
    for (const auto& u : used)
      if (u.first == n) return u.second;
    return {ov_[n].free, ov_[n].gpus};
  };
  // Places every task of group g on nodes passing `in_domain`, best fit on
  // the key resource; false (with `used` and `plan` possibly extended) if not.
  auto place_group = [&](std::size_t g, auto in_domain) {
    const TaskGroup& tg = c.groups[g];
    for (int t = 0; t < tg.count; ++t) {
      std::uint32_t best = kNil;
      std::int64_t best_key = 0;
      for (std::uint32_t n : nodes) {
        if (!in_domain(n) || !IsEligible(c, g, n)) continue;
        auto [free, gpus] = avail(n);
        free.Set(kGpu, gpus.size());
        if (!tg.per_task.FitsIn(free)) continue;
        const std::int64_t key = tg.per_task.gpus() > 0 ? free.gpus() : free.cpu_millis();
        if (best == kNil || key < best_key) {
          best = n;
          best_key = key;
        }
      }
      if (best == kNil) return false;
      auto [free, gpus] = avail(best);
      const GpuSet chosen =
          Cluster::ChooseGpusFrom(cluster_.node(best).domains, gpus, static_cast<int>(tg.per_task.gpus()));
      free -= tg.per_task;
      gpus = gpus.Minus(chosen);
      bool found = false;
      for (auto& u : used) {
        if (u.first == best) {
          u.second = {free, gpus};
          found = true;
        }
      }
      if (!found) used.push_back({best, {free, gpus}});
      plan->push_back({best, tg.per_task, chosen});
    }
    return true;
  };
  const int level = c.constraints.topology.level;
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    if (!(c.constraints.topology.required && level >= 0 && c.groups[g].count > 1)) {
      if (!place_group(g, [](std::uint32_t) { return true; })) return false;
      continue;
    }
    // A required domain: the gang must fit inside one of them.
    std::vector<std::uint32_t> domains;
    for (std::uint32_t n : nodes) domains.push_back(cluster_.DomainOf(n, level));
    std::sort(domains.begin(), domains.end());
    domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
    bool placed = false;
    for (std::uint32_t d : domains) {
      const auto used_before = used;
      const std::size_t plan_before = plan->size();
      if (place_group(g, [&](std::uint32_t n) { return cluster_.DomainOf(n, level) == d; })) {
        placed = true;
        break;
      }
      used = used_before;
      plan->resize(plan_before);
    }
    if (!placed) return false;
  }
  return true;
}

// When nothing was released since the last pass (starts and new jobs only),
// the plan of the last pass's first reservation is still achievable if, on
// each of its nodes, what is free now (less other claims) plus what attempts
// expected to end by its start will release covers it, GPU by GPU. Then only
// those nodes are looked at: no walk over all running attempts.
bool EngineImpl::ReuseReservation(std::uint32_t j, const JobClass& c, Timestamp now) {
  if (last_reservation_.job != j || reservations_this_pass_ != 0 || last_reservation_.start < now) return false;
  // Something was released since: the earliest start may have moved earlier.
  if (released_since_last_pass_) return false;
  return ClaimPlan(j, c, now, last_reservation_.start, last_reservation_.plan);
}

// Where the walk touches node n: at its first release in walk order.
EngineImpl::ReleaseOrder EngineImpl::FirstRelease(std::uint32_t n) const {
  ReleaseOrder first{kInfiniteFuture, 0, 0};
  for (std::uint32_t t : cluster_.node(n).live_tasks) {
    const AttemptRec& att = attempts_[tasks_[t].attempt];
    if (att.expected_end != kInfiniteFuture) first = std::min(first, {att.expected_end, tasks_[t].attempt, t});
  }
  return first;
}

// After releases the walk is repeated, unless it is certain to find the same
// plan again. For a class of one task the walk (ReserveOneTask) stops at the
// first batch where some eligible node fits the task, and picks the best fit
// among those nodes, the one touched first on ties (a node is touched at its
// first release in walk order). Suppose a walk for this shape, at basis B,
// found no node with room before any release, stopped at start S and picked
// node P. If S is past, a walk now stops at its first batch, now, at the
// earliest: let S' = max(S, now). Call a node dirty if its resources, state,
// health or index position changed since B, its claim differs from its
// claim at B, or it has releases in (S, S']. A clean node has the same
// overlay at S' as the walk saw at S, no room before it, and is touched in
// the same order. So if every dirty node either does not fit the task at S',
// or fits only from S' on and loses to P there (worse fit, or as good and
// touched later), and P is clean or else still fits only from S' on, with
// the same GPUs free at S', and is touched before the runner-up of B (the
// next node as good as P), then nothing fits before S', P fits at S' (one of
// its releases makes S' a batch), and P is the best of the nodes that fit at
// S': the same plan, from S', and the same claims. The current state is then
// a basis as good as B.
bool EngineImpl::RepeatProvenWalk(std::uint32_t j, const JobClass& c, Timestamp now) {
  if (reservations_this_pass_ != 0 || !OneTask(c)) return false;
  const std::uint32_t shape = ShapeOf(jobs_[j].klass);
  ProvenWalk* walk = nullptr;
  for (ProvenWalk& w : proven_walks_)
    if (w.shape == shape) walk = &w;
  if (walk == nullptr) return false;
  // A start now past is now: the first batch, which then holds every release
  // up to now.
  const Timestamp start = std::max(walk->start, now);
  const std::uint32_t chosen = walk->plan.front().node;
  const ResourceVector& per_task = c.groups.front().per_task;
  cluster_.set_candidate_end(kInfiniteFuture);
  // Where node n stands at the start: whether the task fits just before it
  // and at it, the best-fit key and free GPUs at it, and where the walk
  // touches it (its first release: expected end, attempt, task).
  struct Standing {
    bool fits_before = false;
    bool fits = false;
    std::int64_t key = 0;
    GpuSet gpus;
    ReleaseOrder touched{kInfiniteFuture, 0, 0};
  };
  auto standing = [&](std::uint32_t n) {
    const NodeRec& node = cluster_.node(n);
    ResourceVector before = cluster_.Available(n);
    GpuSet gpus_before = cluster_.HasClaim(n) ? node.free_gpus.Minus(node.claim_gpus) : node.free_gpus;
    ResourceVector at = before;
    GpuSet gpus_at = gpus_before;
    Standing st;
    for (std::uint32_t t : node.live_tasks) {
      const TaskRec& task = tasks_[t];
      const AttemptRec& att = attempts_[task.attempt];
      if (att.expected_end == kInfiniteFuture) continue;
      st.touched = std::min(st.touched, {att.expected_end, task.attempt, t});  // as FirstRelease()
      const Timestamp release = std::max(now, att.expected_end);
      if (release > start) continue;
      const ResourceVector& r = classes_[att.klass].groups[task.group].per_task;
      const GpuSet g = task.gpus.Minus(node.unhealthy);
      at += r;
      gpus_at = gpus_at | g;
      if (release < start) {
        before += r;
        gpus_before = gpus_before | g;
      }
    }
    before.Set(kGpu, gpus_before.size());
    at.Set(kGpu, gpus_at.size());
    st.fits_before = per_task.FitsIn(before);
    st.fits = per_task.FitsIn(at);
    st.key = per_task.gpus() > 0 ? at.gpus() : at.cpu_millis();
    st.gpus = gpus_at;
    return st;
  };
  const Standing p = standing(chosen);
  ReleaseOrder runner_up = walk->runner_up;  // no later than the true one
  // Whether dirty node n could change the walk's outcome.
  auto matters = [&](std::uint32_t n) {
    const NodeRec& node = cluster_.node(n);
    const bool up = !node.removed && node.state == NodeState::kUp;
    if (n == chosen) {
      // Touched before the runner-up, P still beats every clean node as good.
      return !up || p.fits_before || !p.fits || p.key != walk->chosen_key || p.gpus != walk->chosen_gpus ||
             p.touched >= walk->runner_up;
    }
    if (!up || !IsEligible(c, 0, n)) return false;
    const Standing st = standing(n);
    if (!st.fits) return false;
    if (st.fits_before || st.key < walk->chosen_key) return true;
    if (st.key > walk->chosen_key) return false;
    runner_up = std::min(runner_up, st.touched);
    return st.touched < p.touched;
  };
  auto claim_at_basis = [&](std::uint32_t n) -> const ProvenWalk::Claim* {
    for (const ProvenWalk::Claim& claim : walk->claims)
      if (claim.node == n) return &claim;
    return nullptr;
  };
  // Claims count as they are used here: in full, whatever their start.
  auto claim_changed = [&](std::uint32_t n) {
    const ProvenWalk::Claim* before = claim_at_basis(n);
    const NodeRec& node = cluster_.node(n);
    if (!cluster_.HasClaim(n)) return before != nullptr;
    return before == nullptr || before->amount != node.claim_amount || before->gpus != node.claim_gpus;
  };
  bool reusable = cluster_.ForEachChangedSince(walk->change_mark, [&](std::uint32_t n) { return !matters(n); });
  for (const ProvenWalk::Claim& claim : walk->claims)
    if (reusable && claim_changed(claim.node) && matters(claim.node)) reusable = false;
  for (std::uint32_t n : cluster_.claimed())
    if (reusable && claim_changed(n) && matters(n)) reusable = false;
  // Nodes with releases between the walk's start and a later one: their
  // overlay at the new start is not the one the walk saw.
  constexpr int kMaxLateReleases = 256;
  int late = 0;
  for (auto it = running_by_end_.upper_bound({walk->start, kNil});
       reusable && it != running_by_end_.end() && it->first <= start; ++it) {
    const AttemptRec& att = attempts_[it->second];
    reusable = ++late <= kMaxLateReleases;
    for (std::uint32_t t = att.first_task; reusable && t < att.first_task + att.task_count; ++t)
      reusable = tasks_[t].exited || !matters(tasks_[t].node);
  }
  if (reusable) {
    walk->runner_up = runner_up;
    SetBasis(walk);  // before the reservation's own claims
  }
  if (reusable) walk->start = start;
  if (!reusable || !ClaimPlan(j, c, now, walk->start, walk->plan)) {
    walk->shape = kNil;  // the walk that follows replaces it
    return false;
  }
  last_reservation_.job = j;
  last_reservation_.start = walk->start;
  last_reservation_.plan = walk->plan;
  return true;
}

// Records the current cluster and claims as the basis of `walk`.
void EngineImpl::SetBasis(ProvenWalk* walk) {
  walk->change_mark = cluster_.ChangeMark();
  walk->claims.clear();
  for (std::uint32_t n : cluster_.claimed()) {
    const NodeRec& node = cluster_.node(n);
    walk->claims.push_back({n, node.claim_amount, node.claim_gpus});
  }
  walk->used = counters_.passes;
}

// Claims `plan` at `start` if it still fits there.
bool EngineImpl::ClaimPlan(std::uint32_t j, const JobClass& c, Timestamp now, Timestamp start,
                           const std::vector<Nomination::Slot>& plan) {
  ++ov_epoch_;
  ov_touched_.clear();
  for (const Nomination::Slot& slot : plan) {
    const NodeRec& node = cluster_.node(slot.node);
    if (node.removed || node.state != NodeState::kUp) return false;
    const bool fresh = ov_.size() <= slot.node || ov_[slot.node].stamp != ov_epoch_;
    Touch(slot.node);
    if (!fresh) continue;
    for (std::uint32_t t : node.live_tasks) {
      const TaskRec& task = tasks_[t];
      const AttemptRec& att = attempts_[task.attempt];
      if (att.expected_end == kInfiniteFuture || std::max(now, att.expected_end) > start) continue;
      const ResourceVector& r = classes_[att.klass].groups[task.group].per_task;
      ov_[slot.node].free += r;
      ov_[slot.node].released += r;
      ov_[slot.node].gpus = ov_[slot.node].gpus | task.gpus.Minus(node.unhealthy);
    }
  }
  // Every slot must still fit, with its own GPUs.
  for (const Nomination::Slot& slot : plan) {
    ResourceVector& free = ov_[slot.node].free;
    if (!slot.gpus.Minus(ov_[slot.node].gpus).empty()) return false;
    ResourceVector need = slot.amount;
    need.Set(kGpu, 0);
    ResourceVector have = free;
    have.Set(kGpu, 0);
    if (!need.FitsIn(have)) return false;
    free -= need;
    ov_[slot.node].gpus = ov_[slot.node].gpus.Minus(slot.gpus);
  }
  JobRec& job = jobs_[j];
  job.reserved_pass = counters_.passes;
  job.reserved_start = start;
  ClaimReservation(c, start, plan);
  ++counters_.reservations;
  return true;
}

void EngineImpl::ClaimReservation(const JobClass& c, Timestamp start, const std::vector<Nomination::Slot>& plan) {
  // Appended in place: the one walk over virtual_events_ (Reserve) returns
  // as soon as it has reserved.
  for (const Nomination::Slot& slot : plan) {
    const NodeRec& node = cluster_.node(slot.node);
    ResourceVector from_now, from_released;
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      const std::int64_t released = std::max<std::int64_t>(0, ov_[slot.node].released.Get(kind));
      const std::int64_t take_released = std::min(released, slot.amount.Get(kind));
      from_released.Set(kind, take_released);
      from_now.Set(kind, slot.amount.Get(kind) - take_released);
      // Later slots on the same node count the released part once.
      ov_[slot.node].released.Set(kind, released - take_released);
    }
    const GpuSet now_gpus = slot.gpus & node.free_gpus;
    from_now.Set(kGpu, 0);  // GPUs are claimed by index
    cluster_.AddClaim(slot.node, start, from_now, now_gpus);
    virtual_events_.push_back({start, slot.node, false, from_released, slot.gpus.Minus(now_gpus)});
    if (c.estimate > 0) virtual_events_.push_back({start + c.estimate, slot.node, true, slot.amount, slot.gpus});
  }
}

bool EngineImpl::Reserve(std::uint32_t j, const JobClass& c, Timestamp now) {
  if (ReuseReservation(j, c, now)) return true;
  if (RepeatProvenWalk(j, c, now)) return true;
  if (OneTask(c) && virtual_events_.empty()) return ReserveOneTask(j, c, now);
  ++ov_epoch_;
  ov_touched_.clear();
  // Nodes with room now for a task of each group, and how many tasks they host.
  std::vector<std::int64_t>& hosts = walk_hosts_;
  hosts.assign(c.groups.size(), 0);
  cluster_.set_candidate_end(kInfiniteFuture);
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    cluster_.ForEachCandidate(c.eligible[g], c.groups[g].per_task, true, [&](std::uint32_t n) {
      Touch(n);
      return true;
    });
  }
  auto copies = [&](std::uint32_t n, std::size_t g) {
    ResourceVector free = ov_[n].free;
    free.Set(kGpu, ov_[n].gpus.size());
    return free.CopiesThatFit(c.groups[g].per_task);
  };
  auto recount = [&](std::uint32_t n, std::int64_t sign) {
    for (std::size_t g = 0; g < c.groups.size(); ++g)
      if (IsEligible(c, g, n)) hosts[g] += sign * copies(n, g);
  };
  for (std::uint32_t n : ov_touched_) recount(n, +1);
  auto enough = [&] {
    for (std::size_t g = 0; g < c.groups.size(); ++g)
      if (hosts[g] < c.groups[g].count) return false;
    return true;
  };
  std::vector<Nomination::Slot>& plan = walk_plan_;
  std::sort(virtual_events_.begin(), virtual_events_.end(),
            [](const VirtualEvent& x, const VirtualEvent& y) { return x.time < y.time; });
  auto it = running_by_end_.begin();
  auto vit = virtual_events_.begin();
  auto apply = [&](std::uint32_t n, const ResourceVector& r, GpuSet gpus, bool release) {
    const NodeRec& node = cluster_.node(n);
    if (node.removed || node.state != NodeState::kUp) return;
    const bool fresh = ov_.size() <= n || ov_[n].stamp != ov_epoch_;
    Touch(n);
    if (!fresh) recount(n, -1);
    if (release) {
      ov_[n].free += r;
      ov_[n].released += r;
      ov_[n].gpus = ov_[n].gpus | gpus.Minus(node.unhealthy);
    } else {
      ov_[n].free -= r;
      ov_[n].released -= r;
      ov_[n].gpus = ov_[n].gpus.Minus(gpus);
    }
    recount(n, +1);
  };
  while (it != running_by_end_.end() || vit != virtual_events_.end()) {
    Timestamp batch = kInfiniteFuture;
    if (it != running_by_end_.end()) batch = std::max(now, it->first);
    if (vit != virtual_events_.end()) batch = std::min(batch, std::max(now, vit->time));
    // Everything that happens at this time.
    while (it != running_by_end_.end() && std::max(now, it->first) == batch) {
      const AttemptRec& att = attempts_[it->second];
      for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
        const TaskRec& task = tasks_[t];
        if (task.exited) continue;
        apply(task.node, classes_[att.klass].groups[task.group].per_task, task.gpus, true);
      }
      ++it;
    }
    while (vit != virtual_events_.end() && std::max(now, vit->time) == batch) {
      apply(vit->node, vit->amount, vit->gpus, vit->release);
      ++vit;
    }
    if (!enough() || !TrialPlace(c, ov_touched_, &plan)) continue;
    Reserved(j, c, batch, plan);
    return true;
  }
  NotReserved(j);
  return false;
}

// The walk above for a class of one task when no reservation was made
// earlier in the pass (only releases, no virtual events). "Enough hosts and a
// trial placement" is then "some eligible touched node fits the task", and
// the trial placement picks the best fit among the nodes that fit, the first
// touched on ties; releases only add, so a node that fits keeps fitting.
bool EngineImpl::ReserveOneTask(std::uint32_t j, const JobClass& c, Timestamp now) {
  const ResourceVector& per_task = c.groups.front().per_task;
  ++ov_epoch_;
  ov_touched_.clear();
  cluster_.set_candidate_end(kInfiniteFuture);
  cluster_.ForEachCandidate(c.eligible[0], per_task, true, [&](std::uint32_t n) {
    Touch(n);
    return true;
  });
  const bool room_now = !ov_touched_.empty();
  eligible_group_.assign(cluster_.group_count(), false);
  for (std::uint32_t g : c.eligible[0]) eligible_group_[g] = true;
  auto fits = [&](std::uint32_t n) {
    ResourceVector free = ov_[n].free;
    free.Set(kGpu, ov_[n].gpus.size());
    return per_task.FitsIn(free);
  };
  fitting_.assign(ov_touched_.begin(), ov_touched_.end());  // room now: they fit by construction
  for (auto it = running_by_end_.begin(); it != running_by_end_.end();) {
    const Timestamp batch = std::max(now, it->first);
    for (; it != running_by_end_.end() && std::max(now, it->first) == batch; ++it) {
      const AttemptRec& att = attempts_[it->second];
      const JobClass& running = classes_[att.klass];
      for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
        const TaskRec& task = tasks_[t];
        if (task.exited) continue;
        const NodeRec& node = cluster_.node(task.node);
        if (node.removed || node.state != NodeState::kUp) continue;
        Touch(task.node);
        const ResourceVector& r = running.groups[task.group].per_task;
        ov_[task.node].free += r;
        ov_[task.node].released += r;
        ov_[task.node].gpus = ov_[task.node].gpus | task.gpus.Minus(node.unhealthy);
        if (eligible_group_[node.group] && fits(task.node)) fitting_.push_back(task.node);  // repeats are harmless
      }
    }
    if (fitting_.empty()) continue;
    std::uint32_t best = kNil;
    std::int64_t best_key = 0;
    for (std::uint32_t n : fitting_) {
      const std::int64_t key = per_task.gpus() > 0 ? ov_[n].gpus.size() : ov_[n].free.cpu_millis();
      if (best == kNil || key < best_key || (key == best_key && ov_[n].order < ov_[best].order)) {
        best = n;
        best_key = key;
      }
    }
    const GpuSet gpus =
        Cluster::ChooseGpusFrom(cluster_.node(best).domains, ov_[best].gpus, static_cast<int>(per_task.gpus()));
    one_task_plan_.assign(1, {best, per_task, gpus});
    if (reservations_this_pass_ == 0 && !room_now) {
      // The runner-up: the node as good as the best touched next.
      std::uint32_t second = kNil;
      for (std::uint32_t n : fitting_) {
        const std::int64_t key = per_task.gpus() > 0 ? ov_[n].gpus.size() : ov_[n].free.cpu_millis();
        if (n != best && key == best_key && (second == kNil || ov_[n].order < ov_[second].order)) second = n;
      }
      const ReleaseOrder runner_up = second == kNil ? ReleaseOrder{kInfiniteFuture, kNil, kNil} : FirstRelease(second);
      RememberWalk(ShapeOf(jobs_[j].klass), batch, one_task_plan_, best_key, ov_[best].gpus, runner_up);
    }
    Reserved(j, c, batch, one_task_plan_);
    return true;
  }
  NotReserved(j);
  return false;
}

// A walk found `plan` at `start`: claim what must come from resources free
// now.
void EngineImpl::Reserved(std::uint32_t j, const JobClass& c, Timestamp start,
                          const std::vector<Nomination::Slot>& plan) {
  JobRec& job = jobs_[j];
  job.reserved_pass = counters_.passes;
  job.reserved_start = start;
  if (reservations_this_pass_ == 0) {  // field by field: the plan's copy reuses its vector
    last_reservation_.job = j;
    last_reservation_.start = start;
    last_reservation_.plan = plan;
  }
  ClaimReservation(c, start, plan);
  ++counters_.reservations;
}

void EngineImpl::NotReserved(std::uint32_t j) {
  if (reservations_this_pass_ != 0 || !OneTask(classes_[jobs_[j].klass])) return;
  const std::uint32_t shape = ShapeOf(jobs_[j].klass);
  for (ProvenWalk& w : proven_walks_)
    if (w.shape == shape) w.shape = kNil;
}

// Keeps a walk RepeatProvenWalk() can reason about, in place of this shape's
// previous one or of the one used longest ago.
void EngineImpl::RememberWalk(std::uint32_t shape, Timestamp start, const std::vector<Nomination::Slot>& plan,
                              std::int64_t chosen_key, GpuSet chosen_gpus, ReleaseOrder runner_up) {
  ProvenWalk* slot = &proven_walks_.front();
  for (ProvenWalk& w : proven_walks_) {
    if (w.shape == shape) {
      slot = &w;
      break;
    }
    if (w.used < slot->used) slot = &w;
  }
  slot->shape = shape;
  slot->start = start;
  slot->plan = plan;
  slot->chosen_key = chosen_key;
  slot->chosen_gpus = chosen_gpus;
  slot->runner_up = runner_up;
  SetBasis(slot);
}

}  // namespace mlsched::internal
