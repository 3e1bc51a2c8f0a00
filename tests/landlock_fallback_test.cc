// End-to-end: where the kernel refuses a module its Landlock scope (sel_ldr already runs in
// the 16 Landlock layers the kernel allows: E2BIG), the module gets a network namespace of
// its own instead, and still runs. A binary of its own: the layers this test puts on itself
// stay for the rest of the process.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>

#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sel_ldr/landlock.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;

// Landlock's limit on stacked layers (LANDLOCK_MAX_NUM_LAYERS).
constexpr int kMaxLayers = 16;

// Test that a module whose Landlock restriction fails is put in a network namespace of its
// own (not the host's), says so under -v, and runs to its exit status.
TEST(LandlockFallbackTest, RefusedScopeFallsBackToANetworkNamespace) {
  if (sel_ldr::LandlockAbiVersion() < sel_ldr::kLandlockScopeAbi) {
    GTEST_SKIP() << "no Landlock scope on this kernel: every module gets a network namespace "
                    "(tests:escape_test ConfinementTest checks that)";
  }
  ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
  // Up to the limit (fewer if whoever runs this test already stacked some layers).
  absl::StatusOr<base::UniqueFd> ruleset = sel_ldr::CreateModuleRuleset();
  ASSERT_TRUE(ruleset.ok()) << ruleset.status();
  int error = 0;
  for (int layer = 0; layer < kMaxLayers && error == 0; ++layer) {
    error = sel_ldr::RestrictSelf(ruleset->get());
  }
  ASSERT_TRUE(error == 0 || error == E2BIG) << strerror(error);
  ASSERT_EQ(sel_ldr::RestrictSelf(ruleset->get()), E2BIG) << "the layers are not at the limit";
  const std::string host_net = NamespaceOf(getpid(), "net");
  absl::StatusOr<SelLdrResult> result = RunInspectingModule({"-v"}, [&host_net](pid_t module) {
    EXPECT_NE(NamespaceOf(module, "net"), host_net);
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("namespaces: user,net,ipc,uts, Landlock scope: no"))
      << result->Describe();
}

}  // namespace
}  // namespace tests
