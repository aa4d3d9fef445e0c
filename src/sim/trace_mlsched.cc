// mlsched's own trace files: jobs and clusters as CSV or JSON Lines (the
// formats are described in README.md, "Trace files"), and ReadTrace.
//
// Both syntaxes are first turned into a Record — for each known field, its
// text (if given) and where it came from ("column 8 (cpu)" or "key \"cpu\"")
// — and one converter per kind of record makes the job or the nodes, so CSV
// and JSON Lines accept the same values and report errors the same way:
// "<file>:<line>: <where> = \"<text>\": <why>".
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "internal/duration.h"
#include "internal/json.h"
#include "mlsched/sim/trace.h"
#include "mlsched/status_macros.h"
#include "sim/trace_input.h"

namespace mlsched::sim {

namespace {

using internal::LineIssues;

constexpr std::string_view kTimeForm =
    "times are seconds (\"90\", \"0.5\") or durations such as \"90s\", \"2h\", \"1h30m\" "
    "(units d, h, m, s, ms, us)";

struct Cell {
  bool present = false;
  std::string text;
  int column = 0;  // CSV: 1-based column of the cell; 0 in JSON Lines
};

// The fields of one line, by index into the format's field names.
class Record {
 public:
  Record(std::span<const std::string_view> names, std::string& why) : names_(names), why_(why) {}

  void Reset(bool json) {
    json_ = json;
    cells_.assign(names_.size(), {});
  }
  // "column 8 (cpu)" or "key \"cpu\"", for messages.
  std::string Where(std::size_t f) const {
    if (json_) return fmt::format("key \"{}\"", names_[f]);
    if (cells_[f].column > 0) return fmt::format("column {} ({})", cells_[f].column, names_[f]);
    return fmt::format("column {}", names_[f]);
  }
  Cell& operator[](std::size_t f) { return cells_[f]; }
  bool Has(std::size_t f) const { return cells_[f].present; }
  const std::string& Text(std::size_t f) const { return cells_[f].text; }

  std::nullopt_t Bad(std::size_t f, std::string_view reason) const {
    why_ = cells_[f].present ? fmt::format("{} = \"{}\": {}", Where(f), cells_[f].text, reason)
                             : fmt::format("{}: {}", Where(f), reason);
    return std::nullopt;
  }
  std::optional<std::string> Required(std::size_t f) const {
    if (!Has(f)) return Bad(f, "missing");
    return Text(f);
  }
  std::optional<std::int64_t> Int(std::size_t f, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) const {
    if (!Has(f)) return fallback;
    const std::optional<std::int64_t> n = internal::ParseInt(Text(f));
    if (!n) return Bad(f, "not an integer");
    if (*n < min || *n > max) return Bad(f, fmt::format("must be in [{}, {}]", min, max));
    return n;
  }
  // A time: plain seconds, or a duration text; >= 0.
  std::optional<Duration> Time(std::size_t f, std::optional<Duration> fallback) const {
    if (!Has(f)) {
      if (fallback) return fallback;
      return Bad(f, "missing");
    }
    const std::string& text = Text(f);
    if (const std::optional<Duration> seconds = internal::ParseSeconds(text)) {
      if (*seconds < 0) return Bad(f, "must not be negative");
      return seconds;
    }
    std::string reason;
    const std::optional<Duration> d = internal::ParseDurationText(text, kTimeForm, reason);
    if (!d) return Bad(f, reason);
    return d;
  }
  // A resource quantity ("8", "500m", "64Gi"); "0" is zero.
  std::optional<std::int64_t> Quantity(std::size_t f, ResourceKind kind) const {
    if (!Has(f)) return 0;
    const std::string& text = Text(f);
    if (text.find_first_not_of("0.") == std::string::npos && text.find('0') != std::string::npos)
      return 0;
    static const ResourceCatalog* const kCatalog = new ResourceCatalog();
    const absl::StatusOr<std::int64_t> q = ParseQuantity(*kCatalog, kind, text);
    if (q.ok()) return *q;
    // ParseQuantity says "cpu=8x: why"; the where and the text are ours.
    std::string message(q.status().message());
    const std::string prefix = fmt::format("{}={}: ", kCatalog->Name(kind), text);
    if (message.starts_with(prefix)) message.erase(0, prefix.size());
    return Bad(f, message);
  }
  std::optional<bool> Bool(std::size_t f) const {
    if (!Has(f)) return false;
    const std::string& t = Text(f);
    if (t == "true" || t == "1" || t == "yes") return true;
    if (t == "false" || t == "0" || t == "no") return false;
    return Bad(f, "not a boolean (true, false, 1, 0, yes, no)");
  }
  // "A100-80GB|H100-80GB" -> both.
  std::vector<std::string> List(std::size_t f) const {
    std::vector<std::string> out;
    for (std::string_view rest = Has(f) ? std::string_view(Text(f)) : std::string_view();
         !rest.empty();) {
      const std::size_t bar = rest.find('|');
      const std::string_view item = internal::Trim(rest.substr(0, bar));
      if (!item.empty()) out.emplace_back(item);
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    return out;
  }

 private:
  std::span<const std::string_view> names_;
  bool json_ = false;
  std::vector<Cell> cells_;
  std::string& why_;
};

std::string KnownList(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += out.empty() ? std::string(n) : fmt::format(", {}", n);
  return out;
}

// Reads records line by line and hands each to visit(line, record, why),
// which returns false after putting the reason in `why` (a malformed line;
// Record::Bad writes there too). Stops when `stop` becomes true. Without
// `issues`, every bad line is an error.
template <typename Visit>
absl::Status ForEachRecord(std::string_view text, std::string_view source, bool json,
                           std::span<const std::string_view> names,
                           std::span<const std::size_t> required_columns, LineIssues* issues,
                           const bool& stop, Visit visit) {
  std::string why;
  Record record(names, why);
  std::vector<int> field_of_column;  // CSV: header column -> field
  bool header = json;
  std::vector<std::string> cells;
  absl::Status status;
  auto fail = [&](std::int64_t line, std::string_view reason) {
    if (issues != nullptr) return issues->Malformed(line, reason);
    return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, reason));
  };
  auto error = [&](std::int64_t line, std::string_view reason) {
    return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, reason));
  };
  internal::ForEachLine(text, [&](std::int64_t line, std::string_view s) {
    if (issues != nullptr) ++issues->stats().lines;
    const std::string_view trimmed = internal::Trim(s);
    if (trimmed.empty() || (!json && trimmed.front() == '#')) return true;
    record.Reset(json);
    if (!header) {  // CSV header: every column must be a known field, once
      header = true;
      if (absl::Status split = internal::SplitCsv(s, cells); !split.ok()) {
        status = error(line, fmt::format("header: {}", std::string(split.message())));
        return false;
      }
      std::vector<bool> seen(names.size(), false);
      for (std::size_t c = 0; c < cells.size(); ++c) {
        const std::string_view name = internal::Trim(cells[c]);
        const auto it = std::find(names.begin(), names.end(), name);
        if (it == names.end()) {
          status = error(line, fmt::format("column {} \"{}\": unknown column (known: {})", c + 1,
                                           name, KnownList(names)));
          return false;
        }
        const auto f = static_cast<std::size_t>(it - names.begin());
        if (seen[f]) {
          status = error(line, fmt::format("column {} \"{}\": appears twice", c + 1, name));
          return false;
        }
        seen[f] = true;
        field_of_column.push_back(static_cast<int>(f));
      }
      for (std::size_t f : required_columns) {
        if (!seen[f]) {
          status = error(line, fmt::format("missing column \"{}\"", names[f]));
          return false;
        }
      }
      return true;
    }
    if (json) {
      absl::StatusOr<internal::JsonValue> value = internal::ParseJson(trimmed);
      if (!value.ok()) {
        // "line 1, column C: why" -> "column C: why" (the line is ours).
        std::string message(value.status().message());
        if (message.starts_with("line 1, ")) message.erase(0, 8);
        status = fail(line, message);
        return status.ok();
      }
      if (!value->is_object()) {
        status = fail(line, fmt::format("expected a JSON object, got {}", value->KindName()));
        return status.ok();
      }
      for (const internal::JsonMember& m : value->members()) {
        const auto it = std::find(names.begin(), names.end(), m.key);
        if (it == names.end()) {
          status = fail(line, fmt::format("key {}: unknown key (known: {})",
                                          internal::JsonQuote(m.key), KnownList(names)));
          return status.ok();
        }
        const auto f = static_cast<std::size_t>(it - names.begin());
        Cell& cell = record[f];
        const internal::JsonValue& v = m.value;
        cell.present = true;
        if (v.is_string()) {
          cell.text = std::string(internal::Trim(v.string_value()));
          cell.present = !cell.text.empty();
        } else if (v.is_number()) {
          cell.text = v.number_text();
        } else if (v.is_bool()) {
          cell.text = v.bool_value() ? "true" : "false";
        } else if (v.is_null()) {
          cell.present = false;
        } else if (v.is_array() && m.key == "gpu_model") {  // ["A100-80GB", "H100-80GB"]
          for (const internal::JsonValue& e : v.elements()) {
            if (!e.is_string()) {
              status =
                  fail(line, fmt::format("{} = {}: expected strings", record.Where(f), v.Summary()));
              return status.ok();
            }
            cell.text += cell.text.empty() ? e.string_value() : "|" + e.string_value();
          }
          cell.present = !cell.text.empty();
        } else {
          status = fail(line, fmt::format("{} = {}: expected a string, number or boolean",
                                          record.Where(f), v.Summary()));
          return status.ok();
        }
      }
    } else {
      if (absl::Status split = internal::SplitCsv(s, cells); !split.ok()) {
        status = fail(line, std::string(split.message()));
        return status.ok();
      }
      if (cells.size() != field_of_column.size()) {
        status = fail(
            line, fmt::format("{} cells; the header has {}", cells.size(), field_of_column.size()));
        return status.ok();
      }
      for (std::size_t c = 0; c < cells.size(); ++c) {
        Cell& cell = record[static_cast<std::size_t>(field_of_column[c])];
        cell.column = static_cast<int>(c) + 1;
        cell.text = std::string(internal::Trim(cells[c]));
        cell.present = !cell.text.empty();
      }
    }
    why.clear();
    if (!visit(line, record, why)) {
      status = fail(line, why);
      return status.ok();
    }
    return !stop;
  });
  if (status.ok() && !header)
    return absl::InvalidArgumentError(fmt::format("{}: empty file (no header)", source));
  return status;
}

// ---------------------------------------------------------------------------
// Jobs

// Field indices of a job record (struct scope keeps kCpu from hiding mlsched::kCpu).
struct Job {
  enum : std::size_t {
    kSubmit,
    kName,
    kTenant,
    kUser,
    kClass,
    kPriority,
    kTasks,
    kCpu,
    kMemory,
    kGpu,
    kGpuModel,
    kRuntime,
    kTimeLimit,
    kPreemptible,
    kCount
  };
};
constexpr std::string_view kJobFields[Job::kCount] = {
    "submit", "name",   "tenant", "user",      "class",   "priority",   "tasks",
    "cpu",    "memory", "gpu",    "gpu_model", "runtime", "time_limit", "preemptible"};
constexpr std::size_t kJobRequired[] = {Job::kSubmit, Job::kRuntime};

// nullopt after Record::Bad.
std::optional<TraceJob> JobOf(const Record& r, std::int64_t line, std::string& why) {
  TraceJob j;
  j.trace_id = line;
  const std::optional<Duration> submit = r.Time(Job::kSubmit, std::nullopt);
  const std::optional<Duration> runtime =
      submit ? r.Time(Job::kRuntime, std::nullopt) : std::nullopt;
  const std::optional<Duration> limit = runtime ? r.Time(Job::kTimeLimit, 0) : std::nullopt;
  const std::optional<std::int64_t> priority =
      limit ? r.Int(Job::kPriority, 0, kMinPriority, kMaxPriority) : std::nullopt;
  const std::optional<std::int64_t> tasks =
      priority ? r.Int(Job::kTasks, 1, 1, kMaxTasksPerGroup) : std::nullopt;
  const std::optional<std::int64_t> cpu = tasks ? r.Quantity(Job::kCpu, kCpu) : std::nullopt;
  const std::optional<std::int64_t> memory = cpu ? r.Quantity(Job::kMemory, kMemory) : std::nullopt;
  const std::optional<std::int64_t> gpu =
      memory ? r.Int(Job::kGpu, 0, 0, kMaxGpusPerNode) : std::nullopt;
  const std::optional<bool> preemptible = gpu ? r.Bool(Job::kPreemptible) : std::nullopt;
  if (!preemptible) return std::nullopt;
  PriorityClass klass = PriorityClass::kMedium;
  if (r.Has(Job::kClass)) {
    const std::string& c = r.Text(Job::kClass);
    if (c == "high") {
      klass = PriorityClass::kHigh;
    } else if (c == "low") {
      klass = PriorityClass::kLow;
    } else if (c != "medium") {
      return r.Bad(Job::kClass, "not a priority class (high, medium, low)");
    }
  }
  j.submit = *submit;
  j.runtime = *runtime;
  JobSpec& s = j.spec;
  s.name = r.Has(Job::kName) ? r.Text(Job::kName) : fmt::format("job-{}", line);
  s.tenant = r.Has(Job::kTenant) ? r.Text(Job::kTenant) : "default";
  s.user = r.Has(Job::kUser) ? r.Text(Job::kUser) : "default";
  s.priority_class = klass;
  s.priority = static_cast<std::int32_t>(*priority);
  s.task_groups = {{.count = static_cast<std::int32_t>(*tasks),
                    .per_task = ResourceVector::Of(*cpu, *memory, *gpu)}};
  s.constraints.gpu_models = r.List(Job::kGpuModel);
  s.time_limit = *limit;
  s.preemptible = *preemptible;
  if (absl::Status valid = s.Validate(); !valid.ok()) {
    why = std::string(valid.message());
    return std::nullopt;
  }
  return j;
}

absl::StatusOr<Workload> ParseJobs(std::string_view text, std::string_view source, bool json,
                                   const ReadOptions& options, ReadStats* stats) {
  LineIssues issues(source, options, stats);
  if (options.max_jobs == 0) return issues.Finish(0);  // "no jobs"
  Workload workload{.name = std::string(internal::BaseName(source))};
  bool enough = false;  // max_jobs reached
  MLSCHED_RETURN_IF_ERROR(
      ForEachRecord(text, source, json, kJobFields, kJobRequired, &issues, enough,
                    [&](std::int64_t line, const Record& r, std::string& why) {
                      std::optional<TraceJob> job = JobOf(r, line, why);
                      if (!job) return false;
                      workload.jobs.push_back(*std::move(job));
                      enough = options.max_jobs >= 0 &&
                               static_cast<std::int64_t>(workload.jobs.size()) >= options.max_jobs;
                      return true;
                    }));
  MLSCHED_RETURN_IF_ERROR(issues.Finish(static_cast<std::int64_t>(workload.jobs.size())));
  std::stable_sort(workload.jobs.begin(), workload.jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit < b.submit; });
  return workload;
}

// ---------------------------------------------------------------------------
// Clusters

struct Node {
  enum : std::size_t { kName, kCount, kCpu, kMemory, kGpus, kGpuModel, kTopology, kFields };
};
constexpr std::string_view kNodeFields[Node::kFields] = {"name", "count",     "cpu",     "memory",
                                                         "gpus", "gpu_model", "topology"};
constexpr std::size_t kNodeRequired[] = {Node::kName, Node::kCpu, Node::kMemory};
constexpr std::int64_t kMaxNodesPerLine = 100'000;

absl::StatusOr<std::vector<NodeSpec>> ParseCluster(std::string_view text, std::string_view source,
                                                   bool json) {
  std::vector<NodeSpec> nodes;
  absl::flat_hash_map<std::string, std::int64_t> first_line;
  const bool never = false;
  MLSCHED_RETURN_IF_ERROR(ForEachRecord(
      text, source, json, kNodeFields, kNodeRequired, nullptr, never,
      [&](std::int64_t line, const Record& r, std::string& why) {
        const std::optional<std::string> name = r.Required(Node::kName);
        const std::optional<std::int64_t> count =
            name ? r.Int(Node::kCount, -1, 1, kMaxNodesPerLine) : std::nullopt;
        std::optional<std::int64_t> cpu = count ? r.Quantity(Node::kCpu, kCpu) : std::nullopt;
        if (cpu && *cpu == 0)
          cpu = r.Bad(Node::kCpu, r.Has(Node::kCpu) ? "must be > 0" : "missing");
        std::optional<std::int64_t> memory =
            cpu ? r.Quantity(Node::kMemory, kMemory) : std::nullopt;
        if (memory && *memory == 0)
          memory = r.Bad(Node::kMemory, r.Has(Node::kMemory) ? "must be > 0" : "missing");
        std::optional<std::int64_t> gpus =
            memory ? r.Int(Node::kGpus, 0, 0, kMaxGpusPerNode) : std::nullopt;
        if (gpus && *gpus > 0 && !r.Has(Node::kGpuModel))
          gpus = r.Bad(Node::kGpuModel, "missing (the nodes have GPUs)");
        if (!gpus) return false;
        NodeSpec node{.name = *name,
                      .capacity = ResourceVector::Of(*cpu, *memory, 0),
                      .topology = r.Has(Node::kTopology) ? r.Text(Node::kTopology) : std::string()};
        for (int g = 0; g < *gpus; ++g)
          node.gpus.push_back({.index = g, .model = r.Text(Node::kGpuModel)});
        // count absent: one node called `name`; else name-0 .. name-(count-1).
        for (std::int64_t i = 0; i < std::max<std::int64_t>(*count, 1); ++i) {
          NodeSpec& n = nodes.emplace_back(node);
          if (*count >= 0) n.name = fmt::format("{}-{}", *name, i);
          if (absl::Status valid = n.Validate(); !valid.ok()) {
            why = std::string(valid.message());
            return false;
          }
          if (const auto [it, added] = first_line.emplace(n.name, line); !added) {
            r.Bad(Node::kName,
                  fmt::format("node \"{}\" is already defined on line {}", n.name, it->second));
            return false;
          }
        }
        return true;
      }));
  if (nodes.empty()) return absl::InvalidArgumentError(fmt::format("{}: no nodes", source));
  return nodes;
}

bool EndsWith(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

}  // namespace

absl::StatusOr<Workload> ParseJobsCsv(std::string_view text, std::string_view source,
                                      const ReadOptions& options, ReadStats* stats) {
  return ParseJobs(text, source, /*json=*/false, options, stats);
}

absl::StatusOr<Workload> ParseJobsJsonl(std::string_view text, std::string_view source,
                                        const ReadOptions& options, ReadStats* stats) {
  return ParseJobs(text, source, /*json=*/true, options, stats);
}

absl::StatusOr<Workload> ReadJobsCsv(const std::string& path, const ReadOptions& options,
                                     ReadStats* stats) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  return ParseJobsCsv(text, path, options, stats);
}

absl::StatusOr<Workload> ReadJobsJsonl(const std::string& path, const ReadOptions& options,
                                       ReadStats* stats) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  return ParseJobsJsonl(text, path, options, stats);
}

absl::StatusOr<std::vector<NodeSpec>> ParseClusterCsv(std::string_view text,
                                                      std::string_view source) {
  return ParseCluster(text, source, /*json=*/false);
}

absl::StatusOr<std::vector<NodeSpec>> ParseClusterJsonl(std::string_view text,
                                                        std::string_view source) {
  return ParseCluster(text, source, /*json=*/true);
}

absl::StatusOr<std::vector<NodeSpec>> ReadClusterCsv(const std::string& path) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  return ParseClusterCsv(text, path);
}

absl::StatusOr<std::vector<NodeSpec>> ReadClusterJsonl(const std::string& path) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  return ParseClusterJsonl(text, path);
}

absl::StatusOr<Workload> ReadTrace(const std::string& path, const ReadOptions& options,
                                   ReadStats* stats) {
  std::string_view name = internal::BaseName(path);
  if (EndsWith(name, ".gz")) name.remove_suffix(3);
  if (EndsWith(name, ".swf")) return ReadSwf(path, options, stats);
  if (EndsWith(name, ".csv")) return ReadJobsCsv(path, options, stats);
  if (EndsWith(name, ".jsonl")) return ReadJobsJsonl(path, options, stats);
  return absl::InvalidArgumentError(fmt::format(
      "{}: unknown trace format (by name: .swf, .csv or .jsonl, each optionally .gz)", path));
}

}  // namespace mlsched::sim
