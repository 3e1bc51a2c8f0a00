// End-to-end: a host fd grant (-h/-r/-w/-i d:D, -X D) names an fd that the embedder really
// passed, never one of sel_ldr's own (the module file, its copies of stdio, its sockets).
// sel_ldr adopts the granted fds before it opens anything, so a grant of an fd that was not
// open when it started is a usage error (2) that names the flag.
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class HostFdGrantTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = base::CountOpenFds(); }
  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  // Runs grant_hops on descriptor 7 (no hops) with `flags`, and these inherited fds.
  absl::StatusOr<SelLdrResult> Run(std::vector<std::string> flags,
                                   std::vector<std::pair<int, int>> fds = {}) {
    return RunSelLdr({std::move(flags), ModulePath("grant_hops"), {"7", "0", "self"}, fds});
  }

  int fds_before_ = 0;
};

// Test that granting a low fd number the embedder did not pass is a usage error naming the
// flag, for every number sel_ldr's own first fds would take (the module file, the copies of
// stdin, stdout and stderr), so the module never gets one of them.
TEST_F(HostFdGrantTest, UnopenedLowFdIsAUsageError) {
  for (int fd = 3; fd <= 8; ++fd) {
    for (const char* flag : {"-h", "-r", "-w", "-i"}) {
      const std::string grant = absl::StrCat("7:", fd);
      absl::StatusOr<SelLdrResult> result = Run({flag, grant});
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->exit_status, 2) << flag << " " << grant << ": " << result->Describe();
      EXPECT_THAT(result->err,
                  HasSubstr(absl::StrCat(flag, " ", grant, ": host fd ", fd, " is not open")))
          << result->Describe();
      EXPECT_EQ(result->out, "") << flag << " " << grant;
    }
  }
}

// Test that -X of an fd the embedder did not pass is a usage error naming the flag.
TEST_F(HostFdGrantTest, UnopenedBootstrapFdIsAUsageError) {
  for (int fd : {3, 4, 5}) {
    absl::StatusOr<SelLdrResult> result = Run({"-X", std::to_string(fd)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, 2) << result->Describe();
    EXPECT_THAT(result->err, HasSubstr(absl::StrCat("-X ", fd, ": host fd ", fd, " is not open")));
    EXPECT_EQ(result->out, "");
  }
}

// Test that a granted stdio fd (copied, not adopted) cannot take the number of a later grant
// that is not open: the copy of stdout must not become -h 6:3.
TEST_F(HostFdGrantTest, CopiedStdioDoesNotFillAnUnopenedGrant) {
  absl::StatusOr<SelLdrResult> result = Run({"-w", "5:1", "-h", "6:3"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("-h 6:3: host fd 3 is not open"));
  EXPECT_EQ(result->out, "");
}

// Test that naming the same host fd in two grants is a usage error: two descriptors would
// own one fd.
TEST_F(HostFdGrantTest, SameFdTwiceIsAUsageError) {
  base::UniqueFd null_device(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null_device.valid());
  absl::StatusOr<SelLdrResult> result = Run({"-w", "7:4", "-r", "8:4"}, {{4, null_device.get()}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("-r 8:4: host fd 4 is already given by -w 7:4"));
  EXPECT_EQ(result->out, "");
}

// Test that grants of fds the embedder did pass, at the low numbers sel_ldr's own fds would
// otherwise take (3 and 4), reach the module: its write through 7 arrives in the embedder's
// pipe.
TEST_F(HostFdGrantTest, RealLowFdGrantsWork) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  base::UniqueFd read_end(fds[0]);
  base::UniqueFd write_end(fds[1]);
  base::UniqueFd null_device(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null_device.valid());
  absl::StatusOr<SelLdrResult> result =
      Run({"-w", "7:4", "-r", "8:3"}, {{3, null_device.get()}, {4, write_end.get()}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(Lines(result->out), ElementsAre("hops=0 read=EBADF write=ok fstat=ok"));
  write_end.reset();
  char buffer[8] = {};
  EXPECT_EQ(read(read_end.get(), buffer, sizeof(buffer)), 1);
  EXPECT_STREQ(buffer, "X");
}

}  // namespace
}  // namespace tests
