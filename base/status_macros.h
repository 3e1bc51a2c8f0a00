// Status propagation macros that Abseil 20220623 does not ship.
#ifndef BASE_STATUS_MACROS_H_
#define BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if not OK.
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::absl::Status base_status_macro_ = (expr); \
    if (!base_status_macro_.ok()) {             \
      return base_status_macro_;                \
    }                                           \
  } while (0)

#define BASE_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define BASE_STATUS_MACROS_CONCAT_(x, y) BASE_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise assigns
// the value to `lhs` (which may be a declaration such as `auto x`).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  BASE_ASSIGN_OR_RETURN_IMPL_(BASE_STATUS_MACROS_CONCAT_(base_statusor_, __LINE__), lhs, rexpr)

#define BASE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = *std::move(statusor)

#endif  // BASE_STATUS_MACROS_H_
