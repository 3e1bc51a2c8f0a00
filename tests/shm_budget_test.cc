// End-to-end: a module's shared memory objects count against its memory limit, and objects
// it no longer holds, however it closed them, are given back and kept alive by nothing.
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Test that with --memory-limit 256M a module can hold exactly 256 MiB of touched shared
// memory (then ENOMEM), that closing the objects gives the budget back, and that an object
// closed through the NaCl close call no longer lives in the module's process: its number
// holds sel_ldr's empty placeholder instead of the object.
TEST(ShmBudgetTest, SharedMemoryCountsAgainstTheMemoryLimit) {
  SelLdrCommand command;
  command.flags = {"--memory-limit", "256M"};
  command.module = ModulePath("shm_budget");
  command.pipe_stdin = true;
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process = SelLdrProcess::Start(command);
  ASSERT_TRUE(process.ok()) << process.status();
  SelLdrProcess& sel_ldr = **process;
  absl::StatusOr<std::string> line = sel_ldr.ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "hoarded 256 MiB: ENOMEM");
  line = sel_ldr.ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "hoarded again 256 MiB: ENOMEM");
  line = sel_ldr.ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_THAT(*line, StartsWith("placed at "));
  std::vector<std::string> words = absl::StrSplit(*line, ' ');
  ASSERT_EQ(words.size(), 5u) << *line;
  char target[256] = {};
  const std::string fd = absl::StrCat("/proc/", words[4], "/fd/", words[2]);
  ASSERT_GT(readlink(fd.c_str(), target, sizeof(target) - 1), 0) << fd;
  EXPECT_THAT(std::string(target), HasSubstr("sel_ldr-placeholder")) << fd;
  ASSERT_TRUE(sel_ldr.WriteStdin("done\n").ok());
  absl::StatusOr<SelLdrResult> result = sel_ldr.Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
}

}  // namespace
}  // namespace tests
