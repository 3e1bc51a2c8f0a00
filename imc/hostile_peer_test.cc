// A peer process that is alive but not honest: it turns on socket options that make the
// kernel add control messages (and fds) to what the receiver gets, and hands over sockets of
// the wrong kind in connection requests and under socket tags. Each such message is refused
// with EPROTO, no fd stays behind, and honest traffic afterwards still works.
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/bound_socket.h"
#include "imc/descriptor.h"
#include "imc/forked_child.h"
#include "imc/message_socket.h"
#include "imc/raw_peer.h"
#include "imc/text_message.h"
#include "imc/wire_format.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

namespace imc {
namespace {

using ::base::HasErrno;
using ::base::UniqueFd;
using ::testing::HasSubstr;

using ConnectedPair = std::pair<ConnectedSocket, ConnectedSocket>;

constexpr int kHostileMessages = 2000;

// Sets or clears a boolean socket option. Returns false on failure.
bool SetFlag(int fd, int option, int value) {
  return setsockopt(fd, SOL_SOCKET, option, &value, sizeof(value)) == 0;
}

// Blocks until one byte arrives on `fd` (a pipe). Returns false at end of file.
bool AwaitByte(int fd) {
  char byte;
  return read(fd, &byte, 1) == 1;
}

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe MakePipe() {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// ---------------------------------------------------------------------------------------------
// Control messages a holder of the receiver's socket asks the kernel for.

struct OptionCase {
  const char* name;
  std::vector<int> options;  // SOL_SOCKET flags the peer turns on.
};

class ControlMessageTest : public testing::TestWithParam<OptionCase> {};

// Test that when a peer that kept a copy of the receiver's socket turns on SO_PASSPIDFD /
// SO_PASSCRED there, every one of 2,000 messages (with and without descriptors) is refused with
// EPROTO and the pidfds and descriptors the kernel adds are all closed; after the peer turns
// the options off again, an honest message gets through.
TEST_P(ControlMessageTest, RefusedWithoutLeaks) {
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [sender, receiver] = *pair;
  Pipe go = MakePipe();
  const std::vector<int> options = GetParam().options;
  absl::StatusOr<ForkedChild> peer = ForkedChild::Start([&]() -> int {
    go.write_end.reset();
    for (int option : options) CHILD_CHECK(SetFlag(receiver.fd(), option, 1));
    std::vector<UniqueFd> pipes = MakePipeEnds(2);
    CHILD_CHECK(pipes.size() == 2);
    const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, pipes[0].get()},
                                              {DescriptorKind::kHostIo, pipes[1].get()}};
    for (int i = 0; i < kHostileMessages; ++i) {
      absl::Span<const OutgoingDescriptor> some(descriptors, i % 3);
      CHILD_CHECK_OK(SendText(sender, absl::StrCat("hostile ", i), some, WithinSeconds(60)));
    }
    // Nine fds in one SCM_RIGHTS message on top of the options: more than fits, truncated.
    std::vector<UniqueFd> many = MakePipeEnds(30);
    CHILD_CHECK(many.size() == 30);
    CHILD_CHECK_OK(SendRawPacket(sender.fd(), "x", RawFds(many)));
    // The options are read when the message is received: clear them only once the parent has
    // taken every hostile message.
    CHILD_CHECK(AwaitByte(go.read_end.get()));
    for (int option : options) CHILD_CHECK(SetFlag(receiver.fd(), option, 0));
    CHILD_CHECK_OK(SendText(sender, "honest"));
    return 0;
  });
  ASSERT_OK(peer);
  go.read_end.reset();
  const int baseline = base::CountOpenFds();
  for (int i = 0; i < kHostileMessages + 1; ++i) {
    absl::StatusOr<TextMessage> received =
        ReceiveText(receiver, 64, kMaxDescriptors, WithinSeconds(60));
    ASSERT_THAT(received, HasErrno(EPROTO)) << "message " << i;
    ASSERT_LE(base::CountOpenFds(), baseline + 4) << "message " << i << base::DescribeOpenFds();
  }
  EXPECT_EQ(base::CountOpenFds(), baseline) << base::DescribeOpenFds();
  ASSERT_EQ(write(go.write_end.get(), "g", 1), 1);
  absl::StatusOr<TextMessage> honest =
      ReceiveText(receiver, 64, kMaxDescriptors, WithinSeconds(60));
  ASSERT_OK(honest);
  EXPECT_EQ(honest->text, "honest");
  EXPECT_OK(peer->Wait());
  EXPECT_EQ(base::CountOpenFds(), baseline) << base::DescribeOpenFds();
}

INSTANTIATE_TEST_SUITE_P(
    Options, ControlMessageTest,
    testing::Values(OptionCase{"PassPidfd", {SO_PASSPIDFD}}, OptionCase{"PassCred", {SO_PASSCRED}},
                    OptionCase{"PassPidfdAndCred", {SO_PASSPIDFD, SO_PASSCRED}}),
    [](const testing::TestParamInfo<OptionCase>& info) { return info.param.name; });

// Test that a connection request arriving while a peer holding the bound socket's end turned
// on SO_PASSPIDFD is refused and the pidfd closed, and that the bound socket accepts again once
// the option is off.
TEST(ControlMessageTest, PidfdOnConnectionRequestIsRefused) {
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  ASSERT_TRUE(SetFlag(bound_socket.fd(), SO_PASSPIDFD, 1));
  absl::StatusOr<ConnectedSocket> refused = address.Connect();
  ASSERT_OK(refused);
  const int before = base::CountOpenFds();
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(10));
  EXPECT_THAT(accepted, HasErrno(EPROTO));
  EXPECT_THAT(std::string(accepted.status().message()), HasSubstr("SO_PASSPIDFD"));
  EXPECT_EQ(base::CountOpenFds(), before) << base::DescribeOpenFds();
  ASSERT_TRUE(SetFlag(bound_socket.fd(), SO_PASSPIDFD, 0));
  absl::StatusOr<ConnectedSocket> connection = address.Connect();
  ASSERT_OK(connection);
  EXPECT_OK(bound_socket.Accept(WithinSeconds(10)));
}

// ---------------------------------------------------------------------------------------------
// Sockets of the wrong kind in connection requests and under socket tags.

// A socket to hand over, or the reason this machine cannot make one.
struct MadeSocket {
  UniqueFd fd;
  UniqueFd keep;  // Its peer, if any, kept open meanwhile.
  std::string unavailable;
};

MadeSocket Pair(int type) {
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) return {{}, {}, strerror(errno)};
  return {UniqueFd(fds[0]), UniqueFd(fds[1]), ""};
}

MadeSocket Plain(int domain, int type, int protocol) {
  UniqueFd fd(socket(domain, type | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) {
    return {{}, {}, absl::StrCat("socket(", domain, ", ", type, "): ", strerror(errno))};
  }
  return {std::move(fd), {}, ""};
}

MadeSocket UnixDgram() { return Pair(SOCK_DGRAM); }
MadeSocket UnixStream() { return Pair(SOCK_STREAM); }
MadeSocket UnconnectedSeqpacket() { return Plain(AF_UNIX, SOCK_SEQPACKET, 0); }
MadeSocket ListeningSeqpacket() {
  MadeSocket made = Plain(AF_UNIX, SOCK_SEQPACKET, 0);
  struct sockaddr_un autobind = {};
  autobind.sun_family = AF_UNIX;
  if (bind(made.fd.get(), reinterpret_cast<sockaddr*>(&autobind), sizeof(sa_family_t)) != 0 ||
      listen(made.fd.get(), 1) != 0) {
    return {{}, {}, absl::StrCat("bind/listen: ", strerror(errno))};
  }
  return made;
}
MadeSocket Udp() { return Plain(AF_INET, SOCK_DGRAM, 0); }
MadeSocket Tcp() { return Plain(AF_INET, SOCK_STREAM, 0); }
MadeSocket Netlink() { return Plain(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); }
MadeSocket VsockSeqpacket() { return Plain(AF_VSOCK, SOCK_SEQPACKET, 0); }

struct WrongSocketCase {
  const char* name;
  MadeSocket (*make)();
  const char* why;  // What the refusal says.
};

const WrongSocketCase kWrongSockets[] = {
    {"UnixDgram", UnixDgram, "SOCK_SEQPACKET"},
    {"UnixStream", UnixStream, "SOCK_SEQPACKET"},
    {"UnconnectedSeqpacket", UnconnectedSeqpacket, "unconnected"},
    {"ListeningSeqpacket", ListeningSeqpacket, "listening"},
    {"Udp", Udp, "AF_UNIX"},
    {"Tcp", Tcp, "AF_UNIX"},
    {"Netlink", Netlink, "AF_UNIX"},
    {"VsockSeqpacket", VsockSeqpacket, "AF_UNIX"},
};

class WrongSocketTest : public testing::TestWithParam<WrongSocketCase> {
 protected:
  // Makes the case's socket, or skips the test (logging why) if this machine cannot.
  MadeSocket MakeOrSkip() {
    MadeSocket made = GetParam().make();
    if (!made.fd.valid()) {
      std::cerr << "skipping " << GetParam().name << ": " << made.unavailable << "\n";
    }
    return made;
  }
};

// Test that a connection request from a peer process carrying a socket of the wrong kind is
// refused with EPROTO and its socket closed, and that an honest request after it is accepted.
TEST_P(WrongSocketTest, ConnectionRequestIsRefused) {
  MadeSocket probe = MakeOrSkip();
  if (!probe.fd.valid()) GTEST_SKIP() << probe.unavailable;
  probe = {};
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  const int baseline = base::CountOpenFds();
  absl::StatusOr<ForkedChild> peer = ForkedChild::Start([&]() -> int {
    MadeSocket wrong = GetParam().make();
    CHILD_CHECK(wrong.fd.valid());
    CHILD_CHECK_OK(SendRawPacket(address.fd(), "c", {wrong.fd.get()}));
    wrong = {};
    absl::StatusOr<ConnectedSocket> honest = address.Connect({true, WithinSeconds(30)});
    CHILD_CHECK_OK(honest);
    CHILD_CHECK_OK(SendText(*honest, "after"));
    return 0;
  });
  ASSERT_OK(peer);
  absl::StatusOr<ConnectedSocket> refused = bound_socket.Accept(WithinSeconds(30));
  EXPECT_THAT(refused, HasErrno(EPROTO));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr(GetParam().why));
  EXPECT_EQ(base::CountOpenFds(), baseline) << base::DescribeOpenFds();
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> after = ReceiveText(*accepted, 64, 0, WithinSeconds(30));
  ASSERT_OK(after);
  EXPECT_EQ(after->text, "after");
  EXPECT_OK(peer->Wait());
}

// Test that a socket of the wrong kind sent by a peer process under the SocketAddress or the
// DataOnlySocket tag is refused on receipt, every fd of the message closed, and that the next
// message arrives.
TEST_P(WrongSocketTest, TaggedDescriptorIsRefused) {
  MadeSocket probe = MakeOrSkip();
  if (!probe.fd.valid()) GTEST_SKIP() << probe.unavailable;
  probe = {};
  absl::StatusOr<ConnectedPair> pair = MakeConnectedPair();
  ASSERT_OK(pair);
  auto& [sender, receiver] = *pair;
  const int baseline = base::CountOpenFds();
  absl::StatusOr<ForkedChild> peer = ForkedChild::Start([&]() -> int {
    for (DescriptorKind tag : {DescriptorKind::kSocketAddress, DescriptorKind::kDataOnlySocket}) {
      MadeSocket wrong = GetParam().make();
      CHILD_CHECK(wrong.fd.valid());
      std::vector<UniqueFd> good = MakePipeEnds(1);
      CHILD_CHECK(good.size() == 1);
      const OutgoingDescriptor descriptors[] = {{DescriptorKind::kHostIo, good[0].get()},
                                                {tag, wrong.fd.get()}};
      CHILD_CHECK_OK(SendText(sender, "wrong", descriptors));
    }
    CHILD_CHECK_OK(SendText(sender, "after"));
    return 0;
  });
  ASSERT_OK(peer);
  for (DescriptorKind tag : {DescriptorKind::kSocketAddress, DescriptorKind::kDataOnlySocket}) {
    absl::StatusOr<TextMessage> received =
        ReceiveText(receiver, 64, kMaxDescriptors, WithinSeconds(30));
    EXPECT_THAT(received, HasErrno(EPROTO)) << DescriptorKindName(tag);
    EXPECT_THAT(std::string(received.status().message()), HasSubstr(DescriptorKindName(tag)));
    EXPECT_THAT(std::string(received.status().message()), HasSubstr(GetParam().why));
    EXPECT_EQ(base::CountOpenFds(), baseline) << base::DescribeOpenFds();
  }
  absl::StatusOr<TextMessage> after = ReceiveText(receiver, 64, kMaxDescriptors, WithinSeconds(30));
  ASSERT_OK(after);
  EXPECT_EQ(after->text, "after");
  EXPECT_OK(peer->Wait());
}

INSTANTIATE_TEST_SUITE_P(Kinds, WrongSocketTest, testing::ValuesIn(kWrongSockets),
                         [](const testing::TestParamInfo<WrongSocketCase>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------------------------
// Extended connection requests (a first message in the request) from a peer process.

// Test that malformed extended requests from a peer process (a header that lies about its
// bytes, one with descriptors it does not send, one of a message's kind, one too long, one
// carrying a wrong socket) are each refused with EPROTO and every fd closed, and that the
// peer's honest ConnectAndSend after them arrives with its first message.
TEST(HostileExtendedRequestTest, RefusedWithoutLeaksThenHonestOneArrives) {
  absl::StatusOr<std::pair<BoundSocket, SocketAddress>> bound = MakeBoundSocket();
  ASSERT_OK(bound);
  auto& [bound_socket, address] = *bound;
  const int baseline = base::CountOpenFds();
  constexpr int kMalformed = 5;
  absl::StatusOr<ForkedChild> peer = ForkedChild::Start([&]() -> int {
    auto request = [](PacketKind kind, uint8_t flags, uint32_t declared, absl::string_view bytes,
                      absl::Span<const WireTag> tags) {
      WireHeader header = MakeWireHeader(kind, declared, tags);
      header.flags = flags;
      std::string packet = "c";
      packet.append(reinterpret_cast<const char*>(&header), sizeof(header));
      packet.append(bytes.data(), bytes.size());
      return packet;
    };
    const WireTag one_tag[] = {DescriptorKind::kHostIo};
    const std::string packets[kMalformed] = {
        request(PacketKind::kConnectRequest, kFlagCarriesMessage, 100, "short", {}),
        request(PacketKind::kConnectRequest, kFlagCarriesMessage, 0, "", one_tag),
        request(PacketKind::kMessage, kFlagCarriesMessage, 2, "hi", {}),
        request(PacketKind::kConnectRequest, kFlagCarriesMessage, kMaxFirstMessageBytes + 1,
                std::string(kMaxFirstMessageBytes + 1, 'x'), {}),
        request(PacketKind::kConnectRequest, kFlagCarriesMessage, 2, "hi", {}),
    };
    for (int i = 0; i < kMalformed; ++i) {
      // The last one carries a unix stream socket instead of a SEQPACKET one.
      MadeSocket socket = Pair(i == kMalformed - 1 ? SOCK_STREAM : SOCK_SEQPACKET);
      CHILD_CHECK(socket.fd.valid());
      CHILD_CHECK_OK(SendRawPacket(address.fd(), packets[i], {socket.fd.get()}));
    }
    std::string text = "honest first message";
    iovec iov = {text.data(), text.size()};
    absl::StatusOr<ConnectedSocket> honest = address.ConnectAndSend({{&iov, 1}, {}});
    CHILD_CHECK_OK(honest);
    absl::StatusOr<TextMessage> reply = ReceiveText(*honest, 64, 0, WithinSeconds(30));
    CHILD_CHECK_OK(reply);
    CHILD_CHECK(reply->text == "reply");
    return 0;
  });
  ASSERT_OK(peer);
  for (int i = 0; i < kMalformed; ++i) {
    EXPECT_THAT(bound_socket.Accept(WithinSeconds(30)), HasErrno(EPROTO)) << i;
    EXPECT_EQ(base::CountOpenFds(), baseline) << i << ": " << base::DescribeOpenFds();
  }
  absl::StatusOr<ConnectedSocket> accepted = bound_socket.Accept(WithinSeconds(30));
  ASSERT_OK(accepted);
  absl::StatusOr<TextMessage> first = ReceiveText(*accepted, 64, 0, WithinSeconds(30));
  ASSERT_OK(first);
  EXPECT_EQ(first->text, "honest first message");
  ASSERT_OK(SendText(*accepted, "reply"));
  EXPECT_OK(peer->Wait());
}

}  // namespace
}  // namespace imc
