// Policy documents (include/mlsched/policy/config.h).
//
// The text (JSON, or YAML read into the same DOM: internal/yaml.h) is
// parsed into a JSON DOM (internal/json.h) and walked section by section;
// every reader gets the value together with its JSON path, so each error
// can name the path, the line and column, the value and the reason.
// Range checks that the option structs already make are not repeated here:
// PolicySet::Validate() and TenantSpec::Validate() run at the end, and their
// "field = value: why" messages are moved to the path and position of that
// field in the document (Relocate) — one source of truth for the rules.
#include "mlsched/policy/config.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "fmt/format.h"
#include "internal/duration.h"
#include "internal/json.h"
#include "internal/yaml.h"
#include "mlsched/job_spec.h"
#include "mlsched/status_macros.h"
#include "mlsched/time.h"

namespace mlsched {

namespace {

using internal::JsonMember;
using internal::JsonPosition;
using internal::JsonQuote;
using internal::JsonValue;

constexpr std::string_view kPrefix = "policy config: ";

// ---------------------------------------------------------------------------
// Paths and errors

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// $.backfill.estimator, or $["odd key"] for keys that are not identifiers.
std::string ChildPath(std::string_view path, std::string_view key) {
  if (IsIdentifier(key)) return fmt::format("{}.{}", path, key);
  return fmt::format("{}[{}]", path, JsonQuote(key));
}

std::string IndexPath(std::string_view path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string Where(std::string_view path, JsonPosition at) {
  return fmt::format("{} (line {}, column {})", path, at.line, at.column);
}

std::string Join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// "policy config: $.a.b (line L, column C) = <value>: <why>"
absl::Status Bad(std::string_view path, const JsonValue& value, std::string_view why) {
  return absl::InvalidArgumentError(
      fmt::format("{}{} = {}: {}", kPrefix, Where(path, value.position()), value.Summary(), why));
}

absl::Status CheckKeys(const JsonValue& object, std::string_view path,
                       std::initializer_list<std::string_view> known) {
  for (const JsonMember& m : object.members()) {
    if (std::find(known.begin(), known.end(), m.key) != known.end()) continue;
    return absl::InvalidArgumentError(
        fmt::format("{}{}: unknown key {} (known keys here: {})", kPrefix,
                    Where(ChildPath(path, m.key), m.key_position), JsonQuote(m.key), Join(known)));
  }
  return absl::OkStatus();
}

absl::Status ExpectObject(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) return Bad(path, value, "expected an object");
  return absl::OkStatus();
}

// A Validate() message is "field.sub[key] = value: why" or "field: why".
// When the document has that field under `root`, the message is moved
// there: "policy config: $.root.field.sub.key (line, column) = value: why".
// Otherwise it keeps its text behind the deepest part of the path found.
absl::Status Relocate(std::string_view message, const JsonValue& root, std::string root_path) {
  const std::size_t end = std::min(message.find(" = "), message.find(": "));
  std::vector<std::string_view> segments;
  if (end != std::string_view::npos) {
    const std::string_view field = message.substr(0, end);
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= field.size(); ++i) {
      const char c = i < field.size() ? field[i] : '.';
      if (c == '.' || c == '[' || c == ']') {
        if (i > begin) segments.push_back(field.substr(begin, i - begin));
        begin = i + 1;
      } else if (!IsFieldChar(c)) {
        segments.clear();  // not a field expression
        break;
      }
    }
  }
  const JsonValue* at = &root;
  std::string path = std::move(root_path);
  std::size_t matched = 0;
  for (std::string_view segment : segments) {
    const JsonValue* next = at->Find(segment);
    if (next == nullptr) break;
    at = next;
    path = ChildPath(path, segment);
    ++matched;
  }
  if (!segments.empty() && matched == segments.size()) {
    std::string_view rest = message.substr(end);
    // " = 0: must be > 0": an integer is shown as written in the document
    // (a duration "0s" rather than its microseconds).
    if (rest.starts_with(" = ")) {
      const std::size_t colon = rest.find(": ");
      const std::string_view shown = rest.substr(3, colon - 3);
      const bool integer = colon != std::string_view::npos && !shown.empty() &&
                           shown.find_first_not_of("-0123456789") == std::string_view::npos;
      if (integer) {
        return absl::InvalidArgumentError(fmt::format("{}{} = {}{}", kPrefix,
                                                      Where(path, at->position()), at->Summary(),
                                                      rest.substr(colon)));
      }
    }
    return absl::InvalidArgumentError(
        fmt::format("{}{}{}", kPrefix, Where(path, at->position()), rest));
  }
  return absl::InvalidArgumentError(
      fmt::format("{}{}: {}", kPrefix, Where(path, at->position()), message));
}

// ---------------------------------------------------------------------------
// Scalars

absl::StatusOr<std::int64_t> ReadInt64(const JsonValue& value, std::string_view path) {
  absl::StatusOr<std::int64_t> n = value.AsInt64();
  if (!n.ok()) return Bad(path, value, std::string(n.status().message()));
  return *n;
}

absl::StatusOr<int> ReadInt(const JsonValue& value, std::string_view path) {
  MLSCHED_ASSIGN_OR_RETURN(const std::int64_t n, ReadInt64(value, path));
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
    return Bad(path, value,
               fmt::format("must lie in [{}, {}]", std::numeric_limits<int>::min(),
                           std::numeric_limits<int>::max()));
  }
  return static_cast<int>(n);
}

absl::StatusOr<bool> ReadBool(const JsonValue& value, std::string_view path) {
  absl::StatusOr<bool> b = value.AsBool();
  if (!b.ok()) return Bad(path, value, std::string(b.status().message()));
  return *b;
}

absl::StatusOr<std::string> ReadString(const JsonValue& value, std::string_view path) {
  absl::StatusOr<std::string> s = value.AsString();
  if (!s.ok()) return Bad(path, value, std::string(s.status().message()));
  return *std::move(s);
}

constexpr std::string_view kDurationForm =
    "durations are strings such as \"90s\", \"1.5h\" or \"2h30m\" (units d, h, m, s, ms, us), "
    "or integers of microseconds";

absl::StatusOr<Duration> ReadDuration(const JsonValue& value, std::string_view path) {
  if (value.is_number()) {
    absl::StatusOr<std::int64_t> n = value.AsInt64();
    if (!n.ok()) {
      return Bad(path, value,
                 fmt::format("{} ({})", std::string(n.status().message()), kDurationForm));
    }
    if (*n < 0) return Bad(path, value, "durations must not be negative");
    return *n;
  }
  if (!value.is_string())
    return Bad(path, value, fmt::format("expected a duration: {}", kDurationForm));
  std::string why;
  std::optional<Duration> d =
      internal::ParseDurationText(value.string_value(), kDurationForm, why);
  if (!d) return Bad(path, value, why);
  return *d;
}

absl::StatusOr<ResourceVector> ReadResources(const JsonValue& value, std::string_view path,
                                             const ResourceCatalog& catalog) {
  if (!value.is_string()) {
    return Bad(path, value, "expected a string of resources such as \"gpu=64,cpu=512\"");
  }
  absl::StatusOr<ResourceVector> v = ParseResources(catalog, value.string_value());
  if (!v.ok()) return Bad(path, value, std::string(v.status().message()));
  return *v;
}

// ---------------------------------------------------------------------------
// Sections

// A policy named by a string or by the "name" of an object. Sets `name` and
// the value and path that hold it (for "unknown name" errors).
absl::Status ReadPolicyName(const JsonValue& value, const std::string& path,
                            std::initializer_list<std::string_view> known, std::string& name,
                            const JsonValue*& name_value, std::string& name_path) {
  name_value = &value;
  name_path = path;
  if (value.is_object()) {
    const JsonValue* n = value.Find("name");
    if (n == nullptr) {
      return Bad(path, value, fmt::format("missing key \"name\" (known: {})", Join(known)));
    }
    name_value = n;
    name_path = ChildPath(path, "name");
  } else if (!value.is_string()) {
    return Bad(path, value, "expected a string or an object");
  }
  MLSCHED_ASSIGN_OR_RETURN(name, ReadString(*name_value, name_path));
  return absl::OkStatus();
}

absl::Status ReadClassBase(const JsonValue& value, const std::string& path,
                           std::array<std::int64_t, 3>& out) {
  MLSCHED_RETURN_IF_ERROR(ExpectObject(value, path));
  MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"low", "medium", "high"}));
  for (const JsonMember& m : value.members()) {
    const int c = m.key == "low" ? 0 : m.key == "medium" ? 1 : 2;
    MLSCHED_ASSIGN_OR_RETURN(out[c], ReadInt64(m.value, ChildPath(path, m.key)));
  }
  return absl::OkStatus();
}

absl::Status ReadAging(const JsonValue& value, const std::string& path, AgingOptions& out) {
  MLSCHED_RETURN_IF_ERROR(ExpectObject(value, path));
  MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"points_per_hour", "cap"}));
  for (const JsonMember& m : value.members()) {
    std::int64_t& field = m.key == "cap" ? out.cap : out.points_per_hour;
    MLSCHED_ASSIGN_OR_RETURN(field, ReadInt64(m.value, ChildPath(path, m.key)));
  }
  return absl::OkStatus();
}

absl::Status ReadOrdering(const JsonValue& value, const std::string& path, PolicySet& out) {
  const std::initializer_list<std::string_view> kKnown = {"fifo", "priority", "shortest-first"};
  std::string name, name_path;
  const JsonValue* name_value;
  MLSCHED_RETURN_IF_ERROR(ReadPolicyName(value, path, kKnown, name, name_value, name_path));
  if (name == "fifo") {
    if (value.is_object()) MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"name"}));
    out.ordering = NewFifoOrdering();
    return absl::OkStatus();
  }
  if (name == "shortest-first") {
    if (value.is_object()) MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"name"}));
    out.ordering = NewShortestFirstOrdering();
    return absl::OkStatus();
  }
  if (name == "priority") {
    PriorityOrderingOptions options;
    if (value.is_object()) {
      MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"name", "class_base", "aging"}));
      if (const JsonValue* v = value.Find("class_base"))
        MLSCHED_RETURN_IF_ERROR(
            ReadClassBase(*v, ChildPath(path, "class_base"), options.class_base));
      if (const JsonValue* v = value.Find("aging"))
        MLSCHED_RETURN_IF_ERROR(ReadAging(*v, ChildPath(path, "aging"), options.aging));
    }
    out.ordering = NewPriorityOrdering(options);
    return absl::OkStatus();
  }
  return Bad(name_path, *name_value,
             fmt::format("unknown ordering policy (known: {})", Join(kKnown)));
}

absl::Status ReadPlacement(const JsonValue& value, const std::string& path, PolicySet& out) {
  const std::initializer_list<std::string_view> kKnown = {"best-fit", "spread"};
  std::string name, name_path;
  const JsonValue* name_value;
  MLSCHED_RETURN_IF_ERROR(ReadPolicyName(value, path, kKnown, name, name_value, name_path));
  if (value.is_object()) MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"name"}));
  if (name == "best-fit") {
    out.placement = NewBestFitPlacement();
  } else if (name == "spread") {
    out.placement = NewSpreadPlacement();
  } else {
    return Bad(name_path, *name_value,
               fmt::format("unknown placement policy (known: {})", Join(kKnown)));
  }
  return absl::OkStatus();
}

// true: the defaults; false: off; an object: options read by `read`.
template <typename Options, typename Read>
absl::Status ReadOptionalPolicy(const JsonValue& value, const std::string& path,
                                std::optional<Options>& out, Read read) {
  if (value.is_bool()) {
    if (value.bool_value()) {
      out = Options{};
    } else {
      out.reset();
    }
    return absl::OkStatus();
  }
  if (!value.is_object()) {
    return Bad(path, value, "expected an object of options, true (defaults) or false (off)");
  }
  Options options;
  MLSCHED_RETURN_IF_ERROR(read(options));
  out = std::move(options);
  return absl::OkStatus();
}

absl::Status ReadFairShare(const JsonValue& value, const std::string& path, FairShareOptions& out) {
  MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"usage_half_life"}));
  if (const JsonValue* v = value.Find("usage_half_life")) {
    MLSCHED_ASSIGN_OR_RETURN(out.usage_half_life,
                             ReadDuration(*v, ChildPath(path, "usage_half_life")));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ReadReservationDepth(const JsonValue& value, std::string_view path) {
  if (value.is_string()) {
    const std::string& s = value.string_value();
    if (s == "easy") return 1;
    if (s == "all" || s == "conservative") return kReserveAll;
    return Bad(path, value,
               "unknown depth (known: an integer >= 1, \"easy\", \"all\", \"conservative\")");
  }
  if (!value.is_number()) {
    return Bad(path, value, "expected an integer >= 1, \"easy\", \"all\" or \"conservative\"");
  }
  return ReadInt(value, path);  // < 1 is left to BackfillOptions::Validate()
}

absl::Status ReadBackfill(const JsonValue& value, const std::string& path, BackfillOptions& out) {
  MLSCHED_RETURN_IF_ERROR(CheckKeys(value, path, {"reservation_depth", "estimator"}));
  if (const JsonValue* v = value.Find("reservation_depth")) {
    MLSCHED_ASSIGN_OR_RETURN(out.reservation_depth,
                             ReadReservationDepth(*v, ChildPath(path, "reservation_depth")));
  }
  if (const JsonValue* v = value.Find("estimator")) {
    const std::string estimator_path = ChildPath(path, "estimator");
    MLSCHED_ASSIGN_OR_RETURN(const std::string name, ReadString(*v, estimator_path));
    if (name != "time-limit")
      return Bad(estimator_path, *v, "unknown estimator (known: time-limit)");
    out.estimator = NewTimeLimitEstimator();
  }
  return absl::OkStatus();
}

absl::Status ReadPreemption(const JsonValue& value, const std::string& path,
                            PreemptionOptions& out) {
  MLSCHED_RETURN_IF_ERROR(
      CheckKeys(value, path,
                {"priority", "reclaim", "grace", "min_runtime", "max_victims_per_window", "window",
                 "max_preemptors_per_pass"}));
  for (const JsonMember& m : value.members()) {
    const std::string p = ChildPath(path, m.key);
    if (m.key == "priority") {
      MLSCHED_ASSIGN_OR_RETURN(out.priority, ReadBool(m.value, p));
    } else if (m.key == "reclaim") {
      MLSCHED_ASSIGN_OR_RETURN(out.reclaim, ReadBool(m.value, p));
    } else if (m.key == "grace") {
      MLSCHED_ASSIGN_OR_RETURN(out.grace, ReadDuration(m.value, p));
    } else if (m.key == "min_runtime") {
      MLSCHED_ASSIGN_OR_RETURN(out.min_runtime, ReadDuration(m.value, p));
    } else if (m.key == "window") {
      MLSCHED_ASSIGN_OR_RETURN(out.window, ReadDuration(m.value, p));
    } else if (m.key == "max_victims_per_window") {
      MLSCHED_ASSIGN_OR_RETURN(out.max_victims_per_window, ReadInt(m.value, p));
    } else {
      MLSCHED_ASSIGN_OR_RETURN(out.max_preemptors_per_pass, ReadInt(m.value, p));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTenant(const JsonValue& value, const std::string& path,
                        const ResourceCatalog& catalog, TenantSpec& out) {
  MLSCHED_RETURN_IF_ERROR(ExpectObject(value, path));
  MLSCHED_RETURN_IF_ERROR(CheckKeys(
      value, path, {"name", "parent", "weight", "guarantee", "borrowing_limit", "lending_limit"}));
  if (value.Find("name") == nullptr) return Bad(path, value, "missing key \"name\"");
  for (const JsonMember& m : value.members()) {
    const std::string p = ChildPath(path, m.key);
    if (m.key == "name") {
      MLSCHED_ASSIGN_OR_RETURN(out.name, ReadString(m.value, p));
    } else if (m.key == "parent") {
      MLSCHED_ASSIGN_OR_RETURN(out.parent, ReadString(m.value, p));
    } else if (m.key == "weight") {
      MLSCHED_ASSIGN_OR_RETURN(out.weight, ReadInt64(m.value, p));
    } else if (m.key == "guarantee") {
      MLSCHED_ASSIGN_OR_RETURN(out.guarantee, ReadResources(m.value, p, catalog));
    } else if (m.key == "borrowing_limit") {
      MLSCHED_ASSIGN_OR_RETURN(out.borrowing_limit, ReadResources(m.value, p, catalog));
    } else {
      MLSCHED_ASSIGN_OR_RETURN(out.lending_limit, ReadResources(m.value, p, catalog));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTenants(const JsonValue& value, const std::string& path,
                         const ResourceCatalog& catalog, std::vector<TenantSpec>& out) {
  if (!value.is_array()) return Bad(path, value, "expected an array of tenant objects");
  absl::flat_hash_map<std::string, std::size_t> first_index;
  for (std::size_t i = 0; i < value.elements().size(); ++i) {
    const JsonValue& element = value.elements()[i];
    const std::string element_path = IndexPath(path, i);
    TenantSpec tenant;
    MLSCHED_RETURN_IF_ERROR(ReadTenant(element, element_path, catalog, tenant));
    if (auto [it, inserted] = first_index.try_emplace(tenant.name, i); !inserted) {
      return Bad(ChildPath(element_path, "name"), *element.Find("name"),
                 fmt::format("tenant listed twice (first at {})", IndexPath(path, it->second)));
    }
    out.push_back(std::move(tenant));
  }
  return absl::OkStatus();
}

// Runs the option structs' own checks, moving their messages to the document.
absl::Status ValidateDocument(const PolicyDocument& doc, const JsonValue& root) {
  if (absl::Status s = doc.policies.Validate(); !s.ok()) {
    const std::string message(s.message());
    // PolicySet::Validate() says `ordering policy "<name>": <field> = ...`
    // for the ordering and `<section>.<field> = ...` for the others.
    constexpr std::string_view kOrdering = "ordering policy \"";
    const JsonValue* ordering = root.Find("ordering");
    if (message.starts_with(kOrdering) && ordering != nullptr) {
      const std::size_t body = message.find("\": ");
      if (body != std::string::npos) {
        return Relocate(std::string_view(message).substr(body + 3), *ordering, "$.ordering");
      }
    }
    return Relocate(message, root, "$");
  }
  const JsonValue* tenants = root.Find("tenants");
  for (std::size_t i = 0; i < doc.tenants.size(); ++i) {
    const TenantSpec& tenant = doc.tenants[i];
    if (absl::Status s = tenant.Validate(); !s.ok()) {
      const std::string full(s.message());
      std::string_view message = full;
      const std::string prefix = fmt::format("tenant \"{}\": ", tenant.name);
      if (message.starts_with(prefix)) message.remove_prefix(prefix.size());
      // Every tenant came from an element of "tenants".
      return Relocate(message, tenants->elements()[i], IndexPath("$.tenants", i));
    }
  }
  return absl::OkStatus();
}

// `catalog` is null for ParsePolicySet, which refuses tenants.
absl::StatusOr<PolicyDocument> Parse(std::string_view text, const ResourceCatalog* catalog) {
  absl::StatusOr<JsonValue> root =
      internal::LooksLikeJsonObject(text) ? internal::ParseJson(text) : internal::ParseYamlAsJson(text);
  if (!root.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{}{}", kPrefix, std::string(root.status().message())));
  }
  MLSCHED_RETURN_IF_ERROR(ExpectObject(*root, "$"));
  MLSCHED_RETURN_IF_ERROR(CheckKeys(
      *root, "$", {"ordering", "placement", "fair_share", "backfill", "preemption", "strict_order", "tenants"}));
  PolicyDocument doc{.policies = DefaultPolicySet()};
  PolicySet& p = doc.policies;
  for (const JsonMember& m : root->members()) {
    const std::string path = ChildPath("$", m.key);
    const JsonValue& v = m.value;
    if (m.key == "ordering") {
      MLSCHED_RETURN_IF_ERROR(ReadOrdering(v, path, p));
    } else if (m.key == "placement") {
      MLSCHED_RETURN_IF_ERROR(ReadPlacement(v, path, p));
    } else if (m.key == "fair_share") {
      MLSCHED_RETURN_IF_ERROR(ReadOptionalPolicy(
          v, path, p.fair_share, [&](FairShareOptions& o) { return ReadFairShare(v, path, o); }));
    } else if (m.key == "backfill") {
      MLSCHED_RETURN_IF_ERROR(ReadOptionalPolicy(
          v, path, p.backfill, [&](BackfillOptions& o) { return ReadBackfill(v, path, o); }));
    } else if (m.key == "preemption") {
      MLSCHED_RETURN_IF_ERROR(ReadOptionalPolicy(
          v, path, p.preemption, [&](PreemptionOptions& o) { return ReadPreemption(v, path, o); }));
    } else if (m.key == "strict_order") {
      MLSCHED_ASSIGN_OR_RETURN(p.strict_order, ReadBool(v, path));
    } else if (catalog == nullptr) {  // "tenants"
      return absl::InvalidArgumentError(fmt::format(
          "{}{}: tenants need a resource catalog; read this document with ParsePolicyDocument",
          kPrefix, Where(path, v.position())));
    } else {
      MLSCHED_RETURN_IF_ERROR(ReadTenants(v, path, *catalog, doc.tenants));
    }
  }
  MLSCHED_RETURN_IF_ERROR(ValidateDocument(doc, *root));
  return doc;
}

// ---------------------------------------------------------------------------
// Formatting

// "2h30m"; "0s"; negative durations (invalid) as plain integers, which the
// parser rejects rather than misreads.
std::string FormatDurationJson(Duration d) {
  if (d < 0) return fmt::format("{}", d);
  if (d == 0) return "\"0s\"";
  std::string text;
  for (const internal::DurationUnit& unit : internal::kDurationUnits) {
    if (d >= unit.size) {
      text += fmt::format("{}{}", d / unit.size, unit.name);
      d %= unit.size;
    }
  }
  return JsonQuote(text);
}

std::string FormatOrdering(const OrderingPolicy& ordering) {
  if (ordering.name() != "priority") return JsonQuote(ordering.name());
  // The interface does not expose the class bases; the base priority of a
  // job with priority 0 in each class is exactly that class's base.
  std::array<std::int64_t, 3> base{};
  for (int c = 0; c < 3; ++c) {
    JobSpec probe;
    probe.priority_class = static_cast<PriorityClass>(c);
    probe.priority = 0;
    base[c] = ordering.BasePriority(probe);
  }
  const AgingOptions aging = ordering.aging();
  return fmt::format(
      "{{\"name\": \"priority\", \"class_base\": {{\"low\": {}, \"medium\": {}, \"high\": {}}}, "
      "\"aging\": {{\"points_per_hour\": {}, \"cap\": {}}}}}",
      base[0], base[1], base[2], aging.points_per_hour, aging.cap);
}

}  // namespace

absl::StatusOr<PolicyDocument> ParsePolicyDocument(std::string_view text,
                                                   const ResourceCatalog& catalog) {
  return Parse(text, &catalog);
}

absl::StatusOr<PolicySet> ParsePolicySet(std::string_view text) {
  MLSCHED_ASSIGN_OR_RETURN(PolicyDocument doc, Parse(text, nullptr));
  return std::move(doc.policies);
}

std::string FormatPolicySet(const PolicySet& policies) {
  std::vector<std::string> lines;
  if (policies.ordering) {
    lines.push_back(fmt::format("\"ordering\": {}", FormatOrdering(*policies.ordering)));
  }
  if (policies.placement) {
    lines.push_back(fmt::format("\"placement\": {}", JsonQuote(policies.placement->name())));
  }
  if (policies.fair_share) {
    lines.push_back(fmt::format("\"fair_share\": {{\"usage_half_life\": {}}}",
                                FormatDurationJson(policies.fair_share->usage_half_life)));
  } else {
    lines.push_back("\"fair_share\": false");
  }
  if (const auto& b = policies.backfill) {
    lines.push_back(fmt::format("\"backfill\": {{\"reservation_depth\": {}, \"estimator\": {}}}",
                                b->reservation_depth == kReserveAll
                                    ? std::string("\"all\"")
                                    : fmt::format("{}", b->reservation_depth),
                                JsonQuote(b->estimator ? b->estimator->name() : "time-limit")));
  } else {
    lines.push_back("\"backfill\": false");
  }
  if (const auto& p = policies.preemption) {
    lines.push_back(fmt::format(
        "\"preemption\": {{\"priority\": {}, \"reclaim\": {}, \"grace\": {}, \"min_runtime\": {}, "
        "\"max_victims_per_window\": {}, \"window\": {}, \"max_preemptors_per_pass\": {}}}",
        p->priority, p->reclaim, FormatDurationJson(p->grace), FormatDurationJson(p->min_runtime),
        p->max_victims_per_window, FormatDurationJson(p->window), p->max_preemptors_per_pass));
  } else {
    lines.push_back("\"preemption\": false");
  }
  if (policies.strict_order) lines.push_back("\"strict_order\": true");
  std::string out = "{\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += "  " + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  }
  out += "}\n";
  return out;
}

}  // namespace mlsched
