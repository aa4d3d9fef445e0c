// Policy documents: reading every section and form, durations, tenants, the
// exact message (path, line, column, value, reason) of every bad input, and
// properties: FormatPolicySet round-trips through ParsePolicySet, and no
// document, however mangled, crashes the reader.
#include "mlsched/policy/config.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "mlsched/job_spec.h"
#include "mlsched/policy/policy_set.h"
#include "mlsched/resources.h"
#include "mlsched/tenant.h"
#include "mlsched/time.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "status_matchers.h"

namespace mlsched {
namespace {

using testing_util::FailsMentioning;
using testing_util::FailsWithMessage;

// Every field of a PolicySet, written independently of FormatPolicySet so
// that the round-trip tests cannot agree with it by accident.
std::string Describe(const PolicySet& p) {
  std::string out;
  if (p.ordering) {
    out += fmt::format("ordering={}", p.ordering->name());
    for (PriorityClass c : {PriorityClass::kLow, PriorityClass::kMedium, PriorityClass::kHigh}) {
      JobSpec job;
      job.priority_class = c;
      out += fmt::format(" base[{}]={}", PriorityClassName(c), p.ordering->BasePriority(job));
    }
    out +=
        fmt::format(" aging={}/{}", p.ordering->aging().points_per_hour, p.ordering->aging().cap);
  }
  if (p.placement) out += fmt::format("; placement={}", p.placement->name());
  if (p.fair_share) out += fmt::format("; fair_share half_life={}", p.fair_share->usage_half_life);
  if (p.backfill) {
    out += fmt::format("; backfill depth={} estimator={}", p.backfill->reservation_depth,
                       p.backfill->estimator ? p.backfill->estimator->name() : "time-limit");
  }
  if (const auto& x = p.preemption) {
    out +=
        fmt::format("; preemption {} {} grace={} min_runtime={} victims={} window={} preemptors={}",
                    x->priority, x->reclaim, x->grace, x->min_runtime, x->max_victims_per_window,
                    x->window, x->max_preemptors_per_pass);
  }
  if (p.strict_order) out += "; strict_order";
  return out;
}

PolicySet MustParse(std::string_view json) {
  absl::StatusOr<PolicySet> p = ParsePolicySet(json);
  EXPECT_TRUE(p.ok()) << p.status() << "\n  document: " << json;
  return p.ok() ? *std::move(p) : PolicySet{};
}

absl::Status PolicyError(std::string_view json) { return ParsePolicySet(json).status(); }

ResourceCatalog CatalogWithRdma() {
  ResourceCatalog catalog;
  EXPECT_TRUE(catalog.Register("rdma").ok());
  return catalog;
}

absl::Status DocumentError(std::string_view json) {
  return ParsePolicyDocument(json, CatalogWithRdma()).status();
}

Duration HalfLife(std::string_view value_json) {
  const PolicySet p =
      MustParse(fmt::format(R"({{"fair_share": {{"usage_half_life": {}}}}})", value_json));
  return p.fair_share ? p.fair_share->usage_half_life : -1;
}

// ---------------------------------------------------------------------------
// Reading policies

TEST(PolicyConfig, EmptyDocumentGivesTheDefaultPolicySet) {
  EXPECT_EQ(Describe(MustParse("{}")), Describe(DefaultPolicySet()));
  const PolicySet p = MustParse(" {\n} ");
  EXPECT_FALSE(p.fair_share);
  EXPECT_FALSE(p.backfill);
  EXPECT_FALSE(p.preemption);
}

TEST(PolicyConfig, SelectsOrderingAndPlacementByName) {
  const PolicySet p = MustParse(R"({"ordering": "fifo", "placement": "spread"})");
  EXPECT_EQ(p.ordering->name(), "fifo");
  EXPECT_EQ(p.placement->name(), "spread");
  const PolicySet q =
      MustParse(R"({"ordering": {"name": "priority"}, "placement": {"name": "best-fit"}})");
  EXPECT_EQ(Describe(q), Describe(DefaultPolicySet()));
  EXPECT_EQ(MustParse(R"({"ordering": {"name": "fifo"}})").ordering->name(), "fifo");
}

TEST(PolicyConfig, ReadsPriorityOrderingOptions) {
  const PolicySet p = MustParse(R"({"ordering": {"name": "priority",
      "class_base": {"low": -5, "medium": 10, "high": 2000},
      "aging": {"points_per_hour": 7, "cap": 300}}})");
  ASSERT_EQ(p.ordering->name(), "priority");
  JobSpec job;
  job.priority_class = PriorityClass::kLow;
  EXPECT_EQ(p.ordering->BasePriority(job), -5);
  job.priority_class = PriorityClass::kMedium;
  EXPECT_EQ(p.ordering->BasePriority(job), 10);
  job.priority_class = PriorityClass::kHigh;
  EXPECT_EQ(p.ordering->BasePriority(job), 2000);
  EXPECT_EQ(p.ordering->aging().points_per_hour, 7);
  EXPECT_EQ(p.ordering->aging().cap, 300);
}

TEST(PolicyConfig, UnnamedPriorityOptionsKeepTheirDefaults) {
  const PolicySet p =
      MustParse(R"({"ordering": {"name": "priority", "class_base": {"high": 5000000},
                                                 "aging": {"cap": 1}}})");
  JobSpec job;
  job.priority_class = PriorityClass::kMedium;
  EXPECT_EQ(p.ordering->BasePriority(job), 1'000'000);
  job.priority_class = PriorityClass::kHigh;
  EXPECT_EQ(p.ordering->BasePriority(job), 5'000'000);
  EXPECT_EQ(p.ordering->aging().points_per_hour, 10'000);
  EXPECT_EQ(p.ordering->aging().cap, 1);
}

TEST(PolicyConfig, TrueTurnsAnOptionalPolicyOnWithItsDefaultsAndFalseTurnsItOff) {
  const PolicySet on = MustParse(R"({"fair_share": true, "backfill": true, "preemption": true})");
  ASSERT_TRUE(on.fair_share && on.backfill && on.preemption);
  EXPECT_EQ(on.fair_share->usage_half_life, FairShareOptions{}.usage_half_life);
  EXPECT_EQ(on.backfill->reservation_depth, 1);
  EXPECT_EQ(on.preemption->grace, PreemptionOptions{}.grace);
  EXPECT_EQ(on.preemption->max_victims_per_window, PreemptionOptions{}.max_victims_per_window);
  const PolicySet off =
      MustParse(R"({"fair_share": false, "backfill": false, "preemption": false})");
  EXPECT_FALSE(off.fair_share || off.backfill || off.preemption);
  const PolicySet empty_objects =
      MustParse(R"({"fair_share": {}, "backfill": {}, "preemption": {}})");
  EXPECT_EQ(Describe(empty_objects), Describe(on));
}

TEST(PolicyConfig, ReadsFairShareHalfLife) {
  const PolicySet p = MustParse(R"({"fair_share": {"usage_half_life": "7d"}})");
  ASSERT_TRUE(p.fair_share);
  EXPECT_EQ(p.fair_share->usage_half_life, 7 * kDay);
}

TEST(PolicyConfig, ReadsBackfillDepthByNumberOrName) {
  const auto depth = [](std::string_view value) {
    const PolicySet p =
        MustParse(fmt::format(R"({{"backfill": {{"reservation_depth": {}}}}})", value));
    return p.backfill ? p.backfill->reservation_depth : -1;
  };
  EXPECT_EQ(depth("1"), 1);
  EXPECT_EQ(depth("4"), 4);
  EXPECT_EQ(depth("4.0"), 4);
  EXPECT_EQ(depth("2147483647"), kReserveAll);
  EXPECT_EQ(depth("\"easy\""), 1);
  EXPECT_EQ(depth("\"all\""), kReserveAll);
  EXPECT_EQ(depth("\"conservative\""), kReserveAll);
}

TEST(PolicyConfig, ReadsTheEstimatorByName) {
  const PolicySet p = MustParse(R"({"backfill": {"estimator": "time-limit"}})");
  ASSERT_TRUE(p.backfill && p.backfill->estimator);
  EXPECT_EQ(p.backfill->estimator->name(), "time-limit");
}

TEST(PolicyConfig, ReadsEveryPreemptionOption) {
  const PolicySet p =
      MustParse(R"({"preemption": {"priority": false, "reclaim": true, "grace": "30s",
      "min_runtime": "1h", "max_victims_per_window": 5, "window": "15m",
      "max_preemptors_per_pass": 2}})");
  ASSERT_TRUE(p.preemption);
  EXPECT_FALSE(p.preemption->priority);
  EXPECT_TRUE(p.preemption->reclaim);
  EXPECT_EQ(p.preemption->grace, 30 * kSecond);
  EXPECT_EQ(p.preemption->min_runtime, kHour);
  EXPECT_EQ(p.preemption->max_victims_per_window, 5);
  EXPECT_EQ(p.preemption->window, 15 * kMinute);
  EXPECT_EQ(p.preemption->max_preemptors_per_pass, 2);
}

TEST(PolicyConfig, ReadsTheExampleOfTheHeader) {
  const PolicySet p = MustParse(R"({
    "ordering": {"name": "priority",
                 "class_base": {"low": 0, "medium": 1000000, "high": 2000000},
                 "aging": {"points_per_hour": 10000, "cap": 200000}},
    "placement": "best-fit",
    "fair_share": {"usage_half_life": "7d"},
    "backfill": {"reservation_depth": "easy", "estimator": "time-limit"},
    "preemption": {"priority": true, "reclaim": true, "grace": "2m",
                   "min_runtime": "10m", "max_victims_per_window": 32,
                   "window": "10m", "max_preemptors_per_pass": 1}
  })");
  PolicySet expected = DefaultPolicySet();
  expected.fair_share = FairShareOptions{.usage_half_life = 7 * kDay};
  expected.backfill = BackfillOptions{};
  expected.preemption = PreemptionOptions{};
  EXPECT_EQ(Describe(p), Describe(expected));
}

// ---------------------------------------------------------------------------
// Durations

TEST(PolicyConfigDurations, ReadUnitsFromMicrosecondsToDays) {
  EXPECT_EQ(HalfLife("\"250us\""), 250);
  EXPECT_EQ(HalfLife("\"250ms\""), 250 * kMillisecond);
  EXPECT_EQ(HalfLife("\"90s\""), 90 * kSecond);
  EXPECT_EQ(HalfLife("\"10m\""), 10 * kMinute);
  EXPECT_EQ(HalfLife("\"3h\""), 3 * kHour);
  EXPECT_EQ(HalfLife("\"7d\""), 7 * kDay);
  EXPECT_EQ(HalfLife("\"0s\""), 0);
  EXPECT_EQ(HalfLife("\"007s\""), 7 * kSecond);
}

TEST(PolicyConfigDurations, CombineUnitsLargestFirst) {
  EXPECT_EQ(HalfLife("\"2h30m\""), 2 * kHour + 30 * kMinute);
  EXPECT_EQ(HalfLife("\"1d2h3m4s5ms6us\""),
            kDay + 2 * kHour + 3 * kMinute + 4 * kSecond + 5 * kMillisecond + 6);
  EXPECT_EQ(HalfLife("\"1m1ms\""), kMinute + kMillisecond);
}

TEST(PolicyConfigDurations, AcceptFractionsThatComeOutWhole) {
  EXPECT_EQ(HalfLife("\"1.5h\""), 90 * kMinute);
  EXPECT_EQ(HalfLife("\"0.5s\""), 500 * kMillisecond);
  EXPECT_EQ(HalfLife("\"1.25ms\""), 1250);
  EXPECT_EQ(HalfLife("\"1.000000000000000000000000s\""), kSecond);
}

TEST(PolicyConfigDurations, ReadIntegersAsMicroseconds) {
  EXPECT_EQ(HalfLife("1500"), 1500);
  EXPECT_EQ(HalfLife("0"), 0);
  EXPECT_EQ(HalfLife("1e6"), kSecond);
  EXPECT_EQ(HalfLife("9223372036854775807"), std::numeric_limits<Duration>::max());
  EXPECT_EQ(HalfLife("\"9223372036854775807us\""), std::numeric_limits<Duration>::max());
  EXPECT_EQ(HalfLife("\"106751991d\""), 106'751'991 * kDay);
}

TEST(PolicyConfigDurations, RejectNegativeMalformedAndOverflowingDurations) {
  const std::string form =
      "durations are strings such as \"90s\", \"1.5h\" or \"2h30m\" (units d, h, m, s, ms, us), "
      "or integers of microseconds";
  const std::string order =
      "units must go from the largest to the smallest, each at most once (\"2h30m\")";
  const std::string units = "(known: d, h, m, s, ms, us)";
  const std::string too_large = "too large (at most 9223372036854775807 microseconds)";
  struct Case {
    std::string value;  // JSON text
    std::string why;
  };
  const std::vector<Case> cases = {
      {R"("-5m")", "durations must not be negative"},
      {"-5", "durations must not be negative"},
      {R"("")", "empty (" + form + ")"},
      {"1.5", "not an integer (" + form + ")"},
      {"true", "expected a duration: " + form},
      {R"("5")", R"(missing unit after "5" ()" + form + ")"},
      {R"("5x")", R"(unknown unit "x" )" + units},
      {R"("5 m")", R"(unknown unit " m" )" + units},
      {R"("5M")", R"(unknown unit "M" )" + units},
      {R"("h")", "expected a number at offset 0 (" + form + ")"},
      {R"(".5s")", "expected a number at offset 0 (" + form + ")"},
      {R"("5.s")", "expected a digit after '.' (" + form + ")"},
      {R"("30m2h")", order},
      {R"("1m1m")", order},
      {R"("1.5us")", "not a whole number of microseconds"},
      {R"("0.0000001s")", "not a whole number of microseconds"},
      {R"("9223372036854775808us")", too_large},
      {R"("106751992d")", too_large},
      {R"("99999999999999999999999d")", too_large},
      {"1e19", "outside the 64-bit integer range (" + form + ")"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(FailsWithMessage(
        PolicyError(fmt::format(R"({{"fair_share": {{"usage_half_life": {}}}}})", c.value)),
        fmt::format("policy config: $.fair_share.usage_half_life (line 1, column 36) = {}: {}",
                    c.value, c.why)));
  }
}

// ---------------------------------------------------------------------------
// Tenants

TEST(PolicyConfigTenants, ReadsTenantsInDocumentOrder) {
  const ResourceCatalog catalog = CatalogWithRdma();
  constexpr std::string_view kDocument = R"({
    "ordering": "fifo",
    "tenants": [
      {"name": "research", "parent": "", "weight": 2, "guarantee": "gpu=64,cpu=512"},
      {"name": "vision", "parent": "research", "guarantee": "gpu=32,rdma=4",
       "borrowing_limit": "gpu=16", "lending_limit": "gpu=8"},
      {"name": "idle"}
    ]})";
  absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(kDocument, catalog);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->policies.ordering->name(), "fifo");
  ASSERT_EQ(doc->tenants.size(), 3u);
  const TenantSpec& research = doc->tenants[0];
  EXPECT_EQ(research.name, "research");
  EXPECT_EQ(research.parent, "");
  EXPECT_EQ(research.weight, 2);
  EXPECT_EQ(research.guarantee, ResourceVector::Of(512'000, 0, 64));
  EXPECT_FALSE(research.borrowing_limit);
  EXPECT_FALSE(research.lending_limit);
  const TenantSpec& vision = doc->tenants[1];
  EXPECT_EQ(vision.parent, "research");
  EXPECT_EQ(vision.weight, 1);
  EXPECT_EQ(vision.guarantee.gpus(), 32);
  EXPECT_EQ(vision.guarantee.Get(*catalog.Find("rdma")), 4);
  ASSERT_TRUE(vision.borrowing_limit && vision.lending_limit);
  EXPECT_EQ(*vision.borrowing_limit, ResourceVector::Of(0, 0, 16));
  EXPECT_EQ(*vision.lending_limit, ResourceVector::Of(0, 0, 8));
  const TenantSpec& idle = doc->tenants[2];
  EXPECT_EQ(idle.name, "idle");
  EXPECT_TRUE(idle.guarantee.IsZero());
}

TEST(PolicyConfigTenants, DocumentWithoutTenantsHasNone) {
  absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(R"({"tenants": []})", ResourceCatalog());
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->tenants.empty());
  EXPECT_EQ(Describe(doc->policies), Describe(DefaultPolicySet()));
}

TEST(PolicyConfigTenants, ParsePolicySetRefusesTenantsForWantOfACatalog) {
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"tenants": []})"),
                       "policy config: $.tenants (line 1, column 13): tenants need a resource "
                       "catalog; read this document with ParsePolicyDocument"));
}

TEST(PolicyConfigTenants, RejectsBadQuotasNamingTheTenantEntry) {
  EXPECT_TRUE(
      FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "guarantee": "gpu=-8"}]})"),
                       "policy config: $.tenants[0].guarantee (line 1, column 41) = "
                       "\"gpu=-8\": gpu=-8: must be > 0"));
  EXPECT_TRUE(
      FailsMentioning(DocumentError(R"({"tenants": [{"name": "a", "guarantee": "gpu=0"}]})"),
                      {"$.tenants[0].guarantee (line 1, column 41) = \"gpu=0\": "}));
  EXPECT_TRUE(
      FailsMentioning(DocumentError(R"({"tenants": [{"name": "a", "guarantee": "tpu=4"}]})"),
                      {"$.tenants[0].guarantee (line 1, column 41) = \"tpu=4\": ", "tpu"}));
  EXPECT_TRUE(FailsMentioning(
      DocumentError(
          R"({"tenants": [{"name": "a"}, {"name": "b", "parent": "a", "lending_limit": "gpu=x"}]})"),
      {"$.tenants[1].lending_limit (line 1, column 75) = \"gpu=x\": "}));
  EXPECT_TRUE(FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "guarantee": 64}]})"),
                               "policy config: $.tenants[0].guarantee (line 1, column 41) = 64: "
                               "expected a string of resources such as \"gpu=64,cpu=512\""));
}

TEST(PolicyConfigTenants, RejectsABorrowingLimitOnAnOrganisation) {
  EXPECT_TRUE(FailsWithMessage(
      DocumentError("{\"tenants\": [\n  {\"name\": \"org\", \"borrowing_limit\": \"gpu=8\"}\n]}"),
      "policy config: $.tenants[0].borrowing_limit (line 2, column 38): an organisation (a tenant "
      "without parent) borrows from the whole cluster; it cannot have a borrowing limit"));
}

TEST(PolicyConfigTenants, RejectsWhatTenantSpecValidateRejects) {
  EXPECT_TRUE(
      FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "weight": 0}]})"),
                       "policy config: $.tenants[0].weight (line 1, column 38) = 0: must be "
                       "in [1, 1000000]"));
  EXPECT_TRUE(
      FailsWithMessage(DocumentError(R"({"tenants": [{"name": ""}]})"),
                       "policy config: $.tenants[0].name (line 1, column 23): must not be empty"));
  EXPECT_TRUE(FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "parent": "a"}]})"),
                               "policy config: $.tenants[0].parent (line 1, column 38) = \"a\": a "
                               "tenant cannot be its own parent"));
}

TEST(PolicyConfigTenants, RejectsMalformedTenantEntries) {
  EXPECT_TRUE(
      FailsWithMessage(DocumentError(R"({"tenants": {}})"),
                       "policy config: $.tenants (line 1, column 13) = {}: expected an array "
                       "of tenant objects"));
  EXPECT_TRUE(FailsWithMessage(
      DocumentError(R"({"tenants": ["a"]})"),
      "policy config: $.tenants[0] (line 1, column 14) = \"a\": expected an object"));
  EXPECT_TRUE(FailsWithMessage(
      DocumentError(R"({"tenants": [{"weight": 2}]})"),
      "policy config: $.tenants[0] (line 1, column 14) = {...}: missing key \"name\""));
  EXPECT_TRUE(FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "weight": "2"}]})"),
                               "policy config: $.tenants[0].weight (line 1, column 38) = \"2\": "
                               "expected an integer, got a string"));
  EXPECT_TRUE(
      FailsWithMessage(DocumentError(R"({"tenants": [{"name": 7}]})"),
                       "policy config: $.tenants[0].name (line 1, column 23) = 7: expected a "
                       "string, got a number"));
  EXPECT_TRUE(FailsWithMessage(DocumentError(R"({"tenants": [{"name": "a", "quota": "gpu=1"}]})"),
                               "policy config: $.tenants[0].quota (line 1, column 28): unknown key "
                               "\"quota\" (known keys here: "
                               "name, parent, weight, guarantee, borrowing_limit, lending_limit)"));
}

TEST(PolicyConfigTenants, RejectsATenantListedTwice) {
  EXPECT_TRUE(FailsWithMessage(
      DocumentError(R"({"tenants": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})"),
      "policy config: $.tenants[2].name (line 1, column 53) = \"a\": tenant "
      "listed twice (first at $.tenants[0])"));
}

// ---------------------------------------------------------------------------
// Bad documents: each names the path, position and value, and says why

TEST(PolicyConfigErrors, ReportsInvalidJsonWithLineAndColumn) {
  EXPECT_TRUE(FailsWithMessage(PolicyError("{\n  \"ordering\": \"fifo\",\n}"),
                               "policy config: line 3, column 1: trailing comma before '}'"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"backfill": true, "backfill": false})"),
                       "policy config: line 1, column 20: duplicate key \"backfill\" (first at "
                       "line 1, column 2)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError("{} {}"),
                       "policy config: line 1, column 4: unexpected '{' after the JSON value"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(""),
      "policy config: line 1, column 1: unexpected end of input (expected a value)"));
}

TEST(PolicyConfigErrors, RequiresAnObjectAtTopLevel) {
  EXPECT_TRUE(FailsWithMessage(PolicyError("[]"),
                               "policy config: $ (line 1, column 1) = []: expected an object"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(" \"fifo\""),
                       "policy config: $ (line 1, column 2) = \"fifo\": expected an object"));
}

TEST(PolicyConfigErrors, NamesUnknownKeysAndListsTheKnownOnes) {
  EXPECT_TRUE(FailsWithMessage(PolicyError(R"({"order": "fifo"})"),
                               "policy config: $.order (line 1, column 2): unknown key \"order\" "
                               "(known keys here: ordering, "
                               "placement, fair_share, backfill, preemption, strict_order, tenants)"));
  EXPECT_TRUE(FailsWithMessage(PolicyError("{\n  \"backfill\": {\"depth\": 3}\n}"),
                               "policy config: $.backfill.depth (line 2, column 16): unknown key "
                               "\"depth\" (known keys here: "
                               "reservation_depth, estimator)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"preemption": {"grace_period": "1m"}})"),
      "policy config: $.preemption.grace_period (line 1, column 17): unknown key \"grace_period\" "
      "(known keys here: priority, reclaim, grace, min_runtime, max_victims_per_window, window, "
      "max_preemptors_per_pass)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"fair_share": {"half_life": "1d"}})"),
      "policy config: $.fair_share.half_life (line 1, column 17): unknown key \"half_life\" (known "
      "keys here: usage_half_life)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "base": {}}})"),
      "policy config: $.ordering.base (line 1, column 35): unknown key \"base\" (known keys here: "
      "name, class_base, aging)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "class_base": {"urgent": 1}}})"),
      "policy config: $.ordering.class_base.urgent (line 1, column 50): unknown key \"urgent\" "
      "(known keys here: low, medium, high)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "aging": {"rate": 1}}})"),
      "policy config: $.ordering.aging.rate (line 1, column 45): unknown key \"rate\" (known keys "
      "here: points_per_hour, cap)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"placement": {"name": "spread", "zone": "a"}})"),
      "policy config: $.placement.zone (line 1, column 34): unknown key \"zone\" (known keys here: "
      "name)"));
}

TEST(PolicyConfigErrors, FifoOrderingTakesNoOptions) {
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": {"name": "fifo", "aging": {"cap": 1}}})"),
                       "policy config: $.ordering.aging (line 1, column 31): unknown key \"aging\" "
                       "(known keys here: "
                       "name)"));
}

TEST(PolicyConfigErrors, QuotesKeysThatAreNotIdentifiersInThePath) {
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"backfill": {"odd key": 1}})"),
      "policy config: $.backfill[\"odd key\"] (line 1, column 15): unknown key \"odd key\" (known "
      "keys here: reservation_depth, estimator)"));
}

TEST(PolicyConfigErrors, ReportsWrongTypes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"ordering": 42})",
       "$.ordering (line 1, column 14) = 42: expected a string or an object"},
      {R"({"ordering": ["fifo"]})",
       "$.ordering (line 1, column 14) = [...]: expected a string or an object"},
      {R"({"placement": true})",
       "$.placement (line 1, column 15) = true: expected a string or an object"},
      {R"({"ordering": {"name": 1}})",
       "$.ordering.name (line 1, column 23) = 1: expected a string, got a number"},
      {R"({"ordering": {"name": "priority", "class_base": [0, 1, 2]}})",
       "$.ordering.class_base (line 1, column 49) = [...]: expected an object"},
      {R"({"ordering": {"name": "priority", "class_base": {"low": "0"}}})",
       "$.ordering.class_base.low (line 1, column 57) = \"0\": expected an integer, got a string"},
      {R"({"ordering": {"name": "priority", "aging": {"cap": 1.5}}})",
       "$.ordering.aging.cap (line 1, column 52) = 1.5: not an integer"},
      {R"({"ordering": {"name": "priority", "aging": null}})",
       "$.ordering.aging (line 1, column 44) = null: expected an object"},
      {R"({"fair_share": "yes"})",
       "$.fair_share (line 1, column 16) = \"yes\": expected an object of options, true (defaults) "
       "or false (off)"},
      {R"({"backfill": 1})",
       "$.backfill (line 1, column 14) = 1: expected an object of options, true (defaults) or "
       "false (off)"},
      {R"({"preemption": []})",
       "$.preemption (line 1, column 16) = []: expected an object of options, true (defaults) or "
       "false (off)"},
      {R"({"backfill": null})",
       "$.backfill (line 1, column 14) = null: expected an object of options, true (defaults) or "
       "false (off)"},
      {R"({"backfill": {"reservation_depth": true}})",
       "$.backfill.reservation_depth (line 1, column 36) = true: expected an integer >= 1, "
       "\"easy\", \"all\" or \"conservative\""},
      {R"({"backfill": {"estimator": 1}})",
       "$.backfill.estimator (line 1, column 28) = 1: expected a string, got a number"},
      {R"({"preemption": {"priority": "yes"}})",
       "$.preemption.priority (line 1, column 29) = \"yes\": expected a boolean, got a string"},
      {R"({"preemption": {"max_victims_per_window": "3"}})",
       "$.preemption.max_victims_per_window (line 1, column 43) = \"3\": expected an integer, got "
       "a string"},
  };
  for (const auto& [document, why] : cases) {
    EXPECT_TRUE(FailsWithMessage(PolicyError(document), "policy config: " + why)) << document;
  }
}

TEST(PolicyConfigErrors, ListsTheKnownNamesForAnUnknownPolicy) {
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": "lifo"})"),
                       "policy config: $.ordering (line 1, column 14) = \"lifo\": unknown ordering "
                       "policy (known: fifo, priority, shortest-first)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": {"name": "Priority"}})"),
                       "policy config: $.ordering.name (line 1, column 23) = \"Priority\": unknown "
                       "ordering policy (known: fifo, priority, shortest-first)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"placement": "worst-fit"})"),
                       "policy config: $.placement (line 1, column 15) = \"worst-fit\": unknown "
                       "placement policy (known: best-fit, spread)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"backfill": {"estimator": "oracle"}})"),
                       "policy config: $.backfill.estimator (line 1, column 28) = \"oracle\": "
                       "unknown estimator (known: time-limit)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"backfill": {"reservation_depth": "some"}})"),
                       "policy config: $.backfill.reservation_depth (line 1, column 36) = "
                       "\"some\": unknown depth (known: an integer >= 1, \"easy\", \"all\", "
                       "\"conservative\")"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": {}})"),
                       "policy config: $.ordering (line 1, column 14) = {}: missing key \"name\" "
                       "(known: fifo, priority, shortest-first)"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"placement": {}})"),
                       "policy config: $.placement (line 1, column 15) = {}: missing key \"name\" "
                       "(known: best-fit, spread)"));
}

TEST(PolicyConfigErrors, ReservationDepthBelowOneSaysWhereAndWhy) {
  EXPECT_TRUE(FailsWithMessage(PolicyError("{\n  \"backfill\": {\n      \"reservation_depth\": 0, "
                                           "\"estimator\": \"time-limit\"}\n}"),
                               "policy config: $.backfill.reservation_depth (line 3, column 28) = "
                               "0: must be >= 1 (1 = EASY, "
                               "\"all\" = conservative)"));
  EXPECT_TRUE(FailsWithMessage(PolicyError(R"({"backfill": {"reservation_depth": -3}})"),
                               "policy config: $.backfill.reservation_depth (line 1, column 36) = "
                               "-3: must be >= 1 (1 = EASY, "
                               "\"all\" = conservative)"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"backfill": {"reservation_depth": 3000000000}})"),
      "policy config: $.backfill.reservation_depth (line 1, column 36) = 3000000000: must lie in "
      "[-2147483648, 2147483647]"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"backfill": {"reservation_depth": 1.5}})"),
                       "policy config: $.backfill.reservation_depth (line 1, column 36) = 1.5: "
                       "not an integer"));
}

TEST(PolicyConfigErrors, PreemptionLimitsSayWhereAndWhy) {
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"preemption": {"window": "0s"}})"),
      "policy config: $.preemption.window (line 1, column 27) = \"0s\": must be > 0"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"preemption": {"max_victims_per_window": 0}})"),
                       "policy config: $.preemption.max_victims_per_window (line 1, column 43) = "
                       "0: must be >= 1"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"preemption": {"max_preemptors_per_pass": -1}})"),
                       "policy config: $.preemption.max_preemptors_per_pass (line 1, column 44) "
                       "= -1: must be >= 1"));
  EXPECT_TRUE(FailsWithMessage(PolicyError(R"({"preemption": {"grace": "-1s"}})"),
                               "policy config: $.preemption.grace (line 1, column 26) = \"-1s\": "
                               "durations must not be negative"));
  EXPECT_TRUE(FailsWithMessage(PolicyError(R"({"preemption": {"min_runtime": -1}})"),
                               "policy config: $.preemption.min_runtime (line 1, column 32) = -1: "
                               "durations must not be negative"));
}

TEST(PolicyConfigErrors, OrderingOptionsSayWhereAndWhy) {
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": {"name": "priority", "aging": {"cap": -1}}})"),
                       "policy config: $.ordering.aging.cap (line 1, column 52) = -1: must be in "
                       "[0, 1000000000000]"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "aging": {"points_per_hour": 2e9}}})"),
      "policy config: $.ordering.aging.points_per_hour (line 1, column 64) = 2e9: must be in [0, "
      "1e9]"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "class_base": {"low": 5, "medium": 4}}})"),
      "policy config: $.ordering.class_base.medium (line 1, column 70) = 4: must not be below "
      "class_base[low] = 5"));
  // A rule broken against a default the document leaves out points at the
  // nearest part of the document, keeping Validate()'s words.
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "class_base": {"low": 5000000}}})"),
      "policy config: $.ordering.class_base (line 1, column 49): class_base[medium] = 1000000: "
      "must "
      "not be below class_base[low] = 5000000"));
  EXPECT_TRUE(FailsWithMessage(
      PolicyError(R"({"ordering": {"name": "priority", "class_base": {"low": 2000000000000}}})"),
      "policy config: $.ordering.class_base.low (line 1, column 57) = 2000000000000: must be "
      "within "
      "+-500000000000"));
}

TEST(PolicyConfigErrors, AnIntegerOutsideItsTypeSaysSo) {
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"ordering": {"name": "priority", "aging": {"cap": 1e30}}})"),
                       "policy config: $.ordering.aging.cap (line 1, column 52) = 1e30: outside "
                       "the 64-bit integer range"));
  EXPECT_TRUE(
      FailsWithMessage(PolicyError(R"({"preemption": {"max_preemptors_per_pass": 4294967296}})"),
                       "policy config: $.preemption.max_preemptors_per_pass (line 1, column 44) = "
                       "4294967296: must lie "
                       "in [-2147483648, 2147483647]"));
}

TEST(PolicyConfigErrors, ReportsTheFirstBadSectionInDocumentOrder) {
  EXPECT_TRUE(
      FailsMentioning(PolicyError(R"({"placement": "x", "ordering": "y"})"), {"$.placement "}));
  EXPECT_TRUE(
      FailsMentioning(PolicyError(R"({"ordering": "y", "placement": "x"})"), {"$.ordering "}));
}

// ---------------------------------------------------------------------------
// FormatPolicySet

TEST(PolicyConfigFormat, WritesEveryOptionOfTheDefaultSet) {
  EXPECT_EQ(
      FormatPolicySet(DefaultPolicySet()),
      "{\n"
      "  \"ordering\": {\"name\": \"priority\", \"class_base\": {\"low\": 0, \"medium\": 1000000, "
      "\"high\": 2000000}, \"aging\": {\"points_per_hour\": 10000, \"cap\": 200000}},\n"
      "  \"placement\": \"best-fit\",\n"
      "  \"fair_share\": false,\n"
      "  \"backfill\": false,\n"
      "  \"preemption\": false\n"
      "}\n");
}

TEST(PolicyConfigFormat, ConservativeIsWrittenByNameAndRefusesFairShareAndPreemption) {
  PolicySet p = *MakePolicySet("fifo", "best-fit");
  p.backfill = BackfillOptions{.reservation_depth = kReserveAll};
  const std::string text = FormatPolicySet(p);
  EXPECT_NE(text.find("\"reservation_depth\": \"all\""), std::string::npos) << text;
  EXPECT_EQ(Describe(MustParse(text)), Describe(p));
  EXPECT_TRUE(FailsMentioning(
      PolicyError(R"({"fair_share": {"usage_half_life": "1h"}, "backfill": {"reservation_depth": "all"}})"),
      {"$.backfill.reservation_depth", "(conservative): not with fair_share"}));
  EXPECT_TRUE(FailsMentioning(PolicyError(R"({"preemption": {}, "backfill": {"reservation_depth": "conservative"}})"),
                              {"not with preemption"}));
}

TEST(PolicyConfigFormat, WritesDurationsWithUnits) {
  PolicySet p = *MakePolicySet("fifo", "spread");
  p.fair_share = FairShareOptions{.usage_half_life = 0};
  p.backfill = BackfillOptions{.reservation_depth = 3};
  p.preemption = PreemptionOptions{.priority = false,
                                   .grace = 90 * kSecond,
                                   .min_runtime = kDay + 1,
                                   .window = 2 * kHour + 30 * kMinute};
  EXPECT_EQ(FormatPolicySet(p),
            "{\n"
            "  \"ordering\": \"fifo\",\n"
            "  \"placement\": \"spread\",\n"
            "  \"fair_share\": {\"usage_half_life\": \"0s\"},\n"
            "  \"backfill\": {\"reservation_depth\": 3, \"estimator\": \"time-limit\"},\n"
            "  \"preemption\": {\"priority\": false, \"reclaim\": true, \"grace\": \"1m30s\", "
            "\"min_runtime\": \"1d1us\", \"max_victims_per_window\": 32, \"window\": \"2h30m\", "
            "\"max_preemptors_per_pass\": 1}\n"
            "}\n");
  EXPECT_EQ(Describe(MustParse(FormatPolicySet(p))), Describe(p));
}

TEST(PolicyConfigFormat, StrictOrderRoundTripsAndRefusesBackfill) {
  PolicySet p = *MakePolicySet("fifo", "best-fit");
  p.strict_order = true;
  const std::string text = FormatPolicySet(p);
  EXPECT_NE(text.find("\"strict_order\": true"), std::string::npos) << text;
  EXPECT_EQ(Describe(MustParse(text)), Describe(p));
  EXPECT_TRUE(FailsMentioning(PolicyError(R"({"strict_order": true, "backfill": {"reservation_depth": 1}})"),
                              {"strict_order"}));
  EXPECT_TRUE(FailsMentioning(PolicyError(R"({"strict_order": "yes"})"), {"$.strict_order"}));
  EXPECT_TRUE(MustParse(R"({"ordering": "shortest-first"})").ordering->name() == "shortest-first");
}

class NamedOrdering final : public OrderingPolicy {
 public:
  std::string_view name() const override { return "my \"own\""; }
  std::int64_t BasePriority(const JobSpec&) const override { return 0; }
  AgingOptions aging() const override { return {}; }
};

TEST(PolicyConfigFormat, WritesAHostPolicyByNameWhichTheParserThenRefuses) {
  PolicySet p = DefaultPolicySet();
  p.ordering = std::make_shared<NamedOrdering>();
  const std::string text = FormatPolicySet(p);
  EXPECT_NE(text.find(R"("ordering": "my \"own\"",)"), std::string::npos) << text;
  EXPECT_TRUE(FailsMentioning(ParsePolicySet(text).status(), {"unknown ordering policy"}));
}

TEST(PolicyConfigFormat, LeavesOutANullOrderingAndPlacement) {
  PolicySet p;
  const std::string text = FormatPolicySet(p);
  EXPECT_EQ(text.find("ordering"), std::string::npos);
  EXPECT_EQ(text.find("placement"), std::string::npos);
  EXPECT_EQ(Describe(MustParse(text)), Describe(DefaultPolicySet()));
}

// ---------------------------------------------------------------------------
// Properties

Duration GenDuration() {
  return *rc::gen::oneOf(
      rc::gen::inRange<Duration>(0, 2000),
      rc::gen::map(rc::gen::inRange<Duration>(0, 1000), [](Duration n) { return n * kMinute; }),
      rc::gen::inRange<Duration>(0, 30 * kDay),
      rc::gen::inRange<Duration>(0, std::numeric_limits<Duration>::max()),
      rc::gen::just(std::numeric_limits<Duration>::max()));
}

int GenAtLeastOne() {
  return *rc::gen::oneOf(rc::gen::inRange(1, 100),
                         rc::gen::inRange(1, std::numeric_limits<int>::max()),
                         rc::gen::just(std::numeric_limits<int>::max()));
}

// Any valid PolicySet made of built-in policies.
PolicySet GenPolicySet() {
  PolicySet p;
  if (*rc::gen::arbitrary<bool>()) {
    p.ordering = NewFifoOrdering();
  } else {
    PriorityOrderingOptions o;
    constexpr std::int64_t kLimit = kMaxBasePriority / 2;
    auto bases =
        *rc::gen::container<std::vector<std::int64_t>>(3, rc::gen::inRange(-kLimit, kLimit + 1));
    std::sort(bases.begin(), bases.end());
    o.class_base = {bases[0], bases[1], bases[2]};
    o.aging.points_per_hour = *rc::gen::inRange<std::int64_t>(0, 1'000'000'001);
    o.aging.cap = *rc::gen::inRange<std::int64_t>(0, kMaxBasePriority + 1);
    p.ordering = NewPriorityOrdering(o);
  }
  p.placement = *rc::gen::arbitrary<bool>() ? NewBestFitPlacement() : NewSpreadPlacement();
  if (*rc::gen::arbitrary<bool>())
    p.fair_share = FairShareOptions{.usage_half_life = GenDuration()};
  if (*rc::gen::arbitrary<bool>()) {
    p.backfill = BackfillOptions{
        .reservation_depth = GenAtLeastOne(),
        .estimator = *rc::gen::arbitrary<bool>() ? NewTimeLimitEstimator() : nullptr};
  }
  if (*rc::gen::arbitrary<bool>()) {
    p.preemption = PreemptionOptions{.priority = *rc::gen::arbitrary<bool>(),
                                     .reclaim = *rc::gen::arbitrary<bool>(),
                                     .grace = GenDuration(),
                                     .min_runtime = GenDuration(),
                                     .max_victims_per_window = GenAtLeastOne(),
                                     .window = std::max<Duration>(1, GenDuration()),
                                     .max_preemptors_per_pass = GenAtLeastOne()};
  }
  return p;
}

RC_GTEST_PROP(PolicyConfigProperties, FormatPolicySetReadsBackToAnEquivalentSet, ()) {
  const PolicySet p = GenPolicySet();
  RC_PRE(p.Validate().ok());
  const std::string text = FormatPolicySet(p);
  absl::StatusOr<PolicySet> back = ParsePolicySet(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(Describe(*back) == Describe(p));
  RC_ASSERT(FormatPolicySet(*back) == text);
}

RC_GTEST_PROP(PolicyConfigProperties, IntegerDurationsAreMicroseconds, ()) {
  const Duration d = GenDuration();
  RC_ASSERT(HalfLife(std::to_string(d)) == d);
}

// A full document, valid, to be mangled.
constexpr std::string_view kFullDocument = R"({
  "ordering": {"name": "priority", "class_base": {"low": 0, "medium": 10, "high": 20},
               "aging": {"points_per_hour": 5, "cap": 9}},
  "placement": {"name": "spread"},
  "fair_share": {"usage_half_life": "1.5h"},
  "backfill": {"reservation_depth": 4, "estimator": "time-limit"},
  "preemption": {"priority": true, "reclaim": false, "grace": "2m30s", "min_runtime": 600000000,
                 "max_victims_per_window": 3, "window": "10m", "max_preemptors_per_pass": 1},
  "tenants": [{"name": "org", "weight": 3, "guarantee": "gpu=64,rdma=2"},
              {"name": "team", "parent": "org", "guarantee": "cpu=8", "borrowing_limit": "gpu=1",
               "lending_limit": "memory=1Gi"}]
})";

TEST(PolicyConfigProperties, TheFullDocumentIsValid) {
  absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(kFullDocument, CatalogWithRdma());
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->tenants.size(), 2u);
  EXPECT_EQ(doc->policies.fair_share->usage_half_life, 90 * kMinute);
  EXPECT_EQ(doc->policies.backfill->reservation_depth, 4);
}

// kFullDocument in YAML: block and flow styles, comments, an anchor.
constexpr std::string_view kFullYamlDocument = R"(# every section
ordering:
  name: priority
  class_base: {low: 0, medium: 10, high: 20}
  aging: {points_per_hour: 5, cap: 9}
placement: {name: spread}
fair_share: {usage_half_life: 1.5h}
backfill:
  reservation_depth: 4
  estimator: time-limit
preemption:
  priority: true
  reclaim: false
  grace: 2m30s
  min_runtime: 600000000
  max_victims_per_window: 3
  window: 10m
  max_preemptors_per_pass: 1
tenants:
  - {name: org, weight: 3, guarantee: "gpu=64,rdma=2"}
  - name: team
    parent: org
    guarantee: cpu=8
    borrowing_limit: gpu=1
    lending_limit: memory=1Gi
)";

std::string DescribeTenants(const std::vector<TenantSpec>& tenants) {
  std::string out;
  for (const TenantSpec& t : tenants) {
    out += fmt::format("{}<{} w={} g={} b={} l={};", t.name, t.parent, t.weight, t.guarantee.gpus(),
                       t.borrowing_limit ? t.borrowing_limit->gpus() : -1,
                       t.lending_limit ? t.lending_limit->memory_bytes() : -1);
  }
  return out;
}

TEST(PolicyConfigYaml, TheFullDocumentReadsAsItsJsonTwin) {
  absl::StatusOr<PolicyDocument> yaml = ParsePolicyDocument(kFullYamlDocument, CatalogWithRdma());
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  absl::StatusOr<PolicyDocument> json = ParsePolicyDocument(kFullDocument, CatalogWithRdma());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(Describe(yaml->policies), Describe(json->policies));
  EXPECT_EQ(DescribeTenants(yaml->tenants), DescribeTenants(json->tenants));
  EXPECT_EQ(yaml->tenants.size(), 2u);
}

TEST(PolicyConfigYaml, ErrorsNameThePathAndTheYamlLineAndColumn) {
  EXPECT_TRUE(FailsWithMessage(PolicyError("backfill:\n  reservation_depth: 0\n"),
                               "policy config: $.backfill.reservation_depth (line 2, column 22) = 0: must be >= 1 "
                               "(1 = EASY, \"all\" = conservative)"));
  EXPECT_TRUE(FailsMentioning(PolicyError("# c\npreemption:\n  gracee: 2m\n"),
                              {"$.preemption.gracee (line 3, column 3): unknown key \"gracee\""}));
  EXPECT_TRUE(FailsMentioning(PolicyError("fair_share: {usage_half_life: -1h}"), {"$.fair_share.usage_half_life"}));
  EXPECT_TRUE(FailsMentioning(PolicyError("backfill: yes"), {"$.backfill (line 1, column 11) = \"yes\""}));
  EXPECT_TRUE(FailsWithMessage(PolicyError("fifo"), "policy config: $ (line 1, column 1) = \"fifo\": expected an object"));
  EXPECT_TRUE(FailsWithMessage(PolicyError("backfill: true\nbackfill: false"),
                               "policy config: line 2, column 1: duplicate key \"backfill\""));
  EXPECT_TRUE(FailsMentioning(PolicyError("backfill: [1,\n"), {"policy config: line "}));
}

TEST(PolicyConfigYaml, QuotedBooleansAreStringsAndSaySo) {
  EXPECT_TRUE(FailsMentioning(PolicyError("strict_order: 'true'"), {"$.strict_order (line 1, column 15) = \"true\""}));
  EXPECT_TRUE(MustParse("strict_order: true").strict_order);
}

RC_GTEST_PROP(PolicyConfigProperties, FormatPolicySetReadsBackThroughTheYamlReader, ()) {
  // JSON is YAML's flow style: behind a comment the same text takes the YAML path.
  const PolicySet p = GenPolicySet();
  RC_PRE(p.Validate().ok());
  const std::string text = "# read as YAML\n" + FormatPolicySet(p);
  absl::StatusOr<PolicySet> back = ParsePolicySet(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(Describe(*back) == Describe(p));
}

RC_GTEST_PROP(PolicyConfigProperties, MangledDocumentsNeverCrashAndErrorsSayPolicyConfig, ()) {
  std::string text(kFullDocument);
  static const std::string kInserts[] = {"{",    "}",     "[",       "]",   ",",       ":",
                                         "\"",   "-",     "0",       "1e9", ".5",      "true",
                                         "null", "\"x\"", "\"all\"", "ms",  "\\u00e9", "\n"};
  const int edits = *rc::gen::inRange(1, 5);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text.erase(at, *rc::gen::inRange<std::size_t>(1, 6)); break;
      case 1:
        text.insert(at, kInserts[*rc::gen::inRange<std::size_t>(0, std::size(kInserts))]);
        break;
      default: text[at] = *rc::gen::arbitrary<char>(); break;
    }
  }
  absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(text, CatalogWithRdma());
  if (doc.ok()) {
    RC_ASSERT(doc->policies.Validate().ok());
    for (const TenantSpec& t : doc->tenants) RC_ASSERT(t.Validate().ok());
  } else {
    RC_ASSERT(doc.status().code() == absl::StatusCode::kInvalidArgument);
    RC_ASSERT(std::string(doc.status().message()).starts_with("policy config: "));
  }
}

RC_GTEST_PROP(PolicyConfigProperties, RandomBytesNeverCrashTheDocumentReader, ()) {
  const auto bytes = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  absl::StatusOr<PolicyDocument> doc = ParsePolicyDocument(bytes, CatalogWithRdma());
  RC_ASSERT(doc.ok() || doc.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlsched
