// Duration texts such as "90s", "1.5h" or "2h30m" (units d, h, m, s, ms, us),
// shared by the policy documents (src/policy/config.cc) and the trace readers
// (src/sim/trace_mlsched.cc).
//
// Exact: 128-bit intermediates; a fraction must come out as a whole number of
// microseconds ("1.5us" is an error); units go from the largest to the
// smallest, each at most once; negative durations are errors.
//
//   std::string why;
//   std::optional<Duration> d = ParseDurationText("2h30m", kForm, why);  // 9'000'000'000
//
// Thread-safety: pure functions and constants.
#ifndef MLSCHED_INTERNAL_DURATION_H_
#define MLSCHED_INTERNAL_DURATION_H_

#include <optional>
#include <string>
#include <string_view>

#include "mlsched/time.h"

namespace mlsched::internal {

struct DurationUnit {
  std::string_view name;
  Duration size;
};
// Largest first: the order in which a duration text names its units.
inline constexpr DurationUnit kDurationUnits[] = {{"d", kDay},          {"h", kHour},
                                                  {"m", kMinute},       {"s", kSecond},
                                                  {"ms", kMillisecond}, {"us", kMicrosecond}};

// "2h30m" -> 9'000'000'000. On failure, nullopt and the reason in `why`
// (without the value). `form` describes the accepted forms for the caller's
// format; it is appended in parentheses to the reasons that are about form.
std::optional<Duration> ParseDurationText(std::string_view text, std::string_view form,
                                          std::string& why);

}  // namespace mlsched::internal

#endif  // MLSCHED_INTERNAL_DURATION_H_
