// The module's seccomp policy, built with libseccomp.
//
// Every syscall falls in one of four classes, each listed in one place in policy.cc with a
// reason per call (docs/abi.md has the tables):
//   allowed   in the filter, run by the kernel: what a static glibc program needs to start,
//             allocate, run threads, use futexes without priority inheritance, read clocks,
//             time itself, and signal and exit itself. Every pid argument of an allowed call
//             must be 0 or the module's own pid.
//   served    by the supervisor by user notification: the loader's own numbers and Linux's
//             descriptor calls (syscalls::SyscallTable), mmap of a descriptor, and the
//             loader's own exec of the module, let through once before any module code.
//   answered  with an errno and nothing done: ENOSYS for calls Native Client did not offer
//             (every call no rule names), EACCES for file-system paths without a grant, EPERM
//             for host administration; some host queries are answered as if the module were
//             alone (getppid 0, another pid ESRCH).
//   fatal     a policy violation that kills the module (exit 159, the call named): calls only
//             an escape attempt makes (sockets, namespaces, ptrace, exec after start, mount,
//             bpf, io_uring, keys, kernel modules, signals to other processes, ...).
// Foreign architectures (int 0x80) and x32 numbers kill the module in the filter.
#ifndef SEL_LDR_POLICY_H_
#define SEL_LDR_POLICY_H_

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"

namespace sel_ldr {

struct PolicyOptions {
  // Answer calls that are not offered (ENOSYS, EPERM) in the filter, at no cost, instead of
  // by the supervisor, which traces them (-v) and names each distinct one once on stderr.
  // Set for -q without -v: then no one would be told. Path calls (EACCES) always go to the
  // supervisor, which serves them where a directory is granted.
  bool answer_unserved_in_filter = false;
};

// Generates, with libseccomp, the classic-BPF program of the policy for the module process
// `module_pid` (which may signal only itself). The filter allows no exec: every exec goes to
// the supervisor. This takes about 0.3 ms, a tenth of a launch: sel_ldr loads the program
// generated from it at build time instead (ModulePolicy, sel_ldr/prebuilt_policy.h).
absl::StatusOr<std::vector<sock_filter>> GenerateModulePolicy(pid_t module_pid,
                                                              const PolicyOptions& options = {});

// True if clone `flags` make a thread of the calling process exactly as glibc's
// pthread_create does: no new process, no namespace.
bool IsThreadClone(uint64_t flags);

// For a call that reached the supervisor and that it does not serve: the errno it answers
// with (ENOSYS, EACCES, EPERM), or nullopt if the call is fatal (a policy violation).
absl::optional<int> AnswerOf(const seccomp_data& call);

// Says on stderr, once per syscall number and sel_ldr process (one module), that the module
// made a call that is not offered and what it was answered. Silent with -q (base/logging),
// and for EACCES: a refused path is a file the module may not have, not a missing call
// (static glibc asks for /proc/self/exe at every start); -v traces those.
void ReportUnserved(long number, int error);

// The name of x86-64 syscall `number` ("openat"), or "syscall_<number>" if unknown.
std::string SyscallName(long number);

}  // namespace sel_ldr

#endif  // SEL_LDR_POLICY_H_
