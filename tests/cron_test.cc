// CronExpression: parsing, the next-firing search in UTC and in zones with
// daylight saving time, and properties against a minute-by-minute reference.
#include "mlsched/cron.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bitset>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "status_matchers.h"

namespace mlsched {
namespace {

using testing_util::FailsWithMessage;

absl::TimeZone Zone(std::string_view name) { return LoadTimeZone(name).value(); }

CronExpression Cron(std::string_view text) {
  auto parsed = CronExpression::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *std::move(parsed) : CronExpression::Parse("* * * * *").value();
}

// The instant of a local time that exists once.
Timestamp Local(const absl::TimeZone& tz, int y, int mo, int d, int h, int mi, int s = 0) {
  const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(y, mo, d, h, mi, s));
  EXPECT_EQ(info.kind, absl::TimeZone::TimeInfo::UNIQUE);
  return absl::ToUnixMicros(info.pre);
}

std::string Show(Timestamp t, const absl::TimeZone& tz) {
  if (t == kInfiniteFuture) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %z", absl::FromUnixMicros(t), tz);
}

std::vector<std::string> Show(const std::vector<Timestamp>& ts, const absl::TimeZone& tz) {
  std::vector<std::string> out;
  for (Timestamp t : ts) out.push_back(Show(t, tz));
  return out;
}

std::vector<std::string> Fires(std::string_view text, const absl::TimeZone& tz, Timestamp after, int n) {
  return Show(Cron(text).Preview(after, tz, n), tz);
}

using Strings = std::vector<std::string>;

const absl::TimeZone kUtc = absl::UTCTimeZone();

// --- Fields ---------------------------------------------------------------

TEST(CronFields, MinuteListsRangesAndSteps) {
  EXPECT_EQ(Fires("5,10-12,*/20 * * * *", kUtc, Local(kUtc, 2026, 5, 4, 10, 0), 8),
            (Strings{"2026-05-04 10:05:00 +0000", "2026-05-04 10:10:00 +0000", "2026-05-04 10:11:00 +0000",
                     "2026-05-04 10:12:00 +0000", "2026-05-04 10:20:00 +0000", "2026-05-04 10:40:00 +0000",
                     "2026-05-04 11:00:00 +0000", "2026-05-04 11:05:00 +0000"}));
}

TEST(CronFields, EveryMinuteFiresOnTheNextWholeMinute) {
  EXPECT_EQ(Fires("* * * * *", kUtc, Local(kUtc, 2026, 5, 4, 10, 0, 59) + 999'999, 2),
            (Strings{"2026-05-04 10:01:00 +0000", "2026-05-04 10:02:00 +0000"}));
}

TEST(CronFields, HourRangeWithStep) {
  EXPECT_EQ(Fires("0 9-17/4 * * *", kUtc, Local(kUtc, 2026, 5, 4, 0, 0), 4),
            (Strings{"2026-05-04 09:00:00 +0000", "2026-05-04 13:00:00 +0000", "2026-05-04 17:00:00 +0000",
                     "2026-05-05 09:00:00 +0000"}));
}

TEST(CronFields, DayOfMonthList) {
  EXPECT_EQ(Fires("0 0 1,15 * *", kUtc, Local(kUtc, 2026, 5, 4, 0, 0), 3),
            (Strings{"2026-05-15 00:00:00 +0000", "2026-06-01 00:00:00 +0000", "2026-06-15 00:00:00 +0000"}));
}

TEST(CronFields, MonthNamesInAnyCaseAndInRanges) {
  const Strings expected{"2027-01-01 00:00:00 +0000", "2027-04-01 00:00:00 +0000", "2027-06-01 00:00:00 +0000",
                         "2028-01-01 00:00:00 +0000"};
  const Timestamp after = Local(kUtc, 2026, 7, 1, 0, 0);
  EXPECT_EQ(Fires("0 0 1 jan,Apr-JUN/2 *", kUtc, after, 4), expected);
  EXPECT_EQ(Fires("0 0 1 1,4-6/2 *", kUtc, after, 4), expected);
}

TEST(CronFields, WeekdayNamesAndNumbers) {
  // 2026-05-04 is a Monday.
  const Timestamp monday = Local(kUtc, 2026, 5, 4, 13, 0);
  const Strings weekdays{"2026-05-05 12:00:00 +0000", "2026-05-06 12:00:00 +0000", "2026-05-07 12:00:00 +0000",
                         "2026-05-08 12:00:00 +0000", "2026-05-11 12:00:00 +0000"};
  EXPECT_EQ(Fires("0 12 * * MON-FRI", kUtc, monday, 5), weekdays);
  EXPECT_EQ(Fires("0 12 * * mon-fri", kUtc, monday, 5), weekdays);
  EXPECT_EQ(Fires("0 12 * * 1-5", kUtc, monday, 5), weekdays);
}

TEST(CronFields, SundayIsZeroOrSeven) {
  const Timestamp monday = Local(kUtc, 2026, 5, 4, 13, 0);
  const Strings sundays{"2026-05-10 00:00:00 +0000", "2026-05-17 00:00:00 +0000"};
  EXPECT_EQ(Fires("0 0 * * 0", kUtc, monday, 2), sundays);
  EXPECT_EQ(Fires("0 0 * * 7", kUtc, monday, 2), sundays);
  EXPECT_EQ(Fires("0 0 * * SUN", kUtc, monday, 2), sundays);
  const Strings weekend{"2026-05-08 00:00:00 +0000", "2026-05-09 00:00:00 +0000", "2026-05-10 00:00:00 +0000",
                        "2026-05-15 00:00:00 +0000"};
  EXPECT_EQ(Fires("0 0 * * 5-7", kUtc, monday, 4), weekend);
  EXPECT_EQ(Fires("0 0 * * FRI-SUN", kUtc, monday, 4), weekend);
}

TEST(CronFields, MacrosEqualTheirExpansions) {
  const Timestamp after = Local(kUtc, 2026, 5, 4, 10, 17);
  const std::pair<const char*, const char*> macros[] = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
      {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},
  };
  for (const auto& [macro, fields] : macros) {
    const CronExpression e = Cron(macro);
    EXPECT_EQ(e.text(), macro);
    EXPECT_EQ(e.Preview(after, kUtc, 6), Cron(fields).Preview(after, kUtc, 6)) << macro;
    EXPECT_EQ(e.is_fixed_time(), std::string_view(macro) != "@hourly") << macro;
  }
  EXPECT_EQ(Fires("  @Daily\t", kUtc, after, 1), Strings{"2026-05-05 00:00:00 +0000"});
}

TEST(CronFields, TextIsKeptAsGiven) {
  EXPECT_EQ(Cron(" 0  9 * * 1-5 ").text(), " 0  9 * * 1-5 ");
}

TEST(CronFields, WildcardJobsAreThoseWithAStarInMinuteOrHour) {
  EXPECT_TRUE(Cron("30 2 * * *").is_fixed_time());
  EXPECT_TRUE(Cron("0-59 9-17 * * *").is_fixed_time());
  EXPECT_FALSE(Cron("*/15 2 * * *").is_fixed_time());
  EXPECT_FALSE(Cron("0 * * * *").is_fixed_time());
  EXPECT_FALSE(Cron("0 */2 * * *").is_fixed_time());
}

// --- Day of month and day of week -----------------------------------------

TEST(CronDays, BothRestrictedMatchEitherDayOfMonthOrWeekday) {
  // May 2026: Fridays are the 1st, 8th, 15th...; the 13th is a Wednesday.
  EXPECT_EQ(Fires("0 0 13 * FRI", kUtc, Local(kUtc, 2026, 5, 2, 0, 0), 4),
            (Strings{"2026-05-08 00:00:00 +0000", "2026-05-13 00:00:00 +0000", "2026-05-15 00:00:00 +0000",
                     "2026-05-22 00:00:00 +0000"}));
}

TEST(CronDays, AStarredFieldMakesBothRequired) {
  // "*/2" counts as a star: Mondays that are odd days. May 2026 Mondays: 4, 11, 18, 25.
  EXPECT_EQ(Fires("0 0 */2 * MON", kUtc, Local(kUtc, 2026, 5, 1, 0, 0), 3),
            (Strings{"2026-05-11 00:00:00 +0000", "2026-05-25 00:00:00 +0000", "2026-06-01 00:00:00 +0000"}));
  EXPECT_EQ(Fires("0 0 * * MON", kUtc, Local(kUtc, 2026, 5, 1, 0, 0), 2),
            (Strings{"2026-05-04 00:00:00 +0000", "2026-05-11 00:00:00 +0000"}));
  EXPECT_EQ(Fires("0 0 13 * *", kUtc, Local(kUtc, 2026, 5, 1, 0, 0), 2),
            (Strings{"2026-05-13 00:00:00 +0000", "2026-06-13 00:00:00 +0000"}));
  // Weekday "*/7" is Sunday only, also a star: the 29th of February on a Sunday.
  EXPECT_EQ(Fires("0 0 29 2 */7", kUtc, Local(kUtc, 2004, 3, 1, 0, 0), 2),
            (Strings{"2032-02-29 00:00:00 +0000", "2060-02-29 00:00:00 +0000"}));
}

// --- Calendar ---------------------------------------------------------------

TEST(CronCalendar, LeapDayFiresOnlyInLeapYears) {
  EXPECT_EQ(Fires("0 0 29 2 *", kUtc, Local(kUtc, 2025, 1, 1, 0, 0), 3),
            (Strings{"2028-02-29 00:00:00 +0000", "2032-02-29 00:00:00 +0000", "2036-02-29 00:00:00 +0000"}));
  // 2100 is not a leap year: eight years between 2096 and 2104.
  EXPECT_EQ(Fires("0 0 29 2 *", kUtc, Local(kUtc, 2096, 3, 1, 0, 0), 1), Strings{"2104-02-29 00:00:00 +0000"});
  // 2000 is.
  EXPECT_EQ(Fires("0 0 29 2 *", kUtc, Local(kUtc, 1997, 1, 1, 0, 0), 1), Strings{"2000-02-29 00:00:00 +0000"});
}

TEST(CronCalendar, TheRarestDayIsFoundFortyYearsAhead) {
  EXPECT_EQ(Fires("0 0 29 2 */7", kUtc, Local(kUtc, 2088, 3, 1, 0, 0), 1), Strings{"2128-02-29 00:00:00 +0000"});
}

TEST(CronCalendar, DatesThatNeverExistNeverFire) {
  for (const char* text : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 FEB *", "* * 31 2 */2"}) {
    const CronExpression e = Cron(text);
    EXPECT_EQ(e.Next(Local(kUtc, 2026, 1, 1, 0, 0), kUtc), kInfiniteFuture) << text;
    EXPECT_TRUE(e.Preview(0, kUtc, 3).empty()) << text;
  }
  // With the OR rule a weekday rescues it: "30 Feb or any Monday".
  EXPECT_EQ(Fires("0 0 30 2 MON", kUtc, Local(kUtc, 2026, 1, 1, 0, 0), 1), Strings{"2026-02-02 00:00:00 +0000"});
}

TEST(CronCalendar, ThirtyFirstSkipsShortMonths) {
  EXPECT_EQ(Fires("0 0 31 * *", kUtc, Local(kUtc, 2026, 1, 31, 0, 0), 4),
            (Strings{"2026-03-31 00:00:00 +0000", "2026-05-31 00:00:00 +0000", "2026-07-31 00:00:00 +0000",
                     "2026-08-31 00:00:00 +0000"}));
}

TEST(CronCalendar, MonthEnds) {
  EXPECT_EQ(Fires("59 23 28-31 * *", kUtc, Local(kUtc, 2028, 2, 1, 0, 0), 5),
            (Strings{"2028-02-28 23:59:00 +0000", "2028-02-29 23:59:00 +0000", "2028-03-28 23:59:00 +0000",
                     "2028-03-29 23:59:00 +0000", "2028-03-30 23:59:00 +0000"}));
}

TEST(CronCalendar, YearRollover) {
  EXPECT_EQ(Fires("0 0 1 1 *", kUtc, Local(kUtc, 2026, 12, 31, 23, 59, 30), 2),
            (Strings{"2027-01-01 00:00:00 +0000", "2028-01-01 00:00:00 +0000"}));
  EXPECT_EQ(Fires("*/30 * * 12 *", kUtc, Local(kUtc, 2026, 12, 31, 23, 30), 2),
            (Strings{"2027-12-01 00:00:00 +0000", "2027-12-01 00:30:00 +0000"}));
}

TEST(CronCalendar, NextIsStrictlyAfter) {
  const CronExpression e = Cron("0 12 * * *");
  const Timestamp noon = Local(kUtc, 2026, 5, 4, 12, 0);
  EXPECT_EQ(e.Next(noon - 1, kUtc), noon);
  EXPECT_EQ(e.Next(noon, kUtc), noon + kDay);
  EXPECT_EQ(e.Next(noon + 1, kUtc), noon + kDay);
}

TEST(CronCalendar, EndsOfTheTimestampRange) {
  const CronExpression e = Cron("* * * * *");
  EXPECT_EQ(e.Next(kInfiniteFuture, kUtc), kInfiniteFuture);
  EXPECT_EQ(e.Next(kInfiniteFuture - kMinute / 2, kUtc), kInfiniteFuture);
  // The last Timestamp falls on 294247-01-10; the next New Year is past it.
  EXPECT_EQ(Cron("0 0 1 1 *").Next(kInfiniteFuture - 5 * kDay, kUtc), kInfiniteFuture);
  EXPECT_EQ(Show(Cron("0 0 1 1 *").Next(kInfiniteFuture - 20 * kDay, kUtc), kUtc), "294247-01-01 00:00:00 +0000");
  const Timestamp earliest = std::numeric_limits<Timestamp>::min();
  const Timestamp first = e.Next(earliest, kUtc);
  EXPECT_GT(first, earliest);
  EXPECT_LE(first - earliest, kMinute);
  EXPECT_EQ(e.Next(-1, kUtc), 0);
  EXPECT_EQ(Fires("0 0 29 2 *", kUtc, Local(kUtc, 1899, 1, 1, 0, 0), 1), Strings{"1904-02-29 00:00:00 +0000"});
}

TEST(CronCalendar, PreviewCounts) {
  const CronExpression e = Cron("@hourly");
  EXPECT_TRUE(e.Preview(0, kUtc, 0).empty());
  EXPECT_TRUE(e.Preview(0, kUtc, -3).empty());
  const std::vector<Timestamp> hours = e.Preview(0, kUtc, 1000);
  ASSERT_EQ(hours.size(), 1000u);
  for (std::size_t i = 0; i < hours.size(); ++i) EXPECT_EQ(hours[i], static_cast<Timestamp>(i + 1) * kHour);
}

// --- Time zones without DST changes ----------------------------------------

TEST(CronZones, FixedOffsetZones) {
  const Timestamp after = Local(kUtc, 2026, 5, 4, 12, 0);
  EXPECT_EQ(Fires("0 9 * * *", Zone("Asia/Tokyo"), after, 1), Strings{"2026-05-05 09:00:00 +0900"});
  EXPECT_EQ(Cron("0 9 * * *").Next(after, Zone("Asia/Tokyo")), Local(kUtc, 2026, 5, 5, 0, 0));
  EXPECT_EQ(Cron("0 9 * * *").Next(after, Zone("Asia/Kolkata")), Local(kUtc, 2026, 5, 5, 3, 30));
  EXPECT_EQ(Cron("0 0 * * *").Next(after, Zone("Etc/GMT+5")), Local(kUtc, 2026, 5, 5, 5, 0));
}

TEST(CronZones, TheSameLocalTimeMovesInUtcWithTheSeasons) {
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  const CronExpression e = Cron("0 9 * * *");
  EXPECT_EQ(e.Next(Local(kUtc, 2026, 1, 10, 0, 0), berlin), Local(kUtc, 2026, 1, 10, 8, 0));
  EXPECT_EQ(e.Next(Local(kUtc, 2026, 7, 10, 0, 0), berlin), Local(kUtc, 2026, 7, 10, 7, 0));
}

// --- Daylight saving time ------------------------------------------------------

class CronDst : public ::testing::Test {
 protected:
  const absl::TimeZone ny_ = Zone("America/New_York");        // 2026-03-08 02:00->03:00, 2026-11-01 02:00->01:00
  const absl::TimeZone berlin_ = Zone("Europe/Berlin");       // 2026-03-29 02:00->03:00, 2026-10-25 03:00->02:00
  const absl::TimeZone lord_howe_ = Zone("Australia/Lord_Howe");  // 2026-04-05 02:00->01:30, 2026-10-04 02:00->02:30
};

TEST_F(CronDst, FixedTimeInTheSpringGapFiresWhenTheGapEnds) {
  EXPECT_EQ(Fires("30 2 * * *", ny_, Local(ny_, 2026, 3, 6, 12, 0), 3),
            (Strings{"2026-03-07 02:30:00 -0500", "2026-03-08 03:00:00 -0400", "2026-03-09 02:30:00 -0400"}));
  EXPECT_EQ(Cron("30 2 * * *").Next(Local(ny_, 2026, 3, 7, 12, 0), ny_), Local(kUtc, 2026, 3, 8, 7, 0));
  // Several skipped times fire once; a job at the gap's end fires there too.
  EXPECT_EQ(Fires("0,15,30,45 2 * * *", ny_, Local(ny_, 2026, 3, 8, 1, 0), 2),
            (Strings{"2026-03-08 03:00:00 -0400", "2026-03-09 02:00:00 -0400"}));
  EXPECT_EQ(Fires("30 2,3 * * *", ny_, Local(ny_, 2026, 3, 8, 1, 0), 3),
            (Strings{"2026-03-08 03:00:00 -0400", "2026-03-08 03:30:00 -0400", "2026-03-09 02:30:00 -0400"}));
  EXPECT_EQ(Fires("0 3 * * *", ny_, Local(ny_, 2026, 3, 8, 1, 0), 1), Strings{"2026-03-08 03:00:00 -0400"});
}

TEST_F(CronDst, WildcardJobsSkipTheSpringGap) {
  EXPECT_EQ(Fires("0 * * * *", ny_, Local(ny_, 2026, 3, 8, 0, 30), 3),
            (Strings{"2026-03-08 01:00:00 -0500", "2026-03-08 03:00:00 -0400", "2026-03-08 04:00:00 -0400"}));
  EXPECT_EQ(Fires("*/30 * * * *", ny_, Local(ny_, 2026, 3, 8, 0, 45), 4),
            (Strings{"2026-03-08 01:00:00 -0500", "2026-03-08 01:30:00 -0500", "2026-03-08 03:00:00 -0400",
                     "2026-03-08 03:30:00 -0400"}));
  // Every minute of 02:xx, which does not exist on the 8th.
  EXPECT_EQ(Fires("* 2 * * *", ny_, Local(ny_, 2026, 3, 8, 1, 58), 2),
            (Strings{"2026-03-09 02:00:00 -0400", "2026-03-09 02:01:00 -0400"}));
}

TEST_F(CronDst, FixedTimeInTheAutumnRepeatFiresOnce) {
  const CronExpression e = Cron("30 1 * * *");
  EXPECT_EQ(Fires("30 1 * * *", ny_, Local(ny_, 2026, 10, 31, 12, 0), 3),
            (Strings{"2026-11-01 01:30:00 -0400", "2026-11-02 01:30:00 -0500", "2026-11-03 01:30:00 -0500"}));
  const Timestamp first = Local(kUtc, 2026, 11, 1, 5, 30);  // 01:30 EDT
  EXPECT_EQ(e.Next(first - 1, ny_), first);
  // Between the two passes, and during the second pass, it waits for tomorrow.
  EXPECT_EQ(Show(e.Next(first + 15 * kMinute, ny_), ny_), "2026-11-02 01:30:00 -0500");
  EXPECT_EQ(Show(e.Next(Local(kUtc, 2026, 11, 1, 6, 10), ny_), ny_), "2026-11-02 01:30:00 -0500");
  // Every minute of the hour, fixed: nothing in the second pass.
  EXPECT_EQ(Show(Cron("0-59 1 * * *").Next(Local(kUtc, 2026, 11, 1, 6, 10), ny_), ny_),
            "2026-11-02 01:00:00 -0500");
  EXPECT_EQ(Fires("59 1 * * *", ny_, Local(kUtc, 2026, 11, 1, 5, 58) + 30 * kSecond, 2),
            (Strings{"2026-11-01 01:59:00 -0400", "2026-11-02 01:59:00 -0500"}));
}

TEST_F(CronDst, WildcardJobsFireInBothPassesOfTheAutumnRepeat) {
  EXPECT_EQ(Fires("0 * * * *", ny_, Local(ny_, 2026, 11, 1, 0, 30), 3),
            (Strings{"2026-11-01 01:00:00 -0400", "2026-11-01 01:00:00 -0500", "2026-11-01 02:00:00 -0500"}));
  EXPECT_EQ(Fires("@hourly", ny_, Local(kUtc, 2026, 11, 1, 5, 50), 2),
            (Strings{"2026-11-01 01:00:00 -0500", "2026-11-01 02:00:00 -0500"}));
  // From late in the first pass: the rest of it, then the second pass.
  EXPECT_EQ(Fires("*/20 * * * *", ny_, Local(kUtc, 2026, 11, 1, 5, 30), 5),
            (Strings{"2026-11-01 01:40:00 -0400", "2026-11-01 01:00:00 -0500", "2026-11-01 01:20:00 -0500",
                     "2026-11-01 01:40:00 -0500", "2026-11-01 02:00:00 -0500"}));
  EXPECT_EQ(Fires("* 1 * * *", ny_, Local(kUtc, 2026, 11, 1, 5, 58) + 30 * kSecond, 3),
            (Strings{"2026-11-01 01:59:00 -0400", "2026-11-01 01:00:00 -0500", "2026-11-01 01:01:00 -0500"}));
  EXPECT_EQ(Fires("15 * * * *", ny_, Local(kUtc, 2026, 11, 1, 5, 16), 2),
            (Strings{"2026-11-01 01:15:00 -0500", "2026-11-01 02:15:00 -0500"}));
}

TEST_F(CronDst, BerlinSpringAndAutumn) {
  EXPECT_EQ(Fires("30 2 * * *", berlin_, Local(berlin_, 2026, 3, 28, 12, 0), 2),
            (Strings{"2026-03-29 03:00:00 +0200", "2026-03-30 02:30:00 +0200"}));
  EXPECT_EQ(Fires("30 * * * *", berlin_, Local(berlin_, 2026, 3, 29, 1, 0), 2),
            (Strings{"2026-03-29 01:30:00 +0100", "2026-03-29 03:30:00 +0200"}));
  EXPECT_EQ(Fires("30 2 * * *", berlin_, Local(berlin_, 2026, 10, 24, 12, 0), 2),
            (Strings{"2026-10-25 02:30:00 +0200", "2026-10-26 02:30:00 +0100"}));
  EXPECT_EQ(Fires("15 * * * *", berlin_, Local(berlin_, 2026, 10, 25, 1, 30), 4),
            (Strings{"2026-10-25 02:15:00 +0200", "2026-10-25 02:15:00 +0100", "2026-10-25 03:15:00 +0100",
                     "2026-10-25 04:15:00 +0100"}));
}

TEST_F(CronDst, LordHoweShiftsByHalfAnHour) {
  // Spring (October): 02:00-02:30 does not exist.
  EXPECT_EQ(Fires("15 2 * * *", lord_howe_, Local(lord_howe_, 2026, 10, 3, 12, 0), 2),
            (Strings{"2026-10-04 02:30:00 +1100", "2026-10-05 02:15:00 +1100"}));
  EXPECT_EQ(Fires("0,30 * * * *", lord_howe_, Local(lord_howe_, 2026, 10, 4, 1, 0), 3),
            (Strings{"2026-10-04 01:30:00 +1030", "2026-10-04 02:30:00 +1100", "2026-10-04 03:00:00 +1100"}));
  // Autumn (April): 01:30-02:00 happens twice.
  EXPECT_EQ(Fires("45 1 * * *", lord_howe_, Local(lord_howe_, 2026, 4, 4, 12, 0), 2),
            (Strings{"2026-04-05 01:45:00 +1100", "2026-04-06 01:45:00 +1030"}));
  EXPECT_EQ(Fires("*/15 1 * * *", lord_howe_, Local(lord_howe_, 2026, 4, 5, 1, 20), 4),
            (Strings{"2026-04-05 01:30:00 +1100", "2026-04-05 01:45:00 +1100", "2026-04-05 01:30:00 +1030",
                     "2026-04-05 01:45:00 +1030"}));
}

TEST_F(CronDst, RulesHoldCenturiesAhead) {
  // tzdata lists transitions to 2037; absl extends the zone's rule beyond.
  // 2500-03-14 is the second Sunday of March.
  EXPECT_EQ(Fires("0 * * * *", ny_, Local(ny_, 2500, 3, 14, 0, 30), 3),
            (Strings{"2500-03-14 01:00:00 -0500", "2500-03-14 03:00:00 -0400", "2500-03-14 04:00:00 -0400"}));
  EXPECT_EQ(Fires("30 2 14 3 *", ny_, Local(ny_, 2499, 4, 1, 0, 0), 1), Strings{"2500-03-14 03:00:00 -0400"});
}

// --- Errors -------------------------------------------------------------------------

absl::Status ParseError(std::string_view text) { return CronExpression::Parse(text).status(); }

TEST(CronErrors, FieldCount) {
  EXPECT_TRUE(FailsWithMessage(ParseError("* * *"), "cron \"* * *\": expected 5 fields, found 3"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 * * * * *"), "cron \"0 * * * * *\": expected 5 fields, found 6"));
  EXPECT_TRUE(FailsWithMessage(ParseError(""), "cron \"\": expected 5 fields, found 0"));
  EXPECT_TRUE(FailsWithMessage(ParseError("   "), "cron \"   \": expected 5 fields, found 0"));
}

TEST(CronErrors, ValuesOutsideEachFieldsRange) {
  EXPECT_TRUE(FailsWithMessage(ParseError("61 * * * *"), "cron \"61 * * * *\": minute field \"61\": 61 is outside 0-59"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 24 * * *"), "cron \"0 24 * * *\": hour field \"24\": 24 is outside 0-23"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 0 * *"),
                               "cron \"0 0 0 * *\": day-of-month field \"0\": 0 is outside 1-31"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 1-32 * *"),
                               "cron \"0 0 1-32 * *\": day-of-month field \"1-32\": 32 is outside 1-31"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * 13 *"), "cron \"0 0 * 13 *\": month field \"13\": 13 is outside 1-12"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * 0 *"), "cron \"0 0 * 0 *\": month field \"0\": 0 is outside 1-12"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * * 8"),
                               "cron \"0 0 * * 8\": day-of-week field \"8\": 8 is outside 0-7"));
  EXPECT_TRUE(FailsWithMessage(ParseError("99999999999 * * * *"),
                               "cron \"99999999999 * * * *\": minute field \"99999999999\": 99999999999 is outside 0-59"));
}

TEST(CronErrors, Steps) {
  EXPECT_TRUE(FailsWithMessage(ParseError("*/0 * * * *"), "cron \"*/0 * * * *\": minute field \"*/0\": step must be >= 1"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0-12/0 * * *"),
                               "cron \"0 0-12/0 * * *\": hour field \"0-12/0\": step must be >= 1"));
  EXPECT_TRUE(FailsWithMessage(ParseError("*/90 * * * *"),
                               "cron \"*/90 * * * *\": minute field \"*/90\": step 90 is outside 1-60"));
  EXPECT_TRUE(FailsWithMessage(ParseError("*/ * * * *"),
                               "cron \"*/ * * * *\": minute field \"*/\": \"*/\" is missing a step after \"/\""));
  EXPECT_TRUE(FailsWithMessage(ParseError("*/x * * * *"),
                               "cron \"*/x * * * *\": minute field \"*/x\": step \"x\" is not a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("5/10 * * * *"),
                               "cron \"5/10 * * * *\": minute field \"5/10\": a step needs a range or \"*\", as in 5-59/10"));
  EXPECT_TRUE(FailsWithMessage(ParseError("*/5/2 * * * *"),
                               "cron \"*/5/2 * * * *\": minute field \"*/5/2\": unexpected \"/2\" in \"*/5/2\""));
}

TEST(CronErrors, Ranges) {
  EXPECT_TRUE(FailsWithMessage(ParseError("5-3 * * * *"), "cron \"5-3 * * * *\": minute field \"5-3\": range 5-3 is reversed"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * * FRI-MON"),
                               "cron \"0 0 * * FRI-MON\": day-of-week field \"FRI-MON\": range FRI-MON is reversed"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * * 5-0"),
                               "cron \"0 0 * * 5-0\": day-of-week field \"5-0\": range 5-0 is reversed"));
  EXPECT_TRUE(FailsWithMessage(ParseError("5- * * * *"), "cron \"5- * * * *\": minute field \"5-\": \"5-\" is missing a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("-5 * * * *"),
                               "cron \"-5 * * * *\": minute field \"-5\": unexpected \"-\" in \"-5\""));
}

TEST(CronErrors, Lists) {
  EXPECT_TRUE(FailsWithMessage(ParseError("1,,2 * * * *"), "cron \"1,,2 * * * *\": minute field \"1,,2\": empty list item"));
  EXPECT_TRUE(FailsWithMessage(ParseError("1, * * * *"), "cron \"1, * * * *\": minute field \"1,\": empty list item"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 ,1 * * *"), "cron \"0 ,1 * * *\": hour field \",1\": empty list item"));
}

TEST(CronErrors, Garbage) {
  EXPECT_TRUE(FailsWithMessage(ParseError("abc * * * *"), "cron \"abc * * * *\": minute field \"abc\": \"abc\" is not a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("5x * * * *"), "cron \"5x * * * *\": minute field \"5x\": \"5x\" is not a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("*5 * * * *"), "cron \"*5 * * * *\": minute field \"*5\": unexpected \"5\" in \"*5\""));
  EXPECT_TRUE(FailsWithMessage(ParseError("JAN * * * *"), "cron \"JAN * * * *\": minute field \"JAN\": \"JAN\" is not a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * FOO *"),
                               "cron \"0 0 * FOO *\": month field \"FOO\": \"FOO\" is not a number or month name"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * JUNE *"),
                               "cron \"0 0 * JUNE *\": month field \"JUNE\": \"JUNE\" is not a number or month name"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * * MOX"),
                               "cron \"0 0 * * MOX\": day-of-week field \"MOX\": \"MOX\" is not a number or day name"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 ? * MON"),
                               "cron \"0 0 ? * MON\": day-of-month field \"?\": unexpected \"?\" in \"?\""));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 L * *"), "cron \"0 0 L * *\": day-of-month field \"L\": \"L\" is not a number"));
  EXPECT_TRUE(FailsWithMessage(ParseError("0 0 * * 1#2"),
                               "cron \"0 0 * * 1#2\": day-of-week field \"1#2\": unexpected \"#2\" in \"1#2\""));
  // Unprintable bytes are escaped in the message.
  EXPECT_TRUE(FailsWithMessage(ParseError("0\x01 * * * *"),
                               "cron \"0\\x01 * * * *\": minute field \"0\\x01\": unexpected \"\\x01\" in \"0\\x01\""));
}

TEST(CronErrors, Macros) {
  EXPECT_TRUE(FailsWithMessage(ParseError("@reboot"),
                               "cron \"@reboot\": unknown macro \"@reboot\"; expected @hourly, @daily, @midnight, "
                               "@weekly, @monthly, @yearly or @annually"));
  EXPECT_TRUE(FailsWithMessage(ParseError("@daily *"), "cron \"@daily *\": a macro such as @daily stands alone"));
}

TEST(CronErrors, TooLong) {
  const std::string text(2000, '*');
  EXPECT_TRUE(FailsWithMessage(ParseError(text), "cron \"" + std::string(32, '*') + "...\": 2000 characters; at most 1024"));
}

TEST(CronTimeZones, LoadsIanaNames) {
  for (const char* name : {"UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                           "America/Argentina/Buenos_Aires", "Etc/GMT+5"}) {
    const auto tz = LoadTimeZone(name);
    ASSERT_TRUE(tz.ok()) << name << ": " << tz.status();
    EXPECT_EQ(tz->name(), name);
  }
}

TEST(CronTimeZones, RejectsUnknownNamesAndPaths) {
  EXPECT_TRUE(FailsWithMessage(LoadTimeZone("Mars/Base").status(), "time zone \"Mars/Base\": unknown IANA time zone"));
  for (const char* name : {"", "/etc/localtime", "localtime", "../../etc/localtime", "Europe/../Europe/Berlin",
                           "Europe//Berlin", "right/UTC", "EST5EDT,M3.2.0,M11.1.0", "Fixed/UTC+01:00:00",
                           "file:/etc/localtime", "Europe/Berlin/"}) {
    const auto tz = LoadTimeZone(name);
    EXPECT_FALSE(tz.ok()) << name;
    EXPECT_EQ(tz.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

// --- Properties against a minute-by-minute reference -----------------------------

// A random field: its text and the values it stands for.
struct GenField {
  std::string text;
  std::bitset<64> values;
};

GenField RandomField(int low, int high, bool names_allowed, const char* const* names, int star_percent) {
  GenField f;
  if (*rc::gen::inRange(0, 100) < star_percent) {
    f.text = "*";
    for (int v = low; v <= high; ++v) f.values.set(v);
    return f;
  }
  const auto value_text = [&](int v) {
    if (names_allowed && names != nullptr && v - low < (high == 7 ? 7 : 12) && *rc::gen::inRange(0, 3) == 0)
      return std::string(names[v - low]);
    return std::to_string(v);
  };
  const int items = *rc::gen::inRange(1, 4);
  for (int i = 0; i < items; ++i) {
    if (i > 0) f.text += ',';
    const int kind = *rc::gen::inRange(0, 5);
    int a = *rc::gen::inRange(low, high + 1);
    int b = *rc::gen::inRange(a, high + 1);
    const int step = *rc::gen::inRange(1, std::min(high - low + 1, 13) + 1);
    if (kind == 0) {  // "*/n"
      f.text += "*/" + std::to_string(step);
      a = low, b = high;
    } else if (kind == 1) {  // "a"
      f.text += value_text(a);
      b = a;
    } else if (kind == 2) {  // "a-b"
      f.text += value_text(a) + "-" + value_text(b);
    } else {  // "a-b/n"
      f.text += value_text(a) + "-" + value_text(b) + "/" + std::to_string(step);
    }
    for (int v = a; v <= b; v += (kind == 0 || kind >= 3) ? step : 1) f.values.set(v);
  }
  return f;
}

const char* const kMonthNames[] = {"JAN", "feb", "Mar", "APR", "may", "JUN", "jul", "AUG", "sep", "OCT", "nov", "DEC"};
const char* const kDayNames[] = {"SUN", "mon", "Tue", "WED", "thu", "FRI", "sat"};

struct GenCron {
  std::string text;
  GenField f[5];
  bool fixed_time() const { return f[0].text[0] != '*' && f[1].text[0] != '*'; }

  bool Matches(absl::CivilMinute c) const {
    if (!f[0].values[c.minute()] || !f[1].values[c.hour()] || !f[3].values[c.month()]) return false;
    const int weekday = (static_cast<int>(absl::GetWeekday(c)) + 1) % 7;  // absl: Monday = 0
    const bool by_weekday = f[4].values[weekday] || (weekday == 0 && f[4].values[7]);
    const bool by_day = f[2].values[c.day()];
    if (f[2].text[0] == '*' || f[4].text[0] == '*') return by_day && by_weekday;
    return by_day || by_weekday;
  }
};

// Frequent schedules: mostly stars in the slow fields so that a firing is
// usually within the reference's window.
GenCron RandomCron() {
  GenCron g;
  g.f[0] = RandomField(0, 59, false, nullptr, 30);
  g.f[1] = RandomField(0, 23, false, nullptr, 40);
  g.f[2] = RandomField(1, 31, false, nullptr, 70);
  g.f[3] = RandomField(1, 12, true, kMonthNames, 80);
  g.f[4] = RandomField(0, 7, true, kDayNames, 60);
  g.text = g.f[0].text + " " + g.f[1].text + " " + g.f[2].text + " " + g.f[3].text + " " + g.f[4].text;
  return g;
}

// The rules of cron.h, applied to every civil minute from a day before
// `after` to `days` after it: the earliest firing later than `after`, if any.
std::optional<Timestamp> ReferenceNext(const GenCron& g, Timestamp after, const absl::TimeZone& tz, int days) {
  const absl::Time at = absl::FromUnixMicros(after);
  const absl::CivilMinute start = absl::CivilMinute(tz.At(at).cs) - 24 * 60;
  std::optional<Timestamp> best;
  for (absl::CivilMinute c = start; c < start + (days + 1) * 24 * 60; ++c) {
    if (!g.Matches(c)) continue;
    const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(c));
    std::vector<absl::Time> instants;
    switch (info.kind) {
      case absl::TimeZone::TimeInfo::UNIQUE: instants = {info.pre}; break;
      case absl::TimeZone::TimeInfo::SKIPPED:
        if (g.fixed_time()) instants = {info.trans};
        break;
      case absl::TimeZone::TimeInfo::REPEATED:
        instants = {info.pre};
        if (!g.fixed_time()) instants.push_back(info.post);
        break;
    }
    for (absl::Time t : instants) {
      const Timestamp ts = absl::ToUnixMicros(t);
      if (ts > after && (!best || ts < *best)) best = ts;
    }
  }
  return best;
}

Timestamp RandomInstant(Timestamp from, Timestamp to) {
  Timestamp t = *rc::gen::inRange<Timestamp>(from, to);
  switch (*rc::gen::inRange(0, 3)) {
    case 0: t -= t % kMinute; break;                  // on a whole minute
    case 1: t -= t % kMinute + kMicrosecond; break;   // just before one
    default: break;
  }
  return t;
}

RC_GTEST_PROP(CronProperties, NextInUtcIsTheFirstMatchingMinuteAfter, ()) {
  const GenCron g = RandomCron();
  const auto parsed = CronExpression::Parse(g.text);
  RC_ASSERT(parsed.ok());
  const Timestamp after = RandomInstant(Local(kUtc, 1900, 1, 1, 0, 0), Local(kUtc, 2100, 1, 1, 0, 0));
  const Timestamp next = parsed->Next(after, kUtc);
  RC_ASSERT(next > after);
  if (next != kInfiniteFuture) {
    const absl::CivilSecond cs = kUtc.At(absl::FromUnixMicros(next)).cs;
    RC_ASSERT(cs.second() == 0);
    RC_ASSERT(next % kMinute == 0);
    RC_ASSERT(g.Matches(absl::CivilMinute(cs)));
  }
  constexpr int kDays = 40;
  const std::optional<Timestamp> expected = ReferenceNext(g, after, kUtc, kDays);
  if (expected) {
    RC_ASSERT(next == *expected);
  } else {
    RC_ASSERT(next > after + (kDays - 1) * kDay);
  }
}

RC_GTEST_PROP(CronProperties, NextAroundDstChangesFollowsTheRules, ()) {
  const absl::TimeZone tz = Zone(*rc::gen::element<std::string>("America/New_York", "Europe/Berlin",
                                                                 "Australia/Lord_Howe", "America/Sao_Paulo",
                                                                 "Asia/Tehran", "Pacific/Apia"));
  // Near one of the zone's offset changes between 1990 and 2030.
  const Timestamp year = Local(kUtc, *rc::gen::inRange(1990, 2031), 1, 1, 0, 0);
  absl::TimeZone::CivilTransition transition;
  RC_PRE(tz.NextTransition(absl::FromUnixMicros(year), &transition));
  const Timestamp change = absl::ToUnixMicros(tz.At(transition.to).trans);
  GenCron g = RandomCron();
  if (*rc::gen::arbitrary<bool>()) {
    // Daily in the hours that are skipped or repeated (a fixed-time job unless
    // the minute field has a star), or every hour (a wildcard job).
    const int a = std::min(transition.from.hour(), transition.to.hour());
    const int b = std::max(transition.from.hour(), transition.to.hour());
    if (*rc::gen::arbitrary<bool>()) {
      g.f[1] = {std::to_string(a) + "-" + std::to_string(b), {}};
      for (int h = a; h <= b; ++h) g.f[1].values.set(h);
    } else {
      g.f[1] = {"*", std::bitset<64>().set()};
    }
    g.f[2] = g.f[3] = g.f[4] = {"*", std::bitset<64>().set()};
    g.text = g.f[0].text + " " + g.f[1].text + " * * *";
  }
  const auto parsed = CronExpression::Parse(g.text);
  RC_ASSERT(parsed.ok());
  // Several instants per schedule, most of them within two hours of the change.
  for (int i = 0; i < 6; ++i) {
    const Timestamp after = i == 0 ? RandomInstant(change - 2 * kDay, change + kDay)
                                   : RandomInstant(change - 2 * kHour, change + 2 * kHour);
    const Timestamp next = parsed->Next(after, tz);
    RC_ASSERT(next > after);
    constexpr int kDays = 10;
    const std::optional<Timestamp> expected = ReferenceNext(g, after, tz, kDays);
    if (expected) {
      RC_ASSERT(next == *expected);
    } else {
      RC_ASSERT(next > after + (kDays - 2) * kDay);
    }
  }
}

RC_GTEST_PROP(CronProperties, PreviewIsAscendingAndChainsNext, ()) {
  const GenCron g = RandomCron();
  const CronExpression e = CronExpression::Parse(g.text).value();
  const absl::TimeZone tz = Zone(*rc::gen::element<std::string>("UTC", "Europe/Berlin", "America/New_York"));
  const Timestamp after = RandomInstant(Local(kUtc, 1970, 1, 1, 0, 0), Local(kUtc, 2100, 1, 1, 0, 0));
  const std::vector<Timestamp> preview = e.Preview(after, tz, 6);
  Timestamp previous = after;
  for (Timestamp t : preview) {
    RC_ASSERT(t > previous);
    RC_ASSERT(t == e.Next(previous, tz));
    previous = t;
  }
}

RC_GTEST_PROP(CronProperties, ArbitraryTextIsParsedOrRejectedAsInvalidArgument, ()) {
  std::string text;
  const int n = *rc::gen::inRange(0, 40);
  for (int i = 0; i < n; ++i)
    text += *rc::gen::element<std::string>("*", "/", "-", ",", " ", "0", "1", "7", "12", "59", "60", "MON", "jan",
                                           "@", "daily", "x", "\t", "L", "?");
  const auto parsed = CronExpression::Parse(text);
  if (!parsed.ok()) {
    RC_ASSERT(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    RC_ASSERT(std::string(parsed.status().message()).starts_with("cron \""));
  } else {
    RC_ASSERT(parsed->Next(0, kUtc) > 0);
  }
}

}  // namespace
}  // namespace mlsched
