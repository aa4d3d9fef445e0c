// Duration texts (internal/duration.h).
#include "internal/duration.h"

#include <cstddef>
#include <iterator>
#include <limits>

#include "fmt/format.h"

namespace mlsched::internal {

std::optional<Duration> ParseDurationText(std::string_view text, std::string_view form,
                                          std::string& why) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  // A unit is whatever follows the number up to the next number.
  const auto is_unit_char = [&](char c) { return !is_digit(c) && c != '.'; };
  if (text.empty()) {
    why = fmt::format("empty ({})", form);
    return std::nullopt;
  }
  if (text[0] == '-') {
    why = "durations must not be negative";
    return std::nullopt;
  }
  constexpr auto kMax = static_cast<unsigned __int128>(std::numeric_limits<Duration>::max());
  const std::string too_large =
      fmt::format("too large (at most {} microseconds)", std::numeric_limits<Duration>::max());
  unsigned __int128 total = 0;
  int previous_unit = -1;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t whole_begin = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    std::string_view whole = text.substr(whole_begin, i - whole_begin);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      const std::size_t fraction_begin = ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
      fraction = text.substr(fraction_begin, i - fraction_begin);
      if (fraction.empty()) {
        why = fmt::format("expected a digit after '.' ({})", form);
        return std::nullopt;
      }
    }
    if (whole.empty()) {
      why = fmt::format("expected a number at offset {} ({})", whole_begin, form);
      return std::nullopt;
    }
    const std::size_t unit_begin = i;
    while (i < text.size() && is_unit_char(text[i])) ++i;
    const std::string_view unit_name = text.substr(unit_begin, i - unit_begin);
    if (unit_name.empty()) {
      why = fmt::format("missing unit after \"{}\" ({})", text.substr(whole_begin, i - whole_begin),
                        form);
      return std::nullopt;
    }
    int unit = -1;
    for (int u = 0; u < static_cast<int>(std::size(kDurationUnits)); ++u)
      if (kDurationUnits[u].name == unit_name) unit = u;
    if (unit < 0) {
      why = fmt::format("unknown unit \"{}\" (known: d, h, m, s, ms, us)", unit_name);
      return std::nullopt;
    }
    if (unit <= previous_unit) {
      why = "units must go from the largest to the smallest, each at most once (\"2h30m\")";
      return std::nullopt;
    }
    previous_unit = unit;
    const auto size = static_cast<unsigned __int128>(kDurationUnits[unit].size);

    while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
    if (whole.size() > 19) {  // >= 10^19 microseconds
      why = too_large;
      return std::nullopt;
    }
    unsigned __int128 w = 0;
    for (char c : whole) w = w * 10 + static_cast<unsigned>(c - '0');
    total += w * size;  // < 10^19 * 8.64e10 < 2^127

    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    if (!fraction.empty()) {
      // A unit is at most 864 * 10^8 us, so no fraction of more than 13
      // significant decimals is a whole number of microseconds.
      unsigned __int128 f = 0, scale = 1;
      bool whole_us = fraction.size() <= 18;
      if (whole_us) {
        for (char c : fraction) {
          f = f * 10 + static_cast<unsigned>(c - '0');
          scale *= 10;
        }
        whole_us = (f * size) % scale == 0;
      }
      if (!whole_us) {
        why = "not a whole number of microseconds";
        return std::nullopt;
      }
      total += f * size / scale;
    }
    if (total > kMax) {
      why = too_large;
      return std::nullopt;
    }
  }
  return static_cast<Duration>(total);
}

}  // namespace mlsched::internal
