// Ordering and placement policies written in Python.
//
// An adapter owns a reference to the Python object, so the object lives as
// long as any engine or policy set holds the adapter, whatever Python does
// with its own names. The engine is not written for exceptions: an adapter
// catches what the Python method raises, answers a safe default (base
// priority 0; no node, so the job waits) and keeps the first error, which
// the binding raises as RuntimeError after the engine call returns.
#ifndef MLSCHED_BINDINGS_POLICIES_H_
#define MLSCHED_BINDINGS_POLICIES_H_

#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlsched/policy/ordering.h"
#include "mlsched/policy/placement.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/resources.h"

namespace mlsched::py_bind {

namespace py = pybind11;

class PyPolicy {
 public:
  PyPolicy(py::object obj, const ResourceCatalog* catalog);
  virtual ~PyPolicy();
  PyPolicy(const PyPolicy&) = delete;
  PyPolicy& operator=(const PyPolicy&) = delete;
  // The first error a call raised since the last TakeError, as a message.
  std::optional<std::string> TakeError();

 protected:
  void Keep(const std::string& method, const py::error_already_set& e) const;
  py::object obj_;
  std::string name_;
  const ResourceCatalog* catalog_;  // for resource dicts; the default catalog if null
  mutable std::optional<std::string> error_;
};

class PyOrdering final : public PyPolicy, public OrderingPolicy {
 public:
  PyOrdering(py::object obj, const ResourceCatalog* catalog);
  std::string_view name() const override { return name_; }
  std::int64_t BasePriority(const JobSpec& job) const override;
  AgingOptions aging() const override { return aging_; }

 private:
  AgingOptions aging_;
};

// The candidates a Python placement policy may choose from, valid only
// during its choose_node call.
struct PyCandidates {
  const CandidateNodes* nodes = nullptr;
  const ResourceCatalog* catalog = nullptr;
  void CheckValid() const;
};

class PyPlacement final : public PyPolicy, public PlacementPolicy {
 public:
  PyPlacement(py::object obj, const ResourceCatalog* catalog) : PyPolicy(std::move(obj), catalog) {}
  std::string_view name() const override { return name_; }
  std::optional<NodeId> ChooseNode(const TaskRequest& task, const CandidateNodes& candidates) const override;
};

// A policy set with the Python policies it holds.
struct PyPolicySet {
  std::string name;
  PolicySet policies;
  std::vector<std::shared_ptr<PyPolicy>> python;
  // Raises RuntimeError naming the policy if one of them raised.
  void RaiseIfFailed() const;
};

// A policy set from a name ("drf-easy", see sim::PolicySetNames()) or a
// policy document (JSON text).
PyPolicySet PolicySetFrom(const std::string& name_or_document);

void BindPolicies(py::module_& m);

}  // namespace mlsched::py_bind

#endif  // MLSCHED_BINDINGS_POLICIES_H_
