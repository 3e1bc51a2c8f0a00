// Tests of the packet layer: 0-byte packets against end of stream, truncated data, and
// control data that is refused (too many fds, credentials, a pidfd) with every fd closed.
#include "imc/packet.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/errno_status.h"
#include "base/fd_count.h"
#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "imc/raw_peer.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

namespace imc {
namespace {

struct Pair {
  base::UniqueFd a;
  base::UniqueFd b;
};

Pair MakePair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  return {base::UniqueFd(fds[0]), base::UniqueFd(fds[1])};
}

WaitOptions Nonblocking() {
  WaitOptions wait;
  wait.nonblocking = true;
  return wait;
}

// Test that a 0-byte packet from a live peer is received as such and is not end of stream;
// once the peer is gone, a receive is. (A 0-byte packet whose sender has since gone looks like
// end of stream: every IMC message has a header, so none is 0 bytes.)
TEST(PacketTest, ZeroBytePacketIsNotEndOfStream) {
  Pair pair = MakePair();
  ASSERT_TRUE(SendPacket(pair.a.get(), {}, {}, {}).ok());
  char buffer[4];
  iovec iov = {buffer, sizeof(buffer)};
  absl::StatusOr<ReceivedPacket> packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->size, 0u);
  EXPECT_FALSE(packet->truncated);
  EXPECT_FALSE(AtEndOfStream(pair.b.get(), *packet));
  pair.a.reset();
  packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->size, 0u);
  EXPECT_TRUE(AtEndOfStream(pair.b.get(), *packet));
}

// Test that with the peer alive and nothing queued, a nonblocking receive is EAGAIN.
TEST(PacketTest, NothingQueuedIsEagain) {
  Pair pair = MakePair();
  char buffer[4];
  iovec iov = {buffer, sizeof(buffer)};
  absl::StatusOr<ReceivedPacket> packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  EXPECT_EQ(base::ErrnoOf(packet.status()), EAGAIN) << packet.status();
}

// Test that a packet longer than the buffers reports its full size and truncation, and
// still delivers its fds.
TEST(PacketTest, DataTruncation) {
  Pair pair = MakePair();
  std::vector<base::UniqueFd> pipes = MakePipeEnds(2);
  const std::string data(100, 'x');
  iovec out = {const_cast<char*>(data.data()), data.size()};
  std::vector<int> fds = RawFds(pipes);
  ASSERT_TRUE(SendPacket(pair.a.get(), {&out, 1}, fds, {}).ok());
  char buffer[10];
  iovec iov = {buffer, sizeof(buffer)};
  absl::StatusOr<ReceivedPacket> packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->size, 100u);
  EXPECT_TRUE(packet->truncated);
  EXPECT_EQ(packet->fds.size(), 2u);
}

// Test that a packet with more than 8 fds (control data truncated by the kernel) is
// consumed and refused with EPROTO, and that no fd of it stays open.
TEST(PacketTest, TooManyFdsIsEprotoAndClosesThem) {
  Pair pair = MakePair();
  {
    std::vector<base::UniqueFd> pipes = MakePipeEnds(12);
    ASSERT_EQ(pipes.size(), 12u);
    ASSERT_TRUE(SendRawPacket(pair.a.get(), "abc", RawFds(pipes)).ok());
  }
  const int fds_before = base::CountOpenFds();
  char buffer[8];
  iovec iov = {buffer, sizeof(buffer)};
  absl::StatusOr<ReceivedPacket> packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  EXPECT_EQ(base::ErrnoOf(packet.status()), EPROTO) << packet.status();
  EXPECT_EQ(base::CountOpenFds(), fds_before) << base::DescribeOpenFds();
  // Consumed: nothing is left.
  packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
  EXPECT_EQ(base::ErrnoOf(packet.status()), EAGAIN) << packet.status();
}

// Test that credentials the receiver's socket asked for (SO_PASSCRED), or a pidfd
// (SO_PASSPIDFD, where the kernel has it), make the packet EPROTO with its fds and the pidfd
// closed.
TEST(PacketTest, CredentialsAndPidfdAreEprotoAndClosed) {
  for (int option : {SO_PASSCRED, SO_PASSPIDFD}) {
    Pair pair = MakePair();
    const int one = 1;
    if (setsockopt(pair.b.get(), SOL_SOCKET, option, &one, sizeof(one)) != 0) {
      ASSERT_EQ(option, SO_PASSPIDFD) << "SO_PASSCRED: " << strerror(errno);
      continue;  // An older kernel without pidfds.
    }
    {
      std::vector<base::UniqueFd> pipes = MakePipeEnds(3);
      ASSERT_TRUE(SendRawPacket(pair.a.get(), "abc", RawFds(pipes)).ok());
    }
    const int fds_before = base::CountOpenFds();
    char buffer[8];
    iovec iov = {buffer, sizeof(buffer)};
    absl::StatusOr<ReceivedPacket> packet = ReceivePacket(pair.b.get(), {&iov, 1}, Nonblocking());
    EXPECT_EQ(base::ErrnoOf(packet.status()), EPROTO) << option << ": " << packet.status();
    EXPECT_EQ(base::CountOpenFds(), fds_before) << option << ": " << base::DescribeOpenFds();
  }
}

// Test that sending to a closed peer is EPIPE (no SIGPIPE kills the test).
TEST(PacketTest, SendToClosedPeerIsEpipe) {
  Pair pair = MakePair();
  pair.b.reset();
  char byte = 'x';
  iovec iov = {&byte, 1};
  absl::Status sent = SendPacket(pair.a.get(), {&iov, 1}, {}, {});
  EXPECT_EQ(base::ErrnoOf(sent), EPIPE) << sent;
}

}  // namespace
}  // namespace imc
