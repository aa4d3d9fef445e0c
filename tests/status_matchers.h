// Assertions on absl::Status for the validation tests.
#ifndef MLSCHED_TESTS_STATUS_MATCHERS_H_
#define MLSCHED_TESTS_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace mlsched::testing_util {

// OK, or a failure naming what differs from an InvalidArgument error whose
// message is exactly `expected`.
inline ::testing::AssertionResult FailsWithMessage(const absl::Status& status, std::string_view expected) {
  if (status.ok()) return ::testing::AssertionFailure() << "expected error \"" << expected << "\", got OK";
  if (status.code() != absl::StatusCode::kInvalidArgument)
    return ::testing::AssertionFailure() << "expected InvalidArgument, got " << status;
  if (std::string(status.message()) != expected)
    return ::testing::AssertionFailure() << "message \"" << status.message() << "\"\n    expected \""
                                         << expected << "\"";
  return ::testing::AssertionSuccess();
}

// OK, or a failure unless `status` is InvalidArgument and its message
// contains every needle.
inline ::testing::AssertionResult FailsMentioning(const absl::Status& status,
                                                  std::vector<std::string_view> needles) {
  if (status.ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
  if (status.code() != absl::StatusCode::kInvalidArgument)
    return ::testing::AssertionFailure() << "expected InvalidArgument, got " << status;
  const std::string message(status.message());
  for (std::string_view needle : needles) {
    if (message.find(needle) == std::string::npos)
      return ::testing::AssertionFailure() << "message \"" << message << "\" lacks \"" << needle << "\"";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mlsched::testing_util

#endif  // MLSCHED_TESTS_STATUS_MATCHERS_H_
