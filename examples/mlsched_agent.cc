// mlsched-agent: the node agent a RemoteExecutor talks to.
//
//   mlsched-agent --listen 0.0.0.0:7070 --name gpu-017 --log-dir /var/log/mlsched
//   mlsched-agent --listen 127.0.0.1:0 --port-file port.txt --gpus 2 --no-nvml   # tests
//
// It registers this node's inventory (CPU, memory, GPUs from NVML or
// simulated), heartbeats, launches and kills tasks on its LocalExecutor, and
// streams their events — over one scheduler connection at a time (a new one
// replaces the old), one JSON object per line (src/exec/agent_protocol.h).
// Events produced while no scheduler is connected are sent when one comes.
// Launches with a token not newer than the newest it has seen or been told
// about (a "fence" message) are refused. SIGTERM/SIGINT: every task is
// killed, then the agent exits; if the agent is SIGKILLed, its tasks'
// supervisors kill them (PR_SET_PDEATHSIG). Exit status 2 for bad arguments.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "exec/agent_protocol.h"
#include "fmt/format.h"
#include "mlsched/exec/gpu_monitor.h"
#include "mlsched/exec/local_executor.h"
#include "mlsched/exec/local_node.h"

namespace {

using namespace mlsched;
using internal::LineChannel;

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

constexpr const char* kUsage = R"(usage: mlsched-agent --listen HOST:PORT [options]
  --name NAME          node name (default: the host name)
  --log-dir DIR        task logs and checkpoints (default ./mlsched-agent-logs)
  --port-file FILE     write the port listened on (useful with port 0)
  --gpus N             simulated GPUs when NVML is absent    --no-nvml   do not load NVML
  --cpus N             schedulable CPUs (default: all online)
  --heartbeat MS       heartbeat interval in milliseconds (default 1000)
)";

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "mlsched-agent: " << why << "\n" << kUsage;
  std::exit(2);
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_at, name, log_dir = "mlsched-agent-logs", port_file;
  int gpus = 0, cpus = 0, heartbeat_ms = 1000;
  bool nvml = true;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) Usage(args[i] + " needs a value");
      return args[++i];
    };
    auto number = [&](const std::string& v) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 1000000) Usage(fmt::format("{}: expected a count", v));
      return static_cast<int>(n);
    };
    const std::string& a = args[i];
    if (a == "--listen") listen_at = value();
    else if (a == "--name") name = value();
    else if (a == "--log-dir") log_dir = value();
    else if (a == "--port-file") port_file = value();
    else if (a == "--gpus") gpus = number(value());
    else if (a == "--cpus") cpus = number(value());
    else if (a == "--heartbeat") heartbeat_ms = std::max(1, number(value()));
    else if (a == "--no-nvml") nvml = false;
    else if (a == "--help") {
      std::cout << kUsage;
      return 0;
    } else Usage("unknown argument " + a);
  }
  auto colon = listen_at.rfind(':');
  if (colon == std::string::npos) Usage("--listen HOST:PORT is required");
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }

  auto monitor = GpuMonitor::Open({.use_nvml = nvml, .simulated_gpus = gpus});
  if (!monitor.ok()) Usage(std::string(monitor.status().message()));
  ResourceCatalog catalog;
  auto node = LocalNodeSpec(catalog, **monitor, {.name = name, .cpu_millis = std::int64_t{cpus} * 1000});
  if (!node.ok()) Usage(std::string(node.status().message()));
  auto executor = LocalExecutor::Create({.log_dir = log_dir});
  if (!executor.ok()) Usage(std::string(executor.status().message()));

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(listen_at.substr(colon + 1).c_str())));
  if (::inet_pton(AF_INET, listen_at.substr(0, colon).c_str(), &addr.sin_addr) != 1) Usage("--listen: bad IPv4 address");
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 8) != 0) {
    std::cerr << "mlsched-agent: cannot listen on " << listen_at << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << ntohs(addr.sin_port) << "\n";
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  ::signal(SIGTERM, OnStop);
  ::signal(SIGINT, OnStop);
  ::signal(SIGPIPE, SIG_IGN);

  const std::uint64_t incarnation = std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  LineChannel client;
  std::vector<std::string> backlog;  // events while no scheduler is connected
  std::vector<ExecutorEvent> events;
  std::int64_t next_heartbeat = 0, next_health = 0;
  LocalExecutor& ex = **executor;
  while (!g_stop) {
    pollfd fds[2] = {{.fd = lfd, .events = POLLIN, .revents = 0},
                     {.fd = client.fd(), .events = static_cast<short>(POLLIN | (client.wants_write() ? POLLOUT : 0)),
                      .revents = 0}};
    ::poll(fds, client.open() ? 2 : 1, 5);
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        client.Close();
        client = LineChannel(fd);
        client.Send(internal::EncodeHello(*node, incarnation, ex.LiveAttempts()));
        for (const std::string& l : backlog) client.Send(l);
        backlog.clear();
      }
    }
    if (client.open()) {
      std::vector<std::string> lines;
      bool alive = client.Read(&lines) && client.Flush();
      for (const std::string& line : lines) {
        auto msg = internal::ParseJson(line);
        if (!msg.ok() || !msg->is_object()) continue;
        const std::string type = internal::StringOr(*msg, "t");
        if (type == "launch") {
          auto d = internal::DecodeLaunch(*msg);
          if (!d.ok()) continue;
          absl::Status s = ex.Launch({.job = d->job, .token = d->token, .spec = &d->spec, .tasks = d->tasks,
                                      .resume = d->has_resume ? &d->resume : nullptr});
          if (!s.ok()) client.Send(internal::EncodeRefused(d->job, d->token, std::string(s.message())));
        } else if (type == "kill" || type == "ckpt") {
          JobId job;
          FencingToken token;
          if (!internal::DecodeAttempt(*msg, &job, &token).ok()) continue;
          if (type == "kill") (void)ex.Kill(job, token, internal::IntOr(*msg, "grace", 0));
          else (void)ex.SignalCheckpoint(job, token);
        } else if (type == "fence") {
          if (const auto* tokens = msg->Find("tokens"))
            for (const auto& t : tokens->elements())
              if (t.elements().size() == 3)
                ex.Fence(JobId(static_cast<std::uint32_t>(t.elements()[0].AsInt64().value_or(0))),
                         {.epoch = static_cast<std::uint32_t>(t.elements()[1].AsInt64().value_or(0)),
                          .attempt = static_cast<std::uint32_t>(t.elements()[2].AsInt64().value_or(0))});
        }
      }
      if (!alive) client.Close();
    }
    events.clear();
    (void)ex.Poll(5 * kMillisecond, &events);
    const std::int64_t now = NowMs();
    if (now >= next_health) {
      (void)(*monitor)->CheckHealth(NodeId(), &events);
      next_health = now + 5000;
    }
    for (const ExecutorEvent& e : events) {
      std::string line = internal::EncodeEvent(e);
      if (client.open()) client.Send(line);
      else if (backlog.size() < 100'000) backlog.push_back(std::move(line));  // beyond: dropped
    }
    if (client.open() && now >= next_heartbeat) {
      client.Send("{\"t\":\"hb\"}");
      next_heartbeat = now + heartbeat_ms;
    }
  }
  client.Close();
  return 0;  // the executor's destructor kills and reaps every task
}
