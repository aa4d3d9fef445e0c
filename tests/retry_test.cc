#include "mlsched/retry.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "status_matchers.h"

namespace mlsched {
namespace {

TEST(RetryPolicy, DefaultsAreValid) { EXPECT_TRUE(RetryPolicy{}.Validate("a").ok()); }

TEST(RetryPolicy, BadValuesNameTheField) {
  struct Case {
    RetryPolicy policy;
    std::string message;
  };
  const Case cases[] = {
      {{.max_attempts = 0}, "job \"a\": retry.max_attempts = 0: must be in [1, 1000]"},
      {{.max_attempts = 1001}, "retry.max_attempts = 1001: must be in [1, 1000]"},
      {{.backoff_base = -1}, "retry.backoff_base = "},
      {{.backoff_base = kMinute, .backoff_cap = kSecond}, "retry.backoff_cap = 1.0s: must be >= backoff_base (1m00s)"},
      {{.jitter = 1.5}, "retry.jitter = 1.5: must be in [0, 1]"},
      {{.jitter = -0.1}, "retry.jitter = -0.1"},
      {{.transient_exit_codes = {75, 0}}, "retry.transient_exit_codes[1] = 0: must be in [1, 255]"},
      {{.transient_exit_codes = {256}}, "retry.transient_exit_codes[0] = 256"},
  };
  for (const Case& c : cases) {
    const absl::Status s = c.policy.Validate("a");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s << " wanted " << c.message;
  }
}

TEST(RetryPolicy, ClassifiesTransientAndPermanentFailures) {
  const RetryPolicy p{.transient_exit_codes = {75}};
  auto cls = [&](AttemptEnd outcome, int code = 0, int signal = 0) {
    return Classify(p, {.outcome = outcome, .exit_code = code, .signal = signal});
  };
  EXPECT_EQ(cls(AttemptEnd::kLost), FailureClass::kTransient);
  EXPECT_EQ(cls(AttemptEnd::kPreempted), FailureClass::kTransient);
  EXPECT_EQ(cls(AttemptEnd::kStuck), FailureClass::kTransient);
  EXPECT_EQ(cls(AttemptEnd::kFailed, 0, 9), FailureClass::kTransient);
  EXPECT_EQ(cls(AttemptEnd::kFailed, 75), FailureClass::kTransient);
  EXPECT_EQ(cls(AttemptEnd::kFailed, 1), FailureClass::kPermanent);
  EXPECT_EQ(cls(AttemptEnd::kTimedOut), FailureClass::kPermanent);
  EXPECT_EQ(DescribeFailure({.outcome = AttemptEnd::kFailed, .exit_code = 3}), "exit code 3");
  EXPECT_EQ(DescribeFailure({.outcome = AttemptEnd::kFailed, .signal = 9}), "killed by signal 9");
  EXPECT_EQ(DescribeFailure({.outcome = AttemptEnd::kLost}), "node lost");
}

TEST(RetryPolicy, BackoffDoublesUpToTheCapWithoutJitter) {
  const RetryPolicy p{.backoff_base = 10 * kSecond, .backoff_cap = kMinute, .jitter = 0};
  EXPECT_EQ(BackoffDelay(p, 1, 5, 1), 10 * kSecond);
  EXPECT_EQ(BackoffDelay(p, 1, 5, 2), 20 * kSecond);
  EXPECT_EQ(BackoffDelay(p, 1, 5, 3), 40 * kSecond);
  EXPECT_EQ(BackoffDelay(p, 1, 5, 4), kMinute);
  EXPECT_EQ(BackoffDelay(p, 1, 5, 1000), kMinute);
  EXPECT_EQ(BackoffDelay({.backoff_base = 0}, 1, 5, 3), 0);
}

TEST(RetryPolicy, JitterSpreadsJobsDeterministically) {
  const RetryPolicy p{.backoff_base = 10 * kSecond, .backoff_cap = kHour, .jitter = 0.5};
  EXPECT_EQ(BackoffDelay(p, 42, 7, 2), BackoffDelay(p, 42, 7, 2));
  int distinct = 0;
  for (std::uint64_t job = 1; job < 20; ++job) distinct += BackoffDelay(p, 42, job, 2) != BackoffDelay(p, 42, 0, 2);
  EXPECT_GE(distinct, 15);  // jobs that failed together do not retry together
  EXPECT_NE(BackoffDelay(p, 42, 7, 2), BackoffDelay(p, 43, 7, 2));
}

RC_GTEST_PROP(RetryPolicyProperties, DelayStaysWithinJitterBoundsAndCap, ()) {
  const Duration base = *rc::gen::inRange<Duration>(1, kHour);
  const Duration cap = base + *rc::gen::inRange<Duration>(0, 10 * kHour);
  const double jitter = *rc::gen::inRange(0, 101) / 100.0;
  const RetryPolicy p{.backoff_base = base, .backoff_cap = cap, .jitter = jitter};
  const int retry = *rc::gen::inRange(1, 200);
  const Duration d = BackoffDelay(p, *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint32_t>(), retry);
  Duration undithered = base;
  for (int i = 1; i < retry && undithered < cap; ++i) undithered = std::min(cap, undithered * 2);
  RC_ASSERT(d <= undithered);
  RC_ASSERT(static_cast<double>(d) >= static_cast<double>(undithered) * (1 - jitter) - 1);
}

}  // namespace
}  // namespace mlsched
