// The job state machine, checked pair by pair against the table in the
// comment at the top of include/mlsched/job_state.h (and DESIGN.md):
//
//   WaitingDeps -> Queued -> Starting -> Running -> Succeeded
//   Starting/Running -> Failed | TimedOut | Lost | Preempted
//   Failed | TimedOut | Lost | Preempted -> Queued      (attempts remain)
//                                        -> DeadLettered (attempts exhausted)
//   DeadLettered -> Queued                               (explicit requeue)
//   any non-terminal state -> Cancelled
//   WaitingDeps -> UpstreamFailed
//
// Terminal: Succeeded, Cancelled, UpstreamFailed, DeadLettered.
#include "mlsched/job_state.h"

#include <array>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"

namespace mlsched {

// How gtest and rapidcheck print states (found by argument-dependent lookup).
[[maybe_unused]] static void PrintTo(JobState s, std::ostream* os) { *os << JobStateName(s); }
[[maybe_unused]] static void showValue(JobState s, std::ostream& os) { os << JobStateName(s); }

namespace {

using S = JobState;

constexpr std::array<S, kNumJobStates> kAllStates = {
    S::kWaitingDeps, S::kQueued,    S::kStarting,     S::kRunning,
    S::kSucceeded,   S::kFailed,    S::kTimedOut,     S::kLost,
    S::kPreempted,   S::kDeadLettered, S::kCancelled, S::kUpstreamFailed,
};

// The legal transitions, written out from the header's comment.
bool Expected(S from, S to) {
  switch (from) {
    case S::kWaitingDeps:
      return to == S::kQueued || to == S::kCancelled || to == S::kUpstreamFailed;
    case S::kQueued:
      return to == S::kStarting || to == S::kCancelled;
    case S::kStarting:
      return to == S::kRunning || to == S::kFailed || to == S::kTimedOut || to == S::kLost ||
             to == S::kPreempted || to == S::kCancelled;
    case S::kRunning:
      return to == S::kSucceeded || to == S::kFailed || to == S::kTimedOut || to == S::kLost ||
             to == S::kPreempted || to == S::kCancelled;
    case S::kFailed:
    case S::kTimedOut:
    case S::kLost:
    case S::kPreempted:
      return to == S::kQueued || to == S::kDeadLettered || to == S::kCancelled;
    case S::kDeadLettered:
      return to == S::kQueued;
    case S::kSucceeded:
    case S::kCancelled:
    case S::kUpstreamFailed:
      return false;
  }
  return false;
}

class JobTransitionTable : public ::testing::TestWithParam<std::tuple<S, S>> {};

TEST_P(JobTransitionTable, MatchesTheDocumentedTable) {
  const auto [from, to] = GetParam();
  EXPECT_EQ(IsLegalTransition(from, to), Expected(from, to))
      << JobStateName(from) << " -> " << JobStateName(to);
}

TEST_P(JobTransitionTable, CheckTransitionAgreesAndNamesBothStates) {
  const auto [from, to] = GetParam();
  const absl::Status s = CheckTransition(from, to);
  if (IsLegalTransition(from, to)) {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(std::string(s.message()), std::string(JobStateName(from)) + " -> " +
                                             std::string(JobStateName(to)) +
                                             " is not a legal job transition");
  }
}

TEST_P(JobTransitionTable, LifecycleAppliesOnlyLegalTransitions) {
  const auto [from, to] = GetParam();
  JobLifecycle job(from);
  const absl::Status s = job.TransitionTo(to);
  if (IsLegalTransition(from, to)) {
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(job.state(), to);
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(job.state(), from) << "an illegal transition changed the state";
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPairs, JobTransitionTable,
    ::testing::Combine(::testing::ValuesIn(kAllStates), ::testing::ValuesIn(kAllStates)),
    [](const ::testing::TestParamInfo<std::tuple<S, S>>& info) {
      return std::string(JobStateName(std::get<0>(info.param))) + "_to_" +
             std::string(JobStateName(std::get<1>(info.param)));
    });

TEST(JobTransitions, NoStateTransitionsToItself) {
  for (S s : kAllStates) EXPECT_FALSE(IsLegalTransition(s, s)) << JobStateName(s);
}

TEST(JobTransitions, OnlyDeadLetteredLeavesATerminalState) {
  for (S from : kAllStates) {
    if (!IsTerminal(from)) continue;
    for (S to : kAllStates) {
      EXPECT_EQ(IsLegalTransition(from, to), from == S::kDeadLettered && to == S::kQueued)
          << JobStateName(from) << " -> " << JobStateName(to);
    }
  }
}

TEST(JobTransitions, EveryNonTerminalStateCanBeCancelled) {
  for (S s : kAllStates) {
    EXPECT_EQ(IsLegalTransition(s, S::kCancelled), !IsTerminal(s)) << JobStateName(s);
  }
}

TEST(JobTransitions, RejectsOutOfRangeStates) {
  const S bogus = static_cast<S>(kNumJobStates);
  EXPECT_FALSE(IsLegalTransition(bogus, S::kQueued));
  EXPECT_FALSE(IsLegalTransition(S::kQueued, bogus));
  EXPECT_FALSE(IsLegalTransition(S::kQueued, static_cast<S>(200)));
}

TEST(JobLifecycle, StartsQueuedByDefault) {
  EXPECT_EQ(JobLifecycle().state(), S::kQueued);
  EXPECT_EQ(JobLifecycle(S::kWaitingDeps).state(), S::kWaitingDeps);
}

TEST(JobLifecycle, FollowsTheHappyPath) {
  JobLifecycle job(S::kWaitingDeps);
  for (S next : {S::kQueued, S::kStarting, S::kRunning, S::kSucceeded}) {
    ASSERT_TRUE(job.TransitionTo(next).ok()) << JobStateName(next);
    EXPECT_EQ(job.state(), next);
  }
}

TEST(JobLifecycle, RetriesAfterAFailureAndDeadLettersWhenExhausted) {
  JobLifecycle job;
  for (S next : {S::kStarting, S::kRunning, S::kFailed, S::kQueued, S::kStarting, S::kLost,
                 S::kDeadLettered, S::kQueued}) {
    ASSERT_TRUE(job.TransitionTo(next).ok()) << JobStateName(next);
  }
  EXPECT_EQ(job.state(), S::kQueued);
}

TEST(JobLifecycle, LeavesTheStateUnchangedOnAnIllegalTransition) {
  JobLifecycle job(S::kRunning);
  const absl::Status s = job.TransitionTo(S::kQueued);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(s.message()), "Running -> Queued is not a legal job transition");
  EXPECT_EQ(job.state(), S::kRunning);
  // And it still accepts a legal one afterwards.
  EXPECT_TRUE(job.TransitionTo(S::kSucceeded).ok());
  EXPECT_EQ(job.state(), S::kSucceeded);
}

TEST(JobLifecycle, ReportsTheDocumentedMessage) {
  EXPECT_EQ(std::string(CheckTransition(S::kQueued, S::kSucceeded).message()),
            "Queued -> Succeeded is not a legal job transition");
}

// Any sequence of requested transitions: the lifecycle's state is what the
// documented table says, and rejected requests change nothing.
RC_GTEST_PROP(JobLifecycleProperties, FollowsTheTableForAnySequenceOfRequests, ()) {
  const S start = *rc::gen::elementOf(kAllStates);
  const auto requests = *rc::gen::container<std::vector<S>>(rc::gen::elementOf(kAllStates));
  JobLifecycle job(start);
  S model = start;
  for (S next : requests) {
    const bool ok = job.TransitionTo(next).ok();
    RC_ASSERT(ok == Expected(model, next));
    if (ok) model = next;
    RC_ASSERT(job.state() == model);
  }
}

TEST(JobStateNames, NameEveryState) {
  const std::vector<std::pair<S, std::string>> names = {
      {S::kWaitingDeps, "WaitingDeps"}, {S::kQueued, "Queued"},
      {S::kStarting, "Starting"},       {S::kRunning, "Running"},
      {S::kSucceeded, "Succeeded"},     {S::kFailed, "Failed"},
      {S::kTimedOut, "TimedOut"},       {S::kLost, "Lost"},
      {S::kPreempted, "Preempted"},     {S::kDeadLettered, "DeadLettered"},
      {S::kCancelled, "Cancelled"},     {S::kUpstreamFailed, "UpstreamFailed"},
  };
  ASSERT_EQ(names.size(), static_cast<std::size_t>(kNumJobStates));
  for (const auto& [state, name] : names) EXPECT_EQ(JobStateName(state), name);
}

TEST(JobStatePredicates, TerminalStatesAreTheDocumentedFour) {
  for (S s : kAllStates) {
    const bool expected = s == S::kSucceeded || s == S::kCancelled || s == S::kUpstreamFailed ||
                          s == S::kDeadLettered;
    EXPECT_EQ(IsTerminal(s), expected) << JobStateName(s);
  }
}

TEST(JobStatePredicates, ActiveMeansStartingOrRunning) {
  for (S s : kAllStates) {
    EXPECT_EQ(IsActive(s), s == S::kStarting || s == S::kRunning) << JobStateName(s);
  }
}

TEST(JobStatePredicates, NoStateIsBothActiveAndTerminal) {
  for (S s : kAllStates) EXPECT_FALSE(IsActive(s) && IsTerminal(s)) << JobStateName(s);
}

TEST(FencingToken, FormatsAsEpochAndAttempt) {
  EXPECT_EQ(FormatToken({.epoch = 3, .attempt = 2}), "e3/a2");
  EXPECT_EQ(FormatToken({}), "e0/a0");
  EXPECT_EQ(FormatToken({.epoch = 4'294'967'295u, .attempt = 1}), "e4294967295/a1");
}

TEST(FencingToken, OrdersByEpochFirst) {
  const FencingToken old_epoch{.epoch = 1, .attempt = 9};
  const FencingToken new_epoch{.epoch = 2, .attempt = 1};
  EXPECT_LT(old_epoch, new_epoch);
  EXPECT_GT(new_epoch, old_epoch);
}

TEST(FencingToken, OrdersByAttemptWithinAnEpoch) {
  const FencingToken first{.epoch = 5, .attempt = 1};
  const FencingToken second{.epoch = 5, .attempt = 2};
  EXPECT_LT(first, second);
  EXPECT_LE(first, first);
  EXPECT_EQ(first, (FencingToken{.epoch = 5, .attempt = 1}));
  EXPECT_NE(first, second);
}

RC_GTEST_PROP(FencingTokenProperties, OrderIsLexicographicOnEpochThenAttempt,
              (std::uint32_t e1, std::uint32_t a1, std::uint32_t e2, std::uint32_t a2)) {
  const FencingToken x{.epoch = e1, .attempt = a1};
  const FencingToken y{.epoch = e2, .attempt = a2};
  const bool less = e1 < e2 || (e1 == e2 && a1 < a2);
  RC_ASSERT((x < y) == less);
  RC_ASSERT((x == y) == (e1 == e2 && a1 == a2));
}

TEST(AttemptEnd, NamesEveryEnd) {
  EXPECT_EQ(AttemptEndName(AttemptEnd::kNone), "live");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kSucceeded), "succeeded");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kFailed), "failed");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kLost), "lost");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kCancelled), "cancelled");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kTimedOut), "timed-out");
  EXPECT_EQ(AttemptEndName(AttemptEnd::kPreempted), "preempted");
}

}  // namespace
}  // namespace mlsched
