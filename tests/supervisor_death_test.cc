// End-to-end: when sel_ldr dies, its module dies with it, within a second, whether the
// module was running on its own or blocked in a call the supervisor was serving.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

class SupervisorDeathTest : public ::testing::TestWithParam<const char*> {
 protected:
  // Orphaned modules are re-parented to this process, which reaps them.
  static void SetUpTestSuite() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
};

// Test that SIGKILL of sel_ldr kills the module within 1 s (PR_SET_PDEATHSIG), and that
// the module dies of SIGKILL rather than running on.
TEST_P(SupervisorDeathTest, ModuleDiesWithinOneSecond) {
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
      SelLdrProcess::Start({{}, ModulePath("sleep_forever"), {GetParam()}});
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<std::string> line = (*process)->ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  absl::string_view pid_text = *line;
  int module_pid = 0;
  ASSERT_TRUE(absl::ConsumePrefix(&pid_text, "pid ") && absl::SimpleAtoi(pid_text, &module_pid))
      << *line;
  // Opened while sel_ldr still lives, so the pid cannot have been reused.
  base::UniqueFd module(static_cast<int>(syscall(SYS_pidfd_open, module_pid, 0)));
  ASSERT_TRUE(module.valid()) << "pidfd_open(" << module_pid << "): " << strerror(errno);

  (*process)->Kill(SIGKILL);
  const absl::Time killed = absl::Now();
  absl::StatusOr<SelLdrResult> result = (*process)->Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->exited);
  EXPECT_EQ(result->signal, SIGKILL);

  pollfd exited = {module.get(), POLLIN, 0};
  const int remaining_ms =
      static_cast<int>(absl::ToInt64Milliseconds(absl::Seconds(1) - (absl::Now() - killed)));
  ASSERT_EQ(poll(&exited, 1, remaining_ms > 0 ? remaining_ms : 0), 1)
      << "module " << module_pid << " still runs 1 s after sel_ldr died";
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PIDFD, static_cast<id_t>(module.get()), &info, WEXITED), 0) << strerror(errno);
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(WhileSleepingOrBlocked, SupervisorDeathTest,
                         ::testing::Values("sleep", "accept"));

}  // namespace
}  // namespace tests
