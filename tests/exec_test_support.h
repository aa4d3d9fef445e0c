// Helpers for tests that run real processes: a scratch directory, scripts,
// and waiting on executor events with generous timeouts (the machine may be
// loaded; tests wait for events, never for fixed amounts of time).
#ifndef MLSCHED_TESTS_EXEC_TEST_SUPPORT_H_
#define MLSCHED_TESTS_EXEC_TEST_SUPPORT_H_

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mlsched/exec/executor_event.h"
#include "mlsched/exec/local_executor.h"

namespace mlsched::testing {

inline constexpr Duration kPatience = 60 * kSecond;  // far beyond what any step needs

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mlsched-exec-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes an executable /bin/sh script and returns its path.
  std::string Script(const std::string& name, const std::string& body) const {
    std::string p = File(name);
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p;
  }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// True when no process with this pid exists (zombies count as existing).
inline bool ProcessGone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Polls until `pred` holds on the events seen so far, or kPatience passes.
inline bool PollUntil(LocalExecutor& executor, std::vector<ExecutorEvent>& seen,
                      const std::function<bool(const std::vector<ExecutorEvent>&)>& pred,
                      Duration patience = kPatience) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(patience);
  while (!pred(seen)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    absl::Status s = executor.Poll(100 * kMillisecond, &seen);
    if (!s.ok()) {
      ADD_FAILURE() << s;
      return false;
    }
  }
  return true;
}

inline const ExecutorEvent* Find(const std::vector<ExecutorEvent>& events, ExecutorEventKind kind, int task = -1) {
  for (const ExecutorEvent& e : events)
    if (e.kind == kind && (task < 0 || e.task == task)) return &e;
  return nullptr;
}

inline int Count(const std::vector<ExecutorEvent>& events, ExecutorEventKind kind) {
  int n = 0;
  for (const ExecutorEvent& e : events) n += e.kind == kind;
  return n;
}

// Waits (polling the file system) until `path` exists and is non-empty.
inline bool WaitForFile(const std::string& path, LocalExecutor* executor = nullptr,
                        std::vector<ExecutorEvent>* seen = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kPatience);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0) return true;
    if (executor != nullptr) {
      (void)executor->Poll(20 * kMillisecond, seen);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return false;
}

// Clears the fake NVML library's configuration (tests/fake_nvml).
inline void ClearFakeNvml() {
  for (const char* v : {"FAKE_NVML_INIT_ERROR", "FAKE_NVML_COUNT", "FAKE_NVML_NAME", "FAKE_NVML_MEMORY_MIB",
                        "FAKE_NVML_ECC", "FAKE_NVML_LOST", "FAKE_NVML_XID", "MLSCHED_NVML_LIBRARY"})
    ::unsetenv(v);
}

}  // namespace mlsched::testing

#endif  // MLSCHED_TESTS_EXEC_TEST_SUPPORT_H_
