// QuadHeap: a min-heap (by operator>) whose nodes have four children.
//
// Its depth is half a binary heap's, and a node's children sit side by side
// (a 16-byte entry's four children in one or two cache lines), so a pop on a
// heap too big for the cache takes about half the misses of
// std::priority_queue's, for a few more comparisons. The engine's timers, the
// pending queue's cap events and the simulator's events are such heaps:
// tens of thousands of entries, one push and one pop per job.
//
// With a total order (ties impossible or between equal entries) entries come
// off the top in the same order as from any other heap.
//
//   QuadHeap<Timer> timers;
//   timers.push(t);
//   while (!timers.empty() && timers.top().time <= now) { Timer t = timers.top(); timers.pop(); ... }
//
// Not thread-safe; owned by value.
#ifndef MLSCHED_INTERNAL_QUAD_HEAP_H_
#define MLSCHED_INTERNAL_QUAD_HEAP_H_

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace mlsched::internal {

template <typename T>
class QuadHeap {
 public:
  bool empty() const { return v_.empty(); }
  std::size_t size() const { return v_.size(); }
  const T& top() const { return v_.front(); }

  void push(const T& x) {
    std::size_t i = v_.size();
    v_.push_back(x);
    while (i > 0) {
      const std::size_t parent = (i - 1) / 4;
      if (!(v_[parent] > x)) break;
      v_[i] = std::move(v_[parent]);
      i = parent;
    }
    v_[i] = x;
  }

  void pop() {
    T last = std::move(v_.back());
    v_.pop_back();
    if (!v_.empty()) SiftDown(0, std::move(last));
  }

  // Erases every entry for which pred holds, then restores the heap: O(n).
  template <typename Pred>
  void EraseIf(Pred pred) {
    std::erase_if(v_, pred);
    if (v_.size() < 2) return;
    for (std::size_t i = (v_.size() - 2) / 4 + 1; i-- > 0;) SiftDown(i, std::move(v_[i]));
  }

 private:
  // Places x at i or below, moving smaller children up.
  void SiftDown(std::size_t i, T x) {
    const std::size_t n = v_.size();
    while (true) {
      const std::size_t first = 4 * i + 1;
      if (first >= n) break;
      const std::size_t end = std::min(first + 4, n);
      std::size_t least = first;
      for (std::size_t c = first + 1; c < end; ++c)
        if (v_[least] > v_[c]) least = c;
      if (!(x > v_[least])) break;
      v_[i] = std::move(v_[least]);
      i = least;
    }
    v_[i] = std::move(x);
  }

  std::vector<T> v_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_QUAD_HEAP_H_
