// The module's seccomp policy, built with libseccomp.
//
// Allowed in the module, in named groups with a reason each (policy.cc): what a static glibc
// program needs to start, allocate, run threads, use futexes without priority inheritance,
// read the system clocks, and signal and exit itself. Every pid argument of an allowed call
// must be 0 or the module's own pid. Answered by the filter itself: benign probes (read-only
// opens, access, readlink, ioctl) fail with an errno, clone3 with ENOSYS, and calls that would
// reach another process or host state (another pid's affinity, robust list, limits or CPU
// clock; PI futexes; uname) with an errno, getppid with 0. Everything else goes to the
// supervisor by user notification: the loader's own numbers and Linux's descriptor calls are
// served there, the loader's own exec of the module is let through once (before any module
// code exists, so its pointer arguments are the loader's), and any other call, every later
// exec included, is a policy violation that kills the module. Foreign architectures
// (int 0x80) and x32 numbers kill the module in the filter.
#ifndef SEL_LDR_POLICY_H_
#define SEL_LDR_POLICY_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sel_ldr {

struct PolicyOptions {
  // Send the path calls (open, stat, access, readlink, ...) to the supervisor, which serves
  // them beneath the mounted directory (sel_ldr -m); otherwise the filter answers them.
  bool serve_paths = false;
};

// Returns the classic-BPF program of the policy for the module process `module_pid` (which
// may signal only itself). The filter allows no exec: every exec goes to the supervisor.
absl::StatusOr<std::vector<sock_filter>> BuildModulePolicy(pid_t module_pid,
                                                           const PolicyOptions& options = {});

// True if clone `flags` make a thread of the calling process exactly as glibc's
// pthread_create does: no new process, no namespace.
bool IsThreadClone(uint64_t flags);

// The name of x86-64 syscall `number` ("openat"), or "syscall_<number>" if unknown.
std::string SyscallName(long number);

}  // namespace sel_ldr

#endif  // SEL_LDR_POLICY_H_
