// Clock: the engine's only source of time.
//
// The Engine never reads the wall clock; it asks the Clock it was given. Hosts
// that run live use RealClock; tests, the simulator and property tests use
// ManualClock and move time explicitly, which makes runs reproducible.
//
// Thread-safety: Now() may be called from any thread. ManualClock's setters
// are atomic with respect to Now().
//
//   ManualClock clock(/*start=*/0);
//   EngineOptions options{.clock = &clock};
//   ...
//   clock.Advance(30 * kSecond);
#ifndef MLSCHED_CLOCK_H_
#define MLSCHED_CLOCK_H_

#include <atomic>

#include "mlsched/time.h"

namespace mlsched {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current time. Must never go backwards between two calls.
  virtual Timestamp Now() const = 0;
};

// System time (std::chrono::system_clock), clamped so it never goes backwards.
class RealClock final : public Clock {
 public:
  Timestamp Now() const override;

 private:
  mutable std::atomic<Timestamp> last_{0};
};

// Time that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = 0) : now_(start) {}
  Timestamp Now() const override { return now_.load(std::memory_order_acquire); }
  // Sets the time; a time earlier than Now() is ignored (clocks never go back).
  void Set(Timestamp t);
  // Moves time forward by d (d < 0 is ignored).
  void Advance(Duration d);

 private:
  std::atomic<Timestamp> now_;
};

}  // namespace mlsched

#endif  // MLSCHED_CLOCK_H_
