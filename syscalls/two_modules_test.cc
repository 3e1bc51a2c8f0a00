// Two simulated modules in one process, each with its own descriptor table and memory,
// talking IMC through the dispatch table. Descriptors move between them only inside IMC
// messages, as between real modules; the one exception is the bootstrap channel, which the
// test installs in both tables the way the loader's `-i d:D` does.
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/module_test_base.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

using ::testing::Each;
using ::testing::Eq;
using ::testing::SizeIs;

constexpr uint64_t U(int64_t value) { return static_cast<uint64_t>(value); }

class TwoModulesTest : public ModuleTestBase {
 protected:
  void SetUp() override {
    ModuleTestBase::SetUp();
    ASSERT_TRUE(TestModule::Link(a(), b(), &a_channel_, &b_channel_));
  }

  // A's end and B's end of the bootstrap channel (ConnectedSockets).
  int a_channel() const { return a_channel_; }
  int b_channel() const { return b_channel_; }

  // Sends A's descriptor `d` to B over the channel; returns B's new number for it, or the
  // error.
  int64_t SendToB(int d) {
    int64_t sent = a().SendMsg(a_channel(), "descriptor", {d});
    if (sent < 0) return sent;
    TestModule::Received received = b().RecvMsg(b_channel());
    if (received.result < 0) return received.result;
    if (received.descv.size() != 1) return -NACL_ABI_EIO;
    return received.descv[0];
  }

 private:
  int a_channel_ = -1;
  int b_channel_ = -1;
};

// Test that NaCl's classic IMC sequence works across two modules: A makes a bound socket and sends
// its address to B in a message; B connects with it while A accepts on a thread; messages flow both
// ways; a data-only pair made by A carries bytes both ways once one end is sent to B; BoundSocket
// and ConnectedSocket may not travel (EIO); 8 invalid descriptors travel and arrive as -1, 9 are
// EINVAL.
TEST_F(TwoModulesTest, ClassicSequence) {
  // A: makeboundsock.
  TestModule::Pair bound = a().MakeBoundSocket();
  ASSERT_EQ(bound.result, 0);
  ASSERT_EQ(a().StatMode(bound.first) & NACL_ABI_S_IFMT, NACL_ABI_S_IFBOUNDSOCK);

  // A -> B: the SocketAddress, in a message. B's table gets its own descriptor for it.
  ASSERT_EQ(a().SendMsg(a_channel(), "my address", {bound.second}), 10);
  TestModule::Received address_message = b().RecvMsg(b_channel());
  ASSERT_EQ(address_message.result, 10);
  EXPECT_EQ(address_message.bytes, "my address");
  ASSERT_THAT(address_message.descv, SizeIs(1));
  const int b_address = address_message.descv[0];
  EXPECT_EQ(b().StatMode(b_address) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSOCKADDR);
  EXPECT_EQ(b().table().OpenCount(), 2u);  // The channel and the address.

  // A accepts on a thread while B connects with the address it received.
  std::atomic<int64_t> accepted{-1};
  std::thread acceptor([&] { accepted = a().Call(NACL_sys_imc_accept, U(bound.first)); });
  const int64_t b_connection = b().Call(NACL_sys_imc_connect, U(b_address));
  acceptor.join();
  ASSERT_GE(b_connection, 0);
  ASSERT_GE(accepted.load(), 0);
  const int a_connection = static_cast<int>(accepted.load());
  EXPECT_EQ(a().StatMode(a_connection) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSOCK);
  EXPECT_EQ(b().StatMode(static_cast<int>(b_connection)) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSOCK);

  // Messages both ways over the new connection.
  ASSERT_EQ(a().SendMsg(a_connection, "hello from A"), 12);
  EXPECT_EQ(b().RecvMsg(static_cast<int>(b_connection)).bytes, "hello from A");
  ASSERT_EQ(b().SendMsg(static_cast<int>(b_connection), "hello from B"), 12);
  EXPECT_EQ(a().RecvMsg(a_connection).bytes, "hello from B");

  // A data-only pair: A keeps one end and sends the other to B; bytes flow both ways.
  TestModule::Pair data_only = a().SocketPair();
  ASSERT_EQ(data_only.result, 0);
  ASSERT_EQ(a().SendMsg(a_connection, "data-only end", {data_only.second}), 13);
  TestModule::Received data_only_message = b().RecvMsg(static_cast<int>(b_connection));
  ASSERT_THAT(data_only_message.descv, SizeIs(1));
  const int b_data_only = data_only_message.descv[0];
  EXPECT_EQ(b().StatMode(b_data_only) & NACL_ABI_S_IFMT, NACL_ABI_S_IFDSOCK);
  ASSERT_EQ(a().Call(NACL_sys_close, U(data_only.second)), 0);  // B's copy remains.
  ASSERT_EQ(a().SendMsg(data_only.first, "A to B, data only"), 17);
  EXPECT_EQ(b().RecvMsg(b_data_only).bytes, "A to B, data only");
  ASSERT_EQ(b().SendMsg(b_data_only, "B to A, data only"), 17);
  EXPECT_EQ(a().RecvMsg(data_only.first).bytes, "B to A, data only");

  // BoundSocket and ConnectedSocket are refused, and nothing reaches B.
  EXPECT_EQ(a().SendMsg(a_connection, "bound", {bound.first}), -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(a_connection, "connected", {a_connection}), -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(a_connection, "channel", {a_channel()}), -NACL_ABI_EIO);
  EXPECT_EQ(b().RecvMsg(static_cast<int>(b_connection), 64, 8, NACL_ABI_IMC_NONBLOCK).result,
            -NACL_ABI_EAGAIN);

  // 8 invalid descriptors travel and arrive as -1; 9 are refused.
  const std::vector<int> eight(NACL_ABI_IMC_DESC_MAX, -1);
  ASSERT_EQ(a().SendMsg(a_connection, "eight", eight), 5);
  TestModule::Received invalid = b().RecvMsg(static_cast<int>(b_connection));
  EXPECT_EQ(invalid.bytes, "eight");
  EXPECT_EQ(invalid.desc_length, 8u);
  EXPECT_THAT(invalid.descv, SizeIs(8));
  EXPECT_THAT(invalid.descv, Each(Eq(-1)));
  EXPECT_EQ(invalid.flags, 0);
  const std::vector<int> nine(NACL_ABI_IMC_DESC_MAX + 1, -1);
  EXPECT_EQ(a().SendMsg(a_connection, "nine", nine), -NACL_ABI_EINVAL);

  // B's table holds only what came in messages or from its own calls.
  EXPECT_EQ(b().table().OpenCount(), 4u);  // Channel, address, connection, data-only end.
}

// Test that a SocketAddress that B received lets B connect while A's copy is closed: the
// capability lives in B's table now.
TEST_F(TwoModulesTest, ReceivedAddressOutlivesSendersCopy) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int64_t b_address = SendToB(bound.second);
  ASSERT_GE(b_address, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.second)), 0);
  const int64_t b_connection = b().Call(NACL_sys_imc_connect, U(b_address));
  ASSERT_GE(b_connection, 0);
  const int64_t a_connection = a().Call(NACL_sys_imc_accept, U(bound.first));
  ASSERT_GE(a_connection, 0);
  ASSERT_EQ(b().SendMsg(static_cast<int>(b_connection), "still here"), 10);
  EXPECT_EQ(a().RecvMsg(static_cast<int>(a_connection)).bytes, "still here");
}

// Test that imc_accept is EIO once every copy of the SocketAddress is closed, including the
// copy sent to the other module and closed there.
TEST_F(TwoModulesTest, AcceptAfterAddressClosedInOtherModuleIsEio) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int64_t b_address = SendToB(bound.second);
  ASSERT_GE(b_address, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.second)), 0);
  ASSERT_EQ(b().Call(NACL_sys_close, U(b_address)), 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_accept, U(bound.first)), -NACL_ABI_EIO);
}

// Test that a SocketAddress in flight (in a message not yet read) keeps accept waiting, and
// that dropping the unread message (its receiver closes the channel) ends the accept with
// EIO.
TEST_F(TwoModulesTest, AcceptAfterInFlightAddressDroppedIsEio) {
  TestModule::Pair bound = a().MakeBoundSocket();
  ASSERT_EQ(a().SendMsg(a_channel(), "unread", {bound.second}), 6);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.second)), 0);

  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  int64_t accepted = 0;
  std::thread acceptor([&] {
    tid = gettid();
    accepted = a().Call(NACL_sys_imc_accept, U(bound.first));
    done = true;
  });
  while (tid.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(WaitUntilBlockedInPoll(tid.load()));
  EXPECT_FALSE(done.load());  // The copy in flight still names the bound socket.

  ASSERT_EQ(b().Call(NACL_sys_close, U(b_channel())), 0);  // Drops the unread message.
  acceptor.join();
  EXPECT_EQ(accepted, -NACL_ABI_EIO);
}

// Test that imc_connect from B is EIO once A closed every copy of its BoundSocket.
TEST_F(TwoModulesTest, ConnectAfterBoundSocketClosedInOtherModuleIsEio) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int64_t b_address = SendToB(bound.second);
  ASSERT_GE(b_address, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.first)), 0);
  EXPECT_EQ(b().Call(NACL_sys_imc_connect, U(b_address)), -NACL_ABI_EIO);
}

// Test that shared memory sent to the other module arrives as SharedMemory of the same size.
TEST_F(TwoModulesTest, SharedMemoryKeepsTypeAndSize) {
  const int64_t shm = a().Call(NACL_sys_imc_mem_obj_create, 4 * NACL_ABI_MAP_PAGESIZE);
  ASSERT_GE(shm, 0);
  const int64_t b_shm = SendToB(static_cast<int>(shm));
  ASSERT_GE(b_shm, 0);
  const uint64_t st = b().Allocate(sizeof(nacl_abi_stat));
  ASSERT_EQ(b().Call(NACL_sys_fstat, U(b_shm), st), 0);
  nacl_abi_stat stat = b().GetValue<nacl_abi_stat>(st);
  EXPECT_EQ(stat.nacl_abi_st_mode & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  EXPECT_EQ(stat.nacl_abi_st_size, 4 * NACL_ABI_MAP_PAGESIZE);
}

// Test that module addresses are each module's own: a header valid in A's memory is EFAULT
// in B's.
TEST_F(TwoModulesTest, AddressesAreEachModulesOwn) {
  const uint64_t data = a().PutString("A's bytes");
  const uint64_t header = a().PutHeader(a().PutValue(TestModule::Iovec(data, 9)), 1, 0, 0);
  EXPECT_EQ(b().Call(NACL_sys_imc_sendmsg, U(b_channel()), header, 0), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(a_channel()), header, 0), 9);
  EXPECT_EQ(b().RecvMsg(b_channel()).bytes, "A's bytes");
}

// Test that when B closes its end of a connection, A's receive is EIO and A's send is EIO.
TEST_F(TwoModulesTest, PeerModuleClosingIsEio) {
  ASSERT_EQ(b().SendMsg(b_channel(), "last words"), 10);
  ASSERT_EQ(b().Call(NACL_sys_close, U(b_channel())), 0);
  EXPECT_EQ(a().RecvMsg(a_channel()).bytes, "last words");
  EXPECT_EQ(a().RecvMsg(a_channel()).result, -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(a_channel(), "anyone?"), -NACL_ABI_EIO);
}

}  // namespace
}  // namespace syscalls
