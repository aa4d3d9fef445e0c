// Reference executor benchmarks (real processes; numbers depend on the
// machine's fork/exec cost more than on mlsched):
//   BM_LocalExecutor_LaunchToStarted  Launch() of /bin/true until its started
//                                     event: p50/p99 in microseconds; the
//                                     argument is the host's own heap in MiB
//                                     (touched), as an ML platform embedding
//                                     the executor has one.
//   BM_LocalExecutor_LaunchToExited   the same until its exit event (the
//                                     supervisor has reaped everything).
//   BM_Runner_TrivialJobs             N one-task jobs of /bin/true through the
//                                     engine (RealClock), the runner and the
//                                     executor, 16 at a time: jobs per second.
//   BM_RemoteExecutor_LaunchToStarted the same launch through an mlsched-agent
//                                     on loopback: p50/p99.
//   BM_Agents_ThousandTasks           1,000 jobs on 3 agents: jobs/s and the
//                                     scheduler process's CPU time per task.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mlsched/engine.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/exec/local_executor.h"
#include "mlsched/exec/local_node.h"
#include "mlsched/exec/remote_executor.h"
#include "mlsched/exec/runner.h"

extern char** environ;

namespace mlsched {
namespace {

std::string LogDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mlsched-bench-XXXXXX").string();
  return ::mkdtemp(tmpl.data());
}

void Percentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void LaunchBench(benchmark::State& state, ExecutorEventKind until, std::size_t host_heap_mib = 0) {
  // The host's heap: every page touched, as a platform's would be.
  std::vector<char> heap(host_heap_mib << 20, 1);
  benchmark::DoNotOptimize(heap.data());
  const std::string dir = LogDir();
  auto executor = LocalExecutor::Create({.log_dir = dir}).value();
  JobSpec spec{.name = "true", .tenant = "b", .user = "b",
               .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1, 0, 0)}},
               .command = {.argv = {"/bin/true"}}};
  TaskPlacement placement{.task = 0, .node = NodeId(0)};
  std::vector<ExecutorEvent> events;
  std::vector<double> us;
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    ++attempt;
    events.clear();
    const auto t0 = std::chrono::steady_clock::now();
    if (!executor->Launch({.job = JobId(1), .token = {.epoch = 1, .attempt = attempt}, .spec = &spec,
                           .tasks = {&placement, 1}})
             .ok())
      std::abort();
    bool seen = false;
    while (!seen) {
      if (!executor->Poll(kSecond, &events).ok()) std::abort();
      for (const ExecutorEvent& e : events) seen |= e.kind == until;
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    state.PauseTiming();
    while (executor->live_tasks() > 0) (void)executor->Poll(kSecond, &events);
    state.ResumeTiming();
  }
  Percentiles(state, us);
  executor.reset();
  std::filesystem::remove_all(dir);
}

void BM_LocalExecutor_LaunchToStarted(benchmark::State& state) {
  LaunchBench(state, ExecutorEventKind::kTaskStarted, static_cast<std::size_t>(state.range(0)));
}
void BM_LocalExecutor_LaunchToExited(benchmark::State& state) { LaunchBench(state, ExecutorEventKind::kTaskExited); }
BENCHMARK(BM_LocalExecutor_LaunchToStarted)->Unit(benchmark::kMicrosecond)->Iterations(1000)->Arg(0);
BENCHMARK(BM_LocalExecutor_LaunchToStarted)->Unit(benchmark::kMicrosecond)->Iterations(200)->Arg(2048);
BENCHMARK(BM_LocalExecutor_LaunchToExited)->Unit(benchmark::kMicrosecond)->Iterations(1000);

void BM_Runner_TrivialJobs(benchmark::State& state) {
  const int jobs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const std::string dir = LogDir();
    RealClock clock;
    auto engine = Engine::Create({.clock = &clock, .seed = 1}).value();
    auto gpus = GpuMonitor::Open({.use_nvml = false}).value();
    // 16 slots: 16 tasks of 1 core at a time, whatever the machine.
    NodeSpec node = LocalNodeSpec(engine->catalog(), *gpus, {.cpu_millis = 16'000}).value();
    NodeId n = engine->AddNode(node).value();
    auto executor = LocalExecutor::Create({.log_dir = dir, .node = n}).value();
    std::vector<JobId> ids;
    for (int i = 0; i < jobs; ++i) {
      ids.push_back(engine
                        ->Submit({.name = "j" + std::to_string(i), .tenant = "b", .user = "b",
                                  .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1000, 0, 0)}},
                                  .command = {.argv = {"/bin/true"}}})
                        .value());
    }
    Runner runner({.engine = engine.get(), .clock = &clock, .executor = executor.get(), .max_wait = 50 * kMillisecond});
    absl::Status s = runner.RunUntil(
        [&] { return engine->GetQueueDepth().total == 0 && engine->GetUtilization().running_jobs == 0; }, 10 * kMinute);
    if (!s.ok()) std::abort();
    for (JobId j : ids)
      if (engine->GetState(j).value() != JobState::kSucceeded) std::abort();
    state.PauseTiming();
    executor.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["jobs_per_s"] = benchmark::Counter(static_cast<double>(jobs) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Runner_TrivialJobs)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

// --- Through node agents on loopback -----------------------------------------
#ifdef MLSCHED_AGENT_PATH
namespace {

struct AgentProcess {
  pid_t pid = -1;
  int port = 0;
};

AgentProcess StartAgent(const std::string& dir, const std::string& name) {
  const std::string port_file = dir + "/" + name + ".port";
  std::vector<std::string> args = {MLSCHED_AGENT_PATH, "--listen", "127.0.0.1:0", "--name", name, "--no-nvml",
                                   "--cpus", "16", "--heartbeat", "200", "--log-dir", dir + "/" + name,
                                   "--port-file", port_file};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  AgentProcess p;
  if (::posix_spawn(&p.pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) std::abort();
  for (int i = 0; i < 6000 && !std::filesystem::exists(port_file); ++i) ::usleep(10'000);
  std::ifstream(port_file) >> p.port;
  if (p.port == 0) std::abort();
  return p;
}

void StopAgent(AgentProcess& p) {
  ::kill(p.pid, SIGTERM);
  int st;
  ::waitpid(p.pid, &st, 0);
}

std::unique_ptr<RemoteExecutor> ConnectAll(const std::vector<AgentProcess>& agents) {
  std::vector<std::string> addrs;
  for (const AgentProcess& a : agents) addrs.push_back("127.0.0.1:" + std::to_string(a.port));
  auto remote = RemoteExecutor::Create({.agents = addrs}).value();
  std::vector<ExecutorEvent> events;
  for (int i = 0; i < remote->agent_count(); ++i)
    while (!remote->inventory(i)) (void)remote->Poll(100 * kMillisecond, &events);
  return remote;
}

}  // namespace

void BM_RemoteExecutor_LaunchToStarted(benchmark::State& state) {
  const std::string dir = LogDir();
  std::vector<AgentProcess> agents = {StartAgent(dir, "agent-0")};
  auto remote = ConnectAll(agents);
  remote->BindNode(0, NodeId(0));
  JobSpec spec{.name = "true", .tenant = "b", .user = "b",
               .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1, 0, 0)}},
               .command = {.argv = {"/bin/true"}}};
  TaskPlacement placement{.task = 0, .node = NodeId(0)};
  std::vector<ExecutorEvent> events;
  std::vector<double> us;
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    ++attempt;
    events.clear();
    const auto t0 = std::chrono::steady_clock::now();
    if (!remote->Launch({.job = JobId(1), .token = {.epoch = 1, .attempt = attempt}, .spec = &spec,
                         .tasks = {&placement, 1}})
             .ok())
      std::abort();
    auto seen = [&](ExecutorEventKind k) {
      for (const ExecutorEvent& e : events)
        if (e.kind == k && e.token.attempt == attempt) return true;
      return false;
    };
    while (!seen(ExecutorEventKind::kTaskStarted)) (void)remote->Poll(kSecond, &events);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    state.PauseTiming();
    while (!seen(ExecutorEventKind::kTaskExited)) (void)remote->Poll(kSecond, &events);
    state.ResumeTiming();
  }
  Percentiles(state, us);
  remote.reset();
  for (AgentProcess& a : agents) StopAgent(a);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RemoteExecutor_LaunchToStarted)->Unit(benchmark::kMicrosecond)->Iterations(300);

// 1,000 one-task jobs of /bin/true on 3 agents (16 slots each) through the
// engine and the runner: wall time, jobs/s, and the scheduler's own CPU time
// per task (this process: engine, runner, RemoteExecutor; the agents and the
// tasks run in other processes).
void BM_Agents_ThousandTasks(benchmark::State& state) {
  const int jobs = 1000;
  for (auto _ : state) {
    const std::string dir = LogDir();
    std::vector<AgentProcess> agents = {StartAgent(dir, "agent-0"), StartAgent(dir, "agent-1"),
                                        StartAgent(dir, "agent-2")};
    auto remote = ConnectAll(agents);
    RealClock clock;
    auto engine = Engine::Create({.clock = &clock, .seed = 1}).value();
    for (int i = 0; i < remote->agent_count(); ++i) remote->BindNode(i, engine->AddNode(*remote->inventory(i)).value());
    for (int i = 0; i < jobs; ++i) {
      (void)engine
          ->Submit({.name = "j" + std::to_string(i), .tenant = "b", .user = "b",
                    .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1000, 0, 0)}},
                    .command = {.argv = {"/bin/true"}}})
          .value();
    }
    Runner runner({.engine = engine.get(), .clock = &clock, .executor = remote.get(), .max_wait = 50 * kMillisecond});
    timespec c0, c1;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = runner.RunUntil(
        [&] { return engine->GetQueueDepth().total == 0 && engine->GetUtilization().running_jobs == 0; }, 10 * kMinute);
    if (!s.ok() || engine->counters().starts != jobs) std::abort();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    const double cpu = static_cast<double>(c1.tv_sec - c0.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec);
    state.counters["jobs_per_s"] = jobs / wall;
    state.counters["sched_cpu_us_per_task"] = 1e6 * cpu / jobs;
    state.PauseTiming();
    remote.reset();
    for (AgentProcess& a : agents) StopAgent(a);
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Agents_ThousandTasks)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
#endif  // MLSCHED_AGENT_PATH

}  // namespace mlsched
