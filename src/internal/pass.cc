// One scheduling pass.
//
// 1. Nominated preemptors go first: they start if the room made for them is
//    there, else their room stays claimed.
// 2. The rest goes in policy order. Without fair share: the heap of class
//    heads by effective priority. With fair share: from the root of the tenant
//    tree, repeatedly the child with the lowest weighted dominant share (a heap
//    per tenant), down to a leaf, whose heap of class heads gives the job.
//    After a start, the started tenant's path is re-keyed (its share grew);
//    a class that cannot start leaves its leaf's heap, and a tenant with no
//    class left leaves its parent's heap. A leaf's heap is built when the
//    pass first reaches the leaf: the pass usually stops long before it has
//    been through every leaf, and no class of a leaf changes before.
//    A class that can neither start a job nor search for victims enters a
//    heap only if it is among the first blocked ones (of the leaf, with fair
//    share), which take the reservations: the others would only be marked
//    blocked again (see the marking loop).
// 3. Each job is checked against its tenants' quotas, then placed (all tasks
//    or none) on the free capacity less the claims of reservations and
//    nominations it could run into.
// 4. A blocked job may preempt (policy/preemption.h); otherwise the first
//    `reservation_depth` blocked jobs get backfill reservations
//    (policy/backfill.h), which later jobs must respect.
#include "internal/engine_impl.h"

namespace mlsched::internal {

namespace {

auto ClassHeadLower = [](const QueueHead& a, const QueueHead& b) { return b.Before(a); };

}  // namespace

absl::Status EngineImpl::RunPass(Timestamp now, SchedulingRound* round) {
  const std::uint64_t pass = counters_.passes;
  const bool fair = options_.policies.fair_share.has_value();
  // Nodes where a class blocked last pass could now find room: those whose
  // free capacity grew, and those whose claims of last pass are gone.
  cluster_.TakeGrown(&grown_);
  released_since_last_pass_ = !grown_.empty();
  cluster_.ClearClaims();
  for (std::uint32_t n : cluster_.previously_claimed()) grown_.push_back(n);
  RecomputeGrownMax();
  reservations_this_pass_ = 0;
  virtual_events_.clear();
  preemptors_this_pass_ = 0;
  const ResourceVector capacity = cluster_.total();
  if (fair) tenants_.ComputeShares(now, capacity);

  if (!nominations_.empty()) MLSCHED_RETURN_IF_ERROR(PlaceNominated(now, round));
  if (conservative()) return RunConservativePass(now, round);

  // Build the selection structure: the heap of class heads, or with fair
  // share the tenants that have a class (leaf heaps come later).
  heap_.clear();
  queue_.TakeActivated(&activated_scratch_);
  if (fair) {
    leaf_heaps_.resize(tenants_.size());
    child_heaps_.resize(tenants_.size());
    leaf_pass_.resize(tenants_.size(), 0);
    leaf_heap_built_.resize(tenants_.size(), 0);
    tenant_classes_.resize(tenants_.size());
    for (; classes_by_tenant_ < classes_.size(); ++classes_by_tenant_) {
      if (class_use_[classes_by_tenant_].jobs == 0) continue;  // unused, or freed: listed when it has jobs again
      JobClass& k = classes_[classes_by_tenant_];
      tenant_classes_[k.tenant].push_back(static_cast<std::uint32_t>(classes_by_tenant_));
      k.listed_by_tenant = true;
    }
    // A tenant's list holds its classes with queued jobs (emptied ones are
    // dropped when its heap is built): put back those that have jobs again.
    for (std::uint32_t c : activated_scratch_) {
      JobClass& k = classes_[c];
      if (k.listed_by_tenant || queue_.ClassSize(c) == 0) continue;
      k.listed_by_tenant = true;
      tenant_classes_[k.tenant].push_back(c);
    }
    for (auto& h : child_heaps_) h.clear();
  }
  // Candidates: classes that might start a job. The others were blocked for
  // want of room last pass and no node where they could fit has grown; they
  // matter only for which blocked jobs reserve or search for victims, so the
  // pass stops once candidates and those budgets are used up.
  const std::optional<BackfillOptions>& backfill = options_.policies.backfill;
  const std::optional<PreemptionOptions>& preemption = options_.policies.preemption;
  std::int64_t candidates_left = 0, searchable_left = 0;
  std::int64_t in_walk = 0;  // classes marked and not yet out of the walk (handled, or out of jobs)
  preempt_wakeup_ = kInfiniteFuture;
  // When a job whose search found nothing may search again even if no new
  // victim appears: the end of its backoff and of the minute.
  auto retry_time = [](const JobRec& job) { return std::max(job.preempt_retry_at, job.preempt_failed_at + kMinute); };
  // A search is blocked by its memo while backing off, or within a minute of
  // a fruitless one while no possible victim has started since. Whether the
  // job could reclaim is worked out only when the answer depends on it.
  // While the classes are marked nothing starts or ends: the room a search
  // by priority could find is worked out once for all of them.
  std::optional<PreemptionRoom> marking_room;
  auto may_search = [&](const JobRec& job, const JobClass& klass) {
    auto could_by_priority = [&] {
      if (marking_room) return CouldPreemptByPriority(job, klass, *marking_room);
      return CouldPreemptByPriority(job, klass, RoomByPriority());
    };
    if (!preemption || job.nominated) return false;
    if (now < job.preempt_retry_at) {
      preempt_wakeup_ = std::min(preempt_wakeup_, retry_time(job));
      return false;
    }
    const bool recent = now < job.preempt_failed_at + kMinute;
    if (!recent && could_by_priority()) return true;
    const bool reclaim = preemption->reclaim && tenants_.WithinGuarantee(job.tenant, klass.total);
    if (recent && job.preempt_failed_version == VictimVersion(job, reclaim)) {
      preempt_wakeup_ = std::min(preempt_wakeup_, retry_time(job));
      return false;
    }
    return reclaim || could_by_priority();
  };
  // Every class in the running is marked evaluated now, as if left blocked;
  // a class the pass handles gets its new wait (same pass and time), one
  // that runs out of jobs is unmarked (its next jobs are tried afresh), and
  // the skipped count loses one per job started or tried. Whether it was
  // blocked last pass is kept first: StillBlocked() asks that.
  active_leaves_.clear();
  for (std::uint32_t shape : shapes_touched_) shape_candidates_[shape].clear();
  shapes_touched_.clear();
  // Only classes with queued jobs: O(classes with work), however many
  // classes were ever made (with backfill, every distinct time limit).
  const std::span<const std::uint32_t> active = queue_.active_classes();
  if (preemption) marking_room = RoomByPriority();
  // Written by index (it only grows; candidate_count says how much is this pass's).
  if (candidate_classes_.size() < active.size()) candidate_classes_.resize(active.size());
  std::size_t candidate_count = 0;
  // A class that can neither start a job nor search for victims (blocked
  // last pass, no room grew where it fits; no search allowed) matters to the
  // pass only if it is among the first blocked classes in order, which take
  // the reservations (one under EASY) or, under strict order, end the pass.
  // The others would be popped and left with the marks the marking gives
  // them: they stay out of the heaps, which hold the candidates, the classes
  // that may search, those with a nominated head and the first
  // `keep_blocked` of the rest (with fair share, of each tenant: its classes
  // come in its heap's order). With many classes queued (every distinct
  // runtime estimate is one), that spares building and walking heaps of
  // them all. Exact only while such a class cannot come to start, search or
  // be told it is over quota later in the pass: not with borrowing or
  // lending limits (a blocked class over quota does not reserve, so it could
  // not stand in for one), nor under preemption with guarantees (a start may
  // change who may reclaim), and under preemption only for a class whose
  // search could not turn (search_could_turn).
  constexpr std::size_t kMostKeptBlocked = 16;
  const std::size_t keep_blocked =
      backfill ? static_cast<std::size_t>(backfill->reservation_depth) : options_.policies.strict_order ? 1 : 0;
  const bool leave_out_blocked = !full_pass_walk_for_testing_ && keep_blocked <= kMostKeptBlocked &&
                                 !tenants_.has_limits() && (!preemption || !tenants_.has_guarantees());
  // Whether the no of may_search() for a class could turn into a yes later
  // in the pass. The room a search by priority counts never grows in a pass,
  // but a start of a preemptible job turns free GPUs into evictable ones,
  // which count for the classes above it, and moves VictimVersion(), which
  // lifts a memo of a fruitless search. Neither helps a job backing off, a
  // low-class job, or a job the room above the low class cannot hold; and
  // neither happens while no queued job is preemptible. A nominated head
  // does not reserve: it is kept too.
  auto search_could_turn = [&](const JobRec& job, const JobClass& klass, const PreemptionRoom& room) {
    if (job.nominated) return true;
    if (now < job.preempt_retry_at || queued_preemptible_ == 0 || !preemption->priority) return false;
    if (job.priority_class == PriorityClass::kLow) return false;
    const std::int64_t gpus = klass.total.gpus();
    return gpus == 0 || room[static_cast<std::size_t>(job.priority_class)] >= gpus;
  };
  first_blocked_.clear();
  // Keeps `h` if it is among the first keep_blocked heads seen (sorted, best first).
  auto keep_if_first = [&](const QueueHead& h) {
    if (first_blocked_.size() == keep_blocked) {
      if (keep_blocked == 0 || !h.Before(first_blocked_.back())) return;
      first_blocked_.pop_back();
    }
    auto at = std::upper_bound(first_blocked_.begin(), first_blocked_.end(), h,
                               [](const QueueHead& a, const QueueHead& b) { return a.Before(b); });
    first_blocked_.insert(at, h);
  };
  for (std::size_t i = 0; i < active.size(); ++i) {
    const std::uint32_t c = active[i];
    // The loop waits mostly on the classes' first cache lines (and second,
    // with preemption) and the head jobs' records, far apart in memory: ask
    // for them a few classes ahead.
    constexpr std::size_t kAhead = 8;
    if (i + kAhead < active.size()) {
      __builtin_prefetch(&jobs_[queue_.HeadJob(active[i + kAhead], now)]);
      const JobClass& ahead = classes_[active[i + kAhead]];
      __builtin_prefetch(&ahead);
      if (preemption) __builtin_prefetch(&ahead.total);  // may_search reads it
    }
    const std::size_t size = queue_.ClassSize(c);
    JobClass& klass = classes_[c];
    if (klass.checked_capacity != cluster_.capacity_version())
      RefreshClass(klass);
    if (klass.infeasible) continue;
    klass.blocked_last_pass = klass.wait_pass + 1 == pass && (klass.wait.code == WaitInfo::Code::kNoRoom ||
                                                              klass.wait.code == WaitInfo::Code::kTopology);
    klass.wait_pass = pass;
    klass.wait_time = now;
    counters_.skipped_by_class += static_cast<std::int64_t>(size);
    klass.candidate = !StillBlocked(klass);
    const JobRec& head_job = jobs_[queue_.HeadJob(c, now)];
    klass.searchable = may_search(head_job, klass);
    klass.settled = false;
    klass.started = false;
    klass.left_out = leave_out_blocked && !klass.candidate && !klass.searchable &&
                     (!preemption || !search_could_turn(head_job, klass, *marking_room));
    ++in_walk;
    if (klass.candidate) candidate_classes_[candidate_count++] = c;
    candidates_left += klass.candidate;
    searchable_left += klass.searchable;
    if (!fair) {
      const QueueHead h = *queue_.Head(c, now);
      if (klass.left_out) {
        keep_if_first(h);
      } else {
        heap_.push_back(h);
      }
    } else if (leaf_pass_[klass.tenant] != pass) {
      leaf_pass_[klass.tenant] = pass;
      active_leaves_.push_back(klass.tenant);
    }
  }
  marking_room.reset();
  const std::span<const std::uint32_t> pass_candidates(candidate_classes_.data(), candidate_count);
  auto share_greater = [this](std::uint32_t a, std::uint32_t b) {
    const double sa = tenants_.at(a).share, sb = tenants_.at(b).share;
    return sa != sb ? sa > sb : a > b;
  };
  // Active tenants: leaves in active_leaves_, and their ancestors.
  auto build_child_heaps = [&] {
    for (std::uint32_t t : active_leaves_) {
      for (std::uint32_t x = t;;) {
        const std::uint32_t p = tenants_.at(x).parent;
        const bool parent_was_empty = child_heaps_[p].empty();
        child_heaps_[p].push_back(x);
        if (p == kRootTenant || !parent_was_empty) break;
        x = p;
      }
    }
    for (auto& h : child_heaps_) std::make_heap(h.begin(), h.end(), share_greater);
  };
  if (fair) {
    build_child_heaps();  // leaves with a class in the running
  } else {
    counters_.classes_left_out += static_cast<std::int64_t>(in_walk - heap_.size() - first_blocked_.size());
    heap_.insert(heap_.end(), first_blocked_.begin(), first_blocked_.end());
    in_walk = static_cast<std::int64_t>(heap_.size());
    std::make_heap(heap_.begin(), heap_.end(), ClassHeadLower);
  }

  // With fair share, after the leaf's heap lost its top: walk up. After a
  // start (`advance`) the path's shares grew: re-key the tenant in its
  // parent's heap (it is the top there). After a block shares are as they
  // were: only a tenant left with nothing (`empty`) leaves its parent's heap.
  std::uint32_t leaf = kRootTenant;
  auto leave_parent_heaps = [&](bool advance, bool empty) {
    for (std::uint32_t t = leaf; t != kRootTenant; t = tenants_.at(t).parent) {
      if (!advance && !empty) break;
      auto& ph = child_heaps_[tenants_.at(t).parent];
      std::pop_heap(ph.begin(), ph.end(), share_greater);
      ph.pop_back();
      if (!empty) {
        ph.push_back(t);
        std::push_heap(ph.begin(), ph.end(), share_greater);
      }
      empty = ph.empty();
    }
  };
  // Next job in policy order, or false when every class is blocked.
  auto next = [&](QueueHead* out) {
    if (!fair) {
      if (heap_.empty()) return false;
      *out = heap_.front();
      return true;
    }
    for (;;) {  // (again when a leaf has only classes left out)
      std::uint32_t t = kRootTenant;
      while (true) {
        if (child_heaps_[t].empty()) return false;
        t = child_heaps_[t].front();
        if (tenants_.at(t).leaf() || leaf_pass_[t] == pass) break;
      }
      leaf = t;
      std::vector<QueueHead>& h = leaf_heaps_[t];
      if (leaf_heap_built_[t] != pass) {
        leaf_heap_built_[t] = pass;
        h.clear();
        first_blocked_.clear();
        std::vector<std::uint32_t>& list = tenant_classes_[t];
        std::size_t keep = 0;
        for (std::uint32_t c : list) {
          if (queue_.ClassSize(c) == 0) {  // dropped: a pass costs O(classes with work)
            classes_[c].listed_by_tenant = false;
            FreeClassIfEvicted(c);
            continue;
          }
          list[keep++] = c;
          if (classes_[c].infeasible) continue;
          if (classes_[c].left_out) {
            keep_if_first(*queue_.Head(c, now));
            --in_walk;
            ++counters_.classes_left_out;
            continue;
          }
          h.push_back(*queue_.Head(c, now));
          __builtin_prefetch(&jobs_[h.back().job]);  // the pass reads it soon
        }
        list.resize(keep);
        in_walk += static_cast<std::int64_t>(first_blocked_.size());
        counters_.classes_left_out -= static_cast<std::int64_t>(first_blocked_.size());
        h.insert(h.end(), first_blocked_.begin(), first_blocked_.end());
        std::make_heap(h.begin(), h.end(), ClassHeadLower);
        if (h.empty()) {  // every class of the leaf was left out: on to the next tenant
          leave_parent_heaps(/*advance=*/false, /*empty=*/true);
          continue;
        }
      }
      *out = h.front();
      return true;
    }
  };
  // The head at the top was handled: replace it with the class's next job
  // (`advance`) or drop the class. With fair share, re-key the leaf's path.
  auto done_with_head = [&](const QueueHead& head, bool advance) {
    std::vector<QueueHead>& h = fair ? leaf_heaps_[leaf] : heap_;
    std::pop_heap(h.begin(), h.end(), ClassHeadLower);
    h.pop_back();
    std::optional<QueueHead> n;
    if (advance && (n = queue_.Head(head.klass, now))) {
      h.push_back(*n);
      std::push_heap(h.begin(), h.end(), ClassHeadLower);
    } else {
      --in_walk;
    }
    if (fair) leave_parent_heaps(advance, h.empty());
  };

  // The class of the head just handled will not come back in this pass.
  auto class_done = [&](JobClass& klass) {
    candidates_left -= klass.candidate;
    searchable_left -= klass.searchable;
    klass.candidate = klass.searchable = false;
  };
  // A class found no room for a single task of its first group (a one-task
  // class that did not fit, or a gang none of whose tasks fits). Room only
  // shrinks during a pass (starts, reservations and nominations take it;
  // nothing is released), and a longer estimate can only meet more
  // reservations' claims, so every candidate of the same shape (same task
  // requests and eligible nodes; one task or a gang of any size) whose
  // estimate is no shorter fails too: they stop being candidates at once,
  // with the same wait, and are never tried — the pass need not walk to
  // them. Each candidate is settled at most once a pass.
  // The candidates by shape are listed at the first failure of the pass,
  // from the classes still candidates then: after an exit most candidates
  // stop being ones at the first start, and many passes have no failure.
  bool shapes_listed = false;
  auto settle_same_shape = [&](const JobClass& failed, const WaitInfo& why) {
    if (!shapes_listed) {
      shapes_listed = true;
      ListCandidatesByShape(pass_candidates);
    }
    const std::uint32_t shape = failed.shape;
    if (shape >= shape_candidates_.size()) return;
    // One sweep: settle those no shorter, keep the shorter ones still in the
    // running. Later failures of the shape have shorter estimates (longer
    // ones are settled), so the list only shrinks.
    std::vector<std::uint32_t>& list = shape_candidates_[shape];
    const Duration bound = EstimateOrder(failed);
    std::size_t keep = 0;
    for (std::uint32_t c : list) {
      JobClass& other = classes_[c];
      if (!other.candidate) continue;  // tried already, or no longer a candidate
      if (&other == &failed || EstimateOrder(other) < bound) {
        list[keep++] = c;
        continue;
      }
      other.candidate = false;
      --candidates_left;
      other.settled = true;
      other.wait = why;
    }
    list.resize(keep);
  };
  auto nothing_left_to_decide = [&] {
    if (candidates_left > 0) return false;
    if (backfill && reservations_this_pass_ < static_cast<std::uint32_t>(backfill->reservation_depth)) return false;
    if (preemption && searchable_left > 0 &&
        preemptors_this_pass_ < static_cast<std::uint32_t>(preemption->max_preemptors_per_pass))
      return false;
    return true;
  };
  // Whether only victim searches are left to decide: no candidate to start,
  // no reservation to make; and whether a head marked unable to search still
  // may not. Starts in the pass never add to the room a search by priority
  // could find (free GPUs become the started job's). But a start that is a
  // possible victim moves VictimVersion() and may lift a job's memo of a
  // fruitless search; a start in the job's tenant may end its claim to
  // reclaim (which also moves the version it is remembered under); and a
  // class that started a job has a new head, marked for none. (Not under
  // strict order, where the first blocked job ends the pass.)
  auto victim_versions = [&] { return victim_version_[0] + victim_version_[1] + victim_version_[2] + victim_version_[3]; };
  const std::uint64_t marked_victim_versions = victim_versions();
  auto searches_only = [&] {
    return candidates_left == 0 && !options_.policies.strict_order &&
           (!backfill || reservations_this_pass_ >= static_cast<std::uint32_t>(backfill->reservation_depth)) &&
           victim_versions() == marked_victim_versions;
  };
  // Once no reservation and no victim search is left to make, a class that
  // cannot start has nothing left to do in the pass: handling it would mark
  // it blocked as the marking did. The walk then goes on over the candidates
  // alone, in the same order (a blocked class changes no share and takes no
  // room), instead of popping every blocked class ahead of them; the others
  // keep their marks, like classes the pass does not reach. With many
  // classes (every distinct runtime estimate is one) that is most of a
  // pass. Exact only while a passed-over class cannot come to search later
  // in the pass: when the searches are used up, or none is marked and no
  // start can change that (no queued job is preemptible, so no start adds a
  // possible victim or moves VictimVersion(); no guarantees, so no start or
  // eviction changes who may reclaim). Not under strict order (the first
  // blocked job ends the pass), nor with borrowing or lending limits (a
  // handled class would be told it is over quota). Once a pass: the
  // budgets only run down. Worth its rebuild only when a few blocked
  // classes are left in the walk.
  constexpr std::int64_t kFewestPassedOver = 8;
  bool candidates_only = false;
  auto only_candidates_matter = [&] {
    if (candidates_only || candidates_left == 0 || options_.policies.strict_order || full_pass_walk_for_testing_)
      return false;
    if (in_walk < candidates_left + kFewestPassedOver) return false;
    if (backfill && reservations_this_pass_ < static_cast<std::uint32_t>(backfill->reservation_depth)) return false;
    if (tenant_keyed_ && tenants_.has_limits()) return false;
    return !preemption ||
           preemptors_this_pass_ >= static_cast<std::uint32_t>(preemption->max_preemptors_per_pass) ||
           (searchable_left == 0 && queued_preemptible_ == 0 && !tenants_.has_guarantees());
  };
  auto keep_candidates_only = [&] {
    candidates_only = true;
    ++counters_.candidate_walks;
    if (!fair) {
      heap_.clear();
      for (std::uint32_t c : pass_candidates)
        if (classes_[c].candidate) heap_.push_back(*queue_.Head(c, now));
      std::make_heap(heap_.begin(), heap_.end(), ClassHeadLower);
      return;
    }
    for (auto& h : child_heaps_) h.clear();
    for (std::uint32_t c : pass_candidates)
      if (classes_[c].candidate) leaf_heaps_[classes_[c].tenant].clear();
    active_leaves_.clear();
    for (std::uint32_t c : pass_candidates) {
      if (!classes_[c].candidate) continue;
      const std::uint32_t t = classes_[c].tenant;
      std::vector<QueueHead>& h = leaf_heaps_[t];
      if (h.empty()) active_leaves_.push_back(t);
      h.push_back(*queue_.Head(c, now));
      leaf_heap_built_[t] = pass;
    }
    for (std::uint32_t t : active_leaves_) std::make_heap(leaf_heaps_[t].begin(), leaf_heaps_[t].end(), ClassHeadLower);
    build_child_heaps();
  };
  QueueHead head;
  // Checked where the budgets change: before the walk and after a blocked
  // head (reservations and searches are made there).
  if (only_candidates_matter()) keep_candidates_only();
  while (!nothing_left_to_decide() && next(&head)) {
    JobClass& klass = classes_[head.klass];
    JobRec& job = jobs_[head.job];
    // (Reclaim needs guarantees, so classes are per tenant when it can apply:
    // the class's tenant is its jobs'.)
    if (!full_pass_walk_for_testing_ && !klass.searchable && !klass.candidate && !klass.started && searches_only() &&
        (!tenant_keyed_ || klass.tenant >= tenant_started_pass_.size() || tenant_started_pass_[klass.tenant] != pass)) {
      // It can neither start nor search: passed over like a class the pass
      // does not reach (its marks stand), on the way to one that may search.
      done_with_head(head, /*advance=*/false);
      continue;
    }
    WaitInfo wait;
    // Quotas first: a job over quota neither starts nor reserves nor preempts.
    if (tenant_keyed_ && !tenants_.Admits(job.tenant, klass.total, capacity, &wait.quota)) {
      wait.code = WaitInfo::Code::kQuota;
    } else {
      bool placed = false;
      if (klass.settled || StillBlocked(klass)) {
        wait = klass.wait;  // no room appeared where it could use it: no attempt needed
      } else {
        cluster_.set_candidate_end(klass.estimate > 0 ? now + klass.estimate : kInfiniteFuture);
        placed = TryPlace(head.job, klass, &wait);
        // (A gang that must stay in one domain tried only the tightest one.)
        if (!placed && wait.code == WaitInfo::Code::kNoRoom && wait.group == 0 && wait.task == 0 &&
            (OneTask(klass) || !klass.constraints.topology.required))
          settle_same_shape(klass, wait);
      }
      if (placed) {
        MLSCHED_RETURN_IF_ERROR(Commit(head.job, now, round));
        klass.started = true;
        if (job.tenant >= tenant_started_pass_.size()) tenant_started_pass_.resize(tenants_.size(), 0);
        tenant_started_pass_[job.tenant] = pass;
        --counters_.skipped_by_class;
        done_with_head(head, /*advance=*/true);
        if (queue_.ClassSize(head.klass) == 0) {
          klass.wait_pass = 0;
          class_done(klass);
        }
        // The start took room on grown nodes: some candidates may have none
        // left. Worth it only when few nodes grew (after an exit, not when a
        // whole cluster was added).
        if (candidates_left > 0 && !grown_.empty() && grown_.size() <= 64) {
          RecomputeGrownMax();
          for (std::uint32_t c : pass_candidates) {
            JobClass& other = classes_[c];
            if (other.candidate && &other != &klass && StillBlocked(other)) {
              other.candidate = false;
              --candidates_left;
            }
          }
        }
        continue;
      }
      cluster_.set_candidate_end(kInfiniteFuture);
      bool handled = false;
      // A victim search costs a scan of the eligible nodes: at most
      // max_preemptors_per_pass per pass, and a job whose search failed does
      // not search again until a possible victim started or a minute passed.
      if (preemptors_this_pass_ < (preemption ? static_cast<std::uint32_t>(preemption->max_preemptors_per_pass) : 0) &&
          may_search(job, klass)) {
        victim_search_ran_ = false;
        handled = TryPreempt(head.job, klass, now, round);
        preemptors_this_pass_ += victim_search_ran_;  // cheap rejections do not count
        if (!handled) {
          job.preempt_failed_version =
              VictimVersion(job, preemption->reclaim && tenants_.WithinGuarantee(job.tenant, klass.total));
          job.preempt_failed_at = now;
          // Back off: 10 s, doubling, at most 5 min between fruitless searches.
          const int shift = std::min<int>(job.preempt_failures, 5);
          job.preempt_retry_at = now + std::min<Duration>(5 * kMinute, (10 * kSecond) << shift);
          if (job.preempt_failures < 255) ++job.preempt_failures;
          preempt_wakeup_ = std::min(preempt_wakeup_, retry_time(job));
        }
      }
      // EASY and deeper: the first `reservation_depth` blocked jobs try to
      // reserve; one that cannot (no estimates to go by) uses up its turn.
      // A nominated job already has its room: it does not use up the turn.
      if (!handled && !job.nominated && backfill &&
          reservations_this_pass_ < static_cast<std::uint32_t>(backfill->reservation_depth)) {
        Reserve(head.job, klass, now);
        ++reservations_this_pass_;
      }
    }
    klass.wait = wait;
    --counters_.skipped_by_class;
    class_done(klass);
    done_with_head(head, /*advance=*/false);
    if (only_candidates_matter()) keep_candidates_only();
    if (options_.policies.strict_order && wait.code != WaitInfo::Code::kQuota) {
      // FCFS: nobody overtakes a blocked job. Classes not reached though room
      // grew for them are evaluated afresh next pass, not assumed blocked.
      for (std::uint32_t c : pass_candidates) {
        JobClass& other = classes_[c];
        if (other.candidate && &other != &klass) other.wait_pass = 0;
      }
      break;
    }
  }
  // Whatever is left stays blocked as it was last pass (marked above).
  cluster_.set_candidate_end(kInfiniteFuture);
  return absl::OkStatus();
}

void EngineImpl::ListCandidatesByShape(std::span<const std::uint32_t> classes) {
  for (std::uint32_t c : classes) {
    if (!classes_[c].candidate) continue;
    const std::uint32_t shape = ShapeOf(c);
    if (shape >= shape_candidates_.size()) shape_candidates_.resize(shape + 1);
    if (shape_candidates_[shape].empty()) shapes_touched_.push_back(shape);
    shape_candidates_[shape].push_back(c);
  }
}

void EngineImpl::RecomputeGrownMax() {
  // The most of each kind any grown node has free: a quick "still blocked";
  // and the grown up nodes' groups and free resources, compactly.
  ++grown_version_;
  grown_max_free_ = {};
  grown_info_.clear();
  for (std::uint32_t n : grown_) {
    const NodeRec& node = cluster_.node(n);
    if (node.removed || node.state != NodeState::kUp) continue;
    grown_info_.push_back({node.group, node.free});
    for (int k = 0; k < kMaxResourceKinds; ++k) {
      const ResourceKind kind(static_cast<std::uint8_t>(k));
      grown_max_free_.Set(kind, std::max(grown_max_free_.Get(kind), node.free.Get(kind)));
    }
  }
}

std::uint64_t EngineImpl::VictimVersion(const JobRec& job, bool reclaim) const {
  std::uint64_t v = 0;
  for (int k = 0; k < static_cast<int>(job.priority_class); ++k) v += victim_version_[k];
  if (reclaim) v += victim_version_[3] * 1'000'003;
  return v;
}

EngineImpl::PreemptionRoom EngineImpl::RoomByPriority() const {
  PreemptionRoom room;
  std::int64_t gpus = cluster_.fragmentation().free_gpus;
  for (std::size_t k = 0; k < room.size(); ++k) {
    room[k] = gpus;
    gpus += evictable_gpus_[k];
  }
  return room;
}

bool EngineImpl::ShapeFitsGrown(const JobClass& c) {
  const std::uint32_t shape = c.shape;
  bool fits = false;
  for (std::size_t g = 0; g < c.groups.size() && !fits; ++g) {
    const ResourceVector& per_task = c.groups[g].per_task;
    if (!per_task.FitsIn(grown_max_free_)) continue;
    const auto& eligible = c.eligible[g];
    for (const GrownNode& info : grown_info_) {
      if (per_task.FitsIn(info.free) && std::find(eligible.begin(), eligible.end(), info.group) != eligible.end()) {
        fits = true;
        break;
      }
    }
  }
  shape_grown_version_[shape] = grown_version_;
  shape_fits_grown_[shape] = fits;
  return fits;
}

// Classes of one shape have the same task requests and, once refreshed, the
// same eligible node groups: they differ only in tenant, runtime estimate
// and topology. Numbered on first use.
std::uint32_t EngineImpl::NumberShape(const JobClass& c) {
  // By a hash of the shape (no key is built; internal/hash_chain.h), against
  // each shape's first class. Classes keep GPU models sorted.
  std::size_t h = absl::HashOf(c.constraints.gpu_models, c.constraints.node_labels, c.groups.size());
  for (const TaskGroup& g : c.groups) h = absl::HashOf(h, g.per_task);
  const auto [shape, added] = shape_index_.FindOrAdd(h, [&](std::uint32_t s) {
    const JobClass& rep = *shape_first_class_[s];
    return std::equal(rep.groups.begin(), rep.groups.end(), c.groups.begin(), c.groups.end(),
                      [](const TaskGroup& a, const TaskGroup& b) { return a.per_task == b.per_task; }) &&
           rep.constraints.gpu_models == c.constraints.gpu_models &&
           rep.constraints.node_labels == c.constraints.node_labels;
  });
  if (!added) return c.shape = shape;
  shape_first_class_.push_back(&c);
  c.numbers_shape = true;  // kept while it represents the shape
  shape_grown_version_.push_back(~std::uint64_t{0});  // not computed yet
  shape_fits_grown_.push_back(false);
  return c.shape = shape;
}

}  // namespace mlsched::internal
