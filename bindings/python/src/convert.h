// Conversions between Python values and mlsched's C++ types, and the
// mapping of absl::Status to Python exceptions, shared by the binding units.
#ifndef MLSCHED_BINDINGS_CONVERT_H_
#define MLSCHED_BINDINGS_CONVERT_H_

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/job_spec.h"
#include "mlsched/node.h"
#include "mlsched/resources.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"

namespace mlsched::py_bind {

namespace py = pybind11;

// InvalidArgument and OutOfRange raise ValueError, NotFound KeyError, every
// other code RuntimeError; the message is the C++ one.
[[noreturn]] void Raise(const absl::Status& status);
inline void Check(const absl::Status& status) {
  if (!status.ok()) Raise(status);
}
template <typename T>
T Value(absl::StatusOr<T> s) {
  if (!s.ok()) Raise(s.status());
  return *std::move(s);
}

// Seconds (int or float) or a duration text ("90s", "1h30m") to microseconds.
Duration ToDuration(py::handle value, std::string_view what);
inline double Seconds(Timestamp t) { return static_cast<double>(t) / static_cast<double>(kSecond); }

// A resource vector from "cpu=8,memory=64Gi,gpu=4" or a dict {"cpu": 8,
// "memory": "64Gi", "gpu": 4} (cpu in cores, memory in bytes or with a unit).
ResourceVector ToResources(const ResourceCatalog& catalog, py::handle value, std::string_view what);
py::dict FromResources(const ResourceCatalog& catalog, const ResourceVector& v);

// A job from a dict with the keys of mlsched's JSON Lines jobs (name,
// tenant, user, class, priority, tasks, cpu, memory, gpu, gpu_model,
// time_limit, preemptible) plus resources, task_groups, command, retry;
// unknown keys are errors.
JobSpec ToJobSpec(const ResourceCatalog& catalog, const py::dict& d);

// Builds a job field by field (ToJobSpec, and submit_many's columns).
class JobBuilder {
 public:
  JobBuilder(const ResourceCatalog& catalog, std::string what) : catalog_(&catalog), what_(std::move(what)) {}
  void Set(const std::string& key, py::handle value);  // ValueError naming the job and key
  JobSpec Finish();

 private:
  const ResourceCatalog* catalog_;
  std::string what_;
  JobSpec spec_;
  TaskGroup group_{.count = 1};
  bool flat_ = false;  // tasks/cpu/memory/gpu/resources given at the top
};
py::dict FromJobSpec(const ResourceCatalog& catalog, const JobSpec& spec);

// A node from a dict: name, cpu, memory (or resources), gpus (a count),
// gpu_model, gpus_per_domain, topology, labels.
NodeSpec ToNodeSpec(const ResourceCatalog& catalog, const py::dict& d);

PriorityClass ToPriorityClass(std::string_view text);

// A tenant from a dict: name, parent, weight, guarantee, borrowing_limit,
// lending_limit (resources as dicts or texts).
TenantSpec ToTenantSpec(const ResourceCatalog& catalog, const py::dict& d);
std::vector<TenantSpec> ToTenantSpecs(const ResourceCatalog& catalog, const py::list& tenants);

}  // namespace mlsched::py_bind

#endif  // MLSCHED_BINDINGS_CONVERT_H_
