// End-to-end: the hello module's stdio, arguments, environment and exit status through
// sel_ldr, and the format of sel_ldr -v's trace.
#include <memory>
#include <string>
#include <vector>

#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Test that hello prints through the loader's stdout, sees its arguments, runs a thread, and
// exits with the status its environment (-E) asks for.
TEST(HelloTest, PrintsArgumentsAndExitsWithItsStatus) {
  const int fds_before = base::CountOpenFds();
  absl::StatusOr<SelLdrResult> result =
      RunSelLdr({{"-E", "HELLO_STATUS=5"}, ModulePath("hello"), {"first", "second arg"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited) << result->Describe();
  EXPECT_EQ(result->exit_status, 5) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("hello, world", "arg 1: first", "arg 2: second arg",
                                              "hello from a thread (pthread)"));
  EXPECT_EQ(result->err, "");
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

// Test that the module's environment is empty unless -E or -p fill it: without -E,
// HELLO_STATUS is unset and hello exits 0.
TEST(HelloTest, ModuleEnvironmentIsEmptyByDefault) {
  setenv("HELLO_STATUS", "9", /*overwrite=*/1);
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, ModulePath("hello"), {}});
  absl::StatusOr<SelLdrResult> passed = RunSelLdr({{"-p"}, ModulePath("hello"), {}});
  unsetenv("HELLO_STATUS");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  ASSERT_TRUE(passed.ok()) << passed.status();
  EXPECT_EQ(passed->exit_status, 9) << passed->Describe();
}

// Test that -v traces one line per trapped call: the thread, the call's name, its
// arguments, and its result or errno name.
TEST(HelloTest, VerboseTracesEachTrappedCall) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"-v"}, ModulePath("trace_calls"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 3) << result->Describe();
  EXPECT_EQ(result->out, "traced\n");
  const std::vector<std::string> lines = Lines(result->err);
  EXPECT_THAT(lines, Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] nacl_null\\(\\) = 0")));
  EXPECT_THAT(lines, Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] nacl_syscall_2\\(0x0\\) = -1 "
                                           "ENOSYS \\(Function not implemented\\)")));
  EXPECT_THAT(lines, Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] close\\(0x3e8\\) = -1 EBADF "
                                           "\\(Bad file descriptor\\)")));
  EXPECT_THAT(lines,
              Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] read\\(0x0, 0x[0-9a-f]+, 0x0\\) = 0")));
  EXPECT_THAT(lines,
              Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] write\\(0x1, 0x[0-9a-f]+, 0x7\\) = 7")));
  EXPECT_THAT(lines, Contains(MatchesRegex("sel_ldr: \\[[0-9]+\\] nacl_imc_accept\\(0x1\\) = "
                                           "-1 EINVAL \\(Invalid argument\\)")));
  EXPECT_THAT(lines, Contains("sel_ldr: module exited with status 3"));
  EXPECT_THAT(result->err, Not(HasSubstr("error")));
}

// Test that reads and writes of nothing return 0 at once, as on Linux: with stdin a pipe
// that stays open and empty, the module still runs to its end.
TEST(HelloTest, ZeroLengthReadDoesNotWaitForInput) {
  SelLdrCommand command = {{}, ModulePath("trace_calls"), {}};
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<SelLdrResult> result = (*process)->Wait(absl::Seconds(10));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 3) << result->Describe();
  EXPECT_EQ(result->out, "traced\n");
}

// Test that without -v sel_ldr prints nothing of its own for a module that exits normally.
TEST(HelloTest, QuietWithoutVerbose) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, ModulePath("trace_calls"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 3) << result->Describe();
  EXPECT_EQ(result->err, "");
}

}  // namespace
}  // namespace tests
