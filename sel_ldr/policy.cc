#include "sel_ldr/policy.h"

#include <errno.h>
#include <fcntl.h>
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
  explicit Rules(scmp_filter_ctx ctx) : ctx_(ctx) {}

  template <typename... Args>
  void Add(uint32_t action, int syscall, Args... comparisons) {
    const scmp_arg_cmp args[] = {comparisons...};
    int rc = seccomp_rule_add_array(ctx_, action, syscall, sizeof...(Args), args);
    if (rc != 0 && status_.ok()) {
      status_ = base::ErrnoStatus(-rc, absl::StrCat("seccomp rule for ", SyscallName(syscall)));
    }
  }
  void Add(uint32_t action, int syscall) {
    int rc = seccomp_rule_add_array(ctx_, action, syscall, 0, nullptr);
    if (rc != 0 && status_.ok()) {
      status_ = base::ErrnoStatus(-rc, absl::StrCat("seccomp rule for ", SyscallName(syscall)));
    }
  }
  const absl::Status& status() const { return status_; }

 private:
  scmp_filter_ctx ctx_;
  absl::Status status_;
};

void AddAllowedCalls(Rules& rules, pid_t module_pid) {
  const uint32_t allow = SCMP_ACT_ALLOW;
  // Memory. File-backed mmap goes to the supervisor (shared memory descriptors).
  for (int nr :
       {SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect)}) {
    rules.Add(allow, nr);
  }
  rules.Add(allow, SCMP_SYS(mmap), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS));
  // Threads and their bookkeeping.
  rules.Add(allow, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_EQ, kThreadCloneFlags));
  for (int nr : {SCMP_SYS(set_tid_address), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
                 SCMP_SYS(rseq), SCMP_SYS(futex), SCMP_SYS(arch_prctl), SCMP_SYS(sched_yield),
                 SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(exit),
                 SCMP_SYS(exit_group)}) {
    rules.Add(allow, nr);
  }
  // Signals, on this process only.
  for (int nr : {SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
                 SCMP_SYS(sigaltstack)}) {
    rules.Add(allow, nr);
  }
  rules.Add(allow, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(module_pid)));
  rules.Add(allow, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(module_pid)));
  // Clocks, sleeping, randomness, identity, limits (read only).
  for (int nr : {SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrandom),
                 SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
                 SCMP_SYS(uname), SCMP_SYS(getrlimit)}) {
    rules.Add(allow, nr);
  }
  rules.Add(allow, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
}

void AddAnsweredCalls(Rules& rules) {
  // Probes libc makes: there is nothing to find.
  const uint32_t enoent = SCMP_ACT_ERRNO(ENOENT);
  constexpr uint64_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
  rules.Add(enoent, SCMP_SYS(open), SCMP_A1(SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
  rules.Add(enoent, SCMP_SYS(openat), SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteFlags, 0));
  for (int nr : {SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
                 SCMP_SYS(readlinkat), SCMP_SYS(stat), SCMP_SYS(lstat)}) {
    rules.Add(enoent, nr);
  }
  rules.Add(SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl));
  // glibc falls back to clone, which the rule above limits to threads.
  rules.Add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
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

absl::StatusOr<std::vector<sock_filter>> BuildModulePolicy(pid_t module_pid) {
  // Whatever no rule names goes to the supervisor: served there, or a policy violation.
  Context ctx(seccomp_init(SCMP_ACT_NOTIFY));
  if (ctx == nullptr) return base::ErrnoStatus(ENOMEM, "seccomp_init");
  // int 0x80 (i386) and x32 numbers are a foreign ABI: the module dies in the filter.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp bad-arch action");
  // The loader sets no_new_privs itself, before the filter.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc != 0) return base::ErrnoStatus(-rc, "seccomp NNP attribute");
  Rules rules(ctx.get());
  AddAllowedCalls(rules, module_pid);
  // No exec rule: every exec goes to the supervisor, which lets exactly the loader's own
  // through, before the module runs.
  AddAnsweredCalls(rules);
  if (!rules.status().ok()) return rules.status();
  return ExportBpf(ctx.get());
}

}  // namespace sel_ldr
