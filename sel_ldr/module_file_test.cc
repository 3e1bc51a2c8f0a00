// Tests of OpenModule: which failures are "missing" (sel_ldr's exit 127) and which are not.
#include "sel_ldr/module_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "base/errno_status.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  const char* dir = getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Test that a missing file, and a path through a regular file, are NotFound.
TEST(ModuleFileTest, MissingIsNotFound) {
  const int fds = base::CountOpenFds();
  absl::StatusOr<base::UniqueFd> missing = OpenModule(TempDir() + "/no_such.nexe");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("No such file"));
  const std::string file = TempDir() + "/plain";
  base::UniqueFd made(open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(made.valid());
  made.reset();
  absl::StatusOr<base::UniqueFd> through = OpenModule(file + "/x.nexe");
  EXPECT_TRUE(absl::IsNotFound(through.status())) << through.status();
  EXPECT_EQ(base::CountOpenFds(), fds);
}

// Test that a file that exists but may not be read (EACCES) is not NotFound: it carries
// EACCES. Root reads anything, so the check runs in a child that drops every capability
// first.
TEST(ModuleFileTest, PermissionDeniedIsNotNotFound) {
  const std::string path = TempDir() + "/unreadable.nexe";
  unlink(path.c_str());
  base::UniqueFd made(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0000));
  ASSERT_TRUE(made.valid());
  made.reset();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No capabilities at all: CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH are gone, so the
    // file's mode (no access for anyone) applies even to uid 0.
    __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capset, &header, data) != 0) _exit(10);
    absl::StatusOr<base::UniqueFd> opened = OpenModule(path);
    if (opened.ok()) _exit(11);
    if (absl::IsNotFound(opened.status())) _exit(12);
    if (base::ErrnoOf(opened.status()) != EACCES) _exit(13);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  // 10: cannot drop capabilities; 11: opened; 12: NotFound; 13: another errno.
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Test that a symlink loop (ELOOP) is not NotFound either.
TEST(ModuleFileTest, SymlinkLoopIsNotNotFound) {
  const std::string path = TempDir() + "/loop.nexe";
  unlink(path.c_str());
  ASSERT_EQ(symlink(path.c_str(), path.c_str()), 0);
  absl::StatusOr<base::UniqueFd> opened = OpenModule(path);
  EXPECT_FALSE(opened.ok());
  EXPECT_FALSE(absl::IsNotFound(opened.status())) << opened.status();
  EXPECT_EQ(base::ErrnoOf(opened.status()), ELOOP) << opened.status();
}

// Test that a file that is not ELF is FailedPrecondition naming why, and its fd is closed.
TEST(ModuleFileTest, NotElfIsFailedPrecondition) {
  const int fds = base::CountOpenFds();
  const std::string path = TempDir() + "/text.nexe";
  base::UniqueFd made(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(made.valid());
  ASSERT_EQ(write(made.get(), "hello\n", 6), 6);
  made.reset();
  absl::StatusOr<base::UniqueFd> opened = OpenModule(path);
  EXPECT_TRUE(absl::IsFailedPrecondition(opened.status())) << opened.status();
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr("not an ELF file"));
  EXPECT_EQ(base::CountOpenFds(), fds);
}

}  // namespace
}  // namespace sel_ldr
