#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/errno_status.h"
#include "base/fd_count.h"
#include "base/logging.h"
#include "base/status_macros.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace base {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<int> Half(int value) {
  if (value % 2 != 0) return ErrnoStatus(EINVAL, "odd value");
  return value / 2;
}

absl::StatusOr<int> Quarter(int value) {
  ASSIGN_OR_RETURN(int half, Half(value));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int value) {
  RETURN_IF_ERROR(Half(value).status());
  return absl::OkStatus();
}

// Test that ASSIGN_OR_RETURN passes values through and returns the first error.
TEST(StatusMacrosTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), HasErrno(EINVAL));
  EXPECT_THAT(Quarter(3), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Test that RETURN_IF_ERROR returns the error and continues on OK.
TEST(StatusMacrosTest, ReturnIfErrorPropagates) {
  EXPECT_OK(CheckEven(4));
  EXPECT_THAT(CheckEven(5), HasErrno(EINVAL));
}

// Test that an ErrnoStatus carries its errno, a matching code and readable text.
TEST(ErrnoStatusTest, CarriesErrno) {
  absl::Status status = ErrnoStatus(EPIPE, "send");
  EXPECT_EQ(ErrnoOf(status), EPIPE);
  EXPECT_THAT(std::string(status.message()), HasSubstr("send: Broken pipe"));
  EXPECT_EQ(ErrnoOf(absl::OkStatus()), 0);
  EXPECT_EQ(ErrnoOf(absl::InternalError("no errno")), 0);
}

// Test that UniqueFd closes on destruction and release() gives up ownership.
TEST(UniqueFdTest, ClosesAndReleases) {
  int before = CountOpenFds();
  {
    UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    EXPECT_EQ(CountOpenFds(), before + 1);
    UniqueFd moved = std::move(fd);
    EXPECT_FALSE(fd.valid());
    EXPECT_TRUE(moved.valid());
  }
  EXPECT_EQ(CountOpenFds(), before);
  UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = fd.release();
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(fcntl(raw, F_GETFD), FD_CLOEXEC);
  close(raw);
  EXPECT_EQ(CountOpenFds(), before);
}

// Test that another process's fds are counted as our own are (a pid's directory stream is not
// one of its fds unless the pid is ours), and that a pid with no /proc entry counts -1.
TEST(FdCountTest, CountsAProcessById) {
  const int own = CountOpenFds();
  EXPECT_EQ(CountOpenFdsOf(getpid()), own + 1);  // Our own stream, this time in the count.
  UniqueFd extra(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(CountOpenFdsOf(getpid()), own + 2);
  EXPECT_EQ(CountOpenFdsOf(-1), -1);
}

// Test that VLOG prints only at or below the set verbosity, and LOG(ERROR) always.
TEST(LoggingTest, Verbosity) {
  SetLogPrefix("base_test");
  testing::internal::CaptureStderr();
  VLOG(1) << "hidden";
  SetVerbosity(2);
  VLOG(2) << "shown";
  SetVerbosity(0);
  LOG(ERROR) << "bad " << 7;
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "base_test: shown\nbase_test: error: bad 7\n");
}

}  // namespace
}  // namespace base
