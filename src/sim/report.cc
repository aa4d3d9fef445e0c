#include "mlsched/sim/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include "fmt/format.h"
#include "fmt/ranges.h"

namespace mlsched::sim {

Distribution Summarize(std::span<double> v) {
  Distribution d;
  d.count = static_cast<std::int64_t>(v.size());
  if (v.empty()) return d;
  double sum = 0;
  for (double x : v) sum += x;
  d.mean = sum / static_cast<double>(v.size());
  // Nearest ranks, selected in increasing order: each selection partitions
  // the values, so the next one needs only the part above the last. O(n),
  // where sorting a million values is not.
  auto from = v.begin();
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    const auto at = v.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(k, 1, v.size()) - 1);
    if (at >= from) {
      std::nth_element(from, at, v.end());
      from = at + 1;
    }
    return *at;
  };
  d.p50 = rank(0.50);
  d.p95 = rank(0.95);
  d.p99 = rank(0.99);
  d.max = rank(1.0);
  return d;
}

namespace {

std::string Seconds(double s) {
  if (s < 120) return fmt::format("{:.1f}s", s);
  if (s < 7200) return fmt::format("{:.1f}m", s / 60);
  if (s < 172800) return fmt::format("{:.1f}h", s / 3600);
  return fmt::format("{:.1f}d", s / 86400);
}

std::string Json(const Distribution& d) {
  return fmt::format(R"({{"count": {}, "mean": {:.6g}, "p50": {:.6g}, "p95": {:.6g}, "p99": {:.6g}, "max": {:.6g}}})",
                     d.count, d.mean, d.p50, d.p95, d.p99, d.max);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string FormatComparison(std::span<const Report> reports) {
  struct Row {
    std::string label;
    std::function<std::string(const Report&)> cell;
  };
  const std::vector<Row> rows = {
      {"jobs (ok / failed / unfinished)",
       [](const Report& r) { return fmt::format("{} / {} / {}", r.succeeded, r.failed, r.unfinished); }},
      {"JCT mean", [](const Report& r) { return Seconds(r.jct.mean); }},
      {"JCT p50 / p99", [](const Report& r) { return Seconds(r.jct.p50) + " / " + Seconds(r.jct.p99); }},
      {"wait mean", [](const Report& r) { return Seconds(r.wait.mean); }},
      {"wait p95 / p99", [](const Report& r) { return Seconds(r.wait.p95) + " / " + Seconds(r.wait.p99); }},
      {"bounded slowdown mean", [](const Report& r) { return fmt::format("{:.2f}", r.bounded_slowdown.mean); }},
      {"makespan", [](const Report& r) { return Seconds(static_cast<double>(r.makespan) / kSecond); }},
      {"GPU utilisation", [](const Report& r) { return fmt::format("{:.1f}%", 100 * r.gpu_utilization); }},
      {"CPU utilisation", [](const Report& r) { return fmt::format("{:.1f}%", 100 * r.cpu_utilization); }},
      {"Jain's index (tenants)", [](const Report& r) { return fmt::format("{:.3f}", r.jain_index); }},
      {"free GPUs on partial nodes", [](const Report& r) { return fmt::format("{:.1f}", r.mean_free_gpus_on_partial_nodes); }},
      {"preemptions / GPU-h lost",
       [](const Report& r) { return fmt::format("{} / {:.1f}", r.preemptions, r.gpu_hours_lost); }},
      {"retries / dead-lettered", [](const Report& r) { return fmt::format("{} / {}", r.retries, r.dead_lettered); }},
      {"scheduler: passes", [](const Report& r) { return fmt::format("{}", r.passes); }},
      {"scheduler: us per pass", [](const Report& r) { return fmt::format("{:.1f}", r.us_per_pass); }},
      {"simulated jobs per second", [](const Report& r) { return fmt::format("{:.0f}", r.jobs_per_second); }},
  };
  std::size_t label_width = 6;
  for (const Row& row : rows) label_width = std::max(label_width, row.label.size());
  std::vector<std::size_t> width;
  std::vector<std::vector<std::string>> cells(rows.size());
  for (const Report& r : reports) width.push_back(std::max<std::size_t>(r.policy.size(), 8));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < reports.size(); ++c) {
      cells[i].push_back(rows[i].cell(reports[c]));
      width[c] = std::max(width[c], cells[i].back().size());
    }
  }
  std::string out = fmt::format("{:<{}}", "policy", label_width);
  for (std::size_t c = 0; c < reports.size(); ++c) out += fmt::format("  {:>{}}", reports[c].policy, width[c]);
  out += '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += fmt::format("{:<{}}", rows[i].label, label_width);
    for (std::size_t c = 0; c < reports.size(); ++c) out += fmt::format("  {:>{}}", cells[i][c], width[c]);
    out += '\n';
  }
  return out;
}

std::string ToJson(std::span<const Report> reports) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const Report& r = reports[i];
    out += fmt::format(
        "  {{\"policy\": {}, \"workload\": {}, \"jobs\": {}, \"succeeded\": {}, \"failed\": {}, \"unfinished\": {},\n"
        "   \"jct_seconds\": {}, \"wait_seconds\": {}, \"bounded_slowdown\": {},\n"
        "   \"makespan_seconds\": {:.6g}, \"gpu_utilization\": {:.6g}, \"cpu_utilization\": {:.6g}, "
        "\"jain_index\": {:.6g}, \"mean_free_gpus_on_partial_nodes\": {:.6g},\n"
        "   \"preemptions\": {}, \"gpu_hours_lost\": {:.6g}, \"retries\": {}, \"dead_lettered\": {}, "
        "\"node_failures\": {},\n"
        "   \"passes\": {}, \"decisions\": {}, \"wall_seconds\": {:.6g}, \"decisions_per_second\": {:.6g}, "
        "\"us_per_pass\": {:.6g}, \"jobs_per_second\": {:.6g}, \"digest\": \"{:016x}\",\n   \"tenants\": [",
        Quote(r.policy), Quote(r.workload), r.jobs, r.succeeded, r.failed, r.unfinished, Json(r.jct), Json(r.wait),
        Json(r.bounded_slowdown), static_cast<double>(r.makespan) / kSecond, r.gpu_utilization, r.cpu_utilization,
        r.jain_index, r.mean_free_gpus_on_partial_nodes, r.preemptions, r.gpu_hours_lost, r.retries,
        r.dead_lettered, r.node_failures, r.passes, r.decisions, r.wall_seconds, r.decisions_per_second,
        r.us_per_pass, r.jobs_per_second, r.digest);
    for (std::size_t k = 0; k < r.tenants.size(); ++k) {
      const TenantResult& t = r.tenants[k];
      out += fmt::format("{}{{\"name\": {}, \"jobs\": {}, \"gpu_hours\": {:.6g}, \"share\": {:.6g}, \"wait_seconds\": {}}}",
                         k ? ", " : "", Quote(t.name), t.jobs, t.gpu_hours, t.share, Json(t.wait));
    }
    out += "],\n   \"series\": [";
    for (std::size_t k = 0; k < r.series.size(); ++k) {
      const TimePoint& p = r.series[k];
      out += fmt::format("{}{{\"t\": {:.6g}, \"gpus\": {}, \"cpu\": {}, \"pending\": {}, \"running\": {}, \"tenant_gpus\": [{}]}}",
                         k ? ", " : "", static_cast<double>(p.time) / kSecond, p.gpus_used, p.cpu_used, p.pending,
                         p.running, fmt::join(p.tenant_gpus, ", "));
    }
    out += fmt::format("]}}{}\n", i + 1 < reports.size() ? "," : "");
  }
  return out + "]\n";
}

absl::Status WriteJson(std::span<const Report> reports, const std::string& path) {
  std::ofstream f(path);
  if (!f) return absl::InvalidArgumentError(fmt::format("report \"{}\": cannot open for writing", path));
  f << ToJson(reports);
  if (!f) return absl::InternalError(fmt::format("report \"{}\": write failed", path));
  return absl::OkStatus();
}

absl::Status WriteJobsCsv(const Report& r, const std::string& path) {
  std::ofstream f(path);
  if (!f) return absl::InvalidArgumentError(fmt::format("jobs CSV \"{}\": cannot open for writing", path));
  f << "trace_id,job,tenant,submit,first_start,end,state,attempts,gpus,runtime,wait,jct\n";
  for (const JobResult& j : r.job_results) {
    const double wait = j.first_start >= 0 ? static_cast<double>(j.first_start - j.submit) / kSecond : -1;
    const double jct = j.end >= 0 ? static_cast<double>(j.end - j.submit) / kSecond : -1;
    f << fmt::format("{},{},{},{:.6f},{:.6f},{:.6f},{},{},{},{:.6f},{:.6f},{:.6f}\n", j.trace_id, j.job.value(), j.tenant,
                     static_cast<double>(j.submit) / kSecond,
                     j.first_start >= 0 ? static_cast<double>(j.first_start) / kSecond : -1.0,
                     j.end >= 0 ? static_cast<double>(j.end) / kSecond : -1.0, JobStateName(j.state), j.attempts,
                     j.gpus, static_cast<double>(j.runtime) / kSecond, wait, jct);
  }
  if (!f) return absl::InternalError(fmt::format("jobs CSV \"{}\": write failed", path));
  return absl::OkStatus();
}

}  // namespace mlsched::sim
