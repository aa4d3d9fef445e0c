#include "exec/agent_protocol.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt/format.h"

namespace mlsched::internal {
namespace {

std::string Attempt(JobId job, FencingToken t) {
  return fmt::format("\"job\":{},\"epoch\":{},\"attempt\":{}", job.value(), t.epoch, t.attempt);
}

ExecutorEventKind KindOf(std::string_view k, bool* ok) {
  *ok = true;
  for (ExecutorEventKind kind : {ExecutorEventKind::kTaskStarted, ExecutorEventKind::kTaskExited,
                                 ExecutorEventKind::kCheckpoint, ExecutorEventKind::kProgress,
                                 ExecutorEventKind::kGpuHealth, ExecutorEventKind::kHeartbeat})
    if (ExecutorEventKindName(kind) == k) return kind;
  *ok = false;
  return ExecutorEventKind::kTaskStarted;
}

}  // namespace

std::int64_t IntOr(const JsonValue& msg, std::string_view key, std::int64_t fallback) {
  const JsonValue* v = msg.Find(key);
  if (v == nullptr) return fallback;
  auto i = v->AsInt64();
  return i.ok() ? *i : fallback;
}

std::string StringOr(const JsonValue& msg, std::string_view key) {
  const JsonValue* v = msg.Find(key);
  return v != nullptr && v->is_string() ? v->string_value() : std::string();
}

absl::Status DecodeAttempt(const JsonValue& msg, JobId* job, FencingToken* token) {
  const std::int64_t j = IntOr(msg, "job", -1), e = IntOr(msg, "epoch", -1), a = IntOr(msg, "attempt", -1);
  if (j < 0 || j >= JobId::kNone || e < 0 || e > 0xffffffffLL || a < 0 || a > 0xffffffffLL) {
    return absl::InvalidArgumentError("message without a valid job, epoch and attempt");
  }
  *job = JobId(static_cast<std::uint32_t>(j));
  *token = {.epoch = static_cast<std::uint32_t>(e), .attempt = static_cast<std::uint32_t>(a)};
  return absl::OkStatus();
}

std::string EncodeHello(const NodeSpec& node, std::uint64_t incarnation,
                        const std::vector<std::pair<JobId, FencingToken>>& live) {
  std::string attempts;
  for (const auto& [j, t] : live)
    attempts += fmt::format("{}[{},{},{}]", attempts.empty() ? "" : ",", j.value(), t.epoch, t.attempt);
  std::string gpus;
  for (const GpuDevice& g : node.gpus) {
    gpus += fmt::format("{}{{\"index\":{},\"uuid\":{},\"model\":{},\"memory\":{},\"domain\":{},\"healthy\":{}}}",
                        gpus.empty() ? "" : ",", g.index, JsonQuote(g.uuid), JsonQuote(g.model), g.memory_bytes,
                        g.topology_domain, g.healthy ? "true" : "false");
  }
  return fmt::format(
      "{{\"t\":\"hello\",\"name\":{},\"incarnation\":{},\"cpu\":{},\"memory\":{},\"gpus\":[{}],\"live\":[{}]}}",
      JsonQuote(node.name), incarnation, node.capacity.cpu_millis(), node.capacity.memory_bytes(), gpus, attempts);
}

absl::StatusOr<NodeSpec> DecodeHello(const JsonValue& msg, std::uint64_t* incarnation) {
  NodeSpec node;
  node.name = StringOr(msg, "name");
  *incarnation = static_cast<std::uint64_t>(IntOr(msg, "incarnation", 0));
  const JsonValue* gpus = msg.Find("gpus");
  if (gpus == nullptr || !gpus->is_array()) return absl::InvalidArgumentError("hello without a gpus list");
  for (const JsonValue& g : gpus->elements()) {
    const JsonValue* healthy = g.Find("healthy");
    node.gpus.push_back({.index = static_cast<int>(IntOr(g, "index", -1)),
                         .uuid = StringOr(g, "uuid"),
                         .model = StringOr(g, "model"),
                         .memory_bytes = IntOr(g, "memory", 0),
                         .topology_domain = static_cast<int>(IntOr(g, "domain", 0)),
                         .healthy = healthy == nullptr || healthy->bool_value()});
  }
  node.capacity = ResourceVector::Of(IntOr(msg, "cpu", 0), IntOr(msg, "memory", 0),
                                     static_cast<std::int64_t>(node.gpus.size()));
  if (absl::Status s = node.Validate(); !s.ok()) return s;
  return node;
}

std::string EncodeEvent(const ExecutorEvent& e) {
  return fmt::format(
      "{{\"t\":\"ev\",\"k\":\"{}\",{},\"task\":{},\"code\":{},\"sig\":{},\"oom\":{},\"killed\":{},\"step\":{},"
      "\"uri\":{},\"sum\":{},\"gpu\":{},\"ok\":{},\"detail\":{}}}",
      ExecutorEventKindName(e.kind), Attempt(e.job.valid() ? e.job : JobId(0), e.token), e.task, e.exit_code,
      e.signal, e.oom_killed, e.killed_by_executor, e.step, JsonQuote(e.uri), JsonQuote(e.checksum), e.gpu,
      e.healthy, JsonQuote(e.detail));
}

absl::StatusOr<ExecutorEvent> DecodeEvent(const JsonValue& msg) {
  ExecutorEvent e;
  bool ok;
  e.kind = KindOf(StringOr(msg, "k"), &ok);
  if (!ok) return absl::InvalidArgumentError(fmt::format("unknown event kind \"{}\"", StringOr(msg, "k")));
  if (absl::Status s = DecodeAttempt(msg, &e.job, &e.token); !s.ok()) return s;
  auto flag = [&](std::string_view k) {
    const JsonValue* v = msg.Find(k);
    return v != nullptr && v->bool_value();
  };
  e.task = static_cast<std::int32_t>(IntOr(msg, "task", 0));
  e.exit_code = static_cast<std::int32_t>(IntOr(msg, "code", 0));
  e.signal = static_cast<std::int32_t>(IntOr(msg, "sig", 0));
  e.oom_killed = flag("oom");
  e.killed_by_executor = flag("killed");
  e.step = IntOr(msg, "step", 0);
  e.uri = StringOr(msg, "uri");
  e.checksum = StringOr(msg, "sum");
  e.gpu = static_cast<std::int32_t>(IntOr(msg, "gpu", -1));
  e.healthy = flag("ok");
  e.detail = StringOr(msg, "detail");
  return e;
}

std::string EncodeLaunch(const LaunchRequest& r, std::span<const TaskPlacement> tasks) {
  const JobSpec& s = *r.spec;
  std::string argv, env, groups, placed;
  for (const std::string& a : s.command.argv) argv += (argv.empty() ? "" : ",") + JsonQuote(a);
  for (const auto& [k, v] : s.command.env)
    env += fmt::format("{}[{},{}]", env.empty() ? "" : ",", JsonQuote(k), JsonQuote(v));
  for (const TaskGroup& g : s.task_groups) groups += fmt::format("{}{}", groups.empty() ? "" : ",", g.count);
  for (const TaskPlacement& p : tasks)
    placed += fmt::format("{}[{},{},{}]", placed.empty() ? "" : ",", p.task, p.group, p.gpus.mask());
  std::string resume = "null";
  if (r.resume != nullptr) {
    resume = fmt::format("{{\"step\":{},\"uri\":{},\"sum\":{}}}", r.resume->step, JsonQuote(r.resume->uri),
                         JsonQuote(r.resume->checksum));
  }
  return fmt::format(
      "{{\"t\":\"launch\",{},\"name\":{},\"argv\":[{}],\"env\":[{}],\"wd\":{},\"groups\":[{}],\"tasks\":[{}],"
      "\"resume\":{}}}",
      Attempt(r.job, r.token), JsonQuote(s.name), argv, env, JsonQuote(s.command.working_dir), groups, placed, resume);
}

absl::StatusOr<DecodedLaunch> DecodeLaunch(const JsonValue& msg) {
  DecodedLaunch d;
  if (absl::Status s = DecodeAttempt(msg, &d.job, &d.token); !s.ok()) return s;
  d.spec.name = StringOr(msg, "name");
  d.spec.command.working_dir = StringOr(msg, "wd");
  const JsonValue* argv = msg.Find("argv");
  const JsonValue* env = msg.Find("env");
  const JsonValue* groups = msg.Find("groups");
  const JsonValue* tasks = msg.Find("tasks");
  if (argv == nullptr || !argv->is_array() || env == nullptr || !env->is_array() || groups == nullptr ||
      !groups->is_array() || tasks == nullptr || !tasks->is_array()) {
    return absl::InvalidArgumentError("launch without argv, env, groups or tasks");
  }
  for (const JsonValue& a : argv->elements()) d.spec.command.argv.push_back(a.string_value());
  for (const JsonValue& kv : env->elements()) {
    if (kv.elements().size() != 2) return absl::InvalidArgumentError("launch: env entries are [name, value]");
    d.spec.command.env.emplace_back(kv.elements()[0].string_value(), kv.elements()[1].string_value());
  }
  for (const JsonValue& g : groups->elements()) {
    auto n = g.AsInt64();
    if (!n.ok() || *n < 1 || *n > kMaxTasksPerGroup) return absl::InvalidArgumentError("launch: bad group size");
    d.spec.task_groups.push_back({.count = static_cast<std::int32_t>(*n), .per_task = ResourceVector::Of(1, 0, 0)});
  }
  for (const JsonValue& t : tasks->elements()) {
    if (t.elements().size() != 3) return absl::InvalidArgumentError("launch: tasks are [task, group, gpu mask]");
    auto task = t.elements()[0].AsInt64(), group = t.elements()[1].AsInt64(), mask = t.elements()[2].AsInt64();
    if (!task.ok() || !group.ok() || !mask.ok() || *task < 0 || *group < 0 ||
        *group >= static_cast<std::int64_t>(d.spec.task_groups.size())) {
      return absl::InvalidArgumentError("launch: bad task placement");
    }
    d.tasks.push_back({.task = static_cast<std::uint32_t>(*task),
                       .group = static_cast<std::uint16_t>(*group),
                       .gpus = GpuSet::FromMask(static_cast<std::uint64_t>(*mask))});
  }
  if (const JsonValue* r = msg.Find("resume"); r != nullptr && r->is_object()) {
    d.has_resume = true;
    d.resume = {.step = IntOr(*r, "step", 0), .uri = StringOr(*r, "uri"), .checksum = StringOr(*r, "sum")};
  }
  return d;
}

std::string EncodeStop(std::string_view type, JobId job, FencingToken token, Duration grace) {
  return fmt::format("{{\"t\":\"{}\",{},\"grace\":{}}}", type, Attempt(job, token), grace);
}

std::string EncodeFence(const std::vector<std::pair<JobId, FencingToken>>& tokens) {
  std::string list;
  for (const auto& [j, t] : tokens)
    list += fmt::format("{}[{},{},{}]", list.empty() ? "" : ",", j.value(), t.epoch, t.attempt);
  return fmt::format("{{\"t\":\"fence\",\"tokens\":[{}]}}", list);
}

std::string EncodeRefused(JobId job, FencingToken token, std::string_view why) {
  return fmt::format("{{\"t\":\"refused\",{},\"why\":{}}}", Attempt(job, token), JsonQuote(why));
}

void LineChannel::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
  out_.clear();
}

void LineChannel::Send(const std::string& line) {
  if (fd_ < 0) return;
  out_ += line;
  out_ += '\n';
  Flush();
}

bool LineChannel::Flush() {
  while (fd_ >= 0 && !out_.empty()) {
    ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    out_.erase(0, static_cast<std::size_t>(n));
  }
  return fd_ >= 0;
}

bool LineChannel::Read(std::vector<std::string>* lines) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return false;
    in_.append(buf, static_cast<std::size_t>(n));
    if (in_.size() > (64 << 20)) return false;  // a peer that never ends a line
  }
  std::size_t nl;
  while ((nl = in_.find('\n')) != std::string::npos) {
    lines->push_back(in_.substr(0, nl));
    in_.erase(0, nl + 1);
  }
  return true;
}

}  // namespace mlsched::internal
