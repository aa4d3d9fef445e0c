// RemoteExecutor: runs tasks on other machines through `mlsched-agent`s.
//
// Each agent (examples/mlsched_agent.cc) runs a LocalExecutor and a GpuMonitor
// on its node and speaks a line-oriented JSON protocol over TCP
// (src/exec/agent_protocol.h explains why not gRPC). The RemoteExecutor keeps
// one connection per agent address, reconnecting every `reconnect_interval`
// when it drops:
//
//   - an agent introduces itself with its inventory (name, CPU, memory, GPUs
//     with models) and an incarnation number that changes when it restarts;
//     the host registers the node with the engine (Engine::AddNode) and binds
//     it here (BindNode). An agent that comes back with a different inventory
//     under the same name is refused (agents()[i].error says why);
//   - agents heartbeat; heartbeats become kHeartbeat events, so the engine's
//     heartbeat timeout (EngineOptions::heartbeat_interval) declares a silent
//     node Down and requeues its attempts as Lost;
//   - on every (re)connection the executor sends the agent the newest fencing
//     token it launched per job, and the agent refuses any older launch —
//     also one delayed in the network or sent by a stale scheduler;
//   - an agent that restarted has lost its tasks with it (its supervisors kill
//     them when it dies); an agent that reconnects without restarting reports
//     its live attempts, and those the engine has since given up (a newer
//     token was launched for the job elsewhere) are killed, not adopted twice.
//
// Launch sends each agent the placements on its node (a gang may span nodes);
// launches an agent refuses come back as a started and an exit-127 event with
// the reason. Poll() waits on every connection and returns the events.
//
// Thread-safety: none; one thread calls every method.
//
//   auto remote = RemoteExecutor::Create({.agents = {"10.0.0.7:7070", "10.0.0.8:7070"}}).value();
//   remote->Poll(kSecond, &events);                 // hellos arrive
//   for (int i = 0; i < remote->agent_count(); ++i)
//     if (auto inv = remote->inventory(i)) remote->BindNode(i, engine->AddNode(*inv).value());
#ifndef MLSCHED_EXEC_REMOTE_EXECUTOR_H_
#define MLSCHED_EXEC_REMOTE_EXECUTOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/executor.h"
#include "mlsched/ids.h"
#include "mlsched/node.h"
#include "mlsched/time.h"

namespace mlsched {

struct RemoteExecutorOptions {
  std::vector<std::string> agents;  // "host:port" (IPv4 address or name)
  Duration reconnect_interval = 500 * kMillisecond;
};

class RemoteExecutor final : public PollingExecutor {
 public:
  // Errors: no agents, or an address that is not host:port. Agents need not
  // be up yet.
  static absl::StatusOr<std::unique_ptr<RemoteExecutor>> Create(RemoteExecutorOptions options);
  ~RemoteExecutor() override;
  RemoteExecutor(const RemoteExecutor&) = delete;
  RemoteExecutor& operator=(const RemoteExecutor&) = delete;

  std::string_view name() const override { return "remote"; }
  // kFailedPrecondition for a stale token; kUnavailable when a node of the
  // placement has no connected agent (nothing is sent to any agent then).
  absl::Status Launch(const LaunchRequest& request) override;
  absl::Status Kill(JobId job, FencingToken token, Duration grace) override;
  absl::Status SignalCheckpoint(JobId job, FencingToken token) override;

  // Connects, reads, reconnects; appends events. Waits at most `timeout`.
  absl::Status Poll(Duration timeout, std::vector<ExecutorEvent>* events) override;

  int agent_count() const;
  bool connected(int agent) const;
  // What the agent announced (nullopt before its first hello).
  std::optional<NodeSpec> inventory(int agent) const;
  std::uint64_t incarnation(int agent) const;
  // Why the agent's last hello was refused ("" if it was not).
  std::string error(int agent) const;
  void BindNode(int agent, NodeId node);

 private:
  struct Impl;
  explicit RemoteExecutor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlsched

#endif  // MLSCHED_EXEC_REMOTE_EXECUTOR_H_
