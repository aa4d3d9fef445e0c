// mlsched-sim: replay a trace (or a synthetic workload) under several policy
// sets and compare them.
//
//   mlsched-sim --synthetic 20000 --policies fifo,priority,drf,drf-easy,drf-easy-preempt
//   mlsched-sim --trace KTH-SP2-1996-2.1-cln.swf.gz --policies fcfs,easy,conservative --csv out/
//   mlsched-sim --alibaba pods.csv nodes.csv --policy-file mine.yaml --json report.json
//   mlsched-sim --philly traces/philly-gavel --policies fifo,sjf
//
// Policy sets by name (--policies, see sim::PolicySetNames) or from policy
// documents (--policy-file, JSON or YAML as in policy/config.h; tenants included).
// The comparison table goes to standard output; a progress bar to standard
// error when it is a terminal. Exit status: 0, or 2 for bad arguments or
// input, with the reason on standard error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "mlsched/policy/config.h"
#include "mlsched/sim/simulator.h"
#include "mlsched/sim/synthetic.h"
#include "mlsched/sim/trace.h"

namespace {

using namespace mlsched;

constexpr const char* kUsage = R"(usage: mlsched-sim [workload] [policies] [output] [options]
workload (one of; default --synthetic 20000):
  --trace FILE             .swf or .swf.gz (Parallel Workloads Archive), mlsched jobs .csv or .jsonl
  --alibaba PODS NODES     Alibaba GPU cluster trace 2023 (pod list and node list CSV)
  --philly DIR             Philly arrivals as published with Gavel (*.trace, isolated_throughputs.csv,
                           cluster_specs.json)
  --synthetic N            N jobs of the synthetic ML workload on its GPU cluster
  --cluster FILE           cluster CSV (name,count,cpu,memory,gpus,gpu_model,topology): replaces the trace's
  --max-jobs N             read at most N jobs          --lenient   skip malformed lines (counted)
  --swf-tenants user|group SWF users or groups as tenants (default user)
  --philly-gpu TYPE        v100, p100 or k80: the speeds and the cluster's GPUs (default v100)
  --philly-unknown-scale linear|skip   a scale factor the throughput table lacks (default linear)
  --philly-no-limits       Philly jobs without their duration as time limit
policies:
  --policies A,B,...       named sets: {names}
  --policy-file FILE       a policy document (JSON or YAML); repeatable
output:
  --json FILE              all reports as JSON      --csv DIR    one per-job CSV per policy set
  --quiet                  no progress bar
options:
  --seed S                 faults and the synthetic workload (default 1)
  --faults LIST            mtbf=DUR,repair=DUR,crash=P,checkpoint=DUR (e.g. mtbf=30d,crash=0.01)
  --retries N              attempts per job (default 3)
)";

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "mlsched-sim: " << message << "\n";
  std::exit(2);
}

// "90", "90s", "15m", "2h", "30d" (plain numbers are seconds).
Duration ParseDurationArg(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    Fail(fmt::format("{} = \"{}\": not a duration", what, text));
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = kSecond;
  else if (unit == "m") scale = kMinute;
  else if (unit == "h") scale = kHour;
  else if (unit == "d") scale = kDay;
  else Fail(fmt::format("{} = \"{}\": unknown unit \"{}\" (s, m, h, d)", what, text, unit));
  if (value < 0) Fail(fmt::format("{} = \"{}\": must be >= 0", what, text));
  return static_cast<Duration>(value * scale);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) Fail(fmt::format("\"{}\": cannot read", path));
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Args {
  std::string trace, pods, nodes, philly, cluster, json, csv;
  std::string philly_gpu = "v100";
  bool philly_skip_unknown = false, philly_no_limits = false;
  std::int64_t synthetic = -1, max_jobs = -1;
  bool lenient = false, quiet = false, swf_groups = false;
  std::uint64_t seed = 1;
  std::vector<std::string> policies;
  std::vector<std::string> policy_files;
  sim::FaultOptions faults;
  int retries = 3;
};

Args Parse(int argc, char** argv) {
  Args a;
  auto need = [&](int& i, const char* flag) -> std::string {
    if (i + 1 >= argc) Fail(fmt::format("{}: missing value", flag));
    return argv[++i];
  };
  auto integer = [&](const std::string& text, const char* flag) -> std::int64_t {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < 0) Fail(fmt::format("{} = \"{}\": not a non-negative integer", flag, text));
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--trace") a.trace = need(i, "--trace");
    else if (f == "--alibaba") { a.pods = need(i, "--alibaba"); a.nodes = need(i, "--alibaba"); }
    else if (f == "--philly") a.philly = need(i, "--philly");
    else if (f == "--philly-gpu") a.philly_gpu = need(i, "--philly-gpu");
    else if (f == "--philly-no-limits") a.philly_no_limits = true;
    else if (f == "--philly-unknown-scale") {
      const std::string v = need(i, "--philly-unknown-scale");
      if (v != "linear" && v != "skip") Fail("--philly-unknown-scale: linear or skip");
      a.philly_skip_unknown = v == "skip";
    } else if (f == "--synthetic") a.synthetic = integer(need(i, "--synthetic"), "--synthetic");
    else if (f == "--cluster") a.cluster = need(i, "--cluster");
    else if (f == "--max-jobs") a.max_jobs = integer(need(i, "--max-jobs"), "--max-jobs");
    else if (f == "--lenient") a.lenient = true;
    else if (f == "--quiet") a.quiet = true;
    else if (f == "--swf-tenants") {
      const std::string v = need(i, "--swf-tenants");
      if (v != "user" && v != "group") Fail("--swf-tenants: user or group");
      a.swf_groups = v == "group";
    } else if (f == "--policies") {
      for (const std::string& p : Split(need(i, "--policies"), ',')) a.policies.push_back(p);
    } else if (f == "--policy-file") a.policy_files.push_back(need(i, "--policy-file"));
    else if (f == "--json") a.json = need(i, "--json");
    else if (f == "--csv") a.csv = need(i, "--csv");
    else if (f == "--seed") a.seed = static_cast<std::uint64_t>(integer(need(i, "--seed"), "--seed"));
    else if (f == "--retries") a.retries = static_cast<int>(integer(need(i, "--retries"), "--retries"));
    else if (f == "--faults") {
      for (const std::string& kv : Split(need(i, "--faults"), ',')) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) Fail(fmt::format("--faults: \"{}\": expected key=value", kv));
        const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "mtbf") a.faults.node_mtbf = ParseDurationArg(v, "--faults mtbf");
        else if (k == "repair") a.faults.node_repair = ParseDurationArg(v, "--faults repair");
        else if (k == "checkpoint") a.faults.checkpoint_interval = ParseDurationArg(v, "--faults checkpoint");
        else if (k == "crash") {
          try {
            a.faults.task_crash_probability = std::stod(v);
          } catch (...) {
            Fail(fmt::format("--faults crash = \"{}\": not a number", v));
          }
        } else Fail(fmt::format("--faults: unknown key \"{}\" (mtbf, repair, crash, checkpoint)", k));
      }
    } else if (f == "-h" || f == "--help") {
      std::string names;
      for (const std::string& n : sim::PolicySetNames()) names += (names.empty() ? "" : ", ") + n;
      std::cout << fmt::format(fmt::runtime(kUsage), fmt::arg("names", names));
      std::exit(0);
    } else {
      Fail(fmt::format("unknown argument \"{}\" (--help lists them)", f));
    }
  }
  if (a.policies.empty() && a.policy_files.empty()) a.policies = {"fifo", "priority", "drf", "drf-easy", "drf-easy-preempt"};
  if (a.trace.empty() && a.pods.empty() && a.philly.empty() && a.synthetic < 0) a.synthetic = 20'000;
  return a;
}

sim::Workload Load(const Args& a) {
  sim::ReadOptions ro{.lenient = a.lenient, .max_jobs = a.max_jobs,
                      .swf_tenant = a.swf_groups ? sim::ReadOptions::TenantFrom::kGroup : sim::ReadOptions::TenantFrom::kUser,
                      .philly_gpu_type = a.philly_gpu,
                      .philly_unknown_scale = a.philly_skip_unknown ? sim::ReadOptions::UnknownScale::kSkip
                                                                    : sim::ReadOptions::UnknownScale::kScaleLinearly,
                      .philly_time_limits = !a.philly_no_limits};
  sim::ReadStats stats;
  sim::Workload w;
  if (!a.trace.empty()) {
    auto r = sim::ReadTrace(a.trace, ro, &stats);
    if (!r.ok()) Fail(std::string(r.status().message()));
    w = *std::move(r);
  } else if (!a.pods.empty()) {
    auto r = sim::ReadAlibabaGpu2023(a.pods, a.nodes, ro, &stats);
    if (!r.ok()) Fail(std::string(r.status().message()));
    w = *std::move(r);
  } else if (!a.philly.empty()) {
    auto r = sim::ReadPhillyGavel(a.philly, ro, &stats);
    if (!r.ok()) Fail(std::string(r.status().message()));
    w = *std::move(r);
  } else {
    w = sim::Synthetic({.jobs = a.synthetic, .seed = a.seed});
    stats.jobs = static_cast<std::int64_t>(w.jobs.size());
  }
  if (!a.cluster.empty()) {
    auto nodes = sim::ReadClusterCsv(a.cluster);
    if (!nodes.ok()) Fail(std::string(nodes.status().message()));
    w.nodes = *std::move(nodes);
  }
  std::cerr << fmt::format("workload {}: {} jobs on {} nodes", w.name, w.jobs.size(), w.nodes.size());
  if (stats.skipped > 0) std::cerr << fmt::format(" ({} lines skipped)", stats.skipped);
  std::cerr << "\n";
  for (const std::string& note : stats.notes) std::cerr << "  " << note << "\n";
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const sim::Workload workload = Load(args);
  std::vector<sim::SimOptions> runs;
  for (const std::string& name : args.policies) {
    auto set = sim::NamedPolicySet(name);
    if (!set.ok()) Fail(std::string(set.status().message()));
    runs.push_back({.name = name, .policies = *set});
  }
  for (const std::string& path : args.policy_files) {
    ResourceCatalog catalog;
    for (const std::string& kind : workload.extended_resources) (void)catalog.Register(kind);
    auto doc = ParsePolicyDocument(ReadFile(path), catalog);
    if (!doc.ok()) Fail(fmt::format("{}: {}", path, std::string(doc.status().message())));
    runs.push_back({.name = std::filesystem::path(path).stem().string(), .policies = doc->policies,
                    .tenants = doc->tenants});
  }
  const bool bar = !args.quiet && isatty(STDERR_FILENO);
  std::vector<sim::Report> reports;
  for (sim::SimOptions& o : runs) {
    o.seed = args.seed;
    o.faults = args.faults;
    o.retry.max_attempts = std::max(1, args.retries);
    o.keep_job_results = !args.csv.empty();
    if (bar) {
      const std::string label = o.name;
      o.progress = [label](double f) {
        const int width = 40, done = static_cast<int>(f * width);
        std::fprintf(stderr, "\r%-18s [%s%s] %3d%%", label.c_str(), std::string(done, '#').c_str(),
                     std::string(width - done, ' ').c_str(), static_cast<int>(100 * f));
        std::fflush(stderr);
      };
    }
    auto report = sim::Simulate(workload, o);
    if (bar) std::fprintf(stderr, "\n");
    if (!report.ok()) Fail(fmt::format("policy set {}: {}", o.name, std::string(report.status().message())));
    if (!bar && !args.quiet)
      std::cerr << fmt::format("{}: done in {:.2f} s ({:.0f} jobs/s)\n", o.name, report->wall_seconds, report->jobs_per_second);
    reports.push_back(*std::move(report));
  }
  std::cout << sim::FormatComparison(reports);
  if (!args.json.empty()) {
    if (auto s = sim::WriteJson(reports, args.json); !s.ok()) Fail(std::string(s.message()));
  }
  if (!args.csv.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.csv, ec);
    if (ec) Fail(fmt::format("--csv {}: {}", args.csv, ec.message()));
    for (const sim::Report& r : reports) {
      if (auto s = sim::WriteJobsCsv(r, (std::filesystem::path(args.csv) / (r.policy + ".csv")).string()); !s.ok())
        Fail(std::string(s.message()));
    }
  }
  return 0;
}
