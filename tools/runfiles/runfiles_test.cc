#include "tools/runfiles/runfiles.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runfiles {
namespace {

using ::base::StatusIs;

// Test that a data dependency is found, as an absolute path to an executable.
TEST(RunfilesTest, FindsDataDependency) {
  absl::StatusOr<std::string> sel_ldr = Runfile("sel_ldr/sel_ldr");
  ASSERT_OK(sel_ldr);
  EXPECT_EQ((*sel_ldr)[0], '/');
  EXPECT_EQ(access(sel_ldr->c_str(), X_OK), 0) << *sel_ldr;
}

// Test that a file that is not among the runfiles is NotFound, not a path that does not exist.
TEST(RunfilesTest, MissingFileIsNotFound) {
  EXPECT_THAT(Runfile("no/such/file"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace runfiles
