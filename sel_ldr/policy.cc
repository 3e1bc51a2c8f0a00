#include "sel_ldr/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/unique_fd.h"
#include "syscalls/nacl_abi.h"

namespace sel_ldr {
namespace {

// FUTEX_LOCK_PI2 (Linux 5.14), which older headers lack.
constexpr int kFutexLockPi2 = 13;

// glibc's pthread_create: a thread in this process, nothing else.
constexpr uint64_t kThreadCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                       CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                       CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

class Rules {
 public:
  // `default_action`: what the filter does where no rule applies.
  Rules(scmp_filter_ctx ctx, uint32_t default_action)
      : ctx_(ctx), default_action_(default_action) {}

  template <typename... Args>
  void Add(uint32_t action, int syscall, Args... comparisons) {
    const scmp_arg_cmp args[] = {comparisons...};
    AddArray(action, syscall, sizeof...(Args), args);
  }
  void Add(uint32_t action, int syscall) { AddArray(action, syscall, 0, nullptr); }
  const absl::Status& status() const { return status_; }

 private:
  void AddArray(uint32_t action, int syscall, unsigned count, const scmp_arg_cmp* args) {
    // A rule with the default action says what the default does anyway: libseccomp refuses
    // it, but the policy still names the call in its group.
    if (action == default_action_ && count == 0) return;
    int rc = seccomp_rule_add_array(ctx_, action, syscall, count, args);
    if (rc != 0 && status_.ok()) {
      status_ = base::ErrnoStatus(-rc, absl::StrCat("seccomp rule for ", SyscallName(syscall)));
    }
  }

  scmp_filter_ctx ctx_;
  uint32_t default_action_;
  absl::Status status_;
};

// The policy reads as named groups, each entry with its reason, in the manner of sandbox2's
// PolicyBuilder. A call the filter allows must act on the module only: a pid argument is 0
// (the caller) or the module's own tgid, never a number that could name another process.

// Memory of the module's own address space. File-backed mmap goes to the supervisor (shared
// memory descriptors). mprotect may add PROT_EXEC to any of the module's mappings, shared
// memory included: that is the module's own code, as a JIT's (docs/threat_model.md).
void AllowMemory(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  rules.Add(allow, SCMP_SYS(brk));       // malloc's heap.
  rules.Add(allow, SCMP_SYS(munmap));    // Unmapping the module's own pages.
  rules.Add(allow, SCMP_SYS(mremap));    // realloc of large blocks.
  rules.Add(allow, SCMP_SYS(madvise));   // Freeing pages; privileged advice needs capabilities.
  rules.Add(allow, SCMP_SYS(mprotect));  // Guard pages, RELRO, JIT code.
  rules.Add(allow, SCMP_SYS(mmap),       // Anonymous memory only.
            SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS));
}

// What static glibc does before main, on the calling thread only.
void AllowStaticStartup(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  rules.Add(allow, SCMP_SYS(arch_prctl));       // The thread pointer (FS) of the caller.
  rules.Add(allow, SCMP_SYS(set_tid_address));  // The caller's clear-child-tid word.
  rules.Add(allow, SCMP_SYS(set_robust_list));  // The caller's robust mutex list.
  rules.Add(allow, SCMP_SYS(rseq));             // The caller's restartable sequences area.
  rules.Add(allow, SCMP_SYS(getrlimit));        // The module's own limits, read only.
  rules.Add(allow, SCMP_SYS(prlimit64),         // Likewise: pid 0, no new limit.
            SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
}

// pthread_create and what threads ask about themselves.
void AllowThreads(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  // Thread creation and thread exit go to the supervisor, which counts the module's threads
  // against its budget (--max-threads): clone with glibc's thread flags is let through
  // (IsThreadClone) or answered EAGAIN, any other clone is a violation; exit is let through.
  rules.Add(SCMP_ACT_NOTIFY, SCMP_SYS(clone));
  rules.Add(allow, SCMP_SYS(get_robust_list),  // The caller's list (pid 0) only.
            SCMP_A0(SCMP_CMP_EQ, 0));
  rules.Add(allow, SCMP_SYS(sched_getaffinity),  // The caller's CPUs (pid 0), as sysconf asks.
            SCMP_A0(SCMP_CMP_EQ, 0));
  rules.Add(allow, SCMP_SYS(sched_yield));     // Scheduling of the caller.
  rules.Add(SCMP_ACT_NOTIFY, SCMP_SYS(exit));  // The calling thread ends (see clone).
  rules.Add(allow, SCMP_SYS(exit_group));      // The module ends.
}

// futex operations glibc's mutexes, condition variables and joins use. Priority inheritance
// is left out: its operations read a host thread id from the futex word and act on that
// thread (boosting it, or telling whether it exists).
void AllowFutexWithoutPI(Rules& rules) {
  constexpr uint64_t kCommandMask =
      0xffffffffu & ~uint64_t{FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME};
  for (int command : {FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP,
                      FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET}) {
    // Process-private or shared (shared memory between modules), any clock: the kernel
    // refuses flags that make no sense for the command. The kernel reads the op as an int.
    rules.Add(SCMP_ACT_ALLOW, SCMP_SYS(futex),
              SCMP_A1(SCMP_CMP_MASKED_EQ, kCommandMask, static_cast<uint64_t>(command)));
  }
}

// Signals, to the module's own threads only.
void AllowSignalsToSelf(Rules& rules, pid_t module_pid) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  const uint64_t self = static_cast<uint64_t>(module_pid);
  rules.Add(allow, SCMP_SYS(rt_sigaction));    // The module's handlers.
  rules.Add(allow, SCMP_SYS(rt_sigprocmask));  // The caller's mask.
  rules.Add(allow, SCMP_SYS(rt_sigreturn));    // Return from the module's handler.
  rules.Add(allow, SCMP_SYS(sigaltstack));     // The caller's signal stack.
  // raise() and pthread_kill(): the kernel checks that the thread belongs to this tgid, and
  // no other process can have it.
  rules.Add(allow, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, self));
  rules.Add(allow, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, self));  // The module itself.
}

// Time. Clock ids 0..kLastStaticClock are the system clocks and the caller's own CPU clocks;
// negative ids name the CPU clock of any pid (readable without a permission check) or a
// clock device by fd.
constexpr uint64_t kLastStaticClock = 11;  // CLOCK_TAI.

void AllowTime(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  for (int nr : {SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep)}) {
    rules.Add(allow, nr, SCMP_A0(SCMP_CMP_LE, kLastStaticClock));  // System clocks only.
  }
  rules.Add(allow, SCMP_SYS(nanosleep));     // Sleeping.
  rules.Add(allow, SCMP_SYS(gettimeofday));  // The wall clock.
  rules.Add(allow, SCMP_SYS(time));          // Likewise.
}

// The module's own identity, and randomness. Host names are not given (see AnswerHostQueries).
void AllowOwnIdentity(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  rules.Add(allow, SCMP_SYS(getpid));     // The module's own pid, as NACL_sys_getpid answers.
  rules.Add(allow, SCMP_SYS(gettid));     // The caller's own thread id.
  rules.Add(allow, SCMP_SYS(getuid));     // Ids in the module's user namespace.
  rules.Add(allow, SCMP_SYS(geteuid));    // Likewise.
  rules.Add(allow, SCMP_SYS(getgid));     // Likewise.
  rules.Add(allow, SCMP_SYS(getegid));    // Likewise.
  rules.Add(allow, SCMP_SYS(getrandom));  // Seeds for malloc and hashing.
}

void AddAllowedCalls(Rules& rules, pid_t module_pid) {
  AllowMemory(rules);
  AllowStaticStartup(rules);
  AllowThreads(rules);
  AllowFutexWithoutPI(rules);
  AllowSignalsToSelf(rules, module_pid);
  AllowTime(rules);
  AllowOwnIdentity(rules);
}

// Calls that would reach another process or host state answer as if the module were alone
// in its own pid namespace on an anonymous host, with an errno (or 0) and never fatally:
// honest libraries make them.
void AnswerHostQueries(Rules& rules) {
  const uint32_t no_such_process = SCMP_ACT_ERRNO(ESRCH);
  rules.Add(no_such_process, SCMP_SYS(sched_getaffinity), SCMP_A0(SCMP_CMP_NE, 0));
  rules.Add(no_such_process, SCMP_SYS(get_robust_list), SCMP_A0(SCMP_CMP_NE, 0));
  rules.Add(no_such_process, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_NE, 0));
  // setrlimit: the loader set the module's limits.
  rules.Add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_EQ, 0),
            SCMP_A2(SCMP_CMP_NE, 0));
  // The parent is outside the module's world, as a pid namespace's init sees it: 0.
  rules.Add(SCMP_ACT_ERRNO(0), SCMP_SYS(getppid));
  // Another process's CPU clock, or a clock device: no such clock.
  for (int nr : {SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep)}) {
    rules.Add(SCMP_ACT_ERRNO(EINVAL), nr, SCMP_A0(SCMP_CMP_GT, kLastStaticClock));
  }
  // The host's name and kernel release; Native Client had no uname.
  rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(uname));
  // Priority-inheritance futexes (see AllowFutexWithoutPI) and the long-gone FUTEX_FD, as a
  // kernel without them answers. Other unknown commands are a policy violation.
  constexpr uint64_t kCommandMask =
      0xffffffffu & ~uint64_t{FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME};
  for (int command : {FUTEX_FD, FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI,
                      FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI, kFutexLockPi2}) {
    rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(futex),
              SCMP_A1(SCMP_CMP_MASKED_EQ, kCommandMask, static_cast<uint64_t>(command)));
  }
}

void AddAnsweredCalls(Rules& rules, const PolicyOptions& options) {
  // Probes libc makes: there is nothing to find. With a mounted directory the supervisor
  // serves these (syscalls/linux_paths.h).
  const uint32_t enoent = SCMP_ACT_ERRNO(ENOENT);
  constexpr uint64_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
  if (!options.serve_paths) {
    rules.Add(enoent, SCMP_SYS(open), SCMP_A1(SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
    rules.Add(enoent, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
    for (int nr : {SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
                   SCMP_SYS(readlinkat), SCMP_SYS(stat), SCMP_SYS(lstat)}) {
      rules.Add(enoent, nr);
    }
  }
  rules.Add(SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl));
  // glibc falls back to clone, which the rule above limits to threads.
  rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
  AnswerHostQueries(rules);
}

absl::StatusOr<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  base::UniqueFd memfd(memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd.valid()) return base::ErrnoStatus(errno, "memfd_create");
  int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp_export_bpf");
  struct stat st;
  if (fstat(memfd.get(), &st) != 0) return base::ErrnoStatus(errno, "fstat");
  if (st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0) {
    return base::ErrnoStatus(EINVAL, "seccomp_export_bpf wrote a partial program");
  }
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  if (pread(memfd.get(), program.data(), static_cast<size_t>(st.st_size), 0) != st.st_size) {
    return base::ErrnoStatus(errno, "read back the seccomp program");
  }
  return program;
}

}  // namespace

bool IsThreadClone(uint64_t flags) { return flags == kThreadCloneFlags; }

std::string SyscallName(long number) {
  if (number >= 0 && number < INT32_MAX) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(number));
    if (name != nullptr) {
      std::string result(name);
      free(name);
      return result;
    }
  }
  return absl::StrCat("syscall_", number);
}

absl::StatusOr<std::vector<sock_filter>> BuildModulePolicy(pid_t module_pid,
                                                           const PolicyOptions& options) {
  // Whatever no rule names goes to the supervisor: served there, or a policy violation.
  constexpr uint32_t kDefaultAction = SCMP_ACT_NOTIFY;
  Context ctx(seccomp_init(kDefaultAction));
  if (ctx == nullptr) return base::ErrnoStatus(ENOMEM, "seccomp_init");
  // int 0x80 (i386) and x32 numbers are a foreign ABI: the module dies in the filter.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp bad-arch action");
  // The loader sets no_new_privs itself, before the filter.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp NNP attribute");
  Rules rules(ctx.get(), kDefaultAction);
  AddAllowedCalls(rules, module_pid);
  // No exec rule: every exec goes to the supervisor, which lets exactly the loader's own
  // through, before the module runs.
  AddAnsweredCalls(rules, options);
  if (!rules.status().ok()) return rules.status();
  return ExportBpf(ctx.get());
}

}  // namespace sel_ldr
