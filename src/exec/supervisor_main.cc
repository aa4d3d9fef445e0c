// mlsched-supervisor: the program the LocalExecutor starts for each task
// (protocol and behaviour in supervisor.h). Not meant to be run by hand.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "exec/supervisor.h"

namespace {

using mlsched::internal::SupervisorRecord;

void Refuse(std::int32_t b) {
  const SupervisorRecord records[2] = {{.kind = SupervisorRecord::kExecFailed, .a = 0, .b = b},
                                       {.kind = SupervisorRecord::kExited, .a = 127 << 8, .b = 0}};
  (void)!::write(mlsched::internal::kSpawnStatusFd, records, sizeof records);
}

bool ParseInt(const char* s, long long* out) {
  if (*s == '\0') return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtoll(s, &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  namespace in = mlsched::internal;
  // argv: protocol, log limit, executor pid, working dir, program, n, the
  // task's n arguments, then its environment (this program's own is empty).
  if (argc < 8 || std::strcmp(argv[1], in::kProtocol) != 0) {
    std::fprintf(stderr, "mlsched-supervisor: started by mlsched's LocalExecutor only (protocol %s)\n",
                 in::kProtocol);
    if (argc >= 2 && std::strncmp(argv[1], "mlsched-supervisor/", 19) == 0) Refuse(in::kProtocolMismatch);
    return 2;
  }
  long long limit = 0, pid = 0, n = 0;
  if (!ParseInt(argv[2], &limit) || limit < 0 || !ParseInt(argv[3], &pid) || pid <= 0 || !ParseInt(argv[6], &n) ||
      n < 1 || n > argc - 7) {
    // An executor of this protocol never sends these: treat it as one of another.
    std::fprintf(stderr, "mlsched-supervisor: bad log limit, executor pid or argument count\n");
    Refuse(in::kProtocolMismatch);
    return 2;
  }
  // The task's argv and envp, each ending with a null pointer.
  char** task_argv = new char*[n + 1];
  std::copy(argv + 7, argv + 7 + n, task_argv);
  task_argv[n] = nullptr;
  char** task_env = argv + 7 + n;  // argv's own null pointer ends it
  in::RunSupervisor({.path = argv[5],
                     .argv = task_argv,
                     .envp = task_env,
                     .working_dir = argv[4],
                     .out_log = in::kSpawnOutLogFd,
                     .err_log = in::kSpawnErrLogFd,
                     .log_limit = limit,
                     .status_fd = in::kSpawnStatusFd,
                     .report_fd = in::kSpawnReportFd,
                     .executor_pid = static_cast<pid_t>(pid)});
}
