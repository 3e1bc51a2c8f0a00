// End-to-end: a module with threads blocked in the loader. One thread waits in imc_accept,
// one in imc_recvmsg; a third reads stdin and writes while both stay blocked; then the
// module exits with the two calls still blocked. sel_ldr must exit with the module's status
// at once and keep nothing open.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/errno_status.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/imc.h"
#include "syscalls/nacl_abi.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;

// The syscall numbers the threads of process `pid` are in right now, from
// /proc/<pid>/task/<tid>/syscall ("running" threads have none).
std::multiset<long> BlockedSyscalls(pid_t pid) {
  std::multiset<long> numbers;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return numbers;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    FILE* file = fopen(absl::StrCat(tasks, "/", entry->d_name, "/syscall").c_str(), "re");
    if (file == nullptr) continue;
    long number = 0;
    if (fscanf(file, "%ld", &number) == 1) numbers.insert(number);
    fclose(file);
  }
  closedir(dir);
  return numbers;
}

// Runs the threads module (ending with `how`: "exit" or "nacl_exit"): checks that a thread doing
// I/O is served while two others stay blocked in imc_accept and imc_recvmsg, and that exiting with
// those calls blocked ends sel_ldr promptly with the module's status, closing everything it held:
// the -w pipe, the -i channel and the -X service socket.
void ExitWithCallsBlocked(const std::string& how) {
  constexpr int kBootstrap = 10;
  constexpr int kChannel = 11;
  constexpr int kPipe = 12;
  auto bootstrap = MakeImcSocketPair();
  auto channel = MakeImcSocketPair();
  ASSERT_TRUE(bootstrap.ok() && channel.ok());
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  base::UniqueFd pipe_read(pipe_fds[0]);
  base::UniqueFd pipe_write(pipe_fds[1]);

  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
      SelLdrProcess::Start({{"-X", std::to_string(kBootstrap), "-i", absl::StrCat("6:", kChannel),
                             "-w", absl::StrCat("5:", kPipe)},
                            ModulePath("threads"),
                            {how},
                            {{kBootstrap, bootstrap->second.get()},
                             {kChannel, channel->second.get()},
                             {kPipe, pipe_write.get()}},
                            /*pipe_stdin=*/true});
  ASSERT_TRUE(process.ok()) << process.status();
  SelLdrProcess& sel_ldr = **process;
  bootstrap->second.reset();
  channel->second.reset();
  pipe_write.reset();
  absl::StatusOr<imc::SocketAddress> address = ReceiveServiceAddress(std::move(bootstrap->first));
  ASSERT_TRUE(address.ok()) << address.status();
  absl::StatusOr<imc::ConnectedSocket> channel_end =
      imc::ConnectedSocket::FromHostSocket(std::move(channel->first));
  ASSERT_TRUE(channel_end.ok()) << channel_end.status();

  absl::StatusOr<std::string> pid_line = sel_ldr.ReadLine();
  ASSERT_TRUE(pid_line.ok()) << pid_line.status();
  absl::string_view pid_text = *pid_line;
  int module_pid = 0;
  ASSERT_TRUE(absl::ConsumePrefix(&pid_text, "pid ") && absl::SimpleAtoi(pid_text, &module_pid))
      << *pid_line;

  // A bounded wait until the three threads are blocked in the loader: in imc_accept,
  // imc_recvmsg and read.
  const std::multiset<long> expected = {NACL_ABI_SYSCALL_BASE + NACL_sys_imc_accept,
                                        NACL_ABI_SYSCALL_BASE + NACL_sys_imc_recvmsg, 0};
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::multiset<long> blocked;
  while (absl::Now() < deadline) {
    blocked = BlockedSyscalls(module_pid);
    if (std::includes(blocked.begin(), blocked.end(), expected.begin(), expected.end())) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_THAT(blocked, IsSupersetOf(expected));

  ASSERT_TRUE(sel_ldr.WriteStdin("go\n").ok());
  const absl::Time go = absl::Now();
  absl::StatusOr<SelLdrResult> result = sel_ldr.Wait();
  const absl::Duration exit_latency = absl::Now() - go;
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited) << result->Describe();
  EXPECT_EQ(result->exit_status, 7) << result->Describe();
  EXPECT_LT(exit_latency, absl::Seconds(5));
  EXPECT_THAT(Lines(result->out), ElementsAre("io: read 'go'", "io: done",
                                              "exiting with imc_accept and imc_recvmsg blocked"));
  EXPECT_EQ(result->err, "");

  // sel_ldr is gone and held nothing more: the pipe has the I/O thread's line, then end of
  // file at once; the -i channel's peer is closed; the service socket refuses connections.
  char buffer[64] = {};
  pollfd readable = {pipe_read.get(), POLLIN, 0};
  ASSERT_EQ(poll(&readable, 1, 0), 1);
  EXPECT_EQ(read(pipe_read.get(), buffer, sizeof(buffer) - 1), 26);
  EXPECT_STREQ(buffer, "io: wrote to descriptor 5\n");
  EXPECT_EQ(read(pipe_read.get(), buffer, sizeof(buffer)), 0);
  imc::WaitOptions now;
  now.nonblocking = true;
  absl::StatusOr<imc::ReceivedMessage> received = channel_end->Receive({}, 0, now);
  EXPECT_EQ(base::ErrnoOf(received.status()), EPIPE) << received.status();
  imc::ConnectOptions connect;
  connect.wait_for_accept = true;
  connect.wait.deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<imc::ConnectedSocket> connection = address->Connect(connect);
  EXPECT_EQ(base::ErrnoOf(connection.status()), ECONNREFUSED) << connection.status();
}

class ThreadsTest : public ::testing::TestWithParam<const char*> {};

// Test that a thread doing I/O is served while two others stay blocked in imc_accept and
// imc_recvmsg, and that exiting (by libc's exit or the NaCl exit call) with those calls
// blocked ends sel_ldr promptly with the module's status, closes everything it held, and
// leaves this process its own fds.
TEST_P(ThreadsTest, ExitWithCallsBlockedEndsCleanly) {
  const int fds_before = base::CountOpenFds();
  ExitWithCallsBlocked(GetParam());
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
}

INSTANTIATE_TEST_SUITE_P(LibcOrNaclExit, ThreadsTest, ::testing::Values("exit", "nacl_exit"));

// Test that a module whose main thread exited (pthread_exit) while another thread runs still
// has its memory read and written by the loader: an IMC message to itself and back arrives.
TEST(MainThreadExitsTest, OtherThreadsAreStillServed) {
  SelLdrCommand command;
  command.module = ModulePath("main_thread_exits");
  absl::StatusOr<SelLdrResult> result = RunSelLdr(command);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_status, 0) << result->Describe();
  EXPECT_EQ(result->out, "round trip: hello\n") << result->Describe();
}

}  // namespace
}  // namespace tests
