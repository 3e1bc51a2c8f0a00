#include "imc/cancellation.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

// True if `cancellation` wakes waits: its eventfd is readable.
bool IsSignalled(const Cancellation& cancellation) {
  struct pollfd pfd = {cancellation.fd(), POLLIN, 0};
  return poll(&pfd, 1, 0) == 1;
}

Pipe MakePipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Test that a new cancellation is not cancelled and owns one close-on-exec fd.
TEST(CancellationTest, StartsUncancelled) {
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
    ASSERT_OK(cancellation);
    EXPECT_FALSE(IsSignalled(*cancellation));
    EXPECT_EQ(base::CountOpenFds(), before + 1);
    EXPECT_EQ(fcntl(cancellation->fd(), F_GETFD), FD_CLOEXEC);
  }
  EXPECT_EQ(base::CountOpenFds(), before);
}

// Test that Cancel() sets the signal, repeatedly, and Reset() clears it.
TEST(CancellationTest, CancelAndReset) {
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  cancellation->Cancel();
  EXPECT_TRUE(IsSignalled(*cancellation));
  cancellation->Cancel();
  EXPECT_TRUE(IsSignalled(*cancellation));
  cancellation->Reset();
  EXPECT_FALSE(IsSignalled(*cancellation));
  cancellation->Reset();  // Resetting an uncancelled signal is harmless.
  EXPECT_FALSE(IsSignalled(*cancellation));
}

// Test that only the default options wait forever.
TEST(CancellationTest, WaitsForeverOnlyWithoutLimits) {
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  EXPECT_TRUE(WaitOptions().WaitsForever());
  WaitOptions nonblocking;
  nonblocking.nonblocking = true;
  EXPECT_FALSE(nonblocking.WaitsForever());
  WaitOptions deadline;
  deadline.deadline = absl::Now() + absl::Hours(1);
  EXPECT_FALSE(deadline.WaitsForever());
  WaitOptions cancellable;
  cancellable.cancellation = &*cancellation;
  EXPECT_FALSE(cancellable.WaitsForever());
}

// Test that WaitFor returns OK at once when the fd is ready.
TEST(CancellationTest, WaitForReadyFd) {
  Pipe pipe = MakePipe();
  ASSERT_EQ(write(pipe.write_end.get(), "x", 1), 1);
  WaitOptions deadline;
  deadline.deadline = absl::Now() + absl::Seconds(10);
  EXPECT_OK(WaitFor(pipe.read_end.get(), POLLIN, deadline));
}

// Test that WaitFor counts a hang-up as ready.
TEST(CancellationTest, WaitForHangUp) {
  Pipe pipe = MakePipe();
  pipe.write_end.reset();
  WaitOptions deadline;
  deadline.deadline = absl::Now() + absl::Seconds(10);
  EXPECT_OK(WaitFor(pipe.read_end.get(), POLLIN, deadline));
}

// Test that a nonblocking WaitFor fails with EAGAIN without waiting.
TEST(CancellationTest, NonblockingWaitIsEagain) {
  Pipe pipe = MakePipe();
  WaitOptions options;
  options.nonblocking = true;
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(EAGAIN));
}

// Test that WaitFor fails with ETIMEDOUT at its deadline, not before.
TEST(CancellationTest, DeadlineIsEtimedout) {
  Pipe pipe = MakePipe();
  WaitOptions options;
  const absl::Time start = absl::Now();
  options.deadline = start + absl::Milliseconds(100);
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now(), options.deadline);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// Test that a deadline already passed is ETIMEDOUT.
TEST(CancellationTest, PastDeadlineIsEtimedout) {
  Pipe pipe = MakePipe();
  WaitOptions options;
  options.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(ETIMEDOUT));
}

// Test that a cancelled signal ends a wait with ECANCELED.
TEST(CancellationTest, CancelledWaitIsEcanceled) {
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  Pipe pipe = MakePipe();
  cancellation->Cancel();
  WaitOptions options;
  options.cancellation = &*cancellation;
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(ECANCELED));
}

// Test that Cancel() from another thread wakes a wait that has no deadline.
TEST(CancellationTest, CancelFromAnotherThreadWakesWait) {
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  Pipe pipe = MakePipe();
  WaitOptions options;
  options.cancellation = &*cancellation;
  std::thread canceller([&cancellation] {
    absl::SleepFor(absl::Milliseconds(50));
    cancellation->Cancel();
  });
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(ECANCELED));
  canceller.join();
}

// Test that after Reset() the same signal no longer cancels waits.
TEST(CancellationTest, ResetSignalDoesNotCancel) {
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  Pipe pipe = MakePipe();
  cancellation->Cancel();
  cancellation->Reset();
  WaitOptions options;
  options.cancellation = &*cancellation;
  options.deadline = absl::Now() + absl::Milliseconds(20);
  EXPECT_THAT(WaitFor(pipe.read_end.get(), POLLIN, options), HasErrno(ETIMEDOUT));
}

}  // namespace
}  // namespace imc
