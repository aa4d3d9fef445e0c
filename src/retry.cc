#include "mlsched/retry.h"

#include <algorithm>
#include <cmath>

#include "fmt/format.h"
#include "internal/split_mix.h"

namespace mlsched {

absl::Status RetryPolicy::Validate(std::string_view job_name) const {
  auto bad = [&](const std::string& field, std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("job \"{}\": retry.{}: {}", job_name, field, why));
  };
  if (max_attempts < 1 || max_attempts > 1000)
    return bad(fmt::format("max_attempts = {}", max_attempts), "must be in [1, 1000]");
  if (backoff_base < 0) return bad(fmt::format("backoff_base = {}", FormatDuration(backoff_base)), "must be >= 0");
  if (backoff_cap < backoff_base) {
    return bad(fmt::format("backoff_cap = {}", FormatDuration(backoff_cap)),
               fmt::format("must be >= backoff_base ({})", FormatDuration(backoff_base)));
  }
  if (!(jitter >= 0 && jitter <= 1)) return bad(fmt::format("jitter = {}", jitter), "must be in [0, 1]");
  for (std::size_t i = 0; i < transient_exit_codes.size(); ++i) {
    const std::int32_t code = transient_exit_codes[i];
    if (code < 1 || code > 255)
      return bad(fmt::format("transient_exit_codes[{}] = {}", i, code), "must be in [1, 255]");
  }
  return absl::OkStatus();
}

std::string_view FailureClassName(FailureClass c) {
  return c == FailureClass::kTransient ? "transient" : "permanent";
}

FailureClass Classify(const RetryPolicy& policy, const AttemptFailure& f) {
  switch (f.outcome) {
    case AttemptEnd::kLost:
    case AttemptEnd::kPreempted:
    case AttemptEnd::kStuck:
      return FailureClass::kTransient;
    case AttemptEnd::kTimedOut:
      return FailureClass::kPermanent;
    case AttemptEnd::kFailed:
      if (f.signal != 0) return FailureClass::kTransient;
      return std::find(policy.transient_exit_codes.begin(), policy.transient_exit_codes.end(), f.exit_code) !=
                     policy.transient_exit_codes.end()
                 ? FailureClass::kTransient
                 : FailureClass::kPermanent;
    default:
      return FailureClass::kPermanent;
  }
}

std::string DescribeFailure(const AttemptFailure& f) {
  switch (f.outcome) {
    case AttemptEnd::kFailed:
      return f.signal != 0 ? fmt::format("killed by signal {}", f.signal) : fmt::format("exit code {}", f.exit_code);
    case AttemptEnd::kLost: return "node lost";
    case AttemptEnd::kTimedOut: return "time limit reached";
    case AttemptEnd::kPreempted: return "preempted";
    case AttemptEnd::kStuck: return "no progress reported (stuck)";
    default: return std::string(AttemptEndName(f.outcome));
  }
}

using internal::SplitMix64;

Duration BackoffDelay(const RetryPolicy& policy, std::uint64_t seed, std::uint64_t job, std::int32_t retry) {
  if (policy.backoff_base <= 0 || retry < 1) return 0;
  Duration delay = policy.backoff_base;
  for (std::int32_t i = 1; i < retry && delay < policy.backoff_cap; ++i) delay = delay > policy.backoff_cap / 2 ? policy.backoff_cap : delay * 2;
  delay = std::min(delay, policy.backoff_cap);
  if (policy.jitter > 0) {
    const std::uint64_t h = SplitMix64(seed ^ SplitMix64(job * 0x100000001b3ULL + static_cast<std::uint64_t>(retry)));
    const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
    delay -= static_cast<Duration>(std::floor(static_cast<double>(delay) * policy.jitter * u));
  }
  return delay;
}

}  // namespace mlsched
