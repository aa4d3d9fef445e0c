// Async-signal-safe code only from here on: raw system calls, stack buffers,
// no allocation, no stdio, no locks. See supervisor.h.
#include "exec/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace mlsched::internal {
namespace {

void WriteAll(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void Send(int fd, std::int32_t kind, std::int32_t a, std::int32_t b) {
  SupervisorRecord r{.kind = kind, .a = a, .b = b};
  WriteAll(fd, &r, sizeof r);
}

// Closes every descriptor >= `from` except those in keep[0..n).
void CloseAllExcept(int from, const int* keep, int n) {
  int lo = from;
  for (;;) {
    int next = -1;  // smallest kept fd >= lo
    for (int i = 0; i < n; ++i)
      if (keep[i] >= lo && (next < 0 || keep[i] < next)) next = keep[i];
    if (next < 0) {
      if (::syscall(SYS_close_range, static_cast<unsigned>(lo), ~0U, 0) != 0)
        for (int fd = lo; fd < 4096; ++fd) ::close(fd);
      return;
    }
    if (next > lo && ::syscall(SYS_close_range, static_cast<unsigned>(lo), static_cast<unsigned>(next - 1), 0) != 0)
      for (int fd = lo; fd < next; ++fd) ::close(fd);
    lo = next + 1;
  }
}

void ResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Parses a decimal number at p; advances p.
long ParseLong(const char*& p, const char* end) {
  long v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  return v;
}

char* FormatLong(char* out, long v) {  // writes digits, returns the end
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *out++ = tmp[--n];
  return out;
}

// SIGKILLs every process whose parent is `self` (reparented descendants and
// direct children, zombies included). Returns how many it signalled.
int KillChildren(pid_t self) {
  int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  int killed = 0;
  alignas(8) char buf[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      struct Dirent64 {
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
      off += d->reclen;
      const char* name = d->name;
      if (*name < '1' || *name > '9') continue;
      char path[64] = "/proc/";
      char* e = path + 6;
      for (const char* c = name; *c != '\0' && e < path + 48; ++c) *e++ = *c;
      const char* tail = "/stat";
      while (*tail) *e++ = *tail++;
      *e = '\0';
      int fd = ::open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char stat[512];
      ssize_t len = ::read(fd, stat, sizeof stat);
      ::close(fd);
      if (len <= 0) continue;
      // "pid (comm) S ppid ...": comm may hold spaces and ')', so take the last ')'.
      const char* end = stat + len;
      const char* rp = nullptr;
      for (const char* c = stat; c < end; ++c)
        if (*c == ')') rp = c;
      if (rp == nullptr || rp + 4 >= end) continue;
      const char* p = rp + 4;  // past ") S "
      long ppid = ParseLong(p, end);
      if (ppid != self) continue;
      const char* q = name;
      long pid = ParseLong(q, q + 16);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++killed;
    }
  }
  ::close(dir);
  return killed;
}

struct Log {
  int pipe = -1;
  int file = -1;
  std::int64_t written = 0;
  bool truncated = false;
};

void Copy(Log& log, std::int64_t limit) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(log.pipe, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
      ::close(log.pipe);
      log.pipe = -1;
      return;
    }
    if (n < 0) return;  // EAGAIN: drained for now
    std::int64_t room = limit - log.written;
    std::int64_t keep = n < room ? n : (room > 0 ? room : 0);
    if (keep > 0) {
      WriteAll(log.file, buf, static_cast<std::size_t>(keep));
      log.written += keep;
    }
    if (keep < n && !log.truncated) {
      log.truncated = true;
      char msg[96] = "\n[mlsched: log truncated at ";
      char* e = msg;
      while (*e) ++e;
      e = FormatLong(e, static_cast<long>(limit));
      const char* tail = " bytes]\n";
      while (*tail) *e++ = *tail++;
      WriteAll(log.file, msg, static_cast<std::size_t>(e - msg));
    }
    if (n < static_cast<ssize_t>(sizeof buf)) return;
  }
}

[[noreturn]] void RunTask(const SupervisorSpec& spec, int out_w, int err_w, int exec_err) {
  ::setpgid(0, 0);
  ResetSignals();
  // Move what the task keeps above the low numbers first, so dup2 never
  // overwrites a descriptor still needed.
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int hi_null = devnull >= 0 ? ::fcntl(devnull, F_DUPFD_CLOEXEC, 16) : -1;
  int hi_out = ::fcntl(out_w, F_DUPFD_CLOEXEC, 16);
  int hi_err = ::fcntl(err_w, F_DUPFD_CLOEXEC, 16);
  int hi_rep = ::fcntl(spec.report_fd, F_DUPFD_CLOEXEC, 16);
  int hi_exe = ::fcntl(exec_err, F_DUPFD_CLOEXEC, 16);
  if (hi_null >= 0) ::dup2(hi_null, 0);
  ::dup2(hi_out, 1);
  ::dup2(hi_err, 2);
  ::dup2(hi_rep, kReportFd);
  int err_fd = ::dup3(hi_exe, 4, O_CLOEXEC);
  if (err_fd < 0) err_fd = hi_exe;
  const int keep[] = {err_fd};
  CloseAllExcept(5, keep, 1);
  std::int32_t failure[2];
  if (spec.working_dir != nullptr && spec.working_dir[0] != '\0' && ::chdir(spec.working_dir) != 0) {
    failure[0] = errno;
    failure[1] = 1;
    WriteAll(err_fd, failure, sizeof failure);
    ::_exit(127);
  }
  ::execve(spec.path, spec.argv, spec.envp);
  failure[0] = errno;
  failure[1] = 2;
  WriteAll(err_fd, failure, sizeof failure);
  ::_exit(127);
}

}  // namespace

void RunSupervisor(const SupervisorSpec& spec) {
  // A group of its own keeps terminal signals meant for the host away.
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGHUP);
  if (::getppid() != spec.executor_pid) ::_exit(1);  // the executor is already gone
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  {
    const int keep[] = {spec.out_log, spec.err_log, spec.status_fd, spec.report_fd};
    CloseAllExcept(3, keep, 4);
  }
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  for (int s : {SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2})
    ::sigaction(s, &ign, nullptr);
  sigset_t mask;
  ::sigemptyset(&mask);
  ::sigaddset(&mask, SIGCHLD);
  ::sigaddset(&mask, SIGHUP);
  ::sigaddset(&mask, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (sfd < 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    Send(spec.status_fd, SupervisorRecord::kExecFailed, errno, 0);
    Send(spec.status_fd, SupervisorRecord::kExited, 127 << 8, 0);
    ::_exit(0);
  }
  const pid_t task = ::fork();
  if (task == 0) RunTask(spec, out_pipe[1], err_pipe[1], exec_pipe[1]);
  if (task < 0) {
    Send(spec.status_fd, SupervisorRecord::kExecFailed, errno, 0);
    Send(spec.status_fd, SupervisorRecord::kExited, 127 << 8, 0);
    ::_exit(0);
  }
  ::setpgid(task, task);  // also done by the task: whoever runs first
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  ::close(spec.report_fd);

  std::int32_t failure[2] = {0, 0};
  ssize_t got;
  do got = ::read(exec_pipe[0], failure, sizeof failure);
  while (got < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (got > 0) Send(spec.status_fd, SupervisorRecord::kExecFailed, failure[0], failure[1]);
  else Send(spec.status_fd, SupervisorRecord::kStarted, task, 0);

  Log logs[2] = {{.pipe = out_pipe[0], .file = spec.out_log}, {.pipe = err_pipe[0], .file = spec.err_log}};
  for (Log& l : logs) ::fcntl(l.pipe, F_SETFL, O_NONBLOCK);
  int status = 0;
  bool task_done = false;
  while (!task_done) {
    pollfd fds[3];
    int n = 0;
    fds[n++] = {.fd = sfd, .events = POLLIN, .revents = 0};
    for (Log& l : logs)
      if (l.pipe >= 0) fds[n++] = {.fd = l.pipe, .events = POLLIN, .revents = 0};
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0 && errno != EINTR) break;
    for (Log& l : logs)
      if (l.pipe >= 0) Copy(l, spec.log_limit);
    signalfd_siginfo si;
    while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGHUP || si.ssi_signo == SIGTERM) ::kill(-task, SIGKILL);
    }
    for (;;) {  // reap: the task, or descendants reparented to us
      int st;
      pid_t r = ::waitpid(-1, &st, WNOHANG);
      if (r <= 0) break;
      if (r == task) {
        status = st;
        task_done = true;
      }
    }
  }

  // The task's main process is gone: nothing it left behind may outlive it.
  int leftovers = 0;
  bool group_alive = true;
  for (;;) {
    if (group_alive && ::kill(-task, SIGKILL) != 0 && errno == ESRCH) group_alive = false;
    int st;
    pid_t r = ::waitpid(-1, &st, WNOHANG);
    if (r == 0) {  // descendants remain, maybe outside the group: find them
      KillChildren(::getpid());
      r = ::waitpid(-1, &st, 0);
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;  // ECHILD: no descendant left
    ++leftovers;
  }
  for (Log& l : logs)
    while (l.pipe >= 0) {
      const int before = l.pipe;
      Copy(l, spec.log_limit);
      if (l.pipe == before) break;  // EAGAIN: a writer outside our tree; stop here
    }
  Send(spec.status_fd, SupervisorRecord::kExited, status, leftovers);
  ::_exit(0);
}

}  // namespace mlsched::internal
