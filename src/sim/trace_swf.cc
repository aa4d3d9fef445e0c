// SWF reader (include/mlsched/sim/trace.h has the modelling).
//
// One pass over the lines: ';' lines are header comments ("; MaxProcs: 100"),
// of which MaxProcs, MaxNodes and UnixStartTime are read; every other
// non-blank line is a job of 18 whitespace-separated fields. The machine's
// size is known only at the end (MaxProcs may be missing), so the node is
// made last, and the jobs are sorted by submit time (stable) because a file
// need not be sorted.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fmt/format.h"
#include "mlsched/sim/trace.h"
#include "mlsched/status_macros.h"
#include "sim/trace_input.h"

namespace mlsched::sim {

namespace {

using internal::LineIssues;

constexpr int kFields = 18;
// 1-based field numbers of the definition.
constexpr int kJobNumber = 1, kSubmit = 2, kRunTime = 4, kAllocated = 5, kRequestedProcs = 8,
              kRequestedTime = 9, kStatus = 11, kUser = 12, kGroup = 13;
constexpr std::string_view kFieldNames[kFields + 1] = {"",
                                                       "job number",
                                                       "submit time",
                                                       "wait time",
                                                       "run time",
                                                       "allocated processors",
                                                       "average CPU time",
                                                       "used memory",
                                                       "requested processors",
                                                       "requested time",
                                                       "requested memory",
                                                       "status",
                                                       "user id",
                                                       "group id",
                                                       "executable number",
                                                       "queue number",
                                                       "partition number",
                                                       "preceding job",
                                                       "think time"};

// Processor counts beyond this are not a real machine; it keeps procs × 1000
// far from overflow and within JobSpec::Validate's bounds.
constexpr std::int64_t kMaxProcs = std::int64_t{1} << 30;
constexpr std::int64_t kNodeMemory = std::int64_t{1} << 50;

struct Header {
  std::optional<std::int64_t> max_procs, max_nodes, unix_start;
};

// "; MaxProcs: 100" -> Header::max_procs. Other comments are ignored.
absl::Status ReadHeaderLine(std::string_view line, std::int64_t number, Header& header,
                            LineIssues& issues) {
  line.remove_prefix(1);  // ';'
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return absl::OkStatus();
  const std::string_view key = internal::Trim(line.substr(0, colon));
  std::optional<std::int64_t>* target = key == "MaxProcs"        ? &header.max_procs
                                        : key == "MaxNodes"      ? &header.max_nodes
                                        : key == "UnixStartTime" ? &header.unix_start
                                                                 : nullptr;
  if (target == nullptr) return absl::OkStatus();
  const std::string_view value = internal::Trim(line.substr(colon + 1));
  const std::optional<std::int64_t> n = internal::ParseInt(value);
  const bool count = target != &header.unix_start;
  if (!n || (count ? (*n < 1 || *n > kMaxProcs) : (*n < 0 || *n > (std::int64_t{1} << 40)))) {
    return issues.Malformed(number,
                            fmt::format("header {} = \"{}\": {}", key, value,
                                        count ? "not a positive count" : "not a Unix time"));
  }
  *target = *n;
  return absl::OkStatus();
}

std::string Who(char prefix, std::int64_t id) {
  return id < 0 ? std::string("unknown") : fmt::format("{}{}", prefix, id);
}

}  // namespace

absl::StatusOr<Workload> ParseSwf(std::string_view text, std::string_view source,
                                  const ReadOptions& options, ReadStats* stats) {
  LineIssues issues(source, options, stats);
  if (options.max_jobs == 0) return issues.Finish(0);  // "no jobs"
  Workload workload{.name = std::string(internal::BaseName(source))};
  Header header;
  std::int64_t largest = 0;  // processors of the largest kept job
  absl::Status status;
  std::array<std::string_view, kFields + 1> field;  // 1-based

  internal::ForEachLine(text, [&](std::int64_t number, std::string_view line) {
    ++issues.stats().lines;
    line = internal::Trim(line);
    if (line.empty()) return true;
    if (line.front() == ';') {
      status = ReadHeaderLine(line, number, header, issues);
      return status.ok();
    }
    // Fields: split on spaces and tabs.
    int count = 0;
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i == line.size()) break;
      const std::size_t begin = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (++count <= kFields) field[count] = line.substr(begin, i - begin);
    }
    if (count != kFields) {
      status = issues.Malformed(
          number, count < kFields
                      ? fmt::format("truncated line: {} fields; SWF lines have {}", count, kFields)
                      : fmt::format("{} fields; SWF lines have {}", count, kFields));
      return status.ok();
    }
    // Each reader returns nullopt after putting the problem in `why`.
    std::string why;
    auto bad = [&](int f, std::string_view reason) {
      why = fmt::format("field {} ({}) = \"{}\": {}", f, kFieldNames[f], field[f], reason);
      return std::nullopt;
    };
    auto integer = [&](int f) -> std::optional<std::int64_t> {
      const std::optional<std::int64_t> n = internal::ParseInt(field[f]);
      if (!n) return bad(f, "not an integer");
      if (*n < -1) return bad(f, "must be >= 0, or -1 (unknown)");
      return n;
    };
    auto seconds = [&](int f) -> std::optional<Duration> {
      const std::optional<Duration> d = internal::ParseSeconds(field[f]);
      if (!d) return bad(f, "not a number");
      if (*d < 0 && *d != -kSecond) {
        return f == kSubmit ? bad(f, "negative") : bad(f, "must be >= 0, or -1 (unknown)");
      }
      return d;
    };
    const std::optional<std::int64_t> job_number = integer(kJobNumber);
    std::optional<Duration> submit = job_number ? seconds(kSubmit) : std::nullopt;
    if (submit && *submit < 0) submit = bad(kSubmit, "unknown (-1); a job needs a submit time");
    const std::optional<Duration> run_time = submit ? seconds(kRunTime) : std::nullopt;
    const std::optional<std::int64_t> allocated = run_time ? integer(kAllocated) : std::nullopt;
    const std::optional<std::int64_t> requested =
        allocated ? integer(kRequestedProcs) : std::nullopt;
    const std::optional<Duration> limit = requested ? seconds(kRequestedTime) : std::nullopt;
    const std::optional<std::int64_t> job_status = limit ? integer(kStatus) : std::nullopt;
    const std::optional<std::int64_t> user = job_status ? integer(kUser) : std::nullopt;
    const std::optional<std::int64_t> group = user ? integer(kGroup) : std::nullopt;
    if (!group) {
      status = issues.Malformed(number, why);
      return status.ok();
    }
    if (*job_status > 5) {
      status = issues.Malformed(
          number, fmt::format("field {} ({}) = \"{}\": not a SWF status (-1, 0 to 5)", kStatus,
                              kFieldNames[kStatus], field[kStatus]));
      return status.ok();
    }
    const std::int64_t procs = *requested > 0 ? *requested : *allocated;
    if (procs > kMaxProcs) {
      const int f = *requested > 0 ? kRequestedProcs : kAllocated;
      status = issues.Malformed(number, fmt::format("field {} ({}) = \"{}\": implausibly large", f,
                                                    kFieldNames[f], field[f]));
      return status.ok();
    }
    const std::string job = fmt::format("job {}", *job_number);
    if (*job_status >= 2 && *job_status <= 4) {
      issues.Drop(number, "partial execution record (status 2, 3 or 4)", job);
      return true;
    }
    if (*run_time < 0) {
      issues.Drop(number, "run time unknown (-1)", job);
      return true;
    }
    if (procs < 0) {
      issues.Drop(number, "processor count unknown (-1)", job);
      return true;
    }
    if (procs == 0) {
      issues.Drop(number, "zero processors", job);
      return true;
    }
    largest = std::max(largest, procs);
    const char tenant_prefix = options.swf_tenant == ReadOptions::TenantFrom::kUser ? 'u' : 'g';
    TraceJob& j = workload.jobs.emplace_back();
    j.spec.name = fmt::format("job-{}", *job_number);
    j.spec.tenant = Who(tenant_prefix, tenant_prefix == 'u' ? *user : *group);
    j.spec.user = Who('u', *user);
    j.spec.task_groups = {{.count = 1, .per_task = ResourceVector::Of(procs * 1000, 0, 0)}};
    j.spec.time_limit = *limit > 0 ? *limit : 0;
    j.submit = *submit;
    j.runtime = *run_time;
    j.trace_id = *job_number;
    if (j.spec.time_limit > 0 && j.runtime > j.spec.time_limit)
      issues.Count("jobs ran longer than their requested time (the engine ends them at it)");
    return options.max_jobs < 0 ||
           static_cast<std::int64_t>(workload.jobs.size()) < options.max_jobs;
  });
  MLSCHED_RETURN_IF_ERROR(status);
  MLSCHED_RETURN_IF_ERROR(issues.Finish(static_cast<std::int64_t>(workload.jobs.size())));

  const std::int64_t procs =
      header.max_procs ? *header.max_procs : std::max(header.max_nodes.value_or(0), largest);
  workload.nodes.push_back(
      {.name = "swf", .capacity = ResourceVector::Of(procs * 1000, kNodeMemory, 0)});
  workload.unix_start = header.unix_start.value_or(0) * kSecond;
  std::stable_sort(workload.jobs.begin(), workload.jobs.end(),
                   [](const TraceJob& a, const TraceJob& b) { return a.submit < b.submit; });
  return workload;
}

absl::StatusOr<Workload> ReadSwf(const std::string& path, const ReadOptions& options,
                                 ReadStats* stats) {
  MLSCHED_ASSIGN_OR_RETURN(const std::string text, internal::ReadTraceFile(path));
  return ParseSwf(text, path, options, stats);
}

}  // namespace mlsched::sim
