// The NaCl calls through the dispatch table, one module, in-process memory: one test per row
// of ABI.md's error table, then the descriptor calls' semantics.
#include "syscalls/handlers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/descriptor_types.h"
#include "syscalls/module_test_base.h"
#include "syscalls/nacl_abi.h"
#include "syscalls/syscall_table.h"
#include "syscalls/test_module.h"

namespace syscalls {
namespace {

using ::testing::ElementsAre;

constexpr uint64_t U(int64_t value) { return static_cast<uint64_t>(value); }

class HandlersTest : public ModuleTestBase {
 protected:
  int MemObj(uint64_t size = NACL_ABI_MAP_PAGESIZE) {
    return static_cast<int>(a().Call(NACL_sys_imc_mem_obj_create, size));
  }

  // A valid header with one iovec of `size` bytes and no descriptors.
  uint64_t SimpleHeader(size_t size) {
    uint64_t data = a().Allocate(size);
    uint64_t iov = a().PutValue(TestModule::Iovec(data, size));
    return a().PutHeader(iov, 1, 0, 0);
  }

  // Installs a HostIo descriptor for `fd`, as the loader's -h does.
  int InstallHostIo(base::UniqueFd fd) {
    HostIoDescriptor::Access access = HostIoDescriptor::AccessOf(fd.get());
    return a().table().Install(std::make_shared<HostIoDescriptor>(std::move(fd), access));
  }
};

// ---------------------------------------------------------------------------------------
// ABI.md's error table, row by row.

// Test that every call taking a descriptor answers EBADF for a number that is not open.
TEST_F(HandlersTest, NumberNotOpenIsEbadf) {
  const uint64_t header = SimpleHeader(8);
  const uint64_t buffer = a().Allocate(sizeof(nacl_abi_stat));
  for (int64_t d : {int64_t{3}, int64_t{-1}, int64_t{4095}, int64_t{4096}, int64_t{INT_MAX}}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(a().Call(NACL_sys_dup, U(d)), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_dup2, U(d), 7), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_close, U(d)), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_read, U(d), buffer, 8), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_write, U(d), buffer, 8), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_fstat, U(d), buffer), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_imc_accept, U(d)), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_imc_connect, U(d)), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(d), header, 0), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(d), header, 0), -NACL_ABI_EBADF);
    EXPECT_EQ(a().Call(NACL_sys_mmap, 0, NACL_ABI_MAP_PAGESIZE, NACL_ABI_PROT_READ,
                       NACL_ABI_MAP_SHARED, U(d), 0),
              -NACL_ABI_EBADF);
  }
}

// Test that imc_accept on anything but a BoundSocket is EINVAL.
TEST_F(HandlersTest, AcceptOnNonBoundSocketIsEinval) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  const int shm = MemObj();
  for (int d : {bound.second, data_only.first, connected.first, connected.second, shm}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(a().Call(NACL_sys_imc_accept, U(d)), -NACL_ABI_EINVAL);
  }
}

// Test that imc_connect on anything but a SocketAddress is EINVAL.
TEST_F(HandlersTest, ConnectOnNonSocketAddressIsEinval) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  const int shm = MemObj();
  for (int d : {bound.first, data_only.first, connected.first, shm}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(a().Call(NACL_sys_imc_connect, U(d)), -NACL_ABI_EINVAL);
  }
}

// Test that read and write on an IMC socket (or shared memory) are EINVAL.
TEST_F(HandlersTest, ReadWriteOnImcSocketIsEinval) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  const int shm = MemObj();
  const uint64_t buffer = a().PutString("12345678");
  for (int d : {bound.first, bound.second, data_only.first, connected.first, shm}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(a().Call(NACL_sys_read, U(d), buffer, 8), -NACL_ABI_EINVAL);
    EXPECT_EQ(a().Call(NACL_sys_write, U(d), buffer, 8), -NACL_ABI_EINVAL);
  }
}

// Test that imc_sendmsg on a descriptor that is not a socket (BoundSocket, SocketAddress,
// SharedMemory, HostIo) is EIO, as NaCl answers, with or without descriptors in the message,
// and sends nothing; imc_recvmsg on one stays EINVAL (NaCl passes that through).
TEST_F(HandlersTest, SendmsgOnNonSocketIsEioRecvmsgEinval) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair data_only = a().SocketPair();
  const int shm = MemObj();
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  base::UniqueFd host_reader(fds[0]);
  const int host_io = InstallHostIo(base::UniqueFd(fds[1]));
  const int fds_before = base::CountOpenFds();
  for (int d : {bound.first, bound.second, shm, host_io}) {
    SCOPED_TRACE(d);
    EXPECT_EQ(a().SendMsg(d, "x"), -NACL_ABI_EIO);
    EXPECT_EQ(a().SendMsg(d, "x", {}, NACL_ABI_IMC_NONBLOCK), -NACL_ABI_EIO);
    EXPECT_EQ(a().SendMsg(d, "x", {data_only.first}), -NACL_ABI_EIO);
    EXPECT_EQ(a().RecvMsg(d).result, -NACL_ABI_EINVAL);
  }
  EXPECT_EQ(base::CountOpenFds(), fds_before);
  // Nothing reached the HostIo descriptor's host fd.
  char byte;
  ASSERT_EQ(fcntl(host_reader.get(), F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(read(host_reader.get(), &byte, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// Test that imc_sendmsg with an unreadable header is EFAULT, wholly or partly outside memory.
TEST_F(HandlersTest, SendmsgUnreadableHeaderIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 8);
  for (uint64_t header : {TestModule::kUnmapped, straddling, uint64_t{0}, ~uint64_t{0}}) {
    EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first), header, 0), -NACL_ABI_EFAULT);
  }
}

// Test that imc_recvmsg with an unreadable header is EFAULT.
TEST_F(HandlersTest, RecvmsgUnreadableHeaderIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 8);
  for (uint64_t header : {TestModule::kUnmapped, straddling, uint64_t{0}, ~uint64_t{0}}) {
    EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, NACL_ABI_IMC_NONBLOCK),
              -NACL_ABI_EFAULT);
  }
}

// Test that imc_sendmsg with an unreadable iov array is EFAULT.
TEST_F(HandlersTest, SendmsgUnreadableIovArrayIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  // Two iovecs, of which only the first lies inside memory.
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 16);
  for (uint64_t iov : {TestModule::kUnmapped, straddling}) {
    uint64_t header = a().PutHeader(iov, 2, 0, 0);
    EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first), header, 0), -NACL_ABI_EFAULT);
  }
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 0, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that imc_recvmsg with an unreadable iov array is EFAULT.
TEST_F(HandlersTest, RecvmsgUnreadableIovArrayIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(a().SendMsg(pair.first, "kept"), 4);
  uint64_t header = a().PutHeader(TestModule::kUnmapped, 1, 0, 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, "kept");  // Not consumed.
}

// Test that imc_sendmsg with an unreadable iov buffer is EFAULT and sends nothing.
TEST_F(HandlersTest, SendmsgUnreadableIovBufferIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t good = a().PutString("good");
  const uint64_t end = a().memory().AddressOf(a().memory().size() - 2);
  for (uint64_t bad : {TestModule::kUnmapped, end}) {
    NaClAbiNaClImcMsgIoVec iov[2] = {TestModule::Iovec(good, 4), TestModule::Iovec(bad, 4)};
    uint64_t header = a().PutHeader(a().PutIovecs(iov), 2, 0, 0);
    EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first), header, 0), -NACL_ABI_EFAULT);
  }
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 0, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that imc_recvmsg with an unwritable iov buffer is EFAULT.
TEST_F(HandlersTest, RecvmsgUnwritableIovBufferIsEfault) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(a().SendMsg(pair.first, "message"), 7);
  uint64_t header =
      a().PutHeader(a().PutValue(TestModule::Iovec(TestModule::kUnmapped, 16)), 1, 0, 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0), -NACL_ABI_EFAULT);
}

// Test that imc_sendmsg with an unreadable descv is EFAULT and sends nothing.
TEST_F(HandlersTest, SendmsgUnreadableDescvIsEfault) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 4);
  for (uint64_t descv : {TestModule::kUnmapped, straddling}) {
    uint64_t header = a().PutHeader(0, 0, descv, 2);
    EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first), header, 0), -NACL_ABI_EFAULT);
  }
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that imc_recvmsg with an unwritable descv is EFAULT and leaves the message queued.
TEST_F(HandlersTest, RecvmsgUnwritableDescvIsEfault) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "kept", {MemObj()}), 4);
  uint64_t header = a().PutHeader(a().PutValue(TestModule::Iovec(a().Allocate(8), 8)), 1,
                                  TestModule::kUnmapped, 1);
  EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0), -NACL_ABI_EFAULT);
  TestModule::Received received = a().RecvMsg(pair.second);
  EXPECT_EQ(received.bytes, "kept");
  EXPECT_EQ(received.desc_length, 1u);
}

// Test that imc_sendmsg with iov_length 257 is EINVAL, and 256 iovecs are accepted.
TEST_F(HandlersTest, SendmsgIovLengthOverMaxIsEinval) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t byte = a().PutString("x");
  std::vector<NaClAbiNaClImcMsgIoVec> iov(NACL_ABI_IMC_IOVEC_MAX + 1, TestModule::Iovec(byte, 1));
  const uint64_t iov_address = a().PutIovecs(iov);
  EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first),
                     a().PutHeader(iov_address, NACL_ABI_IMC_IOVEC_MAX + 1, 0, 0), 0),
            -NACL_ABI_EINVAL);
  EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first),
                     a().PutHeader(iov_address, NACL_ABI_IMC_IOVEC_MAX, 0, 0), 0),
            NACL_ABI_IMC_IOVEC_MAX);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, std::string(NACL_ABI_IMC_IOVEC_MAX, 'x'));
}

// Test that imc_recvmsg with iov_length 257 is EINVAL and consumes nothing.
TEST_F(HandlersTest, RecvmsgIovLengthOverMaxIsEinval) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(a().SendMsg(pair.first, "kept"), 4);
  std::vector<NaClAbiNaClImcMsgIoVec> iov(NACL_ABI_IMC_IOVEC_MAX + 1,
                                          TestModule::Iovec(a().Allocate(1), 1));
  uint64_t header = a().PutHeader(a().PutIovecs(iov), NACL_ABI_IMC_IOVEC_MAX + 1, 0, 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0), -NACL_ABI_EINVAL);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, "kept");
}

// Test that imc_sendmsg with desc_length 9 is EINVAL (even of invalid descriptors).
TEST_F(HandlersTest, SendmsgDescLengthOverMaxIsEinval) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  std::vector<int> nine(NACL_ABI_IMC_DESC_MAX + 1, -1);
  EXPECT_EQ(a().SendMsg(pair.first, "x", nine), -NACL_ABI_EINVAL);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that imc_recvmsg with desc_length 9 is EINVAL and consumes nothing.
TEST_F(HandlersTest, RecvmsgDescLengthOverMaxIsEinval) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "kept"), 4);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, NACL_ABI_IMC_DESC_MAX + 1).result, -NACL_ABI_EINVAL);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, "kept");
}

// Test that a descv entry that is neither open nor -1 is EBADF, and nothing is sent.
TEST_F(HandlersTest, SendmsgDescvEntryNotOpenIsEbadf) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  const int shm = MemObj();
  for (int bad : {1234, -2, 4096, INT_MIN}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(a().SendMsg(pair.first, "x", {shm, bad}), -NACL_ABI_EBADF);
  }
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that sending a BoundSocket as a descriptor is EIO.
TEST_F(HandlersTest, SendingBoundSocketIsEio) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  TestModule::Pair bound = a().MakeBoundSocket();
  EXPECT_EQ(a().SendMsg(pair.first, "x", {bound.first}), -NACL_ABI_EIO);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that sending a ConnectedSocket as a descriptor is EIO (its own end or another).
TEST_F(HandlersTest, SendingConnectedSocketIsEio) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  TestModule::Pair other = a().ConnectedPair();
  ASSERT_EQ(other.result, 0);
  EXPECT_EQ(a().SendMsg(pair.first, "x", {other.first}), -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(pair.first, "x", {pair.first}), -NACL_ABI_EIO);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that descriptors over a DataOnlySocket are EIO, while bytes alone go through.
TEST_F(HandlersTest, DescriptorsOverDataOnlySocketIsEio) {
  TestModule::Pair pair = a().SocketPair();
  EXPECT_EQ(a().SendMsg(pair.first, "x", {MemObj()}), -NACL_ABI_EIO);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
  EXPECT_EQ(a().SendMsg(pair.first, "x"), 1);
}

// Test that more than 128 KiB of user data is EIO, across one iovec or several.
TEST_F(HandlersTest, MoreThanMaxUserBytesIsEio) {
  TestModule::Pair pair = a().SocketPair();
  EXPECT_EQ(a().SendMsg(pair.first, std::string(NACL_ABI_IMC_USER_BYTES_MAX + 1, 'x')),
            -NACL_ABI_EIO);
  const uint64_t half = a().Allocate(NACL_ABI_IMC_USER_BYTES_MAX / 2 + 1);
  NaClAbiNaClImcMsgIoVec iov[2] = {TestModule::Iovec(half, NACL_ABI_IMC_USER_BYTES_MAX / 2),
                                   TestModule::Iovec(half, NACL_ABI_IMC_USER_BYTES_MAX / 2 + 1)};
  EXPECT_EQ(
      a().Call(NACL_sys_imc_sendmsg, U(pair.first), a().PutHeader(a().PutIovecs(iov), 2, 0, 0), 0),
      -NACL_ABI_EIO);
  EXPECT_EQ(a().RecvMsg(pair.second, 8, 0, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that exactly 128 KiB of user data is sent and arrives whole.
TEST_F(HandlersTest, ExactlyMaxUserBytesIsSent) {
  TestModule::Pair pair = a().SocketPair();
  std::string message(NACL_ABI_IMC_USER_BYTES_MAX, 'x');
  for (size_t i = 0; i < message.size(); i += 4093) message[i] = static_cast<char>(i / 4093);
  ASSERT_EQ(a().SendMsg(pair.first, message), NACL_ABI_IMC_USER_BYTES_MAX);
  TestModule::Received received = a().RecvMsg(pair.second);
  EXPECT_EQ(received.result, NACL_ABI_IMC_USER_BYTES_MAX);
  EXPECT_EQ(received.bytes, message);
  EXPECT_EQ(received.flags, 0);
}

// Test that imc_connect after every copy of the BoundSocket was closed is EIO.
TEST_F(HandlersTest, ConnectAfterBoundSocketClosedIsEio) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int copy = static_cast<int>(a().Call(NACL_sys_dup, U(bound.first)));
  ASSERT_GE(copy, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.first)), 0);
  // One copy is left: the request is queued.
  const int64_t connected = a().Call(NACL_sys_imc_connect, U(bound.second));
  EXPECT_GE(connected, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(copy)), 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_connect, U(bound.second)), -NACL_ABI_EIO);
}

// Test that imc_accept after every copy of the SocketAddress was closed is EIO, once the
// requests queued before are accepted.
TEST_F(HandlersTest, AcceptAfterSocketAddressClosedIsEio) {
  TestModule::Pair bound = a().MakeBoundSocket();
  const int copy = static_cast<int>(a().Call(NACL_sys_dup, U(bound.second)));
  ASSERT_GE(copy, 0);
  const int64_t connected = a().Call(NACL_sys_imc_connect, U(copy));
  ASSERT_GE(connected, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(bound.second)), 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(copy)), 0);
  EXPECT_GE(a().Call(NACL_sys_imc_accept, U(bound.first)), 0);
  EXPECT_EQ(a().Call(NACL_sys_imc_accept, U(bound.first)), -NACL_ABI_EIO);
}

// Test that a NONBLOCK imc_recvmsg with nothing queued is EAGAIN.
TEST_F(HandlersTest, NonblockingRecvmsgThatWouldBlockIsEagain) {
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  EXPECT_EQ(a().RecvMsg(data_only.second, 8, 0, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
  EXPECT_EQ(a().RecvMsg(connected.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
  EXPECT_EQ(a().RecvMsg(connected.first, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EAGAIN);
}

// Test that on the loader's nonblocking first attempt a NONBLOCK imc_recvmsg with nothing
// queued answers EAGAIN itself, while one that may wait answers kWouldBlock (the loader then
// moves it off the receiving thread).
TEST_F(HandlersTest, AttemptAnswersNonblockingRecvmsgItself) {
  TestModule::Pair pair = a().SocketPair();
  NaClAbiNaClImcMsgIoVec iov = {reinterpret_cast<void*>(a().Allocate(8)), 8};
  NaClAbiNaClImcMsgHdr header = {};
  header.iov = reinterpret_cast<NaClAbiNaClImcMsgIoVec*>(a().Put(&iov, sizeof(iov)));
  header.iov_length = 1;
  const uint64_t address = a().Put(&header, sizeof(header));
  CallContext context = a().Context();
  context.nonblocking_attempt = true;
  auto recvmsg = [&](int flags) {
    return SyscallTable::Nacl().Dispatch(
        context, NACL_sys_imc_recvmsg,
        SyscallArgs{{U(pair.second), address, static_cast<uint64_t>(flags), 0, 0, 0}});
  };
  EXPECT_EQ(recvmsg(NACL_ABI_IMC_NONBLOCK), -NACL_ABI_EAGAIN);
  EXPECT_EQ(recvmsg(0), kWouldBlock);
  ASSERT_EQ(a().SendMsg(pair.first, "x"), 1);
  EXPECT_EQ(recvmsg(0), 1);
}

// Test that a NONBLOCK imc_sendmsg on a full socket is EAGAIN, and succeeds again once the
// peer has read.
TEST_F(HandlersTest, NonblockingSendmsgOnFullSocketIsEagain) {
  TestModule::Pair pair = a().SocketPair();
  const std::string big(NACL_ABI_IMC_USER_BYTES_MAX, 'x');
  int sent = 0;
  int64_t result = 0;
  while (sent < 10000 && (result = a().SendMsg(pair.first, big, {}, NACL_ABI_IMC_NONBLOCK)) > 0) {
    ++sent;
  }
  EXPECT_EQ(result, -NACL_ABI_EAGAIN);
  EXPECT_GT(sent, 0);
  for (int i = 0; i < sent; ++i) {
    ASSERT_EQ(a().RecvMsg(pair.second).result, NACL_ABI_IMC_USER_BYTES_MAX);
  }
  EXPECT_EQ(a().SendMsg(pair.first, big, {}, NACL_ABI_IMC_NONBLOCK), NACL_ABI_IMC_USER_BYTES_MAX);
}

// Test that receiving with room for fewer descriptors than arrived installs the first ones,
// closes the extras, sets DESC_TRUNCATED and sets desc_length to the delivered count.
TEST_F(HandlersTest, FewerDescriptorSlotsThanArrivedIsDescTruncated) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  const int shm = MemObj();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair bound = a().MakeBoundSocket();
  ASSERT_EQ(a().SendMsg(pair.first, "three", {shm, data_only.first, bound.second}), 5);
  const size_t open_before = a().table().OpenCount();
  const int fds_before = base::CountOpenFds();

  TestModule::Received received = a().RecvMsg(pair.second, 16, 1);
  EXPECT_EQ(received.result, 5);
  EXPECT_EQ(received.bytes, "three");
  EXPECT_EQ(received.flags, NACL_ABI_RECVMSG_DESC_TRUNCATED);
  EXPECT_EQ(received.desc_length, 1u);
  ASSERT_EQ(received.descv.size(), 1u);
  EXPECT_EQ(a().StatMode(received.descv[0]) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  // One descriptor and one host fd more: the other two were closed on arrival.
  EXPECT_EQ(a().table().OpenCount(), open_before + 1);
  EXPECT_EQ(base::CountOpenFds(), fds_before + 1);
}

// Test that receiving with no room for descriptors closes them all and says so.
TEST_F(HandlersTest, NoDescriptorSlotsIsDescTruncated) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "x", {MemObj()}), 1);
  const int fds_before = base::CountOpenFds();
  TestModule::Received received = a().RecvMsg(pair.second, 16, 0);
  EXPECT_EQ(received.result, 1);
  EXPECT_EQ(received.flags, NACL_ABI_RECVMSG_DESC_TRUNCATED);
  EXPECT_EQ(received.desc_length, 0u);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
}

// Test that a buffer shorter than the message gets its prefix, DATA_TRUNCATED, and that the
// rest is discarded rather than delivered by the next call.
TEST_F(HandlersTest, ShortBufferIsDataTruncated) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(a().SendMsg(pair.first, "0123456789"), 10);
  ASSERT_EQ(a().SendMsg(pair.first, "next"), 4);
  TestModule::Received received = a().RecvMsg(pair.second, 4, 0);
  EXPECT_EQ(received.result, 4);
  EXPECT_EQ(received.bytes, "0123");
  EXPECT_EQ(received.flags, NACL_ABI_RECVMSG_DATA_TRUNCATED);
  TestModule::Received next = a().RecvMsg(pair.second, 16, 0);
  EXPECT_EQ(next.bytes, "next");
  EXPECT_EQ(next.flags, 0);
}

// Test that imc_recvmsg after the peer closed, with nothing queued, is EIO.
TEST_F(HandlersTest, RecvmsgAfterPeerClosedIsEio) {
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(data_only.first)), 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(connected.first)), 0);
  // Blocking calls: the end of the stream does not wait.
  EXPECT_EQ(a().RecvMsg(data_only.second, 8, 0, /*flags=*/0).result, -NACL_ABI_EIO);
  EXPECT_EQ(a().RecvMsg(connected.second, 8, 8, /*flags=*/0).result, -NACL_ABI_EIO);
  // NONBLOCK too: a closed peer is EIO, not EAGAIN.
  EXPECT_EQ(a().RecvMsg(connected.second, 8, 8, NACL_ABI_IMC_NONBLOCK).result, -NACL_ABI_EIO);
}

// Test that messages queued before the peer closed are delivered before EIO.
TEST_F(HandlersTest, MessagesQueuedBeforePeerClosedAreDeliveredFirst) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "one"), 3);
  ASSERT_EQ(a().SendMsg(pair.first, "two", {MemObj()}), 3);
  ASSERT_EQ(a().Call(NACL_sys_close, U(pair.first)), 0);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, "one");
  TestModule::Received second = a().RecvMsg(pair.second);
  EXPECT_EQ(second.bytes, "two");
  EXPECT_EQ(second.desc_length, 1u);
  EXPECT_EQ(a().RecvMsg(pair.second).result, -NACL_ABI_EIO);
}

// Test that an empty message is delivered as 0 bytes, not taken for end of stream, even when
// the peer closed right after sending it.
TEST_F(HandlersTest, EmptyMessageIsDelivered) {
  TestModule::Pair pair = a().SocketPair();
  ASSERT_EQ(a().SendMsg(pair.first, ""), 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(pair.first)), 0);
  TestModule::Received received = a().RecvMsg(pair.second);
  EXPECT_EQ(received.result, 0);
  EXPECT_EQ(received.flags, 0);
  EXPECT_EQ(a().RecvMsg(pair.second).result, -NACL_ABI_EIO);
}

// Test that an empty message with only invalid descriptors is delivered over a
// ConnectedSocket.
TEST_F(HandlersTest, EmptyMessageWithInvalidDescriptorsIsDelivered) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "", {-1, -1}), 0);
  TestModule::Received received = a().RecvMsg(pair.second);
  EXPECT_EQ(received.result, 0);
  EXPECT_THAT(received.descv, ElementsAre(-1, -1));
}

// Test that imc_sendmsg to a closed peer is EIO. SIGPIPE is set to its default action here,
// so a SIGPIPE would kill the test.
TEST_F(HandlersTest, SendmsgToClosedPeerIsEio) {
  struct SigpipeDefault {
    SigpipeDefault() : previous(signal(SIGPIPE, SIG_DFL)) {}
    ~SigpipeDefault() { signal(SIGPIPE, previous); }
    sighandler_t previous;
  } sigpipe_default;
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(data_only.second)), 0);
  ASSERT_EQ(a().Call(NACL_sys_close, U(connected.second)), 0);
  EXPECT_EQ(a().SendMsg(data_only.first, "x"), -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(connected.first, "x"), -NACL_ABI_EIO);
  EXPECT_EQ(a().SendMsg(connected.first, "x", {}, NACL_ABI_IMC_NONBLOCK), -NACL_ABI_EIO);
}

// Test that imc_mem_obj_create with a size that is not a multiple of 65536 is EINVAL.
TEST_F(HandlersTest, MemObjCreateSizeNotMultipleOfPageIsEinval) {
  for (uint64_t size : {uint64_t{1}, uint64_t{4096}, uint64_t{65535}, uint64_t{65537},
                        uint64_t{3 * 65536 + 1}, ~uint64_t{0}}) {
    SCOPED_TRACE(size);
    EXPECT_EQ(a().Call(NACL_sys_imc_mem_obj_create, size), -NACL_ABI_EINVAL);
  }
  EXPECT_EQ(a().table().OpenCount(), 0u);
}

// Test that dup2 to a negative number or to 4096 and beyond is EINVAL.
TEST_F(HandlersTest, Dup2OutOfRangeIsEinval) {
  const int shm = MemObj();
  for (int64_t target : {int64_t{-1}, int64_t{-4096}, int64_t{4096}, int64_t{INT_MAX}}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(a().Call(NACL_sys_dup2, U(shm), U(target)), -NACL_ABI_EINVAL);
  }
  EXPECT_EQ(a().Call(NACL_sys_dup2, U(shm), 4095), 4095);
  EXPECT_EQ(a().table().OpenCount(), 2u);
}

// Test that closing a closed number is EBADF.
TEST_F(HandlersTest, CloseOfClosedNumberIsEbadf) {
  const int shm = MemObj();
  EXPECT_EQ(a().Call(NACL_sys_close, U(shm)), 0);
  EXPECT_EQ(a().Call(NACL_sys_close, U(shm)), -NACL_ABI_EBADF);
}

// ---------------------------------------------------------------------------------------
// Descriptor calls.

// Test that fstat reports NaCl's st_mode kind for each IMC descriptor type.
TEST_F(HandlersTest, FstatReportsImcKinds) {
  TestModule::Pair bound = a().MakeBoundSocket();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair connected = a().ConnectedPair();
  ASSERT_EQ(connected.result, 0);
  const int shm = MemObj();
  EXPECT_EQ(a().StatMode(bound.second) & NACL_ABI_S_IFMT, 0220000u);
  EXPECT_EQ(a().StatMode(bound.first) & NACL_ABI_S_IFMT, 0230000u);
  EXPECT_EQ(a().StatMode(data_only.first) & NACL_ABI_S_IFMT, 0210000u);
  EXPECT_EQ(a().StatMode(data_only.second) & NACL_ABI_S_IFMT, 0210000u);
  EXPECT_EQ(a().StatMode(connected.first) & NACL_ABI_S_IFMT, 0140000u);
  EXPECT_EQ(a().StatMode(connected.second) & NACL_ABI_S_IFMT, 0140000u);
  EXPECT_EQ(a().StatMode(shm) & NACL_ABI_S_IFMT, 0240000u);
}

// Test that fstat of shared memory reports its size.
TEST_F(HandlersTest, FstatReportsSharedMemorySize) {
  const int shm = MemObj(3 * NACL_ABI_MAP_PAGESIZE);
  ASSERT_GE(shm, 0);
  const uint64_t st = a().Allocate(sizeof(nacl_abi_stat));
  ASSERT_EQ(a().Call(NACL_sys_fstat, U(shm), st), 0);
  EXPECT_EQ(a().GetValue<nacl_abi_stat>(st).nacl_abi_st_size, 3 * NACL_ABI_MAP_PAGESIZE);
}

// Test that fstat into unwritable memory is EFAULT.
TEST_F(HandlersTest, FstatUnwritableBufferIsEfault) {
  const int shm = MemObj();
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 8);
  EXPECT_EQ(a().Call(NACL_sys_fstat, U(shm), TestModule::kUnmapped), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_fstat, U(shm), straddling), -NACL_ABI_EFAULT);
}

// Test that imc_makeboundsock writes the BoundSocket to out[0] and the SocketAddress to
// out[1], in the lowest free slots.
TEST_F(HandlersTest, MakeBoundSocketOrder) {
  TestModule::Pair bound = a().MakeBoundSocket();
  EXPECT_EQ(bound.result, 0);
  EXPECT_EQ(bound.first, 0);
  EXPECT_EQ(bound.second, 1);
  EXPECT_EQ(a().StatMode(bound.first) & NACL_ABI_S_IFMT, NACL_ABI_S_IFBOUNDSOCK);
  EXPECT_EQ(a().StatMode(bound.second) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSOCKADDR);
}

// Test that imc_makeboundsock into unwritable memory is EFAULT and installs nothing.
TEST_F(HandlersTest, MakeBoundSocketUnwritableOutIsEfault) {
  ASSERT_NE(a().ThreadCancellation(), nullptr);  // Its eventfd is not the calls' doing.
  const int fds_before = base::CountOpenFds();
  const uint64_t straddling = a().memory().AddressOf(a().memory().size() - 4);
  EXPECT_EQ(a().Call(NACL_sys_imc_makeboundsock, TestModule::kUnmapped), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_imc_makeboundsock, straddling), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_imc_socketpair, straddling), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().table().OpenCount(), 0u);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
}

// Test that new descriptors, including dup's, take the lowest free slot.
TEST_F(HandlersTest, NewDescriptorsTakeLowestFreeSlot) {
  EXPECT_EQ(MemObj(), 0);
  EXPECT_EQ(MemObj(), 1);
  EXPECT_EQ(MemObj(), 2);
  ASSERT_EQ(a().Call(NACL_sys_close, 1), 0);
  EXPECT_EQ(a().Call(NACL_sys_dup, 2), 1);
  ASSERT_EQ(a().Call(NACL_sys_close, 0), 0);
  EXPECT_EQ(MemObj(), 0);
  EXPECT_EQ(a().Call(NACL_sys_dup, 0), 3);
}

// Test that dup makes a second name for the same descriptor: closing one leaves the other
// usable.
TEST_F(HandlersTest, DupSharesTheDescriptor) {
  TestModule::Pair pair = a().SocketPair();
  const int copy = static_cast<int>(a().Call(NACL_sys_dup, U(pair.first)));
  ASSERT_GE(copy, 0);
  const int fds_with_copy = base::CountOpenFds();
  ASSERT_EQ(a().Call(NACL_sys_close, U(pair.first)), 0);
  EXPECT_EQ(base::CountOpenFds(), fds_with_copy);  // No host fd per slot.
  EXPECT_EQ(a().SendMsg(copy, "via copy"), 8);
  EXPECT_EQ(a().RecvMsg(pair.second).bytes, "via copy");
}

// Test that dup2 onto an open slot closes what it held and names the source there.
TEST_F(HandlersTest, Dup2ReplacesOpenSlot) {
  TestModule::Pair pair = a().SocketPair();
  const int shm = MemObj();
  const int fds_before = base::CountOpenFds();
  EXPECT_EQ(a().Call(NACL_sys_dup2, U(shm), U(pair.second)), pair.second);
  EXPECT_EQ(a().StatMode(pair.second) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  EXPECT_EQ(base::CountOpenFds(), fds_before - 1);  // The socket end was closed.
  EXPECT_EQ(a().SendMsg(pair.first, "x"), -NACL_ABI_EIO);
}

// Test that dup2 of a descriptor onto itself is a no-op returning it.
TEST_F(HandlersTest, Dup2OntoItselfKeepsIt) {
  const int shm = MemObj();
  EXPECT_EQ(a().Call(NACL_sys_dup2, U(shm), U(shm)), shm);
  EXPECT_EQ(a().StatMode(shm) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  EXPECT_EQ(a().table().OpenCount(), 1u);
}

// Test that a full table of 4096 slots makes dup and new descriptors EMFILE, and a pair
// that does not fit installs nothing.
TEST_F(HandlersTest, FullTableIsEmfile) {
  const int shm = MemObj();
  for (int d = 1; d < NACL_ABI_DESCRIPTOR_TABLE_SIZE; ++d) {
    ASSERT_EQ(a().Call(NACL_sys_dup, U(shm)), d);
  }
  EXPECT_EQ(a().Call(NACL_sys_dup, U(shm)), -NACL_ABI_EMFILE);
  EXPECT_EQ(a().Call(NACL_sys_imc_mem_obj_create, NACL_ABI_MAP_PAGESIZE), -NACL_ABI_EMFILE);
  ASSERT_EQ(a().Call(NACL_sys_close, 4000), 0);
  const int fds_before = base::CountOpenFds();
  EXPECT_EQ(a().MakeBoundSocket().result, -NACL_ABI_EMFILE);
  EXPECT_EQ(a().SocketPair().result, -NACL_ABI_EMFILE);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
  EXPECT_EQ(a().table().OpenCount(), size_t{NACL_ABI_DESCRIPTOR_TABLE_SIZE} - 1);
  EXPECT_EQ(a().Call(NACL_sys_dup, U(shm)), 4000);
}

// Test that a received descriptor that does not fit in a full table is closed, the call
// fails with EMFILE, and nothing of the message stays installed.
TEST_F(HandlersTest, ReceivingIntoFullTableIsEmfile) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "x", {MemObj(), -1, MemObj()}), 1);
  const int fill = MemObj();
  while (a().Call(NACL_sys_dup, U(fill)) >= 0) {
  }
  ASSERT_EQ(a().Call(NACL_sys_close, 7), 0);  // Room for one of the two.
  const int fds_before = base::CountOpenFds();
  EXPECT_EQ(a().RecvMsg(pair.second).result, -NACL_ABI_EMFILE);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
  EXPECT_EQ(a().table().OpenCount(), size_t{NACL_ABI_DESCRIPTOR_TABLE_SIZE} - 1);
}

// Test that imc_mem_obj_create of a multiple of 65536 makes a SharedMemory descriptor, and
// an absurd size is ENOMEM.
TEST_F(HandlersTest, MemObjCreate) {
  const int shm = MemObj(2 * NACL_ABI_MAP_PAGESIZE);
  EXPECT_EQ(shm, 0);
  EXPECT_EQ(a().StatMode(shm) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  EXPECT_EQ(a().Call(NACL_sys_imc_mem_obj_create, uint64_t{1} << 62), -NACL_ABI_ENOMEM);
}

// Test that imc_mem_obj_create(0) is ENOMEM, as NaCl answers (it could not make an empty
// memory object), and leaves no descriptor or fd behind.
TEST_F(HandlersTest, MemObjCreateZeroIsEnomem) {
  ASSERT_EQ(a().Call(NACL_sys_null), 0);  // Whatever the first call opens is not counted.
  const int fds_before = base::CountOpenFds();
  EXPECT_EQ(a().Call(NACL_sys_imc_mem_obj_create, 0), -NACL_ABI_ENOMEM);
  EXPECT_EQ(a().table().OpenCount(), 0u);
  EXPECT_EQ(base::CountOpenFds(), fds_before);
}

// Test that Linux mmap of shared memory places its memfd at the descriptor's number and lets
// the kernel run the module's own mmap; the number is then marked placed.
TEST_F(HandlersTest, MmapOfSharedMemoryPlacesItsFd) {
  const int shm = MemObj(2 * NACL_ABI_MAP_PAGESIZE);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0x30000000, NACL_ABI_MAP_PAGESIZE, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_POPULATE, U(shm), NACL_ABI_MAP_PAGESIZE),
            kRunInKernel);
  absl::optional<FakeModuleControl::Placement> placement = a().control().last_placement();
  ASSERT_TRUE(placement.has_value());
  EXPECT_GE(placement->host_fd, 0);
  EXPECT_EQ(placement->number, shm);
  EXPECT_TRUE(a().table().IsPlaced(shm));
}

// Test that the NaCl mmap number validates like Linux mmap, then answers ENOSYS: the loader
// cannot map into the module for it, and places nothing.
TEST_F(HandlersTest, NaclMmapIsEnosys) {
  const int shm = MemObj();
  EXPECT_EQ(a().Call(NACL_sys_mmap, 0, NACL_ABI_MAP_PAGESIZE, NACL_ABI_PROT_READ,
                     NACL_ABI_MAP_SHARED, U(shm), 0),
            -NACL_ABI_ENOSYS);
  EXPECT_EQ(a().Call(NACL_sys_mmap, 0, NACL_ABI_MAP_PAGESIZE, NACL_ABI_PROT_READ, 0, U(shm), 0),
            -NACL_ABI_EINVAL);
  EXPECT_EQ(a().Call(NACL_sys_munmap, 0x30000000, NACL_ABI_MAP_PAGESIZE), -NACL_ABI_ENOSYS);
  EXPECT_FALSE(a().control().last_placement().has_value());
}

// Test that mmap beyond the object, at an unaligned or negative offset, or with bad flags or
// protection (executable included), is EINVAL and places nothing; nor does mmap of a socket.
TEST_F(HandlersTest, MmapInvalidIsEinval) {
  TestModule::Pair pair = a().SocketPair();
  const int shm = MemObj();
  const uint64_t page = NACL_ABI_MAP_PAGESIZE;
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, U(pair.first), 0), -ENODEV);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, U(shm), page / 2), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, 2 * page, PROT_READ, MAP_SHARED, U(shm), 0), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, U(shm), page), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, ~uint64_t{0}, PROT_READ, MAP_SHARED, U(shm), page), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, 0, U(shm), 0), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ | PROT_EXEC, MAP_SHARED, U(shm), 0),
            -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED | MAP_GROWSDOWN, U(shm), 0),
            -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, U(shm), U(-page)), -EINVAL);
  EXPECT_EQ(a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, 999, 0), -EBADF);
  EXPECT_FALSE(a().control().last_placement().has_value());
}

// Test that once a placed number's slot is closed, the module's process keeps nothing of it:
// Linux close lets the kernel close the placed fd too; NaCl close, dup2 and dup3 over it
// release it (the memory object must not outlive the descriptor in the module's process).
TEST_F(HandlersTest, ClosingAPlacedNumberDropsThePlacedFd) {
  const uint64_t page = NACL_ABI_MAP_PAGESIZE;
  auto map = [&](int d) {
    return a().CallLinux(SYS_mmap, 0, page, PROT_READ, MAP_SHARED, U(d), 0);
  };
  const int linux_closed = MemObj();
  ASSERT_EQ(map(linux_closed), kRunInKernel);
  EXPECT_EQ(a().CallLinux(SYS_close, U(linux_closed)), kRunInKernel);
  EXPECT_FALSE(a().table().IsPlaced(linux_closed));
  EXPECT_EQ(a().CallLinux(SYS_close, U(linux_closed)), -EBADF);  // Not open: nothing runs.

  const int nacl_closed = MemObj();
  ASSERT_EQ(map(nacl_closed), kRunInKernel);
  EXPECT_EQ(a().Call(NACL_sys_close, U(nacl_closed)), 0);
  const int replaced = MemObj();
  ASSERT_EQ(map(replaced), kRunInKernel);
  const int other = MemObj();
  EXPECT_EQ(a().Call(NACL_sys_dup2, U(other), U(replaced)), replaced);
  const int replaced3 = MemObj();
  ASSERT_EQ(map(replaced3), kRunInKernel);
  EXPECT_EQ(a().CallLinux(SYS_dup3, U(other), U(replaced3), 0), replaced3);
  EXPECT_THAT(a().control().released(), ::testing::ElementsAre(nacl_closed, replaced, replaced3));
  // A placeholder is there now: a later Linux close lets the kernel close it.
  EXPECT_TRUE(a().table().IsPlaced(replaced));
  EXPECT_EQ(a().CallLinux(SYS_close, U(replaced)), kRunInKernel);
}

// Test that exit and getpid go to the module control.
TEST_F(HandlersTest, ExitAndGetpidReachModuleControl) {
  EXPECT_EQ(a().Call(NACL_sys_getpid), FakeModuleControl::kPid);
  EXPECT_EQ(a().Call(NACL_sys_exit, 7), 0);
  EXPECT_EQ(a().control().exit_status(), 7);
}

// Test that write and read on a HostIo descriptor move the bytes through its host fd.
TEST_F(HandlersTest, HostIoReadAndWrite) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const int reader = InstallHostIo(base::UniqueFd(fds[0]));
  const int writer = InstallHostIo(base::UniqueFd(fds[1]));
  EXPECT_EQ(a().Call(NACL_sys_write, U(writer), a().PutString("hello"), 5), 5);
  const uint64_t buffer = a().Allocate(16);
  EXPECT_EQ(a().Call(NACL_sys_read, U(reader), buffer, 16), 5);
  EXPECT_EQ(a().GetString(buffer, 5), "hello");
  // A pipe's ends are one-way.
  EXPECT_EQ(a().Call(NACL_sys_read, U(writer), buffer, 16), -NACL_ABI_EBADF);
  EXPECT_EQ(a().Call(NACL_sys_write, U(reader), buffer, 16), -NACL_ABI_EBADF);
}

// Test that read into unwritable memory is EFAULT and consumes no input.
TEST_F(HandlersTest, HostIoReadUnwritableBufferIsEfault) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const int reader = InstallHostIo(base::UniqueFd(fds[0]));
  const int writer = InstallHostIo(base::UniqueFd(fds[1]));
  ASSERT_EQ(a().Call(NACL_sys_write, U(writer), a().PutString("kept"), 4), 4);
  EXPECT_EQ(a().Call(NACL_sys_read, U(reader), TestModule::kUnmapped, 4), -NACL_ABI_EFAULT);
  const uint64_t buffer = a().Allocate(4);
  EXPECT_EQ(a().Call(NACL_sys_read, U(reader), buffer, 4), 4);
  EXPECT_EQ(a().GetString(buffer, 4), "kept");
}

// Test that read leaves the buffer beyond the bytes it returned as it was (checking the
// buffer before reading changes nothing).
TEST_F(HandlersTest, HostIoReadLeavesTheRestOfTheBuffer) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const int reader = InstallHostIo(base::UniqueFd(fds[0]));
  const int writer = InstallHostIo(base::UniqueFd(fds[1]));
  ASSERT_EQ(a().Call(NACL_sys_write, U(writer), a().PutString("ab"), 2), 2);
  const uint64_t buffer = a().PutString(std::string(3 * 4096, 'x'));
  EXPECT_EQ(a().Call(NACL_sys_read, U(reader), buffer, 3 * 4096), 2);
  EXPECT_EQ(a().GetString(buffer, 3 * 4096), "ab" + std::string(3 * 4096 - 2, 'x'));
}

// Test that write from unreadable memory is EFAULT and writes nothing.
TEST_F(HandlersTest, HostIoWriteUnreadableBufferIsEfault) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  base::UniqueFd read_end(fds[0]);
  const int writer = InstallHostIo(base::UniqueFd(fds[1]));
  EXPECT_EQ(a().Call(NACL_sys_write, U(writer), TestModule::kUnmapped, 4), -NACL_ABI_EFAULT);
  char byte;
  EXPECT_EQ(read(read_end.get(), &byte, 1), -1);
}

// Test that a received descriptor keeps its type: shared memory, data-only socket and socket
// address arrive as such, in order, in fresh slots.
TEST_F(HandlersTest, ReceivedDescriptorsKeepTheirType) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  const int shm = MemObj();
  TestModule::Pair data_only = a().SocketPair();
  TestModule::Pair bound = a().MakeBoundSocket();
  ASSERT_EQ(a().SendMsg(pair.first, "", {shm, -1, data_only.second, bound.second}), 0);
  TestModule::Received received = a().RecvMsg(pair.second);
  ASSERT_EQ(received.descv.size(), 4u);
  EXPECT_EQ(a().StatMode(received.descv[0]) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSHM);
  EXPECT_EQ(received.descv[1], -1);
  EXPECT_EQ(a().StatMode(received.descv[2]) & NACL_ABI_S_IFMT, NACL_ABI_S_IFDSOCK);
  EXPECT_EQ(a().StatMode(received.descv[3]) & NACL_ABI_S_IFMT, NACL_ABI_S_IFSOCKADDR);
  for (int d : {received.descv[0], received.descv[2], received.descv[3]}) {
    EXPECT_NE(d, shm);
    EXPECT_NE(d, data_only.second);
    EXPECT_NE(d, bound.second);
  }
  // The received data-only end talks to the original pair.
  EXPECT_EQ(a().SendMsg(data_only.first, "through"), 7);
  EXPECT_EQ(a().RecvMsg(received.descv[2]).bytes, "through");
}

// Test that recvmsg writes -1 into descv slots beyond those delivered and clears the header
// flags it was given.
TEST_F(HandlersTest, RecvmsgResetsFlagsAndUnusedDescvSlots) {
  TestModule::Pair pair = a().ConnectedPair();
  ASSERT_EQ(pair.result, 0);
  ASSERT_EQ(a().SendMsg(pair.first, "x", {MemObj()}), 1);
  const uint64_t data = a().Allocate(8);
  const int sentinel[3] = {77, 77, 77};
  const uint64_t descv = a().Put(sentinel, sizeof(sentinel));
  const uint64_t header =
      a().PutHeader(a().PutValue(TestModule::Iovec(data, 8)), 1, descv, 3, /*flags=*/0x7f);
  ASSERT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second), header, 0), 1);
  NaClAbiNaClImcMsgHdr after = a().GetValue<NaClAbiNaClImcMsgHdr>(header);
  EXPECT_EQ(after.flags, 0);
  EXPECT_EQ(after.desc_length, 1u);
  EXPECT_GE(a().GetValue<int>(descv), 0);
  EXPECT_EQ(a().GetValue<int>(descv + 4), -1);
  EXPECT_EQ(a().GetValue<int>(descv + 8), -1);
}

// Test that iovec lengths near 2^64 are refused without a crash: EIO on send (their sum is
// over the limit, even when it wraps), EFAULT on receive.
TEST_F(HandlersTest, IovecLengthsNear2To64AreErrors) {
  TestModule::Pair pair = a().SocketPair();
  const uint64_t buffer = a().Allocate(16);
  const size_t huge = ~size_t{0};
  NaClAbiNaClImcMsgIoVec wrapping[2] = {TestModule::Iovec(buffer, huge),
                                        TestModule::Iovec(buffer, 2)};
  EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first),
                     a().PutHeader(a().PutIovecs(wrapping), 2, 0, 0), 0),
            -NACL_ABI_EIO);
  NaClAbiNaClImcMsgIoVec single[1] = {TestModule::Iovec(buffer, huge - 15)};
  EXPECT_EQ(a().Call(NACL_sys_imc_sendmsg, U(pair.first),
                     a().PutHeader(a().PutIovecs(single), 1, 0, 0), 0),
            -NACL_ABI_EIO);
  ASSERT_EQ(a().SendMsg(pair.first, "0123456789abcdefXYZ"), 19);
  NaClAbiNaClImcMsgIoVec far[1] = {TestModule::Iovec(~uint64_t{0} - 4, huge)};
  EXPECT_EQ(
      a().Call(NACL_sys_imc_recvmsg, U(pair.second), a().PutHeader(a().PutIovecs(far), 1, 0, 0), 0),
      -NACL_ABI_EFAULT);
  // So does a huge length that starts inside memory and runs past its end.
  ASSERT_EQ(a().SendMsg(pair.first, std::string(64, 'y')), 64);
  const uint64_t tail = a().memory().AddressOf(a().memory().size() - 8);
  NaClAbiNaClImcMsgIoVec at_end[1] = {TestModule::Iovec(tail, huge)};
  EXPECT_EQ(a().Call(NACL_sys_imc_recvmsg, U(pair.second),
                     a().PutHeader(a().PutIovecs(at_end), 1, 0, 0), 0),
            -NACL_ABI_EFAULT);
}

// Test that read and write with lengths near 2^64 are bounded and never crash.
TEST_F(HandlersTest, ReadWriteLengthsNear2To64AreBounded) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  const int reader = InstallHostIo(base::UniqueFd(fds[0]));
  const int writer = InstallHostIo(base::UniqueFd(fds[1]));
  const uint64_t buffer = a().Allocate(16);
  EXPECT_EQ(a().Call(NACL_sys_write, U(writer), buffer, ~uint64_t{0}), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_read, U(reader), buffer, ~uint64_t{0}), -NACL_ABI_EFAULT);
  EXPECT_EQ(a().Call(NACL_sys_write, U(writer), ~uint64_t{0} - 2, 16), -NACL_ABI_EFAULT);
}

}  // namespace
}  // namespace syscalls
