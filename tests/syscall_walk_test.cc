// End-to-end: every x86-64 syscall number, made from inside a sandboxed module
// (tests/modules/syscall_walk.c) with arguments that are all -1, gets its documented class
// (docs/abi.md, "System call classes"): allowed (run by the kernel), served (by the
// loader's tables), answered with its documented errno, or fatal (exit 159 naming the call).
// The expectations here are written out independently of sel_ldr/policy.cc.
#include <errno.h>
#include <sys/syscall.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/syscall_table.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitPolicyViolation = 159;
// Past the end of the x86-64 table (and its x32-only numbers 512..547).
constexpr long kLastNumber = 549;

// Not made by the walk: they end or hijack the walker, or wait forever, whatever the policy.
// (pause, rt_sigsuspend and the rest are tested with honest arguments by the "process" run.)
const std::map<long, const char*>& Excluded() {
  static const auto* excluded = new std::map<long, const char*>{
      {SYS_rt_sigreturn, "returns into a signal frame that is not there: SIGSEGV"},
      {SYS_pause, "waits for a signal forever"},
      {SYS_exit, "ends the walking thread"},
      {SYS_exit_group, "ends the module"},
      // Linux 6.11+ runs uretprobe without asking seccomp (it acts only on the caller's own
      // uprobe trampoline) and answers SIGILL anywhere else.
      {335, "uretprobe: bypasses seccomp, SIGILL outside a uretprobe trampoline"},
  };
  return *excluded;
}

// Fatal with the walk's arguments: the policy violation sel_ldr reports.
const std::map<long, std::string>& Fatal() {
  static const auto* fatal = [] {
    auto* m = new std::map<long, std::string>;
    for (long nr :
         {SYS_socket, SYS_socketpair, SYS_connect, SYS_accept, SYS_accept4, SYS_bind, SYS_listen,
          SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg,
          SYS_shutdown, SYS_getsockname, SYS_getpeername, SYS_setsockopt, SYS_getsockopt, SYS_setns,
          SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp, SYS_pidfd_open,
          SYS_pidfd_getfd, SYS_pidfd_send_signal, SYS_process_madvise, SYS_process_mrelease,
          SYS_move_pages, SYS_migrate_pages, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
          SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
          SYS_mount_setattr, SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_bpf,
          SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register, SYS_keyctl, SYS_add_key,
          SYS_request_key, SYS_perf_event_open, SYS_userfaultfd, SYS_seccomp, SYS_modify_ldt,
          SYS_iopl, SYS_ioperm, SYS_init_module, SYS_finit_module, SYS_delete_module,
          SYS_kexec_load, SYS_kexec_file_load, SYS_reboot, SYS_swapon, SYS_swapoff,
          // Fatal for these arguments: namespace flags (all bits set), pid -1.
          SYS_clone, SYS_unshare, SYS_kill, SYS_tgkill, SYS_rt_sigqueueinfo,
          SYS_rt_tgsigqueueinfo}) {
      (*m)[nr] = "";
    }
    (*m)[SYS_execve] = ": a second exec";
    (*m)[SYS_execveat] = ": a second exec";
    return m;
  }();
  return *fatal;
}

// Run by the kernel: any result but ENOSYS (which only the policy would give).
const std::set<long>& Allowed() {
  static const auto* allowed = new std::set<long>{
      SYS_brk, SYS_munmap, SYS_mremap, SYS_madvise, SYS_mprotect, SYS_mmap, SYS_msync, SYS_mincore,
      SYS_mlock, SYS_mlock2, SYS_munlock, SYS_mlockall, SYS_munlockall, SYS_arch_prctl,
      SYS_set_tid_address, SYS_set_robust_list, SYS_rseq, SYS_getrlimit, SYS_sched_yield,
      SYS_sched_get_priority_max, SYS_sched_get_priority_min, SYS_rt_sigaction, SYS_rt_sigprocmask,
      SYS_sigaltstack, SYS_rt_sigpending, SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_nanosleep,
      SYS_gettimeofday, SYS_time, SYS_times, SYS_getrusage, SYS_alarm, SYS_setitimer, SYS_getitimer,
      SYS_timer_create, SYS_timer_settime, SYS_timer_gettime, SYS_timer_getoverrun,
      SYS_timer_delete, SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
      SYS_getrandom,
      // uprobe (Linux 6.18+), which the kernel, like uretprobe, runs without asking seccomp:
      // ENXIO outside a uprobe trampoline; ENOSYS on older kernels.
      336};
  return *allowed;
}

// Answered: the errno (0: the result 0). Every number in no list is answered ENOSYS.
const std::map<long, int>& Answered() {
  static const auto* answered = [] {
    auto* m = new std::map<long, int>;
    for (long nr :
         {SYS_open,         SYS_openat,     SYS_openat2,   SYS_creat,      SYS_stat,
          SYS_lstat,        SYS_statx,      SYS_access,    SYS_faccessat,  SYS_faccessat2,
          SYS_readlink,     SYS_readlinkat, SYS_mkdir,     SYS_mkdirat,    SYS_rmdir,
          SYS_unlink,       SYS_unlinkat,   SYS_rename,    SYS_renameat,   SYS_renameat2,
          SYS_link,         SYS_linkat,     SYS_symlink,   SYS_symlinkat,  SYS_chmod,
          SYS_fchmodat,     SYS_chown,      SYS_lchown,    SYS_fchownat,   SYS_truncate,
          SYS_chdir,        SYS_utime,      SYS_utimes,    SYS_utimensat,  SYS_futimesat,
          SYS_mknod,        SYS_mknodat,    SYS_statfs,    SYS_getxattr,   SYS_lgetxattr,
          SYS_setxattr,     SYS_lsetxattr,  SYS_listxattr, SYS_llistxattr, SYS_removexattr,
          SYS_lremovexattr, SYS_uselib,     SYS_acct,      SYS_quotactl}) {
      (*m)[nr] = EACCES;
    }
    for (long nr : {SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
                    SYS_sethostname, SYS_setdomainname, SYS_vhangup, SYS_syslog, SYS_setuid,
                    SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid,
                    SYS_setfsuid, SYS_setfsgid, SYS_setgroups, SYS_capset}) {
      (*m)[nr] = EPERM;
    }
    for (long nr : {SYS_sched_getparam, SYS_sched_getscheduler, SYS_sched_setaffinity,
                    SYS_sched_rr_get_interval, SYS_sched_getaffinity, SYS_get_robust_list,
                    SYS_prlimit64, SYS_getpriority, SYS_setpriority}) {
      (*m)[nr] = ESRCH;  // pid -1: another process, as if the module were alone.
    }
    for (long nr : {SYS_clock_gettime, SYS_clock_getres, SYS_clock_nanosleep}) {
      (*m)[nr] = EINVAL;  // Clock -1: another process's CPU clock.
    }
    (*m)[SYS_ioctl] = ENOTTY;
    (*m)[SYS_getppid] = 0;
    return m;
  }();
  return *answered;
}

bool Served(long nr) { return syscalls::SyscallTable::LinuxDescriptorCalls().Name(nr) != nullptr; }

// What one call did: "<result> <errno name>" as the module printed it.
using Outcomes = std::map<long, std::string>;

Outcomes ParseWalk(const std::string& out) {
  Outcomes outcomes;
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    long nr = 0;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[0], &nr)) continue;
    outcomes[nr] = absl::StrCat(fields[1], " ", fields[2]);
  }
  return outcomes;
}

std::string ErrnoText(int error) {
  if (error == 0) return "0 ok";
  const char* name = strerrorname_np(error);
  return absl::StrCat("-1 ", name != nullptr ? name : "?");
}

// The numbers of the batch: all but the fatal and excluded ones.
std::vector<std::string> BatchNumbers() {
  std::vector<std::string> numbers;
  for (long nr = 0; nr <= kLastNumber; ++nr) {
    if (Fatal().count(nr) == 0 && Excluded().count(nr) == 0) numbers.push_back(absl::StrCat(nr));
  }
  return numbers;
}

absl::StatusOr<SelLdrResult> RunWalk(std::vector<std::string> flags,
                                     std::vector<std::string> numbers) {
  SelLdrCommand command;
  command.flags = std::move(flags);
  command.module = ModulePath("syscall_walk");
  command.args = {"call"};
  command.args.insert(command.args.end(), numbers.begin(), numbers.end());
  return RunSelLdr(command);
}

void ExpectDocumentedClasses(const SelLdrResult& result) {
  ASSERT_TRUE(result.exited) << result.Describe();
  ASSERT_EQ(result.exit_status, 0) << result.Describe();
  const Outcomes outcomes = ParseWalk(result.out);
  for (const std::string& number : BatchNumbers()) {
    long nr = 0;
    ASSERT_TRUE(absl::SimpleAtoi(number, &nr));
    auto it = outcomes.find(nr);
    ASSERT_NE(it, outcomes.end()) << "syscall " << nr << " did not return";
    const std::string& got = it->second;
    if (nr == 336) continue;  // See Allowed(): any answer.
    if (Served(nr) || Allowed().count(nr) != 0) {
      EXPECT_NE(got, "-1 ENOSYS") << "syscall " << nr << " is allowed or served";
    } else if (auto answer = Answered().find(nr); answer != Answered().end()) {
      EXPECT_EQ(got, ErrnoText(answer->second)) << "syscall " << nr;
    } else {
      EXPECT_EQ(got, "-1 ENOSYS") << "syscall " << nr << " is not offered";
    }
  }
}

// Test that every syscall number that is not fatal gets its documented class, and that
// none kills the module, with calls that are not offered answered by the supervisor.
TEST(SyscallWalkTest, EveryCallGetsItsDocumentedClass) {
  const int fds_before = base::CountOpenFds();
  absl::StatusOr<SelLdrResult> result = RunWalk({}, BatchNumbers());
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectDocumentedClasses(*result);
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// Test that with -q, where the filter itself answers calls that are not offered, every
// call gets the same answer.
TEST(SyscallWalkTest, QuietRunAnswersTheSame) {
  absl::StatusOr<SelLdrResult> result = RunWalk({"-q"}, BatchNumbers());
  ASSERT_TRUE(result.ok()) << result.status();
  ExpectDocumentedClasses(*result);
  EXPECT_EQ(result->err, "") << result->Describe();
}

// Test that sel_ldr names each distinct call that is not offered once on stderr, says
// nothing of refused paths, and nothing at all with -q.
TEST(SyscallWalkTest, UnservedCallsAreNamedOnceUnlessQuiet) {
  const std::vector<std::string> calls = {"213", "213", "2", "2", "227"};
  absl::StatusOr<SelLdrResult> result = RunWalk({}, calls);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  std::vector<std::string> lines = Lines(result->err);
  EXPECT_THAT(lines,
              ::testing::ElementsAre(HasSubstr("epoll_create (213), which is not offered here: "
                                               "answered ENOSYS"),
                                     HasSubstr("clock_settime (227), which is not "
                                               "offered here: answered EPERM")))
      << result->Describe();
  result = RunWalk({"-q"}, calls);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->err, "") << result->Describe();
}

// Test that -v traces each answered call, refused paths included (a path that cannot be
// read is EFAULT before it is refused).
TEST(SyscallWalkTest, VerboseTracesAnsweredCalls) {
  absl::StatusOr<SelLdrResult> result = RunWalk({"-v"}, {"213", "2"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->err, HasSubstr("epoll_create(0xffffffffffffffff"));
  EXPECT_THAT(result->err, HasSubstr("= -1 ENOSYS"));
  EXPECT_THAT(result->err, HasSubstr("] open(0xffffffffffffffff"));
  EXPECT_THAT(result->err, HasSubstr("= -1 EFAULT"));
}

class FatalCallTest : public ::testing::TestWithParam<std::pair<const long, std::string>> {};

// Test that the call kills the module with a policy violation naming it, before it returns,
// with or without -q.
TEST_P(FatalCallTest, KillsTheModule) {
  const auto& [nr, detail] = GetParam();
  for (const char* quiet : {"-v", "-q"}) {
    absl::StatusOr<SelLdrResult> result = RunWalk({quiet}, {absl::StrCat(nr)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, kExitPolicyViolation) << result->Describe();
    EXPECT_EQ(result->out, absl::StrCat("calling ", nr, "\n")) << result->Describe();
    EXPECT_THAT(result->err, HasSubstr(absl::StrCat(" (", nr, ")", detail))) << result->Describe();
    EXPECT_THAT(result->err, HasSubstr("policy violation: ")) << result->Describe();
  }
}

INSTANTIATE_TEST_SUITE_P(EveryFatalCall, FatalCallTest,
                         ::testing::ValuesIn(Fatal().begin(), Fatal().end()));

// Test that the calls a libc program makes about its own process work with honest
// arguments: getcwd, sysinfo sized to --memory-limit, times, getrusage, scheduling and
// priority of itself, thread names, interval and POSIX timers (and the kernel's refusal of
// a timer aimed at a thread of another process), pause, sigsuspend, sigtimedwait, and
// mlock / msync / mincore.
TEST(SyscallWalkTest, ProcessCallsWork) {
  SelLdrCommand command;
  command.flags = {"--memory-limit", "256M", "-E", "EXPECTED_RAM=268435456"};
  command.module = ModulePath("syscall_walk");
  command.args = {"process"};
  absl::StatusOr<SelLdrResult> result = RunSelLdr(command);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  // Every line is a case.
  const std::vector<CaseReport> reports = CaseReports(result->out);
  EXPECT_EQ(reports.size(), Lines(result->out).size()) << result->Describe();
  for (const CaseReport& report : reports) {
    EXPECT_EQ(report.actual, report.expected) << report.name;
  }
  EXPECT_EQ(reports.size(), 38u) << result->Describe();
}

}  // namespace
}  // namespace tests
