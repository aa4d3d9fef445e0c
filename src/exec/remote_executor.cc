// RemoteExecutor: one non-blocking TCP connection per agent, poll()ed; see
// remote_executor.h for the contract and agent_protocol.h for the messages.
#include "mlsched/exec/remote_executor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "exec/agent_protocol.h"
#include "fmt/format.h"

namespace mlsched {
namespace {

using internal::JsonValue;
using internal::LineChannel;

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool SameInventory(const NodeSpec& a, const NodeSpec& b) {
  if (a.name != b.name || a.capacity != b.capacity || a.gpus.size() != b.gpus.size()) return false;
  for (std::size_t i = 0; i < a.gpus.size(); ++i)
    if (a.gpus[i].uuid != b.gpus[i].uuid || a.gpus[i].model != b.gpus[i].model) return false;
  return true;
}

}  // namespace

struct RemoteExecutor::Impl {
  RemoteExecutorOptions options;
  struct Agent {
    std::string host;
    std::string port;
    LineChannel ch;
    bool connecting = false;
    bool hello = false;
    std::int64_t next_try = 0;
    std::optional<NodeSpec> inventory;
    std::uint64_t incarnation = 0;
    std::string error;
    NodeId node;
  };
  std::vector<Agent> agents;
  std::map<std::uint32_t, FencingToken> newest;
  using AttemptKey = std::pair<std::uint32_t, FencingToken>;
  std::map<AttemptKey, std::vector<std::pair<int, std::int32_t>>> placed;  // attempt -> (agent, task)

  void Drop(Agent& a) {
    a.ch.Close();
    a.connecting = false;
    a.hello = false;
    a.next_try = NowMicros() + options.reconnect_interval;
  }

  void StartConnect(Agent& a) {
    a.next_try = NowMicros() + options.reconnect_interval;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(a.host.c_str(), a.port.c_str(), &hints, &res) != 0 || res == nullptr) return;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int r = ::connect(fd, res->ai_addr, res->ai_addrlen);
      if (r == 0 || errno == EINPROGRESS) {
        a.ch = LineChannel(fd);
        a.connecting = r != 0;
        if (!a.connecting) Connected(a);
      } else {
        ::close(fd);
      }
    }
    ::freeaddrinfo(res);
  }

  // The newest tokens go first, so the agent refuses anything older.
  void Connected(Agent& a) {
    std::vector<std::pair<JobId, FencingToken>> tokens;
    for (const auto& [j, t] : newest) tokens.emplace_back(JobId(j), t);
    a.ch.Send(internal::EncodeFence(tokens));
  }

  void Handle(int index, const std::string& line, std::vector<ExecutorEvent>* events) {
    Agent& a = agents[static_cast<std::size_t>(index)];
    auto msg = internal::ParseJson(line);
    if (!msg.ok() || !msg->is_object()) return;  // not ours: ignored
    const std::string type = internal::StringOr(*msg, "t");
    if (type == "hello") {
      std::uint64_t incarnation = 0;
      auto inv = internal::DecodeHello(*msg, &incarnation);
      if (!inv.ok()) {
        a.error = fmt::format("agent {}:{}: inconsistent inventory: {}", a.host, a.port, std::string(inv.status().message()));
        Drop(a);
        return;
      }
      if (a.inventory && !SameInventory(*a.inventory, *inv)) {
        a.error = fmt::format("agent {}:{}: announced a different inventory than before (node \"{}\"); refused",
                              a.host, a.port, inv->name);
        Drop(a);
        return;
      }
      const bool same_process = a.inventory && a.incarnation == incarnation;
      a.inventory = *inv;
      a.incarnation = incarnation;
      a.error.clear();
      a.hello = true;
      // Back without a restart: attempts the engine gave up meanwhile are stopped.
      if (const JsonValue* live = msg->Find("live"); same_process && live != nullptr) {
        for (const JsonValue& t : live->elements()) {
          if (t.elements().size() != 3) continue;
          const auto j = static_cast<std::uint32_t>(t.elements()[0].AsInt64().value_or(0));
          const FencingToken tok{.epoch = static_cast<std::uint32_t>(t.elements()[1].AsInt64().value_or(0)),
                                 .attempt = static_cast<std::uint32_t>(t.elements()[2].AsInt64().value_or(0))};
          if (auto it = newest.find(j); it != newest.end() && tok < it->second)
            a.ch.Send(internal::EncodeStop("kill", JobId(j), tok, 0));
        }
      }
      if (a.node.valid()) events->push_back({.kind = ExecutorEventKind::kHeartbeat, .node = a.node});
    } else if (type == "hb") {
      if (a.hello && a.node.valid()) events->push_back({.kind = ExecutorEventKind::kHeartbeat, .node = a.node});
    } else if (type == "ev") {
      auto e = internal::DecodeEvent(*msg);
      if (!e.ok()) return;
      if (e->kind == ExecutorEventKind::kGpuHealth || e->kind == ExecutorEventKind::kHeartbeat) {
        if (!a.node.valid()) return;
        e->node = a.node;
      }
      if (e->kind == ExecutorEventKind::kTaskExited) {  // forget attempts with nothing left
        if (auto it = placed.find({e->job.value(), e->token}); it != placed.end()) {
          std::erase(it->second, std::make_pair(index, e->task));
          if (it->second.empty()) placed.erase(it);
        }
      }
      events->push_back(*std::move(e));
    } else if (type == "refused") {
      JobId job;
      FencingToken token;
      if (!internal::DecodeAttempt(*msg, &job, &token).ok()) return;
      auto it = placed.find({job.value(), token});
      if (it == placed.end()) return;
      for (const auto& [agent, task] : it->second) {
        if (agent != index) continue;
        events->push_back({.kind = ExecutorEventKind::kTaskStarted, .job = job, .token = token, .task = task});
        events->push_back({.kind = ExecutorEventKind::kTaskExited, .job = job, .token = token, .task = task,
                           .exit_code = 127, .detail = internal::StringOr(*msg, "why")});
      }
      std::erase_if(it->second, [&](const auto& at) { return at.first == index; });
      if (it->second.empty()) placed.erase(it);
    }
  }

  absl::Status SendStop(std::string_view type, JobId job, FencingToken token, Duration grace) {
    auto it = placed.find({job.value(), token});
    if (it == placed.end()) {
      if (auto n = newest.find(job.value()); n != newest.end() && token <= n->second) return absl::OkStatus();
      return absl::FailedPreconditionError(
          fmt::format("job #{}: {} for token {}: never launched here", job.value(), type, FormatToken(token)));
    }
    std::set<int> sent;
    for (const auto& [agent, task] : it->second) {
      if (!sent.insert(agent).second) continue;
      agents[static_cast<std::size_t>(agent)].ch.Send(internal::EncodeStop(type, job, token, grace));
    }
    return absl::OkStatus();
  }
};

RemoteExecutor::RemoteExecutor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteExecutor::~RemoteExecutor() {
  for (auto& a : impl_->agents) a.ch.Close();
}

absl::StatusOr<std::unique_ptr<RemoteExecutor>> RemoteExecutor::Create(RemoteExecutorOptions options) {
  if (options.agents.empty()) return absl::InvalidArgumentError("remote executor: no agents");
  auto impl = std::make_unique<Impl>();
  for (std::size_t i = 0; i < options.agents.size(); ++i) {
    const std::string& addr = options.agents[i];
    auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size() ||
        addr.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      return absl::InvalidArgumentError(fmt::format("remote executor: agents[{}] = \"{}\": expected host:port", i, addr));
    }
    Impl::Agent a;
    a.host = addr.substr(0, colon);
    a.port = addr.substr(colon + 1);
    impl->agents.push_back(std::move(a));
  }
  impl->options = std::move(options);
  return std::unique_ptr<RemoteExecutor>(new RemoteExecutor(std::move(impl)));
}

int RemoteExecutor::agent_count() const { return static_cast<int>(impl_->agents.size()); }
bool RemoteExecutor::connected(int agent) const { return impl_->agents.at(static_cast<std::size_t>(agent)).hello; }
std::optional<NodeSpec> RemoteExecutor::inventory(int agent) const {
  return impl_->agents.at(static_cast<std::size_t>(agent)).inventory;
}
std::uint64_t RemoteExecutor::incarnation(int agent) const {
  return impl_->agents.at(static_cast<std::size_t>(agent)).incarnation;
}
std::string RemoteExecutor::error(int agent) const { return impl_->agents.at(static_cast<std::size_t>(agent)).error; }
void RemoteExecutor::BindNode(int agent, NodeId node) { impl_->agents.at(static_cast<std::size_t>(agent)).node = node; }

absl::Status RemoteExecutor::Launch(const LaunchRequest& r) {
  Impl& im = *impl_;
  if (!r.job.valid() || r.spec == nullptr) return absl::InvalidArgumentError("launch: no job or no spec");
  if (auto it = im.newest.find(r.job.value()); it != im.newest.end() && r.token <= it->second) {
    return absl::FailedPreconditionError(fmt::format("job #{}: launch with token {} refused; {} already seen",
                                                     r.job.value(), FormatToken(r.token), FormatToken(it->second)));
  }
  // Placements by agent; every node must have a live agent.
  std::map<int, std::vector<TaskPlacement>> by_agent;
  for (const TaskPlacement& p : r.tasks) {
    int agent = -1;
    for (std::size_t i = 0; i < im.agents.size(); ++i)
      if (im.agents[i].node == p.node) agent = static_cast<int>(i);
    if (agent < 0 || !im.agents[static_cast<std::size_t>(agent)].hello) {
      return absl::UnavailableError(fmt::format("job #{}: task {} is placed on node #{}, which has no connected agent",
                                                r.job.value(), p.task, p.node.value()));
    }
    by_agent[agent].push_back(p);
  }
  im.newest[r.job.value()] = r.token;
  auto& placed = im.placed[{r.job.value(), r.token}];
  for (auto& [agent, tasks] : by_agent) {
    for (const TaskPlacement& p : tasks) placed.emplace_back(agent, static_cast<std::int32_t>(p.task));
    im.agents[static_cast<std::size_t>(agent)].ch.Send(internal::EncodeLaunch(r, tasks));
  }
  return absl::OkStatus();
}

absl::Status RemoteExecutor::Kill(JobId job, FencingToken token, Duration grace) {
  return impl_->SendStop("kill", job, token, grace);
}

absl::Status RemoteExecutor::SignalCheckpoint(JobId job, FencingToken token) {
  return impl_->SendStop("ckpt", job, token, 0);
}

absl::Status RemoteExecutor::Poll(Duration timeout, std::vector<ExecutorEvent>* events) {
  Impl& im = *impl_;
  const std::size_t before = events->size();
  const std::int64_t end = NowMicros() + std::max<Duration>(0, timeout);
  std::vector<pollfd> fds;
  std::vector<int> owner;
  for (;;) {
    std::int64_t now = NowMicros();
    std::int64_t wake = end;
    for (auto& a : im.agents) {
      if (!a.ch.open() && now >= a.next_try) im.StartConnect(a);
      if (!a.ch.open()) wake = std::min(wake, a.next_try);
    }
    fds.clear();
    owner.clear();
    for (std::size_t i = 0; i < im.agents.size(); ++i) {
      auto& a = im.agents[i];
      if (!a.ch.open()) continue;
      short ev = POLLIN;
      if (a.connecting || a.ch.wants_write()) ev |= POLLOUT;
      fds.push_back({.fd = a.ch.fd(), .events = ev, .revents = 0});
      owner.push_back(static_cast<int>(i));
    }
    const int wait_ms = static_cast<int>(std::clamp<std::int64_t>((wake - now + 999) / 1000, 0, 1 << 30));
    int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), wait_ms);
    if (n < 0 && errno != EINTR) return absl::InternalError(fmt::format("poll: {}", std::strerror(errno)));
    for (std::size_t k = 0; n > 0 && k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      auto& a = im.agents[static_cast<std::size_t>(owner[k])];
      if (a.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(a.ch.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          im.Drop(a);
          continue;
        }
        a.connecting = false;
        im.Connected(a);
      }
      if (!a.ch.Flush()) {
        im.Drop(a);
        continue;
      }
      if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        std::vector<std::string> lines;
        const bool alive = a.ch.Read(&lines);
        for (const std::string& l : lines) im.Handle(owner[k], l, events);
        if (!alive) im.Drop(a);
      }
    }
    if (events->size() > before || NowMicros() >= end) return absl::OkStatus();
  }
}

}  // namespace mlsched
