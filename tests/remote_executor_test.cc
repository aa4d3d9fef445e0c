// RemoteExecutor with real mlsched-agent processes on loopback ports: three
// agents, one SIGKILLed mid-run (its node goes down after missed heartbeats,
// its jobs are requeued on the others and finish), a stale launch after the
// agent restarts is refused, and an agent whose inventory changed is refused.
#include "mlsched/exec/remote_executor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exec_test_support.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "mlsched/engine.h"
#include "mlsched/exec/runner.h"

extern char** environ;

namespace mlsched {
namespace {

using testing::ReadFile;
using testing::ScratchDir;

class Agent {
 public:
  Agent(const ScratchDir& dir, std::string name, int gpus, int port = 0) : name_(std::move(name)) {
    port_file_ = dir.File(name_ + ".port." + std::to_string(++starts_));
    std::vector<std::string> args = {MLSCHED_AGENT_PATH, "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--name", name_, "--gpus", std::to_string(gpus), "--no-nvml", "--cpus", "4",
                                     "--heartbeat", "100", "--log-dir", dir.File(name_ + "-logs"),
                                     "--port-file", port_file_};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~Agent() { Stop(SIGTERM); }
  // Waits for the port the agent listens on.
  int Port() {
    EXPECT_TRUE(testing::WaitForFile(port_file_));
    return std::stoi(ReadFile(port_file_));
  }
  void Stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  std::string name_;
  std::string port_file_;
  pid_t pid_ = -1;
  static inline int starts_ = 0;
};

// A raw scheduler connection: the first line is the agent's hello.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~RawClient() { ::close(fd_); }
  void Send(const std::string& line) {
    std::string l = line + "\n";
    EXPECT_EQ(::send(fd_, l.data(), l.size(), MSG_NOSIGNAL), static_cast<ssize_t>(l.size()));
  }
  // The next line containing `needle` ("" after the patience).
  std::string WaitFor(const std::string& needle) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (line.find(needle) != std::string::npos) return line;
      }
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 100) > 0) {
        char tmp[4096];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) return "";
        buf_.append(tmp, static_cast<std::size_t>(n));
      }
    }
    return "";
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

class RemoteExecutorTest : public ::testing::Test {
 protected:
  // Connects to the agents and registers their nodes.
  void Connect(const std::vector<int>& ports) {
    std::vector<std::string> addrs;
    for (int p : ports) addrs.push_back("127.0.0.1:" + std::to_string(p));
    remote_ = RemoteExecutor::Create({.agents = addrs, .reconnect_interval = 100 * kMillisecond}).value();
    engine_ = Engine::Create({.clock = &clock_, .seed = 1, .kill_grace = kSecond,
                              .heartbeat_interval = 500 * kMillisecond, .missed_heartbeats = 4})
                  .value();
    std::vector<ExecutorEvent> events;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int i = 0; i < remote_->agent_count(); ++i) {
      while (!remote_->inventory(i) && std::chrono::steady_clock::now() < deadline)
        ASSERT_TRUE(remote_->Poll(100 * kMillisecond, &events).ok());
      ASSERT_TRUE(remote_->inventory(i).has_value()) << "agent " << i << " never said hello";
      nodes_.push_back(engine_->AddNode(*remote_->inventory(i)).value());
      remote_->BindNode(i, nodes_.back());
    }
    runner_ = std::make_unique<Runner>(RunnerOptions{.engine = engine_.get(), .clock = &clock_,
                                                     .executor = remote_.get(), .max_wait = 50 * kMillisecond});
  }
  absl::Status RunUntil(const std::function<bool()>& done) { return runner_->RunUntil(done, testing::kPatience); }
  JobState State(JobId j) { return engine_->GetState(j).value(); }

  ScratchDir dir_;
  RealClock clock_;
  std::unique_ptr<RemoteExecutor> remote_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Runner> runner_;
  std::vector<NodeId> nodes_;
};

TEST_F(RemoteExecutorTest, AgentKilledMidRunItsJobsFinishOnTheOthersAndStaleLaunchesAreRefusedAfterRestart) {
  auto a0 = std::make_unique<Agent>(dir_, "node-0", 2);
  Agent a1(dir_, "node-1", 2), a2(dir_, "node-2", 2);
  const int port0 = a0->Port();
  Connect({port0, a1.Port(), a2.Port()});
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(remote_->inventory(1)->gpus.size(), 2u);
  EXPECT_EQ(remote_->inventory(2)->name, "node-2");

  std::vector<JobId> jobs;
  for (int i = 0; i < 6; ++i) {
    JobSpec spec{.name = "sleep-" + std::to_string(i), .tenant = "t", .user = "u",
                 .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1000, 0, 1)}},
                 .command = {.argv = {"/bin/sh", "-c", "sleep 1.5; echo $CUDA_VISIBLE_DEVICES"}},
                 .retry = {.max_attempts = 5, .backoff_base = 0, .backoff_cap = 0}};
    jobs.push_back(engine_->Submit(spec).value());
  }
  ASSERT_TRUE(RunUntil([&] {
                for (JobId j : jobs)
                  if (State(j) != JobState::kRunning) return false;
                return true;
              }).ok());
  EXPECT_EQ(engine_->GetNode(nodes_[0])->live_tasks, 2);
  a0->Stop(SIGKILL);  // mid-run: its two tasks die with it

  ASSERT_TRUE(RunUntil([&] {
                for (JobId j : jobs)
                  if (!IsTerminal(State(j))) return false;
                return true;
              }).ok());
  int lost = 0;
  for (JobId j : jobs) {
    JobStatus st = engine_->GetJob(j).value();
    EXPECT_EQ(st.state, JobState::kSucceeded) << st.name << ": " << st.reason;
    if (st.attempts.front().outcome == AttemptEnd::kLost) {
      ++lost;
      EXPECT_NE(st.attempts.back().tasks[0].placement.node, nodes_[0]);
    }
  }
  EXPECT_GE(lost, 2);  // the two on the killed agent (more only if a loaded machine delays heartbeats 2 s)
  EXPECT_EQ(engine_->GetNode(nodes_[0])->state, NodeState::kDown);
  EXPECT_GE(engine_->counters().nodes_lost, 1);

  // The agent comes back (a new process on the same port): the node is up
  // again, and a launch older than what the scheduler already ran is refused.
  const std::uint64_t old_incarnation = remote_->incarnation(0);
  a0 = std::make_unique<Agent>(dir_, "node-0", 2, port0);
  ASSERT_EQ(a0->Port(), port0);
  ASSERT_TRUE(RunUntil([&] {
                return remote_->incarnation(0) != old_incarnation &&
                       engine_->GetNode(nodes_[0])->state == NodeState::kUp;
              }).ok());
  ASSERT_TRUE(RunUntil([&, t0 = clock_.Now()] { return clock_.Now() > t0 + 300 * kMillisecond; }).ok());
  const JobStatus victim = engine_->GetJob(jobs[0]).value();
  const FencingToken newest = victim.attempts.back().token;
  RawClient stale(port0);  // a scheduler that missed everything since
  ASSERT_NE(stale.WaitFor("\"t\":\"hello\""), "");
  stale.Send(fmt::format("{{\"t\":\"launch\",\"job\":{},\"epoch\":{},\"attempt\":{},\"name\":\"x\",\"argv\":[\"true\"],"
                         "\"env\":[],\"wd\":\"\",\"groups\":[1],\"tasks\":[[0,0,1]],\"resume\":null}}",
                         jobs[0].value(), newest.epoch, newest.attempt));
  std::string refused = stale.WaitFor("\"t\":\"refused\"");
  EXPECT_NE(refused.find("already seen"), std::string::npos) << refused;
}

TEST_F(RemoteExecutorTest, AgentComingBackWithADifferentInventoryIsRefused) {
  auto a = std::make_unique<Agent>(dir_, "node-x", 2);
  const int port = a->Port();
  Connect({port});
  ASSERT_FALSE(HasFailure());
  a->Stop(SIGTERM);
  a = std::make_unique<Agent>(dir_, "node-x", 1, port);  // same name, one GPU fewer
  ASSERT_EQ(a->Port(), port);
  std::vector<ExecutorEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (remote_->error(0).empty() && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(remote_->Poll(100 * kMillisecond, &events).ok());
  EXPECT_NE(remote_->error(0).find("different inventory"), std::string::npos) << remote_->error(0);
  EXPECT_FALSE(remote_->connected(0));
  EXPECT_EQ(remote_->inventory(0)->gpus.size(), 2u);  // what the engine knows stays
}

// A connection drop without an agent restart: when the executor reconnects,
// the agent lists its live attempts, and one the scheduler has since replaced
// with a newer attempt of the same job is killed, not adopted.
TEST(RemoteExecutorReconnect, StaleAttemptStillRunningOnAReconnectedAgentIsKilled) {
  ScratchDir dir;
  Agent agent(dir, "node-p", 2);
  const int port = agent.Port();
  auto remote = RemoteExecutor::Create({.agents = {"127.0.0.1:" + std::to_string(port)},
                                        .reconnect_interval = 100 * kMillisecond})
                    .value();
  std::vector<ExecutorEvent> events;
  auto poll_until = [&](const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      EXPECT_TRUE(remote->Poll(100 * kMillisecond, &events).ok());
    return done();
  };
  ASSERT_TRUE(poll_until([&] { return remote->connected(0); }));
  remote->BindNode(0, NodeId(0));
  JobSpec spec{.name = "long", .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1, 0, 0)}},
               .command = {.argv = {"sleep", "1000"}}};
  TaskPlacement p{.task = 0, .node = NodeId(0)};
  auto started = [&](std::uint32_t attempt) {
    return std::any_of(events.begin(), events.end(), [&](const ExecutorEvent& e) {
      return e.kind == ExecutorEventKind::kTaskStarted && e.token.attempt == attempt;
    });
  };
  ASSERT_TRUE(remote->Launch({.job = JobId(4), .token = {1, 1}, .spec = &spec, .tasks = {&p, 1}}).ok());
  ASSERT_TRUE(poll_until([&] { return started(1); }));
  // The scheduler moved on (say the node was declared down): attempt 2 of
  // the same job starts; attempt 1 still runs on the agent.
  ASSERT_TRUE(remote->Launch({.job = JobId(4), .token = {1, 2}, .spec = &spec, .tasks = {&p, 1}}).ok());
  ASSERT_TRUE(poll_until([&] { return started(2); }));
  const std::uint64_t incarnation = remote->incarnation(0);
  {
    RawClient other(port);  // takes the agent's connection: the executor is cut off
    ASSERT_NE(other.WaitFor("\"t\":\"hello\""), "");
  }
  auto exited = [&](std::uint32_t attempt) -> const ExecutorEvent* {
    for (const ExecutorEvent& e : events)
      if (e.kind == ExecutorEventKind::kTaskExited && e.token.attempt == attempt) return &e;
    return nullptr;
  };
  ASSERT_TRUE(poll_until([&] { return exited(1) != nullptr; }));
  EXPECT_EQ(remote->incarnation(0), incarnation);  // the same agent process
  EXPECT_EQ(exited(1)->signal, SIGKILL);
  EXPECT_TRUE(exited(1)->killed_by_executor);
  EXPECT_EQ(exited(2), nullptr);  // the current attempt runs on
  ASSERT_TRUE(remote->Kill(JobId(4), {1, 2}, 0).ok());
  ASSERT_TRUE(poll_until([&] { return exited(2) != nullptr; }));
}

TEST(RemoteExecutorReconnect, LaunchTheAgentRefusesComesBackAsAnExitWithItsReason) {
  ScratchDir dir;
  Agent agent(dir, "node-r", 0);
  auto remote = RemoteExecutor::Create({.agents = {"127.0.0.1:" + std::to_string(agent.Port())}}).value();
  std::vector<ExecutorEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!remote->connected(0) && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(remote->Poll(100 * kMillisecond, &events).ok());
  remote->BindNode(0, NodeId(0));
  JobSpec spec{.name = "bad", .task_groups = {{.count = 1, .per_task = ResourceVector::Of(1, 0, 0)}},
               .command = {.argv = {"no-such-program-mlsched"}}};
  TaskPlacement p{.task = 0, .node = NodeId(0)};
  ASSERT_TRUE(remote->Launch({.job = JobId(0), .token = {1, 1}, .spec = &spec, .tasks = {&p, 1}}).ok());
  while (testing::Count(events, ExecutorEventKind::kTaskExited) == 0 && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(remote->Poll(100 * kMillisecond, &events).ok());
  const ExecutorEvent* e = testing::Find(events, ExecutorEventKind::kTaskExited);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->exit_code, 127);
  EXPECT_NE(e->detail.find("no-such-program-mlsched"), std::string::npos) << e->detail;
  EXPECT_NE(testing::Find(events, ExecutorEventKind::kTaskStarted), nullptr);
}

TEST(RemoteExecutorOptions, BadAddressesAreRefused) {
  EXPECT_FALSE(RemoteExecutor::Create({}).ok());
  EXPECT_FALSE(RemoteExecutor::Create({.agents = {"localhost"}}).ok());
  EXPECT_FALSE(RemoteExecutor::Create({.agents = {"localhost:http"}}).ok());
  EXPECT_TRUE(RemoteExecutor::Create({.agents = {"127.0.0.1:7070"}}).ok());
}

TEST(RemoteExecutorOptions, LaunchOnANodeWithoutAConnectedAgentIsUnavailable) {
  auto remote = RemoteExecutor::Create({.agents = {"127.0.0.1:1"}}).value();
  remote->BindNode(0, NodeId(0));
  JobSpec spec{.name = "x", .command = {.argv = {"true"}}};
  TaskPlacement p{.task = 0, .node = NodeId(0)};
  EXPECT_EQ(remote->Launch({.job = JobId(0), .token = {1, 1}, .spec = &spec, .tasks = {&p, 1}}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(remote->Kill(JobId(0), {1, 1}, 0).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mlsched
