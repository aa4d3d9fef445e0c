// PendingQueue: queued jobs by effective priority (base plus capped linear
// aging), then by enqueue time, then by job id.
//
// The queue keeps uncapped jobs by a time-independent key and moves them to a
// second tree when they reach the cap; these tests check the order it yields
// against the definition eff = base + min(cap, rate * waited / 1h), computed
// by brute force in exact integer arithmetic.
#include "internal/pending_queue.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched::internal {
namespace {

constexpr std::uint32_t kClass = 0;

AgingOptions NoAging() { return {}; }

// Takes Head() and removes it until the class is empty.
std::vector<std::uint32_t> Drain(PendingQueue& q, std::uint32_t klass, Timestamp now) {
  std::vector<std::uint32_t> out;
  while (auto head = q.Head(klass, now)) {
    out.push_back(head->job);
    q.Remove(head->job);
    if (out.size() > 10'000) break;  // a Remove that does not remove would loop forever
  }
  return out;
}

std::optional<std::uint32_t> HeadJob(const PendingQueue& q, std::uint32_t klass, Timestamp now) {
  auto head = q.Head(klass, now);
  if (!head) return std::nullopt;
  return head->job;
}

// ---------------------------------------------------------------- base order

TEST(PendingQueue, OrdersByBasePriorityThenEnqueueTimeThenJobId) {
  PendingQueue q(NoAging());
  // Pushed in an order that is none of the expected orders.
  q.Push(/*job=*/4, kClass, /*base=*/5, /*enq=*/20, /*now=*/100);
  q.Push(/*job=*/1, kClass, /*base=*/5, /*enq=*/10, /*now=*/100);
  q.Push(/*job=*/3, kClass, /*base=*/9, /*enq=*/50, /*now=*/100);
  q.Push(/*job=*/0, kClass, /*base=*/5, /*enq=*/20, /*now=*/100);
  q.Push(/*job=*/2, kClass, /*base=*/-1, /*enq=*/0, /*now=*/100);
  // 3 has the highest base; 1 waited longest among base 5; 0 and 4 tie on
  // base and enq, so the lower id goes first; 2 has the lowest base.
  EXPECT_EQ(Drain(q, kClass, 100), (std::vector<std::uint32_t>{3, 1, 0, 4, 2}));
}

TEST(PendingQueue, WithoutAgingOrderIsPureBaseOrderHoweverLongJobsWait) {
  PendingQueue q(NoAging());
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, /*now=*/0);
  q.Push(1, kClass, /*base=*/1, /*enq=*/1000 * kHour, /*now=*/1000 * kHour);
  const Timestamp later = 100'000 * kHour;
  q.AdvanceTo(later);
  EXPECT_EQ(HeadJob(q, kClass, later), 1u);
  EXPECT_EQ(q.EffectivePriority(0, later), 0);
  EXPECT_EQ(q.EffectivePriority(1, later), 1);
  EXPECT_EQ(q.Head(kClass, later)->effective, Wide(1) * kHour);
}

TEST(PendingQueue, HeadOfEmptyOrUnknownClassIsNone) {
  PendingQueue q(NoAging());
  EXPECT_FALSE(q.Head(0, 0).has_value());
  q.Push(0, /*klass=*/2, 0, 0, 0);
  EXPECT_FALSE(q.Head(0, 0).has_value());
  EXPECT_FALSE(q.Head(1, 0).has_value());
  EXPECT_FALSE(q.Head(7, 0).has_value());
  ASSERT_TRUE(q.Head(2, 0).has_value());
  EXPECT_EQ(q.Head(2, 0)->klass, 2u);
  EXPECT_EQ(q.class_count(), 3u);
}

TEST(PendingQueue, ClassesAreOrderedIndependently) {
  PendingQueue q(NoAging());
  q.Push(0, /*klass=*/0, /*base=*/1, 0, 0);
  q.Push(1, /*klass=*/1, /*base=*/100, 0, 0);
  q.Push(2, /*klass=*/0, /*base=*/2, 0, 0);
  EXPECT_EQ(HeadJob(q, 0, 0), 2u);
  EXPECT_EQ(HeadJob(q, 1, 0), 1u);
}

// ------------------------------------------------------------------- aging

// Low job (base 0) queued at 0; high job (base 100) queued at t. With 10
// points per hour the low job has aged 10 * t / 1h by then, so it goes first
// exactly when 10 * t / 1h exceeds 100 (t > 10h); at exactly 10h the two tie
// and the job queued earlier wins.
std::optional<std::uint32_t> HeadWhenHighJobQueuedAt(Timestamp t) {
  PendingQueue q({.points_per_hour = 10, .cap = 1'000'000});
  q.Push(/*job=*/0, kClass, /*base=*/0, /*enq=*/0, /*now=*/0);
  q.AdvanceTo(t);
  q.Push(/*job=*/1, kClass, /*base=*/100, /*enq=*/t, /*now=*/t);
  q.AdvanceTo(t);
  return HeadJob(q, kClass, t);
}

TEST(PendingQueue, AgingLetsOlderLowPriorityJobOvertake) {
  EXPECT_EQ(HeadWhenHighJobQueuedAt(10 * kHour + 1), 0u);
  EXPECT_EQ(HeadWhenHighJobQueuedAt(20 * kHour), 0u);
}

TEST(PendingQueue, AgingDoesNotOvertakeBeforeTheCrossingTime) {
  EXPECT_EQ(HeadWhenHighJobQueuedAt(10 * kHour - 1), 1u);
  EXPECT_EQ(HeadWhenHighJobQueuedAt(1 * kHour), 1u);
}

TEST(PendingQueue, AtTheCrossingTimeTheTieGoesToTheOlderJob) {
  EXPECT_EQ(HeadWhenHighJobQueuedAt(10 * kHour), 0u);
}

TEST(PendingQueue, UncappedJobsAgeAlikeSoTheirOrderDoesNotChange) {
  PendingQueue q({.points_per_hour = 10, .cap = 1'000'000});
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, 0);
  q.Push(1, kClass, /*base=*/100, /*enq=*/kHour, kHour);  // low is ahead by 10 aged points only
  for (Timestamp t : {kHour, 5 * kHour, 50 * kHour, 500 * kHour}) {
    q.AdvanceTo(t);
    EXPECT_EQ(HeadJob(q, kClass, t), 1u) << "at " << t;
  }
}

TEST(PendingQueue, CapStopsAgingSoLowJobNeverPassesAHighEnoughBase) {
  // 10 points/h capped at 50: the low job tops out at 50.
  PendingQueue q({.points_per_hour = 10, .cap = 50});
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, 0);
  const Timestamp t = 1000 * kHour;
  q.AdvanceTo(t);
  q.Push(1, kClass, /*base=*/51, /*enq=*/t, t);
  q.Push(2, kClass, /*base=*/49, /*enq=*/t, t);
  q.AdvanceTo(t);
  EXPECT_EQ(Drain(q, kClass, t), (std::vector<std::uint32_t>{1, 0, 2}));
}

TEST(PendingQueue, CappedJobNoLongerRises) {
  PendingQueue q({.points_per_hour = 10, .cap = 50});
  q.Push(0, kClass, /*base=*/3, /*enq=*/0, 0);
  EXPECT_EQ(q.EffectivePriority(0, 4 * kHour), 43);
  EXPECT_EQ(q.EffectivePriority(0, 5 * kHour), 53);
  q.AdvanceTo(5 * kHour);
  EXPECT_EQ(q.EffectivePriority(0, 6 * kHour), 53);
  EXPECT_EQ(q.EffectivePriority(0, 600 * kHour), 53);
  EXPECT_EQ(q.Head(kClass, 600 * kHour)->effective, Wide(53) * kHour);
}

// B (base 0, queued at 0) caps at 50 after 5h. A (base 20, queued at 3h) has
// aged to 20 + 10 * (t - 3h) / 1h, which passes 50 at t = 6h. Uncapped, B would
// stay ahead of A forever; the cap is what lets A overtake. This only works if
// AdvanceTo moved B out of the uncapped index.
TEST(PendingQueue, UncappedJobOvertakesACappedOlderJob) {
  auto head_at = [](Timestamp t) {
    PendingQueue q({.points_per_hour = 10, .cap = 50});
    q.Push(/*job=*/0, kClass, /*base=*/0, /*enq=*/0, 0);  // B
    q.AdvanceTo(3 * kHour);
    q.Push(/*job=*/1, kClass, /*base=*/20, /*enq=*/3 * kHour, 3 * kHour);  // A
    q.AdvanceTo(t);
    return HeadJob(q, kClass, t);
  };
  EXPECT_EQ(head_at(4 * kHour), 0u);           // B 40 > A 30
  EXPECT_EQ(head_at(5 * kHour + kHour / 2), 0u);  // B capped at 50 > A 45
  EXPECT_EQ(head_at(6 * kHour), 0u);           // tie at 50: B queued earlier
  EXPECT_EQ(head_at(6 * kHour + 1), 1u);       // A just above 50
  EXPECT_EQ(head_at(7 * kHour), 1u);           // A 60 > B 50
  EXPECT_EQ(head_at(100 * kHour), 1u);         // A capped at 70 > B 50
}

TEST(PendingQueue, AdvanceToIsIncrementalAcrossManySteps) {
  // Same scenario as above, advanced in small steps on one queue.
  PendingQueue q({.points_per_hour = 10, .cap = 50});
  q.Push(0, kClass, 0, 0, 0);
  q.Push(1, kClass, 20, 3 * kHour, 3 * kHour);
  for (Timestamp t = 3 * kHour; t <= 9 * kHour; t += 10 * kMinute) {
    q.AdvanceTo(t);
    const std::uint32_t expected = t > 6 * kHour ? 1u : 0u;
    EXPECT_EQ(HeadJob(q, kClass, t), expected) << "at " << t / kMinute << " min";
  }
}

TEST(PendingQueue, JobPushedAfterItsCapTimeStartsCapped) {
  PendingQueue q({.points_per_hour = 10, .cap = 50});
  // Queued long ago (a requeued job keeps its age): capped from the start.
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, /*now=*/100 * kHour);
  q.Push(1, kClass, /*base=*/49, /*enq=*/100 * kHour, /*now=*/100 * kHour);
  q.AdvanceTo(100 * kHour);
  EXPECT_EQ(HeadJob(q, kClass, 100 * kHour), 0u);
  EXPECT_EQ(q.Head(kClass, 100 * kHour)->effective, Wide(50) * kHour);
}

TEST(PendingQueue, ZeroCapMeansNoAging) {
  PendingQueue q({.points_per_hour = 1000, .cap = 0});
  q.Push(0, kClass, 0, 0, 0);
  q.Push(1, kClass, 1, 50 * kHour, 50 * kHour);
  q.AdvanceTo(50 * kHour);
  EXPECT_EQ(HeadJob(q, kClass, 50 * kHour), 1u);
  EXPECT_EQ(q.EffectivePriority(0, 50 * kHour), 0);
}

// --------------------------------------------------------- membership, size

TEST(PendingQueue, RemoveContainsClassSizeAndSizeTrackMembership) {
  PendingQueue q(NoAging());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.Contains(0));
  EXPECT_FALSE(q.Contains(12345));
  q.Push(0, 0, 1, 0, 0);
  q.Push(1, 0, 2, 0, 0);
  q.Push(2, 1, 3, 0, 0);
  q.Push(5, 1, 4, 0, 0);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.ClassSize(0), 2u);
  EXPECT_EQ(q.ClassSize(1), 2u);
  EXPECT_EQ(q.ClassSize(9), 0u);
  EXPECT_TRUE(q.Contains(5));
  EXPECT_FALSE(q.Contains(3));  // never pushed, inside the id range

  q.Remove(1);
  EXPECT_FALSE(q.Contains(1));
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.ClassSize(0), 1u);
  EXPECT_EQ(HeadJob(q, 0, 0), 0u);

  q.Remove(1);    // already gone: no-op
  q.Remove(3);    // never queued: no-op
  q.Remove(999);  // beyond any id: no-op
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.ClassSize(0), 1u);
  EXPECT_EQ(q.ClassSize(1), 2u);

  q.Remove(0);
  EXPECT_FALSE(q.Head(0, 0).has_value());
  EXPECT_EQ(q.ClassSize(0), 0u);
  EXPECT_EQ(Drain(q, 1, 0), (std::vector<std::uint32_t>{5, 2}));
  EXPECT_EQ(q.size(), 0u);
}

TEST(PendingQueue, RemovingACappedJobRemovesIt) {
  PendingQueue q({.points_per_hour = 10, .cap = 5});
  q.Push(0, kClass, 0, 0, 0);
  q.Push(1, kClass, 0, kHour, kHour);
  q.AdvanceTo(10 * kHour);  // both capped
  q.Remove(0);
  EXPECT_FALSE(q.Contains(0));
  EXPECT_EQ(q.ClassSize(kClass), 1u);
  EXPECT_EQ(HeadJob(q, kClass, 10 * kHour), 1u);
}

TEST(PendingQueue, RePushKeepsTheGivenEnqueueTime) {
  PendingQueue q({.points_per_hour = 10, .cap = 1000});
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, /*now=*/0);
  q.Remove(0);
  // A job queued at 2h with a base 15 above: job 0, requeued at 5h with its
  // original enq, has aged 50 points against its 20.
  q.Push(1, kClass, /*base=*/15, /*enq=*/2 * kHour, /*now=*/2 * kHour);
  q.AdvanceTo(5 * kHour);
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, /*now=*/5 * kHour);
  EXPECT_EQ(q.EffectivePriority(0, 5 * kHour), 50);
  EXPECT_EQ(HeadJob(q, kClass, 5 * kHour), 0u);
  auto head = q.Head(kClass, 5 * kHour);
  EXPECT_EQ(head->enq, 0);
}

TEST(PendingQueue, PushOfAQueuedJobReplacesItsEntry) {
  PendingQueue q(NoAging());
  q.Push(0, 0, /*base=*/1, 0, 0);
  q.Push(1, 0, /*base=*/2, 0, 0);
  q.Push(0, 1, /*base=*/7, 0, 0);  // moved to class 1 with another base
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.ClassSize(0), 1u);
  EXPECT_EQ(q.ClassSize(1), 1u);
  EXPECT_EQ(q.EffectivePriority(0, 0), 7);
  EXPECT_EQ(Drain(q, 0, 0), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(Drain(q, 1, 0), (std::vector<std::uint32_t>{0}));
}

TEST(PendingQueue, StaleCapEventOfARequeuedJobIsIgnored) {
  // Job 0 is first queued at 0 (it would cap at 5h), then requeued with a
  // later wait start (caps at 15h). Job 2 (base -5, queued at 0) caps at 5h
  // with 45. At 14h job 0 has 40 and must not be taken for capped at 50.
  PendingQueue q({.points_per_hour = 10, .cap = 50});
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, 0);
  q.Push(2, kClass, /*base=*/-5, /*enq=*/0, 0);
  q.AdvanceTo(10 * kHour);
  q.Push(0, kClass, /*base=*/0, /*enq=*/10 * kHour, 10 * kHour);
  q.AdvanceTo(14 * kHour);
  EXPECT_EQ(q.EffectivePriority(0, 14 * kHour), 40);
  EXPECT_EQ(HeadJob(q, kClass, 14 * kHour), 2u);
  // Job 0 reaches 45 at 14h30m: a tie the older job 2 wins, then job 0 leads.
  q.AdvanceTo(14 * kHour + 30 * kMinute);
  EXPECT_EQ(HeadJob(q, kClass, 14 * kHour + 30 * kMinute), 2u);
  q.AdvanceTo(14 * kHour + 30 * kMinute + 1);
  EXPECT_EQ(HeadJob(q, kClass, 14 * kHour + 30 * kMinute + 1), 0u);
  q.AdvanceTo(100 * kHour);
  EXPECT_EQ(q.Head(kClass, 100 * kHour)->effective, Wide(50) * kHour);
  EXPECT_EQ(HeadJob(q, kClass, 100 * kHour), 0u);
}

// A job that leaves the queue leaves its cap event behind. Such events are
// swept out as the heap grows: it holds about what is queued, not every job
// of the last cap window (with the default 20 hours, a busy engine's whole
// day). The jobs still queued cap on time.
TEST(PendingQueue, CapEventsOfJobsThatLeftAreSweptAndTheOthersStillFire) {
  PendingQueue q({.points_per_hour = 10, .cap = 50});  // a job caps 5h after its wait starts
  // Job 0 (base 0) leads job 1 (base 20, 3h younger) by 10 until job 0 caps
  // at 5h; job 1 reaches 50 at 6h and leads after (a tie goes to the older).
  q.Push(0, kClass, /*base=*/0, /*enq=*/0, 0);
  for (std::uint32_t j = 2; j < 10'002; ++j) {  // churn in another class: queued, then started
    const Timestamp t = j * kSecond;
    q.AdvanceTo(t);
    q.Push(j, kClass + 1, 0, t, t);
    q.Remove(j);
  }
  q.AdvanceTo(3 * kHour);
  q.Push(1, kClass, /*base=*/20, /*enq=*/3 * kHour, 3 * kHour);
  EXPECT_LT(q.cap_events(), 300u);  // not 10,002
  q.AdvanceTo(6 * kHour);
  EXPECT_EQ(HeadJob(q, kClass, 6 * kHour), 0u);
  q.AdvanceTo(6 * kHour + 1);
  EXPECT_EQ(HeadJob(q, kClass, 6 * kHour + 1), 1u);  // job 0 was capped: its event survived the sweeps
  EXPECT_EQ(q.size(), 2u);
}

// ------------------------------------------------------ effective priority

TEST(PendingQueue, EffectivePriorityIsBasePlusCappedAgingRoundedDown) {
  PendingQueue q({.points_per_hour = 10, .cap = 1000});
  EXPECT_EQ(q.EffectivePriority(/*base=*/7, /*enq=*/0, /*now=*/0), 7);
  EXPECT_EQ(q.EffectivePriority(7, 0, 6 * kMinute), 8);
  EXPECT_EQ(q.EffectivePriority(7, 0, 6 * kMinute - 1), 7);
  EXPECT_EQ(q.EffectivePriority(7, 0, 30 * kMinute), 12);
  EXPECT_EQ(q.EffectivePriority(7, 0, 100 * kHour), 1007);
  EXPECT_EQ(q.EffectivePriority(7, 0, 101 * kHour), 1007);  // capped
  // Waiting counts from enq, not from 0.
  EXPECT_EQ(q.EffectivePriority(7, 2 * kHour, 3 * kHour), 17);
  // A wait start in the future adds nothing.
  EXPECT_EQ(q.EffectivePriority(7, 5 * kHour, 3 * kHour), 7);
}

TEST(PendingQueue, EffectivePriorityOfNegativeBasesRoundsTowardMinusInfinity) {
  PendingQueue q({.points_per_hour = 1, .cap = 3});
  EXPECT_EQ(q.EffectivePriority(-5, 0, 0), -5);
  EXPECT_EQ(q.EffectivePriority(-5, 0, kHour / 2), -5);  // -4.5
  EXPECT_EQ(q.EffectivePriority(-5, 0, kHour - 1), -5);  // -4.000...
  EXPECT_EQ(q.EffectivePriority(-5, 0, kHour), -4);
  EXPECT_EQ(q.EffectivePriority(-5, 0, kHour + 1), -4);  // -3.999...
  EXPECT_EQ(q.EffectivePriority(-5, 0, 1000 * kHour), -2);  // capped at +3
  EXPECT_EQ(q.EffectivePriority(-1, 0, 1), -1);          // -0.999...
}

TEST(PendingQueue, EffectivePriorityOfAQueuedJobUsesItsBaseAndEnqueueTime) {
  PendingQueue q({.points_per_hour = 60, .cap = 100});
  q.Push(3, kClass, /*base=*/-10, /*enq=*/kHour, kHour);
  EXPECT_EQ(q.EffectivePriority(3, kHour), -10);
  EXPECT_EQ(q.EffectivePriority(3, kHour + 30 * kMinute), 20);
  EXPECT_EQ(q.EffectivePriority(3, kHour + 30 * kMinute - 1), 19);
}

TEST(PendingQueue, ExtremeBasesAndCapDoNotOverflow) {
  PendingQueue q({.points_per_hour = 1'000'000'000, .cap = kMaxBasePriority});
  q.Push(0, kClass, kMaxBasePriority, 0, 0);
  q.Push(1, kClass, -kMaxBasePriority, 0, 0);
  const Timestamp far = 100'000 * kHour;
  q.AdvanceTo(far);
  EXPECT_EQ(q.EffectivePriority(0, far), 2 * kMaxBasePriority);
  EXPECT_EQ(q.EffectivePriority(1, far), 0);
  EXPECT_EQ(Drain(q, kClass, far), (std::vector<std::uint32_t>{0, 1}));
}

// ---------------------------------------------------------------- property

// Brute-force scaled effective priority: base*H + min(cap*H, rate*(now-enq)).
Wide BruteEffective(std::int64_t base, Timestamp enq, Timestamp now, const AgingOptions& a) {
  const Wide waited = now > enq ? Wide(now - enq) : Wide(0);
  return Wide(base) * kHour + std::min(Wide(a.cap) * kHour, Wide(a.points_per_hour) * waited);
}

struct JobPlan {
  std::int64_t base;
  Timestamp enq;    // wait start the job ends up with
  int how;          // 0: pushed at enq; 1: pushed at `now`; 2: pushed, removed, re-pushed at `now`;
                    // 3: pushed with an earlier wait start, re-pushed at `now` with `enq`
  Timestamp first;  // how == 3: the earlier wait start
};

RC_GTEST_PROP(PendingQueueProperties, DrainOrderMatchesBruteForceEffectivePriority, ()) {
  const AgingOptions aging{
      .points_per_hour = *rc::gen::element<std::int64_t>(0, 1, 7, 10, 60, 3600, 1'000'000),
      .cap = *rc::gen::element<std::int64_t>(0, 1, 5, 20, 100, kMaxBasePriority)};
  const int n = *rc::gen::inRange(1, 40);
  // Coarse times (quarter hours, +-1us) make ties and exact crossings likely.
  auto time_gen = rc::gen::map(rc::gen::pair(rc::gen::inRange<std::int64_t>(0, 60),
                                             rc::gen::inRange<std::int64_t>(0, 3)),
                               [](std::pair<std::int64_t, std::int64_t> p) {
                                 return p.first * 15 * kMinute + p.second;
                               });
  std::vector<JobPlan> jobs;
  Timestamp max_enq = 0;
  for (int j = 0; j < n; ++j) {
    JobPlan p{.base = *rc::gen::inRange<std::int64_t>(-20, 21),
              .enq = *time_gen,
              .how = *rc::gen::inRange(0, 4),
              .first = 0};
    if (p.how == 3) p.first = *rc::gen::inRange<Timestamp>(0, p.enq + 1);
    max_enq = std::max({max_enq, p.enq, p.first});
    jobs.push_back(p);
  }
  const Timestamp now = max_enq + *time_gen;

  PendingQueue q(aging);
  // Time-ordered early events: (time, kind 0 = push / 1 = remove, job).
  std::vector<std::tuple<Timestamp, int, std::uint32_t>> events;
  for (std::uint32_t j = 0; j < jobs.size(); ++j) {
    const JobPlan& p = jobs[j];
    if (p.how == 0 || p.how == 2) events.emplace_back(p.enq, 0, j);
    if (p.how == 2) events.emplace_back(p.enq + (now - p.enq) / 2, 1, j);
    if (p.how == 3) events.emplace_back(p.first, 0, j);
  }
  std::sort(events.begin(), events.end());
  for (const auto& [t, kind, j] : events) {
    q.AdvanceTo(t);
    if (kind == 1) {
      q.Remove(j);
    } else {
      const Timestamp enq = jobs[j].how == 3 ? jobs[j].first : jobs[j].enq;
      q.Push(j, kClass, jobs[j].base, enq, t);
    }
  }
  q.AdvanceTo(now);
  for (std::uint32_t j = 0; j < jobs.size(); ++j) {
    if (jobs[j].how != 0) q.Push(j, kClass, jobs[j].base, jobs[j].enq, now);
  }
  q.AdvanceTo(now);
  RC_ASSERT(q.size() == jobs.size());
  RC_ASSERT(q.ClassSize(kClass) == jobs.size());

  std::vector<std::uint32_t> expected(jobs.size());
  for (std::uint32_t j = 0; j < jobs.size(); ++j) expected[j] = j;
  auto eff = [&](std::uint32_t j) { return BruteEffective(jobs[j].base, jobs[j].enq, now, aging); };
  std::sort(expected.begin(), expected.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (eff(a) != eff(b)) return eff(a) > eff(b);
    if (jobs[a].enq != jobs[b].enq) return jobs[a].enq < jobs[b].enq;
    return a < b;
  });

  std::vector<std::uint32_t> actual;
  while (auto head = q.Head(kClass, now)) {
    RC_ASSERT(head->effective == eff(head->job));
    RC_ASSERT(head->enq == jobs[head->job].enq);
    actual.push_back(head->job);
    q.Remove(head->job);
    RC_ASSERT(!q.Contains(head->job));
    if (actual.size() > jobs.size()) break;
  }
  RC_ASSERT(actual == expected);
  RC_ASSERT(q.size() == 0u);
}

// Removals anywhere in a class (a job cancelled, moved or started from the
// middle), interleaved with pushes and the passing of time: the head is
// always the best job still queued, by brute force.
RC_GTEST_PROP(PendingQueueProperties, HeadIsTheBestQueuedJobUnderRemovalsAnywhere, ()) {
  const AgingOptions aging{.points_per_hour = *rc::gen::element<std::int64_t>(0, 10, 3600),
                           .cap = *rc::gen::element<std::int64_t>(0, 5, 100)};
  PendingQueue q(aging);
  struct Queued {
    std::int64_t base;
    Timestamp enq;
  };
  std::map<std::uint32_t, Queued> model;
  Timestamp now = 0;
  std::uint32_t next = 0;
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 4);
    if (op == 0 || model.empty()) {
      const std::int64_t base = *rc::gen::inRange<std::int64_t>(-5, 6);
      q.Push(next, kClass, base, now, now);
      model[next++] = {base, now};
    } else if (op == 1) {
      auto it = model.begin();
      std::advance(it, *rc::gen::inRange<std::size_t>(0, model.size()));
      q.Remove(it->first);
      model.erase(it);
    } else if (op == 2) {
      now += *rc::gen::element<Timestamp>(0, 1, 15 * kMinute, 2 * kHour);
      q.AdvanceTo(now);
    } else {
      const std::uint32_t head = q.Head(kClass, now)->job;
      q.Remove(head);
      model.erase(head);
    }
    RC_ASSERT(q.ClassSize(kClass) == model.size());
    const auto head = q.Head(kClass, now);
    RC_ASSERT(head.has_value() == !model.empty());
    if (model.empty()) continue;
    std::uint32_t best = model.begin()->first;
    auto eff = [&](std::uint32_t j) { return BruteEffective(model.at(j).base, model.at(j).enq, now, aging); };
    for (const auto& [j, queued] : model) {
      if (eff(j) > eff(best) || (eff(j) == eff(best) && (queued.enq < model.at(best).enq ||
                                                          (queued.enq == model.at(best).enq && j < best))))
        best = j;
    }
    RC_ASSERT(head->job == best);
    RC_ASSERT(q.HeadJob(kClass, now) == best);
  }
}

RC_GTEST_PROP(PendingQueueProperties, EffectivePriorityIsTheFloorOfTheExactValue, ()) {
  const AgingOptions aging{.points_per_hour = *rc::gen::inRange<std::int64_t>(0, 100'000),
                           .cap = *rc::gen::inRange<std::int64_t>(0, 1'000'000)};
  const std::int64_t base = *rc::gen::inRange<std::int64_t>(-kMaxBasePriority, kMaxBasePriority + 1);
  const Timestamp enq = *rc::gen::inRange<Timestamp>(0, 1'000 * kHour);
  const Timestamp now = enq + *rc::gen::inRange<Timestamp>(0, 1'000 * kHour);
  PendingQueue q(aging);
  const Wide exact = BruteEffective(base, enq, now, aging);
  const std::int64_t got = q.EffectivePriority(base, enq, now);
  // floor: got * H <= exact < (got + 1) * H
  RC_ASSERT(Wide(got) * kHour <= exact);
  RC_ASSERT(exact < Wide(got + 1) * kHour);
}

// A block of jobs that left the queue can be forgotten: its entries are
// gone, a cap event left behind by one of them is dropped, and jobs of other
// blocks keep their order.
TEST(PendingQueue, ForgetsABlockOfJobsThatLeft) {
  PendingQueue q({.points_per_hour = 10, .cap = 5});
  const auto block = static_cast<std::uint32_t>(PendingQueue::kJobBlock);
  for (std::uint32_t j = 0; j < block + 2; ++j) q.Push(j, kClass, 0, /*enq=*/0, /*now=*/0);
  for (std::uint32_t j = 0; j < block; ++j) q.Remove(j);  // their cap events stay behind
  q.ReleaseJobs(0);
  EXPECT_FALSE(q.Contains(0));
  EXPECT_FALSE(q.Contains(block - 1));
  EXPECT_TRUE(q.Contains(block));
  EXPECT_EQ(q.EffectivePriority(0, kHour), 0);
  q.AdvanceTo(kDay);  // every job reached its cap
  EXPECT_EQ(q.EffectivePriority(block, kDay), 5);
  EXPECT_EQ(Drain(q, kClass, kDay), (std::vector<std::uint32_t>{block, block + 1}));
  q.Push(block + 2, kClass, 0, kDay, kDay);  // a new job after the forgotten block
  EXPECT_EQ(HeadJob(q, kClass, kDay), block + 2);
}

}  // namespace
}  // namespace mlsched::internal
