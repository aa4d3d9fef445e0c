// libFuzzer harness for the Philly (Gavel) reader (build with `make fuzz`,
// clang only): bytes split at the first two NUL bytes into a trace, a
// throughput table and a cluster spec -> ParsePhillyGavel, strict and lenient.
// Invariants: no crash, no sanitizer report; a rejected text is
// kInvalidArgument; an accepted workload has valid nodes, jobs sorted by
// submit time with valid specs, positive run times, and stats that add up.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mlsched/sim/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    const std::size_t nul = i < 2 ? rest.find('\0') : std::string_view::npos;
    parts[i] = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  for (const bool lenient : {false, true}) {
    mlsched::sim::ReadStats stats;
    const auto w = mlsched::sim::ParsePhillyGavel({{.name = "fuzz.trace", .text = parts[0]}}, parts[1], parts[2],
                                                  {.lenient = lenient}, &stats);
    if (!w.ok()) {
      if (w.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
      continue;
    }
    for (const mlsched::NodeSpec& n : w->nodes)
      if (!n.Validate().ok()) std::abort();
    if (stats.jobs != static_cast<std::int64_t>(w->jobs.size()) || stats.skipped > stats.lines) std::abort();
    mlsched::Timestamp previous = 0;
    for (const mlsched::sim::TraceJob& j : w->jobs) {
      if (j.submit < previous || j.runtime <= 0 || !j.spec.Validate().ok()) std::abort();
      previous = j.submit;
    }
  }
  return 0;
}
