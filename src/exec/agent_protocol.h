// The wire protocol between RemoteExecutor and mlsched-agent.
//
// Why not gRPC: Debian 12 has it (libgrpc++-dev, protobuf-compiler-grpc),
// but generated gRPC code and its headers cost minutes of compile time per
// file on the project's 2-core machines and a large dependency for a handful
// of messages. The protocol is instead one JSON object per line over a TCP
// stream (mlsched already carries a strict JSON reader), which any language
// can speak and tcpdump can read. Messages:
//
//   agent -> scheduler
//     {"t":"hello","name":N,"incarnation":I,"cpu":MILLIS,"memory":BYTES,
//      "gpus":[{"index":0,"uuid":U,"model":M,"memory":B,"healthy":true},...],
//      "live":[[J,E,A],..]}                                  attempts it is running
//     {"t":"hb"}                                             heartbeat
//     {"t":"ev","k":KIND,"job":J,"epoch":E,"attempt":A,"task":T,...}   an ExecutorEvent
//     {"t":"refused","job":J,"epoch":E,"attempt":A,"why":TEXT}          a launch it refused
//   scheduler -> agent
//     {"t":"launch","job":J,"epoch":E,"attempt":A,"name":N,"argv":[..],"env":[[K,V],..],
//      "wd":DIR,"groups":[COUNT,..],"tasks":[[TASK,GROUP,GPUMASK],..],"resume":{..}|null}
//     {"t":"kill","job":J,"epoch":E,"attempt":A,"grace":MICROS}
//     {"t":"ckpt","job":J,"epoch":E,"attempt":A}
//     {"t":"fence","tokens":[[J,E,A],..]}   newest tokens launched: older launches are refused
//
// Integers are JSON numbers (exact: the reader never goes through double).
#ifndef MLSCHED_SRC_EXEC_AGENT_PROTOCOL_H_
#define MLSCHED_SRC_EXEC_AGENT_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/json.h"
#include "mlsched/decision.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/executor.h"
#include "mlsched/node.h"

namespace mlsched::internal {

// `live`: the attempts with tasks running on the agent.
std::string EncodeHello(const NodeSpec& node, std::uint64_t incarnation,
                        const std::vector<std::pair<JobId, FencingToken>>& live);
absl::StatusOr<NodeSpec> DecodeHello(const JsonValue& msg, std::uint64_t* incarnation);

std::string EncodeEvent(const ExecutorEvent& e);
absl::StatusOr<ExecutorEvent> DecodeEvent(const JsonValue& msg);

std::string EncodeLaunch(const LaunchRequest& r, std::span<const TaskPlacement> tasks);
// The spec (command and group sizes only) and placements of a launch message.
struct DecodedLaunch {
  JobId job;
  FencingToken token;
  JobSpec spec;
  std::vector<TaskPlacement> tasks;
  bool has_resume = false;
  ResumeFrom resume;
};
absl::StatusOr<DecodedLaunch> DecodeLaunch(const JsonValue& msg);

std::string EncodeStop(std::string_view type, JobId job, FencingToken token, Duration grace);
std::string EncodeFence(const std::vector<std::pair<JobId, FencingToken>>& tokens);
std::string EncodeRefused(JobId job, FencingToken token, std::string_view why);

// Reads "job", "epoch", "attempt".
absl::Status DecodeAttempt(const JsonValue& msg, JobId* job, FencingToken* token);
std::int64_t IntOr(const JsonValue& msg, std::string_view key, std::int64_t fallback);
std::string StringOr(const JsonValue& msg, std::string_view key);

// Line framing over a non-blocking socket.
class LineChannel {
 public:
  explicit LineChannel(int fd = -1) : fd_(fd) {}
  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close();
  // Queues a line (a newline is added) and writes what the socket takes.
  void Send(const std::string& line);
  // Writes queued output; false when the peer is gone.
  bool Flush();
  bool wants_write() const { return !out_.empty(); }
  // Reads what is available; appends complete lines. False on EOF or error.
  bool Read(std::vector<std::string>* lines);

 private:
  int fd_;
  std::string in_, out_;
};

}  // namespace mlsched::internal

#endif  // MLSCHED_SRC_EXEC_AGENT_PROTOCOL_H_
