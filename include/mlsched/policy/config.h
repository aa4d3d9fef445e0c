// Policy configuration documents: a PolicySet (and tenants) from JSON or YAML.
//
// Hosts that pick policies by name — the simulator, the Python bindings, a
// daemon's configuration file — describe them in a small JSON or YAML
// document.
// Every key is optional; an absent "ordering" or "placement" keeps the
// default of DefaultPolicySet() (priority with aging, best fit), and an
// absent optional policy is off:
//
//   {
//     "ordering": {"name": "priority",
//                  "class_base": {"low": 0, "medium": 1000000, "high": 2000000},
//                  "aging": {"points_per_hour": 10000, "cap": 200000}},
//     "placement": "best-fit",
//     "fair_share": {"usage_half_life": "7d"},
//     "backfill": {"reservation_depth": "easy", "estimator": "time-limit"},
//     "preemption": {"priority": true, "reclaim": true, "grace": "2m",
//                    "min_runtime": "10m", "max_victims_per_window": 32,
//                    "window": "10m", "max_preemptors_per_pass": 4},
//     "tenants": [{"name": "research", "weight": 2, "guarantee": "gpu=64"},
//                 {"name": "vision", "parent": "research", "guarantee": "gpu=32",
//                  "borrowing_limit": "gpu=16", "lending_limit": "gpu=8"}]
//   }
//
// - "ordering": "fifo" | "priority", or an object with "name" and, for
//   priority, "class_base" (any of low, medium, high) and "aging" (any of
//   points_per_hour, cap); unnamed options keep their defaults.
// - "placement": "best-fit" | "spread", or {"name": ...}.
// - "fair_share", "backfill", "preemption": an object of options (absent
//   options keep the defaults of their Options struct), true for all
//   defaults, false (or absent) for off.
// - "backfill.reservation_depth": an integer >= 1, "easy" (= 1), or "all" /
//   "conservative" (= kReserveAll). "backfill.estimator": "time-limit".
// - Durations are strings of one or more number-unit pairs, units largest
//   first: "90s", "1.5h", "2h30m", "250ms", "7d" (units us, ms, s, m, h, d;
//   the result must be whole microseconds), or non-negative integers of
//   microseconds. Negative durations are errors.
// - "tenants": TenantSpecs (tenant.h); quantities are resource texts read by
//   ParseResources ("gpu=64,cpu=512"); each name may appear once.
//
// The same document in YAML (the text is JSON when its first character
// other than whitespace is '{', else YAML):
//
//   ordering: {name: priority, aging: {points_per_hour: 10000, cap: 200000}}
//   fair_share: {usage_half_life: 7d}
//   backfill: {reservation_depth: easy}
//   preemption:
//     grace: 2m
//     min_runtime: 10m
//   tenants:
//     - {name: research, weight: 2, guarantee: gpu=64}
//
// YAML is read by the 1.2 core schema into the same values (internal/yaml.h:
// plain `true`/`false` are booleans, `null`/`~`/empty null, JSON-style
// numbers numbers, anything else a string; quoted scalars are strings), so
// the rules and messages below are the same, with YAML's lines and columns.
//
// Parsing is strict: the text must be one JSON object (RFC 8259, no
// comments, no duplicate keys) or one YAML document holding a mapping (no
// duplicate keys; comments allowed) and unknown keys are errors. Errors are
// kInvalidArgument and say where and why, as a JSON path with the line and
// column of the offending value:
//
//   policy config: $.backfill.reservation_depth (line 3, column 28) = 0:
//       must be >= 1 (1 = EASY, "all" = conservative)
//
// (one line). The result is checked with PolicySet::Validate() and each
// tenant with TenantSpec::Validate(); their messages get the path of the
// offending entry in front. The functions are pure: a document that fails
// yields an error and nothing else.
//
//   absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(text, catalog);
//   if (!doc.ok()) return doc.status();
//   EngineOptions options{.clock = &clock, .policies = doc->policies};
//   ... engine->ConfigureTenants(doc->tenants);
//
// Thread-safety: the functions share no state and may run concurrently.
// Ownership: they return values the caller owns; the text is not kept.
#ifndef MLSCHED_POLICY_CONFIG_H_
#define MLSCHED_POLICY_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/resources.h"
#include "mlsched/tenant.h"

namespace mlsched {

struct PolicyDocument {
  PolicySet policies;
  std::vector<TenantSpec> tenants;  // in document order
};

// Reads policies and tenants; tenant quantities may name any kind of
// `catalog`.
absl::StatusOr<PolicyDocument> ParsePolicyDocument(std::string_view text,
                                                   const ResourceCatalog& catalog);

// Reads policies only. A document with "tenants" is an error here (reading
// quantities needs a ResourceCatalog): use ParsePolicyDocument.
absl::StatusOr<PolicySet> ParsePolicySet(std::string_view text);

// A document that ParsePolicySet reads back to an equivalent PolicySet: the
// same policy names, option values and estimator name. Defaults are written
// out in full and optional policies that are off as false. Built-in
// policies round-trip; a host's own policies are written by name(), which
// the parser does not know, and a null ordering or placement is left out
// (and so reads back as the default).
std::string FormatPolicySet(const PolicySet& policies);

}  // namespace mlsched

#endif  // MLSCHED_POLICY_CONFIG_H_
