// The handlers of the NaCl calls in ABI.md. Each copies untrusted structures in once, acts on
// the copy, and returns a non-negative result or a negated NaCl errno.
#ifndef SYSCALLS_HANDLERS_H_
#define SYSCALLS_HANDLERS_H_

#include <stddef.h>
#include <stdint.h>

#include "absl/types/span.h"
#include "syscalls/call_context.h"
#include "syscalls/untrusted_memory.h"

namespace syscalls {

// read and write move at most this many bytes per call (the module sees a short count).
inline constexpr size_t kMaxIoChunk = 1 << 20;
// imc_mem_obj_create refuses larger objects with ENOMEM.
inline constexpr uint64_t kMaxSharedMemoryBytes = uint64_t{64} << 30;

class Descriptor;

// Checks an mmap of `descriptor` (NaCl's, or Linux's with the same values of PROT_READ,
// PROT_WRITE, MAP_SHARED, MAP_PRIVATE and MAP_FIXED): it must be SharedMemory, readable or
// writable but not executable, shared or private, and inside the object, at a 64 KiB offset.
// Returns 0, or -ENODEV for another descriptor type, or -EINVAL.
int64_t CheckSharedMemoryMap(const Descriptor& descriptor, uint64_t length, int prot, int flags,
                             int64_t offset);

// read(2) in either ABI: reads at most `total` bytes (the ranges' sum) from descriptor `d`
// into the module's `ranges`, which are checked writable first, so that a bad buffer loses no
// input. Returns the bytes read or a negated errno.
int64_t ReadIntoRanges(const CallContext& context, int d, absl::Span<const UntrustedRange> ranges,
                       size_t total);

// write(2) in either ABI: writes the `total` bytes of the module's `ranges` to descriptor `d`.
// Returns the bytes written or a negated errno.
int64_t WriteFromRanges(const CallContext& context, int d, absl::Span<const UntrustedRange> ranges,
                        size_t total);

// After descriptor slot `d` was closed or replaced: drops what ModuleControl::PlaceFd put at
// `d` in the module's process, if anything.
void ReleasePlaced(const CallContext& context, int d);
// After descriptor `d` became nonblocking: drops its socket from number `d` in the module's
// process, if the direct data path put it there (a direct call would wait).
void ReleaseDirect(const CallContext& context, int d);

int64_t SysNull(const CallContext& context, const SyscallArgs& args);
int64_t SysDup(const CallContext& context, const SyscallArgs& args);
int64_t SysDup2(const CallContext& context, const SyscallArgs& args);
int64_t SysClose(const CallContext& context, const SyscallArgs& args);
int64_t SysRead(const CallContext& context, const SyscallArgs& args);
int64_t SysWrite(const CallContext& context, const SyscallArgs& args);
int64_t SysFstat(const CallContext& context, const SyscallArgs& args);
int64_t SysMmap(const CallContext& context, const SyscallArgs& args);
int64_t SysMunmap(const CallContext& context, const SyscallArgs& args);
int64_t SysExit(const CallContext& context, const SyscallArgs& args);
int64_t SysGetpid(const CallContext& context, const SyscallArgs& args);
int64_t SysImcMakeBoundSock(const CallContext& context, const SyscallArgs& args);
int64_t SysImcAccept(const CallContext& context, const SyscallArgs& args);
int64_t SysImcConnect(const CallContext& context, const SyscallArgs& args);
int64_t SysImcSendmsg(const CallContext& context, const SyscallArgs& args);
int64_t SysImcRecvmsg(const CallContext& context, const SyscallArgs& args);
int64_t SysImcMemObjCreate(const CallContext& context, const SyscallArgs& args);
int64_t SysImcSocketPair(const CallContext& context, const SyscallArgs& args);

}  // namespace syscalls

#endif  // SYSCALLS_HANDLERS_H_
