#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace base {
namespace {

// fds 1000..1010 open in this process, as an embedder's own might be.
class HighFds {
 public:
  HighFds() {
    UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    for (int fd = kFirst; fd <= kLast; ++fd) {
      fds_.emplace_back(dup3(null.get(), fd, O_CLOEXEC));
    }
  }
  static constexpr int kFirst = 1000;
  static constexpr int kLast = 1010;

 private:
  std::vector<UniqueFd> fds_;
};

// Waits for `pid`; returns its exit status, or -1 if it did not exit.
int ExitStatus(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

ino_t InodeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// Test that with fds 1000..1010 open here, a child gets exactly the mapped fds, each from
// its own source, even where a target is a source's number or a number open here.
TEST(SpawnTest, ChildHoldsExactlyTheMappedFdsWithHighFdsOpen) {
  HighFds high;
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  // The write end at 1005, mapped to 1001; 1001 (open here) to 0; 1000 to 1005: a cycle.
  ASSERT_EQ(dup3(pipe_fds[1], 1005, O_CLOEXEC), 1005);
  close(pipe_fds[1]);
  const ino_t pipe_inode = InodeOf(1005);
  const ino_t null_inode = InodeOf(1000);
  SpawnOptions options;
  options.fds = {{1005, 1001}, {1001, 0}, {1000, 1005}};
  absl::StatusOr<pid_t> pid = ForkChild(options, [&] {
    for (int fd = 0; fd < 4096; ++fd) {
      const bool open = fcntl(fd, F_GETFD) >= 0;
      if (open != (fd == 0 || fd == 1001 || fd == 1005)) return 10;
    }
    if (InodeOf(1001) != pipe_inode || InodeOf(0) != null_inode || InodeOf(1005) != null_inode) {
      return 11;
    }
    if ((fcntl(1001, F_GETFD) & FD_CLOEXEC) != 0) return 12;
    return write(1001, "ok", 2) == 2 ? 0 : 13;
  });
  ASSERT_OK(pid.status());
  EXPECT_EQ(ExitStatus(*pid), 0);
  close(1005);
  char buffer[4] = {};
  EXPECT_EQ(read(read_end.get(), buffer, sizeof(buffer)), 2);
  EXPECT_STREQ(buffer, "ok");
}

// Test that an executed program gets the mapped fds with fds 1000..1010 open here.
TEST(SpawnTest, ExecutedProgramWritesToTheMappedFd) {
  HighFds high;
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  SpawnOptions options;
  options.fds = {{write_end.get(), 1}};
  absl::StatusOr<pid_t> pid = Spawn({"/bin/sh", "-c", "echo hello"}, options);
  ASSERT_OK(pid.status());
  write_end.reset();
  EXPECT_EQ(ExitStatus(*pid), 0);
  char buffer[16] = {};
  EXPECT_EQ(read(read_end.get(), buffer, sizeof(buffer)), 6);
  EXPECT_STREQ(buffer, "hello\n");
}

// Test that a program that cannot be executed is an execve error here, with no child left
// and no fd leaked.
TEST(SpawnTest, MissingProgramIsExecveEnoent) {
  const int before = CountOpenFds();
  absl::StatusOr<pid_t> pid = Spawn({"/nonexistent/program"}, SpawnOptions());
  EXPECT_THAT(pid.status(), HasErrno(ENOENT));
  EXPECT_THAT(std::string(pid.status().message()), ::testing::HasSubstr("execve"));
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(CountOpenFds(), before) << DescribeOpenFds();
}

// Test that a source fd that is not open is EBADF here, not a child that runs without it.
TEST(SpawnTest, ClosedSourceIsEbadf) {
  const int before = CountOpenFds();
  SpawnOptions options;
  options.fds = {{999, 3}};
  absl::StatusOr<pid_t> pid = Spawn({"/bin/true"}, options);
  EXPECT_THAT(pid.status(), HasErrno(EBADF));
  EXPECT_EQ(CountOpenFds(), before) << DescribeOpenFds();
}

}  // namespace
}  // namespace base
