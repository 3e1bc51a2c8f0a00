// End-to-end: calls the module's filter allows or answers, given arguments that aim at other
// processes (sel_ldr's pid, pid 1), at host state (priority-inheritance futexes, other
// processes' CPU clocks, the host name, host inode numbers) and at the kernel's checks (bad
// pointers, huge sizes, stray high bits), from inside a sandboxed module
// (tests/modules/hostile_args.c). Each must fail with an errno or act on the module alone;
// none may kill the module or sel_ldr.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/nacl_abi.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::UnorderedElementsAreArray;

struct HostileCase {
  const char* name;      // As the module prints it.
  const char* expected;  // Errno name, or "ok" where the call acts on the module alone.
};

const HostileCase kCases[] = {
    {"sched_getaffinity_loader", "ESRCH"},
    {"sched_getaffinity_init", "ESRCH"},
    {"sched_getaffinity_own_pid", "ESRCH"},
    {"sched_getaffinity_minus_one", "ESRCH"},
    {"sched_getaffinity_high_bits", "ESRCH"},
    {"sched_getaffinity_self", "ok"},
    {"sched_getaffinity_huge_size", "ok"},
    {"sched_getaffinity_tiny_size", "EINVAL"},
    {"sched_getaffinity_bad_pointer", "EFAULT"},
    {"sched_getaffinity_kernel_pointer", "EFAULT"},
    {"get_robust_list_loader", "ESRCH"},
    {"get_robust_list_init", "ESRCH"},
    {"get_robust_list_self", "ok"},
    {"get_robust_list_bad_pointer", "EFAULT"},
    {"set_robust_list_bad_length", "EINVAL"},
    // Priority-inheritance futexes (the word names sel_ldr's main thread as owner): ENOSYS.
    {"futex_lock_pi", "ENOSYS"},
    {"futex_lock_pi_private", "ENOSYS"},
    {"futex_unlock_pi", "ENOSYS"},
    {"futex_unlock_pi_private", "ENOSYS"},
    {"futex_trylock_pi", "ENOSYS"},
    {"futex_trylock_pi_private", "ENOSYS"},
    {"futex_wait_requeue_pi", "ENOSYS"},
    {"futex_wait_requeue_pi_realtime", "ENOSYS"},
    {"futex_cmp_requeue_pi", "ENOSYS"},
    {"futex_cmp_requeue_pi_private", "ENOSYS"},
    {"futex_lock_pi2", "ENOSYS"},
    {"futex_lock_pi2_realtime", "ENOSYS"},
    {"futex_fd", "ENOSYS"},
    // The futex operations glibc uses, with hostile arguments: the kernel's own errno.
    {"futex_wait_bad_pointer", "EFAULT"},
    {"futex_wait_kernel_pointer", "EFAULT"},
    {"futex_wait_changed", "EAGAIN"},
    {"futex_wait_bitset_realtime_past", "ETIMEDOUT"},
    {"futex_wait_bitset_zero_mask", "EINVAL"},
    {"futex_wake_bad_pointer", "EFAULT"},
    {"futex_wake_high_bits", "ok"},
    {"futex_wake_realtime", "ENOSYS"},
    {"futex_wake_op_bad_pointer", "EFAULT"},
    {"futex_cmp_requeue_changed", "EAGAIN"},
    {"futex_requeue_bad_pointer", "EFAULT"},
    // prlimit64: the module's own limits, read only.
    {"prlimit_loader", "ESRCH"},
    {"prlimit_init", "ESRCH"},
    {"prlimit_loader_set", "ESRCH"},
    {"prlimit_set_own", "EPERM"},
    {"prlimit_own", "ok"},
    {"prlimit_bad_resource", "EINVAL"},
    {"prlimit_bad_pointer", "EFAULT"},
    // Signals: threads of the module only.
    {"tgkill_loader_thread", "ESRCH"},
    {"tgkill_init", "ESRCH"},
    {"tgkill_negative_thread", "EINVAL"},
    {"tgkill_own_thread", "ok"},
    {"tgkill_bad_signal", "EINVAL"},
    {"kill_self_probe", "ok"},
    {"rt_sigaction_bad_size", "EINVAL"},
    {"rt_sigaction_bad_pointer", "EFAULT"},
    {"rt_sigprocmask_bad_pointer", "EFAULT"},
    {"sigaltstack_bad_pointer", "EFAULT"},
    // Clocks: another process's CPU clock or a clock device is no clock at all.
    {"clock_gettime_loader_cpu", "EINVAL"},
    {"clock_gettime_init_cpu", "EINVAL"},
    {"clock_getres_loader_cpu", "EINVAL"},
    {"clock_nanosleep_loader_cpu", "EINVAL"},
    {"clock_gettime_clock_fd", "EINVAL"},
    {"clock_gettime_high_bits", "EINVAL"},
    {"clock_gettime_own_cpu", "ok"},
    {"clock_gettime_bad_pointer", "EFAULT"},
    {"clock_gettime_unknown_clock", "EINVAL"},
    {"nanosleep_bad_pointer", "EFAULT"},
    // The host's name and kernel release are not given.
    {"uname", "ENOSYS"},
    {"getrandom_bad_pointer", "EFAULT"},
    // Memory calls on the module's own address space.
    {"mmap_huge", "ENOMEM"},
    {"mmap_anonymous_fixed_kernel", "ENOMEM"},
    {"mprotect_unaligned", "EINVAL"},
    {"mprotect_kernel", "ENOMEM"},
    {"munmap_unaligned", "EINVAL"},
    {"mremap_unmapped", "EFAULT"},
    {"madvise_unknown_advice", "EINVAL"},
    {"brk_kernel", "ok"},
    // Shared memory mapped executable at once: refused at map time, as Native Client did.
    {"mmap_shared_memory_exec", "EINVAL"},
};

// What the host sees of a file the module also reports on.
struct HostIdentity {
  ino_t ino = 0;
  dev_t dev = 0;
};

// Runs the module once for the whole suite: sel_ldr's pid on its stdin and a host file as
// its read-only descriptor 3. Records the host's view of stdin, stdout and that file.
class HostileArgsTest : public ::testing::TestWithParam<HostileCase> {
 protected:
  static constexpr int kHostFile = 3;

  static void SetUpTestSuite() {
    reports_ = new std::map<std::string, std::string>();
    host_ = new std::map<int, HostIdentity>();
    fds_before_ = base::CountOpenFds();
    run_ = new absl::StatusOr<SelLdrResult>(Run());
    if (!run_->ok()) return;
    for (CaseReport& report : CaseReports((*run_)->out)) {
      (*reports_)[report.name] = std::move(report.actual);
    }
  }

  static absl::StatusOr<SelLdrResult> Run() {
    const std::string path = absl::StrCat(TestTempDir(), "/host_file");
    base::UniqueFd file(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.valid() || write(file.get(), "host file\n", 10) != 10) {
      return absl::InternalError("cannot make the host file");
    }
    SelLdrCommand command;
    command.flags = {"-r", absl::StrCat(kHostFile, ":10")};
    command.module = ModulePath("hostile_args");
    command.fds = {{10, file.get()}};
    command.pipe_stdin = true;
    absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
    if (!process.ok()) return process.status();
    // The module waits for its stdin; meanwhile sel_ldr's stdin and stdout are there to see.
    const pid_t loader = (*process)->pid();
    for (int d : {0, 1}) {
      struct stat st;
      if (stat(absl::StrCat("/proc/", loader, "/fd/", d).c_str(), &st) == 0) {
        (*host_)[d] = {st.st_ino, st.st_dev};
      }
    }
    struct stat st;
    if (fstat(file.get(), &st) == 0) (*host_)[kHostFile] = {st.st_ino, st.st_dev};
    absl::Status written = (*process)->WriteStdin(absl::StrCat(loader, "\n"));
    if (!written.ok()) return written;
    return (*process)->Wait();
  }

  static void TearDownTestSuite() {
    delete run_;
    delete reports_;
    delete host_;
  }

  // The module's line that starts with `prefix`, or "" (with a test failure).
  static std::string LineStartingWith(absl::string_view prefix) {
    for (const std::string& line : Lines((*run_)->out)) {
      if (absl::StartsWith(line, prefix)) return line;
    }
    ADD_FAILURE() << "no line starts with \"" << prefix << "\": " << (*run_)->Describe();
    return "";
  }

  static absl::StatusOr<SelLdrResult>* run_;
  static std::map<std::string, std::string>* reports_;
  static std::map<int, HostIdentity>* host_;
  static int fds_before_;
};

absl::StatusOr<SelLdrResult>* HostileArgsTest::run_ = nullptr;
std::map<std::string, std::string>* HostileArgsTest::reports_ = nullptr;
std::map<int, HostIdentity>* HostileArgsTest::host_ = nullptr;
int HostileArgsTest::fds_before_ = 0;

// Test that neither sel_ldr nor the module died: the module ran every case and finished,
// sel_ldr exits with its status 0 and says nothing, and no fd of this process leaked.
TEST_F(HostileArgsTest, NothingDiesAndEveryCaseRan) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const SelLdrResult& result = **run_;
  EXPECT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_status, 0) << result.Describe();
  EXPECT_TRUE(absl::EndsWith(result.out, "hostile_args: done\n")) << result.Describe();
  EXPECT_EQ(result.err, "");
  std::vector<std::string> known;
  for (const HostileCase& c : kCases) known.push_back(c.name);
  std::vector<std::string> reported;
  for (const auto& [name, actual] : *reports_) reported.push_back(name);
  EXPECT_THAT(reported, UnorderedElementsAreArray(known));
  EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
}

// Test that the call came back with the expected errno, or succeeded on the module alone.
TEST_P(HostileArgsTest, AnswersWithoutReachingTheHost) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  const HostileCase& c = GetParam();
  auto it = reports_->find(c.name);
  ASSERT_NE(it, reports_->end()) << "the module did not report " << c.name << ": "
                                 << (*run_)->Describe();
  EXPECT_EQ(it->second, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Calls, HostileArgsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<HostileCase>& info) {
                           return std::string(info.param.name);
                         });

// Test that getppid answers 0, as in a pid namespace whose parent is outside: sel_ldr's pid
// is not given, and the call is not fatal.
TEST_F(HostileArgsTest, GetppidIsZero) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  EXPECT_EQ(LineStartingWith("getppid "), "getppid 0");
}

// Test that fstat of stdin, stdout and a host file (sel_ldr -r) reports the fake inode,
// device 0 and owner -1, and not the host's inode or device (seen here through /proc).
TEST_F(HostileArgsTest, FstatHidesHostInodes) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  for (int d : {0, 1, kHostFile}) {
    SCOPED_TRACE(absl::StrCat("descriptor ", d));
    auto host = host_->find(d);
    ASSERT_NE(host, host_->end()) << "no host view of descriptor " << d;
    ASSERT_NE(host->second.ino, static_cast<ino_t>(NACL_ABI_FAKE_INODE_NUM));
    const std::string line = LineStartingWith(absl::StrCat("fstat ", d, " "));
    EXPECT_EQ(line, absl::StrCat("fstat ", d, " ino=", NACL_ABI_FAKE_INODE_NUM,
                                 " dev=0 rdev=0 uid=4294967295 gid=4294967295"));
    EXPECT_FALSE(absl::StrContains(line, absl::StrCat(" ino=", host->second.ino, " ")));
  }
  EXPECT_EQ(LineStartingWith("nacl_fstat 3 "),
            absl::StrCat("nacl_fstat 3 ino=", NACL_ABI_FAKE_INODE_NUM));
}

// Test that a module may make its own shared memory executable and run code it wrote there
// (docs/threat_model.md: that is the module's own code, under its own filter).
TEST_F(HostileArgsTest, SharedMemoryMayBecomeCode) {
  ASSERT_TRUE(run_->ok()) << run_->status();
  EXPECT_EQ(LineStartingWith("exec shared memory: "), "exec shared memory: 42");
}

}  // namespace
}  // namespace tests
