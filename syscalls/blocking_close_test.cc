// Calls blocked in the syscall layer, and descriptors closed under them from other module
// threads. Every calling thread has its own imc::Cancellation in its CallContext (TestModule
// makes one per thread), as the loader gives each module thread.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "imc/cancellation.h"
#include "syscalls/module_test_base.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

constexpr uint64_t U(int64_t value) { return static_cast<uint64_t>(value); }

// One call of `module` on its own thread, observable while it blocks. If the test ends
// with the call still blocked, its thread's cancellation ends it, so that a failing test
// does not hang.
class BlockedCall {
 public:
  BlockedCall(TestModule& module, std::function<int64_t()> call)
      : thread_([this, &module, call = std::move(call)] {
          cancellation_ = module.ThreadCancellation();
          tid_ = gettid();
          result_ = call();
          done_ = true;
        }) {}
  BlockedCall(const BlockedCall&) = delete;
  BlockedCall& operator=(const BlockedCall&) = delete;
  ~BlockedCall() {
    if (!thread_.joinable()) return;
    while (tid_.load() == 0) std::this_thread::yield();
    if (!done_.load() && cancellation_.load() != nullptr) cancellation_.load()->Cancel();
    thread_.join();
  }

  // Waits until the call sleeps in poll, as a blocked imc call does; false on timeout.
  bool WaitUntilBlocked() {
    while (tid_.load() == 0) std::this_thread::yield();
    return WaitUntilBlockedInPoll(tid_.load());
  }
  // True if the call is still blocked after `ms` more milliseconds.
  bool StillBlockedAfter(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return !done_.load() && IsBlockedInPoll(tid_.load());
  }
  // Waits for the call to end; returns its result. A call still blocked after 3 seconds is a
  // test failure; it is then ended through its thread's cancellation so the test can go on.
  int64_t Join() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!done_.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!done_.load()) {
      ADD_FAILURE() << "the call did not end within 3 seconds";
      if (cancellation_.load() != nullptr) cancellation_.load()->Cancel();
    }
    thread_.join();
    return result_;
  }

 private:
  std::atomic<const imc::Cancellation*> cancellation_{nullptr};
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  int64_t result_ = 0;
  std::thread thread_;
};

class BlockingCloseTest : public ModuleTestBase {
 protected:
  // A message header in A's memory for receiving up to 64 bytes and 8 descriptors. Each
  // concurrent receiver needs its own.
  uint64_t ReceiveHeader() {
    const uint64_t data = a().Allocate(64);
    const uint64_t descv = a().Allocate(NACL_ABI_IMC_DESC_MAX * sizeof(int));
    return a().PutHeader(a().PutValue(TestModule::Iovec(data, 64)), 1, descv,
                         NACL_ABI_IMC_DESC_MAX);
  }
};

// Test that closing a BoundSocket from another thread ends a blocked imc_accept with EBADF.
TEST_F(BlockingCloseTest, CloseWakesBlockedAccept) {
  TestModule::Pair bound = a().MakeBoundSocket();
  BlockedCall accept(a(), [&] { return a().Call(NACL_sys_imc_accept, U(bound.first)); });
  ASSERT_TRUE(accept.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.first)), 0);
  EXPECT_EQ(accept.Join(), -NACL_ABI_EBADF);
  // The address is still open; the bound socket is gone, so connecting is EIO.
  EXPECT_EQ(a().Call(NACL_sys_imc_connect, U(bound.second)), -NACL_ABI_EIO);
}

// Test that closing a socket from another thread ends a blocked imc_recvmsg with EBADF, for
// both kinds of message socket.
TEST_F(BlockingCloseTest, CloseWakesBlockedRecvmsg) {
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  for (int d : {data_only.second, connected.second}) {
    SCOPED_TRACE(d);
    const uint64_t header = ReceiveHeader();
    BlockedCall receive(a(), [&] { return a().Call(NACL_sys_imc_recvmsg, U(d), header, 0); });
    ASSERT_TRUE(receive.WaitUntilBlocked());
    ASSERT_EQ(a().Call(NACL_sys_close, U(d)), 0);
    EXPECT_EQ(receive.Join(), -NACL_ABI_EBADF);
  }
}

// Test that closing a socket ends an imc_sendmsg blocked on a full socket with EBADF.
TEST_F(BlockingCloseTest, CloseWakesSendmsgBlockedOnFullSocket) {
  TestModule::Pair pair = a().SocketPair();
  const std::string big(NACL_ABI_IMC_USER_BYTES_MAX, 'x');
  while (a().SendMsg(pair.first, big, {}, NACL_ABI_IMC_NONBLOCK) > 0) {
  }
  BlockedCall send(a(), [&] { return a().SendMsg(pair.first, big); });
  ASSERT_TRUE(send.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_close, U(pair.first)), 0);
  EXPECT_EQ(send.Join(), -NACL_ABI_EBADF);
}

// Test that dup2 over the slot a call is blocked on ends it with EBADF: the descriptor lost
// its last slot.
TEST_F(BlockingCloseTest, Dup2OverSlotWakesBlockedCall) {
  TestModule::Pair pair = a().SocketPair();
  const int64_t shm = a().Call(NACL_sys_imc_mem_obj_create, NACL_ABI_MAP_PAGESIZE);
  ASSERT_GE(shm, 0);
  const uint64_t header = ReceiveHeader();
  BlockedCall receive(a(),
                      [&] { return a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0); });
  ASSERT_TRUE(receive.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_dup2, U(shm), U(pair.second)), pair.second);
  EXPECT_EQ(receive.Join(), -NACL_ABI_EBADF);
}

// Test that closing one of two slots naming the descriptor does not wake the blocked call,
// which then completes normally.
TEST_F(BlockingCloseTest, ClosingOneOfTwoSlotsDoesNotWake) {
  TestModule::Pair pair = a().SocketPair();
  const int64_t copy = a().Call(NACL_sys_dup, U(pair.second));
  ASSERT_GE(copy, 0);
  const uint64_t header = ReceiveHeader();
  BlockedCall receive(a(),
                      [&] { return a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0); });
  ASSERT_TRUE(receive.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_close, U(pair.second)), 0);  // The slot the call used.
  EXPECT_TRUE(receive.StillBlockedAfter(100));
  ASSERT_EQ(a().SendMsg(pair.first, "arrived"), 7);
  EXPECT_EQ(receive.Join(), 7);
}

// Test that closing one of two slots of a BoundSocket does not wake a blocked accept, which
// then takes the next connection.
TEST_F(BlockingCloseTest, ClosingOneOfTwoBoundSocketSlotsDoesNotWakeAccept) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int64_t copy = a().Call(NACL_sys_dup, U(bound.first));
  ASSERT_GE(copy, 0);
  BlockedCall accept(a(), [&] { return a().Call(NACL_sys_imc_accept, U(bound.first)); });
  ASSERT_TRUE(accept.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_close, U(copy)), 0);
  EXPECT_TRUE(accept.StillBlockedAfter(100));
  ASSERT_GE(a().Call(NACL_sys_imc_connect, U(bound.second)), 0);
  EXPECT_GE(accept.Join(), 0);
}

// Test that a thread whose blocked call was ended by a close can block again, and that call
// completes normally: the close must not leave the thread's cancellation signalled.
TEST_F(BlockingCloseTest, ThreadBlocksAgainAfterCloseWokeIt) {
  TestModule::Pair closed = a().SocketPair();
  TestModule::Pair open = a().SocketPair();
  const uint64_t header = ReceiveHeader();
  std::atomic<int64_t> first{0};
  std::atomic<bool> first_done{false};
  BlockedCall calls(a(), [&] {
    first = a().Call(NACL_sys_imc_recvmsg, U(closed.second), header, 0);
    first_done = true;
    return a().Call(NACL_sys_imc_recvmsg, U(open.second), header, 0);
  });
  ASSERT_TRUE(calls.WaitUntilBlocked());
  ASSERT_EQ(a().Call(NACL_sys_close, U(closed.second)), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!first_done.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(first.load(), -NACL_ABI_EBADF);
  // The second call must now wait for its message, not end at once.
  EXPECT_TRUE(calls.StillBlockedAfter(50));
  ASSERT_EQ(a().SendMsg(open.first, "second"), 6);
  EXPECT_EQ(calls.Join(), 6);
}

// Test that cancelling a thread's signal (the thread died, or the module exits) ends its
// blocked call with EINTR, not EBADF: the descriptor is still open.
TEST_F(BlockingCloseTest, CancellingTheThreadEndsBlockedCallWithEintr) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t header = ReceiveHeader();
  std::atomic<const imc::Cancellation*> cancellation{nullptr};
  BlockedCall receive(a(), [&] {
    cancellation = a().ThreadCancellation();
    return a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0);
  });
  ASSERT_TRUE(receive.WaitUntilBlocked());
  ASSERT_NE(cancellation.load(), nullptr);
  cancellation.load()->Cancel();
  EXPECT_EQ(receive.Join(), -NACL_ABI_EINTR);
  EXPECT_EQ(a().SendMsg(pair.first, "still open"), 10);
}

// Test that closing the whole table (the module exits) ends every blocked call with EBADF.
TEST_F(BlockingCloseTest, CloseAllWakesEveryBlockedCall) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair pair = a().SocketPair();
  const uint64_t header1 = ReceiveHeader();
  const uint64_t header2 = ReceiveHeader();
  BlockedCall accept(a(), [&] { return a().Call(NACL_sys_imc_accept, U(bound.first)); });
  BlockedCall receive1(a(),
                       [&] { return a().Call(NACL_sys_imc_recvmsg, U(pair.first), header1, 0); });
  BlockedCall receive2(a(),
                       [&] { return a().Call(NACL_sys_imc_recvmsg, U(pair.second), header2, 0); });
  ASSERT_TRUE(accept.WaitUntilBlocked());
  ASSERT_TRUE(receive1.WaitUntilBlocked());
  ASSERT_TRUE(receive2.WaitUntilBlocked());
  a().table().CloseAll();
  EXPECT_EQ(accept.Join(), -NACL_ABI_EBADF);
  EXPECT_EQ(receive1.Join(), -NACL_ABI_EBADF);
  EXPECT_EQ(receive2.Join(), -NACL_ABI_EBADF);
  EXPECT_EQ(a().table().OpenCount(), 0u);
}

// Test that many threads doing dup, dup2, close, sendmsg and recvmsg on one table at once
// leave it consistent: every result is one the ABI allows, every message sent is received,
// and the table and host fds end as they began.
TEST_F(BlockingCloseTest, ConcurrentDupCloseSendmsgIsSafe) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(pair.result, 0);
  constexpr int kThreads = 4;
  constexpr int kIterations = 300;
  std::atomic<int> sent{0};
  std::atomic<int> unexpected{0};
  std::atomic<bool> senders_done{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const int spare = 1000 + t;
      for (int i = 0; i < kIterations; ++i) {
        const int64_t copy = a().Call(NACL_sys_dup, U(pair.first));
        if (copy < 0) {
          ++unexpected;
          continue;
        }
        const int64_t result = a().SendMsg(static_cast<int>(copy), "m", {}, NACL_ABI_IMC_NONBLOCK);
        if (result == 1) {
          ++sent;
        } else if (result != -NACL_ABI_EAGAIN) {
          ++unexpected;
        }
        if (a().Call(NACL_sys_dup2, U(copy), U(spare)) != spare) ++unexpected;
        if (a().Call(NACL_sys_close, U(copy)) != 0) ++unexpected;
        if (i % 2 == 1 && a().Call(NACL_sys_close, U(spare)) != 0) ++unexpected;
      }
    });
  }
  int received = 0;
  std::thread receiver([&] {
    for (;;) {
      TestModule::Received message = a().RecvMsg(pair.second, 8, 0, NACL_ABI_IMC_NONBLOCK);
      if (message.result == 1) {
        ++received;
      } else if (message.result == -NACL_ABI_EAGAIN) {
        if (senders_done.load() && received == sent.load()) return;
        std::this_thread::yield();
      } else {
        ++unexpected;
        return;
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  senders_done = true;
  receiver.join();

  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(sent.load(), 0);
  EXPECT_EQ(received, sent.load());
  EXPECT_EQ(a().table().OpenCount(), 2u);
}

// Test that closes racing with calls on the same descriptors never crash or deadlock: each
// call ends with its result or EBADF, whichever came first.
TEST_F(BlockingCloseTest, ClosesRacingWithCallsAreSafe) {
  constexpr int kRounds = 100;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    TestModule::Pair pair = a().SocketPair();
    TestModule::Pair bound = a().MakeBoundSocket();
    const uint64_t header = ReceiveHeader();
    BlockedCall receive(a(),
                        [&] { return a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0); });
    BlockedCall accept(a(), [&] { return a().Call(NACL_sys_imc_accept, U(bound.first)); });
    BlockedCall send(a(), [&] { return a().SendMsg(pair.first, "x"); });
    if (round % 2 == 0) std::this_thread::yield();
    ASSERT_EQ(a().Call(NACL_sys_close, U(bound.first)), 0);
    ASSERT_EQ(a().Call(NACL_sys_close, U(pair.second)), 0);
    const int64_t received = receive.Join();
    ASSERT_TRUE(received == -NACL_ABI_EBADF || received == 1) << received;
    ASSERT_EQ(accept.Join(), -NACL_ABI_EBADF);
    const int64_t sent = send.Join();
    ASSERT_TRUE(sent == 1 || sent == -NACL_ABI_EBADF || sent == -NACL_ABI_EIO) << sent;
    a().Free(header);
    ASSERT_EQ(a().Call(NACL_sys_close, U(pair.first)), 0);
    ASSERT_EQ(a().Call(NACL_sys_close, U(bound.second)), 0);
    if (HasFailure()) return;
  }
  EXPECT_EQ(a().table().OpenCount(), 0u);
}

}  // namespace
}  // namespace syscalls
