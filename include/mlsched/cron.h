// CronExpression: when a recurring job fires, in an IANA time zone.
//
// Classic 5-field cron ("minute hour day-of-month month day-of-week") with
// Vixie cron semantics, evaluated against an absl::TimeZone loaded from the
// system's tzdata (/usr/share/zoneinfo). Fields accept '*', numbers, ranges
// a-b, lists a,b,c, steps */n and a-b/n, and the names JAN-DEC and SUN-SAT
// (any case, also inside ranges). Day-of-week is 0-7; 0 and 7 are Sunday,
// and a named range may end on Sunday ("FRI-SUN").
// Seconds are always 0. The macros @hourly ("0 * * * *"), @daily and
// @midnight ("0 0 * * *"), @weekly ("0 0 * * 0"), @monthly ("0 0 1 * *"),
// @yearly and @annually ("0 0 1 1 *") stand alone (any case). Not accepted:
// seconds or year fields, a/n without a range, reversed ranges (5-3), steps
// larger than the field (*/90 in the minute field), @reboot, '?', 'L', 'W',
// '#', and texts over 1024 characters.
//
// Day of month and day of week: when both are restricted (neither field
// starts with '*'), a day matches if EITHER matches ("0 0 1,15 * MON" fires on
// the 1st, the 15th and every Monday); otherwise both must match, so
// "0 0 */2 * MON" fires on Mondays that fall on odd days.
//
// Daylight saving time follows Vixie cron (from which the usual Linux and BSD
// crons descend), which distinguishes jobs by the minute and hour fields:
//   * A fixed-time job (neither the minute nor the hour field starts with
//     '*', e.g. "30 2 * * *", "0 9-17 * * *", @daily) fires once per
//     matching local time. A local time skipped by a spring-forward gap fires
//     at the first instant after the gap (America/New_York, 2026-03-08:
//     "30 2 * * *" fires at 03:00 EDT); several skipped times that match
//     collapse into that one firing. A local time repeated by a fall-back
//     fires only on its first occurrence ("30 1 * * *" fires at 01:30 EDT on
//     2026-11-01, not again at 01:30 EST).
//   * A wildcard job (the minute or the hour field starts with '*', e.g.
//     "*/15 * * * *", @hourly, "0 * * * *", "* 2 * * *") follows the wall
//     clock: it fires at every real instant at which the local clock shows a
//     matching time. Skipped times never fire; repeated times fire twice
//     (@hourly fires at 01:00 EDT and again at 01:00 EST on 2026-11-01, and
//     not at all at 02:00 on 2026-03-08).
// The same rules hold for any offset change in the zone's history (30-minute
// shifts such as Australia/Lord_Howe, or a zone changing its standard offset).
//
// Search bound: Next() looks at most 400 years of civil time ahead, the
// period of the Gregorian calendar (146,097 days, a whole number of weeks),
// so an expression that matches any date at all is always found (a leap-day
// job "0 0 29 2 *" waits up to 8 years, "0 0 29 2 */7", Feb 29 on a Sunday,
// up to 40), and one that matches none ("0 0 30 2 *", "0 0 31 4,6,9,11 *") is
// recognised when parsed and answers kInfiniteFuture at once. A result past
// the largest Timestamp is also kInfiniteFuture, as would be a wildcard job
// whose every match for 400 years fell into DST gaps (no real zone does that).
//
//   MLSCHED_ASSIGN_OR_RETURN(CronExpression nightly, CronExpression::Parse("30 2 * * MON-FRI"));
//   MLSCHED_ASSIGN_OR_RETURN(absl::TimeZone berlin, LoadTimeZone("Europe/Berlin"));
//   Timestamp next = nightly.Next(clock.Now(), berlin);
//   std::vector<Timestamp> week = nightly.Preview(clock.Now(), berlin, 5);
//
// Next() is skip-ahead over bitmasks (month, then day, hour and minute) plus
// one or two zone look-ups; it allocates nothing and takes well under a
// microsecond.
//
// Thread-safety: a CronExpression is an immutable value after Parse; Next and
// Preview are const and may run concurrently. absl::TimeZone is a cheap,
// thread-safe handle.
#ifndef MLSCHED_CRON_H_
#define MLSCHED_CRON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mlsched/time.h"

namespace mlsched {
namespace cron_internal {
struct Civil;  // year, month, day, hour, minute
}  // namespace cron_internal

class CronExpression {
 public:
  // Errors are kInvalidArgument and name the field:
  //   `cron "61 * * * *": minute field "61": 61 is outside 0-59`
  //   `cron "* * *": expected 5 fields, found 3`
  //   `cron "*/0 * * * *": minute field "*/0": step must be >= 1`
  static absl::StatusOr<CronExpression> Parse(std::string_view text);

  // The first firing strictly after `after`, in `tz`; kInfiniteFuture if
  // there is none (the expression names no real date, e.g. "0 0 30 2 *").
  Timestamp Next(Timestamp after, const absl::TimeZone& tz) const;

  // Up to `n` firings strictly after `after`, ascending; fewer only when the
  // schedule ends (kInfiniteFuture is never included).
  std::vector<Timestamp> Preview(Timestamp after, const absl::TimeZone& tz, int n) const;

  // The text as given to Parse.
  const std::string& text() const { return text_; }

  // Neither the minute nor the hour field starts with '*': the job fires once
  // per matching local time across DST changes (see above).
  bool is_fixed_time() const { return fixed_time_; }

 private:
  using Civil = cron_internal::Civil;

  CronExpression() = default;
  bool FindMatch(const Civil& from, const Civil& limit, Civil* out) const;
  std::uint64_t DayMask(std::int64_t year, int month) const;

  std::string text_;
  std::uint64_t minutes_ = 0;  // bit m: minute m, 0-59
  std::uint32_t hours_ = 0;    // bit h: hour h, 0-23
  std::uint32_t days_ = 0;     // bit d: day of month d, 1-31
  std::uint16_t months_ = 0;   // bit m: month m, 1-12
  std::uint8_t weekdays_ = 0;  // bit w: weekday w, 0 (Sunday) - 6
  bool day_or_ = false;        // both day fields restricted: either may match
  bool fixed_time_ = false;
  bool never_ = false;         // no date matches (e.g. February 30)
};

// Loads an IANA time zone ("Europe/Berlin", "UTC", "Etc/GMT+5") from the
// system's tzdata. Only plain zone names are accepted: no paths, no
// "localtime", no POSIX TZ strings. Unknown names are kInvalidArgument:
// `time zone "Mars/Base": unknown IANA time zone`.
absl::StatusOr<absl::TimeZone> LoadTimeZone(std::string_view name);

}  // namespace mlsched

#endif  // MLSCHED_CRON_H_
