// SweptHeap: a min-heap (by operator>) whose entries can go stale — a
// time-limit timer of an attempt that has ended, the cap event of a job that
// has left the queue. Its owner skips a stale entry when it comes to the top;
// until then it would sit in the heap, and with long deadlines (a week's
// time limit) the heap would hold every attempt of the last week. So a push
// that finds the heap quadrupled since the last sweep erases every stale entry
// in one pass: the heap holds at most four times its live entries (and
// 256), and a push costs O(1) amortised (a sweep of n entries follows 3n/4
// pushes; at twice, the sweeps cost the SWF replay 110 instructions a job).
//
//   SweptHeap<Timer> timers;
//   timers.Push(t, [&](const Timer& x) { return !AttemptLive(x.id); });
//   while (!timers.empty() && timers.top().time <= now) { Timer t = timers.top(); timers.pop(); ... }
//
// Sweeping keeps the order of what is left (the heap is rebuilt), so with a
// total order the entries come off the top as they would have. The heap is
// a QuadHeap (internal/quad_heap.h). Not thread-safe; owned by value.
#ifndef MLSCHED_INTERNAL_SWEPT_HEAP_H_
#define MLSCHED_INTERNAL_SWEPT_HEAP_H_

#include <cstddef>

#include "internal/quad_heap.h"

namespace mlsched::internal {

template <typename T>
class SweptHeap {
 public:
  // Pushes `x`; if the heap has quadrupled since the last sweep, first erases
  // every entry e with stale(e) (it must not hold for a live entry).
  template <typename Stale>
  void Push(const T& x, Stale stale) {
    if (heap_.size() >= sweep_at_) {
      heap_.EraseIf(stale);
      sweep_at_ = 4 * heap_.size() + kMinSweep;
    }
    heap_.push(x);
  }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const T& top() const { return heap_.top(); }
  void pop() { heap_.pop(); }

 private:
  static constexpr std::size_t kMinSweep = 256;
  QuadHeap<T> heap_;
  std::size_t sweep_at_ = kMinSweep;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_SWEPT_HEAP_H_
