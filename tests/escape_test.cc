// End-to-end: ways out of the sandbox, each tried from inside a module (tests/modules/
// escape.c), each stopped. Either sel_ldr kills the module and reports the policy violation
// (exit 159), or the call fails with an errno and the module cannot do the thing. Every test
// also checks that the host-side effect did not happen: sel_ldr lived to report, no file
// appeared, no connection arrived, nothing was read or written.
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sel_ldr/landlock.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitPolicyViolation = 159;

// Runs `escape <name> [arg]`, giving it sel_ldr's pid on stdin (for the cases that aim at
// sel_ldr) and `fds` to inherit.
absl::StatusOr<SelLdrResult> RunEscape(const std::string& name, const std::string& arg = "",
                                       std::vector<std::pair<int, int>> fds = {}) {
  SelLdrCommand command;
  command.module = ModulePath("escape");
  command.args = {name};
  if (!arg.empty()) command.args.push_back(arg);
  command.fds = std::move(fds);
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  if (!process.ok()) return process.status();
  // The module may die before it reads this; then the write may fail, which is fine.
  (*process)->WriteStdin(absl::StrCat((*process)->pid(), "\n")).IgnoreError();
  return (*process)->Wait();
}

// Expects the run to have ended in a policy violation naming `violation`, after the module
// started and before its attempt returned.
void ExpectKilled(const absl::StatusOr<SelLdrResult>& result, const std::string& name,
                  const std::string& violation) {
  ASSERT_TRUE(result.ok()) << result.status();
  // sel_ldr exited by itself, with the violation's status: it was not signalled or stopped.
  EXPECT_TRUE(result->exited) << result->Describe();
  EXPECT_EQ(result->exit_status, kExitPolicyViolation) << result->Describe();
  EXPECT_EQ(result->out, absl::StrCat("escape: ", name, "\n")) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr(absl::StrCat("sel_ldr: error: policy violation: ", violation)))
      << result->Describe();
}

struct KilledCase {
  const char* name;       // escape's case.
  const char* violation;  // What sel_ldr reports.
};

class EscapeIsKilledTest : public ::testing::TestWithParam<KilledCase> {};

// Test that the attempt kills the module with a policy violation naming the call, and that
// it did not take effect (sel_ldr, the exec target, the signal's target all lived; no child
// ran).
TEST_P(EscapeIsKilledTest, ModuleDiesWithPolicyViolation) {
  const int fds_before = base::CountOpenFds();
  const KilledCase& c = GetParam();
  ExpectKilled(RunEscape(c.name), c.name, c.violation);
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

constexpr char kForeignAbi[] =
    "the seccomp filter killed the module (SIGSYS): an int 0x80 or x32 system call";

INSTANTIATE_TEST_SUITE_P(
    Escapes, EscapeIsKilledTest,
    ::testing::Values(
        // Sockets of any family.
        KilledCase{"socket_unix", "socket (41)"},
        KilledCase{"socket_unix_seqpacket", "socket (41)"},
        KilledCase{"socket_inet", "socket (41)"}, KilledCase{"socket_inet6_udp", "socket (41)"},
        KilledCase{"socket_netlink", "socket (41)"}, KilledCase{"socket_packet", "socket (41)"},
        KilledCase{"socketpair", "socketpair (53)"},
        // A second exec, of another program or of the module's own image.
        KilledCase{"execve", "execve (59): a second exec"},
        KilledCase{"execveat", "execveat (322): a second exec"},
        KilledCase{"execve_self", "execve (59): a second exec"},
        KilledCase{"execveat_self", "execveat (322): a second exec"},
        // The loader's own exec, repeated, or with an absolute path, another fd, the
        // module's shared memory, other flags, from another thread, or while a thread is
        // blocked in a call.
        KilledCase{"execveat_exec_fd", "execveat (322): a second exec"},
        KilledCase{"execveat_exec_fd_absolute", "execveat (322): a second exec"},
        KilledCase{"execveat_fd0_empty_path", "execveat (322): a second exec"},
        KilledCase{"execveat_shared_memory", "execveat (322): a second exec"},
        KilledCase{"execveat_nofollow", "execveat (322): a second exec"},
        KilledCase{"execve_thread", "execve (59): a second exec"},
        KilledCase{"execve_while_blocked", "execve (59): a second exec"},
        // New processes.
        // New namespaces.
        KilledCase{"clone_newuser", "clone (56)"}, KilledCase{"unshare_user", "unshare (272)"},
        KilledCase{"unshare_net", "unshare (272)"}, KilledCase{"setns", "setns (308)"},
        // ptrace, signalling sel_ldr, reading or writing its memory.
        KilledCase{"ptrace_attach", "ptrace (101)"}, KilledCase{"ptrace_traceme", "ptrace (101)"},
        KilledCase{"kill_loader", "kill (62)"}, KilledCase{"tgkill_loader", "tgkill (234)"},
        KilledCase{"kill_process_group", "kill (62)"},
        KilledCase{"process_vm_readv", "process_vm_readv (310)"},
        KilledCase{"process_vm_writev", "process_vm_writev (311)"},
        // Foreign system call ABIs: the filter itself kills.
        KilledCase{"int80", kForeignAbi}, KilledCase{"x32", kForeignAbi},
        // Kernel attack surface.
        KilledCase{"io_uring_setup", "io_uring_setup (425)"},
        KilledCase{"seccomp", "seccomp (317)"}, KilledCase{"prctl_seccomp", "prctl (157)"},
        KilledCase{"bpf", "bpf (321)"}, KilledCase{"userfaultfd", "userfaultfd (323)"},
        KilledCase{"perf_event_open", "perf_event_open (298)"}),
    [](const ::testing::TestParamInfo<KilledCase>& info) { return std::string(info.param.name); });

// Test that a fork, had it happened, left no trace: the child never printed.
TEST(EscapeTest, ForkRunsNoChild) {
  absl::StatusOr<SelLdrResult> result = RunEscape("fork");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out),
              ElementsAre("escape: fork", "fork: ENOSYS", "escape: fork returned"));
}

// Test that the other ways to make a process (not a thread) are answered ENOSYS, as Native
// Client answered fork: a program degrades, no child runs.
TEST(EscapeTest, ProcessCreationAnswersEnosys) {
  for (const auto& [name, call] : std::vector<std::pair<std::string, std::string>>{
           {"fork_syscall", "fork"}, {"vfork", "vfork"}, {"clone_sigchld", "clone"}}) {
    absl::StatusOr<SelLdrResult> result = RunEscape(name);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, 0) << result->Describe();
    EXPECT_THAT(Lines(result->out),
                ElementsAre(absl::StrCat("escape: ", name), absl::StrCat(call, ": ENOSYS"),
                            absl::StrCat("escape: ", name, " returned")));
  }
}

// Test that read-only opens find nothing, not even /etc/passwd or /: EACCES (no file access
// was granted), no descriptor.
TEST(EscapeTest, OpenReadOnlyFindsNothing) {
  absl::StatusOr<SelLdrResult> result = RunEscape("open_read_only");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("escape: open_read_only", "open /etc/passwd: EACCES",
                                              "openat /etc/passwd: EACCES", "open /: EACCES",
                                              "escape: open_read_only returned"));
  EXPECT_EQ(result->err, "");
}

// Test that sel_ldr's memory and descriptors cannot be opened through /proc.
TEST(EscapeTest, OpenLoaderMemFindsNothing) {
  absl::StatusOr<SelLdrResult> result = RunEscape("open_loader_mem");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out),
              ElementsAre("escape: open_loader_mem", "open /proc/<loader>/mem: EACCES",
                          "open /proc/<loader>/fd/0: EACCES", "escape: open_loader_mem returned"));
}

// Test that creating a file is refused with EACCES and no file appears on the host.
TEST(EscapeTest, CreateFileIsRefusedAndNothingIsCreated) {
  const std::string path = absl::StrCat(TestTempDir(), "/created_by_module");
  unlink(path.c_str());
  absl::StatusOr<SelLdrResult> result = RunEscape("create_file", path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("escape: create_file", "open O_CREAT: EACCES",
                                              "escape: create_file returned"));
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0) << path << " exists";
  EXPECT_EQ(errno, ENOENT);
}

// Test that opening an existing file for writing (with O_TRUNC) is refused with EACCES and
// leaves the file as it was.
TEST(EscapeTest, WriteFileIsRefusedAndTheFileIsUntouched) {
  const std::string path = absl::StrCat(TestTempDir(), "/precious");
  {
    base::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(write(fd.get(), "precious", 8), 8);
  }
  absl::StatusOr<SelLdrResult> result = RunEscape("write_file", path);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("escape: write_file", "open O_WRONLY|O_TRUNC: EACCES",
                                              "escape: write_file returned"));
  base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  char buffer[16] = {};
  EXPECT_EQ(read(fd.get(), buffer, sizeof(buffer)), 8);
  EXPECT_STREQ(buffer, "precious");
}

// Test that connecting to an abstract AF_UNIX name kills the module, and the listener
// there never sees a connection.
TEST(EscapeTest, ConnectToAbstractNameIsKilledAndNothingArrives) {
  const std::string name = absl::StrCat("sel_ldr_escape_test_", getpid());
  base::UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path + 1, name.data(), name.size());
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(listener.get(), 8), 0);

  ExpectKilled(RunEscape("connect_abstract", name), "connect_abstract", "connect (42)");
  EXPECT_LT(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), 0);
  EXPECT_EQ(errno, EAGAIN);
}

// Test that clone3 answers ENOSYS (so glibc falls back to clone, which is limited to
// threads) and makes no process.
TEST(EscapeTest, Clone3AnswersEnosys) {
  absl::StatusOr<SelLdrResult> result = RunEscape("clone3");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out),
              ElementsAre("escape: clone3", "clone3: ENOSYS", "escape: clone3 returned"));
}

// A pipe whose write end sel_ldr inherits as fd 9 without granting it to the module.
class HostDescriptorTest : public ::testing::Test {
 protected:
  static constexpr int kUngrantedFd = 9;

  void SetUp() override {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end_.reset(fds[0]);
    write_end_.reset(fds[1]);
  }

  // Runs `name` with the write end inherited, then closes this process's copy.
  absl::StatusOr<SelLdrResult> Run(const std::string& name) {
    absl::StatusOr<SelLdrResult> result = RunEscape(name, "", {{kUngrantedFd, write_end_.get()}});
    write_end_.reset();
    return result;
  }

  // Nothing came through the pipe, and it is closed everywhere now that sel_ldr is gone.
  void ExpectNothingWritten() {
    char byte;
    EXPECT_EQ(read(read_end_.get(), &byte, 1), 0) << "the pipe got data, or is still open";
  }

  base::UniqueFd read_end_;
  base::UniqueFd write_end_;
};

// Test that no descriptor the module was not given can be used: fstat, read, write, dup and
// close of every number from 3 to 1023 fail with EBADF from the loader's table, and mmap and
// ioctl of the inherited fd 9 fail too.
TEST_F(HostDescriptorTest, ProbingFindsNoHostDescriptor) {
  absl::StatusOr<SelLdrResult> result = Run("probe_descriptors");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(
      Lines(result->out),
      ElementsAre("escape: probe_descriptors", "probe: 1021 of 1021 descriptors refused with EBADF",
                  "mmap of descriptor 9: EBADF", "ioctl on descriptor 9: ENOTTY",
                  "escape: probe_descriptors returned"));
  ExpectNothingWritten();
}

// Test that fcntl, which the loader serves from the module's table, finds no descriptor at
// the number of an fd sel_ldr inherited: EBADF.
TEST_F(HostDescriptorTest, FcntlOnAHostNumberIsEbadf) {
  absl::StatusOr<SelLdrResult> result = Run("probe_fcntl");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out),
              ElementsAre("escape: probe_fcntl", "fcntl: EBADF", "escape: probe_fcntl returned"));
  ExpectNothingWritten();
}

// Test that a running module is in user, IPC and UTS namespaces of its own, and that its
// abstract sockets and signals are scoped by Landlock where the kernel can (Linux 6.12), by
// a network namespace of its own where it cannot (sel_ldr/landlock.h; what the scope stops is
// tested in sel_ldr:landlock_test, since the filter stops those calls first here). sel_ldr -v
// says which.
TEST(ConfinementTest, ModuleIsInItsNamespacesAndScope) {
  const bool scoped = sel_ldr::LandlockAbiVersion() >= sel_ldr::kLandlockScopeAbi;
  absl::StatusOr<SelLdrResult> result = RunInspectingModule({"-v"}, [scoped](pid_t module) {
    for (const char* kind : {"user", "ipc", "uts"}) {
      EXPECT_NE(NamespaceOf(module, kind), NamespaceOf(getpid(), kind)) << kind;
    }
    EXPECT_EQ(NamespaceOf(module, "net") == NamespaceOf(getpid(), "net"), scoped);
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr(scoped ? "namespaces: user,ipc,uts, Landlock scope: yes"
                                            : "namespaces: user,net,ipc,uts, Landlock scope: no"))
      << result->Describe();
}

}  // namespace
}  // namespace tests
