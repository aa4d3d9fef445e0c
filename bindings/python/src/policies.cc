#include "policies.h"

#include <pybind11/stl.h>

#include "convert.h"
#include "fmt/format.h"
#include "mlsched/policy/config.h"
#include "mlsched/sim/simulator.h"

namespace mlsched::py_bind {

namespace {
const ResourceCatalog& DefaultCatalog() {
  static const ResourceCatalog* catalog = new ResourceCatalog();
  return *catalog;
}
}  // namespace

PyPolicy::PyPolicy(py::object obj, const ResourceCatalog* catalog) : obj_(std::move(obj)), catalog_(catalog) {
  name_ = py::hasattr(obj_, "name") ? py::str(obj_.attr("name")).cast<std::string>()
                                    : py::str(py::type::of(obj_).attr("__name__")).cast<std::string>();
  if (!catalog_) catalog_ = &DefaultCatalog();
}

PyPolicy::~PyPolicy() {
  if (!Py_IsInitialized()) {
    obj_.release();  // the interpreter is gone: nothing to release it to
    return;
  }
  py::gil_scoped_acquire gil;
  obj_ = py::object();
}

std::optional<std::string> PyPolicy::TakeError() {
  std::optional<std::string> e = std::move(error_);
  error_.reset();
  return e;
}

void PyPolicy::Keep(const std::string& method, const py::error_already_set& e) const {
  if (!error_) error_ = fmt::format("policy \"{}\": {}() raised {}", name_, method, e.what());
}

PyOrdering::PyOrdering(py::object obj, const ResourceCatalog* catalog) : PyPolicy(std::move(obj), catalog) {
  if (!py::hasattr(obj_, "base_priority"))
    throw py::value_error(fmt::format("ordering policy \"{}\": has no base_priority(job) method", name_));
  aging_.points_per_hour = py::getattr(obj_, "aging_points_per_hour", py::int_(0)).cast<std::int64_t>();
  aging_.cap = py::getattr(obj_, "aging_cap", py::int_(0)).cast<std::int64_t>();
  Check(aging_.Validate());
}

std::int64_t PyOrdering::BasePriority(const JobSpec& job) const {
  py::gil_scoped_acquire gil;
  try {
    const py::object r = obj_.attr("base_priority")(FromJobSpec(*catalog_, job));
    const auto p = r.cast<std::int64_t>();
    if (p < -kMaxBasePriority || p > kMaxBasePriority) {
      if (!error_)
        error_ = fmt::format("policy \"{}\": base_priority() returned {}, outside ±{}", name_, p, kMaxBasePriority);
      return 0;
    }
    return p;
  } catch (py::error_already_set& e) {
    Keep("base_priority", e);
  } catch (const py::cast_error&) {
    if (!error_) error_ = fmt::format("policy \"{}\": base_priority() must return an int", name_);
  }
  return 0;
}

void PyCandidates::CheckValid() const {
  if (!nodes) throw std::runtime_error("candidates are only valid during choose_node()");
}

std::optional<NodeId> PyPlacement::ChooseNode(const TaskRequest& task, const CandidateNodes& candidates) const {
  py::gil_scoped_acquire gil;
  auto view = std::make_shared<PyCandidates>(PyCandidates{&candidates, catalog_});
  try {
    py::dict t;
    t["job"] = task.job.value();
    t["group"] = task.group;
    t["task"] = task.task;
    t["gang_size"] = task.gang_size;
    t["resources"] = FromResources(*catalog_, task.per_task);
    const py::object r = obj_.attr("choose_node")(t, py::cast(view));
    view->nodes = nullptr;  // a kept reference must not outlive the call's data
    if (r.is_none()) return std::nullopt;
    return NodeId(r.cast<std::uint32_t>());
  } catch (py::error_already_set& e) {
    Keep("choose_node", e);
  } catch (const py::cast_error&) {
    if (!error_) error_ = fmt::format("policy \"{}\": choose_node() must return a node id (int) or None", name_);
  }
  view->nodes = nullptr;
  return std::nullopt;
}

void PyPolicySet::RaiseIfFailed() const {
  for (const auto& p : python)
    if (std::optional<std::string> e = p->TakeError()) throw std::runtime_error(*e);
}

PyPolicySet PolicySetFrom(const std::string& name_or_document) {
  PyPolicySet set;
  // A document is JSON ('{') or YAML (a mapping: it has a ':'); a name has neither.
  const auto first = name_or_document.find_first_not_of(" \t\r\n");
  if (first != std::string::npos &&
      (name_or_document[first] == '{' || name_or_document.find(':') != std::string::npos)) {
    set.policies = Value(ParsePolicySet(name_or_document));
    set.name = "custom";
  } else {
    set.policies = Value(sim::NamedPolicySet(name_or_document));
    set.name = name_or_document;
  }
  return set;
}

void BindPolicies(py::module_& m) {
  py::class_<PyCandidates, std::shared_ptr<PyCandidates>>(m, "Candidates",
                                                          "Nodes where a task fits now; valid during choose_node().")
      .def(
          "tightest",
          [](const PyCandidates& c) -> std::optional<std::uint32_t> {
            c.CheckValid();
            const std::optional<NodeId> n = c.nodes->Tightest();
            return n ? std::optional<std::uint32_t>(n->value()) : std::nullopt;
          },
          "The candidate with the least free key resource (best fit), or None.")
      .def(
          "loosest",
          [](const PyCandidates& c) -> std::optional<std::uint32_t> {
            c.CheckValid();
            const std::optional<NodeId> n = c.nodes->Loosest();
            return n ? std::optional<std::uint32_t>(n->value()) : std::nullopt;
          },
          "The candidate with the most free key resource (spread), or None.")
      .def(
          "nodes",
          [](const PyCandidates& c, int limit) {
            c.CheckValid();
            py::list out;
            int n = 0;
            c.nodes->ForEach([&](NodeId node, const ResourceVector& free) {
              out.append(py::make_tuple(node.value(), FromResources(*c.catalog, free)));
              return limit < 0 || ++n < limit;
            });
            return out;
          },
          py::arg("limit") = -1,
          "(node id, free resources) pairs, least free key resource first; at most `limit` (-1: all).");

  py::class_<PyPolicySet>(m, "PolicySet", "Policies by name or policy document, optionally with Python policies.")
      .def(py::init([](const std::string& name, py::object ordering, py::object placement) {
             PyPolicySet set = PolicySetFrom(name);
             if (!ordering.is_none()) {
               auto p = std::make_shared<PyOrdering>(ordering, nullptr);
               set.policies.ordering = p;
               set.python.push_back(p);
               set.name += "+" + std::string(p->name());
             }
             if (!placement.is_none()) {
               if (!py::hasattr(placement, "choose_node"))
                 throw py::value_error("placement policy: has no choose_node(task, candidates) method");
               auto p = std::make_shared<PyPlacement>(placement, nullptr);
               set.policies.placement = p;
               set.python.push_back(p);
               set.name += "+" + std::string(p->name());
             }
             Check(set.policies.Validate());
             return set;
           }),
           py::arg("name") = "fifo", py::arg("ordering") = py::none(), py::arg("placement") = py::none(),
           "A named set (see policy_set_names()) or a JSON policy document; `ordering` and `placement` replace "
           "those policies with Python objects (subclasses of mlsched.OrderingPolicy / PlacementPolicy).")
      .def_readwrite("name", &PyPolicySet::name)
      .def_property_readonly("ordering", [](const PyPolicySet& s) { return std::string(s.policies.ordering ? s.policies.ordering->name() : "default"); })
      .def_property_readonly("placement", [](const PyPolicySet& s) { return std::string(s.policies.placement ? s.policies.placement->name() : "default"); })
      .def_property_readonly("fair_share", [](const PyPolicySet& s) { return s.policies.fair_share.has_value(); })
      .def_property_readonly("reservation_depth", [](const PyPolicySet& s) -> std::optional<int> {
        if (!s.policies.backfill) return std::nullopt;
        return s.policies.backfill->reservation_depth;
      })
      .def_property_readonly("preemption", [](const PyPolicySet& s) { return s.policies.preemption.has_value(); })
      .def("document", [](const PyPolicySet& s) { return FormatPolicySet(s.policies); },
           "The policy document (JSON) of the C++ policies.")
      .def("__repr__", [](const PyPolicySet& s) { return fmt::format("PolicySet('{}')", s.name); });

  m.def("policy_set_names", &sim::PolicySetNames, "Names policy_set() and PolicySet() accept.");
}

}  // namespace mlsched::py_bind
