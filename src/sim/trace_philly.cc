// Philly arrivals as published with Gavel (modelling in
// include/mlsched/sim/trace.h).
//
// The throughput table and the cluster file are read strictly (a bad entry
// is an error even when lenient: it would silently change every duration or
// the cluster); the trace lines follow ReadOptions.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "internal/json.h"
#include "mlsched/sim/trace.h"
#include "mlsched/status_macros.h"
#include "sim/trace_input.h"

namespace mlsched::sim {

namespace {

constexpr int kFields = 7;
constexpr const char* kFieldNames[kFields + 1] = {
    "", "job_type", "command", "num_steps_arg", "needs_data_dir", "total_steps", "arrival_time_s", "scale_factor"};
enum Field { kJobType = 1, kTotalSteps = 5, kArrival = 6, kScale = 7 };
// Beyond any real cluster; keeps GPU counts and task counts small.
constexpr std::int64_t kMaxScale = 1 << 20;
constexpr std::int64_t kMaxSteps = std::int64_t{1} << 50;
// The GPU types of Gavel's cluster specs ("v100:p100:k80"), in that order.
constexpr std::string_view kSpecTypes[] = {"v100", "p100", "k80"};

std::optional<double> ParseDouble(std::string_view text) {
  text = internal::Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

// Steps per second of each job type at each tabulated scale factor, for one
// GPU type.
using Speeds = std::map<std::string, std::map<std::int64_t, double>, std::less<>>;

absl::StatusOr<Speeds> ParseThroughputs(std::string_view text, std::string_view source,
                                        std::string_view gpu_type) {
  Speeds speeds;
  int type_col = -1, job_col = -1, scale_col = -1, speed_col = -1;
  std::size_t width = 0;
  absl::Status status;
  std::vector<std::string> cells;
  bool any_type = false;
  internal::ForEachLine(text, [&](std::int64_t line, std::string_view s) {
    auto error = [&](std::string_view why) {
      status = absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, why));
      return false;
    };
    if (internal::Trim(s).empty()) return true;
    if (absl::Status split = internal::SplitCsv(s, cells); !split.ok()) return error(std::string(split.message()));
    if (width == 0) {  // the header
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string_view name = internal::Trim(cells[i]);
        int* col = name == "gpu_type" ? &type_col : name == "job_type" ? &job_col
                 : name == "scale_factor" ? &scale_col : name == "steps_per_sec" ? &speed_col : nullptr;
        if (col == nullptr) continue;
        if (*col >= 0) return error(fmt::format("column \"{}\" appears twice", name));
        *col = static_cast<int>(i);
      }
      for (auto [col, name] : {std::pair{type_col, "gpu_type"}, {job_col, "job_type"}, {scale_col, "scale_factor"},
                               {speed_col, "steps_per_sec"}}) {
        if (col < 0) return error(fmt::format("missing column \"{}\" (header: {})", name, s));
      }
      width = cells.size();
      return true;
    }
    if (cells.size() != width) return error(fmt::format("{} cells; the header has {}", cells.size(), width));
    const std::string_view type = internal::Trim(cells[type_col]), job = internal::Trim(cells[job_col]);
    if (type.empty()) return error(fmt::format("column {} (gpu_type): empty", type_col + 1));
    if (job.empty()) return error(fmt::format("column {} (job_type): empty", job_col + 1));
    const std::optional<std::int64_t> scale = internal::ParseInt(internal::Trim(cells[scale_col]));
    if (!scale || *scale < 1 || *scale > kMaxScale) {
      return error(fmt::format("column {} (scale_factor) = \"{}\": not a GPU count in [1, {}]", scale_col + 1,
                               cells[scale_col], kMaxScale));
    }
    const std::optional<double> speed = ParseDouble(cells[speed_col]);
    if (!speed || *speed < 0) {  // 0: the job type does not run at that scale (Gavel's table has some)
      return error(fmt::format("column {} (steps_per_sec) = \"{}\": not a number >= 0", speed_col + 1,
                               cells[speed_col]));
    }
    if (type != gpu_type) return true;
    any_type = true;
    if (!speeds[std::string(job)].emplace(*scale, *speed).second) {
      return error(fmt::format("{} \"{}\" at scale factor {}: listed twice", type, job, *scale));
    }
    return true;
  });
  MLSCHED_RETURN_IF_ERROR(status);
  if (width == 0) return absl::InvalidArgumentError(fmt::format("{}: empty (no header)", source));
  if (!any_type) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no throughput for GPU type \"{}\" (ReadOptions::philly_gpu_type)", source, gpu_type));
  }
  return speeds;
}

// Gavel's cluster spec: {"<name>": ["<v100>:<p100>:<k80>", ...]}; the first
// spec of the first member counts the GPUs of each type.
absl::StatusOr<std::int64_t> ParseClusterGpus(std::string_view text, std::string_view source,
                                              std::string_view gpu_type) {
  absl::StatusOr<internal::JsonValue> doc = internal::ParseJson(text);
  if (!doc.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", source, std::string(doc.status().message())));
  auto error = [&](const internal::JsonValue& at, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("{}:{}:{}: {}", source, at.position().line, at.position().column, why));
  };
  if (!doc->is_object() || doc->members().empty())
    return error(*doc, "expected an object naming a cluster, as {\"philly\": [\"500:0:0\"]}");
  const internal::JsonValue& specs = doc->members().front().value;
  const std::string& name = doc->members().front().key;
  if (!specs.is_array() || specs.elements().empty() || !specs.elements().front().is_string())
    return error(specs, fmt::format("\"{}\": expected a list of \"v100:p100:k80\" GPU counts", name));
  const internal::JsonValue& spec = specs.elements().front();
  const std::string& counts = spec.string_value();
  std::vector<std::int64_t> parsed;
  for (std::size_t begin = 0;;) {
    const std::size_t colon = counts.find(':', begin);
    const std::optional<std::int64_t> n = internal::ParseInt(std::string_view(counts).substr(begin, colon - begin));
    if (!n || *n < 0 || *n > kMaxScale)
      return error(spec, fmt::format("\"{}\": \"{}\": expected three GPU counts, v100:p100:k80", name, counts));
    parsed.push_back(*n);
    if (colon == std::string::npos) break;
    begin = colon + 1;
  }
  if (parsed.size() != 3)
    return error(spec, fmt::format("\"{}\": \"{}\": expected three GPU counts, v100:p100:k80", name, counts));
  for (std::size_t i = 0; i < 3; ++i) {
    if (gpu_type != kSpecTypes[i]) continue;
    if (parsed[i] == 0)
      return error(spec, fmt::format("\"{}\": \"{}\": no {} GPUs (ReadOptions::philly_gpu_type)", name, counts, gpu_type));
    return parsed[i];
  }
  return error(spec, fmt::format("\"{}\": counts v100, p100 and k80 GPUs; ReadOptions::philly_gpu_type is \"{}\"",
                                 name, gpu_type));
}

// "0e4a51.trace" -> "0e4a51".
std::string StemOf(std::string_view name) {
  name = internal::BaseName(name);
  const std::size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

}  // namespace

absl::StatusOr<Workload> ParsePhillyGavel(const std::vector<TraceText>& traces, std::string_view throughputs_csv,
                                          std::string_view cluster_json, const ReadOptions& options,
                                          ReadStats* stats) {
  const std::string& gpu_type = options.philly_gpu_type;
  const int per_node = options.philly_gpus_per_node;
  if (per_node < 1 || per_node > kMaxGpusPerNode) {
    return absl::InvalidArgumentError(fmt::format("ReadOptions::philly_gpus_per_node = {}: must be in [1, {}]",
                                                  per_node, kMaxGpusPerNode));
  }
  if (traces.empty()) return absl::InvalidArgumentError("Philly trace: no .trace files");
  MLSCHED_ASSIGN_OR_RETURN(const Speeds speeds,
                           ParseThroughputs(throughputs_csv, "isolated_throughputs.csv", gpu_type));
  Workload workload;
  if (!cluster_json.empty()) {
    MLSCHED_ASSIGN_OR_RETURN(const std::int64_t gpus, ParseClusterGpus(cluster_json, "cluster_specs.json", gpu_type));
    std::string model(gpu_type);
    std::transform(model.begin(), model.end(), model.begin(), [](unsigned char c) { return std::toupper(c); });
    for (std::int64_t first = 0, n = 0; first < gpus; first += per_node, ++n) {
      const int here = static_cast<int>(std::min<std::int64_t>(per_node, gpus - first));
      NodeSpec& node = workload.nodes.emplace_back();
      node.name = fmt::format("{}-{}", gpu_type, n);
      node.capacity = ResourceVector::Of(4000 * per_node, std::int64_t{64} * per_node << 30, 0);
      for (int g = 0; g < here; ++g) node.gpus.push_back({.index = g, .model = model});
    }
  }

  internal::LineIssues issues(traces.front().name, options, stats);
  absl::Status status;
  std::string_view field[kFields + 1];
  for (std::size_t file = 0; file < traces.size() && status.ok(); ++file) {
    const std::string tenant = StemOf(traces[file].name);
    issues.set_source(traces[file].name);
    if (tenant.empty()) return issues.Error(0, "a trace file needs a name: it names the tenant");
    bool more = true;
    internal::ForEachLine(traces[file].text, [&](std::int64_t number, std::string_view line) {
      ++issues.stats().lines;
      if (internal::Trim(line).empty()) return true;
      int count = 0;
      for (std::size_t begin = 0;;) {
        const std::size_t tab = line.find('\t', begin);
        if (++count <= kFields) field[count] = internal::Trim(line.substr(begin, tab - begin));
        if (tab == std::string_view::npos) break;
        begin = tab + 1;
      }
      if (count != kFields) {
        status = issues.Malformed(number, fmt::format("{} tab-separated fields; Philly (Gavel) trace lines have {}",
                                                      count, kFields));
        return status.ok();
      }
      auto bad = [&](int f, std::string_view why) {
        status = issues.Malformed(number, fmt::format("field {} ({}) = \"{}\": {}", f, kFieldNames[f], field[f], why));
        return status.ok();
      };
      const std::optional<std::int64_t> steps = internal::ParseInt(field[kTotalSteps]);
      if (!steps || *steps < 1 || *steps > kMaxSteps)
        return bad(kTotalSteps, fmt::format("not a step count in [1, 2^50]"));
      const std::optional<Duration> arrival = internal::ParseSeconds(field[kArrival]);
      if (!arrival) return bad(kArrival, "not a number of seconds");
      if (*arrival < 0) return bad(kArrival, "negative");
      const std::optional<std::int64_t> scale = internal::ParseInt(field[kScale]);
      if (!scale || *scale < 1 || *scale > kMaxScale)
        return bad(kScale, fmt::format("not a GPU count in [1, {}]", kMaxScale));
      const auto type = speeds.find(field[kJobType]);
      if (type == speeds.end())
        return bad(kJobType, fmt::format("no throughput for it on {} in isolated_throughputs.csv", gpu_type));
      // The tabulated speed at this scale factor, else (scaled linearly) the
      // one at the largest tabulated scale factor below it.
      double speed = 0;
      if (auto at = type->second.find(*scale); at != type->second.end()) {
        speed = at->second;
      } else {
        auto below = type->second.upper_bound(*scale);
        const std::string job = fmt::format("{} job of {} GPUs", field[kJobType], *scale);
        if (options.philly_unknown_scale == ReadOptions::UnknownScale::kSkip || below == type->second.begin()) {
          issues.Drop(number, "no throughput at its scale factor", job);
          return true;
        }
        --below;
        speed = below->second * static_cast<double>(*scale) / static_cast<double>(below->first);
        if (speed > 0) issues.Count("jobs ran at a throughput scaled linearly from a smaller tabulated scale factor");
      }
      if (speed == 0) {
        issues.Drop(number, fmt::format("the table gives no throughput on {} at its scale factor (0: it does not run)",
                                        gpu_type),
                    fmt::format("{} job of {} GPUs", field[kJobType], *scale));
        return true;
      }
      const double seconds = static_cast<double>(*steps) / speed;
      if (!(seconds * kSecond < 0x1p62)) return bad(kTotalSteps, "takes longer than 2^62 microseconds");
      TraceJob& j = workload.jobs.emplace_back();
      j.spec.name = fmt::format("{}-{}", tenant, number);
      j.spec.tenant = tenant;
      j.spec.user = tenant;
      // One task when the job fits a node; else whole nodes, and the rest
      // as one more task.
      const std::int64_t whole = *scale / per_node, rest = *scale % per_node;
      if (whole > 0) j.spec.task_groups.push_back({.name = "nodes", .count = static_cast<std::int32_t>(whole),
                                                   .per_task = ResourceVector::Of(0, 0, per_node)});
      if (rest > 0) j.spec.task_groups.push_back({.name = "rest", .count = 1, .per_task = ResourceVector::Of(0, 0, rest)});
      j.runtime = std::max<Duration>(1, std::llround(seconds * kSecond));
      if (options.philly_time_limits) j.spec.time_limit = j.runtime;
      j.submit = *arrival;
      j.trace_id = static_cast<std::int64_t>(file) * 1'000'000 + number;
      more = options.max_jobs < 0 || static_cast<std::int64_t>(workload.jobs.size()) < options.max_jobs;
      return more;
    });
    if (!more) break;
  }
  MLSCHED_RETURN_IF_ERROR(status);
  issues.set_source(traces.size() == 1 ? traces.front().name : "Philly trace");
  MLSCHED_RETURN_IF_ERROR(issues.Finish(static_cast<std::int64_t>(workload.jobs.size())));
  std::stable_sort(workload.jobs.begin(), workload.jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit < b.submit; });
  return workload;
}

absl::StatusOr<Workload> ReadPhillyGavel(const std::string& dir, const ReadOptions& options, ReadStats* stats) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return absl::NotFoundError(fmt::format("\"{}\": not a directory (a Philly trace is a directory of .trace files)", dir));
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".trace") paths.push_back(entry.path().string());
  }
  if (ec) return absl::InvalidArgumentError(fmt::format("\"{}\": {}", dir, ec.message()));
  if (paths.empty()) return absl::InvalidArgumentError(fmt::format("\"{}\": no .trace files", dir));
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> texts;
  texts.reserve(paths.size());
  for (const std::string& path : paths) {
    MLSCHED_ASSIGN_OR_RETURN(std::string text, internal::ReadTraceFile(path));
    texts.push_back(std::move(text));
  }
  std::vector<TraceText> traces;
  for (std::size_t i = 0; i < paths.size(); ++i) traces.push_back({.name = paths[i], .text = texts[i]});
  const std::string table_path = (std::filesystem::path(dir) / "isolated_throughputs.csv").string();
  MLSCHED_ASSIGN_OR_RETURN(const std::string table, internal::ReadTraceFile(table_path));
  const std::string cluster_path = (std::filesystem::path(dir) / "cluster_specs.json").string();
  std::string cluster;
  if (std::filesystem::exists(cluster_path, ec)) {
    MLSCHED_ASSIGN_OR_RETURN(cluster, internal::ReadTraceFile(cluster_path));
  }
  absl::StatusOr<Workload> w = ParsePhillyGavel(traces, table, cluster, options, stats);
  if (w.ok()) {
    std::filesystem::path name = std::filesystem::path(dir).lexically_normal();
    if (name.filename().empty()) name = name.parent_path();  // "dir/"
    w->name = name.filename().string();
  }
  return w;
}

}  // namespace mlsched::sim
