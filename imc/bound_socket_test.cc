#include "imc/bound_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/cancellation.h"
#include "imc/descriptor.h"
#include "imc/forked_child.h"
#include "imc/message_socket.h"
#include "imc/raw_peer.h"
#include "imc/text_message.h"
#include "imc/wire_format.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;
using ::testing::HasSubstr;
using ::testing::SizeIs;

using Bound = std::pair<BoundSocket, SocketAddress>;

// A pipe the parent writes one byte into to let a child go on.
struct Gate {
  UniqueFd read_end;
  UniqueFd write_end;

  static Gate Make() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
  void Open() { EXPECT_EQ(write(write_end.get(), "g", 1), 1); }
  // In the child: waits for Open() (or the parent's death); true if opened.
  bool Wait() const {
    char byte;
    return read(read_end.get(), &byte, 1) == 1;
  }
};

// True once `fd` has something to read (or a hang-up), within 10 seconds.
bool BecomesReadable(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return poll(&pfd, 1, 10000) == 1;
}

// Connects, accepts and checks one message each way.
void ExpectConnectionWorks(const BoundSocket& bound, const SocketAddress& address) {
  absl::StatusOr<ConnectedSocket> connection = address.Connect();
  ASSERT_OK(connection);
  absl::StatusOr<ConnectedSocket> accepted = bound.Accept(WithinSeconds(10));
  ASSERT_OK(accepted);
  ASSERT_OK(SendText(*connection, "request"));
  absl::StatusOr<TextMessage> request =
      ReceiveText(*accepted, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(request);
  EXPECT_EQ(request->text, "request");
  ASSERT_OK(SendText(*accepted, "reply"));
  absl::StatusOr<TextMessage> reply =
      ReceiveText(*connection, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(reply);
  EXPECT_EQ(reply->text, "reply");
}

// ---------------------------------------------------------------------------------------------
// MakeBoundSocket, Connect, Accept, Duplicate.

// Test that MakeBoundSocket returns the two close-on-exec ends of one SEQPACKET socketpair.
TEST(BoundSocketTest, MakeBoundSocketMakesASocketpair) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  EXPECT_OK(CheckImcSocket(bound_socket.fd()));
  EXPECT_OK(CheckImcSocket(address.fd()));
  EXPECT_EQ(fcntl(bound_socket.fd(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl(address.fd(), F_GETFD), FD_CLOEXEC);
  // The two are peers: what the address end sends, the bound end reads.
  ASSERT_EQ(send(address.fd(), "x", 1, MSG_NOSIGNAL), 1);
  EXPECT_TRUE(BecomesReadable(bound_socket.fd()));
}

// Test that MakeBoundSocket sizes the address's send buffer, where pending requests wait, to
// max_pending requests: 4096 by default (checked on the buffer, since 4096 requests in flight
// would take that much of root's RLIMIT_NOFILE budget, shared with the tests running beside).
TEST(BoundSocketTest, DefaultSendBufferHolds4096Requests) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  int buffer = 0;
  socklen_t length = sizeof(buffer);
  ASSERT_EQ(getsockopt(bound->second.fd(), SOL_SOCKET, SO_SNDBUF, &buffer, &length), 0);
  EXPECT_EQ(buffer, 4096 * PendingRequestBytes());
}

// Test that a pending request costs the send buffer what PendingRequestBytes() says.
TEST(BoundSocketTest, PendingRequestBytesIsWhatARequestCosts) {
  absl::StatusOr<Bound> bound = MakeBoundSocket({.max_pending = 10});
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect({false, Nonblocking()});
  ASSERT_OK(connection);
  int queued = 0;
  ASSERT_EQ(ioctl(bound->second.fd(), SIOCOUTQ, &queued), 0);
  EXPECT_EQ(queued, PendingRequestBytes());
  EXPECT_GT(PendingRequestBytes(), 0);
}

// Test that exactly max_pending requests queue; the next nonblocking Connect is EAGAIN and a
// Connect with a deadline ETIMEDOUT, each without leaving an fd behind; after one accept, one
// more request fits.
TEST(BoundSocketTest, PendingRequestsAreCapped) {
  constexpr int kCap = 100;
  absl::StatusOr<Bound> bound = MakeBoundSocket({.max_pending = kCap});
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::vector<ConnectedSocket> connections;
  for (int i = 0; i < kCap; ++i) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect({false, Nonblocking()});
    ASSERT_OK(connection) << "request " << i;
    connections.push_back(*std::move(connection));
  }
  const int before = base::CountOpenFds();
  EXPECT_THAT(address.Connect({false, Nonblocking()}), HasErrno(EAGAIN));
  EXPECT_THAT(address.Connect({false, WithinSeconds(0.2)}), HasErrno(ETIMEDOUT));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  int queued = 0;
  ASSERT_EQ(ioctl(bound_socket.fd(), SIOCINQ, &queued), 0);
  EXPECT_EQ(queued, kCap);

  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted);
  absl::StatusOr<ConnectedSocket> one_more = address.Connect({false, Nonblocking()});
  EXPECT_OK(one_more);
  EXPECT_THAT(address.Connect({false, Nonblocking()}), HasErrno(EAGAIN));
}

// Test that a blocking Connect beyond the cap waits, and goes on once the acceptor drains the
// queue.
TEST(BoundSocketTest, ConnectBeyondTheCapWaitsForAccepts) {
  constexpr int kCap = 16;
  absl::StatusOr<Bound> bound = MakeBoundSocket({.max_pending = kCap});
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::vector<ConnectedSocket> connections;
  for (int i = 0; i < kCap; ++i) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect({false, Nonblocking()});
    ASSERT_OK(connection);
    connections.push_back(*std::move(connection));
  }
  std::atomic<bool> connected{false};
  absl::Status blocked_result;
  std::thread blocked([&] {
    blocked_result = address.Connect().status();
    connected.store(true);
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(connected.load()) << "a Connect beyond the cap did not wait";
  for (int i = 0; i < kCap + 1; ++i) {
    absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(10));
    ASSERT_OK(accepted) << "accept " << i;
  }
  blocked.join();
  EXPECT_TRUE(connected.load());
  EXPECT_OK(blocked_result);
}

// Test that a cap of 100,000 is taken (the buffer needs CAP_NET_ADMIN beyond wmem_max; see
// pending_connections_test for 100,000 real requests), and that 0 and too many are EINVAL.
TEST(BoundSocketTest, MaxPendingRange) {
  EXPECT_OK(MakeBoundSocket({.max_pending = 100'000}));
  EXPECT_OK(MakeBoundSocket({.max_pending = 1}));
  EXPECT_THAT(MakeBoundSocket({.max_pending = 0}), HasErrno(EINVAL));
  EXPECT_THAT(MakeBoundSocket({.max_pending = kMaxPendingLimit + 1}), HasErrno(EINVAL));
}

// Test that a connection made through Connect and Accept carries messages both ways.
TEST(BoundSocketTest, ConnectAndAccept) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  ExpectConnectionWorks(bound->first, bound->second);
}

// Test that requests are accepted in the order they were made, messages included.
TEST(BoundSocketTest, AcceptsInOrder) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::vector<ConnectedSocket> connections;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect();
    ASSERT_OK(connection);
    ASSERT_OK(SendText(*connection, std::to_string(i)));
    connections.push_back(*std::move(connection));
  }
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
    ASSERT_OK(accepted);
    absl::StatusOr<TextMessage> id = ReceiveText(*accepted, 16, 0, Nonblocking());
    ASSERT_OK(id);
    EXPECT_EQ(id->text, std::to_string(i));
  }
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EAGAIN));
}

// Test that data sent on an unaccepted connection arrives once it is accepted.
TEST(BoundSocketTest, DataSentBeforeAcceptArrives) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  ASSERT_OK(SendText(*connection, "early"));
  ASSERT_OK(connection->Send({}));
  absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> early = ReceiveText(*accepted, 16, 0, Nonblocking());
  ASSERT_OK(early);
  EXPECT_EQ(early->text, "early");
  absl::StatusOr<TextMessage> empty = ReceiveText(*accepted, 16, 0, Nonblocking());
  ASSERT_OK(empty);
  EXPECT_EQ(empty->message.bytes, 0u);
}

// Test that the accept acknowledgement never shows up as user data: the connector's first
// message is the acceptor's first message, even an empty one.
TEST(BoundSocketTest, AcknowledgementIsNotUserData) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  ASSERT_OK(accepted->Send({}));
  ASSERT_OK(SendText(*accepted, "first"));
  absl::StatusOr<TextMessage> empty = ReceiveText(*connection, 16, kMaxDescriptors, Nonblocking());
  ASSERT_OK(empty);
  EXPECT_EQ(empty->message.bytes, 0u);
  absl::StatusOr<TextMessage> first = ReceiveText(*connection, 16, kMaxDescriptors, Nonblocking());
  ASSERT_OK(first);
  EXPECT_EQ(first->text, "first");
}

// Test that a duplicated address is another fd for the same socket, and both connect.
TEST(BoundSocketTest, DuplicateSharesTheAddress) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  absl::StatusOr<SocketAddress> copy = address.Duplicate();
  ASSERT_OK(copy);
  EXPECT_NE(copy->fd(), address.fd());
  EXPECT_EQ(fcntl(copy->fd(), F_GETFD), FD_CLOEXEC);
  struct stat original_stat, copy_stat;
  ASSERT_EQ(fstat(address.fd(), &original_stat), 0);
  ASSERT_EQ(fstat(copy->fd(), &copy_stat), 0);
  EXPECT_EQ(original_stat.st_ino, copy_stat.st_ino);
  ExpectConnectionWorks(bound_socket, *copy);
  ExpectConnectionWorks(bound_socket, address);
}

// Test that Connect and Accept leave exactly the two connection ends open.
TEST(BoundSocketTest, ConnectionHoldsTwoFds) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
    ASSERT_OK(connection);
    EXPECT_EQ(base::CountOpenFds(), before + 1);
    absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
    ASSERT_OK(accepted);
    EXPECT_EQ(base::CountOpenFds(), before + 2);
    EXPECT_EQ(fcntl(accepted->fd(), F_GETFD), FD_CLOEXEC);
  }
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// ---------------------------------------------------------------------------------------------
// Waiting in Accept and Connect.

// Test that a nonblocking Accept with nothing queued is EAGAIN.
TEST(BoundSocketTest, NonblockingAcceptOfNothingIsEagain) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  EXPECT_THAT(bound->first.Accept(Nonblocking()), HasErrno(EAGAIN));
}

// Test that Accept with a deadline and nothing queued is ETIMEDOUT once the deadline passed.
TEST(BoundSocketTest, AcceptDeadlineIsEtimedout) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  WaitOptions wait;
  wait.deadline = absl::Now() + absl::Milliseconds(100);
  EXPECT_THAT(bound->first.Accept(wait), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now(), wait.deadline);
}

// Test that a Cancellation cancelled from another thread wakes a blocked Accept with
// ECANCELED, and the bound socket still accepts afterwards.
TEST(BoundSocketTest, CancellationWakesBlockedAccept) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  WaitOptions wait;
  wait.cancellation = &*cancellation;
  std::thread canceller([&cancellation] {
    absl::SleepFor(absl::Milliseconds(50));
    cancellation->Cancel();
  });
  EXPECT_THAT(bound->first.Accept(wait), HasErrno(ECANCELED));
  canceller.join();
  ExpectConnectionWorks(bound->first, bound->second);
}

// Test that a blocked Accept returns the connection made by another thread.
TEST(BoundSocketTest, BlockedAcceptTakesLaterConnect) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  std::thread connector([&bound] {
    absl::SleepFor(absl::Milliseconds(50));
    absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
    ASSERT_OK(connection);
    EXPECT_OK(SendText(*connection, "hello"));
  });
  absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept();
  connector.join();
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> hello = ReceiveText(*accepted, 16, 0, WithinSeconds(10));
  ASSERT_OK(hello);
  EXPECT_EQ(hello->text, "hello");
}

// Test that once the address's send buffer is full of pending requests, a nonblocking Connect
// is EAGAIN, one with a deadline is ETIMEDOUT, neither leaks an fd, and accepting one request
// makes room again.
TEST(BoundSocketTest, ConnectWaitsWhenPendingRequestsFillTheBuffer) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  int small = 1;  // The kernel rounds it up to its minimum.
  ASSERT_EQ(setsockopt(address.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::vector<ConnectedSocket> pending;
  for (;;) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect({false, Nonblocking()});
    if (!connection.ok()) {
      ASSERT_THAT(connection, HasErrno(EAGAIN));
      break;
    }
    pending.push_back(*std::move(connection));
    ASSERT_LT(pending.size(), 1000u) << "the send buffer never filled";
  }
  ASSERT_FALSE(pending.empty());
  const int before = base::CountOpenFds();
  EXPECT_THAT(address.Connect({false, Nonblocking()}), HasErrno(EAGAIN));
  WaitOptions deadline;
  deadline.deadline = absl::Now() + absl::Milliseconds(100);
  EXPECT_THAT(address.Connect({false, deadline}), HasErrno(ETIMEDOUT));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();

  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_OK(address.Connect({false, WithinSeconds(10)}));
}

// ---------------------------------------------------------------------------------------------
// End of stream and closed bound sockets.

// Test that Accept is EPIPE once every copy of the address is closed, and only then.
TEST(BoundSocketTest, AcceptEndOfStreamWhenAllAddressesClosed) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<SocketAddress> copy = address.Duplicate();
  ASSERT_OK(copy);
  { SocketAddress closing = std::move(address); }
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EAGAIN));
  { SocketAddress closing = *std::move(copy); }
  const int before = base::CountOpenFds();
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EPIPE));
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
  EXPECT_THAT(bound_socket.Accept(), HasErrno(EPIPE));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that requests queued before the last address closed are accepted before end of stream.
TEST(BoundSocketTest, QueuedRequestsComeBeforeEndOfStream) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ConnectedSocket> first = address.Connect();
  ASSERT_OK(first);
  absl::StatusOr<ConnectedSocket> second = address.Connect();
  ASSERT_OK(second);
  { SocketAddress closing = std::move(address); }
  EXPECT_OK(bound_socket.Accept(Nonblocking()));
  EXPECT_OK(bound_socket.Accept(Nonblocking()));
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EPIPE));
}

// Test that Accept is EPIPE when the last copy of the address is closed in another process,
// and not before.
TEST(BoundSocketTest, AcceptEndOfStreamWhenLastCopyClosedInAnotherProcess) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  Gate gate = Gate::Make();
  // The child inherits a copy of the address and holds it until the gate opens.
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&gate]() -> int {
    CHILD_CHECK(gate.Wait());
    return 0;
  });
  ASSERT_OK(child);
  { SocketAddress closing = std::move(address); }
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EAGAIN));
  gate.Open();
  ASSERT_OK(child->Wait());
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that Accept is EPIPE when the only copy of the address was in flight inside a message
// that was dropped unread.
TEST(BoundSocketTest, AcceptEndOfStreamWhenOnlyCopyInFlightIsDropped) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  auto pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [sender, receiver] = *std::move(pair);
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSocketAddress, address.fd()}};
  ASSERT_OK(SendText(sender, "the only address", descriptors));
  { SocketAddress closing = std::move(address); }
  // In flight, the address still counts.
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EAGAIN));
  { ConnectedSocket closing = std::move(receiver); }
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that an address that was in flight and then received still connects.
TEST(BoundSocketTest, AddressInFlightKeepsTheSocketAlive) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  auto pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [sender, receiver] = *pair;
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSocketAddress, address.fd()}};
  ASSERT_OK(SendText(sender, "", descriptors));
  { SocketAddress closing = std::move(address); }
  absl::StatusOr<TextMessage> received = ReceiveText(receiver);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  SocketAddress arrived = SocketAddress::Adopt(std::move(received->message.descriptors[0].fd));
  ExpectConnectionWorks(bound_socket, arrived);
  { SocketAddress closing = std::move(arrived); }
  EXPECT_THAT(bound_socket.Accept(Nonblocking()), HasErrno(EPIPE));
}

// Test that Connect to a closed bound socket is ECONNREFUSED and leaks no fd.
TEST(BoundSocketTest, ConnectToClosedBoundSocketIsEconnrefused) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  { BoundSocket closing = std::move(bound_socket); }
  const int before = base::CountOpenFds();
  EXPECT_THAT(address.Connect(), HasErrno(ECONNREFUSED));
  EXPECT_THAT(address.Connect({false, Nonblocking()}), HasErrno(ECONNREFUSED));
  EXPECT_THAT(address.Connect({true, WithinSeconds(10)}), HasErrno(ECONNREFUSED));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that neither Connect to a closed bound socket nor Accept of a request whose connector
// left raises SIGPIPE, even at its default disposition (which would kill the child).
TEST(BoundSocketTest, ClosedPeersRaiseNoSigpipe) {
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([]() -> int {
    CHILD_CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    absl::StatusOr<Bound> bound = MakeBoundSocket();
    CHILD_CHECK_OK(bound);
    auto [bound_socket, address] = *std::move(bound);
    // The acceptor's acknowledgement goes to a connector that already left.
    { CHILD_CHECK_OK(address.Connect()); }
    absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(10));
    CHILD_CHECK_OK(accepted);
    CHILD_CHECK_ERRNO(ReceiveText(*accepted, 16, 0, WithinSeconds(10)), EPIPE);
    CHILD_CHECK_ERRNO(SendText(*accepted, "gone"), EPIPE);
    { BoundSocket closing = std::move(bound_socket); }
    CHILD_CHECK_ERRNO(address.Connect(), ECONNREFUSED);
    return 0;
  });
  ASSERT_OK(child);
  EXPECT_OK(child->Wait());
}

// Test that a request dropped unaccepted (bound socket closed) shows up as ECONNREFUSED on the
// connection's first Receive, promptly, and sending on it is EPIPE.
TEST(BoundSocketTest, DroppedRequestIsEconnrefusedOnFirstReceive) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ConnectedSocket> connection = address.Connect();
  ASSERT_OK(connection);
  { BoundSocket closing = std::move(bound_socket); }
  const int before = base::CountOpenFds();
  const absl::Time start = absl::Now();
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)),
              HasErrno(ECONNREFUSED));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, Nonblocking()), HasErrno(ECONNREFUSED));
  EXPECT_THAT(SendText(*connection, "x"), HasErrno(EPIPE));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that a dropped request is ECONNREFUSED even when the connector had already sent data
// on the connection.
TEST(BoundSocketTest, DroppedRequestWithDataSentIsEconnrefused) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ConnectedSocket> connection = address.Connect();
  ASSERT_OK(connection);
  ASSERT_OK(SendText(*connection, "never read"));
  { BoundSocket closing = std::move(bound_socket); }
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)),
              HasErrno(ECONNREFUSED));
}

// Test that a connection accepted and then closed by the acceptor reports EPIPE, not
// ECONNREFUSED, after the messages sent before the close.
TEST(BoundSocketTest, AcceptedThenClosedIsEpipe) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  {
    absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
    ASSERT_OK(accepted);
    ASSERT_OK(SendText(*accepted, "goodbye"));
  }
  absl::StatusOr<TextMessage> goodbye =
      ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(goodbye);
  EXPECT_EQ(goodbye->text, "goodbye");
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// Bytes waiting in `fd`'s receive queue.
int QueuedBytes(int fd) {
  int queued = -1;
  return ioctl(fd, SIOCINQ, &queued) == 0 ? queued : -1;
}

// Test that accepting a connector that does not wait sends it nothing: the acknowledgement
// costs nothing then. Only an accepted connection closed before it sent anything owes one.
TEST(BoundSocketTest, PlainAcceptSendsNoAcknowledgement) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  {
    absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
    ASSERT_OK(accepted);
    EXPECT_EQ(QueuedBytes(connection->fd()), 0);
  }
  EXPECT_EQ(QueuedBytes(connection->fd()), static_cast<int>(sizeof(WireHeader)));
}

// Test that an accepted connection that sent a message owes no acknowledgement: its messages
// say "accepted" themselves.
TEST(BoundSocketTest, MessagesFromTheAcceptorCarryTheAcceptance) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  {
    absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
    ASSERT_OK(accepted);
    ASSERT_OK(SendText(*accepted, "hi"));
  }
  EXPECT_EQ(QueuedBytes(connection->fd()), static_cast<int>(sizeof(WireHeader) + 2));
  ASSERT_OK(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)));
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that a connection accepted and closed without a word is EPIPE, even though the
// connector never read the acknowledgement before.
TEST(BoundSocketTest, AcceptedThenClosedSilentlyIsEpipe) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect();
  ASSERT_OK(connection);
  ASSERT_OK(SendText(*connection, "unread by the acceptor"));
  { ASSERT_OK(bound->first.Accept(Nonblocking())); }
  EXPECT_THAT(ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that an acceptor that takes a request whose connector already left gets a connection
// whose first Receive is EPIPE.
TEST(BoundSocketTest, AcceptOfAbandonedRequestIsEpipeOnReceive) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  { ASSERT_OK(bound->second.Connect()); }
  absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_THAT(ReceiveText(*accepted, 16, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// ---------------------------------------------------------------------------------------------
// Confirmed connect.

// Test that a confirmed connect returns once another thread accepted, and the connection works.
TEST(ConfirmedConnectTest, SucceedsWhenAcceptedByAnotherThread) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  std::thread acceptor([&bound] {
    absl::SleepFor(absl::Milliseconds(50));
    absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(WithinSeconds(10));
    ASSERT_OK(accepted);
    EXPECT_OK(SendText(*accepted, "welcome"));
  });
  absl::StatusOr<ConnectedSocket> connection = bound->second.Connect({true, WithinSeconds(10)});
  acceptor.join();
  ASSERT_OK(connection);
  absl::StatusOr<TextMessage> welcome =
      ReceiveText(*connection, 16, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(welcome);
  EXPECT_EQ(welcome->text, "welcome");
}

// Test that a confirmed connect without a deadline also returns once accepted.
TEST(ConfirmedConnectTest, SucceedsWithoutDeadline) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  std::thread acceptor([&bound] {
    absl::SleepFor(absl::Milliseconds(20));
    EXPECT_OK(bound->first.Accept(WithinSeconds(10)));
  });
  ConnectOptions options;
  options.wait_for_accept = true;
  EXPECT_OK(bound->second.Connect(options));
  acceptor.join();
}

// Test that a confirmed connect returns once a process that holds the bound socket accepted.
TEST(ConfirmedConnectTest, SucceedsWhenAcceptedByAnotherProcess) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&bound_socket = bound_socket]() -> int {
    absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
    CHILD_CHECK_OK(accepted);
    CHILD_CHECK_OK(SendText(*accepted, "accepted by the child"));
    return 0;
  });
  ASSERT_OK(child);
  { BoundSocket closing = std::move(bound_socket); }  // The child holds the only copy.
  absl::StatusOr<ConnectedSocket> connection = address.Connect({true, WithinSeconds(30)});
  EXPECT_OK(child->Wait());
  ASSERT_OK(connection);
  absl::StatusOr<TextMessage> text =
      ReceiveText(*connection, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(text);
  EXPECT_EQ(text->text, "accepted by the child");
}

// Test that a confirmed connect fails cleanly with ECONNREFUSED, and leaks no fd, when the
// bound socket is closed while the request waits.
TEST(ConfirmedConnectTest, EconnrefusedWhenBoundSocketClosedBeforeAccept) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  const int before = base::CountOpenFds();
  absl::StatusOr<ConnectedSocket> connection = absl::UnknownError("not run");
  std::thread connector([&address = address, &connection] {
    connection = address.Connect({true, WithinSeconds(30)});
  });
  // Close the bound socket once the request is queued.
  ASSERT_TRUE(BecomesReadable(bound_socket.fd()));
  { BoundSocket closing = std::move(bound_socket); }
  connector.join();
  EXPECT_THAT(connection, HasErrno(ECONNREFUSED));
  EXPECT_EQ(base::CountOpenFds(), before - 1) << base::DescribeOpenFds();
}

// Test that a confirmed connect is ECONNREFUSED when the process holding the only bound socket
// exits without accepting.
TEST(ConfirmedConnectTest, EconnrefusedWhenAcceptorProcessExits) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&bound_socket = bound_socket]() -> int {
    // Wait for the request, then leave without accepting it.
    CHILD_CHECK(BecomesReadable(bound_socket.fd()));
    return 0;
  });
  ASSERT_OK(child);
  { BoundSocket closing = std::move(bound_socket); }
  EXPECT_THAT(address.Connect({true, WithinSeconds(30)}), HasErrno(ECONNREFUSED));
  EXPECT_OK(child->Wait());
}

// Test that a confirmed connect nobody accepts is ETIMEDOUT at its deadline and leaks no fd.
TEST(ConfirmedConnectTest, EtimedoutAtDeadline) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  const int before = base::CountOpenFds();
  WaitOptions wait;
  wait.deadline = absl::Now() + absl::Milliseconds(200);
  EXPECT_THAT(bound->second.Connect({true, wait}), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now(), wait.deadline);
  EXPECT_LT(absl::Now() - wait.deadline, absl::Seconds(5));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  // The abandoned request is still queued; its connection is closed.
  absl::StatusOr<ConnectedSocket> accepted = bound->first.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_THAT(ReceiveText(*accepted, 16, 0, WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that a nonblocking confirmed connect that nobody accepted yet is EAGAIN.
TEST(ConfirmedConnectTest, NonblockingIsEagain) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  EXPECT_THAT(bound->second.Connect({true, Nonblocking()}), HasErrno(EAGAIN));
}

// Test that a Cancellation cancelled from another thread wakes a confirmed connect with
// ECANCELED.
TEST(ConfirmedConnectTest, CancellationWakesIt) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  ConnectOptions options;
  options.wait_for_accept = true;
  options.wait.cancellation = &*cancellation;
  std::thread canceller([&cancellation] {
    absl::SleepFor(absl::Milliseconds(50));
    cancellation->Cancel();
  });
  EXPECT_THAT(bound->second.Connect(options), HasErrno(ECANCELED));
  canceller.join();
}

// Test that a confirmed connect refuses a connection whose first packet is a message rather
// than the acknowledgement (a raw acceptor that did not follow the protocol).
TEST(ConfirmedConnectTest, MessageBeforeAcknowledgementIsEproto) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  std::thread raw_acceptor([&bound] {
    char byte;
    iovec iov = {&byte, 1};
    char control[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ASSERT_EQ(recvmsg(bound->first.fd(), &msg, MSG_CMSG_CLOEXEC), 1);
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    }
    ASSERT_GE(fd, 0);
    UniqueFd connection(fd);
    EXPECT_OK(
        SendRawMessage(connection.get(), MakeWireHeader(PacketKind::kMessage, 0, {}), "", {}));
  });
  EXPECT_THAT(bound->second.Connect({true, WithinSeconds(10)}), HasErrno(EPROTO));
  raw_acceptor.join();
}

// ---------------------------------------------------------------------------------------------
// Across processes.

// Test that a child connects through the address it inherited and the parent accepts.
TEST(BoundSocketTest, ChildConnectsThroughInheritedAddress) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&address = address]() -> int {
    absl::StatusOr<ConnectedSocket> connection = address.Connect();
    CHILD_CHECK_OK(connection);
    CHILD_CHECK_OK(SendText(*connection, "from the child"));
    absl::StatusOr<TextMessage> reply =
        ReceiveText(*connection, 64, kMaxDescriptors, WithinSeconds(30));
    CHILD_CHECK_OK(reply);
    CHILD_CHECK(reply->text == "from the parent");
    return 0;
  });
  ASSERT_OK(child);
  { SocketAddress closing = std::move(address); }
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> request = ReceiveText(*accepted, 64, 0, WithinSeconds(30));
  ASSERT_OK(request);
  EXPECT_EQ(request->text, "from the child");
  ASSERT_OK(SendText(*accepted, "from the parent"));
  EXPECT_OK(child->Wait());
  // The child held the last copy of the address.
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that a SocketAddress sent in a message to another process works there: the child
// connects with it, the parent accepts, and once the child is gone so is the address.
TEST(BoundSocketTest, ChildConnectsThroughAddressSentInMessage) {
  auto channel = MakeConnectedPair();
  ASSERT_OK(channel);
  auto [parent_end, child_end] = *std::move(channel);
  // The child is forked before the bound socket exists: the address reaches it only in the
  // message.
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&child_end = child_end]() -> int {
    absl::StatusOr<TextMessage> received =
        ReceiveText(child_end, 64, kMaxDescriptors, WithinSeconds(30));
    CHILD_CHECK_OK(received);
    CHILD_CHECK(received->message.descriptors.size() == 1);
    CHILD_CHECK(received->message.descriptors[0].kind == DescriptorKind::kSocketAddress);
    SocketAddress address = SocketAddress::Adopt(std::move(received->message.descriptors[0].fd));
    absl::StatusOr<ConnectedSocket> connection = address.Connect({true, WithinSeconds(30)});
    CHILD_CHECK_OK(connection);
    CHILD_CHECK_OK(SendText(*connection, "connected with the sent address"));
    absl::StatusOr<TextMessage> bye = ReceiveText(*connection, 64, 0, WithinSeconds(30));
    CHILD_CHECK_OK(bye);
    CHILD_CHECK(bye->text == "bye");
    return 0;
  });
  ASSERT_OK(child);
  { ConnectedSocket closing = std::move(child_end); }
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSocketAddress, address.fd()}};
  ASSERT_OK(SendText(parent_end, "here is the address", descriptors));
  { SocketAddress closing = std::move(address); }
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> hello = ReceiveText(*accepted, 64, 0, WithinSeconds(30));
  ASSERT_OK(hello);
  EXPECT_EQ(hello->text, "connected with the sent address");
  ASSERT_OK(SendText(*accepted, "bye"));
  EXPECT_OK(child->Wait());
  EXPECT_THAT(bound_socket.Accept(WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that the parent connects to a bound socket whose only copy lives in a child, and the
// child accepts and answers.
TEST(BoundSocketTest, ChildAcceptsParentConnects) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto [bound_socket, address] = *std::move(bound);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&bound_socket = bound_socket]() -> int {
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
      CHILD_CHECK_OK(accepted);
      absl::StatusOr<TextMessage> request = ReceiveText(*accepted, 64, 0, WithinSeconds(30));
      CHILD_CHECK_OK(request);
      CHILD_CHECK_OK(SendText(*accepted, "echo " + request->text));
    }
    return 0;
  });
  ASSERT_OK(child);
  { BoundSocket closing = std::move(bound_socket); }
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ConnectedSocket> connection = address.Connect();
    ASSERT_OK(connection);
    ASSERT_OK(SendText(*connection, std::to_string(i)));
    absl::StatusOr<TextMessage> echo = ReceiveText(*connection, 64, 0, WithinSeconds(30));
    ASSERT_OK(echo);
    EXPECT_EQ(echo->text, "echo " + std::to_string(i));
  }
  EXPECT_OK(child->Wait());
  EXPECT_THAT(address.Connect(), HasErrno(ECONNREFUSED));
}

// ---------------------------------------------------------------------------------------------
// Malformed connection requests sent raw on the address: refused with EPROTO, every fd closed,
// and the bound socket keeps accepting.

class MalformedRequestTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Bound> bound = MakeBoundSocket();
    ASSERT_OK(bound);
    bound_.emplace(*std::move(bound));
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    socket_end_.reset(fds[0]);
    socket_peer_.reset(fds[1]);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    second_socket_.reset(fds[0]);
    second_peer_.reset(fds[1]);
  }

  const BoundSocket& bound_socket() const { return bound_->first; }
  int address_fd() const { return bound_->second.fd(); }

  void ExpectRefused(absl::string_view why) {
    const int before = base::CountOpenFds();
    absl::StatusOr<ConnectedSocket> accepted = bound_socket().Accept(WithinSeconds(10));
    EXPECT_THAT(accepted, HasErrno(EPROTO));
    EXPECT_THAT(std::string(accepted.status().message()), HasSubstr(why));
    EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
    ExpectConnectionWorks(bound_socket(), bound_->second);
  }

  std::optional<Bound> bound_;
  UniqueFd socket_end_, socket_peer_, second_socket_, second_peer_;
};

// Test that a request with two fds is refused and both fds closed.
TEST_F(MalformedRequestTest, TwoFds) {
  ASSERT_OK(SendRawPacket(address_fd(), "c", {socket_end_.get(), second_socket_.get()}));
  ExpectRefused("2 fds");
}

// Test that a request without an fd is refused.
TEST_F(MalformedRequestTest, NoFd) {
  ASSERT_OK(SendRawPacket(address_fd(), "c", {}));
  ExpectRefused("0 fds");
}

// Test that a request with the wrong byte is refused and its fd closed.
TEST_F(MalformedRequestTest, WrongByte) {
  ASSERT_OK(SendRawPacket(address_fd(), "x", {socket_end_.get()}));
  ExpectRefused("wrong request byte");
}

// Test that a request of two bytes is refused and its fd closed.
TEST_F(MalformedRequestTest, TwoBytes) {
  ASSERT_OK(SendRawPacket(address_fd(), "cc", {socket_end_.get()}));
  ExpectRefused("2 bytes");
}

// Test that a long request is refused and its fd closed.
TEST_F(MalformedRequestTest, LongRequest) {
  ASSERT_OK(SendRawPacket(address_fd(), std::string(1000, 'c'), {socket_end_.get()}));
  ExpectRefused("1000 bytes");
}

// Test that a 0-byte packet is refused as malformed, not taken for end of stream.
TEST_F(MalformedRequestTest, ZeroBytePacket) {
  ASSERT_OK(SendRawPacket(address_fd(), "", {}));
  ExpectRefused("0 bytes");
}

// Test that a 0-byte packet with an fd is refused and its fd closed.
TEST_F(MalformedRequestTest, ZeroBytePacketWithFd) {
  ASSERT_OK(SendRawPacket(address_fd(), "", {socket_end_.get()}));
  ExpectRefused("0 bytes");
}

// Test that a request with nine fds (more than the control buffer holds) is refused and every
// fd closed.
TEST_F(MalformedRequestTest, NineFds) {
  std::vector<UniqueFd> pipes = MakePipeEnds(8);
  ASSERT_THAT(pipes, SizeIs(8));
  std::vector<int> fds = RawFds(pipes);
  fds.push_back(socket_end_.get());
  ASSERT_OK(SendRawPacket(address_fd(), "c", fds));
  ExpectRefused("more than 8 fds");
}

// Test that a request carrying a pipe instead of a socket is refused and the pipe closed.
TEST_F(MalformedRequestTest, PipeInsteadOfSocket) {
  std::vector<UniqueFd> pipes = MakePipeEnds(1);
  ASSERT_THAT(pipes, SizeIs(1));
  ASSERT_OK(SendRawPacket(address_fd(), "c", RawFds(pipes)));
  ExpectRefused("not a socket");
}

// Test that a request carrying a unix stream socket is refused and the socket closed (it
// would lose message boundaries). The other wrong kinds are in hostile_peer_test.
TEST_F(MalformedRequestTest, StreamSocketIsRefused) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd stream(fds[0]), stream_peer(fds[1]);
  ASSERT_OK(SendRawPacket(address_fd(), "c", {stream.get()}));
  stream.reset();
  ExpectRefused("not a SOCK_SEQPACKET socket");
}

// Test that a request carrying a listening socket is refused and the socket closed (it has no
// peer).
TEST_F(MalformedRequestTest, ListeningSocketIsRefused) {
  UniqueFd listener(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  struct sockaddr_un autobind = {};
  autobind.sun_family = AF_UNIX;
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&autobind), sizeof(sa_family_t)), 0);
  ASSERT_EQ(listen(listener.get(), 1), 0);
  ASSERT_OK(SendRawPacket(address_fd(), "c", {listener.get()}));
  listener.reset();
  ExpectRefused("listening or unconnected");
}

// Test that several malformed requests in a row are each refused, and a good one queued after
// them is accepted.
TEST_F(MalformedRequestTest, GoodRequestAfterBadOnes) {
  ASSERT_OK(SendRawPacket(address_fd(), "x", {socket_end_.get()}));
  ASSERT_OK(SendRawPacket(address_fd(), "c", {}));
  absl::StatusOr<ConnectedSocket> connection = bound_->second.Connect();
  ASSERT_OK(connection);
  const int before = base::CountOpenFds();
  EXPECT_THAT(bound_socket().Accept(Nonblocking()), HasErrno(EPROTO));
  EXPECT_THAT(bound_socket().Accept(Nonblocking()), HasErrno(EPROTO));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  absl::StatusOr<ConnectedSocket> accepted = bound_socket().Accept(Nonblocking());
  ASSERT_OK(accepted);
  ASSERT_OK(SendText(*connection, "good"));
  absl::StatusOr<TextMessage> good = ReceiveText(*accepted, 16, 0, Nonblocking());
  ASSERT_OK(good);
  EXPECT_EQ(good->text, "good");
}

}  // namespace
// ---------------------------------------------------------------------------------------------
// The first message in the connection request (ConnectAndSend) and the extended request.

// Returns an extended request: 'c', a kConnectRequest header with `flags` describing
// `declared_bytes` and `tags`, then `bytes`.
std::string ExtendedRequest(uint8_t flags, uint32_t declared_bytes, absl::string_view bytes,
                            absl::Span<const WireTag> tags = {},
                            PacketKind kind = PacketKind::kConnectRequest) {
  WireHeader header = MakeWireHeader(kind, declared_bytes, tags);
  header.flags = flags;
  std::string request = "c";
  request.append(reinterpret_cast<const char*>(&header), sizeof(header));
  request.append(bytes.data(), bytes.size());
  return request;
}

// Test that ConnectAndSend's message is the accepted connection's first message, kept in the
// socket (not in the kernel queue) until Receive() takes it, and that the connection then
// carries messages both ways, with the acceptance known to the connector.
TEST(ConnectAndSendTest, FirstMessageArrivesWithTheRequest) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::string text = "first message";
  iovec iov = {text.data(), text.size()};
  absl::StatusOr<ConnectedSocket> connection = address.ConnectAndSend({{&iov, 1}, {}});
  ASSERT_OK(connection);
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_TRUE(accepted->HasBufferedMessage());
  // Nothing waits in the kernel: the message came in the request.
  int queued = -1;
  ASSERT_EQ(ioctl(accepted->fd(), SIOCINQ, &queued), 0);
  EXPECT_EQ(queued, 0);
  absl::StatusOr<TextMessage> first = ReceiveText(*accepted, 64, kMaxDescriptors, Nonblocking());
  ASSERT_OK(first);
  EXPECT_EQ(first->text, "first message");
  EXPECT_FALSE(first->message.data_truncated);
  EXPECT_FALSE(accepted->HasBufferedMessage());
  EXPECT_THAT(ReceiveText(*accepted, 64, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  ASSERT_OK(SendText(*connection, "second"));
  absl::StatusOr<TextMessage> second = ReceiveText(*accepted, 64, 0, WithinSeconds(10));
  ASSERT_OK(second);
  EXPECT_EQ(second->text, "second");
  ASSERT_OK(SendText(*accepted, "reply"));
  absl::StatusOr<TextMessage> reply = ReceiveText(*connection, 64, 0, WithinSeconds(10));
  ASSERT_OK(reply);
  EXPECT_EQ(reply->text, "reply");
}

// Test that a buffered first message is scattered over several buffers and truncated like a
// received one (DATA_TRUNCATED, the rest dropped), and that an empty first message arrives.
TEST(ConnectAndSendTest, BufferedMessageScattersAndTruncates) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::string a = "abc", b = "defgh";
  iovec out[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  absl::StatusOr<ConnectedSocket> connection = address.ConnectAndSend({{out, 2}, {}});
  ASSERT_OK(connection);
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted);
  char x[2], y[4];
  iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  absl::StatusOr<ReceivedMessage> received = accepted->Receive({in, 2}, 0, Nonblocking());
  ASSERT_OK(received);
  EXPECT_EQ(received->bytes, 6u);
  EXPECT_TRUE(received->data_truncated);
  EXPECT_EQ(std::string(x, 2) + std::string(y, 4), "abcdef");

  absl::StatusOr<ConnectedSocket> empty = address.ConnectAndSend({{}, {}});
  ASSERT_OK(empty);
  absl::StatusOr<ConnectedSocket> accepted_empty = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted_empty);
  EXPECT_TRUE(accepted_empty->HasBufferedMessage());
  absl::StatusOr<TextMessage> nothing = ReceiveText(*accepted_empty, 64, 0, Nonblocking());
  ASSERT_OK(nothing);
  EXPECT_EQ(nothing->text, "");
}

// Test that a first message with a descriptor, or longer than kMaxFirstMessageBytes, is sent
// after a plain request instead, and arrives the same.
TEST(ConnectAndSendTest, LargeOrDescriptorMessageIsSentAfterTheRequest) {
  absl::StatusOr<Bound> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  std::vector<UniqueFd> pipes = MakePipeEnds(1);
  ASSERT_THAT(pipes, SizeIs(1));
  std::string text = "with a pipe";
  iovec iov = {text.data(), text.size()};
  const OutgoingDescriptor pipe[] = {{DescriptorKind::kHostIo, pipes[0].get()}};
  absl::StatusOr<ConnectedSocket> with_fd = address.ConnectAndSend({{&iov, 1}, pipe});
  ASSERT_OK(with_fd);
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted);
  EXPECT_FALSE(accepted->HasBufferedMessage());
  absl::StatusOr<TextMessage> received =
      ReceiveText(*accepted, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "with a pipe");
  EXPECT_THAT(received->message.descriptors, SizeIs(1));

  std::string large(kMaxFirstMessageBytes + 1, 'L');
  iovec large_iov = {large.data(), large.size()};
  absl::StatusOr<ConnectedSocket> large_connection = address.ConnectAndSend({{&large_iov, 1}, {}});
  ASSERT_OK(large_connection);
  absl::StatusOr<ConnectedSocket> accepted_large = bound_socket.Accept(Nonblocking());
  ASSERT_OK(accepted_large);
  EXPECT_FALSE(accepted_large->HasBufferedMessage());
  absl::StatusOr<TextMessage> received_large =
      ReceiveText(*accepted_large, large.size(), 0, WithinSeconds(10));
  ASSERT_OK(received_large);
  EXPECT_EQ(received_large->text, large);
}

// Test that a request carrying a first message that is dropped unaccepted (the bound socket
// closes) is reported to the connector as ECONNREFUSED, and no fd is left behind.
TEST(ConnectAndSendTest, DroppedRequestIsRefused) {
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<Bound> bound = MakeBoundSocket();
    ASSERT_OK(bound);
    std::string text = "lost";
    iovec iov = {text.data(), text.size()};
    absl::StatusOr<ConnectedSocket> connection = bound->second.ConnectAndSend({{&iov, 1}, {}});
    ASSERT_OK(connection);
    { BoundSocket closing = std::move(bound->first); }
    EXPECT_THAT(ReceiveText(*connection, 64, 0, WithinSeconds(10)), HasErrno(ECONNREFUSED));
  }
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that ConnectAndSend with wait_for_accept returns once a thread accepted, and the
// message arrives; and that an accepted connection closed with its first message unreceived
// leaks nothing.
TEST(ConnectAndSendTest, WaitsForAcceptance) {
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<Bound> bound = MakeBoundSocket();
    ASSERT_OK(bound);
    auto& [bound_socket, address] = *bound;
    std::optional<absl::StatusOr<ConnectedSocket>> accepted;
    std::thread acceptor([&] { accepted.emplace(bound_socket.Accept(WithinSeconds(10))); });
    std::string text = "waited";
    iovec iov = {text.data(), text.size()};
    ConnectOptions options;
    options.wait_for_accept = true;
    options.wait = WithinSeconds(10);
    absl::StatusOr<ConnectedSocket> connection = address.ConnectAndSend({{&iov, 1}, {}}, options);
    acceptor.join();
    ASSERT_OK(connection);
    ASSERT_TRUE(accepted.has_value());
    ASSERT_OK(*accepted);
    absl::StatusOr<TextMessage> received = ReceiveText(**accepted, 64, 0, Nonblocking());
    ASSERT_OK(received);
    EXPECT_EQ(received->text, "waited");
    // Unreceived this time.
    absl::StatusOr<ConnectedSocket> second = address.ConnectAndSend({{&iov, 1}, {}});
    ASSERT_OK(second);
    absl::StatusOr<ConnectedSocket> accepted_second = bound_socket.Accept(Nonblocking());
    ASSERT_OK(accepted_second);
    EXPECT_TRUE(accepted_second->HasBufferedMessage());
  }
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that an extended request without a message but with kFlagAwaitsAccept is acknowledged
// at once, and an extended request with no flags is a plain one.
TEST_F(MalformedRequestTest, ExtendedRequestWithoutMessageIsAccepted) {
  ASSERT_OK(
      SendRawPacket(address_fd(), ExtendedRequest(kFlagAwaitsAccept, 0, ""), {socket_end_.get()}));
  socket_end_.reset();
  absl::StatusOr<ConnectedSocket> accepted = bound_socket().Accept(WithinSeconds(10));
  ASSERT_OK(accepted);
  EXPECT_FALSE(accepted->HasBufferedMessage());
  // The acknowledgement is the one packet the connector's end holds.
  char ack[64];
  EXPECT_EQ(recv(socket_peer_.get(), ack, sizeof(ack), MSG_DONTWAIT),
            static_cast<ssize_t>(sizeof(WireHeader)));
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(0, 0, ""), {second_socket_.get()}));
  second_socket_.reset();
  absl::StatusOr<ConnectedSocket> plain = bound_socket().Accept(WithinSeconds(10));
  ASSERT_OK(plain);
  EXPECT_FALSE(plain->HasBufferedMessage());
  EXPECT_EQ(recv(second_peer_.get(), ack, sizeof(ack), MSG_DONTWAIT), -1);
}

// Test that an extended request shorter than its header is refused and its fd closed.
TEST_F(MalformedRequestTest, ShortExtendedRequest) {
  ASSERT_OK(SendRawPacket(address_fd(), "c123456789", {socket_end_.get()}));
  ExpectRefused("10 bytes, expected 1 or at least 17");
}

// Test that an extended request whose header is of a message, not a request, is refused.
TEST_F(MalformedRequestTest, ExtendedRequestOfTheWrongKind) {
  ASSERT_OK(SendRawPacket(address_fd(),
                          ExtendedRequest(kFlagCarriesMessage, 2, "hi", {}, PacketKind::kMessage),
                          {socket_end_.get()}));
  ExpectRefused("not a connection request");
}

// Test that an extended request with a flag it may not have (an unknown one, or the acceptor's)
// is refused.
TEST_F(MalformedRequestTest, ExtendedRequestWithUnknownFlags) {
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(0x8, 0, ""), {socket_end_.get()}));
  ExpectRefused("unknown flags");
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagFromAcceptor, 0, ""),
                          {second_socket_.get()}));
  ExpectRefused("unknown flags");
}

// Test that an extended request whose header miscounts its bytes is refused.
TEST_F(MalformedRequestTest, ExtendedRequestMiscountsBytes) {
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagCarriesMessage, 5, "hi"),
                          {socket_end_.get()}));
  ExpectRefused("header says 5 bytes, packet has 2");
}

// Test that bytes after an extended request that says it carries no message are refused.
TEST_F(MalformedRequestTest, BytesWithoutTheMessageFlag) {
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(0, 2, "hi"), {socket_end_.get()}));
  ExpectRefused("without a message");
}

// Test that a first message with descriptors (a tag and its fd after the connection's) is
// refused and both fds closed, and so is a tag without its fd.
TEST_F(MalformedRequestTest, FirstMessageWithDescriptors) {
  const WireTag tags[] = {DescriptorKind::kDataOnlySocket};
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagCarriesMessage, 0, "", tags),
                          {socket_end_.get(), second_socket_.get()}));
  second_socket_.reset();
  ExpectRefused("2 fds, expected 1");
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagCarriesMessage, 0, "", tags),
                          {socket_end_.get()}));
  ExpectRefused("header names 1 host fds, 0 arrived");
  const WireTag invalid[] = {DescriptorKind::kInvalid};
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagCarriesMessage, 0, "", invalid),
                          {socket_end_.get()}));
  ExpectRefused("with descriptors");
}

// Test that an extended request with a first message longer than kMaxFirstMessageBytes is
// refused (it arrives truncated) and its fd closed.
TEST_F(MalformedRequestTest, FirstMessageTooLong) {
  const std::string bytes(kMaxFirstMessageBytes + 1, 'x');
  ASSERT_OK(SendRawPacket(address_fd(), ExtendedRequest(kFlagCarriesMessage, bytes.size(), bytes),
                          {socket_end_.get()}));
  ExpectRefused("at most");
}

// Test that an extended request of another wire version is refused.
TEST_F(MalformedRequestTest, ExtendedRequestOfAnotherVersion) {
  std::string request = ExtendedRequest(0, 0, "");
  request[1] = static_cast<char>(kWireVersion + 1);
  ASSERT_OK(SendRawPacket(address_fd(), request, {socket_end_.get()}));
  ExpectRefused("version");
}

}  // namespace imc
