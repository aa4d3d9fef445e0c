// LocalExecutor: launch-time checks and bookkeeping in the host process; the
// per-task supervisor program (supervisor.h) does everything after its spawn.
//
// Assumptions: one thread uses the executor; tasks are few enough (hundreds)
// that a linear scan of live tasks per call is cheaper than an index.
#include "mlsched/exec/local_executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "exec/supervisor.h"
#include "fmt/format.h"
#include "mlsched/gpu.h"
#include "mlsched/status_macros.h"

extern char** environ;

namespace mlsched {
namespace {

using internal::SupervisorRecord;

// The kernel refuses a single argument or variable longer than this (MAX_ARG_STRLEN).
constexpr std::size_t kMaxArgStrlen = 32 * 4096;

std::int64_t MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Timestamp WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string JobLabel(const LaunchRequest& r) {
  return fmt::format("job \"{}\" (#{}) {}", r.spec != nullptr ? r.spec->name : "", r.job.value(),
                     FormatToken(r.token));
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Why `path` is not a program one can run, for an error message.
const char* NotExecutableReason(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0 ? "not an executable file" : "no such file";
}

// argv[0] as execve needs it: as given when it has a slash, else the first
// executable match in `path_var`.
absl::StatusOr<std::string> ResolveProgram(const std::string& program, const std::string& path_var,
                                           const std::string& working_dir) {
  if (program.empty()) return absl::InvalidArgumentError("command.argv[0] is empty");
  if (program.find('/') != std::string::npos) {
    std::string full = program;
    if (program[0] != '/' && !working_dir.empty()) full = working_dir + "/" + program;
    if (!IsExecutableFile(full)) {
      return absl::InvalidArgumentError(
          fmt::format("command.argv[0] = \"{}\": {}", program, NotExecutableReason(full)));
    }
    return full;
  }
  std::stringstream dirs(path_var);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string full = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (IsExecutableFile(full)) return full;
  }
  return absl::InvalidArgumentError(
      fmt::format("command.argv[0] = \"{}\": not found in PATH \"{}\"", program, path_var));
}

// The oom_kill counter in `file` (cgroup v2 memory.events or v1
// memory.oom_control); -1 when unreadable.
std::int64_t ReadOomKills(const std::string& file) {
  std::ifstream in(file);
  std::string key;
  std::int64_t value;
  while (in >> key >> value)
    if (key == "oom_kill") return value;
  return -1;
}

// The file holding the oom_kill counter of the memory cgroup `pid` is in;
// "" when there is none.
std::string OomCounterFile(pid_t pid) {
  std::ifstream cg(fmt::format("/proc/{}/cgroup", pid));
  std::string line;
  std::vector<std::string> candidates;
  while (std::getline(cg, line)) {
    // "0::/path" (v2) or "4:memory:/path" (v1).
    auto c1 = line.find(':');
    auto c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (controllers.empty()) {
      candidates.push_back("/sys/fs/cgroup" + path + "/memory.events");
      candidates.push_back("/sys/fs/cgroup/unified" + path + "/memory.events");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      candidates.push_back("/sys/fs/cgroup/memory" + path + "/memory.oom_control");
    }
  }
  for (const std::string& file : candidates)
    if (ReadOomKills(file) >= 0) return file;
  return "";
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create directory \"{}\": {}", dir, ec.message()));
  return absl::OkStatus();
}

// The supervisor program: `configured`, else $MLSCHED_SUPERVISOR, else the
// first of <dir of the running program>/../libexec/mlsched/, the install
// directory and the build tree that holds one.
absl::StatusOr<std::string> FindSupervisor(const std::string& configured) {
  auto check = [](const std::string& path, std::string_view field) -> absl::StatusOr<std::string> {
    if (IsExecutableFile(path)) return std::filesystem::absolute(path).lexically_normal().string();
    return absl::InvalidArgumentError(
        fmt::format("local executor: {} = \"{}\": {}", field, path, NotExecutableReason(path)));
  };
  if (!configured.empty()) return check(configured, "supervisor");
  if (const char* env = std::getenv("MLSCHED_SUPERVISOR"); env != nullptr && *env != '\0')
    return check(env, "MLSCHED_SUPERVISOR");
  std::vector<std::string> places;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) places.push_back((self.parent_path() / "../libexec/mlsched/mlsched-supervisor").lexically_normal().string());
  places.push_back(MLSCHED_SUPERVISOR_INSTALLED);
  places.push_back(MLSCHED_SUPERVISOR_BUILT);
  for (const std::string& p : places)
    if (IsExecutableFile(p)) return p;
  return absl::FailedPreconditionError(
      fmt::format("local executor: the supervisor program mlsched-supervisor is not in {}; install mlsched, or "
                  "name it in LocalExecutorOptions::supervisor or MLSCHED_SUPERVISOR",
                  fmt::join(places, ", ")));
}

// Everything execve needs for one task, owned; the pointers in
// `argv_ptrs`/`env_ptrs` point into the strings.
struct Prepared {
  std::string path;
  std::vector<std::string> argv, env;
  std::vector<char*> argv_ptrs, env_ptrs;
  std::string working_dir;
  std::string out_path, err_path;
  const TaskPlacement* placement = nullptr;

  void Seal() {
    argv_ptrs.clear();
    env_ptrs.clear();
    for (std::string& a : argv) argv_ptrs.push_back(a.data());
    argv_ptrs.push_back(nullptr);
    for (std::string& e : env) env_ptrs.push_back(e.data());
    env_ptrs.push_back(nullptr);
  }
};

}  // namespace

struct LocalExecutor::Impl {
  LocalExecutorOptions options;  // `supervisor` resolved to an absolute path
  std::map<std::uint32_t, FencingToken> newest;  // by job: newest token launched

  struct Task {
    JobId job;
    FencingToken token;
    std::int32_t index = 0;
    pid_t supervisor = -1;
    pid_t pid = -1;  // the task's main process (= its process group), once started
    int status_fd = -1;
    int report_fd = -1;
    std::string status_buf, report_buf;
    bool started = false;
    bool exec_failed = false;
    std::string exec_error;
    bool have_exit = false;
    int wait_status = 0;
    int leftovers = 0;
    bool term_sent = false, kill_sent = false;
    bool checkpoint_pending = false;  // asked for before the task was known to run
    std::int64_t kill_deadline = 0;  // monotonic µs; 0 = none
    std::string oom_file;
    std::int64_t oom_before = -1;
    std::string out_path;
  };
  std::vector<std::unique_ptr<Task>> tasks;  // live (exit not yet reported)
  std::vector<ExecutorEvent> pending;         // read outside Poll(), returned by the next one

  // Reads what the supervisor already said (its task's pid, above all)
  // before acting on the task.
  void CatchUp(Task& t) {
    if (t.pid < 0 && t.status_fd >= 0) ReadStatus(t, &pending);
  }

  std::string AttemptDir(JobId job, FencingToken token) const {
    return fmt::format("{}/job-{}/e{}-a{}", options.log_dir, job.value(), token.epoch, token.attempt);
  }

  // Before the start record is read the task's pid is unknown: a SIGTERM
  // waits for that record (ReadStatus sends it), a SIGKILL goes through the
  // supervisor, which kills the task at once.
  void SignalGroup(Task& t, int sig) {
    if (t.pid > 0) {
      ::kill(-t.pid, sig);
    } else if (sig == SIGKILL && t.supervisor > 0) {
      ::kill(t.supervisor, SIGTERM);
    }
  }

  void ReadStatus(Task& t, std::vector<ExecutorEvent>* events);
  void ReadReports(Task& t, std::vector<ExecutorEvent>* events);
  void Finish(Task& t, std::vector<ExecutorEvent>* events);
  absl::Status StartOne(Prepared& p, const LaunchRequest& r, std::unique_ptr<Task>* out);
  int SpawnSupervisor(const Prepared& p, std::array<int, 4> fds, pid_t* pid) const;
  void KillAndReap(Task& t);
};

LocalExecutor::LocalExecutor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<LocalExecutor>> LocalExecutor::Create(LocalExecutorOptions options) {
  if (options.log_dir.empty()) return absl::InvalidArgumentError("local executor: log_dir is required");
  if (options.log_limit_bytes < 0) {
    return absl::InvalidArgumentError(
        fmt::format("local executor: log_limit_bytes = {}: must be >= 0", options.log_limit_bytes));
  }
  if (options.checkpoint_signal <= 0 || options.checkpoint_signal >= NSIG ||
      options.checkpoint_signal == SIGKILL || options.checkpoint_signal == SIGSTOP) {
    return absl::InvalidArgumentError(
        fmt::format("local executor: checkpoint_signal = {}: not a catchable signal", options.checkpoint_signal));
  }
  MLSCHED_ASSIGN_OR_RETURN(options.supervisor, FindSupervisor(options.supervisor));
  MLSCHED_RETURN_IF_ERROR(MakeDirs(options.log_dir));
  std::error_code ec;
  options.log_dir = std::filesystem::absolute(options.log_dir, ec).lexically_normal().string();
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  return std::unique_ptr<LocalExecutor>(new LocalExecutor(std::move(impl)));
}

void LocalExecutor::Impl::KillAndReap(Task& t) {
  SignalGroup(t, SIGKILL);
  if (t.supervisor > 0) {
    ::kill(t.supervisor, SIGTERM);
    int st;
    while (::waitpid(t.supervisor, &st, 0) < 0 && errno == EINTR) {
    }
  }
  if (t.status_fd >= 0) ::close(t.status_fd);
  if (t.report_fd >= 0) ::close(t.report_fd);
  t.status_fd = t.report_fd = -1;
}

LocalExecutor::~LocalExecutor() {
  for (auto& t : impl_->tasks) impl_->KillAndReap(*t);
}

void LocalExecutor::Fence(JobId job, FencingToken token) {
  FencingToken& newest = impl_->newest[job.value()];
  if (newest < token) newest = token;
}

std::vector<std::pair<JobId, FencingToken>> LocalExecutor::LiveAttempts() const {
  std::vector<std::pair<JobId, FencingToken>> out;
  for (const auto& t : impl_->tasks)
    if (std::find(out.begin(), out.end(), std::make_pair(t->job, t->token)) == out.end()) out.emplace_back(t->job, t->token);
  return out;
}

int LocalExecutor::live_tasks() const { return static_cast<int>(impl_->tasks.size()); }

std::string LocalExecutor::LogPath(JobId job, FencingToken token, int task, std::string_view stream) const {
  return fmt::format("{}/task-{}.{}", impl_->AttemptDir(job, token), task, stream);
}

const std::string& LocalExecutor::supervisor_path() const { return impl_->options.supervisor; }

std::string LocalExecutor::CheckpointDir(JobId job) const {
  return fmt::format("{}/job-{}/checkpoints", impl_->options.log_dir, job.value());
}

// Starts the supervisor of one task with posix_spawn (no copy of the host's
// page tables), handing it `fds` (report, status, stdout log, stderr log) as
// its descriptors kSpawnReportFd.. (supervisor.h). Returns 0 or an errno.
int LocalExecutor::Impl::SpawnSupervisor(const Prepared& p, std::array<int, 4> fds, pid_t* pid) const {
  // Copies above the targets first, so that no dup2 overwrites a descriptor
  // a later one reads.
  std::array<int, 4> high{-1, -1, -1, -1};
  auto close_high = [&] {
    for (int fd : high)
      if (fd >= 0) ::close(fd);
  };
  for (std::size_t i = 0; i < fds.size(); ++i) {
    high[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, internal::kSpawnErrLogFd + 1);
    if (high[i] < 0) {
      const int e = errno;
      close_high();
      return e;
    }
  }
  // The task's arguments and environment go on the command line: the
  // supervisor itself runs with an empty environment, so that a job's
  // LD_LIBRARY_PATH or LD_PRELOAD (a conda environment's, say) reaches the
  // task only.
  const std::string limit = std::to_string(options.log_limit_bytes), self = std::to_string(::getpid()),
                    argc = std::to_string(p.argv.size());
  std::vector<char*> argv = {const_cast<char*>(options.supervisor.c_str()), const_cast<char*>(internal::kProtocol),
                             const_cast<char*>(limit.c_str()),           const_cast<char*>(self.c_str()),
                             const_cast<char*>(p.working_dir.c_str()),   const_cast<char*>(p.path.c_str()),
                             const_cast<char*>(argc.c_str())};
  argv.insert(argv.end(), p.argv_ptrs.begin(), p.argv_ptrs.end() - 1);
  argv.insert(argv.end(), p.env_ptrs.begin(), p.env_ptrs.end());  // ends with its nullptr
  char* const no_environment[] = {nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  // Each step can fail only for want of memory; the first failure is returned
  // and nothing is spawned.
  int e = ::posix_spawn_file_actions_init(&actions);
  if (e != 0) {
    close_high();
    return e;
  }
  if ((e = ::posix_spawnattr_init(&attr)) != 0) {
    ::posix_spawn_file_actions_destroy(&actions);
    close_high();
    return e;
  }
  auto step = [&e](int result) {
    if (e == 0) e = result;
  };
  for (std::size_t i = 0; i < high.size(); ++i)
    step(::posix_spawn_file_actions_adddup2(&actions, high[i], internal::kSpawnReportFd + static_cast<int>(i)));
  // Blocked from the start, so a rollback's SIGTERM waits for the supervisor's signalfd.
  sigset_t blocked, all;
  ::sigemptyset(&blocked);
  for (int sig : {SIGCHLD, SIGHUP, SIGTERM}) ::sigaddset(&blocked, sig);
  ::sigfillset(&all);
  step(::posix_spawnattr_setsigmask(&attr, &blocked));
  step(::posix_spawnattr_setsigdefault(&attr, &all));
  step(::posix_spawnattr_setpgroup(&attr, 0));
  step(::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP));
  if (e == 0) e = ::posix_spawn(pid, options.supervisor.c_str(), &actions, &attr, argv.data(), no_environment);
  ::posix_spawnattr_destroy(&attr);
  ::posix_spawn_file_actions_destroy(&actions);
  close_high();
  return e;
}

absl::Status LocalExecutor::Impl::StartOne(Prepared& p, const LaunchRequest& r, std::unique_ptr<Task>* out) {
  auto t = std::make_unique<Task>();
  t->job = r.job;
  t->token = r.token;
  t->index = static_cast<std::int32_t>(p.placement->task);
  t->out_path = p.out_path;
  int out_log = ::open(p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_log = ::open(p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int status[2] = {-1, -1}, report[2] = {-1, -1};
  auto close_all = [&] {
    for (int fd : {out_log, err_log, status[0], status[1], report[0], report[1]})
      if (fd >= 0) ::close(fd);
  };
  if (out_log < 0 || err_log < 0 || ::pipe2(status, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    const int e = errno;
    close_all();
    return absl::InternalError(fmt::format("{} task {}: cannot open log files or pipes under \"{}\": {}",
                                           JobLabel(r), t->index, options.log_dir, std::strerror(e)));
  }
  pid_t pid = -1;
  const int spawn_errno = SpawnSupervisor(p, {report[1], status[1], out_log, err_log}, &pid);
  if (spawn_errno != 0) {
    close_all();
    return absl::InternalError(fmt::format("{} task {}: cannot start the supervisor \"{}\": {}", JobLabel(r),
                                           t->index, options.supervisor, std::strerror(spawn_errno)));
  }
  ::close(out_log);
  ::close(err_log);
  ::close(status[1]);
  ::close(report[1]);
  ::fcntl(status[0], F_SETFL, O_NONBLOCK);
  ::fcntl(report[0], F_SETFL, O_NONBLOCK);
  t->supervisor = pid;
  t->status_fd = status[0];
  t->report_fd = report[0];
  *out = std::move(t);
  return absl::OkStatus();
}

absl::Status LocalExecutor::Launch(const LaunchRequest& r) {
  Impl& im = *impl_;
  if (!r.job.valid()) return absl::InvalidArgumentError("launch: the request names no job");
  if (r.spec == nullptr) return absl::InvalidArgumentError(fmt::format("launch of job #{}: no spec", r.job.value()));
  const JobSpec& spec = *r.spec;
  const std::string label = JobLabel(r);
  if (r.tasks.empty()) return absl::InvalidArgumentError(fmt::format("{}: launch with no tasks", label));
  if (auto it = im.newest.find(r.job.value()); it != im.newest.end() && r.token <= it->second) {
    return absl::FailedPreconditionError(fmt::format("{}: launch refused; token {} already seen", label,
                                                     FormatToken(it->second)));
  }
  if (spec.command.argv.empty()) {
    return absl::InvalidArgumentError(fmt::format("{}: command.argv is empty: nothing to run", label));
  }
  for (const TaskPlacement& p : r.tasks) {
    if (im.options.node.valid() && p.node != im.options.node) {
      return absl::InvalidArgumentError(fmt::format("{}: task {} is placed on node #{}, this executor runs node #{}",
                                                    label, p.task, p.node.value(), im.options.node.value()));
    }
  }

  // The environment shared by every task: inherited, then the job's.
  std::map<std::string, std::string> base;
  if (im.options.inherit_environment) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      base[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
  }
  for (std::size_t i = 0; i < spec.command.env.size(); ++i) {
    const auto& [k, v] = spec.command.env[i];
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
        v.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("{}: command.env[{}] = \"{}\": not a valid variable name", label, i, k));
    }
    base[k] = v;
  }

  const std::string& wd = spec.command.working_dir;
  if (!wd.empty()) {
    struct stat st;
    if (::stat(wd.c_str(), &st) != 0) {
      return absl::InvalidArgumentError(
          fmt::format("{}: command.working_dir = \"{}\": {}", label, wd, std::strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: command.working_dir = \"{}\": not a directory", label, wd));
    }
    if (::access(wd.c_str(), X_OK | R_OK) != 0) {
      return absl::InvalidArgumentError(
          fmt::format("{}: command.working_dir = \"{}\": {}", label, wd, std::strerror(errno)));
    }
  }
  const std::string path_var = base.count("PATH") ? base["PATH"] : "/usr/local/bin:/usr/bin:/bin";
  auto program = ResolveProgram(spec.command.argv[0], path_var, wd);
  if (!program.ok()) return absl::InvalidArgumentError(fmt::format("{}: {}", label, std::string(program.status().message())));

  // Group offsets: a task's rank within its gang.
  std::vector<std::int64_t> group_first;
  std::int64_t total = 0;
  for (const TaskGroup& g : spec.task_groups) {
    group_first.push_back(total);
    total += g.count;
  }
  const std::string attempt_dir = im.AttemptDir(r.job, r.token);
  const std::string ckpt_dir = CheckpointDir(r.job);
  const long arg_max = ::sysconf(_SC_ARG_MAX);

  std::vector<Prepared> prepared(r.tasks.size());
  for (std::size_t i = 0; i < r.tasks.size(); ++i) {
    const TaskPlacement& p = r.tasks[i];
    Prepared& pr = prepared[i];
    pr.placement = &p;
    pr.path = *program;
    pr.working_dir = wd;
    pr.argv = spec.command.argv;
    std::map<std::string, std::string> env = base;
    const std::string gpus = FormatGpuSet(p.gpus);
    env["CUDA_VISIBLE_DEVICES"] = gpus;
    env["NVIDIA_VISIBLE_DEVICES"] = p.gpus.empty() ? "none" : gpus;
    env["MLSCHED_JOB_ID"] = std::to_string(r.job.value());
    env["MLSCHED_JOB_NAME"] = spec.name;
    env["MLSCHED_ATTEMPT"] = std::to_string(r.token.attempt);
    env["MLSCHED_FENCING_TOKEN"] = FormatToken(r.token);
    env["MLSCHED_TASK_INDEX"] = std::to_string(p.task);
    env["MLSCHED_NUM_TASKS"] = std::to_string(total);
    env["MLSCHED_TASK_GROUP"] = std::to_string(p.group);
    if (p.group < spec.task_groups.size()) {
      env["MLSCHED_GANG_SIZE"] = std::to_string(spec.task_groups[p.group].count);
      env["MLSCHED_GANG_RANK"] = std::to_string(static_cast<std::int64_t>(p.task) - group_first[p.group]);
    }
    env.erase("MLSCHED_RESUME_STEP");
    env.erase("MLSCHED_RESUME_URI");
    env.erase("MLSCHED_RESUME_CHECKSUM");
    if (r.resume != nullptr) {
      env["MLSCHED_RESUME_STEP"] = std::to_string(r.resume->step);
      env["MLSCHED_RESUME_URI"] = r.resume->uri;
      if (!r.resume->checksum.empty()) env["MLSCHED_RESUME_CHECKSUM"] = r.resume->checksum;
    }
    env["MLSCHED_CHECKPOINT_DIR"] = ckpt_dir;
    env["MLSCHED_RUN_DIR"] = im.options.log_dir;
    env["MLSCHED_CHECKPOINT_SIGNAL"] = std::to_string(im.options.checkpoint_signal);
    env["MLSCHED_REPORT_FD"] = std::to_string(internal::kReportFd);
    // The supervisor's own arguments come with the task's (SpawnSupervisor).
    std::size_t bytes = im.options.supervisor.size() + sizeof(internal::kProtocol) + wd.size() + program->size() +
                        3 * 24 + 7 * (1 + sizeof(char*));
    for (const std::string& a : pr.argv) {
      if (a.size() >= kMaxArgStrlen) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: command.argv has an argument of {} bytes; the kernel accepts at most {}", label, a.size(),
            kMaxArgStrlen - 1));
      }
      bytes += a.size() + 1 + sizeof(char*);
    }
    for (auto& [k, v] : env) {
      pr.env.push_back(k + "=" + v);
      if (pr.env.back().size() >= kMaxArgStrlen) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: environment variable {} is {} bytes long; the kernel accepts at most {}", label, k,
            pr.env.back().size(), kMaxArgStrlen - 1));
      }
      bytes += pr.env.back().size() + 1 + sizeof(char*);
    }
    if (arg_max > 0 && bytes > static_cast<std::size_t>(arg_max)) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: arguments and environment take {} bytes; the kernel accepts at most {} (ARG_MAX)", label, bytes,
          arg_max));
    }
    pr.out_path = LogPath(r.job, r.token, static_cast<int>(p.task), "out");
    pr.err_path = LogPath(r.job, r.token, static_cast<int>(p.task), "err");
    pr.Seal();
  }
  MLSCHED_RETURN_IF_ERROR(MakeDirs(attempt_dir));
  MLSCHED_RETURN_IF_ERROR(MakeDirs(ckpt_dir));

  std::vector<std::unique_ptr<Impl::Task>> started;
  for (Prepared& pr : prepared) {
    std::unique_ptr<Impl::Task> t;
    absl::Status s = im.StartOne(pr, r, &t);
    if (!s.ok()) {
      for (auto& done : started) im.KillAndReap(*done);
      return s;
    }
    started.push_back(std::move(t));
  }
  im.newest[r.job.value()] = r.token;
  for (auto& t : started) im.tasks.push_back(std::move(t));
  return absl::OkStatus();
}

absl::Status LocalExecutor::Kill(JobId job, FencingToken token, Duration grace) {
  Impl& im = *impl_;
  bool any = false;
  const std::int64_t now = MonotonicMicros();
  for (auto& t : im.tasks) {
    if (t->job != job || t->token != token) continue;
    any = true;
    im.CatchUp(*t);
    if (t->have_exit) continue;
    if (grace <= 0) {
      im.SignalGroup(*t, SIGKILL);
      t->kill_sent = true;
      t->term_sent = true;
      continue;
    }
    im.SignalGroup(*t, SIGTERM);
    t->term_sent = true;
    const std::int64_t deadline = now + grace;
    if (t->kill_deadline == 0 || deadline < t->kill_deadline) t->kill_deadline = deadline;
  }
  if (any) return absl::OkStatus();
  if (auto it = im.newest.find(job.value()); it != im.newest.end() && token <= it->second) {
    return absl::OkStatus();  // it ended here already (its exit may not have been delivered yet)
  }
  return absl::FailedPreconditionError(
      fmt::format("job #{}: kill for token {}: never launched here", job.value(), FormatToken(token)));
}

absl::Status LocalExecutor::SignalCheckpoint(JobId job, FencingToken token) {
  Impl& im = *impl_;
  bool any = false;
  for (auto& t : im.tasks) {
    if (t->job != job || t->token != token) continue;
    any = true;
    im.CatchUp(*t);
    if (t->have_exit) continue;
    if (t->pid > 0) ::kill(-t->pid, im.options.checkpoint_signal);
    else t->checkpoint_pending = true;  // sent when it starts
  }
  if (any) return absl::OkStatus();
  if (auto it = im.newest.find(job.value()); it != im.newest.end() && token <= it->second) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      fmt::format("job #{}: checkpoint for token {}: never launched here", job.value(), FormatToken(token)));
}

void LocalExecutor::Impl::ReadReports(Task& t, std::vector<ExecutorEvent>* events) {
  if (t.report_fd < 0) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(t.report_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) {  // every writer closed it
        ::close(t.report_fd);
        t.report_fd = -1;
      }
      break;
    }
    t.report_buf.append(buf, static_cast<std::size_t>(n));
    if (t.report_buf.size() > (1 << 20)) t.report_buf.clear();  // a task spamming non-lines
  }
  std::size_t nl;
  while ((nl = t.report_buf.find('\n')) != std::string::npos) {
    std::string line = t.report_buf.substr(0, nl);
    t.report_buf.erase(0, nl + 1);
    std::istringstream in(line);
    std::string word;
    in >> word;
    ExecutorEvent e{.job = t.job, .token = t.token, .task = t.index, .time = WallMicros()};
    if (word == "checkpoint") {
      e.kind = ExecutorEventKind::kCheckpoint;
      if (!(in >> e.step >> e.uri)) continue;  // malformed: ignored
      in >> e.checksum;
      events->push_back(std::move(e));
    } else if (word == "progress") {
      e.kind = ExecutorEventKind::kProgress;
      events->push_back(std::move(e));
    }
  }
}

void LocalExecutor::Impl::ReadStatus(Task& t, std::vector<ExecutorEvent>* events) {
  char buf[256];
  bool eof = false;
  for (;;) {
    ssize_t n = ::read(t.status_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) eof = true;
    if (n <= 0) break;
    t.status_buf.append(buf, static_cast<std::size_t>(n));
  }
  while (t.status_buf.size() >= sizeof(SupervisorRecord)) {
    SupervisorRecord rec;
    std::memcpy(&rec, t.status_buf.data(), sizeof rec);
    t.status_buf.erase(0, sizeof rec);
    switch (rec.kind) {
      case SupervisorRecord::kStarted:
        t.pid = rec.a;
        t.started = true;
        t.oom_file = OomCounterFile(t.pid);
        if (!t.oom_file.empty()) t.oom_before = ReadOomKills(t.oom_file);
        events->push_back({.kind = ExecutorEventKind::kTaskStarted, .job = t.job, .token = t.token,
                           .task = t.index, .detail = t.out_path, .time = WallMicros()});
        if (t.term_sent) ::kill(-t.pid, t.kill_sent ? SIGKILL : SIGTERM);  // a kill came first
        else if (t.checkpoint_pending) ::kill(-t.pid, options.checkpoint_signal);
        break;
      case SupervisorRecord::kExecFailed:
        t.exec_failed = true;
        t.exec_error = rec.b == internal::kProtocolMismatch
                           ? fmt::format("the supervisor \"{}\" does not speak {}: it belongs to another mlsched "
                                         "version (reinstall mlsched, or name the right one in "
                                         "LocalExecutorOptions::supervisor)",
                                         options.supervisor, internal::kProtocol)
                           : fmt::format("{}: {}", rec.b == 1 ? "chdir" : "exec", std::strerror(rec.a));
        break;
      case SupervisorRecord::kExited:
        t.have_exit = true;
        t.wait_status = rec.a;
        t.leftovers = rec.b;
        break;
      default:
        break;
    }
  }
  if (eof) Finish(t, events);
}

// The supervisor closed its end: it has exited (or is about to).
void LocalExecutor::Impl::Finish(Task& t, std::vector<ExecutorEvent>* events) {
  ReadReports(t, events);  // a checkpoint written just before exiting counts
  int st = 0;
  while (::waitpid(t.supervisor, &st, 0) < 0 && errno == EINTR) {
  }
  t.supervisor = -1;
  ::close(t.status_fd);
  t.status_fd = -1;
  if (t.report_fd >= 0) ::close(t.report_fd);
  t.report_fd = -1;
  ExecutorEvent e{.kind = ExecutorEventKind::kTaskExited, .job = t.job, .token = t.token, .task = t.index,
                  .killed_by_executor = t.term_sent, .time = WallMicros()};
  if (!t.have_exit) {  // the supervisor itself died
    e.signal = SIGKILL;
    e.detail = "the task's supervisor died";
  } else if (WIFSIGNALED(t.wait_status)) {
    e.signal = WTERMSIG(t.wait_status);
    if (e.signal == SIGKILL && !t.kill_sent && t.oom_before >= 0) {
      e.oom_killed = ReadOomKills(t.oom_file) > t.oom_before;
    }
  } else {
    e.exit_code = WEXITSTATUS(t.wait_status);
  }
  if (t.exec_failed) e.detail = t.exec_error;
  else if (e.oom_killed) e.detail = "killed by the kernel's OOM killer";
  if (t.leftovers > 0) {
    if (!e.detail.empty()) e.detail += "; ";
    e.detail += fmt::format("{} leftover process(es) killed", t.leftovers);
  }
  if (!t.started) {
    events->push_back({.kind = ExecutorEventKind::kTaskStarted, .job = t.job, .token = t.token, .task = t.index,
                       .time = e.time});
  }
  events->push_back(std::move(e));
}

absl::Status LocalExecutor::Poll(Duration timeout, std::vector<ExecutorEvent>* events) {
  Impl& im = *impl_;
  const std::size_t before = events->size();
  for (ExecutorEvent& e : im.pending) events->push_back(std::move(e));
  if (!im.pending.empty()) timeout = 0;
  im.pending.clear();
  const std::int64_t end = MonotonicMicros() + std::max<Duration>(timeout, 0);
  std::vector<pollfd> fds;
  std::vector<Impl::Task*> owners;
  for (;;) {
    std::int64_t now = MonotonicMicros();
    for (auto& t : im.tasks) {
      if (t->kill_deadline != 0 && now >= t->kill_deadline && !t->kill_sent && !t->have_exit) {
        im.SignalGroup(*t, SIGKILL);
        t->kill_sent = true;
      }
    }
    std::int64_t wake = end;
    for (auto& t : im.tasks)
      if (t->kill_deadline != 0 && !t->kill_sent) wake = std::min(wake, t->kill_deadline);
    fds.clear();
    owners.clear();
    for (auto& t : im.tasks) {
      if (t->status_fd >= 0) {
        fds.push_back({.fd = t->status_fd, .events = POLLIN, .revents = 0});
        owners.push_back(t.get());
      }
      if (t->report_fd >= 0) {
        fds.push_back({.fd = t->report_fd, .events = POLLIN, .revents = 0});
        owners.push_back(t.get());
      }
    }
    const std::int64_t wait_us = std::max<std::int64_t>(0, wake - now);
    const int wait_ms = static_cast<int>(std::min<std::int64_t>((wait_us + 999) / 1000, 1 << 30));
    int n = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), wait_ms);
    if (n < 0 && errno != EINTR) return absl::InternalError(fmt::format("poll: {}", std::strerror(errno)));
    for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Impl::Task& t = *owners[i];
      if (fds[i].fd == t.report_fd) im.ReadReports(t, events);
      else if (fds[i].fd == t.status_fd) im.ReadStatus(t, events);
    }
    std::erase_if(im.tasks, [](const std::unique_ptr<Impl::Task>& t) { return t->status_fd < 0; });
    if (events->size() > before || MonotonicMicros() >= end) return absl::OkStatus();
  }
}

}  // namespace mlsched
