#include "sel_ldr/prebuilt_policy.h"

#include <linux/filter.h>
#include <unistd.h>

#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "sel_ldr/policy.h"
#include "sel_ldr/policy_template.h"

namespace sel_ldr {
namespace {

// Test that the prebuilt program is the one libseccomp generates from the policy, for both
// ways of answering unserved calls and for pids the generator did not check.
TEST(PrebuiltPolicyTest, EqualsTheGeneratedProgram) {
  std::mt19937 random(static_cast<unsigned>(getpid()));
  std::vector<pid_t> pids = {getpid(), 7, 4194304};
  for (int i = 0; i < 5; ++i) pids.push_back(1 + static_cast<pid_t>(random() % 4194304));
  for (bool answer : {false, true}) {
    PolicyOptions options;
    options.answer_unserved_in_filter = answer;
    for (pid_t pid : pids) {
      absl::StatusOr<std::vector<sock_filter>> prebuilt = ModulePolicy(pid, options);
      absl::StatusOr<std::vector<sock_filter>> generated = GenerateModulePolicy(pid, options);
      ASSERT_TRUE(prebuilt.ok() && generated.ok());
      EXPECT_TRUE(SameProgram(*prebuilt, *generated)) << "pid " << pid << ", answer " << answer;
    }
  }
}

// Test that the two programs differ (the option is not lost) and that the pid is in them.
TEST(PrebuiltPolicyTest, ProgramsDependOnOptionsAndPid) {
  PolicyOptions answer;
  answer.answer_unserved_in_filter = true;
  EXPECT_FALSE(SameProgram(*ModulePolicy(100), *ModulePolicy(100, answer)));
  EXPECT_FALSE(SameProgram(*ModulePolicy(100), *ModulePolicy(101)));
}

// Test that no program is made for a pid that names no single process.
TEST(PrebuiltPolicyTest, RefusesPidsThatAreNotAProcess) {
  EXPECT_EQ(ModulePolicy(0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ModulePolicy(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sel_ldr
