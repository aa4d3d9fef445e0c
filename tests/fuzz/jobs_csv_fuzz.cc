// libFuzzer harness for mlsched's jobs and cluster files (build with
// `make fuzz`, clang only): bytes -> ParseJobsCsv, ParseJobsJsonl and
// ParseClusterCsv. Covers the CSV splitter, the duration and quantity
// parsers behind the cells, and the JSON reader.
// Invariants: no crash, no sanitizer report; a rejected text is
// kInvalidArgument; accepted jobs are sorted with valid specs and
// non-negative times; accepted nodes are valid.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlsched/sim/trace.h"

namespace {

void CheckJobs(const absl::StatusOr<mlsched::sim::Workload>& w) {
  if (!w.ok()) {
    if (w.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return;
  }
  mlsched::Timestamp previous = 0;
  for (const mlsched::sim::TraceJob& j : w->jobs) {
    if (j.submit < previous || j.runtime < 0 || !j.spec.Validate().ok()) std::abort();
    previous = j.submit;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckJobs(mlsched::sim::ParseJobsCsv(text, "fuzz.csv"));
  CheckJobs(mlsched::sim::ParseJobsCsv(text, "fuzz.csv", {.lenient = true}));
  CheckJobs(mlsched::sim::ParseJobsJsonl(text, "fuzz.jsonl", {.lenient = true}));
  const auto nodes = mlsched::sim::ParseClusterCsv(text, "fuzz-cluster.csv");
  if (!nodes.ok()) {
    if (nodes.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const mlsched::NodeSpec& n : *nodes)
    if (!n.Validate().ok()) std::abort();
  return 0;
}
