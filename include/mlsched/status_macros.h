// Status propagation helpers.
//
// Abseil 20220623 ships no status macros, so mlsched carries these two. They
// are used inside the library and are public so that hosts and examples can
// use the same idiom.
//
//   MLSCHED_RETURN_IF_ERROR(engine.Cancel(id));
//   MLSCHED_ASSIGN_OR_RETURN(JobId id, engine.Submit(spec));
//
// They hold no state and own nothing, so any thread may use them; they only
// return early from the enclosing function, moving the error out. Errors are
// the rare path: the compiler is told so (ABSL_PREDICT_FALSE) and lays the
// early returns out of the way of the code that runs.
#ifndef MLSCHED_STATUS_MACROS_H_
#define MLSCHED_STATUS_MACROS_H_

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MLSCHED_RETURN_IF_ERROR(expr)                \
  do {                                               \
    if (::absl::Status mlsched_status_ = (expr);     \
        ABSL_PREDICT_FALSE(!mlsched_status_.ok())) { \
      return mlsched_status_;                        \
    }                                                \
  } while (false)

#define MLSCHED_CONCAT_INNER_(a, b) a##b
#define MLSCHED_CONCAT_(a, b) MLSCHED_CONCAT_INNER_(a, b)

#define MLSCHED_ASSIGN_OR_RETURN(lhs, expr) \
  MLSCHED_ASSIGN_OR_RETURN_IMPL_(MLSCHED_CONCAT_(mlsched_or_, __LINE__), lhs, expr)

#define MLSCHED_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)               \
  auto tmp = (expr);                                                 \
  if (ABSL_PREDICT_FALSE(!tmp.ok())) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

#endif  // MLSCHED_STATUS_MACROS_H_
