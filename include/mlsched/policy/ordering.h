// OrderingPolicy: which pending job goes first.
//
// A job's effective priority is
//
//   effective(t) = base + min(cap, points_per_hour * waited(t) / 1h)
//
// where `base` comes from BasePriority(spec) and waited(t) is the time since
// the job was (first) queued. Ties go to the job queued earlier, then to the
// lower job id. Because aging is one linear function of time with a cap, the
// engine keeps pending jobs in indexes whose order never needs a per-tick
// update (see src/internal/pending_queue.h): a policy only states `base` and
// the aging parameters, and it is called once per submission, never per pass.
//
// Built-ins:
//   NewFifoOrdering()        submission order.
//   NewPriorityOrdering(o)   class base (low/medium/high) + integer priority,
//                            with aging. With the defaults aging never lifts a
//                            job past the next class.
//   NewShortestFirstOrdering()  shortest requested time (time limit) first,
//                            jobs without a time limit last; no aging (SJF).
//
// Thread-safety: policies are immutable after construction and may be shared
// between engines.
#ifndef MLSCHED_POLICY_ORDERING_H_
#define MLSCHED_POLICY_ORDERING_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "mlsched/job_spec.h"

namespace mlsched {

// Bases must lie within +-kMaxBasePriority so aging arithmetic cannot overflow.
inline constexpr std::int64_t kMaxBasePriority = 1'000'000'000'000;

struct AgingOptions {
  std::int64_t points_per_hour = 0;  // >= 0; 0 disables aging
  std::int64_t cap = 0;              // >= 0; the most aging can add
  absl::Status Validate() const;
};

class OrderingPolicy {
 public:
  virtual ~OrderingPolicy() = default;
  virtual std::string_view name() const = 0;
  // Priority of the job before aging; larger goes first.
  virtual std::int64_t BasePriority(const JobSpec& job) const = 0;
  // The aging every job of this engine gets alike.
  virtual AgingOptions aging() const = 0;
  // Checks the policy's own options; Engine::Create refuses a policy whose
  // Validate() fails, naming the policy.
  virtual absl::Status Validate() const { return aging().Validate(); }
};

struct PriorityOrderingOptions {
  // Base of each class, indexed by PriorityClass (low, medium, high).
  std::array<std::int64_t, 3> class_base = {0, 1'000'000, 2'000'000};
  AgingOptions aging = {.points_per_hour = 10'000, .cap = 200'000};
  absl::Status Validate() const;
};

std::shared_ptr<const OrderingPolicy> NewFifoOrdering();
std::shared_ptr<const OrderingPolicy> NewShortestFirstOrdering();
// Invalid options are reported by Engine::Create (through Validate()); use
// PriorityOrderingOptions::Validate() to check them earlier.
std::shared_ptr<const OrderingPolicy> NewPriorityOrdering(PriorityOrderingOptions options = {});

}  // namespace mlsched

#endif  // MLSCHED_POLICY_ORDERING_H_
