// End-to-end: sel_ldr's own fd limit. A module may fill its 4096-slot table with objects that
// each hold a host fd in sel_ldr, and every blocked call needs one more fd for its worker;
// sel_ldr raises its soft RLIMIT_NOFILE to fit, refuses to start under a hard limit too low,
// and answers a call it has no fd for with EMFILE instead of hanging.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/nacl_abi.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;

// What a full table holds besides the module's fills: stdio and the imc_socketpair.
constexpr int kFullTable = NACL_ABI_DESCRIPTOR_TABLE_SIZE - 5;
// sel_ldr's least hard limit (loader.cc: kMinimumFds).
constexpr rlim_t kMinimumFds = NACL_ABI_DESCRIPTOR_TABLE_SIZE + 128;

// Test that under a soft fd limit of 1024 (some launchers' default) a module can fill its
// whole table and still make a blocking call from a new thread: sel_ldr raised its limit.
TEST(FdLimitTest, LowSoftLimitIsRaisedToFitTheTable) {
  SelLdrCommand command;
  command.module = ModulePath("fill_table");
  command.args = {"one"};
  command.descriptor_limit = std::make_pair(rlim_t{1024}, rlim_t{20000});
  absl::StatusOr<SelLdrResult> result = RunSelLdr(command, absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << "sel_ldr hung: " << result.status();
  EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
  EXPECT_THAT(
      Lines(result->out),
      ::testing::ElementsAre("filled " + std::to_string(kFullTable) + " EMFILE", "received 1"))
      << result->Describe();
}

// Test that a hard fd limit below what a full table needs stops sel_ldr at once with a message
// naming the limit (exit 125), before any module runs.
TEST(FdLimitTest, HardLimitTooLowIsRefused) {
  SelLdrCommand command;
  command.module = ModulePath("fill_table");
  command.args = {"one"};
  command.descriptor_limit = std::make_pair(rlim_t{1024}, rlim_t{1024});
  absl::StatusOr<SelLdrResult> result = RunSelLdr(command);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited && result->exit_status == 125) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("hard RLIMIT_NOFILE (1024)")) << result->Describe();
  EXPECT_EQ(result->out, "") << result->Describe();
}

// Test that when sel_ldr runs out of fds for workers (the least hard limit it accepts, a full
// table, 200 threads blocked at once), the calls it cannot move off its receiving thread answer
// EMFILE, the rest are served, and the module runs to its end.
TEST(FdLimitTest, CallWithoutAnFdForItsWorkerIsEmfile) {
  SelLdrCommand command;
  command.module = ModulePath("fill_table");
  command.args = {"many"};
  command.descriptor_limit = std::make_pair(kMinimumFds, kMinimumFds);
  absl::StatusOr<SelLdrResult> result = RunSelLdr(command, absl::Seconds(60));
  ASSERT_TRUE(result.ok()) << "sel_ldr hung: " << result.status();
  ASSERT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
  std::vector<std::string> lines = Lines(result->out);
  ASSERT_EQ(lines.size(), 2u) << result->Describe();
  EXPECT_EQ(lines[0], "filled " + std::to_string(kFullTable) + " EMFILE");
  std::vector<std::string> words = absl::StrSplit(lines[1], ' ');
  ASSERT_EQ(words.size(), 8u) << lines[1];
  int received = 0;
  int emfile = 0;
  ASSERT_TRUE(absl::SimpleAtoi(words[3], &received) && absl::SimpleAtoi(words[5], &emfile))
      << lines[1];
  EXPECT_GT(emfile, 0) << lines[1];
  EXPECT_GT(received, 0) << lines[1];
  EXPECT_EQ(received + emfile, 200) << lines[1];
  EXPECT_EQ(words[7], "0") << lines[1];
}

}  // namespace
}  // namespace tests
