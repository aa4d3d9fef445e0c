// Strongly typed identifiers.
//
// Ids are dense 32-bit integers handed out by the Engine (the first node is
// NodeId(0), the next NodeId(1), ...); strings such as job and node names stay
// at the edges of the API. A default-constructed id is "no id" and is never
// returned for an object that exists; it never means "infeasible".
//
// Ids of different kinds do not convert into each other:
//
//   JobId job = engine.Submit(spec).value();
//   NodeId node = job;  // does not compile
//
// Thread-safety: plain values, hashable with absl::Hash.
#ifndef MLSCHED_IDS_H_
#define MLSCHED_IDS_H_

#include <compare>
#include <cstdint>
#include <utility>

namespace mlsched {

template <typename Tag>
class Id {
 public:
  using Rep = std::uint32_t;
  static constexpr Rep kNone = ~Rep{0};

  constexpr Id() = default;
  constexpr explicit Id(Rep value) : value_(value) {}

  constexpr Rep value() const { return value_; }
  constexpr bool valid() const { return value_ != kNone; }

  friend constexpr auto operator<=>(Id, Id) = default;
  template <typename H>
  friend H AbslHashValue(H h, Id id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  Rep value_ = kNone;
};

struct JobIdTag {};
struct NodeIdTag {};
struct TenantIdTag {};
struct UserIdTag {};
struct WorkflowIdTag {};
struct ScheduleIdTag {};

using JobId = Id<JobIdTag>;
using NodeId = Id<NodeIdTag>;
using TenantId = Id<TenantIdTag>;
using UserId = Id<UserIdTag>;
using WorkflowId = Id<WorkflowIdTag>;
using ScheduleId = Id<ScheduleIdTag>;

}  // namespace mlsched

#endif  // MLSCHED_IDS_H_
