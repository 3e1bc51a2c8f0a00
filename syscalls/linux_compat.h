// Linux's descriptor calls, served from the module's descriptor table with Linux semantics
// (x86-64 layouts and errno), so that an unmodified static glibc program's stdio, close()
// and dup2() work in a module. read, write, close and dup are the NaCl handlers themselves;
// these are the calls whose Linux form differs.
#ifndef SYSCALLS_LINUX_COMPAT_H_
#define SYSCALLS_LINUX_COMPAT_H_

#include <stdint.h>
#include <sys/stat.h>

#include <vector>

#include "syscalls/call_context.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {

// Linux's IOV_MAX: readv / writev with more iovecs are EINVAL.
inline constexpr uint64_t kLinuxIovMax = 1024;

// For readv-like call on descriptor `d`: copies in a Linux iovec array of `count` entries at
// `address` as module ranges; `total` is their sum capped at kMaxIoChunk (a longer transfer
// is short, as Linux allows). Returns 0, -EBADF (`d` is not open; checked first, as Linux
// does), -EINVAL (more than kLinuxIovMax, or a sum beyond SSIZE_MAX) or -EFAULT.
int64_t CopyInIovecs(const CallContext& context, int d, uint64_t address, uint64_t count,
                     std::vector<UntrustedRange>* ranges, size_t* total);

int64_t LinuxReadv(const CallContext& context, const SyscallArgs& args);
int64_t LinuxWritev(const CallContext& context, const SyscallArgs& args);
int64_t LinuxDup2(const CallContext& context, const SyscallArgs& args);
int64_t LinuxDup3(const CallContext& context, const SyscallArgs& args);
int64_t LinuxFstat(const CallContext& context, const SyscallArgs& args);
// close: also lets the kernel close what an mmap placed at the number (kRunInKernel).
int64_t LinuxClose(const CallContext& context, const SyscallArgs& args);
// mmap of a SharedMemory descriptor: places its memfd at the descriptor's number and lets
// the kernel run the module's own mmap (kRunInKernel).
int64_t LinuxMmap(const CallContext& context, const SyscallArgs& args);
int64_t LinuxNewfstatat(const CallContext& context, const SyscallArgs& args);

// The Linux view of a descriptor's NaCl stat: IMC objects are sockets, shared memory a
// regular file.
struct stat ToLinuxStat(const nacl_abi_stat& st);

}  // namespace syscalls

#endif  // SYSCALLS_LINUX_COMPAT_H_
