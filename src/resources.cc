// Quantity parsing follows the Kubernetes quantity notation that ML platform
// users already write ("500m", "64Gi", "1.5G"), restricted to values that come
// out as whole integers of the kind's unit, and with every overflow checked.
#include "mlsched/resources.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "mlsched/time.h"

namespace mlsched {
namespace {

std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ValidKindName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!absl::ascii_islower(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(absl::ascii_islower(u) || absl::ascii_isdigit(u) || c == '.' || c == '_' || c == '/' ||
          c == '-'))
      return false;
  }
  return true;
}

struct Suffix {
  std::string_view text;
  std::int64_t factor;
};

constexpr Suffix kMemorySuffixes[] = {
    {"Ki", std::int64_t{1} << 10}, {"Mi", std::int64_t{1} << 20}, {"Gi", std::int64_t{1} << 30},
    {"Ti", std::int64_t{1} << 40}, {"Pi", std::int64_t{1} << 50}, {"k", 1'000},
    {"K", 1'000},                  {"M", 1'000'000},              {"G", 1'000'000'000},
    {"T", 1'000'000'000'000},      {"P", 1'000'000'000'000'000},
};

}  // namespace

std::int64_t ResourceVector::CopiesThatFit(const ResourceVector& per_item) const {
  std::int64_t copies = std::numeric_limits<std::int64_t>::max();
  bool any = false;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    if (per_item.q_[i] <= 0) continue;
    any = true;
    const std::int64_t n = q_[i] <= 0 ? 0 : q_[i] / per_item.q_[i];
    if (n < copies) copies = n;
  }
  return any ? copies : 0;
}

ResourceCatalog::ResourceCatalog() : names_{"cpu", "memory", "gpu"} {}

absl::StatusOr<ResourceKind> ResourceCatalog::Register(std::string_view name) {
  if (!ValidKindName(name)) {
    return absl::InvalidArgumentError(fmt::format(
        "resource kind \"{}\": names are 1-63 characters of [a-z0-9._/-] starting with a letter",
        name));
  }
  if (Find(name).has_value()) {
    return absl::AlreadyExistsError(
        fmt::format("resource kind \"{}\" is already registered", name));
  }
  if (size() >= kMaxResourceKinds) {
    return absl::ResourceExhaustedError(fmt::format(
        "resource kind \"{}\": the catalog is full ({} kinds at most)", name, kMaxResourceKinds));
  }
  names_.emplace_back(name);
  return ResourceKind(static_cast<std::uint8_t>(names_.size() - 1));
}

std::optional<ResourceKind> ResourceCatalog::Find(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return ResourceKind(static_cast<std::uint8_t>(i));
  return std::nullopt;
}

std::string_view ResourceCatalog::Name(ResourceKind kind) const {
  if (kind.index() >= size()) return "?";
  return names_[kind.index()];
}

absl::StatusOr<std::int64_t> ParseQuantity(const ResourceCatalog& catalog, ResourceKind kind,
                                           std::string_view text) {
  const std::string_view kind_name = catalog.Name(kind);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("{}={}: {}", kind_name, text, why));
  };
  std::string_view rest = Strip(text);
  if (rest.empty()) return bad("empty quantity");
  if (rest[0] == '-') return bad("must be > 0");
  if (rest[0] == '+') rest.remove_prefix(1);

  // Digits, optional fraction, optional suffix.
  std::size_t i = 0;
  while (i < rest.size() && absl::ascii_isdigit(static_cast<unsigned char>(rest[i]))) ++i;
  std::string_view whole = rest.substr(0, i);
  std::string_view frac;
  if (i < rest.size() && rest[i] == '.') {
    const std::size_t start = ++i;
    while (i < rest.size() && absl::ascii_isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    frac = rest.substr(start, i - start);
    if (frac.empty()) return bad("a decimal point must be followed by digits");
  }
  if (whole.empty() && frac.empty()) return bad("not a number");
  const std::string_view suffix = rest.substr(i);

  // The unit multiplier: value_in_units = number * factor.
  std::int64_t factor = 1;
  if (kind == kCpu) {
    if (suffix.empty()) {
      factor = 1000;  // cores -> milli-cores
    } else if (suffix == "m") {
      factor = 1;
    } else {
      return bad(fmt::format("unknown suffix \"{}\" (cpu takes cores or \"m\" for milli-cores)",
                             suffix));
    }
  } else if (kind == kMemory) {
    if (!suffix.empty()) {
      bool found = false;
      for (const Suffix& s : kMemorySuffixes) {
        if (s.text == suffix) {
          factor = s.factor;
          found = true;
          break;
        }
      }
      if (!found)
        return bad(fmt::format("unknown suffix \"{}\" (memory takes Ki, Mi, Gi, Ti, Pi, k, M, G, T, P)",
                               suffix));
    }
  } else if (!suffix.empty()) {
    return bad(fmt::format("unknown suffix \"{}\" ({} is a plain count)", suffix, kind_name));
  }

  // Exact integer arithmetic: number = whole + frac / 10^len(frac).
  if (!frac.empty() && kind != kCpu && kind != kMemory) return bad(fmt::format("{} is a whole count", kind_name));
  // Exact 128-bit arithmetic: value = (whole * 10^len(frac) + frac) * factor / 10^len(frac).
  if (whole.size() > 19 || frac.size() > 18) return bad("too large or too precise");
  using Wide = __int128;
  constexpr Wide kLimit = std::numeric_limits<std::int64_t>::max();
  Wide number = 0, scale = 1;
  for (char c : whole) number = number * 10 + (c - '0');
  for (char c : frac) {
    number = number * 10 + (c - '0');
    scale *= 10;
  }
  if (number > kLimit * 10) return bad("too large");  // keeps number * factor inside 128 bits
  const Wide scaled = number * factor;
  if (scaled % scale != 0) {
    return bad(kind == kCpu ? "finer than one milli-core" : "not a whole number of bytes");
  }
  if (scaled / scale > kLimit) return bad("too large");
  const auto value = static_cast<std::int64_t>(scaled / scale);
  if (value == 0) return bad("must be > 0 (omit the kind instead)");
  return value;
}

absl::StatusOr<ResourceVector> ParseResources(const ResourceCatalog& catalog,
                                              std::string_view text) {
  ResourceVector v;
  std::string_view trimmed = Strip(text);
  if (trimmed.empty()) return v;
  bool seen[kMaxResourceKinds] = {};
  while (!trimmed.empty()) {
    const std::size_t comma = trimmed.find(',');
    std::string_view entry = Strip(trimmed.substr(0, comma));
    trimmed = comma == std::string_view::npos ? std::string_view() : trimmed.substr(comma + 1);
    if (trimmed.empty() && comma != std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("\"{}\": trailing comma", text));
    }
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}\": expected kind=quantity (e.g. gpu=4)", entry));
    }
    const std::string_view name = Strip(entry.substr(0, eq));
    const std::optional<ResourceKind> kind = catalog.Find(name);
    if (!kind) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}\": unknown resource kind \"{}\"", entry, name));
    }
    if (seen[kind->index()]) {
      return absl::InvalidArgumentError(
          fmt::format("\"{}\": resource kind \"{}\" given twice", entry, name));
    }
    seen[kind->index()] = true;
    auto q = ParseQuantity(catalog, *kind, entry.substr(eq + 1));
    if (!q.ok()) return q.status();
    v.Set(*kind, *q);
  }
  return v;
}

namespace {

std::string FormatQuantity(ResourceKind kind, std::int64_t q) {
  if (kind == kCpu) {
    if (q % 1000 == 0) return fmt::format("{}", q / 1000);
    return fmt::format("{}m", q);
  }
  if (kind == kMemory && q > 0) {
    static constexpr std::string_view kBinary[] = {"Pi", "Ti", "Gi", "Mi", "Ki"};
    for (int i = 0; i < 5; ++i) {
      const std::int64_t f = std::int64_t{1} << (10 * (5 - i));
      if (q % f == 0) return fmt::format("{}{}", q / f, kBinary[i]);
    }
  }
  return fmt::format("{}", q);
}

}  // namespace

std::string FormatResources(const ResourceCatalog& catalog, const ResourceVector& v) {
  std::string out;
  for (int i = 0; i < kMaxResourceKinds; ++i) {
    const ResourceKind kind(static_cast<std::uint8_t>(i));
    const std::int64_t q = v.Get(kind);
    if (q == 0) continue;
    if (!out.empty()) out += ',';
    out += catalog.Name(kind);
    out += '=';
    out += FormatQuantity(kind, q);
  }
  return out;
}

absl::Status CheckKindsRegistered(const ResourceCatalog& catalog, const ResourceVector& v,
                                  std::string_view what) {
  for (int i = catalog.size(); i < kMaxResourceKinds; ++i) {
    const std::int64_t q = v.Get(ResourceKind(static_cast<std::uint8_t>(i)));
    if (q != 0) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: resource kind #{} = {}: unknown resource kind (not registered in the catalog)",
          what, i, q));
    }
  }
  return absl::OkStatus();
}

std::string FormatDuration(Duration d) {
  if (d < 0) {
    // -INT64_MIN does not exist: format the magnitude as unsigned.
    const auto magnitude = static_cast<std::uint64_t>(-(d + 1)) + 1;
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<Duration>::max()))
      return "-" + FormatDuration(std::numeric_limits<Duration>::max());
    return "-" + FormatDuration(static_cast<Duration>(magnitude));
  }
  // Truncated, never rounded up past the unit boundary.
  if (d < kMillisecond) return fmt::format("{}us", d);
  if (d < kSecond) return fmt::format("{}.{}ms", d / kMillisecond, (d % kMillisecond) / 100);
  if (d < kMinute) return fmt::format("{}.{}s", d / kSecond, (d % kSecond) / (100 * kMillisecond));
  if (d < kHour) return fmt::format("{}m{:02}s", d / kMinute, (d % kMinute) / kSecond);
  if (d < kDay) return fmt::format("{}h{:02}m", d / kHour, (d % kHour) / kMinute);
  return fmt::format("{}d{:02}h", d / kDay, (d % kDay) / kHour);
}

}  // namespace mlsched
