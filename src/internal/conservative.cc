// Conservative backfilling (reservation_depth = kReserveAll), as the
// textbook defines it (Mu'alem & Feitelson 2001): every waiting job holds a
// reservation, a start time and the resources it will use, and no job may
// start or reserve where it would delay any of them.
//
// Reservations are made in arrival order and kept from pass to pass. At each
// pass they are rebuilt in that order on a time profile of every node — what
// is free now, plus what running attempts release at their expected ends (an
// attempt past its estimate releases just after now: not yet) — each at the
// earliest time the job fits for its whole estimated runtime. This is the
// textbook's compression: when a job ends early, waiting jobs move earlier.
// A job never moves later than the reservation it held: the jobs rebuilt
// before it were placed with its old reservation in the profile, and they
// only moved earlier. A job whose reservation is now starts, on exactly the
// resources the reservation planned.
//
// A node's profile is a step function: steps sorted by time, each holding
// what is free from its time until the next step's.
#include "internal/engine_impl.h"

namespace mlsched::internal {

namespace {

// The index of the step in force at time t (steps[0].t <= t).
std::size_t StepAt(const std::vector<ProfileStep>& steps, Timestamp t) {
  auto it = std::upper_bound(steps.begin(), steps.end(), t,
                             [](Timestamp x, const ProfileStep& s) { return x < s.t; });
  return static_cast<std::size_t>(it - steps.begin()) - 1;
}

// Makes a step begin exactly at t (t >= steps[0].t); returns its index.
std::size_t SplitAt(std::vector<ProfileStep>& steps, Timestamp t) {
  const std::size_t i = StepAt(steps, t);
  if (steps[i].t == t) return i;
  ProfileStep copy = steps[i];
  copy.t = t;
  steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(i) + 1, copy);
  return i + 1;
}

// What stays free on a node throughout [start, end): the least of each
// resource and the GPUs free in every step.
void WindowOf(const std::vector<ProfileStep>& steps, Timestamp start, Timestamp end, ResourceVector* free,
              GpuSet* gpus) {
  std::size_t i = StepAt(steps, start);
  *free = steps[i].free;
  *gpus = steps[i].gpus;
  for (++i; i < steps.size() && steps[i].t < end; ++i) {
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      free->Set(kind, std::min(free->Get(kind), steps[i].free.Get(kind)));
    }
    *gpus = *gpus & steps[i].gpus;
  }
  free->Set(kGpu, gpus->size());
}

// The earliest of the node's step times in [now, bound) from which `need`
// fits on the node for `runtime`, or kInfiniteFuture. The node's room
// changes only at its steps, and a window starting at a step holds no more
// steps than one starting later in the same step: if a task fits on the
// node from some time, it fits from the start of the step in force then.
// A step short of a resource other than GPUs fails every start whose
// window holds it: the search goes on after it.
Timestamp EarliestOnNode(const std::vector<ProfileStep>& steps, const ResourceVector& need, Timestamp now,
                         Duration runtime, Timestamp bound) {
  ResourceVector scalar = need;  // the GPUs are checked as a set
  scalar.Set(kGpu, 0);
  const std::int64_t gpus_needed = need.gpus();
  for (std::size_t i = 0; i < steps.size() && steps[i].t < bound;) {
    const Timestamp t = steps[i].t;
    if (t < now) {
      ++i;
      continue;
    }
    const Timestamp end = runtime >= kInfiniteFuture - t ? kInfiniteFuture : t + runtime;
    GpuSet gpus = steps[i].gpus;
    std::size_t k = i;
    bool short_of_scalar = false, fits = true;
    for (; k < steps.size() && (k == i || steps[k].t < end); ++k) {
      if (!scalar.FitsIn(steps[k].free)) {
        short_of_scalar = true;
        fits = false;
        break;
      }
      if (k > i) gpus = gpus & steps[k].gpus;
      if (static_cast<std::int64_t>(gpus.size()) < gpus_needed) {
        fits = false;
        break;
      }
    }
    if (fits) return t;
    i = short_of_scalar ? k + 1 : i + 1;
  }
  return kInfiniteFuture;
}

}  // namespace

void EngineImpl::BuildProfiles(Timestamp now) {
  const std::uint32_t count = cluster_.node_count();
  profiles_.resize(count);
  for (std::uint32_t n = 0; n < count; ++n) {
    std::vector<ProfileStep>& steps = profiles_[n];
    steps.clear();
    const NodeRec& node = cluster_.node(n);
    if (node.removed || node.state != NodeState::kUp) continue;
    cluster_.set_candidate_end(kInfiniteFuture);
    ResourceVector free = cluster_.Available(n);
    const GpuSet gpus = cluster_.HasClaim(n) ? node.free_gpus.Minus(node.claim_gpus) : node.free_gpus;
    free.Set(kGpu, gpus.size());
    steps.push_back({now, free, gpus});
  }
  // Releases in order of expected end: each node's steps are appended in time order.
  for (const auto& [end, a] : running_by_end_) {
    const AttemptRec& att = attempts_[a];
    const Timestamp at = std::max(end, now + 1);
    for (std::uint32_t t = att.first_task; t < att.first_task + att.task_count; ++t) {
      const TaskRec& task = tasks_[t];
      if (task.exited) continue;
      std::vector<ProfileStep>& steps = profiles_[task.node];
      if (steps.empty()) continue;  // node down: nothing to plan on it
      if (steps.back().t != at) {
        ProfileStep next = steps.back();
        next.t = at;
        steps.push_back(next);
      }
      ProfileStep& s = steps.back();
      s.free += classes_[att.klass].groups[task.group].per_task;
      s.gpus = s.gpus | task.gpus.Minus(cluster_.node(task.node).unhealthy);
      s.free.Set(kGpu, s.gpus.size());
    }
  }
}

void EngineImpl::UseProfile(const std::vector<Nomination::Slot>& plan, Timestamp start, Timestamp end, bool take) {
  for (const Nomination::Slot& slot : plan) {
    std::vector<ProfileStep>& steps = profiles_[slot.node];
    const std::size_t first = SplitAt(steps, start);
    const std::size_t last = end == kInfiniteFuture ? steps.size() : SplitAt(steps, end);
    ResourceVector amount = slot.amount;
    amount.Set(kGpu, 0);
    for (std::size_t i = first; i < last; ++i) {
      if (take) {
        steps[i].free -= amount;
        steps[i].gpus = steps[i].gpus.Minus(slot.gpus);
      } else {
        steps[i].free += amount;
        steps[i].gpus = steps[i].gpus | slot.gpus;
      }
      steps[i].free.Set(kGpu, steps[i].gpus.size());
    }
  }
}

// The earliest start from now at which the job fits on every node's profile
// for its whole estimated runtime, with the plan; false if none.
bool EngineImpl::EarliestInProfile(const JobClass& c, Timestamp now, Timestamp* start,
                                   std::vector<Nomination::Slot>* plan) {
  const Duration runtime = c.estimate > 0 ? c.estimate : kInfiniteFuture;
  const bool one_task = OneTask(c) && !full_profile_scan_for_testing_;
  profile_nodes_.clear();
  profile_times_.clear();
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    for (std::uint32_t grp : c.eligible[g]) {
      for (std::uint32_t n : cluster_.group(grp).members) {
        if (profiles_[n].empty()) continue;
        profile_nodes_.push_back(n);
        if (!one_task)
          for (const ProfileStep& s : profiles_[n]) profile_times_.push_back(s.t);
      }
    }
  }
  std::sort(profile_nodes_.begin(), profile_nodes_.end());
  profile_nodes_.erase(std::unique(profile_nodes_.begin(), profile_nodes_.end()), profile_nodes_.end());
  if (ov_.size() < cluster_.node_count()) ov_.resize(cluster_.node_count());
  ResourceVector most;  // the largest single task of the job: a quick "no node at t"
  for (const TaskGroup& tg : c.groups)
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      most.Set(kind, std::max(most.Get(kind), tg.per_task.Get(kind)));
    }
  // Every node's window from t into the overlay; whether a trial placement
  // there is worth making.
  auto windows_at = [&](Timestamp t) {
    const Timestamp end = runtime >= kInfiniteFuture - t ? kInfiniteFuture : t + runtime;
    bool any = c.groups.size() > 1;
    for (std::uint32_t n : profile_nodes_) {
      WindowOf(profiles_[n], t, end, &ov_[n].free, &ov_[n].gpus);
      any |= most.FitsIn(ov_[n].free);
    }
    return any;
  };
  if (one_task) {
    // The earliest time any node fits the task is the earliest over the
    // nodes of each one's own (EarliestOnNode): no other time needs trying.
    // There the trial placement picks the node as at any time.
    Timestamp best = kInfiniteFuture;
    for (std::uint32_t n : profile_nodes_) {
      if (IsEligible(c, 0, n))
        best = std::min(best, EarliestOnNode(profiles_[n], c.groups.front().per_task, now, runtime, best));
    }
    if (best == kInfiniteFuture) return false;
    windows_at(best);
    if (TrialPlace(c, profile_nodes_, plan)) {
      *start = best;
      return true;
    }
    // (Not reached: a node fits there. Were it, every time would be tried.)
    for (std::uint32_t n : profile_nodes_)
      for (const ProfileStep& s : profiles_[n]) profile_times_.push_back(s.t);
  }
  std::sort(profile_times_.begin(), profile_times_.end());
  profile_times_.erase(std::unique(profile_times_.begin(), profile_times_.end()), profile_times_.end());
  for (const Timestamp t : profile_times_) {
    if (t < now) continue;
    if (windows_at(t) && TrialPlace(c, profile_nodes_, plan)) {
      *start = t;
      return true;
    }
  }
  return false;
}

// Whether the plan still fits the profile from start to end (nodes may have
// gone down, attempts overrun their estimates).
bool EngineImpl::PlanFitsProfile(const std::vector<Nomination::Slot>& plan, Timestamp start, Timestamp end) {
  if (ov_.size() < cluster_.node_count()) ov_.resize(cluster_.node_count());
  ++ov_epoch_;
  for (const Nomination::Slot& slot : plan) {
    const std::vector<ProfileStep>& steps = profiles_[slot.node];
    if (steps.empty()) return false;
    OverlayNode& o = ov_[slot.node];
    if (o.stamp != ov_epoch_) {  // the node's least over the window, once
      o.stamp = ov_epoch_;
      WindowOf(steps, start, end, &o.free, &o.gpus);
    }
    ResourceVector need = slot.amount;
    need.Set(kGpu, 0);
    ResourceVector have = o.free;
    have.Set(kGpu, 0);
    if (!need.FitsIn(have) || !slot.gpus.Minus(o.gpus).empty()) return false;
    o.free -= need;
    o.gpus = o.gpus.Minus(slot.gpus);
  }
  return true;
}

absl::Status EngineImpl::RunConservativePass(Timestamp now, SchedulingRound* round) {
  BuildProfiles(now);
  // Compression only when an attempt released resources before its
  // expected end; otherwise reservations stay where they are.
  const bool compress = conservative_early_release_;
  conservative_early_release_ = false;
  auto end_from = [](const JobClass& klass, Timestamp t) {
    const Duration runtime = klass.estimate > 0 ? klass.estimate : kInfiniteFuture;
    return runtime >= kInfiniteFuture - t ? kInfiniteFuture : t + runtime;
  };
  // Jobs no longer queued (started, cancelled, requeued under a new ticket)
  // drop out; the others' reservations go into the profile where they are,
  // as long as they still fit there.
  std::size_t w = 0;
  for (std::size_t i = 0; i < conservative_.size(); ++i) {
    ConservativeEntry& e = conservative_[i];
    if (!queue_.Contains(e.job) || conservative_ticket_[e.job] != e.ticket) continue;
    JobClass& klass = classes_[jobs_[e.job].klass];
    if (klass.checked_capacity != cluster_.capacity_version())
      RefreshClass(klass);
    const Timestamp end = end_from(klass, e.start);
    e.reserved = e.reserved && !klass.infeasible && e.start >= now && PlanFitsProfile(e.plan, e.start, end);
    if (e.reserved) UseProfile(e.plan, e.start, end, /*take=*/true);
    if (w != i) conservative_[w] = std::move(e);
    ++w;
  }
  conservative_.resize(w);
  // In arrival order: a job without a reservation (new, or whose one no
  // longer fits) takes the earliest; with compression every job gives its
  // up and takes the earliest again, beside everyone else's.
  w = 0;
  for (std::size_t i = 0; i < conservative_.size(); ++i) {
    ConservativeEntry& e = conservative_[i];
    const std::uint32_t j = e.job;
    JobRec& job = jobs_[j];
    JobClass& klass = classes_[job.klass];
    klass.wait_pass = counters_.passes;
    klass.wait_time = now;
    klass.wait = {.code = WaitInfo::Code::kNoRoom};
    if (!e.reserved || compress) {
      if (e.reserved) UseProfile(e.plan, e.start, end_from(klass, e.start), /*take=*/false);
      const bool had = e.reserved;
      const Timestamp before = e.start;
      e.reserved = !klass.infeasible && EarliestInProfile(klass, now, &e.start, &e.plan);
      if (e.reserved) {
        UseProfile(e.plan, e.start, end_from(klass, e.start), /*take=*/true);
        if (e.start > now && (!had || e.start != before)) ++counters_.reservations;
      }
    }
    if (!e.reserved) {  // never fits (or runs forever behind jobs that do too): waits without a reservation
      if (w != i) conservative_[w] = std::move(e);
      ++w;
      continue;
    }
    if (e.start == now && tenant_keyed_ && !tenants_.Admits(job.tenant, klass.total, cluster_.total(), &klass.wait.quota))
      klass.wait.code = WaitInfo::Code::kQuota;
    if (e.start == now && klass.wait.code != WaitInfo::Code::kQuota) {
      // Its time has come: start on exactly the planned resources.
      tentative_.clear();
      std::uint32_t flat = 0;
      std::size_t g = 0;
      int in_group = 0;
      for (const Nomination::Slot& slot : e.plan) {
        while (in_group == klass.groups[g].count) {
          ++g;
          in_group = 0;
        }
        cluster_.Allocate(slot.node, slot.amount, slot.gpus);
        tentative_.push_back({slot.node, slot.gpus, static_cast<std::uint16_t>(g), flat++, {}});
        ++in_group;
      }
      MLSCHED_RETURN_IF_ERROR(Commit(j, now, round));
      continue;
    }
    job.reserved_pass = counters_.passes;
    job.reserved_start = e.start;
    if (w != i) conservative_[w] = std::move(e);
    ++w;
  }
  conservative_.resize(w);
  return absl::OkStatus();
}

}  // namespace mlsched::internal
