#include "tools/launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/runfiles/runfiles.h"

namespace launcher {
namespace {

using ::base::HasErrno;
using ::base::StatusIs;
using ::testing::HasSubstr;

std::string Runfile(const std::string& path) {
  absl::StatusOr<std::string> found = runfiles::Runfile(path);
  EXPECT_OK(found);
  return found.value_or("");
}

LaunchOptions Options(std::vector<std::string> args) {
  LaunchOptions options;
  options.sel_ldr_path = Runfile("sel_ldr/sel_ldr");
  options.module_path = Runfile("tools/launcher/test_module.nexe");
  options.args = std::move(args);
  options.stdout_mode = Output::kCapture;
  return options;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

// True if no child process of the test is left unreaped.
bool NoZombies() {
  siginfo_t info = {};
  return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = base::CountOpenFds(); }
  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
    EXPECT_TRUE(NoZombies());
  }
  int fds_before_ = 0;
};

// Test that a launch works with fds 1000..1010 open in the embedder (the child's fd layout
// assumes nothing about which numbers are free), and that the module's output still arrives.
TEST_F(LauncherTest, LaunchWithHighFdsOpen) {
  std::vector<base::UniqueFd> high;
  {
    base::UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    for (int fd = 1000; fd <= 1010; ++fd) high.emplace_back(dup3(null.get(), fd, O_CLOEXEC));
  }
  absl::StatusOr<Module> module = Module::Launch(Options({"echo"}));
  ASSERT_OK(module);
  {
    absl::StatusOr<imc::ConnectedSocket> connection = module->Connect(Soon());
    ASSERT_OK(connection);
  }
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_EQ(exit->status, 0);
}

// Test that a module is launched, accepts a confirmed connection, echoes a message, and
// exits 0 when the connection closes.
TEST_F(LauncherTest, LaunchConnectEchoWait) {
  absl::StatusOr<Module> module = Module::Launch(Options({"echo"}));
  ASSERT_OK(module);
  EXPECT_GT(module->pid(), 0);
  {
    absl::StatusOr<imc::ConnectedSocket> connection = module->Connect(Soon());
    ASSERT_OK(connection);
    char text[] = "ping";
    iovec out = {text, 4};
    ASSERT_OK(connection->Send({{&out, 1}, {}}));
    char buffer[16] = {};
    iovec in = {buffer, sizeof(buffer)};
    absl::StatusOr<imc::ReceivedMessage> reply = connection->Receive({&in, 1}, 0);
    ASSERT_OK(reply);
    EXPECT_EQ(std::string(buffer, reply->bytes), "ping");
  }
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_EQ(exit->status, 0);
  EXPECT_OK(exit->ToStatus());
  EXPECT_EQ(module->pid(), -1);
}

// Test that a descriptor sent to the module comes back through it as the same object.
TEST_F(LauncherTest, DescriptorRoundTrip) {
  absl::StatusOr<Module> module = Module::Launch(Options({"echo"}));
  ASSERT_OK(module);
  absl::StatusOr<imc::ConnectedSocket> connection = module->Connect(Soon());
  ASSERT_OK(connection);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  imc::OutgoingDescriptor sent = {imc::DescriptorKind::kHostIo, pipe_fds[1]};
  ASSERT_OK(connection->Send({{}, {&sent, 1}}));
  absl::StatusOr<imc::ReceivedMessage> reply = connection->Receive({}, 1);
  ASSERT_OK(reply);
  ASSERT_EQ(reply->descriptors.size(), 1u);
  EXPECT_EQ(reply->descriptors[0].kind, imc::DescriptorKind::kHostIo);
  ASSERT_EQ(write(reply->descriptors[0].fd.get(), "x", 1), 1);
  char got = 0;
  EXPECT_EQ(read(pipe_fds[0], &got, 1), 1);
  EXPECT_EQ(got, 'x');
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

// Test that a HostIo descriptor keeps the access it was sent with through the module and
// back: a read-only grant of a read-write fd returns read-only, a write-only one write-only.
TEST_F(LauncherTest, DescriptorRoundTripKeepsAccess) {
  absl::StatusOr<Module> module = Module::Launch(Options({"echo"}));
  ASSERT_OK(module);
  absl::StatusOr<imc::ConnectedSocket> connection = module->Connect(Soon());
  ASSERT_OK(connection);
  base::UniqueFd read_write(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(read_write.valid());
  const imc::OutgoingDescriptor sent[] = {
      {imc::DescriptorKind::kHostIo, read_write.get(), imc::HostIoAccess::kReadOnly},
      {imc::DescriptorKind::kHostIo, read_write.get(), imc::HostIoAccess::kWriteOnly}};
  ASSERT_OK(connection->Send({{}, sent}));
  absl::StatusOr<imc::ReceivedMessage> reply = connection->Receive({}, 2);
  ASSERT_OK(reply);
  ASSERT_EQ(reply->descriptors.size(), 2u);
  EXPECT_EQ(reply->descriptors[0].access, imc::HostIoAccess::kReadOnly);
  EXPECT_EQ(reply->descriptors[1].access, imc::HostIoAccess::kWriteOnly);
}

// Test that a missing sel_ldr is NotFound and names the path.
TEST_F(LauncherTest, MissingSelLdr) {
  LaunchOptions options = Options({"echo"});
  options.sel_ldr_path = "/nonexistent/sel_ldr";
  absl::StatusOr<Module> module = Module::Launch(std::move(options));
  EXPECT_THAT(module, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(module.status().message()), HasSubstr("/nonexistent/sel_ldr"));
}

// Test that a missing module file is NotFound.
TEST_F(LauncherTest, MissingModule) {
  LaunchOptions options = Options({});
  options.module_path = "/nonexistent/module.nexe";
  EXPECT_THAT(Module::Launch(std::move(options)), StatusIs(absl::StatusCode::kNotFound));
}

// Test that a file sel_ldr refuses to run is FailedPrecondition with sel_ldr's reason.
TEST_F(LauncherTest, ModuleRefused) {
  LaunchOptions options = Options({});
  options.module_path = Runfile("tools/launcher/BUILD");
  absl::StatusOr<Module> module = Module::Launch(std::move(options));
  EXPECT_THAT(module, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(module.status().message()), HasSubstr("not an ELF file"));
}

// Test that Connect to a module that never accepts ends at its deadline, Wait reports a
// running module as DeadlineExceeded, and Kill ends it.
TEST_F(LauncherTest, NeverAcceptsTimesOutThenKill) {
  absl::StatusOr<Module> module = Module::Launch(Options({"idle"}));
  ASSERT_OK(module);
  absl::Time start = absl::Now();
  EXPECT_THAT(module->Connect(absl::Now() + absl::Milliseconds(200)), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_THAT(module->Wait(absl::Now() + absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(module->Kill());
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_EQ(exit->signal, SIGKILL);
  EXPECT_THAT(exit->ToStatus(), StatusIs(absl::StatusCode::kAborted));
}

// Test that Connect to a running module that never offers a service (it closed its service
// socket) is refused at once, not a wait until the deadline; Kill then ends it.
TEST_F(LauncherTest, ModuleWithoutServiceIsRefused) {
  absl::StatusOr<Module> module = Module::Launch(Options({"no_service"}));
  ASSERT_OK(module);
  // Once it said so, its BoundSocket is closed.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (module->CapturedStdout() != "closed\n" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(module->CapturedStdout(), "closed\n");
  absl::Time start = absl::Now();
  EXPECT_THAT(module->Connect(absl::Now() + absl::Seconds(10)), HasErrno(ECONNREFUSED));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_OK(module->Kill());
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_EQ(exit->signal, SIGKILL);
}

// Test that Connect to a module that exited without accepting is refused, not a hang.
TEST_F(LauncherTest, ExitedWithoutAcceptingIsRefused) {
  absl::StatusOr<Module> module = Module::Launch(Options({"exit", "7"}));
  ASSERT_OK(module);
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_EQ(exit->status, 7);
  EXPECT_THAT(module->Connect(Soon()), HasErrno(ECONNREFUSED));
  EXPECT_THAT(exit->ToStatus(), StatusIs(absl::StatusCode::kUnknown));
}

// Test that a policy violation is reported as such, with sel_ldr's message.
TEST_F(LauncherTest, PolicyViolation) {
  absl::StatusOr<Module> module = Module::Launch(Options({"violate"}));
  ASSERT_OK(module);
  absl::StatusOr<ModuleExit> exit = module->Wait(Soon());
  ASSERT_OK(exit);
  EXPECT_TRUE(exit->policy_violation());
  EXPECT_THAT(exit->message, HasSubstr("policy violation: socket"));
  EXPECT_THAT(exit->ToStatus(), StatusIs(absl::StatusCode::kPermissionDenied));
}

// Test that captured stdout and stderr hold what the module wrote.
TEST_F(LauncherTest, CapturesOutput) {
  absl::StatusOr<Module> module = Module::Launch(Options({"print"}));
  ASSERT_OK(module);
  ASSERT_OK(module->Wait(Soon()));
  EXPECT_EQ(module->CapturedStdout(), "out\n");
  EXPECT_EQ(module->CapturedStderr(), "err\n");
}

// Test that destroying a Module kills and reaps sel_ldr (TearDown checks for zombies).
TEST_F(LauncherTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    absl::StatusOr<Module> module = Module::Launch(Options({"idle"}));
    ASSERT_OK(module);
    pid = module->pid();
  }
  EXPECT_NE(kill(pid, 0), 0);
}

// Test that FindSelLdr finds the sel_ldr in the test's runfiles.
TEST_F(LauncherTest, FindsSelLdrInRunfiles) {
  absl::StatusOr<std::string> path = FindSelLdr();
  ASSERT_OK(path);
  EXPECT_THAT(*path, HasSubstr("sel_ldr/sel_ldr"));
}

}  // namespace
}  // namespace launcher
