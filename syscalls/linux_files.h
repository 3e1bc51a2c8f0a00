// Linux's file-descriptor calls beyond read and write, served from the module's descriptor
// table with Linux semantics and errno: fcntl, the file calls on HostIo files (lseek,
// pread64, pwrite64, preadv, pwritev, fsync, fdatasync, ftruncate), and pipe / pipe2.
//
// pipe() makes a real host pipe held by the loader, created nonblocking (no one else shares
// its open file description), wrapped as two HostIo descriptors: a read-only and a write-only
// end. It has a pipe's semantics exactly (PIPE_BUF atomicity, end of file, EPIPE), except that
// a write to a pipe without readers answers EPIPE without raising SIGPIPE.
#ifndef SYSCALLS_LINUX_FILES_H_
#define SYSCALLS_LINUX_FILES_H_

#include <stdint.h>

#include "syscalls/call_context.h"

namespace syscalls {

int64_t LinuxFcntl(const CallContext& context, const SyscallArgs& args);
int64_t LinuxLseek(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPread64(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPwrite64(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPreadv(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPwritev(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFsync(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFdatasync(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFtruncate(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPipe(const CallContext& context, const SyscallArgs& args);
int64_t LinuxPipe2(const CallContext& context, const SyscallArgs& args);

}  // namespace syscalls

#endif  // SYSCALLS_LINUX_FILES_H_
