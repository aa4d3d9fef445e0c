// PendingQueue: queued jobs in effective-priority order, by job class.
//
// Effective priority with aging is
//   eff(j, t) = base_j + min(cap, rate * (t - enq_j))      (rate per hour)
// Scaled by one hour H to stay in integers:
//   E(j, t) = base_j * H + min(cap * H, rate * (t - enq_j)).
// While a job is below its cap, E(j, t) = K_j + rate * t with the constant
// K_j = base_j * H - rate * enq_j: the order of uncapped jobs never changes
// with t. Once capped, E(j, t) = (base_j + cap) * H, also constant. So each
// class keeps two B-trees: uncapped jobs by K, capped jobs by their capped
// value; its head at time t is the better of the two heads. Each tree's first
// job is held beside it, not in it, so a class of one job allocates no tree
// node (most classes of a replay hold one job at a time). A single min-heap
// of cap times moves jobs from the first tree to the second as time passes —
// once per job, never a per-tick update of every job.
//
// A pass asks every class with queued jobs for its size and head job: a
// dense array beside the classes answers both (16 bytes a class, where a
// class's two sides span several cache lines), unless the class has both
// capped and uncapped jobs, whose head depends on the time.
//
// Ties go to the job queued earlier, then to the lower job id.
// Arithmetic is __int128: base*H alone can exceed 2^63 for large bases.
#ifndef MLSCHED_SRC_INTERNAL_PENDING_QUEUE_H_
#define MLSCHED_SRC_INTERNAL_PENDING_QUEUE_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/btree_set.h"
#include "internal/chunked_vector.h"
#include "internal/swept_heap.h"
#include "mlsched/policy/ordering.h"
#include "mlsched/time.h"

namespace mlsched::internal {

using Wide = __int128;

struct QueueKey {
  Wide key;       // K (uncapped) or capped value
  Timestamp enq;  // earlier first on ties
  std::uint32_t job;
};
struct QueueKeyOrder {
  bool operator()(const QueueKey& a, const QueueKey& b) const {
    if (a.key != b.key) return a.key > b.key;
    if (a.enq != b.enq) return a.enq < b.enq;
    return a.job < b.job;
  }
};

// The head of a class at some time: comparable across classes.
struct QueueHead {
  Wide effective;  // E(j, t)
  Timestamp enq;
  std::uint32_t job;
  std::uint32_t klass;
  // Higher effective first, then earlier, then lower id.
  bool Before(const QueueHead& o) const {
    if (effective != o.effective) return effective > o.effective;
    if (enq != o.enq) return enq < o.enq;
    return job < o.job;
  }
};

class PendingQueue {
 public:
  explicit PendingQueue(AgingOptions aging) : aging_(aging) {}

  // Queues `job` in class `klass`. `enq` is when its wait started (kept across
  // requeues so a job keeps its age), `now` the current time.
  void Push(std::uint32_t job, std::uint32_t klass, std::int64_t base, Timestamp enq, Timestamp now);
  // Removes a queued job; no-op if it is not queued.
  void Remove(std::uint32_t job);
  bool Contains(std::uint32_t job) const {
    return entries_.contains(job) && entries_[job].queued;
  }
  // Per-job entries are held in blocks of kJobBlock consecutive job ids (the
  // engine's job table uses the same blocks). Forgets the block of jobs
  // [first, first + kJobBlock), none of them queued, and reuses its memory.
  static constexpr int kJobBlockBits = 12;
  static constexpr std::size_t kJobBlock = std::size_t{1} << kJobBlockBits;
  void ReleaseJobs(std::uint32_t first) {
    if (entries_.size() >= first + kJobBlock) entries_.release_chunk(first >> kJobBlockBits);
  }
  // Moves jobs that reached their cap by `now` into the capped trees. The
  // test for none due is inline: every tick makes it, and it mostly fails.
  void AdvanceTo(Timestamp now) {
    if (!cap_events_.empty() && cap_events_.top().at <= now) MoveCappedBy(now);
  }
  // The job at the head of a non-empty class; cheaper than Head() when the
  // class has no capped jobs (or no uncapped ones).
  std::uint32_t HeadJob(std::uint32_t klass, Timestamp now) const {
    const Brief& b = briefs_[klass];
    if (b.head != kMixed) return b.head;
    return HeadOf(classes_[klass], klass, now).job;
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE std::optional<QueueHead> Head(std::uint32_t klass, Timestamp now) const {
    if (klass >= briefs_.size()) return std::nullopt;
    const Brief& b = briefs_[klass];
    if (b.size == 0) return std::nullopt;
    if (b.head != kMixed) return QueueHead{Effective(b.scaled_base, b.enq, now), b.enq, b.head, klass};
    return HeadOf(classes_[klass], klass, now);
  }
  std::size_t ClassSize(std::uint32_t klass) const { return klass < briefs_.size() ? briefs_[klass].size : 0; }
  std::uint32_t class_count() const { return static_cast<std::uint32_t>(classes_.size()); }
  // Classes with at least one queued job, in no particular order: a pass
  // costs O(classes with work), however many classes ever existed (with
  // backfill every distinct time limit makes a class).
  std::span<const std::uint32_t> active_classes() const { return active_; }
  // Classes that became non-empty since the last call (possibly repeated).
  void TakeActivated(std::vector<std::uint32_t>* out) {
    out->clear();
    out->swap(activated_);
  }
  std::size_t size() const { return size_; }
  // Cap events held, live or stale (see cap_events_).
  std::size_t cap_events() const { return cap_events_.size(); }
  // Effective priority (unscaled, rounded down) of a queued job at `now`.
  std::int64_t EffectivePriority(std::uint32_t job, Timestamp now) const;
  // Same, for any base and wait start.
  std::int64_t EffectivePriority(std::int64_t base, Timestamp enq, Timestamp now) const;
  const AgingOptions& aging() const { return aging_; }

 private:
  void MoveCappedBy(Timestamp now);  // AdvanceTo, with some cap due
  struct Entry {
    std::int64_t base = 0;
    Timestamp enq = 0;
    std::uint32_t klass = 0;
    bool queued = false;
    bool capped = false;
  };
  // The first job of one side of a class (uncapped or capped) and its
  // job's base: Head() reads these (a pass asks every class for its head).
  struct Top {
    QueueKey key;
    Wide scaled_base = 0;  // base * H
    bool present = false;
  };
  // One side of a class: its first job, then the others in a tree.
  struct Side {
    Top top;
    absl::btree_set<QueueKey, QueueKeyOrder> rest;
    std::size_t size() const { return rest.size() + (top.present ? 1 : 0); }
    bool empty() const { return !top.present; }
  };
  struct Class {
    Side uncapped, capped;
    std::uint32_t active_pos = ~std::uint32_t{0};  // index in active_, or none
  };
  // By class: its queued jobs, and when one side is empty its head job with
  // what Head() needs of it (kMixed when both have jobs: the head depends on
  // the time). Kept by Sync() after every change.
  static constexpr std::uint32_t kMixed = ~std::uint32_t{0};
  struct Brief {
    Wide scaled_base = 0;  // the head's base * H
    Timestamp enq = 0;     // the head's wait start
    std::uint32_t size = 0;
    std::uint32_t head = kMixed;
  };
  void Sync(std::uint32_t klass) {
    const Class& c = classes_[klass];
    Brief& b = briefs_[klass];
    b.size = static_cast<std::uint32_t>(c.uncapped.size() + c.capped.size());
    const Top* top = c.capped.empty() ? &c.uncapped.top : c.uncapped.empty() ? &c.capped.top : nullptr;
    b.head = top ? top->key.job : kMixed;
    if (top) {
      b.scaled_base = top->scaled_base;
      b.enq = top->key.enq;
    }
  }
  Top TopOf(const QueueKey& k) const { return {.key = k, .scaled_base = Scaled(entries_[k.job].base), .present = true}; }
  void Insert(Side& side, const QueueKey& k);
  void Erase(Side& side, const QueueKey& k);
  void Activate(std::uint32_t klass);
  void DeactivateIfEmpty(std::uint32_t klass);
  struct CapEvent {
    Timestamp at;
    std::uint32_t job;
    bool operator>(const CapEvent& o) const { return at != o.at ? at > o.at : job > o.job; }
  };

  Wide Scaled(Wide base) const { return base * kHour; }
  QueueKey UncappedKey(std::uint32_t job, const Entry& e) const {
    return {Scaled(e.base) - Wide(aging_.points_per_hour) * e.enq, e.enq, job};
  }
  QueueKey CappedKey(std::uint32_t job, const Entry& e) const {
    return {Scaled(Wide(e.base) + aging_.cap), e.enq, job};
  }
  // When a job queued at `enq` reaches the cap (kInfiniteFuture without aging).
  Timestamp CapTime(Timestamp enq) const;
  // Whether the cap event `ev` still stands for a queued job to be capped.
  bool CapEventLive(const CapEvent& ev) const {
    if (!entries_.contains(ev.job)) return false;  // the job is long gone
    const Entry& e = entries_[ev.job];
    // Stale: the job left the queue, was capped, or was requeued with another age.
    return e.queued && !e.capped && CapTime(e.enq) == ev.at;
  }
  Wide Effective(Wide scaled_base, Timestamp enq, Timestamp now) const {
    if (aging_.points_per_hour == 0 || now <= enq) return scaled_base;
    return scaled_base + std::min(Wide(aging_.points_per_hour) * (now - enq), scaled_cap_);
  }
  // The better of the class's two tops (at least one is present).
  QueueHead HeadOf(const Class& c, std::uint32_t klass, Timestamp now) const {
    auto head = [&](const Top& top) {
      return QueueHead{Effective(top.scaled_base, top.key.enq, now), top.key.enq, top.key.job, klass};
    };
    if (c.capped.empty()) return head(c.uncapped.top);
    if (c.uncapped.empty()) return head(c.capped.top);
    const QueueHead u = head(c.uncapped.top), k = head(c.capped.top);
    return k.Before(u) ? k : u;
  }

  AgingOptions aging_;
  Wide scaled_cap_ = Wide(aging_.cap) * kHour;
  ChunkedVector<Entry, kJobBlockBits> entries_;  // by job id
  std::vector<Class> classes_;
  std::vector<Brief> briefs_;  // by class, beside classes_
  // When queued jobs reach their cap. An event whose job has left the queue
  // is dropped when it comes up, or swept out before (internal/swept_heap.h):
  // with the default cap (20 hours of aging) the heap would otherwise hold
  // every job submitted in the last 20 hours, long started or not.
  SweptHeap<CapEvent> cap_events_;
  std::vector<std::uint32_t> active_;
  std::vector<std::uint32_t> activated_;
  std::size_t size_ = 0;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_INTERNAL_PENDING_QUEUE_H_
