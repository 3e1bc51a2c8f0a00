#include "base/errno_status.h"

#include <string.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace base {
namespace {

constexpr absl::string_view kErrnoPayload = "errno";

}  // namespace

absl::Status ErrnoStatus(int error_number, absl::string_view what) {
  char buffer[128];
  const char* text = strerror_r(error_number, buffer, sizeof(buffer));
  absl::Status status(absl::ErrnoToStatusCode(error_number), absl::StrCat(what, ": ", text));
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(error_number)));
  return status;
}

int ErrnoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayload);
  int error_number = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &error_number)) {
    return 0;
  }
  return error_number;
}

}  // namespace base
