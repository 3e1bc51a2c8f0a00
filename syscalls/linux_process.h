// Linux calls about the module's own process that need the loader's knowledge (the module's
// limits) or must write into module memory, served from the dispatch table like the
// descriptor calls; so that getcwd() and sysconf(_SC_PHYS_PAGES) work in a module.
#ifndef SYSCALLS_LINUX_PROCESS_H_
#define SYSCALLS_LINUX_PROCESS_H_

#include <stdint.h>

#include "syscalls/call_context.h"

namespace syscalls {

// getcwd(buf, size): the module's working directory is always "/". ERANGE if `size` < 2,
// EFAULT if `buf` is not writable. Returns the length written, with the NUL (as Linux).
int64_t LinuxGetcwd(const CallContext& context, const SyscallArgs& args);

// sysinfo(info): memory sized to the module's budget (its address-space limit, RLIMIT_AS),
// no swap, one process, no load figures; uptime as CLOCK_BOOTTIME shows it. EFAULT if `info`
// is not writable.
int64_t LinuxSysinfo(const CallContext& context, const SyscallArgs& args);

}  // namespace syscalls

#endif  // SYSCALLS_LINUX_PROCESS_H_
