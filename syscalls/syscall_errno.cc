#include "syscalls/syscall_errno.h"

#include <errno.h>

#include "absl/strings/cord.h"
#include "base/errno_status.h"
#include "syscalls/call_context.h"
#include "syscalls/nacl_abi.h"

namespace syscalls {
namespace {

// Handlers shared by both tables (read, write, dup, ReadIntoRanges, the descriptor table's
// EBADF and EMFILE) answer one number for both: these must be the same in either table.
static_assert(NACL_ABI_EPERM == EPERM && NACL_ABI_ENOENT == ENOENT && NACL_ABI_EINTR == EINTR &&
                  NACL_ABI_EIO == EIO && NACL_ABI_EBADF == EBADF && NACL_ABI_EAGAIN == EAGAIN &&
                  NACL_ABI_ENOMEM == ENOMEM && NACL_ABI_EACCES == EACCES &&
                  NACL_ABI_EFAULT == EFAULT && NACL_ABI_ENODEV == ENODEV &&
                  NACL_ABI_EINVAL == EINVAL && NACL_ABI_ENFILE == ENFILE &&
                  NACL_ABI_EMFILE == EMFILE && NACL_ABI_EPIPE == EPIPE &&
                  NACL_ABI_ENOSYS == ENOSYS && NACL_ABI_EOVERFLOW == EOVERFLOW &&
                  NACL_ABI_EMSGSIZE == EMSGSIZE,
              "NaCl's errno values are Linux's");
// The sentinels are below every negated errno, so never mistaken for one.
static_assert(kWouldBlock != kRunInKernel && kWouldBlock < -4095 && kRunInKernel < -4095,
              "handler sentinels are not errnos");

constexpr absl::string_view kWouldBlockPayload = "syscalls.would_block";

}  // namespace

int NaClErrnoOf(const absl::Status& status) {
  switch (int error_number = base::ErrnoOf(status)) {
    case 0:
      return status.ok() ? 0 : NACL_ABI_EIO;
    case EPIPE:         // Peer closed; accept after every address closed.
    case ECONNREFUSED:  // Connect to a closed bound socket; a dropped request.
    case EPROTO:        // A malformed message from a peer.
    case EMSGSIZE:      // More than NACL_ABI_IMC_USER_BYTES_MAX (NaCl collapses it).
    case EOPNOTSUPP:    // Descriptors over a DataOnlySocket.
      return NACL_ABI_EIO;
    case E2BIG:
      return NACL_ABI_EINVAL;
    case ECANCELED:
      return NACL_ABI_EINTR;
    default:
      return error_number;
  }
}

int LinuxErrnoOf(const absl::Status& status) {
  if (status.ok()) return 0;
  const int error_number = base::ErrnoOf(status);
  return error_number != 0 ? error_number : EIO;
}

int64_t NaClResult(const absl::Status& status) {
  return IsWouldBlock(status) ? kWouldBlock : -NaClErrnoOf(status);
}

int64_t LinuxResult(const absl::Status& status) {
  return IsWouldBlock(status) ? kWouldBlock : -LinuxErrnoOf(status);
}

absl::Status WouldBlockStatus(absl::string_view what) {
  absl::Status status = base::ErrnoStatus(EAGAIN, what);
  status.SetPayload(kWouldBlockPayload, absl::Cord());
  return status;
}

bool IsWouldBlock(const absl::Status& status) {
  return status.GetPayload(kWouldBlockPayload).has_value();
}

}  // namespace syscalls
