// libFuzzer harness for the SWF reader (build with `make fuzz`, clang only):
// bytes -> ParseSwf, strict and lenient.
// Invariants: no crash, no sanitizer report; a rejected text is
// kInvalidArgument; an accepted workload has one node, jobs sorted by submit
// time with valid specs, non-negative times, and stats that add up
// (jobs produced = workload size, skipped <= lines).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlsched/sim/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool lenient : {false, true}) {
    mlsched::sim::ReadStats stats;
    const auto w = mlsched::sim::ParseSwf(text, "fuzz.swf", {.lenient = lenient}, &stats);
    if (!w.ok()) {
      if (w.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
      continue;
    }
    if (w->nodes.size() != 1 || !w->nodes[0].Validate().ok()) std::abort();
    if (stats.jobs != static_cast<std::int64_t>(w->jobs.size()) || stats.skipped > stats.lines)
      std::abort();
    mlsched::Timestamp previous = 0;
    for (const mlsched::sim::TraceJob& j : w->jobs) {
      if (j.submit < previous || j.runtime < 0 || !j.spec.Validate().ok()) std::abort();
      previous = j.submit;
    }
  }
  return 0;
}
