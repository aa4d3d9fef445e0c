#include "mlsched/clock.h"

#include <chrono>

namespace mlsched {

Timestamp RealClock::Now() const {
  const Timestamp now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  // The system clock can step back (NTP); the engine's time must not.
  Timestamp last = last_.load(std::memory_order_relaxed);
  while (now > last && !last_.compare_exchange_weak(last, now, std::memory_order_relaxed)) {
  }
  return now > last ? now : last;
}

void ManualClock::Set(Timestamp t) {
  Timestamp cur = now_.load(std::memory_order_relaxed);
  while (t > cur && !now_.compare_exchange_weak(cur, t, std::memory_order_acq_rel)) {
  }
}

void ManualClock::Advance(Duration d) {
  if (d > 0) now_.fetch_add(d, std::memory_order_acq_rel);
}

}  // namespace mlsched
