// Time as integers.
//
// Every time in mlsched is an integer count of microseconds: a Timestamp since
// the Unix epoch, a Duration between two of them. Integer time keeps the engine
// bit-for-bit deterministic across machines and compilers.
//
//   Duration limit = 4 * kHour;
//   Timestamp deadline = clock.Now() + limit;
//
// Thread-safety: constants and a pure function.
#ifndef MLSCHED_TIME_H_
#define MLSCHED_TIME_H_

#include <cstdint>
#include <limits>
#include <string>

namespace mlsched {

using Timestamp = std::int64_t;  // microseconds since 1970-01-01T00:00:00Z
using Duration = std::int64_t;   // microseconds

inline constexpr Duration kMicrosecond = 1;
inline constexpr Duration kMillisecond = 1000 * kMicrosecond;
inline constexpr Duration kSecond = 1000 * kMillisecond;
inline constexpr Duration kMinute = 60 * kSecond;
inline constexpr Duration kHour = 60 * kMinute;
inline constexpr Duration kDay = 24 * kHour;

// "Never": NextWakeup() returns it when nothing is due.
inline constexpr Timestamp kInfiniteFuture = std::numeric_limits<Timestamp>::max();

// Human-readable duration: "950us", "1.5s", "3m20s", "2h05m", "3d04h".
std::string FormatDuration(Duration d);

}  // namespace mlsched

#endif  // MLSCHED_TIME_H_
