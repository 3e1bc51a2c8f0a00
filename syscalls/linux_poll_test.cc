// poll, ppoll, select and pselect6 through the Linux dispatch table with a simulated module:
// readiness of each descriptor type, timeouts, the loader's nonblocking first attempt, and
// waits ended by another thread's send or close.
#include "syscalls/linux_poll.h"

#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "imc/message_socket.h"
#include "imc/wire_format.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/module_test_base.h"
#include "syscalls/syscall_table.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

int64_t Linux(TestModule& module, uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0,
              uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0) {
  return SyscallTable::LinuxDescriptorCalls().Dispatch(module.Context(), number,
                                                       SyscallArgs{{a0, a1, a2, a3, a4, a5}});
}

class LinuxPollTest : public ModuleTestBase {
 protected:
  // poll of `fds` in A with `timeout_ms`; the results are written back into `fds`.
  int64_t Poll(std::vector<pollfd>* fds, int timeout_ms, bool attempt = false) {
    uint64_t address = a().Put(fds->data(), fds->size() * sizeof(pollfd));
    CallContext context = a().Context();
    context.nonblocking_attempt = attempt;
    int64_t result = SyscallTable::LinuxDescriptorCalls().Dispatch(
        context, SYS_poll,
        SyscallArgs{{address, fds->size(), static_cast<uint64_t>(timeout_ms), 0, 0, 0}});
    a().memory().Read(address, fds->data(), fds->size() * sizeof(pollfd));
    return result;
  }

  std::pair<int, int> Pipe() {
    uint64_t out = a().Allocate(8);
    EXPECT_EQ(Linux(a(), SYS_pipe, out), 0);
    int ends[2];
    a().memory().Read(out, ends, sizeof(ends));
    return {ends[0], ends[1]};
  }

  int64_t Write(int d, const std::string& bytes) {
    return Linux(a(), SYS_write, static_cast<uint64_t>(d), a().PutString(bytes), bytes.size());
  }
};

// Test that a DataOnlySocket is writable, readable only once a message is queued, and that a
// poll with timeout 0 of nothing ready returns 0.
TEST_F(LinuxPollTest, DataOnlySocketReadiness) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(pair.result, 0);
  std::vector<pollfd> fds = {{pair.first, POLLIN, 0}};
  EXPECT_EQ(Poll(&fds, 0), 0);
  EXPECT_EQ(fds[0].revents, 0);
  fds = {{pair.first, POLLIN | POLLOUT, 0}};
  EXPECT_EQ(Poll(&fds, 0), 1);
  EXPECT_EQ(fds[0].revents, POLLOUT);
  ASSERT_EQ(a().SendMsg(pair.second, "hi"), 2);
  fds = {{pair.first, POLLIN, 0}, {-1, POLLIN, 0}, {1000, POLLIN, 0}};
  EXPECT_EQ(Poll(&fds, 0), 2);
  EXPECT_EQ(fds[0].revents, POLLIN);
  EXPECT_EQ(fds[1].revents, 0);
  EXPECT_EQ(fds[2].revents, POLLNVAL);
  a().table().CloseAll();
}

// Test that a pipe's read end reports POLLHUP once the write end is closed (end of file), and
// a BoundSocket POLLIN once a connection request is queued.
TEST_F(LinuxPollTest, EndOfFileAndConnectionRequests) {
  auto [r, w] = Pipe();
  ASSERT_EQ(Linux(a(), SYS_close, w), 0);
  std::vector<pollfd> fds = {{r, POLLIN, 0}};
  EXPECT_EQ(Poll(&fds, 0), 1);
  EXPECT_NE(fds[0].revents & POLLHUP, 0);
  TestModule::Pair bound = a().MakeBoundSocket();
  fds = {{bound.first, POLLIN | POLLOUT, 0}};
  EXPECT_EQ(Poll(&fds, 0), 0);
  const int64_t connected = a().Call(NACL_sys_imc_connect, bound.second);
  ASSERT_GE(connected, 0);
  EXPECT_EQ(Poll(&fds, 0), 1);
  EXPECT_EQ(fds[0].revents, POLLIN);
  a().table().CloseAll();
}

// Test that an IMC socket with only an acceptance acknowledgement queued is not readable for
// the module (imc_recvmsg would skip it and wait), and is once the peer closes.
TEST_F(LinuxPollTest, AcknowledgementAloneIsNotReadable) {
  int host[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, host), 0);
  base::UniqueFd peer(host[1]);
  auto socket = imc::ConnectedSocket::FromHostSocket(base::UniqueFd(host[0]));
  ASSERT_TRUE(socket.ok());
  const int d =
      a().table().Install(std::make_shared<ConnectedSocketDescriptor>(*std::move(socket)));
  imc::WireHeader ack = imc::MakeWireHeader(imc::PacketKind::kAcceptAck, 0, {});
  ASSERT_EQ(send(peer.get(), &ack, sizeof(ack), 0), static_cast<ssize_t>(sizeof(ack)));
  std::vector<pollfd> fds = {{d, POLLIN, 0}};
  EXPECT_EQ(Poll(&fds, 0), 0);
  // A blocking poll does not spin on it either: it times out.
  EXPECT_EQ(Poll(&fds, 50), 0);
  // The peer's close after it: readable (imc_recvmsg skips the acknowledgement and reports
  // the close).
  peer.reset();
  EXPECT_EQ(Poll(&fds, 0), 1);
  EXPECT_NE(fds[0].revents & POLLIN, 0);
  EXPECT_EQ(a().RecvMsg(d).result, -NACL_ABI_EIO);
  a().table().CloseAll();
}

// Test that on the loader's nonblocking first attempt a poll that would wait answers
// kWouldBlock and writes nothing, so that the loader moves it off the receiving thread.
TEST_F(LinuxPollTest, WouldWaitIsWouldBlockOnTheFirstAttempt) {
  TestModule::Pair pair = a().SocketPair();
  std::vector<pollfd> fds = {{pair.first, POLLIN, 0x5a}};
  EXPECT_EQ(Poll(&fds, 1000, /*attempt=*/true), kWouldBlock);
  EXPECT_EQ(fds[0].revents, 0x5a);
  ASSERT_EQ(a().SendMsg(pair.second, "x"), 1);
  EXPECT_EQ(Poll(&fds, 1000, /*attempt=*/true), 1);
  EXPECT_EQ(fds[0].revents, POLLIN);
  a().table().CloseAll();
}

// Test that a poll blocked in one thread ends when another thread writes to the pipe it
// waits on, while the other thread's calls go on meanwhile, and that a timeout ends a wait.
TEST_F(LinuxPollTest, BlockedPollWakesOnWrite) {
  auto [r, w] = Pipe();
  std::vector<pollfd> timed = {{r, POLLIN, 0}};
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Poll(&timed, 100), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  std::atomic<int64_t> result{-1};
  std::vector<pollfd> fds = {{r, POLLIN, 0}};
  std::atomic<pid_t> tid{0};
  std::thread poller([&] {
    tid = gettid();
    result = Poll(&fds, -1);
  });
  while (tid.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(WaitUntilBlockedInPoll(tid.load()));
  EXPECT_EQ(Write(w, "go"), 2);
  poller.join();
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(fds[0].revents, POLLIN);
  a().table().CloseAll();
}

// Test that closing a descriptor that another thread's poll waits on ends the poll at once,
// with POLLNVAL for it (Linux would go on waiting; see linux_poll.h), and that the thread's
// next wait is not cut short by that close.
TEST_F(LinuxPollTest, CloseEndsAPoll) {
  TestModule::Pair pair = a().SocketPair();
  TestModule::Pair quiet = a().SocketPair();
  std::atomic<int64_t> result{-1};
  std::atomic<int64_t> after{-1};
  std::vector<pollfd> fds = {{pair.first, POLLIN, 0}};
  std::atomic<pid_t> tid{0};
  std::thread poller([&] {
    tid = gettid();
    result = Poll(&fds, -1);
    std::vector<pollfd> again = {{quiet.first, POLLIN, 0}};
    after = Poll(&again, 50);
  });
  while (tid.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(WaitUntilBlockedInPoll(tid.load()));
  EXPECT_EQ(Linux(a(), SYS_close, pair.first), 0);
  poller.join();
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(fds[0].revents, POLLNVAL);
  EXPECT_EQ(after.load(), 0);
  a().table().CloseAll();
}

// Test that select reports a readable pipe and a writable one in their sets, writes the time
// left back, and answers EBADF for a descriptor that is not open.
TEST_F(LinuxPollTest, Select) {
  auto [r, w] = Pipe();
  ASSERT_EQ(Write(w, "x"), 1);
  fd_set in, out;
  FD_ZERO(&in);
  FD_ZERO(&out);
  FD_SET(r, &in);
  FD_SET(w, &in);
  FD_SET(w, &out);
  uint64_t in_address = a().PutValue(in);
  uint64_t out_address = a().PutValue(out);
  timeval tv = {5, 0};
  uint64_t tv_address = a().PutValue(tv);
  const int nfds = std::max(r, w) + 1;
  EXPECT_EQ(Linux(a(), SYS_select, nfds, in_address, out_address, 0, tv_address), 2);
  in = a().GetValue<fd_set>(in_address);
  out = a().GetValue<fd_set>(out_address);
  EXPECT_TRUE(FD_ISSET(r, &in));
  EXPECT_FALSE(FD_ISSET(w, &in));
  EXPECT_TRUE(FD_ISSET(w, &out));
  tv = a().GetValue<timeval>(tv_address);
  EXPECT_GT(tv.tv_sec, 3);
  FD_ZERO(&in);
  FD_SET(nfds + 5, &in);
  in_address = a().PutValue(in);
  EXPECT_EQ(Linux(a(), SYS_select, nfds + 6, in_address, 0, 0, 0), -EBADF);
  // pselect6 with a wrong sigset size is EINVAL.
  timespec ts = {0, 0};
  uint64_t sigset = a().PutValue(uint64_t{0});
  uint64_t mask_arg[2] = {sigset, 4};
  EXPECT_EQ(Linux(a(), SYS_pselect6, 0, 0, 0, 0, a().PutValue(ts), a().Put(mask_arg, 16)), -EINVAL);
  a().table().CloseAll();
}

// Test that ppoll takes a timespec timeout and checks its signal mask size.
TEST_F(LinuxPollTest, Ppoll) {
  TestModule::Pair pair = a().SocketPair();
  pollfd fd = {pair.first, POLLIN, 0};
  uint64_t fds = a().PutValue(fd);
  timespec ts = {0, 20 * 1000 * 1000};
  uint64_t ts_address = a().PutValue(ts);
  EXPECT_EQ(Linux(a(), SYS_ppoll, fds, 1, ts_address, 0, 0), 0);
  timespec bad = {0, 2000000000};
  EXPECT_EQ(Linux(a(), SYS_ppoll, fds, 1, a().PutValue(bad), 0, 0), -EINVAL);
  EXPECT_EQ(Linux(a(), SYS_ppoll, fds, 1, ts_address, a().PutValue(uint64_t{0}), 16), -EINVAL);
  EXPECT_EQ(Linux(a(), SYS_ppoll, TestModule::kUnmapped, 1, ts_address, 0, 0), -EFAULT);
  a().table().CloseAll();
}

}  // namespace
}  // namespace syscalls
