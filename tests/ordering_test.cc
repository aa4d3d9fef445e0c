// Ordering policies: base priorities, aging, option validation, policy sets
// by name, and the order in which a real Engine starts jobs under each.
//
// Engine scenarios use one node with a single GPU, so at most one 1-GPU job
// runs at a time and the sequence of starts is the queue order.
#include "mlsched/policy/ordering.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mlsched/clock.h"
#include "mlsched/engine.h"
#include "mlsched/policy/policy_set.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {
namespace {

// Substring check with a readable failure (gmock is not linked).
::testing::AssertionResult HasText(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

constexpr std::int64_t kGiB = std::int64_t{1} << 30;

NodeSpec GpuNode(std::string name, int gpus) {
  NodeSpec n{.name = std::move(name), .capacity = ResourceVector::Of(64'000, 512 * kGiB, 0)};
  for (int i = 0; i < gpus; ++i) {
    n.gpus.push_back({.index = i, .uuid = "GPU-" + std::to_string(i), .model = "A100",
                      .memory_bytes = 80 * kGiB, .topology_domain = 0});
  }
  return n;
}

JobSpec OneGpuJob(std::string name, PriorityClass cls, std::int32_t priority = 0,
                  std::int64_t cpu_millis = 1000) {
  return JobSpec{.name = std::move(name), .tenant = "research", .user = "ana",
                 .priority_class = cls, .priority = priority,
                 .task_groups = {{.name = "", .count = 1,
                                  .per_task = ResourceVector::Of(cpu_millis, kGiB, 1)}}};
}

// An engine on a ManualClock with one single-GPU node.
class OneSlotEngine {
 public:
  explicit OneSlotEngine(PolicySet policies) {
    engine_ = Engine::Create({.clock = &clock_, .policies = std::move(policies)}).value();
    EXPECT_TRUE(engine_->AddNode(GpuNode("g0", 1)).ok());
  }
  ManualClock& clock() { return clock_; }
  Engine& engine() { return *engine_; }

  JobId Submit(JobSpec spec) {
    auto id = engine_->Submit(std::move(spec));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(JobId());
  }
  // Runs a pass; returns the job it started, if any (at most one fits).
  std::optional<JobId> TickOne() {
    SchedulingRound round = engine_->Tick();
    EXPECT_LE(round.decisions.size(), 1u);
    if (round.decisions.empty()) return std::nullopt;
    EXPECT_EQ(round.decisions[0].kind, DecisionKind::kStart);
    last_ = std::move(round);
    return last_.decisions[0].job;
  }
  // Reports the tasks of the job started last as started and exited 0.
  void FinishLast() {
    ASSERT_FALSE(last_.decisions.empty());
    const Decision& d = last_.decisions[0];
    for (const TaskPlacement& p : last_.PlacementsOf(d)) {
      ASSERT_TRUE(engine_->TaskStarted({.job = d.job, .token = d.token,
                                        .task = static_cast<std::int32_t>(p.task)}).ok());
      ASSERT_TRUE(engine_->TaskExited({.job = d.job, .token = d.token,
                                       .task = static_cast<std::int32_t>(p.task), .exit_code = 0}).ok());
    }
  }
  // Starts and finishes jobs one at a time until nothing starts.
  std::vector<JobId> RunAll() {
    std::vector<JobId> order;
    while (auto j = TickOne()) {
      order.push_back(*j);
      FinishLast();
      if (order.size() > 100) break;
    }
    return order;
  }

 private:
  ManualClock clock_{1'000 * kSecond};
  std::unique_ptr<Engine> engine_;
  SchedulingRound last_;  // the last round that started a job
};

PolicySet Fifo() { return {.ordering = NewFifoOrdering(), .placement = NewBestFitPlacement()}; }
PolicySet Priority(PriorityOrderingOptions o = {}) {
  return {.ordering = NewPriorityOrdering(o), .placement = NewBestFitPlacement()};
}

// ------------------------------------------------------------ the policies

TEST(FifoOrdering, GivesEveryJobTheSameBaseAndNoAging) {
  auto fifo = NewFifoOrdering();
  EXPECT_EQ(fifo->name(), "fifo");
  EXPECT_EQ(fifo->BasePriority(OneGpuJob("a", PriorityClass::kLow, -7)), 0);
  EXPECT_EQ(fifo->BasePriority(OneGpuJob("b", PriorityClass::kHigh, 100'000)), 0);
  EXPECT_EQ(fifo->aging().points_per_hour, 0);
  EXPECT_EQ(fifo->aging().cap, 0);
}

TEST(PriorityOrdering, BaseIsClassBasePlusIntegerPriority) {
  auto p = NewPriorityOrdering();
  EXPECT_EQ(p->name(), "priority");
  EXPECT_EQ(p->BasePriority(OneGpuJob("a", PriorityClass::kLow)), 0);
  EXPECT_EQ(p->BasePriority(OneGpuJob("b", PriorityClass::kMedium)), 1'000'000);
  EXPECT_EQ(p->BasePriority(OneGpuJob("c", PriorityClass::kHigh)), 2'000'000);
  EXPECT_EQ(p->BasePriority(OneGpuJob("d", PriorityClass::kHigh, -5)), 1'999'995);
  EXPECT_EQ(p->BasePriority(OneGpuJob("e", PriorityClass::kLow, kMinPriority)), kMinPriority);
}

TEST(PriorityOrdering, UsesTheGivenClassBasesAndAging) {
  auto p = NewPriorityOrdering({.class_base = {-10, 20, 300}, .aging = {.points_per_hour = 7, .cap = 42}});
  EXPECT_EQ(p->BasePriority(OneGpuJob("a", PriorityClass::kLow, 3)), -7);
  EXPECT_EQ(p->BasePriority(OneGpuJob("b", PriorityClass::kMedium)), 20);
  EXPECT_EQ(p->BasePriority(OneGpuJob("c", PriorityClass::kHigh, 1)), 301);
  EXPECT_EQ(p->aging().points_per_hour, 7);
  EXPECT_EQ(p->aging().cap, 42);
}

TEST(PriorityOrdering, DefaultAgesTenThousandPointsPerHourCappedAtTwoHundredThousand) {
  auto p = NewPriorityOrdering();
  EXPECT_EQ(p->aging().points_per_hour, 10'000);
  EXPECT_EQ(p->aging().cap, 200'000);
}

RC_GTEST_PROP(PriorityOrdering, WithDefaultsAgingNeverLiftsAJobPastTheNextClass, ()) {
  const PriorityOrderingOptions defaults;
  auto p = NewPriorityOrdering();
  const int lower = *rc::gen::inRange(0, 2);
  const int higher = *rc::gen::inRange(lower + 1, 3);
  const auto p_low = *rc::gen::inRange<std::int32_t>(kMinPriority, kMaxPriority + 1);
  const auto p_high = *rc::gen::inRange<std::int32_t>(kMinPriority, kMaxPriority + 1);
  const std::int64_t aged_low =
      p->BasePriority(OneGpuJob("a", static_cast<PriorityClass>(lower), p_low)) + defaults.aging.cap;
  const std::int64_t fresh_high =
      p->BasePriority(OneGpuJob("b", static_cast<PriorityClass>(higher), p_high));
  RC_ASSERT(aged_low < fresh_high);
}

// ------------------------------------------------------------- validation

TEST(AgingOptions, DefaultsAndBoundariesAreValid) {
  EXPECT_TRUE(AgingOptions{}.Validate().ok());
  EXPECT_TRUE((AgingOptions{.points_per_hour = 1'000'000'000, .cap = kMaxBasePriority}).Validate().ok());
}

TEST(AgingOptions, NegativeOrHugeRateIsRejectedNamingTheField) {
  for (std::int64_t rate : {std::int64_t{-1}, std::int64_t{1'000'000'001}}) {
    const absl::Status s = AgingOptions{.points_per_hour = rate}.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << rate;
    EXPECT_TRUE(HasText(std::string(s.message()), "aging.points_per_hour"));
    EXPECT_TRUE(HasText(std::string(s.message()), std::to_string(rate)));
  }
}

TEST(AgingOptions, NegativeOrHugeCapIsRejectedNamingTheField) {
  for (std::int64_t cap : {std::int64_t{-1}, kMaxBasePriority + 1}) {
    const absl::Status s = AgingOptions{.points_per_hour = 1, .cap = cap}.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << cap;
    EXPECT_TRUE(HasText(std::string(s.message()), "aging.cap"));
    EXPECT_TRUE(HasText(std::string(s.message()), std::to_string(cap)));
  }
}

TEST(PriorityOrderingOptions, DefaultsAndEqualBasesAreValid) {
  EXPECT_TRUE(PriorityOrderingOptions{}.Validate().ok());
  EXPECT_TRUE((PriorityOrderingOptions{.class_base = {5, 5, 5}}).Validate().ok());
  EXPECT_TRUE((PriorityOrderingOptions{.class_base = {-kMaxBasePriority / 2, 0, kMaxBasePriority / 2}})
                  .Validate()
                  .ok());
}

TEST(PriorityOrderingOptions, ClassBaseOutOfRangeIsRejectedNamingTheClass) {
  const absl::Status low =
      PriorityOrderingOptions{.class_base = {-kMaxBasePriority / 2 - 1, 0, 1}}.Validate();
  EXPECT_EQ(low.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(low.message()), "class_base[low]"));

  const absl::Status high = PriorityOrderingOptions{.class_base = {0, 1, kMaxBasePriority / 2 + 1}}.Validate();
  EXPECT_EQ(high.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(high.message()), "class_base[high]"));
}

TEST(PriorityOrderingOptions, ClassBasesMustNotDecrease) {
  const absl::Status s = PriorityOrderingOptions{.class_base = {0, 5, 3}}.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(s.message()), "class_base[high] = 3"));
  EXPECT_TRUE(HasText(std::string(s.message()), "class_base[medium] = 5"));

  const absl::Status m = PriorityOrderingOptions{.class_base = {10, 5, 30}}.Validate();
  EXPECT_EQ(m.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(m.message()), "class_base[medium]"));
  EXPECT_TRUE(HasText(std::string(m.message()), "class_base[low]"));
}

TEST(PriorityOrderingOptions, InvalidAgingIsReported) {
  const absl::Status s = PriorityOrderingOptions{.aging = {.points_per_hour = 1, .cap = -3}}.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(s.message()), "aging.cap"));
}

// ------------------------------------------------------------- policy sets

TEST(PolicySet, MakePolicySetKnowsEveryBuiltInName) {
  for (const char* ordering : {"fifo", "priority"}) {
    for (const char* placement : {"best-fit", "spread"}) {
      auto set = MakePolicySet(ordering, placement);
      ASSERT_TRUE(set.ok()) << set.status();
      ASSERT_NE(set->ordering, nullptr);
      ASSERT_NE(set->placement, nullptr);
      EXPECT_EQ(set->ordering->name(), ordering);
      EXPECT_EQ(set->placement->name(), placement);
    }
  }
}

TEST(PolicySet, UnknownOrderingNameListsTheKnownOnes) {
  auto set = MakePolicySet("lottery", "best-fit");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(set.status().message());
  EXPECT_TRUE(HasText(msg, "\"lottery\""));
  EXPECT_TRUE(HasText(msg, "fifo"));
  EXPECT_TRUE(HasText(msg, "priority"));
}

TEST(PolicySet, UnknownPlacementNameListsTheKnownOnes) {
  auto set = MakePolicySet("fifo", "first-fit");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(set.status().message());
  EXPECT_TRUE(HasText(msg, "\"first-fit\""));
  EXPECT_TRUE(HasText(msg, "best-fit"));
  EXPECT_TRUE(HasText(msg, "spread"));
}

TEST(PolicySet, DefaultIsPriorityWithBestFit) {
  const PolicySet set = DefaultPolicySet();
  ASSERT_NE(set.ordering, nullptr);
  ASSERT_NE(set.placement, nullptr);
  EXPECT_EQ(set.ordering->name(), "priority");
  EXPECT_EQ(set.placement->name(), "best-fit");
}

// ------------------------------------------------------ through the engine

TEST(EngineOrdering, FifoStartsJobsInSubmissionOrderWhateverTheirClass) {
  OneSlotEngine e(Fifo());
  std::vector<JobId> submitted;
  submitted.push_back(e.Submit(OneGpuJob("low", PriorityClass::kLow)));
  e.clock().Advance(kSecond);
  submitted.push_back(e.Submit(OneGpuJob("high", PriorityClass::kHigh, kMaxPriority)));
  e.clock().Advance(kSecond);
  submitted.push_back(e.Submit(OneGpuJob("medium", PriorityClass::kMedium)));
  e.clock().Advance(kSecond);
  submitted.push_back(e.Submit(OneGpuJob("low-again", PriorityClass::kLow, kMinPriority)));
  EXPECT_EQ(e.RunAll(), submitted);
}

TEST(EngineOrdering, FifoOrdersAcrossJobClassesOfDifferentShape) {
  OneSlotEngine e(Fifo());
  std::vector<JobId> submitted;
  for (int i = 0; i < 6; ++i) {
    // Three shapes, so three job classes interleaved in submission order.
    submitted.push_back(e.Submit(OneGpuJob("j" + std::to_string(i), PriorityClass::kHigh, 0,
                                           1000 * (1 + (5 - i) % 3))));
    e.clock().Advance(kMillisecond);
  }
  EXPECT_EQ(e.RunAll(), submitted);
}

TEST(EngineOrdering, FifoBreaksTiesOfSimultaneousSubmissionsByJobId) {
  OneSlotEngine e(Fifo());
  std::vector<JobId> submitted;
  for (int i = 0; i < 4; ++i) submitted.push_back(e.Submit(OneGpuJob("j", PriorityClass::kLow)));
  EXPECT_EQ(e.RunAll(), submitted);
}

TEST(EngineOrdering, FifoDoesNotLetALaterJobPassHoweverLongTheWait) {
  OneSlotEngine e(Fifo());
  const JobId blocker = e.Submit(OneGpuJob("blocker", PriorityClass::kLow));
  ASSERT_EQ(e.TickOne(), blocker);
  const JobId first = e.Submit(OneGpuJob("first", PriorityClass::kLow));
  e.clock().Advance(1000 * kHour);
  const JobId second = e.Submit(OneGpuJob("second", PriorityClass::kHigh));
  EXPECT_EQ(e.TickOne(), std::nullopt);
  e.FinishLast();
  EXPECT_EQ(e.RunAll(), (std::vector<JobId>{first, second}));
}

TEST(EngineOrdering, PriorityStartsALaterHighClassJobFirstWhenOnlyOneFits) {
  OneSlotEngine e(Priority());
  const JobId low = e.Submit(OneGpuJob("low", PriorityClass::kLow));
  e.clock().Advance(kMinute);
  const JobId medium = e.Submit(OneGpuJob("medium", PriorityClass::kMedium));
  e.clock().Advance(kMinute);
  const JobId high = e.Submit(OneGpuJob("high", PriorityClass::kHigh));
  EXPECT_EQ(e.RunAll(), (std::vector<JobId>{high, medium, low}));
}

TEST(EngineOrdering, PriorityOrdersByIntegerPriorityInsideAClass) {
  OneSlotEngine e(Priority());
  const JobId a = e.Submit(OneGpuJob("a", PriorityClass::kMedium, 0));
  const JobId b = e.Submit(OneGpuJob("b", PriorityClass::kMedium, 5));
  const JobId c = e.Submit(OneGpuJob("c", PriorityClass::kMedium, -5));
  EXPECT_EQ(e.RunAll(), (std::vector<JobId>{b, a, c}));
}

TEST(EngineOrdering, DefaultAgingNeverLiftsALowJobPastAMediumOne) {
  OneSlotEngine e(Priority());
  const JobId blocker = e.Submit(OneGpuJob("blocker", PriorityClass::kHigh));
  ASSERT_EQ(e.TickOne(), blocker);
  const JobId low = e.Submit(OneGpuJob("low", PriorityClass::kLow, kMaxPriority));
  e.clock().Advance(10'000 * kHour);
  const JobId medium = e.Submit(OneGpuJob("medium", PriorityClass::kMedium, kMinPriority));
  EXPECT_EQ(e.engine().GetJob(low)->effective_priority, kMaxPriority + 200'000);
  EXPECT_EQ(e.TickOne(), std::nullopt);
  e.FinishLast();
  EXPECT_EQ(e.RunAll(), (std::vector<JobId>{medium, low}));
}

// Classes 0 / 100 / 200, 50 points per hour: a low job that has waited more
// than 2h is ahead of a medium job that just arrived; at exactly 2h they tie
// and the older job goes first.
std::optional<JobId> FirstAfterLowWaited(Duration wait, JobId* low_out, JobId* medium_out) {
  OneSlotEngine e(Priority({.class_base = {0, 100, 200},
                            .aging = {.points_per_hour = 50, .cap = 1000}}));
  const JobId blocker = e.Submit(OneGpuJob("blocker", PriorityClass::kHigh));
  EXPECT_EQ(e.TickOne(), blocker);
  *low_out = e.Submit(OneGpuJob("low", PriorityClass::kLow));
  EXPECT_EQ(e.TickOne(), std::nullopt);
  e.clock().Advance(wait);
  *medium_out = e.Submit(OneGpuJob("medium", PriorityClass::kMedium));
  EXPECT_EQ(e.TickOne(), std::nullopt);
  e.FinishLast();  // frees the only GPU
  return e.TickOne();
}

TEST(EngineOrdering, AgingLetsALowJobOvertakeAfterTwoHours) {
  JobId low, medium;
  EXPECT_EQ(FirstAfterLowWaited(2 * kHour + kMinute, &low, &medium), low);
}

TEST(EngineOrdering, AgingDoesNotOvertakeBeforeTwoHours) {
  JobId low, medium;
  EXPECT_EQ(FirstAfterLowWaited(2 * kHour - kMinute, &low, &medium), medium);
}

TEST(EngineOrdering, AgingTieAtExactlyTwoHoursGoesToTheOlderJob) {
  JobId low, medium;
  EXPECT_EQ(FirstAfterLowWaited(2 * kHour, &low, &medium), low);
}

TEST(EngineOrdering, EffectivePriorityReportsAging) {
  OneSlotEngine e(Priority({.class_base = {0, 100, 200}, .aging = {.points_per_hour = 50, .cap = 120}}));
  const JobId blocker = e.Submit(OneGpuJob("blocker", PriorityClass::kHigh));
  ASSERT_EQ(e.TickOne(), blocker);
  const JobId low = e.Submit(OneGpuJob("low", PriorityClass::kLow, 3));
  EXPECT_EQ(e.engine().GetJob(low)->effective_priority, 3);
  e.clock().Advance(90 * kMinute);
  EXPECT_EQ(e.engine().GetJob(low)->effective_priority, 78);
  EXPECT_EQ(e.engine().Explain(low)->effective_priority, 78);
  e.clock().Advance(10 * kHour);
  EXPECT_EQ(e.engine().GetJob(low)->effective_priority, 123);  // capped
}

// ------------------------------------------------ engine-side validation

class BadAgingOrdering final : public OrderingPolicy {
 public:
  std::string_view name() const override { return "bad-aging"; }
  std::int64_t BasePriority(const JobSpec&) const override { return 0; }
  AgingOptions aging() const override { return {.points_per_hour = -1}; }
};

class HugeBaseOrdering final : public OrderingPolicy {
 public:
  std::string_view name() const override { return "huge-base"; }
  std::int64_t BasePriority(const JobSpec&) const override { return kMaxBasePriority + 1; }
  AgingOptions aging() const override { return {}; }
};

TEST(EngineOrdering, CreateRejectsInvalidAgingNamingThePolicyAndField) {
  ManualClock clock;
  auto engine = Engine::Create({.clock = &clock,
                                .policies = {.ordering = std::make_shared<BadAgingOrdering>()}});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(engine.status().message()), "bad-aging"));
  EXPECT_TRUE(HasText(std::string(engine.status().message()), "aging.points_per_hour"));

  auto priority = Engine::Create(
      {.clock = &clock, .policies = Priority({.aging = {.points_per_hour = 1, .cap = -1}})});
  ASSERT_FALSE(priority.ok());
  EXPECT_TRUE(HasText(std::string(priority.status().message()), "priority"));
  EXPECT_TRUE(HasText(std::string(priority.status().message()), "aging.cap"));
}

// policy/ordering.h: "Invalid options are reported by the engine that uses
// the policy". Decreasing class bases are invalid (Validate() says so).
TEST(EngineOrdering, CreateRejectsInvalidPriorityClassBases) {
  const PriorityOrderingOptions decreasing{.class_base = {0, 2'000'000, 1'000'000}};
  ASSERT_FALSE(decreasing.Validate().ok());
  ManualClock clock;
  auto engine = Engine::Create({.clock = &clock, .policies = Priority(decreasing)});
  EXPECT_FALSE(engine.ok()) << "the engine accepted class_base = {0, 2e6, 1e6}";
  if (!engine.ok()) {
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(HasText(std::string(engine.status().message()), "class_base"));
  }
}

TEST(EngineOrdering, SubmitRejectsABaseOutsideTheAllowedRange) {
  ManualClock clock;
  auto engine = Engine::Create({.clock = &clock,
                                .policies = {.ordering = std::make_shared<HugeBaseOrdering>()}})
                    .value();
  auto job = engine->Submit(OneGpuJob("j", PriorityClass::kLow));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasText(std::string(job.status().message()), "huge-base"));
  EXPECT_EQ(engine->job_count(), 0);
}

TEST(ShortestFirstOrdering, ShorterRequestedTimeGoesFirstAndNoLimitLast) {
  const auto sjf = NewShortestFirstOrdering();
  JobSpec a = OneGpuJob("a", PriorityClass::kMedium), b = a, none = a;
  a.time_limit = kHour;
  b.time_limit = 10 * kMinute;
  EXPECT_GT(sjf->BasePriority(b), sjf->BasePriority(a));
  EXPECT_GT(sjf->BasePriority(a), sjf->BasePriority(none));
  EXPECT_LE(std::abs(sjf->BasePriority(none)), kMaxBasePriority);
  a.time_limit = 100 * 365 * kDay;
  EXPECT_GT(sjf->BasePriority(a), sjf->BasePriority(none));
  EXPECT_TRUE(MakePolicySet("shortest-first", "best-fit").ok());
}

}  // namespace
}  // namespace mlsched
