// Linux's path calls, served beneath the mounted directory (sel_ldr -m DIR[:ro]; see
// mounted_directory.h): the module's "/" and its working directory are DIR. Without a mounted
// directory every path call answers EACCES, as Native Client answered file access without
// permission. Paths are copied in from the module once (at most PATH_MAX bytes with the NUL:
// EFAULT, ENAMETOOLONG) and the copy is resolved. Files open as HostIo descriptors with the
// access their open mode gives, directories as Directory descriptors; other kinds of file
// (devices, FIFOs, sockets) are refused with EACCES. On a read-only mount every call that
// would change DIR answers EROFS. Errors are Linux errnos.
#ifndef SYSCALLS_LINUX_PATHS_H_
#define SYSCALLS_LINUX_PATHS_H_

#include <stdint.h>

#include "syscalls/call_context.h"

namespace syscalls {

int64_t LinuxOpen(const CallContext& context, const SyscallArgs& args);
int64_t LinuxOpenat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxCreat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxStat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxLstat(const CallContext& context, const SyscallArgs& args);
// newfstatat: fstat of a descriptor with AT_EMPTY_PATH and "", else a path.
int64_t LinuxPathNewfstatat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxAccess(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFaccessat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFaccessat2(const CallContext& context, const SyscallArgs& args);
int64_t LinuxReadlink(const CallContext& context, const SyscallArgs& args);
int64_t LinuxReadlinkat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxGetdents64(const CallContext& context, const SyscallArgs& args);
int64_t LinuxMkdir(const CallContext& context, const SyscallArgs& args);
int64_t LinuxMkdirat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxUnlink(const CallContext& context, const SyscallArgs& args);
int64_t LinuxUnlinkat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxRmdir(const CallContext& context, const SyscallArgs& args);
int64_t LinuxRename(const CallContext& context, const SyscallArgs& args);
int64_t LinuxRenameat(const CallContext& context, const SyscallArgs& args);
int64_t LinuxRenameat2(const CallContext& context, const SyscallArgs& args);

}  // namespace syscalls

#endif  // SYSCALLS_LINUX_PATHS_H_
