#include "sel_ldr/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <iterator>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"
#include "base/logging.h"
#include "base/unique_fd.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"

namespace sel_ldr {
namespace {

// Numbers ReportUnserved tells apart; larger ones share the last slot.
constexpr size_t kReportedNumbers = 1024;

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
  Rules(scmp_filter_ctx ctx, uint32_t default_action)
      : ctx_(ctx), default_action_(default_action) {}

  // A rule whose action is the default's is left out (libseccomp refuses it): the default
  // has the same effect.
  template <typename... Args>
  void Add(uint32_t action, int syscall, Args... comparisons) {
    if (action == default_action_) return;
    const scmp_arg_cmp args[] = {comparisons...};
    int rc = seccomp_rule_add_array(ctx_, action, syscall, sizeof...(Args), args);
    if (rc != 0 && status_.ok()) {
      status_ = base::ErrnoStatus(-rc, absl::StrCat("seccomp rule for ", SyscallName(syscall)));
    }
  }
  void Add(uint32_t action, int syscall) {
    if (action == default_action_) return;
    int rc = seccomp_rule_add_array(ctx_, action, syscall, 0, nullptr);
    if (rc != 0 && status_.ok()) {
      status_ = base::ErrnoStatus(-rc, absl::StrCat("seccomp rule for ", SyscallName(syscall)));
    }
  }
  const absl::Status& status() const { return status_; }

 private:
  scmp_filter_ctx ctx_;
  uint32_t default_action_;
  absl::Status status_;
};

// The policy reads as named groups, each entry with its reason, in the manner of sandbox2's
// PolicyBuilder. A call the filter allows must act on the module only: a pid argument is 0
// (the caller) or the module's own tgid, never a number that could name another process.

// ---------------------------------------------------------------------------------------
// Fatal: calls that only an escape attempt makes. The one list; each is a policy violation
// that kills the module. The filter sends them to the supervisor (which names and kills);
// calls fatal only for some arguments are in FatalForArguments and AddConditionalFatalRules.
constexpr int kFatalCalls[] = {
    // Sockets: a module has no host socket and may not make one; IMC is its only channel.
    SYS_socket,
    SYS_socketpair,
    SYS_connect,
    SYS_accept,
    SYS_accept4,
    SYS_bind,
    SYS_listen,
    SYS_sendto,    // Fatal but for the direct data path (AllowDirectData).
    SYS_recvfrom,  // Likewise.
    SYS_sendmsg,
    SYS_recvmsg,
    SYS_sendmmsg,
    SYS_recvmmsg,
    SYS_shutdown,
    SYS_getsockname,
    SYS_getpeername,
    SYS_setsockopt,
    SYS_getsockopt,
    // Namespaces: joining one (unshare and clone, see FatalForArguments).
    SYS_setns,
    // Other processes: tracing, reading or writing their memory, taking their fds, comparing
    // their kernel objects, advising or moving their memory.
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_kcmp,
    SYS_pidfd_open,
    SYS_pidfd_getfd,
    SYS_pidfd_send_signal,
    SYS_process_madvise,
    SYS_process_mrelease,
    SYS_move_pages,
    SYS_migrate_pages,
    // Exec: the supervisor lets the loader's own through once; every other is a violation.
    SYS_execve,
    SYS_execveat,
    // The file-system tree: mounting, changing the root.
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_chroot,
    SYS_open_tree,
    SYS_move_mount,
    SYS_fsopen,
    SYS_fsconfig,
    SYS_fsmount,
    SYS_fspick,
    SYS_mount_setattr,
    // Files by handle bypass every path check (the classic container escape).
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    // Kernel attack surface no libc uses: BPF programs, io_uring (which would run calls the
    // filter never sees), the key store, perf counters, userfaultfd (stalls kernel copies),
    // a new seccomp filter or notifier, the LDT, port I/O.
    SYS_bpf,
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_seccomp,
    SYS_modify_ldt,
    SYS_iopl,
    SYS_ioperm,
    // The host kernel itself: modules, kexec, reboot, swap.
    SYS_init_module,
    SYS_finit_module,
    SYS_delete_module,
    SYS_kexec_load,
    SYS_kexec_file_load,
    SYS_reboot,
    SYS_swapon,
    SYS_swapoff,
};

// Namespace flags of clone and unshare.
constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                        CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET};
// CLONE_NEWTIME, which older headers lack; unshare only (in clone it is a signal number bit).
constexpr uint64_t kCloneNewTime = 0x80;
// prctl's PR_SET_SECCOMP: a new filter, as the seccomp call.
constexpr uint64_t kPrSetSeccomp = 22;

// Calls that the filter sends to the supervisor only when their arguments make them fatal
// (or, for clone and unshare, fatal or not offered): see AddConditionalFatalRules.
bool FatalForArguments(const seccomp_data& call) {
  uint64_t namespaces = 0;
  for (uint64_t flag : kNamespaceFlags) namespaces |= flag;
  switch (call.nr) {
    case SYS_clone:
      return (call.args[0] & namespaces) != 0;
    case SYS_unshare:
      return (call.args[0] & (namespaces | kCloneNewTime)) != 0;
    case SYS_prctl:
      return call.args[0] == kPrSetSeccomp;
    // The filter allows these for the module's own pid only: any that arrive aim elsewhere.
    case SYS_kill:
    case SYS_tgkill:
    case SYS_rt_sigqueueinfo:
    case SYS_rt_tgsigqueueinfo:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// Answered by number: not offered, the call does nothing and fails with an errno. Every call
// that no rule names is answered ENOSYS, as Native Client answered calls it did not have.

// File-system paths: EACCES, Native Client's answer when file access is not granted. Always
// sent to the supervisor, which serves them from a granted directory (-m) if there is one.
constexpr int kPathCalls[] = {
    SYS_open,      SYS_openat,     SYS_openat2,     SYS_creat,        SYS_stat,      SYS_lstat,
    SYS_statx,     SYS_access,     SYS_faccessat,   SYS_faccessat2,   SYS_readlink,  SYS_readlinkat,
    SYS_mkdir,     SYS_mkdirat,    SYS_rmdir,       SYS_unlink,       SYS_unlinkat,  SYS_rename,
    SYS_renameat,  SYS_renameat2,  SYS_link,        SYS_linkat,       SYS_symlink,   SYS_symlinkat,
    SYS_chmod,     SYS_fchmodat,   SYS_chown,       SYS_lchown,       SYS_fchownat,  SYS_truncate,
    SYS_chdir,     SYS_utime,      SYS_utimes,      SYS_utimensat,    SYS_futimesat, SYS_mknod,
    SYS_mknodat,   SYS_statfs,     SYS_getxattr,    SYS_lgetxattr,    SYS_setxattr,  SYS_lsetxattr,
    SYS_listxattr, SYS_llistxattr, SYS_removexattr, SYS_lremovexattr, SYS_uselib,    SYS_acct,
    SYS_quotactl,
};

// Host administration: EPERM, what the kernel answers a caller without the privilege.
constexpr int kHostAdministrationCalls[] = {
    SYS_settimeofday,  SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,  SYS_sethostname,
    SYS_setdomainname, SYS_vhangup,       SYS_syslog,        SYS_setuid,    SYS_setgid,
    SYS_setreuid,      SYS_setregid,      SYS_setresuid,     SYS_setresgid, SYS_setfsuid,
    SYS_setfsgid,      SYS_setgroups,     SYS_capset,
};

template <size_t N>
bool Contains(const int (&list)[N], long nr) {
  for (int entry : list) {
    if (entry == nr) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Allowed.

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
  rules.Add(allow, SCMP_SYS(msync));    // Flushing the module's own (shared) mappings.
  rules.Add(allow, SCMP_SYS(mincore));  // Which of its own pages are resident.
  // Locking its own pages: bounded by RLIMIT_MEMLOCK and the address-space limit.
  for (int nr : {SCMP_SYS(mlock), SCMP_SYS(mlock2), SCMP_SYS(munlock), SCMP_SYS(mlockall),
                 SCMP_SYS(munlockall)}) {
    rules.Add(allow, nr);
  }
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
  // pthread_setname_np / getname_np: the calling thread's name (prctl is the other ops'
  // FatalForArguments or ENOSYS).
  rules.Add(allow, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
  rules.Add(allow, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
}

// Scheduling of the calling thread (pid 0): what sched.h and nice() ask and set. The kernel
// refuses real-time policies and higher priorities without CAP_SYS_NICE in the host.
void AllowSchedulingOfSelf(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  for (int nr : {SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
                 SCMP_SYS(sched_setaffinity), SCMP_SYS(sched_rr_get_interval)}) {
    rules.Add(allow, nr, SCMP_A0(SCMP_CMP_EQ, 0));
  }
  rules.Add(allow, SCMP_SYS(sched_get_priority_max));  // Constants of a policy.
  rules.Add(allow, SCMP_SYS(sched_get_priority_min));  // Likewise.
  // PRIO_PROCESS of the caller (who 0) only; a process group or user reaches others.
  for (int nr : {SCMP_SYS(getpriority), SCMP_SYS(setpriority)}) {
    rules.Add(allow, nr, SCMP_A0(SCMP_CMP_EQ, PRIO_PROCESS), SCMP_A1(SCMP_CMP_EQ, 0));
  }
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
  rules.Add(allow, SCMP_SYS(rt_sigaction));     // The module's handlers.
  rules.Add(allow, SCMP_SYS(rt_sigprocmask));   // The caller's mask.
  rules.Add(allow, SCMP_SYS(rt_sigreturn));     // Return from the module's handler.
  rules.Add(allow, SCMP_SYS(sigaltstack));      // The caller's signal stack.
  rules.Add(allow, SCMP_SYS(rt_sigpending));    // Signals pending for the caller.
  rules.Add(allow, SCMP_SYS(rt_sigsuspend));    // sigsuspend: waiting for the module's signals.
  rules.Add(allow, SCMP_SYS(rt_sigtimedwait));  // sigwait, sigtimedwait: likewise.
  rules.Add(allow, SCMP_SYS(pause));            // Likewise.
  // raise() and pthread_kill(): the kernel checks that the thread belongs to this tgid, and
  // no other process can have it. Another pid is fatal (FatalForArguments).
  rules.Add(allow, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, self));
  rules.Add(allow, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, self));               // The module itself.
  rules.Add(allow, SCMP_SYS(rt_sigqueueinfo), SCMP_A0(SCMP_CMP_EQ, self));    // sigqueue.
  rules.Add(allow, SCMP_SYS(rt_tgsigqueueinfo), SCMP_A0(SCMP_CMP_EQ, self));  // Likewise.
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
  rules.Add(allow, SCMP_SYS(times));         // The module's own CPU times (children: none).
  rules.Add(allow, SCMP_SYS(getrusage));     // Its own usage: self, thread, (no) children.
}

// Timers of the module's own process, which signal it. timer_create's sigevent is in memory
// the filter cannot read, but the kernel sends SIGEV_SIGNAL to the caller's process and
// refuses (EINVAL) a SIGEV_THREAD_ID whose thread is not in the caller's thread group
// (kernel/time/posix-timers.c, good_sigevent; tests: syscall_walk_test). Timer ids are per
// process.
void AllowTimers(Rules& rules) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  for (int nr : {SCMP_SYS(alarm), SCMP_SYS(setitimer), SCMP_SYS(getitimer), SCMP_SYS(timer_create),
                 SCMP_SYS(timer_settime), SCMP_SYS(timer_gettime), SCMP_SYS(timer_getoverrun),
                 SCMP_SYS(timer_delete)}) {
    rules.Add(allow, nr);
  }
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

// The direct data path (docs/performance.md): the module's own sendto and recvfrom on the IMC
// sockets the supervisor placed at their descriptors' numbers, for messages without
// descriptors. They take no control data, so no fd travels either way (a peer's fds are
// closed by the kernel, never installed); no address, and only the flags the SDK uses.
// Anything else is fatal (kFatalCalls): AddDirectDataViolations sends it to the supervisor.
struct DirectDataFlags {
  int nr;
  uint64_t required;
  uint64_t optional;
};
constexpr DirectDataFlags kDirectDataFlags[] = {
    // MSG_NOSIGNAL always (a closed peer is EPIPE, never SIGPIPE), MSG_DONTWAIT if asked.
    {SYS_sendto, MSG_NOSIGNAL, MSG_DONTWAIT},
    // MSG_TRUNC (the packet's real size, for NaCl's truncation flag), MSG_DONTWAIT.
    {SYS_recvfrom, 0, MSG_TRUNC | MSG_DONTWAIT},
};

void AllowDirectData(Rules& rules) {
  for (const DirectDataFlags& call : kDirectDataFlags) {
    // Every subset of the optional flags, with the required ones.
    for (uint64_t subset = call.optional;; subset = (subset - 1) & call.optional) {
      rules.Add(SCMP_ACT_ALLOW, call.nr, SCMP_A3(SCMP_CMP_EQ, call.required | subset),
                SCMP_A4(SCMP_CMP_EQ, 0), SCMP_A5(SCMP_CMP_EQ, 0));
      if (subset == 0) break;
    }
  }
}

// The complement of AllowDirectData, for a default action (-q) that would not reach the
// supervisor: an address, a flag outside both sets, a required flag missing, or high bits.
void AddDirectDataViolations(Rules& rules) {
  const uint32_t notify = SCMP_ACT_NOTIFY;
  for (const DirectDataFlags& call : kDirectDataFlags) {
    rules.Add(notify, call.nr, SCMP_A4(SCMP_CMP_NE, 0));
    rules.Add(notify, call.nr, SCMP_A5(SCMP_CMP_NE, 0));
    rules.Add(notify, call.nr, SCMP_A3(SCMP_CMP_GT, UINT32_MAX));
    for (int bit = 0; bit < 32; ++bit) {
      const uint64_t flag = uint64_t{1} << bit;
      if ((call.required & flag) != 0) {
        rules.Add(notify, call.nr, SCMP_A3(SCMP_CMP_MASKED_EQ, flag, 0));
      } else if ((call.optional & flag) == 0) {
        rules.Add(notify, call.nr, SCMP_A3(SCMP_CMP_MASKED_EQ, flag, flag));
      }
    }
  }
}

void AddAllowedCalls(Rules& rules, pid_t module_pid) {
  AllowMemory(rules);
  AllowStaticStartup(rules);
  AllowThreads(rules);
  AllowSchedulingOfSelf(rules);
  AllowFutexWithoutPI(rules);
  AllowSignalsToSelf(rules, module_pid);
  AllowTime(rules);
  AllowTimers(rules);
  AllowOwnIdentity(rules);
  AllowDirectData(rules);
}

// Calls that would reach another process or host state answer as if the module were alone
// in its own pid namespace on an anonymous host, with an errno (or 0) and never fatally:
// honest libraries make them.
void AnswerHostQueries(Rules& rules) {
  const uint32_t no_such_process = SCMP_ACT_ERRNO(ESRCH);
  rules.Add(no_such_process, SCMP_SYS(sched_getaffinity), SCMP_A0(SCMP_CMP_NE, 0));
  rules.Add(no_such_process, SCMP_SYS(get_robust_list), SCMP_A0(SCMP_CMP_NE, 0));
  rules.Add(no_such_process, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_NE, 0));
  for (int nr : {SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
                 SCMP_SYS(sched_setaffinity), SCMP_SYS(sched_rr_get_interval)}) {
    rules.Add(no_such_process, nr, SCMP_A0(SCMP_CMP_NE, 0));
  }
  for (int nr : {SCMP_SYS(getpriority), SCMP_SYS(setpriority)}) {
    rules.Add(no_such_process, nr, SCMP_A1(SCMP_CMP_NE, 0));
  }
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
  // kernel without them answers. Other unknown commands are not offered either (ENOSYS).
  constexpr uint64_t kCommandMask =
      0xffffffffu & ~uint64_t{FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME};
  for (int command : {FUTEX_FD, FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI,
                      FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI, kFutexLockPi2}) {
    rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(futex),
              SCMP_A1(SCMP_CMP_MASKED_EQ, kCommandMask, static_cast<uint64_t>(command)));
  }
}

void AddAnsweredCalls(Rules& rules, const PolicyOptions& options) {
  // No terminals: isatty() probes of stdio.
  rules.Add(SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl));
  // glibc falls back to clone, which the rule above limits to threads.
  rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
  AnswerHostQueries(rules);
  const uint32_t eperm =
      options.answer_unserved_in_filter ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_NOTIFY;
  for (int nr : kHostAdministrationCalls) rules.Add(eperm, nr);
}

// Calls fatal for some arguments only (FatalForArguments), sent to the supervisor then.
void AddConditionalFatalRules(Rules& rules, pid_t module_pid) {
  const uint32_t notify = SCMP_ACT_NOTIFY;
  for (uint64_t flag : kNamespaceFlags) {
    rules.Add(notify, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
    rules.Add(notify, SCMP_SYS(unshare), SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  rules.Add(notify, SCMP_SYS(unshare), SCMP_A0(SCMP_CMP_MASKED_EQ, kCloneNewTime, kCloneNewTime));
  rules.Add(notify, SCMP_SYS(prctl), SCMP_A0(SCMP_CMP_EQ, kPrSetSeccomp));
  const uint64_t self = static_cast<uint64_t>(module_pid);
  for (int nr :
       {SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo)}) {
    rules.Add(notify, nr, SCMP_A0(SCMP_CMP_NE, self));
  }
}

// Calls that must reach the supervisor whatever the filter's default: what it serves, what
// it answers for paths, and what is fatal.
void AddNotifiedCalls(Rules& rules, pid_t module_pid) {
  std::set<long> notified;
  for (uint64_t n = 0; n < NACL_ABI_SYSCALL_COUNT; ++n) {
    if (syscalls::SyscallTable::Nacl().Name(n) != nullptr) {
      notified.insert(static_cast<long>(NACL_ABI_SYSCALL_BASE + n));
    }
  }
  for (uint64_t n = 0; n < syscalls::SyscallTable::kCapacity; ++n) {
    // mmap is served for descriptors only (below): anonymous mappings run in the module.
    if (syscalls::SyscallTable::LinuxDescriptorCalls().Name(n) != nullptr && n != SYS_mmap) {
      notified.insert(static_cast<long>(n));
    }
  }
  notified.insert(std::begin(kPathCalls), std::end(kPathCalls));
  notified.insert(std::begin(kFatalCalls), std::end(kFatalCalls));
  // Fatal only when the filter does not allow them (an unconditional rule would override).
  for (const DirectDataFlags& call : kDirectDataFlags) notified.erase(call.nr);
  for (long nr : notified) rules.Add(SCMP_ACT_NOTIFY, static_cast<int>(nr));
  AddDirectDataViolations(rules);
  // Served: mmap of a descriptor (shared memory).
  rules.Add(SCMP_ACT_NOTIFY, SCMP_SYS(mmap), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
  AddConditionalFatalRules(rules, module_pid);
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

absl::StatusOr<std::vector<sock_filter>> GenerateModulePolicy(pid_t module_pid,
                                                              const PolicyOptions& options) {
  // Whatever no rule names is not offered: ENOSYS, from the filter or from the supervisor
  // (which then says so). Served and fatal calls have rules that send them there.
  const uint32_t default_action =
      options.answer_unserved_in_filter ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_NOTIFY;
  Context ctx(seccomp_init(default_action));
  if (ctx == nullptr) return base::ErrnoStatus(ENOMEM, "seccomp_init");
  // int 0x80 (i386) and x32 numbers are a foreign ABI: the module dies in the filter.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp bad-arch action");
  // The loader sets no_new_privs itself, before the filter.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp NNP attribute");
  // Syscall numbers as a binary tree, not a list: loading a filter makes the kernel run it for
  // every syscall number (its cache of always-allowed calls), which for -q's program (about
  // 630 instructions as a list) took 300 µs of every launch and takes 126 µs as a tree.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp binary-tree attribute");
  Rules rules(ctx.get(), default_action);
  AddAllowedCalls(rules, module_pid);
  AddAnsweredCalls(rules, options);
  // No exec rule allows: every exec goes to the supervisor, which lets exactly the loader's
  // own through, before the module runs.
  AddNotifiedCalls(rules, module_pid);
  if (!rules.status().ok()) return rules.status();
  return ExportBpf(ctx.get());
}

absl::optional<int> AnswerOf(const seccomp_data& call) {
  if (Contains(kFatalCalls, call.nr) || FatalForArguments(call)) return absl::nullopt;
  if (Contains(kPathCalls, call.nr)) return EACCES;
  if (Contains(kHostAdministrationCalls, call.nr)) return EPERM;
  return ENOSYS;
}

void ReportUnserved(long number, int error) {
  // A path without a grant is not a missing call but a refused file, as a file the user may
  // not read; every static glibc program asks for /proc/self/exe at start. -v traces them.
  if (error == EACCES) return;
  // One sel_ldr process serves one module: the first call of each number is reported.
  static std::atomic<bool> reported[kReportedNumbers];
  const size_t slot = number >= 0 && number < static_cast<long>(kReportedNumbers)
                          ? static_cast<size_t>(number)
                          : kReportedNumbers - 1;
  if (reported[slot].exchange(true)) return;
  const char* name = strerrorname_np(error);
  LOG(WARNING) << "the module called " << SyscallName(number) << " (" << number
               << "), which is not offered here: answered " << (name != nullptr ? name : "E?")
               << " (once per call; docs/abi.md)";
}

}  // namespace sel_ldr
