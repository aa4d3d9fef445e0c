// libFuzzer harness for cron expressions (build with `make fuzz`, clang only):
// bytes -> CronExpression::Parse, and for accepted texts Next() from a few
// instants in UTC and in zones with DST changes (including around them).
// Invariants: no crash, no sanitizer report, no endless search; a rejected
// text is kInvalidArgument; Next() is later than its argument and lands on a
// whole local minute; Preview() is ascending and chains Next().
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "mlsched/cron.h"

namespace {

const std::vector<absl::TimeZone>& Zones() {
  static const auto* zones = new std::vector<absl::TimeZone>{
      absl::UTCTimeZone(), mlsched::LoadTimeZone("America/New_York").value(),
      mlsched::LoadTimeZone("Australia/Lord_Howe").value()};
  return *zones;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using mlsched::kInfiniteFuture;
  using mlsched::Timestamp;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto cron = mlsched::CronExpression::Parse(text);
  if (!cron.ok()) {
    if (cron.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  constexpr Timestamp kSecond = 1'000'000;
  const Timestamp instants[] = {
      0,
      1'772'953'200 * kSecond - 1,       // just before 2026-03-08 02:00 EST (spring gap in New York)
      1'793'509'200 * kSecond + 1,       // 2026-11-01 01:00 EDT (first pass of the repeat)
      1'793'512'800 * kSecond + 30 * kSecond,  // 01:00:30 EST (second pass)
      -2'208'988'800 * kSecond,          // 1900-01-01
      std::numeric_limits<Timestamp>::min(),
      kInfiniteFuture - 366 * 86'400 * kSecond,
  };
  for (const absl::TimeZone& tz : Zones()) {
    for (Timestamp after : instants) {
      const Timestamp next = cron->Next(after, tz);
      if (next <= after) std::abort();
      if (next != kInfiniteFuture && tz.At(absl::FromUnixMicros(next)).cs.second() != 0) std::abort();
    }
    Timestamp previous = instants[1];
    for (Timestamp t : cron->Preview(instants[1], tz, 4)) {
      if (t <= previous || t != cron->Next(previous, tz)) std::abort();
      previous = t;
    }
  }
  return 0;
}
