// The two errno tables a handler answers from, and the conversion of a descriptor's or imc's
// absl::Status into each. The NaCl table (SyscallTable::Nacl) answers NaCl's errnos, with
// NaCl's IMC mapping (a closed peer is EIO); the Linux table (LinuxDescriptorCalls) answers
// Linux's errnos as they are. NaCl's errno values are Linux's (nacl_abi.h), which is what lets
// the Linux table reuse the NaCl handlers of read, write and dup; syscall_errno.cc asserts it.
#ifndef SYSCALLS_SYSCALL_ERRNO_H_
#define SYSCALLS_SYSCALL_ERRNO_H_

#include <stdint.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace syscalls {

// The NaCl errno of a descriptor or imc error, as the errno table of ABI.md says: peer
// closed, refused, malformed and oversized messages are EIO; too many descriptors EINVAL; a
// cancelled wait EINTR; the rest keep their errno (EIO if they carry none).
int NaClErrnoOf(const absl::Status& status);

// The Linux errno of an error: the errno it carries (EIO if none).
int LinuxErrnoOf(const absl::Status& status);

// A handler's answer for a failed `status` in the NaCl table: kWouldBlock for a
// WouldBlockStatus, otherwise -NaClErrnoOf(status).
int64_t NaClResult(const absl::Status& status);

// Likewise in the Linux table: kWouldBlock or -LinuxErrnoOf(status).
int64_t LinuxResult(const absl::Status& status);

// The error of a call that, on the loader's nonblocking first attempt, would have to wait
// (or stopped after a bounded batch of work): an EAGAIN that the handler answers as
// kWouldBlock, so that the loader dispatches the call again off the receiving thread.
absl::Status WouldBlockStatus(absl::string_view what);

// True for a WouldBlockStatus.
bool IsWouldBlock(const absl::Status& status);

}  // namespace syscalls

#endif  // SYSCALLS_SYSCALL_ERRNO_H_
