// End-to-end: the ordinary C and C++ programs of tests/programs, each run natively and under
// sel_ldr; their stdout must be the same, and both must exit 0.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

// The descriptor a program gets its file on, in both runs.
constexpr int kFileDescriptor = 5;

struct NativeResult {
  int status = -1;
  std::string out;
};

// Runs the native build of `name` with `args`, and `file` (if valid) at kFileDescriptor.
NativeResult RunNative(const std::string& name, const std::vector<std::string>& args,
                       int file = -1) {
  NativeResult result;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  const std::string path = RunfilePath(absl::StrCat("tests/programs/", name, "_native"));
  std::vector<char*> argv = {const_cast<char*>(path.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    if (file >= 0) dup2(file, kFileDescriptor);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof(buffer))) > 0) result.out.append(buffer, n);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// A new file in the test's temporary directory, open read-write.
base::UniqueFd NewFile(const std::string& name) {
  const std::string path = absl::StrCat(TestTempDir(), "/", name);
  return base::UniqueFd(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
}

class ProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = base::CountOpenFds(); }
  void TearDown() override {
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  // Runs `name` both ways (with a fresh file each if `with_file`) and compares stdout.
  void ExpectSameOutput(const std::string& name, bool with_file) {
    std::vector<std::string> args;
    if (with_file) args.push_back(std::to_string(kFileDescriptor));
    base::UniqueFd native_file = with_file ? NewFile(name + ".native") : base::UniqueFd();
    NativeResult native = RunNative(name, args, native_file.get());
    ASSERT_EQ(native.status, 0) << native.out;
    ASSERT_FALSE(native.out.empty());

    base::UniqueFd module_file = with_file ? NewFile(name + ".module") : base::UniqueFd();
    SelLdrCommand command;
    command.module = RunfilePath(absl::StrCat("tests/programs/", name, ".nexe"));
    command.args = args;
    if (with_file) {
      const std::string grant = absl::StrCat(kFileDescriptor, ":", kFileDescriptor);
      command.flags = {"-h", grant};
      command.fds = {{kFileDescriptor, module_file.get()}};
    }
    absl::StatusOr<SelLdrResult> run = RunSelLdr(command);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_TRUE(run->exited && run->exit_status == 0) << run->Describe();
    EXPECT_EQ(run->out, native.out) << run->Describe();
  }

  int fds_before_ = 0;
};

// Test that fdopen and buffered I/O (fprintf, fseek, fgets, ftell, an append stream) and
// ftruncate, pread, fstat, fsync on a granted file behave as natively.
TEST_F(ProgramsTest, StdioOnAGrantedFile) { ExpectSameOutput("stdio_file", true); }

// Test that a poll/select event loop over message channels and nonblocking pipes fed by
// threads, with timeouts and end of file, behaves as natively.
TEST_F(ProgramsTest, PollLoopOverChannelsAndPipes) { ExpectSameOutput("poll_loop", false); }

// Test that a C++ program with std::thread writers on a pipe and iostreams behaves as
// natively.
TEST_F(ProgramsTest, IostreamsAndThreads) { ExpectSameOutput("iostream_threads", false); }

// Test that alarm, setitimer, POSIX timers (to the process, to a thread, on a new thread),
// sigsuspend, sigtimedwait, pause, nanosleep, clock_nanosleep, getrusage, times, sysconf and
// pthread_setname_np behave as natively.
TEST_F(ProgramsTest, TimersAndUsage) { ExpectSameOutput("timers", false); }

// Test that a C++ program using std::chrono, sleep_for, condition_variable::wait_for,
// std::async and futures behaves as natively.
TEST_F(ProgramsTest, ChronoAndAsync) { ExpectSameOutput("chrono_async", false); }

// Test that in a module a poll blocked in one thread does not hold up another thread's calls,
// and that closing the descriptor it waits on ends it with POLLNVAL.
TEST_F(ProgramsTest, BlockedPollAndClose) {
  SelLdrCommand command;
  command.module = RunfilePath("tests/programs/poll_close.nexe");
  absl::StatusOr<SelLdrResult> run = RunSelLdr(command);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->exited && run->exit_status == 0) << run->Describe();
  EXPECT_EQ(run->out,
            "calls served while polling: yes, poll still waiting: yes\n"
            "poll after close: 1, POLLNVAL: yes\n")
      << run->Describe();
}

}  // namespace
}  // namespace tests
