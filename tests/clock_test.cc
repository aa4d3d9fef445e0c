// Clock: RealClock is monotonic and counts microseconds since the epoch;
// ManualClock moves only forward and only when told to.
#include "mlsched/clock.h"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {
namespace {

TEST(RealClock, NeverGoesBackwardsBetweenCalls) {
  RealClock clock;
  Timestamp previous = clock.Now();
  for (int i = 0; i < 100'000; ++i) {
    const Timestamp now = clock.Now();
    ASSERT_GE(now, previous) << "call " << i;
    previous = now;
  }
}

TEST(RealClock, NeverGoesBackwardsWithinAnyThreadWhenSharedByThreads) {
  RealClock clock;
  constexpr int kThreads = 4;
  std::vector<int> backwards(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock, &backwards, t] {
      Timestamp previous = clock.Now();
      for (int i = 0; i < 20'000; ++i) {
        const Timestamp now = clock.Now();
        if (now < previous) ++backwards[t];
        previous = now;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(backwards[t], 0) << "thread " << t;
}

TEST(RealClock, CountsMicrosecondsSinceTheUnixEpoch) {
  // 2020-01-01 and 2100-01-01 in microseconds: seconds or nanoseconds would
  // fall outside this window.
  constexpr Timestamp k2020 = 1'577'836'800LL * kSecond;
  constexpr Timestamp k2100 = 4'102'444'800LL * kSecond;
  const Timestamp now = RealClock().Now();
  EXPECT_GT(now, k2020);
  EXPECT_LT(now, k2100);
}

TEST(ManualClock, StartsAtZeroByDefault) {
  ManualClock clock;
  EXPECT_EQ(clock.Now(), 0);
}

TEST(ManualClock, StartsAtTheGivenTime) {
  ManualClock clock(/*start=*/1'700'000'000 * kSecond);
  EXPECT_EQ(clock.Now(), 1'700'000'000 * kSecond);
}

TEST(ManualClock, DoesNotMoveOnItsOwn) {
  ManualClock clock(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(clock.Now(), 42);
}

TEST(ManualClock, SetMovesTimeForward) {
  ManualClock clock(10);
  clock.Set(25);
  EXPECT_EQ(clock.Now(), 25);
  clock.Set(kHour);
  EXPECT_EQ(clock.Now(), kHour);
}

TEST(ManualClock, SetToTheCurrentTimeIsANoOp) {
  ManualClock clock(10);
  clock.Set(10);
  EXPECT_EQ(clock.Now(), 10);
}

TEST(ManualClock, SetIgnoresAnEarlierTime) {
  ManualClock clock(100);
  clock.Set(99);
  EXPECT_EQ(clock.Now(), 100);
  clock.Set(0);
  EXPECT_EQ(clock.Now(), 100);
  clock.Set(-5 * kDay);
  EXPECT_EQ(clock.Now(), 100);
}

TEST(ManualClock, AdvanceAddsTheDuration) {
  ManualClock clock(1000);
  clock.Advance(30 * kSecond);
  EXPECT_EQ(clock.Now(), 1000 + 30 * kSecond);
  clock.Advance(1);
  EXPECT_EQ(clock.Now(), 1001 + 30 * kSecond);
}

TEST(ManualClock, AdvanceByZeroLeavesTimeUnchanged) {
  ManualClock clock(7);
  clock.Advance(0);
  EXPECT_EQ(clock.Now(), 7);
}

TEST(ManualClock, AdvanceIgnoresANegativeDuration) {
  ManualClock clock(kMinute);
  clock.Advance(-1);
  EXPECT_EQ(clock.Now(), kMinute);
  clock.Advance(-kMinute);
  EXPECT_EQ(clock.Now(), kMinute);
}

TEST(ManualClock, SetAfterAdvanceComparesAgainstTheAdvancedTime) {
  ManualClock clock(0);
  clock.Advance(50);
  clock.Set(40);  // earlier than Now() == 50
  EXPECT_EQ(clock.Now(), 50);
  clock.Set(60);
  EXPECT_EQ(clock.Now(), 60);
}

// Any sequence of Set/Advance calls behaves like the model
//   Set(t):     now = max(now, t)
//   Advance(d): now += max(d, 0)
// and in particular never moves time backwards.
RC_GTEST_PROP(ManualClockProperties, FollowsTheMaxModelAndNeverGoesBackwards, ()) {
  const Timestamp start = *rc::gen::inRange<Timestamp>(-kDay, kDay);
  // Each step: (is_set, value). Values are bounded so sums cannot overflow.
  const auto steps = *rc::gen::container<std::vector<std::pair<bool, std::int64_t>>>(
      rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange<std::int64_t>(-kDay, 10 * kDay)));
  ManualClock clock(start);
  Timestamp model = start;
  for (const auto& [is_set, value] : steps) {
    const Timestamp before = clock.Now();
    if (is_set) {
      clock.Set(value);
      model = std::max(model, value);
    } else {
      clock.Advance(value);
      if (value > 0) model += value;
    }
    RC_ASSERT(clock.Now() >= before);
    RC_ASSERT(clock.Now() == model);
  }
}

}  // namespace
}  // namespace mlsched
