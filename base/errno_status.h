// absl::Status values that carry a Linux errno, so that lower layers can report "what
// failed" as text and "why" as a number the syscall layer maps onto NaCl's errno table.
#ifndef BASE_ERRNO_STATUS_H_
#define BASE_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace base {

// Returns a status whose code follows `error_number` (absl::ErrnoToStatusCode), whose
// message is "`what`: strerror(error_number)", and which carries `error_number` itself.
absl::Status ErrnoStatus(int error_number, absl::string_view what);

// Returns the errno carried by `status`, or 0 if it carries none (OK or not an ErrnoStatus).
int ErrnoOf(const absl::Status& status);

}  // namespace base

#endif  // BASE_ERRNO_STATUS_H_
