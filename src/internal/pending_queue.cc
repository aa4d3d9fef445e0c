#include "internal/pending_queue.h"

#include <algorithm>

namespace mlsched::internal {

Timestamp PendingQueue::CapTime(Timestamp enq) const {
  if (aging_.points_per_hour <= 0) return kInfiniteFuture;
  // Smallest t with rate * (t - enq) >= cap * H.
  const Wide need = Wide(aging_.cap) * kHour;
  const Wide wait = (need + aging_.points_per_hour - 1) / aging_.points_per_hour;
  const Wide at = Wide(enq) + wait;
  return at >= Wide(kInfiniteFuture) ? kInfiniteFuture : static_cast<Timestamp>(at);
}

void PendingQueue::Insert(Side& side, const QueueKey& k) {
  if (!side.top.present) {
    side.top = TopOf(k);
  } else if (QueueKeyOrder{}(k, side.top.key)) {  // the new first
    side.rest.insert(side.top.key);
    side.top = TopOf(k);
  } else {
    side.rest.insert(k);
  }
}

void PendingQueue::Erase(Side& side, const QueueKey& k) {
  if (side.top.key.job != k.job) {
    side.rest.erase(k);
  } else if (side.rest.empty()) {  // the common case: the class's only job started
    side.top = Top{};
  } else {
    side.top = TopOf(*side.rest.begin());
    side.rest.erase(side.rest.begin());
  }
}

void PendingQueue::Push(std::uint32_t job, std::uint32_t klass, std::int64_t base, Timestamp enq,
                        Timestamp now) {
  while (entries_.size() <= job) entries_.emplace_back();
  if (classes_.size() <= klass) {
    classes_.resize(klass + 1);
    briefs_.resize(klass + 1);
  }
  Entry& e = entries_[job];
  if (e.queued) Remove(job);
  e = {.base = base, .enq = enq, .klass = klass, .queued = true, .capped = false};
  const Timestamp cap_at = CapTime(enq);
  if (cap_at <= now) {
    e.capped = true;
    Insert(classes_[klass].capped, CappedKey(job, e));
  } else {
    Insert(classes_[klass].uncapped, UncappedKey(job, e));
    if (cap_at != kInfiniteFuture)
      cap_events_.Push({cap_at, job}, [this](const CapEvent& ev) { return !CapEventLive(ev); });
  }
  Sync(klass);
  ++size_;
  Activate(klass);
}

void PendingQueue::Activate(std::uint32_t klass) {
  Class& c = classes_[klass];
  if (c.active_pos != ~std::uint32_t{0}) return;
  c.active_pos = static_cast<std::uint32_t>(active_.size());
  active_.push_back(klass);
  activated_.push_back(klass);
}

void PendingQueue::DeactivateIfEmpty(std::uint32_t klass) {
  Class& c = classes_[klass];
  if (c.active_pos == ~std::uint32_t{0} || !c.uncapped.empty() || !c.capped.empty()) return;
  const std::uint32_t last = active_.back();
  active_[c.active_pos] = last;
  classes_[last].active_pos = c.active_pos;
  active_.pop_back();
  c.active_pos = ~std::uint32_t{0};
}

void PendingQueue::Remove(std::uint32_t job) {
  if (!Contains(job)) return;
  Entry& e = entries_[job];
  Class& c = classes_[e.klass];
  Erase(e.capped ? c.capped : c.uncapped, e.capped ? CappedKey(job, e) : UncappedKey(job, e));
  e.queued = false;
  Sync(e.klass);
  --size_;
  DeactivateIfEmpty(e.klass);
}

void PendingQueue::MoveCappedBy(Timestamp now) {
  while (!cap_events_.empty() && cap_events_.top().at <= now) {
    const CapEvent ev = cap_events_.top();
    cap_events_.pop();
    if (!CapEventLive(ev)) continue;
    Entry& e = entries_[ev.job];
    Class& c = classes_[e.klass];
    Erase(c.uncapped, UncappedKey(ev.job, e));
    e.capped = true;
    Insert(c.capped, CappedKey(ev.job, e));
    Sync(e.klass);
  }
}

std::int64_t PendingQueue::EffectivePriority(std::int64_t base, Timestamp enq, Timestamp now) const {
  const Wide v = Effective(Scaled(base), enq, now);
  // Floor division for negative values too.
  Wide q = v / kHour;
  if (v % kHour != 0 && v < 0) --q;
  return static_cast<std::int64_t>(q);
}

std::int64_t PendingQueue::EffectivePriority(std::uint32_t job, Timestamp now) const {
  if (!entries_.contains(job)) return 0;
  return EffectivePriority(entries_[job].base, entries_[job].enq, now);
}

}  // namespace mlsched::internal
