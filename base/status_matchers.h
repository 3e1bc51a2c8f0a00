// Test support: gMock matchers for absl::Status and absl::StatusOr.
#ifndef BASE_STATUS_MATCHERS_H_
#define BASE_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "gmock/gmock.h"

namespace base {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal

// Matches an OK absl::Status or absl::StatusOr.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.ok();
}

// Matches a status with the given code.
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

// Matches a status that carries the given errno (see base/errno_status.h).
MATCHER_P(HasErrno, error_number, "carries errno " + std::to_string(error_number)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status is " << status << " (errno " << ErrnoOf(status) << ")";
  return ErrnoOf(status) == error_number;
}

}  // namespace base

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::base::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::base::IsOk())

#endif  // BASE_STATUS_MATCHERS_H_
