#include "imc/message_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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
#include "imc/bound_socket.h"
#include "imc/cancellation.h"
#include "imc/descriptor.h"
#include "imc/forked_child.h"
#include "imc/raw_peer.h"
#include "imc/shared_memory.h"
#include "imc/text_message.h"
#include "imc/wire_format.h"

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using ConnectedPair = std::pair<ConnectedSocket, ConnectedSocket>;

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe MakePipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Sends a well-formed message after a malformed one and checks that it arrives, so that each
// malformed-traffic test also shows the stream goes on.
void ExpectStreamStillWorks(const ConnectedSocket& sender, const ConnectedSocket& receiver) {
  ASSERT_OK(SendText(sender, "still here"));
  absl::StatusOr<TextMessage> received =
      ReceiveText(receiver, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "still here");
}

// ---------------------------------------------------------------------------------------------
// Bytes.

// Test that a message's bytes arrive whole and in order.
TEST(MessageSocketTest, BytesRoundTrip) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(SendText(a, "hello"));
  ASSERT_OK(SendText(a, "world!"));
  absl::StatusOr<TextMessage> first = ReceiveText(b);
  ASSERT_OK(first);
  EXPECT_EQ(first->text, "hello");
  EXPECT_FALSE(first->message.data_truncated);
  EXPECT_FALSE(first->message.descriptors_truncated);
  EXPECT_THAT(first->message.descriptors, IsEmpty());
  absl::StatusOr<TextMessage> second = ReceiveText(b);
  ASSERT_OK(second);
  EXPECT_EQ(second->text, "world!");
}

// Test that both ends of a connected pair send and receive.
TEST(MessageSocketTest, BothDirections) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(SendText(b, "from b"));
  absl::StatusOr<TextMessage> received = ReceiveText(a);
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "from b");
}

// Test that a message gathered from several iovecs is scattered into several buffers.
TEST(MessageSocketTest, ScatterGather) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  char part1[] = "abc";
  char part2[] = "";
  char part3[] = "defghij";
  const iovec out[] = {{part1, 3}, {part2, 0}, {part3, 7}};
  ASSERT_OK(a.Send({out, {}}));
  char in1[4] = {};
  char in2[2] = {};
  char in3[10] = {};
  const iovec in[] = {{in1, 4}, {in2, 2}, {in3, 10}};
  absl::StatusOr<ReceivedMessage> received = b.Receive(in, 0);
  ASSERT_OK(received);
  EXPECT_EQ(received->bytes, 10u);
  EXPECT_FALSE(received->data_truncated);
  EXPECT_EQ(std::string(in1, 4), "abcd");
  EXPECT_EQ(std::string(in2, 2), "ef");
  EXPECT_EQ(std::string(in3, 4), "ghij");
}

// Test that exactly kMaxUserBytes of user data travels in one message.
TEST(MessageSocketTest, MaxUserBytesTravel) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::string big(kMaxUserBytes, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 256);
  ASSERT_OK(SendText(a, big));
  absl::StatusOr<TextMessage> received = ReceiveText(b, kMaxUserBytes);
  ASSERT_OK(received);
  EXPECT_FALSE(received->message.data_truncated);
  EXPECT_EQ(received->text.size(), kMaxUserBytes);
  EXPECT_TRUE(received->text == big);
}

// Test that one byte more than kMaxUserBytes is EMSGSIZE, in one iovec or spread over several,
// and nothing is sent.
TEST(MessageSocketTest, OneByteTooManyIsEmsgsize) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::string big(kMaxUserBytes + 1, 'x');
  EXPECT_THAT(SendText(a, big), HasErrno(EMSGSIZE));
  const iovec spread[] = {{big.data(), kMaxUserBytes}, {big.data(), 1}};
  EXPECT_THAT(a.Send({spread, {}}), HasErrno(EMSGSIZE));
  // Lengths that would wrap around a size_t when summed.
  const iovec wrapping[] = {{big.data(), 16}, {big.data(), ~size_t{0} - 8}};
  EXPECT_THAT(a.Send({wrapping, {}}), HasErrno(EMSGSIZE));
  EXPECT_THAT(ReceiveText(b, 16, 0, Nonblocking()), HasErrno(EAGAIN));
}

// Test that more than kMaxIovecs iovecs are EINVAL on send and on receive.
TEST(MessageSocketTest, TooManyIovecsAreEinval) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  char byte = 'x';
  std::vector<iovec> iovecs(kMaxIovecs + 1, iovec{&byte, 1});
  EXPECT_THAT(a.Send({iovecs, {}}), HasErrno(EINVAL));
  ASSERT_OK(SendText(a, "x"));
  EXPECT_THAT(b.Receive(iovecs, 0, Nonblocking()), HasErrno(EINVAL));
  // kMaxIovecs itself works both ways.
  iovecs.pop_back();
  ASSERT_OK(a.Send({iovecs, {}}));
  absl::StatusOr<ReceivedMessage> first = b.Receive(iovecs, 0);
  ASSERT_OK(first);
  EXPECT_EQ(first->bytes, 1u);
  absl::StatusOr<ReceivedMessage> second = b.Receive(iovecs, 0);
  ASSERT_OK(second);
  EXPECT_EQ(second->bytes, kMaxIovecs);
}

// Test that a message longer than the buffers is cut, flagged data_truncated, and its rest
// discarded (the next message starts clean).
TEST(MessageSocketTest, DataTruncated) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(SendText(a, "0123456789abcdef"));
  ASSERT_OK(SendText(a, "next"));
  absl::StatusOr<TextMessage> cut = ReceiveText(b, 10);
  ASSERT_OK(cut);
  EXPECT_TRUE(cut->message.data_truncated);
  EXPECT_EQ(cut->message.bytes, 10u);
  EXPECT_EQ(cut->text, "0123456789");
  absl::StatusOr<TextMessage> next = ReceiveText(b, 10);
  ASSERT_OK(next);
  EXPECT_FALSE(next->message.data_truncated);
  EXPECT_EQ(next->text, "next");
}

// Test that a buffer of exactly the message's size is not truncated.
TEST(MessageSocketTest, ExactBufferIsNotTruncated) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(SendText(a, "0123456789"));
  absl::StatusOr<TextMessage> received = ReceiveText(b, 10);
  ASSERT_OK(received);
  EXPECT_FALSE(received->message.data_truncated);
  EXPECT_EQ(received->text, "0123456789");
}

// Test that a message received with no buffer at all reports only its truncation.
TEST(MessageSocketTest, NoBufferTruncatesEverything) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(SendText(a, "lost"));
  absl::StatusOr<ReceivedMessage> received = b.Receive({}, 0);
  ASSERT_OK(received);
  EXPECT_EQ(received->bytes, 0u);
  EXPECT_TRUE(received->data_truncated);
}

// ---------------------------------------------------------------------------------------------
// Empty messages and end of stream.

// Test that an empty message (no bytes, no descriptors) arrives as a message while the peer
// is open.
TEST(MessageSocketTest, EmptyMessageArrives) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  ASSERT_OK(a.Send({}));
  absl::StatusOr<TextMessage> received = ReceiveText(b, 16, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(received);
  EXPECT_EQ(received->message.bytes, 0u);
  EXPECT_FALSE(received->message.data_truncated);
  EXPECT_THAT(received->message.descriptors, IsEmpty());
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
}

// Test that an empty message sent just before the peer closed is delivered, and only then
// end of stream (EPIPE).
TEST(MessageSocketTest, EmptyMessageIsNotEndOfStream) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  ASSERT_OK(a.Send({}));
  ASSERT_OK(a.Send({}));
  { ConnectedSocket closing = std::move(a); }
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<TextMessage> received = ReceiveText(b, 16, kMaxDescriptors, WithinSeconds(10));
    ASSERT_OK(received) << i;
    EXPECT_EQ(received->message.bytes, 0u);
  }
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that every message queued before the peer closed is delivered before end of stream,
// and that end of stream then repeats.
TEST(MessageSocketTest, QueuedMessagesComeBeforeEndOfStream) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  for (const char* text : {"one", "two", "three"}) ASSERT_OK(SendText(a, text));
  { ConnectedSocket closing = std::move(a); }
  for (const char* text : {"one", "two", "three"}) {
    absl::StatusOr<TextMessage> received = ReceiveText(b);
    ASSERT_OK(received);
    EXPECT_EQ(received->text, text);
  }
  EXPECT_THAT(ReceiveText(b), HasErrno(EPIPE));
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EPIPE));
  EXPECT_THAT(ReceiveText(b), HasErrno(EPIPE));
}

// Test that messages queued before the peer closed are delivered even when the peer closed
// with messages of its own unread (the kernel then reports ECONNRESET once, before them).
TEST(MessageSocketTest, QueuedMessagesSurvivePeerClosingWithUnreadData) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  ASSERT_OK(SendText(a, "last words"));
  ASSERT_OK(SendText(b, "never read"));
  { ConnectedSocket closing = std::move(a); }
  absl::StatusOr<TextMessage> received = ReceiveText(b, 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "last words");
  EXPECT_THAT(ReceiveText(b, 64, kMaxDescriptors, WithinSeconds(10)), HasErrno(EPIPE));
}

// Test that a nonblocking receive also sees the messages queued before a peer closed with
// unread data.
TEST(MessageSocketTest, NonblockingReceiveSurvivesPeerClosingWithUnreadData) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  ASSERT_OK(SendText(a, "last words"));
  ASSERT_OK(SendText(b, "never read"));
  { ConnectedSocket closing = std::move(a); }
  absl::StatusOr<TextMessage> received = ReceiveText(b, 64, kMaxDescriptors, Nonblocking());
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "last words");
  EXPECT_THAT(ReceiveText(b, 64, kMaxDescriptors, Nonblocking()), HasErrno(EPIPE));
}

// Test that sending to a closed peer is EPIPE.
TEST(MessageSocketTest, SendToClosedPeerIsEpipe) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  { ConnectedSocket closing = std::move(b); }
  EXPECT_THAT(SendText(a, "anyone?"), HasErrno(EPIPE));
  EXPECT_THAT(a.Send({}), HasErrno(EPIPE));
}

// Test that sending to a closed peer that left data unread is EPIPE too (not ECONNRESET).
TEST(MessageSocketTest, SendToPeerClosedWithUnreadDataIsEpipe) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  ASSERT_OK(SendText(a, "unread"));
  { ConnectedSocket closing = std::move(b); }
  EXPECT_THAT(SendText(a, "anyone?"), HasErrno(EPIPE));
  EXPECT_THAT(SendText(a, "anyone?"), HasErrno(EPIPE));
}

// Test that sending to a closed peer raises no SIGPIPE even at its default disposition (which
// would kill the child), on a connected and on a data-only socket.
TEST(MessageSocketTest, SendToClosedPeerRaisesNoSigpipe) {
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([]() -> int {
    CHILD_CHECK(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
    CHILD_CHECK_OK(pair);
    auto [a, b] = *std::move(pair);
    CHILD_CHECK_OK(SendText(a, "unread"));
    { ConnectedSocket closing = std::move(b); }
    CHILD_CHECK_ERRNO(SendText(a, "first"), EPIPE);
    CHILD_CHECK_ERRNO(SendText(a, "second"), EPIPE);
    CHILD_CHECK_ERRNO(SendText(a, "nonblocking", {}, Nonblocking()), EPIPE);
    auto data_only = MakeDataOnlyPair();
    CHILD_CHECK_OK(data_only);
    auto [c, d] = *std::move(data_only);
    { DataOnlySocket closing = std::move(d); }
    CHILD_CHECK_ERRNO(SendText(c, "data only"), EPIPE);
    return 0;
  });
  ASSERT_OK(child);
  EXPECT_OK(child->Wait());
}

// ---------------------------------------------------------------------------------------------
// Waiting.

// Test that a nonblocking receive with nothing queued is EAGAIN.
TEST(MessageSocketTest, NonblockingReceiveOfNothingIsEagain) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  ASSERT_OK(SendText(a, "now"));
  absl::StatusOr<TextMessage> received = ReceiveText(b, 16, kMaxDescriptors, Nonblocking());
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "now");
}

// Test that a receive with a deadline and nothing queued is ETIMEDOUT once the deadline passed.
TEST(MessageSocketTest, ReceiveDeadlineIsEtimedout) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  WaitOptions wait;
  wait.deadline = absl::Now() + absl::Milliseconds(100);
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, wait), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now(), wait.deadline);
}

// Test that a message arriving before the deadline ends the wait with the message.
TEST(MessageSocketTest, ReceiveWaitsForMessage) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::thread sender([&a = a] {
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_OK(SendText(a, "late"));
  });
  absl::StatusOr<TextMessage> received = ReceiveText(b, 16, kMaxDescriptors, WithinSeconds(10));
  sender.join();
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "late");
}

// Test that a Cancellation cancelled from another thread wakes a blocked Receive with
// ECANCELED.
TEST(MessageSocketTest, CancellationWakesBlockedReceive) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  WaitOptions wait;
  wait.cancellation = &*cancellation;
  std::thread canceller([&cancellation] {
    absl::SleepFor(absl::Milliseconds(50));
    cancellation->Cancel();
  });
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, wait), HasErrno(ECANCELED));
  canceller.join();
}

// Fills `socket`'s path to its peer until a nonblocking send is EAGAIN; returns how many
// messages went.
int FillUntilEagain(const MessageSocket& socket) {
  std::string chunk(4096, 'f');
  for (int sent = 0;; ++sent) {
    absl::Status status = SendText(socket, chunk, {}, Nonblocking());
    if (!status.ok()) {
      EXPECT_THAT(status, HasErrno(EAGAIN));
      return sent;
    }
  }
}

// Test that a nonblocking send on a full socket is EAGAIN, and works again once the peer read.
TEST(MessageSocketTest, NonblockingSendOnFullSocketIsEagain) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  EXPECT_GT(FillUntilEagain(a), 0);
  EXPECT_THAT(SendText(a, "x", {}, Nonblocking()), HasErrno(EAGAIN));
  ASSERT_OK(ReceiveText(b, 8192));
  EXPECT_OK(SendText(a, "x", {}, WithinSeconds(10)));
}

// Test that a send with a deadline on a full socket is ETIMEDOUT.
TEST(MessageSocketTest, SendDeadlineOnFullSocketIsEtimedout) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  FillUntilEagain(a);
  WaitOptions wait;
  wait.deadline = absl::Now() + absl::Milliseconds(100);
  EXPECT_THAT(SendText(a, "x", {}, wait), HasErrno(ETIMEDOUT));
  EXPECT_GE(absl::Now(), wait.deadline);
}

// Test that a Cancellation cancelled from another thread wakes a send blocked on a full
// socket with ECANCELED.
TEST(MessageSocketTest, CancellationWakesBlockedSend) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  FillUntilEagain(a);
  absl::StatusOr<Cancellation> cancellation = Cancellation::Create();
  ASSERT_OK(cancellation);
  WaitOptions wait;
  wait.cancellation = &*cancellation;
  std::thread canceller([&cancellation] {
    absl::SleepFor(absl::Milliseconds(50));
    cancellation->Cancel();
  });
  EXPECT_THAT(SendText(a, "x", {}, wait), HasErrno(ECANCELED));
  canceller.join();
}

// Test that a send blocked on a full socket completes once the peer reads.
TEST(MessageSocketTest, BlockedSendCompletesWhenPeerReads) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  const int filled = FillUntilEagain(a);
  std::thread reader([&b = b, filled] {
    absl::SleepFor(absl::Milliseconds(50));
    for (int i = 0; i <= filled; ++i) EXPECT_OK(ReceiveText(b, 8192, 0, WithinSeconds(10)));
  });
  EXPECT_OK(SendText(a, "unblocked"));
  reader.join();
}

// ---------------------------------------------------------------------------------------------
// Descriptors: limits, kinds and truncation.

// Test that 8 descriptors travel and a 9th is E2BIG without sending anything.
TEST(MessageSocketTest, NineDescriptorsAreE2big) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::vector<UniqueFd> pipes = MakePipeEnds(9);
  ASSERT_THAT(pipes, SizeIs(9));
  std::vector<OutgoingDescriptor> nine;
  for (const UniqueFd& fd : pipes) nine.push_back({DescriptorKind::kHostIo, fd.get()});
  const int before = base::CountOpenFds();
  EXPECT_THAT(SendText(a, "nine", nine), HasErrno(E2BIG));
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();

  nine.pop_back();
  ASSERT_OK(SendText(a, "eight", nine));
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "eight");
  EXPECT_THAT(received->message.descriptors, SizeIs(8));
  EXPECT_EQ(base::CountOpenFds(), before + 8);
}

// Test that a descriptor of a real kind without an fd is EBADF, and an fd number that is not
// open is EBADF too.
TEST(MessageSocketTest, DescriptorWithoutFdIsEbadf) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  int closed = dup(a.fd());
  ASSERT_GE(closed, 0);
  close(closed);
  const int before = base::CountOpenFds();
  const OutgoingDescriptor no_fd[] = {{DescriptorKind::kHostIo, -1}};
  EXPECT_THAT(SendText(a, "x", no_fd), HasErrno(EBADF));
  const OutgoingDescriptor closed_fd[] = {{DescriptorKind::kHostIo, closed}};
  EXPECT_THAT(SendText(a, "x", closed_fd), HasErrno(EBADF));
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that a kind that may not travel (a BoundSocket, a ConnectedSocket) is refused with
// EINVAL, and nothing is sent.
TEST(MessageSocketTest, KindThatMayNotTravelIsEinval) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  for (DescriptorKind kind : {DescriptorKind::kBoundSocket, DescriptorKind::kConnectedSocket}) {
    const OutgoingDescriptor held[] = {{kind, a.fd()}};
    EXPECT_THAT(SendText(a, "x", held), HasErrno(EINVAL)) << DescriptorKindName(kind);
  }
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
}

// Test that the invalid marker arrives as kInvalid with no fd, in its place among real
// descriptors.
TEST(MessageSocketTest, InvalidMarkerArrivesWithoutFd) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  Pipe pipe = MakePipe();
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kInvalid, -1},
                                            {DescriptorKind::kHostIo, pipe.write_end.get()},
                                            {DescriptorKind::kInvalid, -1}};
  ASSERT_OK(SendText(a, "", descriptors));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(3));
  EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kInvalid);
  EXPECT_FALSE(received->message.descriptors[0].fd.valid());
  EXPECT_EQ(received->message.descriptors[1].kind, DescriptorKind::kHostIo);
  EXPECT_TRUE(received->message.descriptors[1].fd.valid());
  EXPECT_EQ(received->message.descriptors[2].kind, DescriptorKind::kInvalid);
  EXPECT_FALSE(received->message.descriptors[2].fd.valid());
  EXPECT_EQ(base::CountOpenFds(), before + 1);
}

// Test that a message of only invalid markers carries no fd at all.
TEST(MessageSocketTest, OnlyInvalidMarkers) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kInvalid, -1},
                                            {DescriptorKind::kInvalid, -1}};
  ASSERT_OK(SendText(a, "two markers", descriptors));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "two markers");
  ASSERT_THAT(received->message.descriptors, SizeIs(2));
  for (const IncomingDescriptor& d : received->message.descriptors) {
    EXPECT_EQ(d.kind, DescriptorKind::kInvalid);
    EXPECT_FALSE(d.fd.valid());
  }
  EXPECT_EQ(base::CountOpenFds(), before);
}

// Test that received fds are close-on-exec.
TEST(MessageSocketTest, ReceivedFdsAreCloseOnExec) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // Deliberately without O_CLOEXEC.
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, read_end.get()}};
  ASSERT_OK(SendText(a, "", descriptors));
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  EXPECT_EQ(fcntl(received->message.descriptors[0].fd.get(), F_GETFD), FD_CLOEXEC);
}

// Test that descriptors beyond the room given are closed and flagged descriptors_truncated.
TEST(MessageSocketTest, DescriptorsTruncated) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::vector<UniqueFd> pipes = MakePipeEnds(3);
  ASSERT_THAT(pipes, SizeIs(3));
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, pipes[0].get()},
                                            {DescriptorKind::kInvalid, -1},
                                            {DescriptorKind::kHostIo, pipes[1].get()},
                                            {DescriptorKind::kHostIo, pipes[2].get()}};
  ASSERT_OK(SendText(a, "four", descriptors));
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<TextMessage> received = ReceiveText(b, 16, /*max_descriptors=*/2);
    ASSERT_OK(received);
    EXPECT_EQ(received->text, "four");
    EXPECT_TRUE(received->message.descriptors_truncated);
    EXPECT_FALSE(received->message.data_truncated);
    ASSERT_THAT(received->message.descriptors, SizeIs(2));
    EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kHostIo);
    EXPECT_EQ(received->message.descriptors[1].kind, DescriptorKind::kInvalid);
    // Only the one kept fd is open; the two extras were closed.
    EXPECT_EQ(base::CountOpenFds(), before + 1) << base::DescribeOpenFds();
  }
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that receiving with room for no descriptors closes them all and flags the truncation.
TEST(MessageSocketTest, NoRoomForDescriptorsClosesThemAll) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::vector<UniqueFd> pipes = MakePipeEnds(8);
  ASSERT_THAT(pipes, SizeIs(8));
  std::vector<OutgoingDescriptor> descriptors;
  for (const UniqueFd& fd : pipes) descriptors.push_back({DescriptorKind::kHostIo, fd.get()});
  ASSERT_OK(SendText(a, "eight", descriptors));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b, 16, /*max_descriptors=*/0);
  ASSERT_OK(received);
  EXPECT_TRUE(received->message.descriptors_truncated);
  EXPECT_THAT(received->message.descriptors, IsEmpty());
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that data and descriptor truncation are reported together.
TEST(MessageSocketTest, DataAndDescriptorsTruncatedTogether) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  Pipe pipe = MakePipe();
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, pipe.read_end.get()}};
  ASSERT_OK(SendText(a, "too long", descriptors));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b, 3, 0);
  ASSERT_OK(received);
  EXPECT_TRUE(received->message.data_truncated);
  EXPECT_TRUE(received->message.descriptors_truncated);
  EXPECT_EQ(received->text, "too");
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that a host I/O fd (a pipe end) travels and works: the receiver writes into it and the
// sender reads what was written.
TEST(MessageSocketTest, HostIoTravels) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  Pipe pipe = MakePipe();
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, pipe.write_end.get()}};
  ASSERT_OK(SendText(a, "write here", descriptors));
  pipe.write_end.reset();
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kHostIo);
  ASSERT_EQ(write(received->message.descriptors[0].fd.get(), "via pipe", 8), 8);
  received->message.descriptors.clear();  // Closes the last write end.
  char buffer[16] = {};
  EXPECT_EQ(read(pipe.read_end.get(), buffer, sizeof(buffer)), 8);
  EXPECT_STREQ(buffer, "via pipe");
}

// Test that a HostIo descriptor arrives with the access its sender granted, narrowed to the
// fd's open mode: a read-only grant of a read-write fd stays read-only, and no grant widens
// a pipe end beyond its direction.
TEST(MessageSocketTest, HostIoAccessTravelsAndNarrowsToTheFd) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  UniqueFd read_write(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(read_write.valid());
  Pipe pipe = MakePipe();
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  const OutgoingDescriptor descriptors[] = {
      {DescriptorKind::kHostIo, read_write.get(), HostIoAccess::kReadOnly},
      {DescriptorKind::kHostIo, read_write.get(), HostIoAccess::kWriteOnly},
      {DescriptorKind::kHostIo, read_write.get()},  // Default: what the fd allows.
      {DescriptorKind::kHostIo, pipe.read_end.get(), HostIoAccess::kReadWrite},
      {DescriptorKind::kHostIo, pipe.write_end.get(), HostIoAccess::kReadOnly},
      // Access is HostIo's alone: ignored for any other kind.
      {DescriptorKind::kSharedMemory, memory->fd(), HostIoAccess::kReadOnly}};
  ASSERT_OK(SendText(a, "grants", descriptors));
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(6));
  const HostIoAccess expected[] = {HostIoAccess::kReadOnly,  HostIoAccess::kWriteOnly,
                                   HostIoAccess::kReadWrite, HostIoAccess::kReadOnly,
                                   HostIoAccess::kNone,      HostIoAccess::kNone};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(received->message.descriptors[i].access, expected[i])
        << i << ": " << HostIoAccessName(received->message.descriptors[i].access);
  }
}

// Test that sending a HostIo descriptor with an access value outside the enum is EINVAL and
// sends nothing.
TEST(MessageSocketTest, UnknownHostIoAccessIsRefused) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  Pipe pipe = MakePipe();
  const OutgoingDescriptor descriptors[] = {
      {DescriptorKind::kHostIo, pipe.read_end.get(), static_cast<HostIoAccess>(4)}};
  EXPECT_THAT(SendText(a, "x", descriptors), HasErrno(EINVAL));
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
}

// Test that a data-only socket end travels and the receiver talks through it.
TEST(MessageSocketTest, DataOnlySocketTravels) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  auto data_only = MakeDataOnlyPair();
  ASSERT_OK(data_only);
  auto [kept, sent] = *std::move(data_only);
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kDataOnlySocket, sent.fd()}};
  ASSERT_OK(SendText(a, "", descriptors));
  { DataOnlySocket closing = std::move(sent); }
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kDataOnlySocket);
  DataOnlySocket adopted = DataOnlySocket::Adopt(std::move(received->message.descriptors[0].fd));
  ASSERT_OK(SendText(adopted, "through the sent end"));
  absl::StatusOr<TextMessage> echoed = ReceiveText(kept);
  ASSERT_OK(echoed);
  EXPECT_EQ(echoed->text, "through the sent end");
  ASSERT_OK(SendText(kept, "and back"));
  absl::StatusOr<TextMessage> back = ReceiveText(adopted);
  ASSERT_OK(back);
  EXPECT_EQ(back->text, "and back");
}

// Test that shared memory travels: a write through one side's mapping is read through the
// other side's mapping after the transfer.
TEST(MessageSocketTest, SharedMemoryTravels) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  void* sender_map = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, memory->fd(), 0);
  ASSERT_NE(sender_map, MAP_FAILED);
  strcpy(static_cast<char*>(sender_map) + 4096, "written before sending");
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSharedMemory, memory->fd()}};
  ASSERT_OK(SendText(a, "", descriptors));
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kSharedMemory);
  absl::StatusOr<SharedMemory> adopted =
      SharedMemory::FromFd(std::move(received->message.descriptors[0].fd));
  ASSERT_OK(adopted);
  EXPECT_EQ(adopted->size(), 65536u);
  void* receiver_map = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, adopted->fd(), 0);
  ASSERT_NE(receiver_map, MAP_FAILED);
  EXPECT_STREQ(static_cast<char*>(receiver_map) + 4096, "written before sending");
  strcpy(static_cast<char*>(receiver_map) + 8192, "written by the receiver");
  EXPECT_STREQ(static_cast<char*>(sender_map) + 8192, "written by the receiver");
  munmap(sender_map, 65536);
  munmap(receiver_map, 65536);
}

// Test that shared memory crosses a process boundary: the child writes through its mapping
// of the memory it received, the parent reads through its own.
TEST(MessageSocketTest, SharedMemoryCrossesProcesses) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [parent_end, child_end] = *std::move(pair);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&child_end = child_end]() -> int {
    absl::StatusOr<TextMessage> received =
        ReceiveText(child_end, 64, kMaxDescriptors, WithinSeconds(30));
    CHILD_CHECK_OK(received);
    CHILD_CHECK(received->message.descriptors.size() == 1);
    CHILD_CHECK(received->message.descriptors[0].kind == DescriptorKind::kSharedMemory);
    absl::StatusOr<SharedMemory> memory =
        SharedMemory::FromFd(std::move(received->message.descriptors[0].fd));
    CHILD_CHECK_OK(memory);
    void* map = mmap(nullptr, memory->size(), PROT_READ | PROT_WRITE, MAP_SHARED, memory->fd(), 0);
    CHILD_CHECK(map != MAP_FAILED);
    CHILD_CHECK(strcmp(static_cast<char*>(map), "from the parent") == 0);
    strcpy(static_cast<char*>(map) + 100, "from the child");
    CHILD_CHECK_OK(SendText(child_end, "done"));
    return 0;
  });
  ASSERT_OK(child);
  { ConnectedSocket closing = std::move(child_end); }
  absl::StatusOr<SharedMemory> memory = SharedMemory::Create(65536);
  ASSERT_OK(memory);
  void* map = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, memory->fd(), 0);
  ASSERT_NE(map, MAP_FAILED);
  strcpy(static_cast<char*>(map), "from the parent");
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSharedMemory, memory->fd()}};
  ASSERT_OK(SendText(parent_end, "", descriptors));
  absl::StatusOr<TextMessage> done = ReceiveText(parent_end, 64, 0, WithinSeconds(30));
  EXPECT_OK(child->Wait());
  ASSERT_OK(done);
  EXPECT_EQ(done->text, "done");
  EXPECT_STREQ(static_cast<char*>(map) + 100, "from the child");
  munmap(map, 65536);
}

// Test that a SocketAddress travels (a duplicate of it): the receiver connects with it and
// the bound socket's owner accepts.
TEST(MessageSocketTest, SocketAddressTravels) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  auto bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  absl::StatusOr<SocketAddress> copy = address.Duplicate();
  ASSERT_OK(copy);
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kSocketAddress, copy->fd()}};
  ASSERT_OK(SendText(a, "connect here", descriptors));
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  ASSERT_OK(received);
  ASSERT_THAT(received->message.descriptors, SizeIs(1));
  EXPECT_EQ(received->message.descriptors[0].kind, DescriptorKind::kSocketAddress);
  SocketAddress arrived = SocketAddress::Adopt(std::move(received->message.descriptors[0].fd));
  absl::StatusOr<ConnectedSocket> connection = arrived.Connect();
  ASSERT_OK(connection);
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(10));
  ASSERT_OK(accepted);
  ASSERT_OK(SendText(*connection, "hi"));
  absl::StatusOr<TextMessage> hi = ReceiveText(*accepted);
  ASSERT_OK(hi);
  EXPECT_EQ(hi->text, "hi");
}

// ---------------------------------------------------------------------------------------------
// A descriptor whose fd contradicts its tag: the message is refused with EPROTO, every fd in
// it is closed, and the stream goes on.

struct MismatchCase {
  const char* name;
  DescriptorKind tag;
  // Makes the fd to send under `tag`.
  UniqueFd (*make)();
};

UniqueFd PipeEnd() { return std::move(MakePipeEnds(1).at(0)); }

UniqueFd UnsealedMemfd() {
  UniqueFd fd(memfd_create("message_socket_test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_EQ(ftruncate(fd.get(), 65536), 0);
  return fd;
}

UniqueFd UnsealableMemfd() {
  UniqueFd fd(memfd_create("message_socket_test", MFD_CLOEXEC));
  EXPECT_EQ(ftruncate(fd.get(), 65536), 0);
  return fd;
}

UniqueFd RegularFile() {
  char path[] = "/tmp/message_socket_test.XXXXXX";
  UniqueFd fd(mkostemp(path, O_CLOEXEC));
  unlink(path);
  EXPECT_EQ(ftruncate(fd.get(), 65536), 0);
  return fd;
}

UniqueFd ImcSocket() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[1]);
  return UniqueFd(fds[0]);
}

UniqueFd StreamSocket() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[1]);
  return UniqueFd(fds[0]);
}

class KindMismatchTest : public testing::TestWithParam<MismatchCase> {};

// Test that a fd whose kind contradicts its tag is refused with EPROTO, that every fd of the
// message (the good one sent with it too) is closed, and that the next message arrives.
TEST_P(KindMismatchTest, RefusedAndClosed) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  UniqueFd wrong = GetParam().make();
  ASSERT_TRUE(wrong.valid());
  Pipe good = MakePipe();
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, good.read_end.get()},
                                            {GetParam().tag, wrong.get()}};
  ASSERT_OK(SendText(a, "mismatch", descriptors));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  EXPECT_THAT(received, HasErrno(EPROTO));
  EXPECT_THAT(std::string(received.status().message()),
              HasSubstr(DescriptorKindName(GetParam().tag)));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  ExpectStreamStillWorks(a, b);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, KindMismatchTest,
    testing::Values(
        MismatchCase{"PipeAsSocketAddress", DescriptorKind::kSocketAddress, PipeEnd},
        MismatchCase{"StreamSocketAsSocketAddress", DescriptorKind::kSocketAddress, StreamSocket},
        MismatchCase{"PipeAsDataOnlySocket", DescriptorKind::kDataOnlySocket, PipeEnd},
        MismatchCase{"MemfdAsDataOnlySocket", DescriptorKind::kDataOnlySocket, UnsealedMemfd},
        MismatchCase{"UnsealedMemfdAsSharedMemory", DescriptorKind::kSharedMemory, UnsealedMemfd},
        MismatchCase{"UnsealableMemfdAsSharedMemory", DescriptorKind::kSharedMemory,
                     UnsealableMemfd},
        MismatchCase{"RegularFileAsSharedMemory", DescriptorKind::kSharedMemory, RegularFile},
        MismatchCase{"PipeAsSharedMemory", DescriptorKind::kSharedMemory, PipeEnd}),
    [](const testing::TestParamInfo<MismatchCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Malformed traffic from a raw peer: refused with EPROTO, every fd closed, the stream goes on.

class MalformedTrafficTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
    ASSERT_OK(pair);
    pair_.emplace(*std::move(pair));
    fds_ = MakePipeEnds(20);
    ASSERT_THAT(fds_, SizeIs(20));
  }

  // Fds to attach: the first `count` pipe ends.
  std::vector<int> Fds(size_t count) const {
    std::vector<int> raw = RawFds(fds_);
    raw.resize(count);
    return raw;
  }

  const ConnectedSocket& sender() const { return pair_->first; }
  const ConnectedSocket& receiver() const { return pair_->second; }

  // Receives what the raw peer sent; expects EPROTO and no fd left behind, then checks that
  // a good message still gets through.
  void ExpectRefused() {
    const int before = base::CountOpenFds();
    absl::StatusOr<TextMessage> received =
        ReceiveText(receiver(), 64, kMaxDescriptors, WithinSeconds(10));
    EXPECT_THAT(received, HasErrno(EPROTO));
    EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
    ExpectStreamStillWorks(sender(), receiver());
  }

  std::optional<ConnectedPair> pair_;
  std::vector<UniqueFd> fds_;
};

// Test that a header with another version is refused and its fds closed.
TEST_F(MalformedTrafficTest, BadVersion) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 3, {DescriptorKind::kHostIo});
  header.version = kWireVersion + 1;
  ASSERT_OK(SendRawMessage(sender().fd(), header, "abc", Fds(1)));
  ExpectRefused();
}

// Test that a descriptor count above 8 is refused and its fds closed.
TEST_F(MalformedTrafficTest, DescriptorCountAboveMax) {
  std::vector<WireTag> kinds(kMaxDescriptors, DescriptorKind::kHostIo);
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, kinds);
  header.descriptor_count = kMaxDescriptors + 1;
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(8)));
  ExpectRefused();
}

// Test that a byte count larger than the packet is refused and its fds closed.
TEST_F(MalformedTrafficTest, ByteCountTooLarge) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 10, {DescriptorKind::kHostIo});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "short", Fds(1)));
  ExpectRefused();
}

// Test that a byte count smaller than the packet is refused and its fds closed.
TEST_F(MalformedTrafficTest, ByteCountTooSmall) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 2, {DescriptorKind::kHostIo});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "longer", Fds(1)));
  ExpectRefused();
}

// Test that a byte count above the 128 KiB limit is refused even when the packet matches.
TEST_F(MalformedTrafficTest, ByteCountAboveMax) {
  std::string payload(kMaxUserBytes + 1, 'x');
  WireHeader header =
      MakeWireHeader(PacketKind::kMessage, static_cast<uint32_t>(payload.size()), {});
  ASSERT_OK(SendRawMessage(sender().fd(), header, payload, {}));
  ExpectRefused();
}

// Test that an unknown descriptor tag is refused and its fds closed.
TEST_F(MalformedTrafficTest, UnknownTag) {
  WireHeader header =
      MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kHostIo, DescriptorKind::kHostIo});
  header.tags[1] = 17;
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(2)));
  ExpectRefused();
}

// Test that a tag beyond the descriptor count is refused and its fds closed.
TEST_F(MalformedTrafficTest, TagBeyondCount) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kHostIo});
  header.tags[5] = static_cast<uint8_t>(DescriptorKind::kHostIo);
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(1)));
  ExpectRefused();
}

// Test that unknown flag bits are refused and the message's fds closed.
TEST_F(MalformedTrafficTest, UnknownFlagSet) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kHostIo});
  header.flags = 0x80;
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(1)));
  ExpectRefused();
}

// Test that more fds than the header's tags name are refused and all closed.
TEST_F(MalformedTrafficTest, MoreFdsThanTags) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kHostIo});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(3)));
  ExpectRefused();
}

// Test that fewer fds than the header's tags name are refused and the ones that came closed.
TEST_F(MalformedTrafficTest, FewerFdsThanTags) {
  WireHeader header =
      MakeWireHeader(PacketKind::kMessage, 0,
                     {DescriptorKind::kHostIo, DescriptorKind::kHostIo, DescriptorKind::kHostIo});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(2)));
  ExpectRefused();
}

// Test that an fd sent for an invalid marker is refused and closed.
TEST_F(MalformedTrafficTest, FdForInvalidMarker) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kInvalid});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(1)));
  ExpectRefused();
}

// Test that fds without any header (a packet shorter than the header) are refused and closed.
TEST_F(MalformedTrafficTest, PacketShorterThanHeader) {
  ASSERT_OK(SendRawPacket(sender().fd(), "short", Fds(2)));
  ExpectRefused();
}

// Test that a 0-byte packet is refused as malformed (not taken for end of stream), with or
// without fds.
TEST_F(MalformedTrafficTest, ZeroBytePacket) {
  ASSERT_OK(SendRawPacket(sender().fd(), "", {}));
  ExpectRefused();
  ASSERT_OK(SendRawPacket(sender().fd(), "", Fds(2)));
  ExpectRefused();
}

// Test that 9 fds under a header for 8 are refused and all closed.
TEST_F(MalformedTrafficTest, NineFds) {
  std::vector<WireTag> kinds(kMaxDescriptors, DescriptorKind::kHostIo);
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, kinds);
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(9)));
  ExpectRefused();
}

// Test that more fds than the control buffer holds (truncated control data: the kernel drops
// the rest) are refused and the ones that arrived closed.
TEST_F(MalformedTrafficTest, TruncatedControlData) {
  std::vector<WireTag> kinds(kMaxDescriptors, DescriptorKind::kHostIo);
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, kinds);
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(20)));
  ExpectRefused();
}

// Test that an accept acknowledgement carrying bytes is refused.
TEST_F(MalformedTrafficTest, AcceptAckWithBytes) {
  WireHeader header = MakeWireHeader(PacketKind::kAcceptAck, 1, {});
  ASSERT_OK(SendRawMessage(sender().fd(), header, "x", {}));
  ExpectRefused();
}

// Test that an unknown packet kind is refused and its fds closed.
TEST_F(MalformedTrafficTest, UnknownPacketKind) {
  WireHeader header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kHostIo});
  header.packet_kind = 7;
  ASSERT_OK(SendRawMessage(sender().fd(), header, "", Fds(1)));
  ExpectRefused();
}

// Test that a stray accept acknowledgement on an established connection is never delivered
// as a message.
TEST_F(MalformedTrafficTest, StrayAcceptAckIsNotDelivered) {
  ASSERT_OK(SendRawMessage(sender().fd(), MakeWireHeader(PacketKind::kAcceptAck, 0, {}), "", {}));
  ASSERT_OK(SendText(sender(), "real"));
  absl::StatusOr<TextMessage> received =
      ReceiveText(receiver(), 64, kMaxDescriptors, WithinSeconds(10));
  ASSERT_OK(received);
  EXPECT_EQ(received->text, "real");
}

// ---------------------------------------------------------------------------------------------
// Data-only sockets and host sockets.

// Test that a data-only pair carries bytes both ways.
TEST(DataOnlySocketTest, BytesRoundTrip) {
  auto pair = MakeDataOnlyPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  EXPECT_OK(CheckImcSocket(a.fd()));
  EXPECT_EQ(fcntl(a.fd(), F_GETFD), FD_CLOEXEC);
  EXPECT_EQ(fcntl(b.fd(), F_GETFD), FD_CLOEXEC);
  ASSERT_OK(SendText(a, "ping"));
  absl::StatusOr<TextMessage> ping = ReceiveText(b);
  ASSERT_OK(ping);
  EXPECT_EQ(ping->text, "ping");
  ASSERT_OK(b.Send({}));
  absl::StatusOr<TextMessage> empty = ReceiveText(a);
  ASSERT_OK(empty);
  EXPECT_EQ(empty->message.bytes, 0u);
}

// Test that a data-only socket refuses to send descriptors (EOPNOTSUPP), even the invalid
// marker, and sends nothing.
TEST(DataOnlySocketTest, RefusesToSendDescriptors) {
  auto pair = MakeDataOnlyPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  Pipe pipe = MakePipe();
  const int before = base::CountOpenFds();
  const OutgoingDescriptor host_io[] = {{DescriptorKind::kHostIo, pipe.read_end.get()}};
  EXPECT_THAT(SendText(a, "x", host_io), HasErrno(EOPNOTSUPP));
  const OutgoingDescriptor marker[] = {{DescriptorKind::kInvalid, -1}};
  EXPECT_THAT(SendText(a, "x", marker), HasErrno(EOPNOTSUPP));
  EXPECT_THAT(ReceiveText(b, 16, kMaxDescriptors, Nonblocking()), HasErrno(EAGAIN));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that a data-only socket refuses descriptors that a raw peer sent (EPROTO), closes
// them, and goes on receiving.
TEST(DataOnlySocketTest, RefusesToReceiveDescriptors) {
  auto pair = MakeDataOnlyPair();
  ASSERT_OK(pair);
  auto& [a, b] = *pair;
  std::vector<UniqueFd> pipes = MakePipeEnds(2);
  ASSERT_THAT(pipes, SizeIs(2));
  WireHeader header =
      MakeWireHeader(PacketKind::kMessage, 2, {DescriptorKind::kHostIo, DescriptorKind::kHostIo});
  ASSERT_OK(SendRawMessage(a.fd(), header, "hi", RawFds(pipes)));
  const int before = base::CountOpenFds();
  absl::StatusOr<TextMessage> received = ReceiveText(b);
  EXPECT_THAT(received, HasErrno(EPROTO));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();

  WireHeader marker_header = MakeWireHeader(PacketKind::kMessage, 0, {DescriptorKind::kInvalid});
  ASSERT_OK(SendRawMessage(a.fd(), marker_header, "", {}));
  EXPECT_THAT(ReceiveText(b), HasErrno(EPROTO));

  ASSERT_OK(SendText(a, "plain"));
  absl::StatusOr<TextMessage> plain = ReceiveText(b);
  ASSERT_OK(plain);
  EXPECT_EQ(plain->text, "plain");
}

// Test that the end of a data-only channel is EPIPE after the queued messages.
TEST(DataOnlySocketTest, EndOfStreamIsEpipe) {
  auto pair = MakeDataOnlyPair();
  ASSERT_OK(pair);
  auto [a, b] = *std::move(pair);
  ASSERT_OK(SendText(a, "bye"));
  { DataOnlySocket closing = std::move(a); }
  absl::StatusOr<TextMessage> bye = ReceiveText(b);
  ASSERT_OK(bye);
  EXPECT_EQ(bye->text, "bye");
  EXPECT_THAT(ReceiveText(b), HasErrno(EPIPE));
}

// Test that FromHostSocket adopts a SEQPACKET socket and refuses (and closes) anything else.
TEST(ConnectedSocketTest, FromHostSocketChecksTheSocket) {
  const int before = base::CountOpenFds();
  EXPECT_THAT(ConnectedSocket::FromHostSocket(StreamSocket()), HasErrno(EPROTO));
  EXPECT_THAT(ConnectedSocket::FromHostSocket(PipeEnd()), HasErrno(EPROTO));
  EXPECT_THAT(ConnectedSocket::FromHostSocket(UniqueFd()), HasErrno(EPROTO));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  UniqueFd socket = ImcSocket();
  const int fd = socket.get();
  absl::StatusOr<ConnectedSocket> adopted = ConnectedSocket::FromHostSocket(std::move(socket));
  ASSERT_OK(adopted);
  EXPECT_EQ(adopted->fd(), fd);
}

// Test that moving a socket moves its fd and leaves no second owner.
TEST(ConnectedSocketTest, MoveTransfersTheFd) {
  const int before = base::CountOpenFds();
  {
    absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
    ASSERT_OK(pair);
    ConnectedSocket moved = std::move(pair->first);
    EXPECT_EQ(pair->first.fd(), -1);
    ConnectedSocket assigned = std::move(pair->second);
    assigned = std::move(moved);
    EXPECT_EQ(base::CountOpenFds(), before + 1);
  }
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
}

// Test that messages cross a process boundary both ways, with descriptors.
TEST(ConnectedSocketTest, MessagesCrossProcesses) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto [parent_end, child_end] = *std::move(pair);
  absl::StatusOr<ForkedChild> child = ForkedChild::Start([&child_end = child_end]() -> int {
    absl::StatusOr<TextMessage> received =
        ReceiveText(child_end, 64, kMaxDescriptors, WithinSeconds(30));
    CHILD_CHECK_OK(received);
    CHILD_CHECK(received->text == "a pipe for you");
    CHILD_CHECK(received->message.descriptors.size() == 1);
    int fd = received->message.descriptors[0].fd.get();
    CHILD_CHECK(write(fd, "child was here", 14) == 14);
    CHILD_CHECK_OK(SendText(child_end, "written"));
    return 0;
  });
  ASSERT_OK(child);
  { ConnectedSocket closing = std::move(child_end); }
  Pipe pipe = MakePipe();
  const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, pipe.write_end.get()}};
  ASSERT_OK(SendText(parent_end, "a pipe for you", descriptors));
  pipe.write_end.reset();
  absl::StatusOr<TextMessage> reply = ReceiveText(parent_end, 64, 0, WithinSeconds(30));
  EXPECT_OK(child->Wait());
  ASSERT_OK(reply);
  EXPECT_EQ(reply->text, "written");
  char buffer[32] = {};
  EXPECT_EQ(read(pipe.read_end.get(), buffer, sizeof(buffer)), 14);
  EXPECT_STREQ(buffer, "child was here");
  // The child exited: end of stream.
  EXPECT_THAT(ReceiveText(parent_end, 64, 0, WithinSeconds(30)), HasErrno(EPIPE));
}

}  // namespace
}  // namespace imc
