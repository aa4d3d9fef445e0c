// Alibaba cluster-trace-gpu-v2023 ("openb") reader (modelling in
// include/mlsched/sim/trace.h).
//
// Both files are CSV with a header line; columns are found by name so that
// the node lists of other openb releases (which add columns) read too. The
// node list is read strictly (a bad node is an error even when lenient: a
// skipped node would silently change the cluster); pods follow ReadOptions.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "mlsched/sim/trace.h"
#include "mlsched/status_macros.h"
#include "sim/trace_input.h"

namespace mlsched::sim {

namespace {

using internal::LineIssues;

constexpr std::string_view kGpuMilli = "gpu-milli";
constexpr ResourceKind kGpuMilliKind{3};                 // the first extended kind
constexpr std::int64_t kMaxMib = std::int64_t{1} << 30;  // 1 PiB; keeps bytes < 2^50

// Column positions by header name. Required names must be present; other
// columns are ignored.
class Columns {
 public:
  absl::Status Read(std::string_view source, std::int64_t line, std::string_view header,
                    std::initializer_list<std::string_view> required) {
    std::vector<std::string> names;
    if (absl::Status s = internal::SplitCsv(header, names); !s.ok())
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: header: {}", source, line, std::string(s.message())));
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string name(internal::Trim(names[i]));
      if (!index_.emplace(name, static_cast<int>(i)).second)
        return absl::InvalidArgumentError(
            fmt::format("{}:{}: column \"{}\" appears twice", source, line, name));
    }
    for (std::string_view name : required) {
      if (!index_.contains(name)) {
        return absl::InvalidArgumentError(
            fmt::format("{}:{}: missing column \"{}\" (header: {})", source, line, name, header));
      }
    }
    width_ = names.size();
    return absl::OkStatus();
  }
  // -1 when absent.
  int operator[](std::string_view name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? -1 : it->second;
  }
  std::size_t width() const { return width_; }

 private:
  std::map<std::string, int, std::less<>> index_;  // std::string_view lookups
  std::size_t width_ = 0;
};

// The cells of one data line, read by column name; each reader records the
// first problem in `why` and returns nullopt.
class Row {
 public:
  Row(const Columns& columns, const std::vector<std::string>& cells, std::string& why)
      : columns_(columns), cells_(cells), why_(why) {}

  std::string_view Text(std::string_view column) const {
    const int i = columns_[column];
    return i < 0 ? std::string_view() : internal::Trim(cells_[i]);
  }
  std::nullopt_t Bad(std::string_view column, std::string_view reason) const {
    why_ = fmt::format("column {} ({}) = \"{}\": {}", columns_[column] + 1, column, Text(column),
                       reason);
    return std::nullopt;
  }
  std::optional<std::int64_t> Int(std::string_view column, std::int64_t min,
                                  std::int64_t max) const {
    const std::optional<std::int64_t> n = internal::ParseInt(Text(column));
    if (!n) return Bad(column, "not an integer");
    if (*n < min || *n > max) return Bad(column, fmt::format("must be in [{}, {}]", min, max));
    return n;
  }
  // Seconds >= 0; `empty` when the cell is empty.
  std::optional<Duration> Seconds(std::string_view column, Duration empty) const {
    if (Text(column).empty()) return empty;
    const std::optional<Duration> d = internal::ParseSeconds(Text(column));
    if (!d) return Bad(column, "not a number of seconds");
    if (*d < 0) return Bad(column, "negative");
    return d;
  }

 private:
  const Columns& columns_;
  const std::vector<std::string>& cells_;
  std::string& why_;
};

// Calls visit(line, cells) for each data line after the header, until it
// fails or `stop` becomes true. Without `issues`, every bad line is an error.
template <typename Visit>
absl::Status ForEachRow(std::string_view text, std::string_view source, Columns& columns,
                        std::initializer_list<std::string_view> required, LineIssues* issues,
                        const bool& stop, Visit visit) {
  absl::Status status;
  bool header = false;
  std::vector<std::string> cells;
  internal::ForEachLine(text, [&](std::int64_t line, std::string_view s) {
    if (issues != nullptr) ++issues->stats().lines;
    if (internal::Trim(s).empty()) return true;
    if (!header) {
      header = true;
      status = columns.Read(source, line, s, required);
      return status.ok();
    }
    auto malformed = [&](std::string_view why) {
      if (issues != nullptr) return issues->Malformed(line, why);
      return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, why));
    };
    if (absl::Status s2 = internal::SplitCsv(s, cells); !s2.ok()) {
      status = malformed(std::string(s2.message()));
      return status.ok();
    }
    if (cells.size() != columns.width()) {
      status = malformed(fmt::format("{} cells; the header has {}", cells.size(), columns.width()));
      return status.ok();
    }
    status = visit(line, cells);
    return status.ok() && !stop;
  });
  if (status.ok() && !header)
    return absl::InvalidArgumentError(fmt::format("{}: empty file (no header)", source));
  return status;
}

absl::StatusOr<std::vector<NodeSpec>> ReadNodes(const std::string& path) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  std::vector<NodeSpec> nodes;
  absl::flat_hash_map<std::string, std::int64_t> first_line;
  Columns columns;
  std::string why;
  const bool never = false;
  MLSCHED_RETURN_IF_ERROR(ForEachRow(
      text, path, columns, {"sn", "cpu_milli", "memory_mib", "gpu", "model"}, nullptr, never,
      [&](std::int64_t line, const std::vector<std::string>& cells) -> absl::Status {
        const Row row(columns, cells, why);
        auto error = [&](std::string_view what) {
          return absl::InvalidArgumentError(fmt::format("{}:{}: {}", path, line, what));
        };
        const std::string name(row.Text("sn"));
        if (name.empty())
          return error(fmt::format("column {} (sn): empty node name", columns["sn"] + 1));
        if (const auto [it, added] = first_line.emplace(name, line); !added)
          return error(
              fmt::format("node \"{}\": duplicate name (first on line {})", name, it->second));
        const std::optional<std::int64_t> cpu = row.Int("cpu_milli", 1, std::int64_t{1} << 40);
        const std::optional<std::int64_t> mib =
            cpu ? row.Int("memory_mib", 1, kMaxMib) : std::nullopt;
        const std::optional<std::int64_t> gpus =
            mib ? row.Int("gpu", 0, kMaxGpusPerNode) : std::nullopt;
        if (!gpus) return error(why);
        const std::string model(row.Text("model"));
        if (*gpus > 0 && model.empty())
          return error(
              fmt::format("column {} (model): empty, but the node has GPUs", columns["model"] + 1));
        NodeSpec& node = nodes.emplace_back();
        node.name = name;
        node.capacity = ResourceVector::Of(*cpu, *mib << 20, 0);
        node.capacity.Set(kGpuMilliKind, *gpus * 1000);
        for (int g = 0; g < *gpus; ++g) node.gpus.push_back({.index = g, .model = model});
        if (absl::Status s = node.Validate(); !s.ok()) return error(std::string(s.message()));
        return absl::OkStatus();
      }));
  if (nodes.empty()) return absl::InvalidArgumentError(fmt::format("{}: no nodes", path));
  return nodes;
}

std::optional<std::pair<PriorityClass, bool>> ClassOf(std::string_view qos) {
  if (qos == "LS") return std::pair{PriorityClass::kHigh, false};
  if (qos == "Guaranteed" || qos == "Burstable") return std::pair{PriorityClass::kMedium, false};
  if (qos == "BE") return std::pair{PriorityClass::kLow, true};
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Workload> ReadAlibabaGpu2023(const std::string& pods_csv,
                                            const std::string& nodes_csv,
                                            const ReadOptions& options, ReadStats* stats) {
  Workload workload{.name = std::string(internal::BaseName(pods_csv)),
                    .extended_resources = {std::string(kGpuMilli)}};
  MLSCHED_ASSIGN_OR_RETURN(workload.nodes, ReadNodes(nodes_csv));
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(pods_csv));
  LineIssues issues(pods_csv, options, stats);
  if (options.max_jobs == 0) return issues.Finish(0);  // "no jobs"
  Columns columns;
  std::string why;
  bool enough = false;  // max_jobs reached
  MLSCHED_RETURN_IF_ERROR(ForEachRow(
      text, pods_csv, columns,
      {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "qos", "creation_time",
       "deletion_time", "scheduled_time"},
      &issues, enough,
      [&](std::int64_t line, const std::vector<std::string>& cells) -> absl::Status {
        const Row row(columns, cells, why);
        const std::string name(row.Text("name"));
        if (name.empty())
          return issues.Malformed(
              line, fmt::format("column {} (name): empty pod name", columns["name"] + 1));
        const std::optional<std::int64_t> cpu = row.Int("cpu_milli", 0, std::int64_t{1} << 40);
        const std::optional<std::int64_t> mib =
            cpu ? row.Int("memory_mib", 0, kMaxMib) : std::nullopt;
        const std::optional<std::int64_t> gpus =
            mib ? row.Int("num_gpu", 0, kMaxGpusPerNode) : std::nullopt;
        std::optional<std::int64_t> milli = gpus ? row.Int("gpu_milli", 0, 1000) : std::nullopt;
        if (milli && *gpus == 0 && *milli > 0) {
          milli = row.Bad("gpu_milli", "a GPU share without a GPU (num_gpu = 0)");
        } else if (milli && *gpus > 1 && *milli < 1000 && *milli > 0) {
          milli = row.Bad("gpu_milli", "a fractional share of several GPUs");
        }
        std::optional<std::pair<PriorityClass, bool>> klass;
        if (milli) {
          klass = ClassOf(row.Text("qos"));
          if (!klass) row.Bad("qos", "not a QoS class (LS, Guaranteed, Burstable, BE)");
        }
        const std::optional<Duration> created =
            klass ? row.Seconds("creation_time", -1) : std::nullopt;
        const std::optional<Duration> deleted =
            created ? row.Seconds("deletion_time", -1) : std::nullopt;
        const std::optional<Duration> scheduled =
            deleted ? row.Seconds("scheduled_time", -1) : std::nullopt;
        if (scheduled && *created < 0) row.Bad("creation_time", "empty");
        if (!scheduled || *created < 0) return issues.Malformed(line, why);
        const std::string pod = fmt::format("pod \"{}\"", name);
        if (*deleted < 0) {
          issues.Drop(line, "never deleted (no end time)", pod);
          return absl::OkStatus();
        }
        const Duration runtime = *deleted - (*scheduled >= 0 ? *scheduled : *created);
        if (runtime < 0) {
          issues.Drop(line, "negative duration (deleted before it was scheduled)", pod);
          return absl::OkStatus();
        }
        ResourceVector request = ResourceVector::Of(*cpu, *mib << 20, 0);
        if (*gpus >= 1 && (*milli == 1000 || *milli == 0)) {
          request.Set(kGpu, *gpus);
          request.Set(kGpuMilliKind, *gpus * 1000);
        } else if (*gpus == 1) {
          request.Set(kGpuMilliKind, *milli);  // a share of one GPU, no device
        }
        if (request.IsZero()) {
          issues.Drop(line, "requests no resources", pod);
          return absl::OkStatus();
        }
        TraceJob& j = workload.jobs.emplace_back();
        j.spec.name = name;
        j.spec.tenant = fmt::format("qos-{}", row.Text("qos"));
        j.spec.user = "alibaba";
        j.spec.priority_class = klass->first;
        j.spec.preemptible = klass->second;
        j.spec.task_groups = {{.count = 1, .per_task = request}};
        for (std::string_view rest = row.Text("gpu_spec"); !rest.empty();) {
          const std::size_t bar = rest.find('|');
          const std::string_view model = internal::Trim(rest.substr(0, bar));
          if (!model.empty()) j.spec.constraints.gpu_models.emplace_back(model);
          rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
        }
        if (request.gpus() == 0 && !j.spec.constraints.gpu_models.empty())
          issues.Count("GPU-share pods name a GPU model (not enforced for shares)");
        j.submit = *created;
        j.runtime = runtime;
        j.trace_id = line;
        if (absl::Status s = j.spec.Validate(); !s.ok()) {
          workload.jobs.pop_back();
          return issues.Malformed(line, std::string(s.message()));
        }
        enough = options.max_jobs >= 0 &&
                 static_cast<std::int64_t>(workload.jobs.size()) >= options.max_jobs;
        return absl::OkStatus();
      }));
  MLSCHED_RETURN_IF_ERROR(issues.Finish(static_cast<std::int64_t>(workload.jobs.size())));
  std::stable_sort(workload.jobs.begin(), workload.jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit < b.submit; });
  return workload;
}

}  // namespace mlsched::sim
