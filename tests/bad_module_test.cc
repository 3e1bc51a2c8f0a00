// End-to-end: what sel_ldr says and how it exits for modules it cannot run or that end
// badly, and for command lines it cannot use.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Writes `contents` to a new executable file in the test's temporary directory.
std::string WriteExecutable(const std::string& name, const std::string& contents) {
  const std::string path = TestTempDir() + "/" + name;
  base::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755));
  EXPECT_TRUE(fd.valid()) << path;
  EXPECT_EQ(write(fd.get(), contents.data(), contents.size()),
            static_cast<ssize_t>(contents.size()));
  return path;
}

// Test that a missing module file exits 127 and says it cannot open it.
TEST(BadModuleTest, MissingFileExits127) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, TestTempDir() + "/no_such_module.nexe", {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 127) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("cannot load module"));
  EXPECT_THAT(result->err, HasSubstr("No such file or directory"));
  EXPECT_EQ(result->out, "");
}

// Test that a module path that exists but cannot be opened (a symlink loop: ELOOP, which
// root meets as readily as anyone) exits 126, not 127: only a missing file is "not found".
TEST(BadModuleTest, UnopenableFileExits126NotMissing) {
  const std::string path = TestTempDir() + "/loop.nexe";
  unlink(path.c_str());
  ASSERT_EQ(symlink(path.c_str(), path.c_str()), 0);
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, path, {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 126) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("cannot load module"));
  EXPECT_THAT(result->err, HasSubstr("Too many levels of symbolic links"));
}

// Test that a file that is not ELF (a shell script) exits 126 and says so.
TEST(BadModuleTest, NotElfExits126) {
  const std::string path = WriteExecutable("script.nexe", "#!/bin/sh\necho ran\n");
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, path, {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 126) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("not an ELF file"));
  EXPECT_EQ(result->out, "");
}

// Test that a directory is refused as not a module (126).
TEST(BadModuleTest, DirectoryExits126) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, TestTempDir(), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 126) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("not a regular file"));
}

// Test that a dynamically linked ELF executable exits 126 and says it is dynamically
// linked, without running it.
TEST(BadModuleTest, DynamicallyLinkedExits126) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, RunfilePath("tests/dynamic_elf"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 126) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("dynamically linked"));
  EXPECT_EQ(result->out, "");
}

// Test that a module that dies of SIGSEGV makes sel_ldr exit 128+11 and name the signal.
TEST(BadModuleTest, SegfaultExits139) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, ModulePath("crash"), {"segv"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited) << result->Describe();
  EXPECT_EQ(result->exit_status, 139) << result->Describe();
  EXPECT_EQ(result->out, "crash: segv\n");
  EXPECT_THAT(result->err, HasSubstr("sel_ldr: error: module killed by signal 11 (SIGSEGV)"));
}

// Test that a module that calls abort() makes sel_ldr exit 128+6 and name the signal.
TEST(BadModuleTest, AbortExits134) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{}, ModulePath("crash"), {"abort"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited) << result->Describe();
  EXPECT_EQ(result->exit_status, 134) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("sel_ldr: error: module killed by signal 6 (SIGABRT)"));
}

// Test that a command line without a module exits 2 with a one-line reason.
TEST(UsageTest, NoModuleExits2) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"-v"}, "", {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, StartsWith("sel_ldr: no module given\n"));
}

// Test that -X -1 is refused (2) with a message that explains that addresses are
// descriptors now and what to pass instead.
TEST(UsageTest, GlobalServiceSocketIsRefused) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"-X", "-1"}, ModulePath("hello"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("addresses are descriptors"));
  EXPECT_THAT(result->err, HasSubstr("socketpair"));
  EXPECT_EQ(result->out, "");
}

// Test that malformed -h values are usage errors (2) that name the flag.
TEST(UsageTest, BadHostFdSyntaxExits2) {
  for (const char* value : {"5", "x:y", "5:", ":5", "-1:3", "4096:3", "3:-2"}) {
    absl::StatusOr<SelLdrResult> result = RunSelLdr({{"-h", value}, ModulePath("hello"), {}});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_status, 2) << value << ": " << result->Describe();
    EXPECT_THAT(result->err, HasSubstr(std::string("-h ") + value)) << value;
    EXPECT_EQ(result->out, "") << value;
  }
}

// Test that granting a host fd sel_ldr does not have is a usage error (2).
TEST(UsageTest, GrantingAClosedFdExits2) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"-h", "5:200"}, ModulePath("hello"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("host fd 200 is not open"));
}

// Test that -i refuses a host fd that is not an IMC socket (2).
TEST(UsageTest, ImcFdMustBeAnImcSocket) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  base::UniqueFd read_end(fds[0]);
  base::UniqueFd write_end(fds[1]);
  absl::StatusOr<SelLdrResult> result =
      RunSelLdr({{"-i", "5:10"}, ModulePath("hello"), {}, {{10, read_end.get()}}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("is not an IMC socket"));
}

// Test that naming one host fd twice is a usage error (2): sel_ldr adopts each fd it is
// given, so a second descriptor on it would be left on a closed, reusable fd number.
TEST(UsageTest, SameHostFdTwiceExits2) {
  absl::StatusOr<std::pair<base::UniqueFd, base::UniqueFd>> pair = MakeImcSocketPair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  absl::StatusOr<SelLdrResult> result =
      RunSelLdr({{"-i", "5:10", "-X", "10"}, ModulePath("hello"), {}, {{10, pair->second.get()}}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("-X 10: host fd 10 is already given by -i 5:10"));
  EXPECT_EQ(result->out, "");

  result = RunSelLdr(
      {{"-h", "5:10", "-r", "6:10"}, ModulePath("hello"), {}, {{10, pair->second.get()}}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("-r 6:10: host fd 10 is already given by -h 5:10"));
}

// Test that giving the module sel_ldr's own stderr (-w 5:2) leaves sel_ldr its stderr: the
// report of how the module ended still appears after the module's descriptors are closed.
TEST(UsageTest, GrantingStderrKeepsSelLdrMessages) {
  absl::StatusOr<SelLdrResult> result =
      RunSelLdr({{"-w", "5:2", "-w", "6:1"}, ModulePath("crash"), {"segv"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 139) << result->Describe();
  EXPECT_EQ(result->out, "crash: segv\n");
  EXPECT_THAT(result->err, HasSubstr("sel_ldr: error: module killed by signal 11 (SIGSEGV)"));
}

// Test that an unknown option is a usage error (2).
TEST(UsageTest, UnknownOptionExits2) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"--no-such-option"}, ModulePath("hello"), {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 2) << result->Describe();
  EXPECT_THAT(result->err, HasSubstr("unknown option --no-such-option"));
}

// Test that --help prints the usage on stdout and exits 0.
TEST(UsageTest, HelpExits0) {
  absl::StatusOr<SelLdrResult> result = RunSelLdr({{"--help"}, "", {}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_THAT(result->out, StartsWith("Usage: sel_ldr [options] [--] module.nexe [args...]\n"));
  EXPECT_THAT(result->out, HasSubstr("-X, --bootstrap-fd D"));
  EXPECT_EQ(result->err, "");
}

}  // namespace
}  // namespace tests
