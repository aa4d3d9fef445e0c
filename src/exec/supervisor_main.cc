// mlsched-supervisor: the program the LocalExecutor starts for each task
// (protocol and behaviour in supervisor.h). Not meant to be run by hand.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "exec/supervisor.h"

extern char** environ;

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
  // argv: protocol, log limit, executor pid, working dir, program, the task's argv (at least argv[0]).
  if (argc < 7 || std::strcmp(argv[1], in::kProtocol) != 0) {
    std::fprintf(stderr, "mlsched-supervisor: started by mlsched's LocalExecutor only (protocol %s)\n",
                 in::kProtocol);
    if (argc >= 2 && std::strncmp(argv[1], "mlsched-supervisor/", 19) == 0) Refuse(in::kProtocolMismatch);
    return 2;
  }
  long long limit = 0, pid = 0;
  if (!ParseInt(argv[2], &limit) || limit < 0 || !ParseInt(argv[3], &pid) || pid <= 0) {
    std::fprintf(stderr, "mlsched-supervisor: bad log limit \"%s\" or executor pid \"%s\"\n", argv[2], argv[3]);
    Refuse(in::kProtocolMismatch);
    return 2;
  }
  in::RunSupervisor({.path = argv[5],
                     .argv = argv + 6,
                     .envp = environ,
                     .working_dir = argv[4],
                     .out_log = in::kSpawnOutLogFd,
                     .err_log = in::kSpawnErrLogFd,
                     .log_limit = limit,
                     .status_fd = in::kSpawnStatusFd,
                     .report_fd = in::kSpawnReportFd,
                     .executor_pid = static_cast<pid_t>(pid)});
}
