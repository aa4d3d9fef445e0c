// TenantTree (src/internal/tenants.h) and TenantSpec::Validate: configuration
// errors, quota admission, lending protection, dominant shares and their decay.
#include "internal/tenants.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "mlsched/tenant.h"
#include "status_matchers.h"

namespace mlsched::internal {
namespace {

using ::mlsched::testing_util::FailsMentioning;

constexpr std::int64_t kGi = std::int64_t{1} << 30;

ResourceVector Gpus(std::int64_t n) { return ResourceVector::Of(0, 0, n); }

// A cluster of `gpus` GPUs with plenty of CPU and memory.
ResourceVector Cluster(std::int64_t gpus) { return ResourceVector::Of(1'000'000, 10'000 * kGi, gpus); }

std::uint32_t Id(const TenantTree& tree, const std::string& name) {
  auto t = tree.Find(name);
  EXPECT_TRUE(t.has_value()) << name;
  return t.value_or(kRootTenant);
}

std::string Format(const ResourceVector& v) {
  std::string out;
  for (int i = 0; i < kMaxResourceKinds; ++i) out += fmt::format("{},", v.Get(ResourceKind(static_cast<std::uint8_t>(i))));
  return out;
}

// Everything Configure may touch, as text, to show that a refused call changed nothing.
std::string Snapshot(const TenantTree& tree) {
  std::string out = fmt::format("size={}\n", tree.size());
  for (std::uint32_t t = 0; t < tree.size(); ++t) {
    const TenantRec& r = tree.at(t);
    out += fmt::format("{} name={} parent={} spec.parent={} weight={} guarantee={} borrow={} lend={} children=",
                       t, r.spec.name, r.parent, r.spec.parent, r.spec.weight, Format(r.spec.guarantee),
                       r.spec.borrowing_limit ? Format(*r.spec.borrowing_limit) : "unset",
                       r.spec.lending_limit ? Format(*r.spec.lending_limit) : "unset");
    for (std::uint32_t c : r.children) out += fmt::format("{},", c);
    out += fmt::format(" usage={} protected={} children_protected={} jobs={}\n", Format(r.usage),
                       Format(r.protected_amount), Format(r.children_protected), r.jobs);
  }
  for (std::uint32_t t = 0; t < tree.size(); ++t) {
    if (t == kRootTenant) continue;
    auto found = tree.Find(tree.at(t).spec.name);
    out += fmt::format("find({})={}\n", tree.at(t).spec.name, found ? static_cast<std::int64_t>(*found) : -1);
  }
  return out;
}

// research (org) with teams vision and nlp; sandbox (org) alone.
TenantTree TwoOrgs() {
  TenantTree tree;
  EXPECT_TRUE(tree.Configure({{.name = "research", .weight = 2, .guarantee = Gpus(8)},
                              {.name = "vision", .parent = "research", .guarantee = Gpus(4),
                               .borrowing_limit = Gpus(2)},
                              {.name = "nlp", .parent = "research", .guarantee = Gpus(4)},
                              {.name = "sandbox"}})
                  .ok());
  return tree;
}

// ------------------------------------------------------------- validation

TEST(TenantSpecValidate, AcceptsOrganisationAndTeam) {
  EXPECT_TRUE((TenantSpec{.name = "research", .weight = 3, .guarantee = Gpus(8)}.Validate().ok()));
  EXPECT_TRUE((TenantSpec{.name = "vision", .parent = "research", .guarantee = Gpus(4),
                          .borrowing_limit = Gpus(0), .lending_limit = Gpus(4)}
                   .Validate()
                   .ok()));
}

TEST(TenantSpecValidate, RefusesEmptyName) {
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = ""}.Validate(), {"name", "must not be empty"}));
}

TEST(TenantSpecValidate, RefusesWeightZero) {
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "a", .weight = 0}.Validate(), {"tenant \"a\"", "weight = 0"}));
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "a", .weight = -4}.Validate(), {"weight = -4"}));
}

TEST(TenantSpecValidate, RefusesNegativeQuotas) {
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "a", .guarantee = Gpus(-1)}.Validate(),
                              {"tenant \"a\"", "guarantee", "-1", ">= 0"}));
  EXPECT_TRUE(FailsMentioning(
      TenantSpec{.name = "a", .parent = "p", .borrowing_limit = Gpus(-2)}.Validate(), {"borrowing_limit", "-2"}));
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "a", .lending_limit = Gpus(-3)}.Validate(),
                              {"lending_limit", "-3"}));
}

TEST(TenantSpecValidate, RefusesBorrowingLimitOnOrganisation) {
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "org", .borrowing_limit = Gpus(4)}.Validate(),
                              {"tenant \"org\"", "borrowing_limit", "organisation"}));
}

TEST(TenantSpecValidate, RefusesOwnParent) {
  EXPECT_TRUE(FailsMentioning(TenantSpec{.name = "a", .parent = "a"}.Validate(), {"own parent"}));
}

// -------------------------------------------------------------- configure

TEST(TenantTreeConfigure, BuildsTheHierarchy) {
  const TenantTree tree = TwoOrgs();
  const std::uint32_t research = Id(tree, "research"), vision = Id(tree, "vision"), nlp = Id(tree, "nlp"),
                      sandbox = Id(tree, "sandbox");
  EXPECT_EQ(tree.at(research).parent, kRootTenant);
  EXPECT_EQ(tree.at(vision).parent, research);
  EXPECT_EQ(tree.at(nlp).parent, research);
  EXPECT_EQ(tree.at(sandbox).parent, kRootTenant);
  EXPECT_EQ(tree.at(research).children, (std::vector<std::uint32_t>{vision, nlp}));
  EXPECT_FALSE(tree.at(research).leaf());
  EXPECT_TRUE(tree.at(vision).leaf());
  EXPECT_EQ(tree.at(research).spec.weight, 2);
  EXPECT_EQ(tree.at(vision).spec.borrowing_limit, Gpus(2));
}

TEST(TenantTreeConfigure, ParentMayBeListedAfterItsChild) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "team", .parent = "org"}, {.name = "org"}}).ok());
  EXPECT_EQ(tree.at(Id(tree, "team")).parent, Id(tree, "org"));
}

TEST(TenantTreeConfigure, UpdatesExistingTenantsInPlace) {
  TenantTree tree = TwoOrgs();
  const std::uint32_t vision = Id(tree, "vision");
  ASSERT_TRUE(tree.Configure({{.name = "vision", .parent = "research", .weight = 5, .guarantee = Gpus(6)}}).ok());
  EXPECT_EQ(Id(tree, "vision"), vision);
  EXPECT_EQ(tree.at(vision).spec.weight, 5);
  EXPECT_EQ(tree.at(vision).spec.guarantee, Gpus(6));
  EXPECT_FALSE(tree.at(vision).spec.borrowing_limit.has_value());
}

TEST(TenantTreeConfigure, MovesAnIdleTenant) {
  TenantTree tree = TwoOrgs();
  ASSERT_TRUE(tree.Configure({{.name = "nlp", .parent = "sandbox"}}).ok());
  const std::uint32_t nlp = Id(tree, "nlp"), sandbox = Id(tree, "sandbox"), research = Id(tree, "research");
  EXPECT_EQ(tree.at(nlp).parent, sandbox);
  EXPECT_EQ(tree.at(sandbox).children, std::vector<std::uint32_t>{nlp});
  EXPECT_EQ(tree.at(research).children, std::vector<std::uint32_t>{Id(tree, "vision")});
}

TEST(TenantTreeConfigure, UnknownParentChangesNothing) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  EXPECT_TRUE(FailsMentioning(tree.Configure({{.name = "fresh"}, {.name = "team", .parent = "nope"}}),
                              {"tenant \"team\"", "parent = \"nope\"", "unknown tenant"}));
  EXPECT_EQ(Snapshot(tree), before);
  EXPECT_FALSE(tree.Find("fresh").has_value());
}

TEST(TenantTreeConfigure, CycleThroughExistingTenantsNamesThePath) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  const absl::Status s = tree.Configure({{.name = "research", .parent = "vision"}});
  EXPECT_TRUE(FailsMentioning(s, {"cycle", "research -> vision -> research"}));
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, CycleInsideTheSetNamesThePath) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  const absl::Status s = tree.Configure(
      {{.name = "x", .parent = "y"}, {.name = "y", .parent = "z"}, {.name = "z", .parent = "x"}});
  EXPECT_TRUE(FailsMentioning(s, {"cycle", "x -> y -> z -> x"}));
  EXPECT_EQ(Snapshot(tree), before);
  EXPECT_FALSE(tree.Find("x").has_value());
}

TEST(TenantTreeConfigure, TenantListedTwiceChangesNothing) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  EXPECT_TRUE(FailsMentioning(tree.Configure({{.name = "research", .weight = 7}, {.name = "ops"},
                                              {.name = "ops", .weight = 2}}),
                              {"tenant \"ops\"", "listed twice"}));
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, BorrowingLimitOnOrganisationChangesNothing) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  EXPECT_TRUE(FailsMentioning(
      tree.Configure({{.name = "research", .weight = 9}, {.name = "sandbox", .borrowing_limit = Gpus(1)}}),
      {"tenant \"sandbox\"", "borrowing_limit"}));
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, NegativeQuotaChangesNothing) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  EXPECT_TRUE(FailsMentioning(
      tree.Configure({{.name = "research", .weight = 9}, {.name = "nlp", .parent = "research", .guarantee = Gpus(-4)}}),
      {"tenant \"nlp\"", "guarantee"}));
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, WeightZeroChangesNothing) {
  TenantTree tree = TwoOrgs();
  const std::string before = Snapshot(tree);
  EXPECT_TRUE(FailsMentioning(tree.Configure({{.name = "new-org"}, {.name = "sandbox", .weight = 0}}),
                              {"tenant \"sandbox\"", "weight = 0"}));
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, ChildrenForATenantWithJobsAreRefused) {
  TenantTree tree = TwoOrgs();
  tree.mutable_at(Id(tree, "nlp")).jobs = 3;
  const std::string before = Snapshot(tree);
  const absl::Status s = tree.Configure({{.name = "sandbox", .weight = 4}, {.name = "nlp-sub", .parent = "nlp"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("\"nlp\""), std::string_view::npos) << s;
  EXPECT_EQ(Snapshot(tree), before);
  // Moving an existing tenant under it is the same mistake.
  EXPECT_EQ(tree.Configure({{.name = "sandbox", .parent = "nlp"}}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Snapshot(tree), before);
}

TEST(TenantTreeConfigure, MovingATenantThatHoldsResourcesIsRefused) {
  TenantTree tree = TwoOrgs();
  tree.AddUsage(Id(tree, "nlp"), Gpus(1), +1, 0);
  const std::string before = Snapshot(tree);
  const absl::Status s = tree.Configure({{.name = "vision", .parent = "research", .weight = 3},
                                         {.name = "nlp", .parent = "sandbox"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("\"nlp\""), std::string_view::npos) << s;
  EXPECT_EQ(Snapshot(tree), before);
  // Its organisation holds the same resources through it.
  EXPECT_EQ(tree.Configure({{.name = "research", .parent = "sandbox"}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Snapshot(tree), before);
  // Updating it without moving is fine.
  EXPECT_TRUE(tree.Configure({{.name = "nlp", .parent = "research", .weight = 2}}).ok());
}

TEST(TenantTreeConfigure, FindOrCreateMakesADefaultOrganisation) {
  TenantTree tree;
  const std::uint32_t t = tree.FindOrCreate("adhoc");
  EXPECT_EQ(tree.FindOrCreate("adhoc"), t);
  EXPECT_EQ(tree.at(t).parent, kRootTenant);
  EXPECT_EQ(tree.at(t).spec.weight, 1);
  EXPECT_TRUE(tree.at(t).spec.guarantee.IsZero());
  EXPECT_FALSE(tree.at(t).spec.borrowing_limit.has_value());
}

// -------------------------------------------------------------- admission

TEST(TenantQuota, BorrowingLimitCapsUsage) {
  TenantTree tree = TwoOrgs();  // vision: guarantee 4 + borrowing limit 2
  const std::uint32_t vision = Id(tree, "vision");
  const ResourceVector cluster = Cluster(100);
  QuotaBlock why;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(tree.Admits(vision, Gpus(1), cluster, &why)) << "usage " << i;
    tree.AddUsage(vision, Gpus(1), +1, 0);
  }
  EXPECT_FALSE(tree.Admits(vision, Gpus(1), cluster, &why));
  EXPECT_EQ(why.tenant, vision);
  EXPECT_EQ(why.kind, kGpu.index());
  EXPECT_FALSE(why.sibling_protection);
  // A request that does not fit as a whole is refused too.
  tree.AddUsage(vision, Gpus(3), -1, 0);
  EXPECT_FALSE(tree.Admits(vision, Gpus(4), cluster, &why));
  EXPECT_TRUE(tree.Admits(vision, Gpus(3), cluster, &why));
  // Its sibling without a limit is not affected.
  EXPECT_TRUE(tree.Admits(Id(tree, "nlp"), Gpus(50), cluster, &why));
}

TEST(TenantQuota, BorrowingLimitOfAGroupCapsItsTeams) {
  // org > lab (guarantee 4 + 2) > teams a, b without limits of their own.
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "org", .guarantee = Gpus(16)},
                              {.name = "lab", .parent = "org", .guarantee = Gpus(4), .borrowing_limit = Gpus(2)},
                              {.name = "a", .parent = "lab", .guarantee = Gpus(2)},
                              {.name = "b", .parent = "lab", .guarantee = Gpus(2)},
                              {.name = "c", .parent = "org"}})
                  .ok());
  const std::uint32_t lab = Id(tree, "lab"), a = Id(tree, "a"), b = Id(tree, "b");
  const ResourceVector cluster = Cluster(100);
  QuotaBlock why;
  tree.AddUsage(a, Gpus(4), +1, 0);
  ASSERT_TRUE(tree.Admits(b, Gpus(2), cluster, &why));
  tree.AddUsage(b, Gpus(2), +1, 0);
  EXPECT_EQ(tree.at(lab).usage, Gpus(6));
  EXPECT_FALSE(tree.Admits(a, Gpus(1), cluster, &why));
  EXPECT_EQ(why.tenant, lab);
  EXPECT_FALSE(tree.Admits(b, Gpus(1), cluster, &why));
  EXPECT_EQ(why.tenant, lab);
  // Outside the lab, the org still has room.
  EXPECT_TRUE(tree.Admits(Id(tree, "c"), Gpus(10), cluster, &why));
  // Once a team releases, the others may grow again.
  tree.AddUsage(a, Gpus(1), -1, 0);
  EXPECT_TRUE(tree.Admits(b, Gpus(1), cluster, &why));
}

TEST(TenantQuota, TheTightestLimitOnThePathBlocks) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "org"},
                              {.name = "lab", .parent = "org", .guarantee = Gpus(8), .borrowing_limit = Gpus(0)},
                              {.name = "team", .parent = "lab", .guarantee = Gpus(2), .borrowing_limit = Gpus(1)}})
                  .ok());
  const std::uint32_t team = Id(tree, "team");
  QuotaBlock why;
  tree.AddUsage(team, Gpus(3), +1, 0);
  EXPECT_FALSE(tree.Admits(team, Gpus(1), Cluster(100), &why));
  EXPECT_EQ(why.tenant, team);  // checked from the leaf up
}

TEST(TenantQuota, LimitsApplyPerResourceKind) {
  // Each kind is held to its own guarantee + borrowing limit; the block names the kind.
  TenantTree tree;
  const ResourceVector limit = ResourceVector::Of(8000, 64 * kGi, 2);
  ASSERT_TRUE(tree.Configure({{.name = "org"},
                              {.name = "team", .parent = "org", .guarantee = ResourceVector::Of(8000, 64 * kGi, 2),
                               .borrowing_limit = limit}})
                  .ok());
  const std::uint32_t team = Id(tree, "team");
  QuotaBlock why;
  tree.AddUsage(team, ResourceVector::Of(1000, kGi, 4), +1, 0);
  EXPECT_FALSE(tree.Admits(team, ResourceVector::Of(1000, kGi, 1), Cluster(100), &why));
  EXPECT_EQ(why.kind, kGpu.index());
  EXPECT_TRUE(tree.Admits(team, ResourceVector::Of(15'000, 127 * kGi, 0), Cluster(100), &why));
  EXPECT_FALSE(tree.Admits(team, ResourceVector::Of(15'001, kGi, 0), Cluster(100), &why));
  EXPECT_EQ(why.kind, kCpu.index());
}

TEST(TenantQuota, BorrowingLimitDoesNotCapKindsNobodyHasQuotaOf) {
  // As in tenant.h's example: GPU guarantee and limit only. CPU and memory are
  // not quota-managed, so the limit's zero CPU must not keep the team's jobs
  // (which always ask for some CPU and memory) out.
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "research", .guarantee = Gpus(8)},
                              {.name = "vision", .parent = "research", .guarantee = Gpus(4),
                               .borrowing_limit = Gpus(2)}})
                  .ok());
  const std::uint32_t vision = Id(tree, "vision");
  const ResourceVector job = ResourceVector::Of(4000, 16 * kGi, 1);
  QuotaBlock why;
  EXPECT_TRUE(tree.Admits(vision, job, Cluster(100), &why))
      << "blocked by tenant " << why.tenant << " in kind " << why.kind;
  tree.AddUsage(vision, job.Times(6), +1, 0);
  EXPECT_FALSE(tree.Admits(vision, job, Cluster(100), &why));
  EXPECT_EQ(why.kind, kGpu.index());
}

TEST(TenantLending, ProtectedIdleGuaranteeOfAnOrganisationCannotBeBorrowed) {
  // Cluster of 10 GPUs; lender is guaranteed 6 and lends at most 2: 4 stay free for it.
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "lender", .guarantee = Gpus(6), .lending_limit = Gpus(2)},
                              {.name = "borrower", .guarantee = Gpus(4)}})
                  .ok());
  const std::uint32_t lender = Id(tree, "lender"), borrower = Id(tree, "borrower");
  const ResourceVector cluster = Cluster(10);
  EXPECT_EQ(tree.at(lender).protected_amount, Gpus(4));
  EXPECT_EQ(tree.at(kRootTenant).children_protected, Gpus(4));
  QuotaBlock why;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(tree.Admits(borrower, Gpus(1), cluster, &why)) << "usage " << i;
    tree.AddUsage(borrower, Gpus(1), +1, 0);
  }
  EXPECT_FALSE(tree.Admits(borrower, Gpus(1), cluster, &why));
  EXPECT_EQ(why.tenant, borrower);
  EXPECT_EQ(why.kind, kGpu.index());
  EXPECT_TRUE(why.sibling_protection);
  // The lender itself may use what is kept for it.
  EXPECT_TRUE(tree.Admits(lender, Gpus(4), cluster, &why));
}

TEST(TenantLending, ProtectionShrinksAsTheOwnerUsesItsGuarantee) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "lender", .guarantee = Gpus(6), .lending_limit = Gpus(2)},
                              {.name = "borrower"}})
                  .ok());
  const std::uint32_t lender = Id(tree, "lender"), borrower = Id(tree, "borrower");
  const ResourceVector cluster = Cluster(10);
  QuotaBlock why;
  tree.AddUsage(lender, Gpus(3), +1, 0);
  EXPECT_EQ(tree.at(lender).protected_amount, Gpus(1));
  EXPECT_EQ(tree.at(kRootTenant).children_protected, Gpus(1));
  // 7 free, 1 still protected: the borrower gets 6.
  EXPECT_TRUE(tree.Admits(borrower, Gpus(6), cluster, &why));
  EXPECT_FALSE(tree.Admits(borrower, Gpus(7), cluster, &why));
  EXPECT_TRUE(why.sibling_protection);
  tree.AddUsage(lender, Gpus(1), +1, 0);
  EXPECT_TRUE(tree.at(lender).protected_amount.IsZero());
  EXPECT_TRUE(tree.at(kRootTenant).children_protected.IsZero());
  // Nothing protected any more: every free GPU can be borrowed.
  EXPECT_TRUE(tree.Admits(borrower, Gpus(6), cluster, &why));
  // Using beyond the guarantee leaves protection at zero, not negative.
  tree.AddUsage(lender, Gpus(3), +1, 0);
  EXPECT_TRUE(tree.at(lender).protected_amount.IsZero());
  // And releasing restores it.
  tree.AddUsage(lender, Gpus(7), -1, 0);
  EXPECT_EQ(tree.at(lender).protected_amount, Gpus(4));
  EXPECT_EQ(tree.at(kRootTenant).children_protected, Gpus(4));
}

TEST(TenantLending, ProtectionInsideAGroupWithALimit) {
  // lab: 8 + 0; team a guaranteed 4 lending 1 (3 protected); team b borrows.
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "org"},
                              {.name = "lab", .parent = "org", .guarantee = Gpus(8), .borrowing_limit = Gpus(0)},
                              {.name = "a", .parent = "lab", .guarantee = Gpus(4), .lending_limit = Gpus(1)},
                              {.name = "b", .parent = "lab", .guarantee = Gpus(4)}})
                  .ok());
  const std::uint32_t a = Id(tree, "a"), b = Id(tree, "b"), lab = Id(tree, "lab");
  EXPECT_EQ(tree.at(lab).children_protected, Gpus(3));
  const ResourceVector cluster = Cluster(100);
  QuotaBlock why;
  EXPECT_TRUE(tree.Admits(b, Gpus(5), cluster, &why));
  EXPECT_FALSE(tree.Admits(b, Gpus(6), cluster, &why));
  EXPECT_TRUE(why.sibling_protection);
  EXPECT_EQ(why.tenant, b);
  tree.AddUsage(a, Gpus(2), +1, 0);
  EXPECT_EQ(tree.at(lab).children_protected, Gpus(1));
  EXPECT_TRUE(tree.Admits(b, Gpus(5), cluster, &why));
  EXPECT_FALSE(tree.Admits(b, Gpus(6), cluster, &why));
  tree.AddUsage(a, Gpus(1), +1, 0);
  EXPECT_TRUE(tree.at(lab).children_protected.IsZero());
  EXPECT_TRUE(tree.Admits(b, Gpus(5), cluster, &why));
}

TEST(TenantLending, LendingEverythingProtectsNothing) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "lender", .guarantee = Gpus(6), .lending_limit = Gpus(6)},
                              {.name = "open", .guarantee = Gpus(6)},
                              {.name = "borrower"}})
                  .ok());
  EXPECT_TRUE(tree.at(Id(tree, "lender")).protected_amount.IsZero());
  EXPECT_TRUE(tree.at(Id(tree, "open")).protected_amount.IsZero());  // unset lends all
  QuotaBlock why;
  EXPECT_TRUE(tree.Admits(Id(tree, "borrower"), Gpus(10), Cluster(10), &why));
}

TEST(TenantGuarantee, WithinGuaranteeAndBorrowing) {
  TenantTree tree = TwoOrgs();
  const std::uint32_t vision = Id(tree, "vision"), sandbox = Id(tree, "sandbox");
  EXPECT_TRUE(tree.WithinGuarantee(vision, Gpus(4)));
  EXPECT_FALSE(tree.WithinGuarantee(vision, Gpus(5)));
  EXPECT_FALSE(tree.Borrowing(vision, Gpus(1)));
  tree.AddUsage(vision, Gpus(3), +1, 0);
  EXPECT_TRUE(tree.WithinGuarantee(vision, Gpus(1)));
  EXPECT_FALSE(tree.WithinGuarantee(vision, Gpus(2)));
  EXPECT_FALSE(tree.Borrowing(vision, Gpus(1)));
  tree.AddUsage(vision, Gpus(2), +1, 0);
  EXPECT_TRUE(tree.Borrowing(vision, Gpus(1)));
  // Only kinds the caller is interested in count.
  EXPECT_FALSE(tree.Borrowing(vision, ResourceVector::Of(1000, 0, 0)));
  // Kinds nobody is guaranteed are not quota-managed: using them is not borrowing.
  tree.AddUsage(sandbox, ResourceVector::Of(4000, kGi, 0), +1, 0);
  EXPECT_FALSE(tree.Borrowing(sandbox, ResourceVector::Of(1000, kGi, 0)));
  // A tenant without any guarantee of the asked kinds is never "within guarantee".
  EXPECT_FALSE(tree.WithinGuarantee(sandbox, Gpus(1)));
  EXPECT_FALSE(tree.WithinGuarantee(vision, ResourceVector::Of(1000, 0, 0)));
  // Kinds without a guarantee are ignored when another kind is guaranteed.
  tree.AddUsage(vision, Gpus(5), -1, 0);
  EXPECT_TRUE(tree.WithinGuarantee(vision, ResourceVector::Of(1000, kGi, 4)));
}

// ------------------------------------------------------------------ shares

TEST(TenantShares, WeightedDominantShare) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "heavy", .weight = 2}, {.name = "light"}}).ok());
  const std::uint32_t heavy = Id(tree, "heavy"), light = Id(tree, "light");
  const ResourceVector cluster = ResourceVector::Of(100'000, 1000 * kGi, 16);
  // heavy: cpu 50%, gpu 25% -> 0.5 / 2; light: cpu 10%, gpu 50% -> 0.5.
  tree.AddUsage(heavy, ResourceVector::Of(50'000, 0, 4), +1, 0);
  tree.AddUsage(light, ResourceVector::Of(10'000, 100 * kGi, 8), +1, 0);
  tree.ComputeShares(0, cluster);
  EXPECT_DOUBLE_EQ(tree.at(heavy).share, 0.25);
  EXPECT_DOUBLE_EQ(tree.at(light).share, 0.5);
  // Kinds the cluster has none of do not count (no division by zero).
  ResourceVector extended;
  extended.Set(ResourceKind(5), 3);
  tree.AddUsage(light, extended, +1, 0);
  tree.ComputeShares(0, cluster);
  EXPECT_DOUBLE_EQ(tree.at(light).share, 0.5);
}

TEST(TenantShares, ParentShareCountsItsChildrenAndItsOwnWeight) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "org", .weight = 4}, {.name = "a", .parent = "org"},
                              {.name = "b", .parent = "org", .weight = 3}})
                  .ok());
  tree.AddUsage(Id(tree, "a"), Gpus(2), +1, 0);
  tree.AddUsage(Id(tree, "b"), Gpus(6), +1, 0);
  tree.ComputeShares(0, Gpus(16));
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "org")).share, 0.5 / 4);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "a")).share, 2.0 / 16);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "b")).share, 6.0 / 16 / 3);
}

TEST(TenantShares, UpdateSharesRecomputesThePathOnly) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "org"}, {.name = "a", .parent = "org"}, {.name = "other"}}).ok());
  const ResourceVector cluster = Gpus(10);
  tree.ComputeShares(0, cluster);
  tree.AddUsage(Id(tree, "a"), Gpus(5), +1, 0);
  tree.AddUsage(Id(tree, "other"), Gpus(2), +1, 0);
  tree.UpdateShares(Id(tree, "a"), 0, cluster);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "a")).share, 0.5);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "org")).share, 0.5);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "other")).share, 0);  // until the next full recompute
  tree.ComputeShares(0, cluster);
  EXPECT_DOUBLE_EQ(tree.at(Id(tree, "other")).share, 0.2);
}

TEST(TenantShares, DecayedUsageApproachesTheAllocationAndDecaysBack) {
  TenantTree tree;
  const Duration h = kHour;
  tree.set_half_life(h);
  ASSERT_TRUE(tree.Configure({{.name = "a"}}).ok());
  const std::uint32_t a = Id(tree, "a");
  const ResourceVector cluster = Gpus(16);
  const Timestamp t0 = 100 * kHour;
  tree.ComputeShares(t0, cluster);
  tree.AddUsage(a, Gpus(8), +1, t0);
  tree.ComputeShares(t0, cluster);
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0);  // nothing used yet
  tree.ComputeShares(t0 + h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.25, 1e-12);  // half-way from 0 to 8/16
  tree.ComputeShares(t0 + 2 * h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.375, 1e-12);
  // Advancing in several small steps gives the same value as one big step.
  tree.ComputeShares(t0 + 2 * h + h / 3, cluster);
  tree.ComputeShares(t0 + 3 * h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.4375, 1e-12);
  tree.ComputeShares(t0 + 40 * h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.5, 1e-9);
  // Release: the average decays back towards 0, halving per half-life.
  const Timestamp t1 = t0 + 40 * h;
  tree.AddUsage(a, Gpus(8), -1, t1);
  tree.ComputeShares(t1 + h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.25, 1e-9);
  tree.ComputeShares(t1 + 2 * h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0.125, 1e-9);
  tree.ComputeShares(t1 + 60 * h, cluster);
  EXPECT_NEAR(tree.at(a).share, 0, 1e-9);
}

TEST(TenantShares, DecayWeighsPiecewiseConstantUsageExactly) {
  // 4 GPUs for one half-life, then 12: decayed = (0.5*4)*0.5 + 12*0.5 = 7.
  TenantTree tree;
  tree.set_half_life(10 * kMinute);
  ASSERT_TRUE(tree.Configure({{.name = "a"}}).ok());
  const std::uint32_t a = Id(tree, "a");
  tree.AddUsage(a, Gpus(4), +1, 0);
  tree.AddUsage(a, Gpus(8), +1, 10 * kMinute);
  tree.ComputeShares(20 * kMinute, Gpus(14));
  EXPECT_NEAR(tree.at(a).share, 7.0 / 14, 1e-12);
}

// The decay factor of an interval is remembered for the tenants advanced
// over the same interval; a new half-life must not reuse it.
TEST(TenantShares, ANewHalfLifeDecaysAtItsOwnRate) {
  TenantTree tree;
  tree.set_half_life(kHour);
  ASSERT_TRUE(tree.Configure({{.name = "a"}, {.name = "b"}}).ok());
  const std::uint32_t a = Id(tree, "a"), b = Id(tree, "b");
  tree.AddUsage(a, Gpus(8), +1, 0);
  tree.AddUsage(b, Gpus(8), +1, 0);
  tree.ComputeShares(kHour, Gpus(16));  // both advanced by one half-life
  EXPECT_NEAR(tree.at(a).share, 0.25, 1e-12);
  EXPECT_NEAR(tree.at(b).share, 0.25, 1e-12);
  tree.set_half_life(2 * kHour);
  tree.ComputeShares(2 * kHour, Gpus(16));  // the same interval, half the rate: 8 - 4 / sqrt(2)
  EXPECT_NEAR(tree.at(a).share, (8 - 4 / std::sqrt(2.0)) / 16, 1e-12);
  EXPECT_NEAR(tree.at(b).share, tree.at(a).share, 1e-15);
}

TEST(TenantShares, WithoutHalfLifeTheShareIsTheCurrentAllocation) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "a"}}).ok());
  const std::uint32_t a = Id(tree, "a");
  tree.AddUsage(a, Gpus(8), +1, 0);
  tree.ComputeShares(0, Gpus(16));
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0.5);
  tree.AddUsage(a, Gpus(8), -1, kHour);
  tree.ComputeShares(kHour, Gpus(16));
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0);
}

// Without decay only tenants whose usage moved are recomputed; a change of
// weight or of the cluster's capacity moves shares with no usage moving.
TEST(TenantShares, WeightAndCapacityChangesMoveSharesWithoutUsageMoving) {
  TenantTree tree;
  ASSERT_TRUE(tree.Configure({{.name = "a"}, {.name = "b"}}).ok());
  const std::uint32_t a = Id(tree, "a"), b = Id(tree, "b");
  tree.AddUsage(a, Gpus(8), +1, 0);
  tree.AddUsage(b, Gpus(4), +1, 0);
  tree.ComputeShares(0, Gpus(16));
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0.5);
  EXPECT_DOUBLE_EQ(tree.at(b).share, 0.25);
  tree.ComputeShares(kMinute, Gpus(32));  // nodes joined
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0.25);
  EXPECT_DOUBLE_EQ(tree.at(b).share, 0.125);
  ASSERT_TRUE(tree.Configure({{.name = "a", .weight = 2}}).ok());
  tree.ComputeShares(2 * kMinute, Gpus(32));
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0.125);
  EXPECT_DOUBLE_EQ(tree.at(b).share, 0.125);
  tree.AddUsage(b, Gpus(4), +1, 3 * kMinute);  // only b moved
  tree.ComputeShares(3 * kMinute, Gpus(32));
  EXPECT_DOUBLE_EQ(tree.at(a).share, 0.125);
  EXPECT_DOUBLE_EQ(tree.at(b).share, 0.25);
  const std::uint32_t c = tree.FindOrCreate("c");  // a new tenant starts at nothing
  tree.ComputeShares(4 * kMinute, Gpus(32));
  EXPECT_DOUBLE_EQ(tree.at(c).share, 0);
  EXPECT_DOUBLE_EQ(tree.at(b).share, 0.25);
}

// --------------------------------------------------------------- property

// A random forest: tenant i > 0 hangs under a random earlier tenant or is an
// organisation; some have lending limits. Usage is added to and removed from
// random leaves; after every step each tenant's usage is its own leaf usage
// plus the sum of its children's, and children_protected is the sum of the
// children's protected amounts.
RC_GTEST_PROP(TenantTreeInvariants, UsageAndProtectionAreSumsOverChildren, ()) {
  const int n = *rc::gen::inRange(1, 12);
  std::vector<TenantSpec> specs;
  for (int i = 0; i < n; ++i) {
    TenantSpec s{.name = "t" + std::to_string(i)};
    if (i > 0 && *rc::gen::inRange(0, 3) > 0) s.parent = "t" + std::to_string(*rc::gen::inRange(0, i));
    s.guarantee = ResourceVector::Of(*rc::gen::inRange(0, 8000), 0, *rc::gen::inRange(0, 8));
    if (*rc::gen::arbitrary<bool>()) {
      s.lending_limit = ResourceVector::Of(*rc::gen::inRange(0, 8000), 0, *rc::gen::inRange(0, 8));
    }
    specs.push_back(s);
  }
  TenantTree tree;
  RC_ASSERT(tree.Configure(specs).ok());
  std::vector<std::uint32_t> leaves;
  for (std::uint32_t t = 1; t < tree.size(); ++t)
    if (tree.at(t).leaf()) leaves.push_back(t);
  RC_ASSERT(!leaves.empty());

  std::vector<ResourceVector> own(tree.size());  // what the model added to each leaf
  const int steps = *rc::gen::inRange(1, 60);
  Timestamp now = 0;
  for (int step = 0; step < steps; ++step) {
    const std::uint32_t leaf = leaves[*rc::gen::inRange<std::size_t>(0, leaves.size())];
    ResourceVector r = ResourceVector::Of(*rc::gen::inRange(0, 4000), *rc::gen::inRange(0, 4) * kGi,
                                          *rc::gen::inRange(0, 4));
    // Remove only what the leaf holds.
    const bool remove = *rc::gen::arbitrary<bool>() && r.FitsIn(own[leaf]);
    tree.AddUsage(leaf, r, remove ? -1 : +1, now);
    if (remove) {
      own[leaf] -= r;
    } else {
      own[leaf] += r;
    }
    now += *rc::gen::inRange(0, 100);

    for (std::uint32_t t = 0; t < tree.size(); ++t) {
      const TenantRec& rec = tree.at(t);
      ResourceVector usage = own[t], prot;
      for (std::uint32_t c : rec.children) {
        RC_ASSERT(tree.at(c).parent == t);
        usage += tree.at(c).usage;
        prot += tree.at(c).protected_amount;
      }
      RC_ASSERT(rec.usage == usage);
      RC_ASSERT(rec.children_protected == prot);
      RC_ASSERT(!rec.usage.AnyNegative());
      if (t != kRootTenant) {
        // protected = max(0, guarantee - lending limit - usage), per kind.
        ResourceVector expected;
        if (rec.spec.lending_limit) {
          for (int k = 0; k < kMaxResourceKinds; ++k) {
            const ResourceKind kind(static_cast<std::uint8_t>(k));
            expected.Set(kind, std::max<std::int64_t>(0, std::max<std::int64_t>(
                                                             0, rec.spec.guarantee.Get(kind) -
                                                                    rec.spec.lending_limit->Get(kind)) -
                                                             rec.usage.Get(kind)));
          }
        }
        RC_ASSERT(rec.protected_amount == expected);
      }
    }
  }
}

// Shares brought up to date only for the tenants whose usage moved equal
// shares computed from scratch (no decay: usage / capacity, the dominant
// kind, over the weight), whatever mix of usage, weight and capacity
// changes came between passes. Leaves hang under organisations or the root;
// an organisation's usage is its leaves'.
RC_GTEST_PROP(TenantShareInvariants, IncrementalSharesEqualSharesFromScratch, ()) {
  const int orgs = *rc::gen::inRange(0, 3);
  const int n = *rc::gen::inRange(1, 6);
  TenantTree tree;
  std::vector<TenantSpec> specs;  // organisations first, then leaves
  for (int o = 0; o < orgs; ++o) specs.push_back({.name = fmt::format("org{}", o)});
  std::vector<int> org_of(n, -1);
  for (int i = 0; i < n; ++i) {
    org_of[i] = orgs > 0 ? *rc::gen::inRange(-1, orgs) : -1;
    specs.push_back({.name = fmt::format("t{}", i), .parent = org_of[i] < 0 ? "" : fmt::format("org{}", org_of[i])});
  }
  RC_ASSERT(tree.Configure(specs).ok());
  std::vector<std::uint32_t> ids;
  for (const TenantSpec& spec : specs) ids.push_back(*tree.Find(spec.name));
  ResourceVector capacity = ResourceVector::Of(64'000, 0, 64);
  std::vector<ResourceVector> held(specs.size());  // by spec: a leaf's own, an organisation's sum
  const int steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 10);
    const int i = *rc::gen::inRange(0, n);
    const std::size_t leaf = static_cast<std::size_t>(orgs + i);
    auto add = [&](const ResourceVector& r, int sign) {
      tree.AddUsage(ids[leaf], r, sign, step);
      for (std::size_t k : {leaf, static_cast<std::size_t>(org_of[i] < 0 ? leaf : org_of[i])}) {
        if (sign > 0) held[k] += r;
        if (sign < 0) held[k] -= r;
        if (org_of[i] < 0) break;
      }
    };
    if (op < 6) {
      add(ResourceVector::Of(*rc::gen::inRange(0, 8'000), 0, *rc::gen::inRange(0, 8)), +1);
    } else if (op < 8) {
      add(ResourceVector(held[leaf]), -1);
    } else if (op == 8) {
      const std::size_t k = static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(specs.size())));
      specs[k].weight = *rc::gen::inRange(1, 5);
      RC_ASSERT(tree.Configure({specs[k]}).ok());
    } else {
      capacity = ResourceVector::Of(*rc::gen::inRange(1, 8) * 16'000, 0, *rc::gen::inRange(0, 8) * 16);
    }
    if (*rc::gen::inRange(0, 3) == 0) continue;  // no pass yet
    tree.ComputeShares(step, capacity);
    for (std::size_t k = 0; k < specs.size(); ++k) {
      double dominant = 0;
      for (ResourceKind kind : {kCpu, kGpu}) {
        if (capacity.Get(kind) > 0)
          dominant = std::max(dominant, static_cast<double>(held[k].Get(kind)) / static_cast<double>(capacity.Get(kind)));
      }
      RC_ASSERT(tree.at(ids[k]).share == dominant / static_cast<double>(specs[k].weight));
    }
  }
}

}  // namespace
}  // namespace mlsched::internal
