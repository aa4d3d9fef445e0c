#include "mlsched/policy/placement.h"

#include "internal/cluster.h"

namespace mlsched {

ResourceKind CandidateNodes::key() const { return request_->gpus() > 0 ? kGpu : kCpu; }

std::optional<NodeId> CandidateNodes::Tightest() const {
  std::optional<NodeId> found;
  cluster_->ForEachCandidate(groups_, *request_, /*ascending=*/true, [&](std::uint32_t n) {
    found = NodeId(n);
    return false;
  });
  return found;
}

std::optional<NodeId> CandidateNodes::Loosest() const {
  std::optional<NodeId> found;
  cluster_->ForEachCandidate(groups_, *request_, /*ascending=*/false, [&](std::uint32_t n) {
    found = NodeId(n);
    return false;
  });
  return found;
}

void CandidateNodes::ForEach(
    absl::FunctionRef<bool(NodeId node, const ResourceVector& free)> visit) const {
  cluster_->ForEachCandidate(groups_, *request_, /*ascending=*/true, [&](std::uint32_t n) {
    return visit(NodeId(n), cluster_->node(n).free);
  });
}

namespace {

class BestFit final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "best-fit"; }
  std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes& c) const override {
    return c.Tightest();
  }
};

class Spread final : public PlacementPolicy {
 public:
  std::string_view name() const override { return "spread"; }
  std::optional<NodeId> ChooseNode(const TaskRequest&, const CandidateNodes& c) const override {
    return c.Loosest();
  }
};

}  // namespace

std::shared_ptr<const PlacementPolicy> NewBestFitPlacement() { return std::make_shared<BestFit>(); }
std::shared_ptr<const PlacementPolicy> NewSpreadPlacement() { return std::make_shared<Spread>(); }

}  // namespace mlsched
