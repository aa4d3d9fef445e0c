#include "convert.h"

#include <cmath>
#include <limits>

#include "fmt/format.h"
#include "internal/duration.h"

namespace mlsched::py_bind {

void Raise(const absl::Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      throw py::value_error(message);
    case absl::StatusCode::kNotFound:
      throw py::key_error(message);
    default:
      throw std::runtime_error(message);
  }
}

namespace {

[[noreturn]] void Bad(std::string_view what, std::string_view why) {
  throw py::value_error(fmt::format("{}: {}", what, why));
}

std::string Str(py::handle value) {
  if (PyUnicode_Check(value.ptr())) {  // the common case, without a new object
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
    if (data) return std::string(data, static_cast<std::size_t>(size));
    PyErr_Clear();
  }
  return py::str(value).cast<std::string>();
}

bool IsNumber(py::handle v) {
  return (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) && !py::isinstance<py::bool_>(v);
}

// One quantity of `kind`: a number (cpu in cores, others in their unit) or a text.
std::int64_t ToQuantity(const ResourceCatalog& catalog, ResourceKind kind, py::handle value, std::string_view what) {
  if (py::isinstance<py::str>(value)) {
    absl::StatusOr<std::int64_t> q = ParseQuantity(catalog, kind, value.cast<std::string>());
    if (!q.ok()) Bad(what, std::string(q.status().message()));
    return *q;
  }
  if (!IsNumber(value)) Bad(what, fmt::format("expected a number or a quantity text, got {}", Str(py::type::of(value))));
  const double x = value.cast<double>() * (kind == kCpu ? 1000.0 : 1.0);
  if (!(x >= 0) || x > 9e18) Bad(what, fmt::format("{} is out of range", Str(value)));
  if (kind != kCpu && x != std::floor(x)) Bad(what, fmt::format("{} is not a whole number", Str(value)));
  return static_cast<std::int64_t>(std::llround(x));
}

std::string Key(py::handle k) {
  if (!py::isinstance<py::str>(k)) Bad("key", fmt::format("expected a string, got {}", Str(k)));
  return k.cast<std::string>();
}

}  // namespace

Duration ToDuration(py::handle value, std::string_view what) {
  if (py::isinstance<py::str>(value)) {
    std::string why;
    const std::optional<Duration> d =
        internal::ParseDurationText(value.cast<std::string>(), "seconds or a duration such as \"90s\" or \"1h30m\"", why);
    if (!d) Bad(what, why);
    return *d;
  }
  if (!IsNumber(value)) Bad(what, fmt::format("expected seconds or a duration text, got {}", Str(py::type::of(value))));
  const double s = value.cast<double>();
  if (!(s >= 0) || s > 9e12) Bad(what, fmt::format("{} seconds is out of range", Str(value)));
  return static_cast<Duration>(std::llround(s * static_cast<double>(kSecond)));
}

ResourceVector ToResources(const ResourceCatalog& catalog, py::handle value, std::string_view what) {
  if (py::isinstance<py::str>(value)) {
    absl::StatusOr<ResourceVector> r = ParseResources(catalog, value.cast<std::string>());
    if (!r.ok()) Bad(what, std::string(r.status().message()));
    return *r;
  }
  if (!py::isinstance<py::dict>(value)) Bad(what, "expected a dict or a text such as \"cpu=8,gpu=1\"");
  ResourceVector r;
  for (auto [k, v] : value.cast<py::dict>()) {
    const std::string name = Key(k);
    const std::optional<ResourceKind> kind = catalog.Find(name);
    if (!kind) Bad(what, fmt::format("unknown resource \"{}\"", name));
    if (v.is_none()) continue;
    r.Set(*kind, ToQuantity(catalog, *kind, v, fmt::format("{}.{}", what, name)));
  }
  return r;
}

py::dict FromResources(const ResourceCatalog& catalog, const ResourceVector& v) {
  py::dict d;
  for (int k = 0; k < catalog.size(); ++k) {
    const ResourceKind kind(static_cast<std::uint8_t>(k));
    const std::string name(catalog.Name(kind));
    if (kind == kCpu)
      d[name.c_str()] = static_cast<double>(v.Get(kind)) / 1000.0;
    else
      d[name.c_str()] = v.Get(kind);
  }
  return d;
}

PriorityClass ToPriorityClass(std::string_view text) {
  if (text == "low") return PriorityClass::kLow;
  if (text == "medium") return PriorityClass::kMedium;
  if (text == "high") return PriorityClass::kHigh;
  Bad("class", fmt::format("\"{}\": expected \"low\", \"medium\" or \"high\"", text));
}

void JobBuilder::Set(const std::string& key, py::handle v) {
  if (v.is_none()) return;
  auto field = [&](std::string_view k) { return fmt::format("{}: {}", what_, k); };
  if (key == "name") {
    spec_.name = Str(v);
  } else if (key == "tenant") {
    spec_.tenant = Str(v);
  } else if (key == "user") {
    spec_.user = Str(v);
  } else if (key == "class" || key == "priority_class") {
    if (!py::isinstance<py::str>(v)) Bad(field(key), "expected \"low\", \"medium\" or \"high\"");
    const std::string text = v.cast<std::string>();
    if (text != "low" && text != "medium" && text != "high")
      Bad(field(key), fmt::format("\"{}\": expected \"low\", \"medium\" or \"high\"", text));
    spec_.priority_class = ToPriorityClass(text);
  } else if (key == "priority") {
    if (!py::isinstance<py::int_>(v)) Bad(field(key), "expected an integer");
    spec_.priority = v.cast<std::int32_t>();
  } else if (key == "tasks") {
    if (!py::isinstance<py::int_>(v)) Bad(field(key), "expected an integer");
    group_.count = v.cast<std::int32_t>();
    flat_ = true;
  } else if (key == "cpu" || key == "memory" || key == "gpu") {
    const ResourceKind kind = key == "cpu" ? kCpu : key == "memory" ? kMemory : kGpu;
    group_.per_task.Set(kind, ToQuantity(*catalog_, kind, v, field(key)));
    flat_ = true;
  } else if (key == "resources") {
    const ResourceVector r = ToResources(*catalog_, v, field(key));
    for (int i = 0; i < catalog_->size(); ++i) {
      const ResourceKind kind(static_cast<std::uint8_t>(i));
      if (r.Get(kind) != 0) group_.per_task.Set(kind, r.Get(kind));
    }
    flat_ = true;
  } else if (key == "gpu_model") {
    if (py::isinstance<py::str>(v)) {
      spec_.constraints.gpu_models.push_back(v.cast<std::string>());
    } else {
      for (py::handle m : v) spec_.constraints.gpu_models.push_back(Str(m));
    }
  } else if (key == "time_limit") {
    spec_.time_limit = ToDuration(v, field(key));
  } else if (key == "preemptible") {
    if (!py::isinstance<py::bool_>(v)) Bad(field(key), "expected True or False");
    spec_.preemptible = v.cast<bool>();
  } else if (key == "task_groups") {
    for (py::handle g : v) {
      if (!py::isinstance<py::dict>(g)) Bad(field(key), "expected a list of dicts");
      TaskGroup tg;
      for (auto [gk, gv] : g.cast<py::dict>()) {
        const std::string gkey = Key(gk);
        if (gkey == "name") {
          tg.name = Str(gv);
        } else if (gkey == "count") {
          tg.count = gv.cast<std::int32_t>();
        } else if (gkey == "resources") {
          tg.per_task = ToResources(*catalog_, gv, field("task_groups.resources"));
        } else {
          Bad(field("task_groups"), fmt::format("unknown key \"{}\" (known: name, count, resources)", gkey));
        }
      }
      spec_.task_groups.push_back(std::move(tg));
    }
  } else if (key == "topology_level") {
    spec_.constraints.topology.level = v.cast<int>();
  } else if (key == "topology_required") {
    spec_.constraints.topology.required = v.cast<bool>();
  } else if (key == "command") {
    for (py::handle a : v) spec_.command.argv.push_back(Str(a));
  } else if (key == "max_attempts") {
    spec_.retry.max_attempts = v.cast<std::int32_t>();
  } else if (key == "labels") {
    for (auto [lk, lv] : v.cast<py::dict>()) spec_.constraints.node_labels[Str(lk)] = Str(lv);
  } else {
    Bad(what_, fmt::format("unknown key \"{}\" (known: name, tenant, user, class, priority, tasks, cpu, memory, "
                           "gpu, resources, gpu_model, time_limit, preemptible, task_groups, topology_level, "
                           "topology_required, command, max_attempts, labels)",
                           key));
  }
}

JobSpec JobBuilder::Finish() {
  if (flat_ && !spec_.task_groups.empty()) Bad(what_, "give either task_groups or tasks/cpu/memory/gpu/resources");
  if (flat_) spec_.task_groups.push_back(group_);
  if (spec_.tenant.empty()) spec_.tenant = "default";
  if (spec_.user.empty()) spec_.user = "default";
  if (spec_.name.empty()) spec_.name = "job";
  return std::move(spec_);
}

JobSpec ToJobSpec(const ResourceCatalog& catalog, const py::dict& d) {
  std::string name = "job";
  if (d.contains("name") && !d["name"].is_none()) name = Str(d["name"]);
  JobBuilder b(catalog, fmt::format("job \"{}\"", name));
  for (auto [k, v] : d) b.Set(Key(k), v);
  return b.Finish();
}

py::dict FromJobSpec(const ResourceCatalog& catalog, const JobSpec& spec) {
  py::dict d;
  d["name"] = spec.name;
  d["tenant"] = spec.tenant;
  d["user"] = spec.user;
  d["class"] = std::string(PriorityClassName(spec.priority_class));
  d["priority"] = spec.priority;
  py::list groups;
  for (const TaskGroup& g : spec.task_groups) {
    py::dict gd;
    gd["name"] = g.name;
    gd["count"] = g.count;
    gd["resources"] = FromResources(catalog, g.per_task);
    groups.append(gd);
  }
  d["task_groups"] = groups;
  d["gpu_model"] = spec.constraints.gpu_models;
  d["time_limit"] = Seconds(spec.time_limit);
  d["preemptible"] = spec.preemptible;
  return d;
}

TenantSpec ToTenantSpec(const ResourceCatalog& catalog, const py::dict& d) {
  TenantSpec t;
  if (d.contains("name")) t.name = Str(d["name"]);
  const std::string what = fmt::format("tenant \"{}\"", t.name);
  for (auto [k, v] : d) {
    const std::string key = Key(k);
    if (v.is_none() || key == "name") continue;
    if (key == "parent") {
      t.parent = Str(v);
    } else if (key == "weight") {
      if (!py::isinstance<py::int_>(v)) Bad(what + ": weight", "expected an integer");
      t.weight = v.cast<std::int64_t>();
    } else if (key == "guarantee") {
      t.guarantee = ToResources(catalog, v, what + ": guarantee");
    } else if (key == "borrowing_limit") {
      t.borrowing_limit = ToResources(catalog, v, what + ": borrowing_limit");
    } else if (key == "lending_limit") {
      t.lending_limit = ToResources(catalog, v, what + ": lending_limit");
    } else {
      Bad(what, fmt::format("unknown key \"{}\" (known: name, parent, weight, guarantee, borrowing_limit, "
                            "lending_limit)",
                            key));
    }
  }
  return t;
}

std::vector<TenantSpec> ToTenantSpecs(const ResourceCatalog& catalog, const py::list& tenants) {
  std::vector<TenantSpec> out;
  for (py::handle t : tenants) {
    if (!py::isinstance<py::dict>(t)) Bad("tenants", "expected a list of dicts");
    out.push_back(ToTenantSpec(catalog, t.cast<py::dict>()));
  }
  return out;
}

NodeSpec ToNodeSpec(const ResourceCatalog& catalog, const py::dict& d) {
  NodeSpec n;
  if (d.contains("name")) n.name = Str(d["name"]);
  const std::string what = fmt::format("node \"{}\"", n.name);
  int gpus = 0;
  int per_domain = 0;
  std::string model;
  for (auto [k, v] : d) {
    const std::string key = Key(k);
    if (v.is_none()) continue;
    if (key == "name") {
      continue;
    } else if (key == "cpu" || key == "memory") {
      const ResourceKind kind = key == "cpu" ? kCpu : kMemory;
      n.capacity.Set(kind, ToQuantity(catalog, kind, v, fmt::format("{}: {}", what, key)));
    } else if (key == "resources") {
      const ResourceVector r = ToResources(catalog, v, what + ": resources");
      for (int i = 0; i < catalog.size(); ++i) {
        const ResourceKind kind(static_cast<std::uint8_t>(i));
        if (r.Get(kind) != 0 && kind != kGpu) n.capacity.Set(kind, r.Get(kind));
        if (kind == kGpu && r.Get(kind) != 0) gpus = static_cast<int>(r.Get(kind));
      }
    } else if (key == "gpus" || key == "gpu") {
      if (!py::isinstance<py::int_>(v)) Bad(what + ": " + key, "expected a GPU count");
      gpus = v.cast<int>();
    } else if (key == "gpu_model") {
      model = Str(v);
    } else if (key == "gpus_per_domain") {
      per_domain = v.cast<int>();
    } else if (key == "topology") {
      n.topology = Str(v);
    } else if (key == "labels") {
      for (auto [lk, lv] : v.cast<py::dict>()) n.labels[Str(lk)] = Str(lv);
    } else {
      Bad(what, fmt::format("unknown key \"{}\" (known: name, cpu, memory, resources, gpus, gpu_model, "
                            "gpus_per_domain, topology, labels)",
                            key));
    }
  }
  if (gpus < 0 || gpus > kMaxGpusPerNode) Bad(what + ": gpus", fmt::format("{} is not in 0..{}", gpus, kMaxGpusPerNode));
  for (int g = 0; g < gpus; ++g)
    n.gpus.push_back({.index = g, .model = model.empty() ? "GPU" : model,
                      .topology_domain = per_domain > 0 ? g / per_domain : 0});
  n.capacity.Set(kGpu, gpus);
  return n;
}

}  // namespace mlsched::py_bind
