#include "mlsched/policy/ordering.h"

#include <algorithm>

#include "fmt/format.h"

namespace mlsched {

absl::Status AgingOptions::Validate() const {
  if (points_per_hour < 0 || points_per_hour > 1'000'000'000) {
    return absl::InvalidArgumentError(
        fmt::format("aging.points_per_hour = {}: must be in [0, 1e9]", points_per_hour));
  }
  if (cap < 0 || cap > kMaxBasePriority) {
    return absl::InvalidArgumentError(
        fmt::format("aging.cap = {}: must be in [0, {}]", cap, kMaxBasePriority));
  }
  return absl::OkStatus();
}

absl::Status PriorityOrderingOptions::Validate() const {
  static constexpr std::string_view kNames[] = {"low", "medium", "high"};
  for (int c = 0; c < 3; ++c) {
    if (class_base[c] < -kMaxBasePriority / 2 || class_base[c] > kMaxBasePriority / 2) {
      return absl::InvalidArgumentError(fmt::format("class_base[{}] = {}: must be within +-{}",
                                                    kNames[c], class_base[c], kMaxBasePriority / 2));
    }
    if (c > 0 && class_base[c] < class_base[c - 1]) {
      return absl::InvalidArgumentError(fmt::format(
          "class_base[{}] = {}: must not be below class_base[{}] = {}", kNames[c], class_base[c],
          kNames[c - 1], class_base[c - 1]));
    }
  }
  return aging.Validate();
}

namespace {

class FifoOrdering final : public OrderingPolicy {
 public:
  std::string_view name() const override { return "fifo"; }
  std::int64_t BasePriority(const JobSpec&) const override { return 0; }
  AgingOptions aging() const override { return {}; }
};

class PriorityOrdering final : public OrderingPolicy {
 public:
  explicit PriorityOrdering(PriorityOrderingOptions o) : o_(o) {}
  std::string_view name() const override { return "priority"; }
  std::int64_t BasePriority(const JobSpec& job) const override {
    return o_.class_base[static_cast<int>(job.priority_class)] + job.priority;
  }
  AgingOptions aging() const override { return o_.aging; }
  absl::Status Validate() const override { return o_.Validate(); }

 private:
  PriorityOrderingOptions o_;
};

class ShortestFirstOrdering final : public OrderingPolicy {
 public:
  std::string_view name() const override { return "shortest-first"; }
  // Shorter requested time first; jobs without a time limit last. Seconds,
  // so a year of difference is well inside the base range.
  std::int64_t BasePriority(const JobSpec& job) const override {
    constexpr std::int64_t kNoLimit = kMaxBasePriority / 2;
    if (job.time_limit <= 0) return -kNoLimit;
    return -std::min<std::int64_t>(job.time_limit / kSecond + 1, kNoLimit - 1);
  }
  AgingOptions aging() const override { return {}; }
};

}  // namespace

std::shared_ptr<const OrderingPolicy> NewShortestFirstOrdering() { return std::make_shared<ShortestFirstOrdering>(); }

std::shared_ptr<const OrderingPolicy> NewFifoOrdering() { return std::make_shared<FifoOrdering>(); }

std::shared_ptr<const OrderingPolicy> NewPriorityOrdering(PriorityOrderingOptions options) {
  return std::make_shared<PriorityOrdering>(options);
}

}  // namespace mlsched
