#include "imc/descriptor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/shared_memory.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;
using ::testing::HasSubstr;
using ::testing::StrEq;

std::pair<UniqueFd, UniqueFd> SocketPair(int type) {
  int fds[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::pair<UniqueFd, UniqueFd> Pipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A memfd of one page; sealed against resizing if `seal_size`.
UniqueFd MemFd(unsigned int flags, bool seal_size) {
  UniqueFd fd(memfd_create("descriptor_test", MFD_CLOEXEC | flags));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(ftruncate(fd.get(), 4096), 0);
  if (seal_size) {
    EXPECT_EQ(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  }
  return fd;
}

// Test that every kind has its name and an out-of-range value is "unknown".
TEST(DescriptorTest, KindNames) {
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kInvalid), StrEq("Invalid"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kSocketAddress), StrEq("SocketAddress"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kDataOnlySocket), StrEq("DataOnlySocket"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kSharedMemory), StrEq("SharedMemory"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kHostIo), StrEq("HostIo"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kBoundSocket), StrEq("BoundSocket"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kConnectedSocket), StrEq("ConnectedSocket"));
  EXPECT_THAT(DescriptorKindName(DescriptorKind::kDirectory), StrEq("Directory"));
  EXPECT_THAT(DescriptorKindName(static_cast<DescriptorKind>(5)), StrEq("unknown"));
}

// Test that the kinds that may not travel have no wire tag: none is a known tag, none fits the
// tag's kind field, and a received fd is never accepted as one.
TEST(DescriptorTest, KindsThatStayHaveNoTag) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  base::UniqueFd read_end(fds[0]), write_end(fds[1]);
  for (DescriptorKind kind : {DescriptorKind::kBoundSocket, DescriptorKind::kConnectedSocket,
                              DescriptorKind::kDirectory}) {
    EXPECT_FALSE(IsKnownDescriptorKind(static_cast<uint8_t>(kind))) << DescriptorKindName(kind);
    EXPECT_GE(static_cast<int>(kind), 16) << DescriptorKindName(kind);
    EXPECT_THAT(CheckDescriptorKind(read_end.get(), kind), HasErrno(EPROTO));
  }
}

// Test that exactly the tags 0 to 4 are known.
TEST(DescriptorTest, KnownTags) {
  for (int tag = 0; tag <= 4; ++tag) EXPECT_TRUE(IsKnownDescriptorKind(tag)) << tag;
  EXPECT_FALSE(IsKnownDescriptorKind(5));
  EXPECT_FALSE(IsKnownDescriptorKind(255));
}

// Test that an AF_UNIX SOCK_SEQPACKET socket is an IMC socket.
TEST(DescriptorTest, SeqpacketSocketIsImcSocket) {
  auto [a, b] = SocketPair(SOCK_SEQPACKET);
  EXPECT_OK(CheckImcSocket(a.get()));
}

// Test that stream and datagram sockets, TCP sockets, pipes and closed fds are not IMC sockets.
TEST(DescriptorTest, OtherFdsAreNotImcSockets) {
  auto [stream, stream_peer] = SocketPair(SOCK_STREAM);
  EXPECT_THAT(CheckImcSocket(stream.get()), HasErrno(EPROTO));
  auto [dgram, dgram_peer] = SocketPair(SOCK_DGRAM);
  EXPECT_THAT(CheckImcSocket(dgram.get()), HasErrno(EPROTO));
  UniqueFd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(tcp.valid());
  EXPECT_THAT(CheckImcSocket(tcp.get()), HasErrno(EPROTO));
  auto [read_end, write_end] = Pipe();
  EXPECT_THAT(CheckImcSocket(read_end.get()), HasErrno(EPROTO));
  EXPECT_THAT(CheckImcSocket(-1), HasErrno(EPROTO));
}

// Test that a listening SEQPACKET socket is not an IMC socket.
TEST(DescriptorTest, ListeningSocketIsNotImcSocket) {
  UniqueFd listener(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  struct sockaddr_un autobind = {};
  autobind.sun_family = AF_UNIX;
  // Binding with only the family autobinds to an abstract name.
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&autobind), sizeof(sa_family_t)), 0);
  ASSERT_EQ(listen(listener.get(), 1), 0);
  absl::Status status = CheckImcSocket(listener.get());
  EXPECT_THAT(status, HasErrno(EPROTO));
  EXPECT_THAT(std::string(status.message()), HasSubstr("listening"));
  // The per-message check is the same: a listening socket tagged SocketAddress or
  // DataOnlySocket is refused on receipt.
  EXPECT_THAT(CheckDescriptorKind(listener.get(), DescriptorKind::kSocketAddress),
              HasErrno(EPROTO));
  EXPECT_THAT(CheckDescriptorKind(listener.get(), DescriptorKind::kDataOnlySocket),
              HasErrno(EPROTO));
}

// Test that a SEQPACKET socket that was never connected is not an IMC socket, and that one
// whose peer has closed still is (it reports end of stream on use).
TEST(DescriptorTest, UnconnectedSocketIsNotImcSocket) {
  UniqueFd unconnected(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(unconnected.valid());
  EXPECT_THAT(CheckImcSocket(unconnected.get()), HasErrno(EPROTO));
  EXPECT_THAT(CheckDescriptorKind(unconnected.get(), DescriptorKind::kSocketAddress),
              HasErrno(EPROTO));
  auto [survivor, peer] = SocketPair(SOCK_SEQPACKET);
  peer.reset();
  EXPECT_OK(CheckImcSocket(survivor.get()));
}

// Test that socket kinds accept a SEQPACKET socket and refuse a pipe and a stream socket.
TEST(DescriptorTest, SocketKindsNeedSeqpacketSockets) {
  auto [seqpacket, seqpacket_peer] = SocketPair(SOCK_SEQPACKET);
  auto [stream, stream_peer] = SocketPair(SOCK_STREAM);
  auto [read_end, write_end] = Pipe();
  for (DescriptorKind kind : {DescriptorKind::kSocketAddress, DescriptorKind::kDataOnlySocket}) {
    EXPECT_OK(CheckDescriptorKind(seqpacket.get(), kind));
    EXPECT_THAT(CheckDescriptorKind(stream.get(), kind), HasErrno(EPROTO));
    absl::Status status = CheckDescriptorKind(read_end.get(), kind);
    EXPECT_THAT(status, HasErrno(EPROTO));
    EXPECT_THAT(std::string(status.message()), HasSubstr(DescriptorKindName(kind)));
  }
}

// Test that SharedMemory accepts a size-sealed memfd and one made by SharedMemory::Create.
TEST(DescriptorTest, SharedMemoryAcceptsSealedMemfd) {
  UniqueFd sealed = MemFd(MFD_ALLOW_SEALING, /*seal_size=*/true);
  EXPECT_OK(CheckDescriptorKind(sealed.get(), DescriptorKind::kSharedMemory));
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  EXPECT_OK(CheckDescriptorKind(memory->fd(), DescriptorKind::kSharedMemory));
}

// Test that SharedMemory refuses an unsealed memfd and one that cannot be sealed.
TEST(DescriptorTest, SharedMemoryRefusesUnsealedMemfd) {
  UniqueFd unsealed = MemFd(MFD_ALLOW_SEALING, /*seal_size=*/false);
  absl::Status status = CheckDescriptorKind(unsealed.get(), DescriptorKind::kSharedMemory);
  EXPECT_THAT(status, HasErrno(EPROTO));
  EXPECT_THAT(std::string(status.message()), HasSubstr("not sealed"));
  UniqueFd unsealable = MemFd(0, /*seal_size=*/false);
  EXPECT_THAT(CheckDescriptorKind(unsealable.get(), DescriptorKind::kSharedMemory),
              HasErrno(EPROTO));
}

// Test that SharedMemory refuses a regular file, a pipe and a socket.
TEST(DescriptorTest, SharedMemoryRefusesOtherFds) {
  char path[] = "/tmp/descriptor_test.XXXXXX";
  UniqueFd file(mkostemp(path, O_CLOEXEC));
  ASSERT_TRUE(file.valid());
  unlink(path);
  ASSERT_EQ(ftruncate(file.get(), 4096), 0);
  EXPECT_THAT(CheckDescriptorKind(file.get(), DescriptorKind::kSharedMemory), HasErrno(EPROTO));
  auto [read_end, write_end] = Pipe();
  EXPECT_THAT(CheckDescriptorKind(read_end.get(), DescriptorKind::kSharedMemory), HasErrno(EPROTO));
  auto [a, b] = SocketPair(SOCK_SEQPACKET);
  EXPECT_THAT(CheckDescriptorKind(a.get(), DescriptorKind::kSharedMemory), HasErrno(EPROTO));
}

// Test that HostIo accepts pipes, files and non-IMC sockets.
TEST(DescriptorTest, HostIoAcceptsPlainFds) {
  auto [read_end, write_end] = Pipe();
  EXPECT_OK(CheckDescriptorKind(read_end.get(), DescriptorKind::kHostIo));
  EXPECT_OK(CheckDescriptorKind(write_end.get(), DescriptorKind::kHostIo));
  UniqueFd null_device(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null_device.valid());
  EXPECT_OK(CheckDescriptorKind(null_device.get(), DescriptorKind::kHostIo));
  auto [stream, stream_peer] = SocketPair(SOCK_STREAM);
  EXPECT_OK(CheckDescriptorKind(stream.get(), DescriptorKind::kHostIo));
}

// Test that HostIo takes any fd, an IMC socket included: it grants plain read and write on
// whatever the sender holds.
TEST(DescriptorTest, HostIoAcceptsAnyFd) {
  auto [a, b] = SocketPair(SOCK_SEQPACKET);
  EXPECT_OK(CheckDescriptorKind(a.get(), DescriptorKind::kHostIo));
}

// Test that AccessOfFd reads the access mode of the fd's open file description.
TEST(DescriptorTest, AccessOfFdFollowsTheOpenMode) {
  auto [read_end, write_end] = Pipe();
  EXPECT_EQ(AccessOfFd(read_end.get()), HostIoAccess::kReadOnly);
  EXPECT_EQ(AccessOfFd(write_end.get()), HostIoAccess::kWriteOnly);
  UniqueFd null_device(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null_device.valid());
  EXPECT_EQ(AccessOfFd(null_device.get()), HostIoAccess::kReadWrite);
  UniqueFd path_only(open("/dev/null", O_PATH | O_CLOEXEC));
  ASSERT_TRUE(path_only.valid());
  EXPECT_EQ(AccessOfFd(path_only.get()), HostIoAccess::kNone);
  const int closed = read_end.get();
  read_end.reset();
  EXPECT_EQ(AccessOfFd(closed), HostIoAccess::kNone);
}

// Test that Intersect keeps only what both accesses grant, and CanRead / CanWrite read the
// bits.
TEST(DescriptorTest, AccessIntersection) {
  EXPECT_EQ(Intersect(HostIoAccess::kReadWrite, HostIoAccess::kReadOnly), HostIoAccess::kReadOnly);
  EXPECT_EQ(Intersect(HostIoAccess::kWriteOnly, HostIoAccess::kReadWrite),
            HostIoAccess::kWriteOnly);
  EXPECT_EQ(Intersect(HostIoAccess::kReadOnly, HostIoAccess::kWriteOnly), HostIoAccess::kNone);
  EXPECT_EQ(Intersect(HostIoAccess::kReadWrite, HostIoAccess::kReadWrite),
            HostIoAccess::kReadWrite);
  EXPECT_TRUE(CanRead(HostIoAccess::kReadOnly));
  EXPECT_FALSE(CanWrite(HostIoAccess::kReadOnly));
  EXPECT_FALSE(CanRead(HostIoAccess::kWriteOnly));
  EXPECT_TRUE(CanWrite(HostIoAccess::kWriteOnly));
  EXPECT_FALSE(CanRead(HostIoAccess::kNone));
  EXPECT_FALSE(CanWrite(HostIoAccess::kNone));
  EXPECT_TRUE(IsKnownHostIoAccess(3));
  EXPECT_FALSE(IsKnownHostIoAccess(4));
  EXPECT_THAT(HostIoAccessName(HostIoAccess::kWriteOnly), StrEq("write-only"));
  EXPECT_THAT(HostIoAccessName(static_cast<HostIoAccess>(4)), StrEq("unknown"));
}

// Test that the invalid marker must come without a host fd.
TEST(DescriptorTest, InvalidMarkerHasNoFd) {
  EXPECT_OK(CheckDescriptorKind(-1, DescriptorKind::kInvalid));
  auto [read_end, write_end] = Pipe();
  EXPECT_THAT(CheckDescriptorKind(read_end.get(), DescriptorKind::kInvalid), HasErrno(EPROTO));
}

// Test that a value outside the enum is refused.
TEST(DescriptorTest, UnknownKindIsRefused) {
  auto [read_end, write_end] = Pipe();
  EXPECT_THAT(CheckDescriptorKind(read_end.get(), static_cast<DescriptorKind>(9)),
              HasErrno(EPROTO));
}

}  // namespace
}  // namespace imc
