// mlsched run: run a jobs file to completion on this machine.
//
//   mlsched run examples/pipeline.yaml
//   mlsched run examples/retry.yaml --log-dir /tmp/logs --plain
//   mlsched run examples/pipeline.yaml --dry-run
//
// The jobs file (YAML; src/exec/jobs_file.h) is submitted as one workflow
// (all of it or nothing), its schedules are created, and the engine is driven
// live — a RealClock, Tick(), the round's decisions carried out by the
// LocalExecutor, its events fed back (mlsched/exec/runner.h) — until every
// job has ended and every schedule has fired `runs` times. GPUs come from
// NVML when the driver is there, else `--gpus N` simulated ones.
//
// On a terminal it shows live progress (jobs per state, running tasks with
// their GPUs) under the scrolling event lines; otherwise plain lines only.
// Ctrl-C cancels every job (their tasks get SIGTERM, then SIGKILL after the
// grace period); a second Ctrl-C stops at once (tasks are SIGKILLed).
// Exit status: 0 when every job succeeded, 1 when some job did not, 2 for bad
// arguments or a bad jobs file, 130 when interrupted.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "exec/jobs_file.h"
#include "fmt/format.h"
#include "mlsched/engine.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/exec/local_executor.h"
#include "mlsched/exec/local_node.h"
#include "mlsched/exec/remote_executor.h"
#include "mlsched/exec/runner.h"
#include "mlsched/policy/policy_set.h"

namespace {

using namespace mlsched;

constexpr const char* kUsage = R"(usage: mlsched run JOBS.yaml [options]
options:
  --dry-run          check the file and print the plan; run nothing
  --log-dir DIR      per-attempt logs and checkpoints (default ./mlsched-logs)
  --gpus N           simulated GPUs when NVML is not available (default 0)
  --no-nvml          do not load NVML (use --gpus)
  --nvml PATH        NVML library to load (default $MLSCHED_NVML_LIBRARY, libnvidia-ml.so.1)
  --cpus N           schedulable CPUs (default: all online CPUs)
  --agents LIST      run on mlsched-agents (host:port,host:port...) instead of this machine
  --timeout DUR      give up after this long (e.g. 10m; default none)
  --plain            plain lines even on a terminal
)";

volatile sig_atomic_t g_interrupts = 0;
void OnInterrupt(int) { g_interrupts = g_interrupts + 1; }

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "mlsched: " << why << "\n" << kUsage;
  std::exit(2);
}

std::string Name(const Engine& e, JobId j) {
  const JobSpec* s = e.GetSpec(j);
  return s != nullptr ? s->name : fmt::format("#{}", j.value());
}

std::string DescribeJob(const Engine& engine, const JobSpec& s) {
  std::string out = fmt::format("{} task{} x {}", s.total_tasks(), s.total_tasks() == 1 ? "" : "s",
                                FormatResources(engine.catalog(), s.task_groups[0].per_task));
  if (s.time_limit > 0) out += ", time limit " + FormatDuration(s.time_limit);
  if (s.retry.max_attempts > 1) out += fmt::format(", up to {} attempts", s.retry.max_attempts);
  std::string argv;
  for (const std::string& a : s.command.argv) argv += (argv.empty() ? "" : " ") + a;
  out += "\n      $ " + argv;
  return out;
}

// One line per event worth showing; "" for the others (starts show as state changes).
std::string EventText(const Engine& engine, const ExecutorEvent& e) {
  if (e.kind == ExecutorEventKind::kGpuHealth) return DescribeEvent(e);
  const std::string head = fmt::format("{} attempt {} task {}", Name(engine, e.job), e.token.attempt, e.task);
  switch (e.kind) {
    case ExecutorEventKind::kTaskExited: {
      std::string how = e.signal != 0 ? fmt::format("killed by signal {} (SIG{})", e.signal, ::sigabbrev_np(e.signal))
                                      : fmt::format("exited with code {}", e.exit_code);
      if (e.oom_killed) how += ", out of memory";
      if (!e.detail.empty()) how += " — " + e.detail;
      return head + " " + how;
    }
    case ExecutorEventKind::kCheckpoint:
      return fmt::format("{} wrote checkpoint step {} at {}", head, e.step, e.uri);
    default:
      return "";
  }
}

// A job that can never fit would wait forever. One node: all its tasks on
// it. Several: each task on some node (gangs may span nodes).
std::string WhyItCannotFit(const Engine& engine, const JobSpec& s, const std::vector<NodeSpec>& nodes) {
  if (nodes.size() == 1) {
    const NodeSpec& node = nodes[0];
    if (s.total_request().FitsIn(node.capacity)) return "";
    return fmt::format("needs {} in all, this node has {}{}", FormatResources(engine.catalog(), s.total_request()),
                       FormatResources(engine.catalog(), node.capacity),
                       s.total_request().gpus() > node.capacity.gpus() ? " (without NVIDIA GPUs, try --gpus N)" : "");
  }
  for (const TaskGroup& g : s.task_groups) {
    bool fits = false;
    for (const NodeSpec& n : nodes) fits |= g.per_task.FitsIn(n.capacity);
    if (!fits) return fmt::format("has tasks of {}, more than any agent's node offers",
                                  FormatResources(engine.catalog(), g.per_task));
  }
  return "";
}

struct Options {
  std::string file;
  bool dry_run = false;
  std::string log_dir = "mlsched-logs";
  int gpus = 0;
  bool nvml = true;
  std::string nvml_path;
  int cpus = 0;
  Duration timeout = 0;
  bool plain = false;
  std::vector<std::string> agents;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    std::exit(args.empty() ? 2 : 0);
  }
  if (args[0] != "run") Usage(fmt::format("unknown command \"{}\"", args[0]));
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) Usage(a + " needs a value");
      return args[++i];
    };
    auto number = [&](const std::string& v) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 100000) Usage(fmt::format("{} {}: expected a count", a, v));
      return static_cast<int>(n);
    };
    if (a == "--dry-run") o.dry_run = true;
    else if (a == "--log-dir") o.log_dir = value();
    else if (a == "--gpus") o.gpus = number(value());
    else if (a == "--no-nvml") o.nvml = false;
    else if (a == "--nvml") o.nvml_path = value();
    else if (a == "--cpus") o.cpus = number(value());
    else if (a == "--plain") o.plain = true;
    else if (a == "--agents") {
      std::string list = value();
      for (std::size_t b = 0; b <= list.size();) {
        std::size_t e = list.find(',', b);
        if (e == std::string::npos) e = list.size();
        if (e > b) o.agents.push_back(list.substr(b, e - b));
        b = e + 1;
      }
    }
    else if (a == "--timeout") {
      std::string v = value();
      char* end = nullptr;
      double n = std::strtod(v.c_str(), &end);
      std::string unit = end;
      Duration scale = unit == "" || unit == "s" ? kSecond : unit == "m" ? kMinute : unit == "h" ? kHour : 0;
      if (scale == 0 || !(n > 0)) Usage(fmt::format("--timeout {}: expected e.g. 90s, 10m, 2h", v));
      o.timeout = static_cast<Duration>(n * static_cast<double>(scale));
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (!a.empty() && a[0] == '-') Usage(fmt::format("unknown option {}", a));
    else if (o.file.empty()) o.file = a;
    else Usage(fmt::format("one jobs file at a time (got \"{}\" and \"{}\")", o.file, a));
  }
  if (o.file.empty()) Usage("no jobs file given");
  return o;
}

// Live display: event lines scroll; on a terminal a status block stays at the bottom.
class Display {
 public:
  Display(const Engine& engine, bool tty, std::string title)
      : engine_(engine), tty_(tty), title_(std::move(title)), start_(std::chrono::steady_clock::now()) {}

  void Line(const std::string& text) {
    Clear();
    std::cout << fmt::format("[{:>7.1f}s] ", Elapsed()) << text << "\n";
    Draw();
  }
  void Placed(const SchedulingRound& round) {
    for (const Decision& d : round.decisions)
      if (d.kind == DecisionKind::kStart)
        for (const TaskPlacement& p : round.PlacementsOf(d))
          gpus_[{d.job.value(), d.token.attempt, p.task}] = p.gpus;
  }
  void Started(const ExecutorEvent& e) { running_[{e.job.value(), e.token.attempt, static_cast<std::uint32_t>(e.task)}] = Elapsed(); }
  void Exited(const ExecutorEvent& e) { running_.erase({e.job.value(), e.token.attempt, static_cast<std::uint32_t>(e.task)}); }
  void Refresh() {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    Clear();
    Draw();
  }
  void Finish() { Clear(); }
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  void Clear() {
    if (!tty_ || drawn_ == 0) return;
    std::cout << fmt::format("\x1b[{}A\x1b[J", drawn_);
    drawn_ = 0;
  }
  void Draw() {
    if (!tty_) return;
    std::array<int, kNumJobStates> by_state{};
    for (JobId j : engine_.ListJobs({})) ++by_state[static_cast<int>(engine_.GetState(j).value())];
    std::string states;
    for (int s = 0; s < kNumJobStates; ++s)
      if (by_state[s] > 0) states += fmt::format("  {} {}", JobStateName(static_cast<JobState>(s)), by_state[s]);
    std::vector<std::string> lines = {fmt::format("\x1b[1m{}\x1b[0m  {:.1f}s  jobs:{}", title_, Elapsed(), states)};
    int shown = 0;
    for (const auto& [key, since] : running_) {
      if (++shown > 8) {
        lines.push_back(fmt::format("  ... and {} more tasks", running_.size() - 8));
        break;
      }
      const auto [job, attempt, task] = key;
      auto g = gpus_.find(key);
      std::string gpu = g == gpus_.end() || g->second.empty() ? "no GPU" : "GPU " + FormatGpuSet(g->second);
      lines.push_back(fmt::format("  running  {:<20} attempt {} task {}  {:<10} {:.1f}s", Name(engine_, JobId(job)),
                                  attempt, task, gpu, Elapsed() - since));
    }
    for (const std::string& l : lines) std::cout << l << "\n";
    std::cout.flush();
    drawn_ = static_cast<int>(lines.size());
    last_draw_ = std::chrono::steady_clock::now();
  }

  const Engine& engine_;
  bool tty_;
  std::string title_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int drawn_ = 0;
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;
  std::map<Key, double> running_;
  std::map<Key, GpuSet> gpus_;
};

int Run(const Options& o) {
  RealClock clock;
  PolicySet policies = DefaultPolicySet();
  policies.preemption = PreemptionOptions{.grace = 30 * kSecond, .min_runtime = 0};
  auto engine_or = Engine::Create({.clock = &clock, .seed = 1, .policies = policies, .kill_grace = 10 * kSecond,
                                   // agents heartbeat every second: 3 missed, the node is down
                                   .heartbeat_interval = o.agents.empty() ? 0 : kSecond});
  if (!engine_or.ok()) {
    std::cerr << "mlsched: " << engine_or.status().message() << "\n";
    return 2;
  }
  Engine& engine = **engine_or;
  auto file = LoadJobsFile(engine.catalog(), o.file);
  if (!file.ok()) {
    std::cerr << "mlsched: " << file.status().message() << "\n";
    return 2;
  }
  std::vector<NodeSpec> nodes;
  NodeId node;
  std::unique_ptr<GpuMonitor> monitor;
  std::unique_ptr<RemoteExecutor> remote;
  std::string gpu_text;
  if (o.agents.empty()) {
    auto m = GpuMonitor::Open({.use_nvml = o.nvml, .nvml_library = o.nvml_path, .simulated_gpus = o.gpus});
    if (!m.ok()) {
      std::cerr << "mlsched: " << m.status().message() << "\n";
      return 2;
    }
    monitor = *std::move(m);
    auto node_spec = LocalNodeSpec(engine.catalog(), *monitor,
                                   {.name = "localhost", .cpu_millis = std::int64_t{o.cpus} * 1000});
    if (!node_spec.ok()) {
      std::cerr << "mlsched: " << node_spec.status().message() << "\n";
      return 2;
    }
    node = engine.AddNode(*node_spec).value();
    nodes.push_back(*node_spec);
    gpu_text = fmt::format("localhost ({}, {})", FormatResources(engine.catalog(), node_spec->capacity),
                           node_spec->gpus.empty() ? "no GPUs"
                                                   : fmt::format("{} x {} ({})", node_spec->gpus.size(),
                                                                 node_spec->gpus[0].model, monitor->source()));
  } else {
    auto r = RemoteExecutor::Create({.agents = o.agents});
    if (!r.ok()) {
      std::cerr << "mlsched: " << r.status().message() << "\n";
      return 2;
    }
    remote = *std::move(r);
    std::vector<ExecutorEvent> ignored;
    const Timestamp give_up = clock.Now() + 30 * kSecond;
    for (int i = 0; i < remote->agent_count(); ++i) {
      while (!remote->inventory(i) && remote->error(i).empty() && clock.Now() < give_up)
        (void)remote->Poll(100 * kMillisecond, &ignored);
      if (!remote->inventory(i)) {
        std::cerr << fmt::format("mlsched: agent {} did not introduce itself within 30s{}\n", o.agents[i],
                                 remote->error(i).empty() ? "" : ": " + remote->error(i));
        return 2;
      }
      auto id = engine.AddNode(*remote->inventory(i));
      if (!id.ok()) {
        std::cerr << fmt::format("mlsched: agent {}: {}\n", o.agents[i], std::string(id.status().message()));
        return 2;
      }
      remote->BindNode(i, *id);
      nodes.push_back(*remote->inventory(i));
      gpu_text += fmt::format("{}{} ({}, {} GPUs)", gpu_text.empty() ? "" : ", ", nodes.back().name,
                              FormatResources(engine.catalog(), nodes.back().capacity), nodes.back().gpus.size());
    }
  }

  if (!o.dry_run) {
    for (const JobSpec& s : file->workflow.jobs) {
      if (std::string why = WhyItCannotFit(engine, s, nodes); !why.empty()) {
        std::cerr << fmt::format("mlsched: {}: job \"{}\" {}\n", o.file, s.name, why);
        return 2;
      }
    }
    for (const JobsFile::ScheduleEntry& e : file->schedules) {
      if (std::string why = WhyItCannotFit(engine, *e.spec.job, nodes); !why.empty()) {
        std::cerr << fmt::format("mlsched: {}: schedule \"{}\": its job {}\n", o.file, e.spec.name, why);
        return 2;
      }
    }
  }
  WorkflowSubmission sub;
  if (!file->workflow.jobs.empty()) {
    auto s = engine.SubmitWorkflow(file->workflow);
    if (!s.ok()) {
      std::cerr << "mlsched: " << o.file << ": " << s.status().message() << "\n";
      return 2;
    }
    sub = *s;
  }
  std::vector<std::pair<ScheduleId, int>> schedules;
  for (JobsFile::ScheduleEntry& e : file->schedules) {
    if (e.delay >= 0) e.spec.run_at = clock.Now() + e.delay;
    auto id = engine.CreateSchedule(e.spec);
    if (!id.ok()) {
      std::cerr << "mlsched: " << o.file << ": schedule \"" << e.spec.name << "\": " << id.status().message() << "\n";
      return 2;
    }
    schedules.emplace_back(*id, e.runs);
  }

  if (o.dry_run) {
    std::cout << fmt::format("plan for {} on {}\n", o.file, gpu_text);
    SchedulingRound round;
    if (absl::Status s = engine.Tick(&round); !s.ok()) {
      std::cerr << "mlsched: " << s.message() << "\n";
      return 2;
    }
    bool infeasible = false;
    for (std::size_t i = 0; i < sub.jobs.size(); ++i) {
      const JobSpec& s = file->workflow.jobs[i];
      std::string after;
      for (const WorkflowEdge& e : file->workflow.edges)
        if (e.child == s.name) after += (after.empty() ? "" : ", ") + e.parent +
                                        (e.kind == DependencyKind::kAfterSuccess ? "" :
                                         e.kind == DependencyKind::kAfterAny ? " (any end)" : " (on failure)");
      Explanation x = engine.Explain(sub.jobs[i]).value();
      std::string now;
      if (std::string why = WhyItCannotFit(engine, s, nodes); !why.empty()) {
        now = "CANNOT RUN HERE: " + why;
        infeasible = true;
      } else if (x.state == JobState::kStarting) now = "starts now";
      else if (x.verdict == Explanation::Verdict::kInfeasible) {
        now = "INFEASIBLE: " + x.reason;
        infeasible = true;
      } else if (x.state == JobState::kWaitingDeps) now = "after " + after;
      else now = x.reason.empty() ? std::string(JobStateName(x.state)) : x.reason;
      std::cout << fmt::format("  {:<16} {}\n      {}\n", s.name, DescribeJob(engine, s), now);
    }
    for (const auto& [id, runs] : schedules) {
      ScheduleStatus st = engine.GetSchedule(id).value();
      auto next = engine.PreviewSchedule(id, std::min(runs, 3)).value();
      std::string times;
      for (Timestamp t : next) times += (times.empty() ? "" : ", ") + fmt::format("+{}", FormatDuration(t - clock.Now()));
      std::cout << fmt::format("  schedule {:<8} {} run{} at {}\n      {}\n", st.spec.name, runs, runs == 1 ? "" : "s",
                               times, DescribeJob(engine, *st.spec.job));
    }
    return infeasible ? 1 : 0;
  }

  std::unique_ptr<LocalExecutor> local;
  if (!remote) {
    auto executor = LocalExecutor::Create({.log_dir = o.log_dir, .node = node});
    if (!executor.ok()) {
      std::cerr << "mlsched: " << executor.status().message() << "\n";
      return 2;
    }
    local = *std::move(executor);
  }
  PollingExecutor* executor = remote ? static_cast<PollingExecutor*>(remote.get()) : local.get();
  const bool tty = !o.plain && ::isatty(STDOUT_FILENO);
  Display display(engine, tty, "mlsched run " + o.file);
  display.Line(fmt::format("{} job(s), {} schedule(s) on {}; logs in {}", sub.jobs.size(), schedules.size(),
                           gpu_text, remote ? "the agents' log directories" : o.log_dir));
  std::map<std::uint32_t, JobState> last_state;
  Runner runner({.engine = &engine,
                 .clock = &clock,
                 .executor = executor,
                 .gpus = monitor.get(),
                 .node = node,
                 .on_event =
                     [&](const ExecutorEvent& e) {
                       if (e.kind == ExecutorEventKind::kTaskStarted) display.Started(e);
                       if (e.kind == ExecutorEventKind::kTaskExited) display.Exited(e);
                       std::string text = EventText(engine, e);
                       if (!text.empty()) display.Line(text);
                     },
                 .on_round = [&](const SchedulingRound& r) { display.Placed(r); }});

  ::signal(SIGINT, OnInterrupt);
  ::signal(SIGTERM, OnInterrupt);
  bool cancelled = false;
  const Timestamp deadline = o.timeout > 0 ? clock.Now() + o.timeout : kInfiniteFuture;
  for (;;) {
    if (g_interrupts >= 2) {
      display.Finish();
      std::cerr << "mlsched: interrupted twice: killing every task\n";
      return 130;  // the executor's destructor SIGKILLs and reaps the tasks
    }
    if ((g_interrupts == 1 || clock.Now() >= deadline) && !cancelled) {
      cancelled = true;
      display.Line(g_interrupts ? "interrupted: cancelling every job (Ctrl-C again to kill at once)"
                                : "timeout: cancelling every job");
      for (const auto& [id, runs] : schedules) (void)engine.DeleteSchedule(id);
      schedules.clear();
      for (JobId j : engine.ListJobs({}))
        if (!IsTerminal(engine.GetState(j).value())) (void)engine.Cancel(j);
    }
    // Schedules that fired their runs are deleted; their jobs still finish.
    for (auto it = schedules.begin(); it != schedules.end();) {
      ScheduleStatus st = engine.GetSchedule(it->first).value();
      if (st.runs >= it->second || st.next_fire == kInfiniteFuture) {
        (void)engine.DeleteSchedule(it->first);
        it = schedules.erase(it);
      } else {
        ++it;
      }
    }
    // A queued job that can never fit (its GPUs turned unhealthy) would wait forever.
    for (JobId j : engine.ListJobs({.state = JobState::kQueued})) {
      auto x = engine.Explain(j);
      if (x.ok() && x->verdict == Explanation::Verdict::kInfeasible) {
        display.Line(fmt::format("{} can never start here ({}): cancelling it", Name(engine, j), x->reason));
        (void)engine.Cancel(j);
      }
    }
    // Locally every task is waited for; tasks on a lost agent never report.
    bool done = schedules.empty() && (local ? local->live_tasks() == 0 : true);
    for (JobId j : engine.ListJobs({})) {
      const JobState s = engine.GetState(j).value();
      auto [it, fresh] = last_state.emplace(j.value(), s);
      if (fresh || it->second != s) {
        it->second = s;
        std::string why;
        if (IsTerminal(s) || s == JobState::kQueued) {
          JobStatus st = engine.GetJob(j).value();
          if (!st.reason.empty() && s != JobState::kSucceeded) why = " (" + st.reason + ")";
        }
        display.Line(fmt::format("{} {}{}", Name(engine, j), JobStateName(s), why));
      }
      done = done && IsTerminal(s);
    }
    if (done) break;
    if (absl::Status s = runner.Step(); !s.ok()) {
      display.Finish();
      std::cerr << "mlsched: " << s.message() << "\n";
      return 2;
    }
    display.Refresh();
  }
  display.Finish();

  int failed = 0;
  std::cout << fmt::format("\n{:<20} {:<14} {:>8}  {}\n", "job", "state", "attempts", "");
  for (JobId j : engine.ListJobs({})) {
    JobStatus st = engine.GetJob(j).value();
    failed += st.state != JobState::kSucceeded;
    std::cout << fmt::format("{:<20} {:<14} {:>8}  {}\n", st.name, JobStateName(st.state), st.attempts.size(),
                             st.state == JobState::kSucceeded ? "" : st.reason);
  }
  std::cout << fmt::format("{} of {} jobs succeeded in {:.1f}s; logs in {}\n", engine.job_count() - failed,
                           engine.job_count(), display.Elapsed(), remote ? "the agents' log directories" : o.log_dir);
  if (g_interrupts > 0) return 130;
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return Run(ParseArgs(argc, argv)); }
