// Cron expressions: parsing into bitmasks and the next-firing search.
//
// Assumptions: the Gregorian calendar (proleptic, also before 1582) and
// absl's reading of tzdata, whose offsets change only on whole seconds.
//
// Next(after, tz) in a few lines:
//   1. Read the local civil time of `after`; the first candidate is the next
//      whole local minute.
//   2. Skip ahead over the bitmasks in civil time: the next allowed month,
//      then a matching day in it (day-of-month and weekday masks combined for
//      that month), then hour, then minute. This is pure arithmetic.
//   3. Convert the civil minute found to an instant with absl's
//      TimeZone::At(CivilSecond), which says whether it is UNIQUE, SKIPPED by
//      a gap or REPEATED by a fall-back, and apply the DST rules of cron.h:
//      a fixed-time job takes the instant after a gap and the first of two
//      repeats; a wildcard job skips gap minutes and takes either repeat.
//      If the conversion yields nothing later than `after`, continue in
//      civil time past the gap or repeated stretch.
//   A wildcard job whose `after` lies in the first pass of a repeated stretch
//   has one more case: minutes already passed come round again, so the rest
//   of the first pass, then the second pass, are searched before step 2.
// Every step moves forward in civil time and the search stops 400 civil
// years after its start (the calendar's period), so it always ends.
#include "mlsched/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/time/civil_time.h"
#include "fmt/format.h"

namespace mlsched {

namespace cron_internal {
struct Civil {
  std::int64_t year;
  int month, day, hour, minute;
  friend auto operator<=>(const Civil&, const Civil&) = default;
};
}  // namespace cron_internal

namespace {

using cron_internal::Civil;

constexpr std::size_t kMaxTextLength = 1024;
constexpr std::int64_t kSearchYears = 400;  // the Gregorian calendar repeats after 400 years

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int low;
  int high;
  const std::string_view* names;  // names[i] stands for low + i; null: numbers only
  int name_count;
  std::string_view name_kind;
};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0, ""},
    {"hour", 0, 23, nullptr, 0, ""},
    {"day-of-month", 1, 31, nullptr, 0, ""},
    {"month", 1, 12, kMonthNames.data(), 12, "month name"},
    {"day-of-week", 0, 7, kDayNames.data(), 7, "day name"},
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quote(std::string_view s) { return absl::CHexEscape(absl::string_view(s.data(), s.size())); }

// A number of at most 9 digits, or -1 (too long or not all digits).
int ToNumber(std::string_view token) {
  if (token.empty() || token.size() > 9) return -1;
  int value = 0;
  for (char c : token) {
    if (!IsDigit(c)) return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool AllDigits(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), IsDigit);
}

// Reads one value of a field (a number or a name) from the front of `rest`.
// Returns "" and sets *value, or the reason it is not one.
std::string ReadValue(const FieldSpec& spec, std::string_view item, std::string_view* rest, int* value) {
  std::size_t n = 0;
  while (n < rest->size() && IsAlnum((*rest)[n])) ++n;
  const std::string_view token = rest->substr(0, n);
  rest->remove_prefix(n);
  if (token.empty()) {
    if (rest->empty()) return fmt::format("\"{}\" is missing a number", Quote(item));
    return fmt::format("unexpected \"{}\" in \"{}\"", Quote(rest->substr(0, 1)), Quote(item));
  }
  if (AllDigits(token)) {
    const int v = ToNumber(token);
    if (v < spec.low || v > spec.high)
      return fmt::format("{} is outside {}-{}", Quote(token), spec.low, spec.high);
    *value = v;
    return "";
  }
  if (spec.names != nullptr && token.size() == 3) {
    for (int i = 0; i < spec.name_count; ++i) {
      const std::string_view name = spec.names[i];
      bool same = true;
      for (int k = 0; k < 3; ++k)
        same = same && std::toupper(static_cast<unsigned char>(token[k])) == name[k];
      if (same) {
        *value = spec.low + i;
        return "";
      }
    }
  }
  if (spec.names != nullptr) return fmt::format("\"{}\" is not a number or {}", Quote(token), spec.name_kind);
  return fmt::format("\"{}\" is not a number", Quote(token));
}

// One list item: '*', '*/n', 'a', 'a-b' or 'a-b/n'. Adds its values to *bits.
std::string ParseItem(const FieldSpec& spec, std::string_view item, std::uint64_t* bits) {
  if (item.empty()) return "empty list item";
  int low = spec.low;
  int high = spec.high;
  int step = 1;
  std::string_view rest = item;
  bool range = false;
  if (rest.front() == '*') {
    rest.remove_prefix(1);
    range = true;
  } else {
    std::string error = ReadValue(spec, item, &rest, &low);
    if (!error.empty()) return error;
    high = low;
    if (!rest.empty() && rest.front() == '-') {
      const std::string_view first_text = item.substr(0, item.size() - rest.size());
      rest.remove_prefix(1);
      const std::size_t before = rest.size();
      error = ReadValue(spec, item, &rest, &high);
      if (!error.empty()) return error;
      const std::string_view second_text = item.substr(item.size() - before, before - rest.size());
      // "FRI-SUN": a weekday range may end on Sunday by name.
      if (spec.high == 7 && high == 0 && low > 0 && !AllDigits(second_text)) high = 7;
      if (high < low) return fmt::format("range {}-{} is reversed", Quote(first_text), Quote(second_text));
      range = true;
    }
  }
  if (!rest.empty() && rest.front() == '/') {
    if (!range) {
      return fmt::format("a step needs a range or \"*\", as in {}-{}{}",
                         Quote(item.substr(0, item.size() - rest.size())), spec.high, Quote(rest));
    }
    rest.remove_prefix(1);
    std::size_t n = 0;
    while (n < rest.size() && IsAlnum(rest[n])) ++n;
    const std::string_view token = rest.substr(0, n);
    rest.remove_prefix(n);
    if (token.empty() && rest.empty()) return fmt::format("\"{}\" is missing a step after \"/\"", Quote(item));
    if (!token.empty()) {
      if (!AllDigits(token)) return fmt::format("step \"{}\" is not a number", Quote(token));
      step = ToNumber(token);
      const int span = spec.high - spec.low + 1;
      if (step == 0) return "step must be >= 1";
      if (step < 0 || step > span) return fmt::format("step {} is outside 1-{}", Quote(token), span);
    }
  }
  if (!rest.empty()) return fmt::format("unexpected \"{}\" in \"{}\"", Quote(rest), Quote(item));
  for (int v = low; v <= high; v += step) *bits |= std::uint64_t{1} << v;
  return "";
}

std::string ParseField(const FieldSpec& spec, std::string_view field, std::uint64_t* bits) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = field.find(',', start);
    const std::string_view item =
        field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string error = ParseItem(spec, item, bits);
    if (!error.empty()) return error;
    if (comma == std::string_view::npos) return "";
    start = comma + 1;
  }
}

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr Macro kMacros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01, proleptic Gregorian.
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(std::int64_t y, int m) {
  static constexpr int kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m];
}

Civil ToCivil(absl::CivilMinute c) {
  return {c.year(), c.month(), c.day(), c.hour(), c.minute()};
}

absl::CivilSecond ToAbsl(const Civil& c) { return absl::CivilSecond(c.year, c.month, c.day, c.hour, c.minute, 0); }

// The first whole minute at or after `s`.
Civil CeilMinute(absl::CivilSecond s) {
  const absl::CivilMinute m(s);
  return ToCivil(absl::CivilSecond(m) == s ? m : m + 1);
}

// Instants here are whole seconds; past the last Timestamp is "never".
Timestamp ToTimestamp(absl::Time t) {
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<Timestamp>::max() / kSecond;
  const std::int64_t seconds = absl::ToUnixSeconds(t);
  if (seconds >= kMaxSeconds) return kInfiniteFuture;
  return absl::ToUnixMicros(t);
}

}  // namespace

absl::StatusOr<CronExpression> CronExpression::Parse(std::string_view text) {
  if (text.size() > kMaxTextLength) {
    return absl::InvalidArgumentError(fmt::format("cron \"{}...\": {} characters; at most {}",
                                                  Quote(text.substr(0, 32)), text.size(), kMaxTextLength));
  }
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("cron \"{}\": {}", Quote(text), why));
  };
  std::string_view body = text;
  while (!body.empty() && IsSpace(body.front())) body.remove_prefix(1);
  while (!body.empty() && IsSpace(body.back())) body.remove_suffix(1);
  if (!body.empty() && body.front() == '@') {
    if (std::any_of(body.begin(), body.end(), IsSpace)) return bad("a macro such as @daily stands alone");
    for (const Macro& macro : kMacros) {
      if (!EqualsIgnoreCase(body, macro.name)) continue;
      auto parsed = Parse(macro.fields);
      if (parsed.ok()) parsed->text_ = std::string(text);
      return parsed;
    }
    return bad(fmt::format("unknown macro \"{}\"; expected @hourly, @daily, @midnight, @weekly, @monthly, "
                           "@yearly or @annually",
                           Quote(body)));
  }

  std::array<std::string_view, 5> fields;
  std::size_t count = 0;
  for (std::size_t i = 0; i < body.size();) {
    if (IsSpace(body[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < body.size() && !IsSpace(body[j])) ++j;
    if (count < fields.size()) fields[count] = body.substr(i, j - i);
    ++count;
    i = j;
  }
  if (count != 5) return bad(fmt::format("expected 5 fields, found {}", count));

  std::array<std::uint64_t, 5> bits{};
  for (int f = 0; f < 5; ++f) {
    const std::string error = ParseField(kFields[f], fields[f], &bits[f]);
    if (!error.empty()) return bad(fmt::format("{} field \"{}\": {}", kFields[f].name, Quote(fields[f]), error));
  }

  CronExpression e;
  e.text_ = std::string(text);
  e.minutes_ = bits[0];
  e.hours_ = static_cast<std::uint32_t>(bits[1]);
  e.days_ = static_cast<std::uint32_t>(bits[2]);
  e.months_ = static_cast<std::uint16_t>(bits[3]);
  // Day-of-week 7 is Sunday, like 0.
  e.weekdays_ = static_cast<std::uint8_t>((bits[4] | (bits[4] >> 7)) & 0x7F);
  // Vixie cron: a field "starts with '*'" when it is unrestricted for the
  // day rule ("*/2" counts) and when it makes a job a wildcard job.
  const bool day_star = fields[2].front() == '*';
  const bool weekday_star = fields[4].front() == '*';
  e.day_or_ = !day_star && !weekday_star;
  e.fixed_time_ = fields[0].front() != '*' && fields[1].front() != '*';
  // Every (month, day) pair that exists in some year falls on every weekday
  // within 400 years, so only the OR rule's weekday side or a day that some
  // chosen month has can make the expression fire.
  bool some_day = e.day_or_;
  for (int m = 1; m <= 12 && !some_day; ++m) {
    if ((e.months_ >> m & 1) == 0) continue;
    const int longest = m == 2 ? 29 : DaysInMonth(2001, m);
    some_day = (e.days_ & ((std::uint64_t{2} << longest) - 2)) != 0;
  }
  e.never_ = !some_day;
  return e;
}

// Bit d set: day d of that month matches the day-of-month and weekday rule.
std::uint64_t CronExpression::DayMask(std::int64_t year, int month) const {
  const int first_weekday = static_cast<int>(((DaysFromCivil(year, month, 1) + 4) % 7 + 7) % 7);  // 0: Sunday
  // Bit k of `week`: weekday of day k+1 is allowed.
  const std::uint64_t week = ((weekdays_ | (std::uint64_t{weekdays_} << 7)) >> first_weekday) & 0x7F;
  const std::uint64_t by_weekday = (week | week << 7 | week << 14 | week << 21 | week << 28) << 1;
  const std::uint64_t by_day = days_;
  const std::uint64_t valid = (std::uint64_t{2} << DaysInMonth(year, month)) - 2;
  return (day_or_ ? (by_day | by_weekday) : (by_day & by_weekday)) & valid;
}

// The first matching civil minute in [from, limit), skipping ahead field by
// field. `from` must be a valid civil minute.
bool CronExpression::FindMatch(const Civil& from, const Civil& limit, Civil* out) const {
  std::int64_t y = from.year;
  int mo = from.month, d = from.day, h = from.hour, mi = from.minute;
  for (;;) {
    const std::uint32_t month_bits = months_ & (~std::uint32_t{0} << mo);  // mo may be 13
    if (month_bits == 0) {
      ++y;
      mo = 1, d = 1, h = 0, mi = 0;
      if (y > limit.year) return false;
      continue;
    }
    const int next_month = std::countr_zero(month_bits);
    if (next_month != mo) mo = next_month, d = 1, h = 0, mi = 0;
    if (y > limit.year || (y == limit.year && mo > limit.month)) return false;

    const std::uint64_t day_bits = DayMask(y, mo) & (~std::uint64_t{0} << d);  // d may be 32
    if (day_bits == 0) {
      ++mo;
      d = 1, h = 0, mi = 0;
      continue;
    }
    const int next_day = std::countr_zero(day_bits);
    if (next_day != d) d = next_day, h = 0, mi = 0;

    const std::uint32_t hour_bits = hours_ & (~std::uint32_t{0} << h);  // h may be 24
    if (hour_bits == 0) {
      ++d;
      h = 0, mi = 0;
      continue;
    }
    const int next_hour = std::countr_zero(hour_bits);
    if (next_hour != h) h = next_hour, mi = 0;

    const std::uint64_t minute_bits = minutes_ & (~std::uint64_t{0} << mi);  // mi may be 60
    if (minute_bits == 0) {
      ++h;
      mi = 0;
      continue;
    }
    const Civil found{y, mo, d, h, std::countr_zero(minute_bits)};
    if (!(found < limit)) return false;
    *out = found;
    return true;
  }
}

Timestamp CronExpression::Next(Timestamp after, const absl::TimeZone& tz) const {
  if (never_ || after == kInfiniteFuture) return kInfiniteFuture;
  const absl::Time at = absl::FromUnixMicros(after);
  const absl::CivilSecond now = tz.At(at).cs;
  Civil from = ToCivil(absl::CivilMinute(now) + 1);
  const Civil limit{from.year + kSearchYears, from.month, from.day, from.hour, from.minute};
  Civil c;

  if (!fixed_time_) {
    // In the first pass of a repeated stretch, a wildcard job still has the
    // rest of this pass and then the whole second pass ahead.
    const absl::TimeZone::TimeInfo here = tz.At(now);
    if (here.kind == absl::TimeZone::TimeInfo::REPEATED && at < here.trans) {
      const Civil end = CeilMinute(now + absl::ToInt64Seconds(here.trans - here.pre));
      if (FindMatch(from, end, &c)) return ToTimestamp(here.pre + absl::Seconds(ToAbsl(c) - now));
      const Civil start = CeilMinute(now - absl::ToInt64Seconds(here.post - here.trans));
      if (FindMatch(start, end, &c)) return ToTimestamp(here.post + absl::Seconds(ToAbsl(c) - now));
      from = std::max(from, end);
    }
  }

  while (FindMatch(from, limit, &c)) {
    const absl::CivilSecond cs = ToAbsl(c);
    const absl::TimeZone::TimeInfo info = tz.At(cs);
    switch (info.kind) {
      case absl::TimeZone::TimeInfo::UNIQUE:
        if (info.pre > at) return ToTimestamp(info.pre);
        from = ToCivil(absl::CivilMinute(cs) + 1);
        break;
      case absl::TimeZone::TimeInfo::SKIPPED:
        if (fixed_time_ && info.trans > at) return ToTimestamp(info.trans);
        // Continue at the first local time after the gap.
        from = std::max(ToCivil(absl::CivilMinute(cs) + 1),
                        CeilMinute(cs + absl::ToInt64Seconds(info.trans - info.post)));
        break;
      case absl::TimeZone::TimeInfo::REPEATED:
        if (info.pre > at) return ToTimestamp(info.pre);
        if (!fixed_time_) {
          if (info.post > at) return ToTimestamp(info.post);
          from = ToCivil(absl::CivilMinute(cs) + 1);
        } else {
          // A fixed-time job is done with the whole repeated stretch.
          from = std::max(ToCivil(absl::CivilMinute(cs) + 1),
                          CeilMinute(cs + absl::ToInt64Seconds(info.trans - info.pre)));
        }
        break;
    }
  }
  return kInfiniteFuture;
}

std::vector<Timestamp> CronExpression::Preview(Timestamp after, const absl::TimeZone& tz, int n) const {
  std::vector<Timestamp> out;
  if (n <= 0) return out;
  out.reserve(static_cast<std::size_t>(std::min(n, 1024)));
  Timestamp t = after;
  while (static_cast<int>(out.size()) < n) {
    t = Next(t, tz);
    if (t == kInfiniteFuture) break;
    out.push_back(t);
  }
  return out;
}

absl::StatusOr<absl::TimeZone> LoadTimeZone(std::string_view name) {
  // absl would also open absolute paths, "localtime" and other files below
  // the zoneinfo directory; only IANA-style names get that far.
  bool plain = !name.empty() && name.size() <= 128 && name.front() != '/' && name.back() != '/' &&
               name != "localtime" && !name.starts_with("posix/") && !name.starts_with("right/") &&
               name.find("//") == std::string_view::npos;
  for (char c : name) {
    plain = plain && (IsAlnum(c) || c == '/' || c == '_' || c == '-' || c == '+');
  }
  absl::TimeZone tz;
  if (!plain || !absl::LoadTimeZone(absl::string_view(name.data(), name.size()), &tz)) {
    return absl::InvalidArgumentError(fmt::format("time zone \"{}\": unknown IANA time zone", Quote(name)));
  }
  return tz;
}

}  // namespace mlsched
