// End-to-end: the supervisor's receiving thread is never held up by one module thread's call.
// A call that would block, or a peer's flood of packets that carry nothing for the module,
// moves off the receiver, so that another thread's trivial calls stay prompt.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_count.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/bound_socket.h"
#include "imc/raw_peer.h"
#include "imc/wire_format.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::StartsWith;

// Packets a peer queues ahead of the one the module waits for. Draining them all in the
// receiver stalled other calls for 0.2-0.3 s per 100,000 here; the bound is a few dozen
// microseconds per attempt.
constexpr int kFlood = 150000;
// A trivial call's worst latency while the flood drains. Generous for a loaded 2-CPU VM.
constexpr int64_t kWorstLatencyUs = 250000;

// Raises `fd`'s send buffer so that `kFlood` small packets fit (SO_SNDBUFFORCE needs
// CAP_NET_ADMIN: the tests run unsandboxed as root).
void RaiseSendBuffer(int fd) {
  int size = 1 << 30;
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)), 0)
      << "SO_SNDBUFFORCE needs CAP_NET_ADMIN: " << strerror(errno);
}

// Reads the module's "calls <n> worst_us <us>" line and checks the worst latency.
void ExpectPromptCalls(SelLdrProcess& sel_ldr) {
  absl::StatusOr<std::string> line = sel_ldr.ReadLine();
  ASSERT_TRUE(line.ok()) << line.status();
  std::vector<std::string> words = absl::StrSplit(*line, ' ');
  ASSERT_EQ(words.size(), 4u) << *line;
  ASSERT_EQ(words[0], "calls") << *line;
  int64_t calls = 0;
  int64_t worst_us = 0;
  ASSERT_TRUE(absl::SimpleAtoi(words[1], &calls) && absl::SimpleAtoi(words[3], &worst_us)) << *line;
  EXPECT_GT(calls, 0);
  EXPECT_LT(worst_us, kWorstLatencyUs) << "a trivial call waited behind the flood: " << *line;
}

// Test that a flood of malformed connection requests on a module's bound socket is drained
// off the receiving thread: another module thread's trivial calls stay prompt, and the real
// request behind the flood is accepted.
TEST(ReceiverFairnessTest, MalformedRequestsDoNotStallOtherThreads) {
  constexpr int kBootstrap = 10;
  auto bootstrap = MakeImcSocketPair();
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
      SelLdrProcess::Start({{"-X", std::to_string(kBootstrap)},
                            ModulePath("receiver_fairness"),
                            {"accept"},
                            {{kBootstrap, bootstrap->second.get()}},
                            /*pipe_stdin=*/true});
  ASSERT_TRUE(process.ok()) << process.status();
  SelLdrProcess& sel_ldr = **process;
  bootstrap->second.reset();
  absl::StatusOr<imc::SocketAddress> address = ReceiveServiceAddress(std::move(bootstrap->first));
  ASSERT_TRUE(address.ok()) << address.status();
  RaiseSendBuffer(address->fd());

  for (int i = 0; i < kFlood; ++i) {
    ASSERT_TRUE(imc::SendRawPacket(address->fd(), "x", {}).ok()) << "request " << i;
  }
  absl::StatusOr<imc::ConnectedSocket> connection = address->Connect({});
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(sel_ldr.WriteStdin("go\n").ok());

  absl::StatusOr<std::string> accepted = sel_ldr.ReadLine();
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(*accepted, "accepted");
  ExpectPromptCalls(sel_ldr);
  absl::StatusOr<SelLdrResult> result = sel_ldr.Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
}

// Test that a flood of accept acknowledgements on a module's connected socket is drained off
// the receiving thread: another module thread's trivial calls stay prompt, and the message
// behind the flood arrives.
TEST(ReceiverFairnessTest, AcknowledgementFloodDoesNotStallOtherThreads) {
  constexpr int kChannel = 11;
  auto channel = MakeImcSocketPair();
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
      SelLdrProcess::Start({{"-i", absl::StrCat("6:", kChannel)},
                            ModulePath("receiver_fairness"),
                            {"recv"},
                            {{kChannel, channel->second.get()}},
                            /*pipe_stdin=*/true});
  ASSERT_TRUE(process.ok()) << process.status();
  SelLdrProcess& sel_ldr = **process;
  channel->second.reset();
  const int peer = channel->first.get();
  RaiseSendBuffer(peer);

  const imc::WireHeader ack = imc::MakeWireHeader(imc::PacketKind::kAcceptAck, 0, {});
  for (int i = 0; i < kFlood; ++i) {
    ASSERT_TRUE(imc::SendRawMessage(peer, ack, "", {}).ok()) << "ack " << i;
  }
  const imc::WireHeader message = imc::MakeWireHeader(imc::PacketKind::kMessage, 4, {});
  ASSERT_TRUE(imc::SendRawMessage(peer, message, "real", {}).ok());
  ASSERT_TRUE(sel_ldr.WriteStdin("go\n").ok());

  absl::StatusOr<std::string> received = sel_ldr.ReadLine();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, "received 4");
  ExpectPromptCalls(sel_ldr);
  absl::StatusOr<SelLdrResult> result = sel_ldr.Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
}

// Waits until the pipe read by `fd` holds at least `bytes` (the module's writer is stuck).
bool WaitForPipeFill(int fd, int bytes) {
  for (int i = 0; i < 1000; ++i) {
    int queued = 0;
    if (ioctl(fd, FIONREAD, &queued) == 0 && queued >= bytes) return true;
    usleep(10000);
  }
  return false;
}

// Reads exactly `size` bytes from `fd`.
std::string ReadExactly(int fd, size_t size) {
  std::string data(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, &data[got], size - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

// Test that a module thread writing to a full host pipe blocks only itself: another thread's
// calls are served promptly meanwhile, every byte arrives intact once the pipe is drained, and
// closing the descriptor ends a write still blocked with EBADF.
TEST(ReceiverFairnessTest, WriteToFullPipeBlocksOnlyItsThread) {
  constexpr int kPipe = 12;
  constexpr size_t kWrite = 1 << 20;
  const int before = base::CountOpenFds();
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  base::UniqueFd pipe_read(fds[0]);
  base::UniqueFd pipe_write(fds[1]);
  const int capacity = fcntl(pipe_read.get(), F_GETPIPE_SZ);
  ASSERT_GT(capacity, 0);
  {
    absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
        SelLdrProcess::Start({{"-w", absl::StrCat("5:", kPipe)},
                              ModulePath("receiver_fairness"),
                              {"write"},
                              {{kPipe, pipe_write.get()}},
                              /*pipe_stdin=*/true});
    ASSERT_TRUE(process.ok()) << process.status();
    SelLdrProcess& sel_ldr = **process;
    pipe_write.reset();

    ASSERT_TRUE(WaitForPipeFill(pipe_read.get(), capacity)) << "the module never filled the pipe";
    ASSERT_TRUE(sel_ldr.WriteStdin("calls\n").ok());
    absl::StatusOr<std::string> calls = sel_ldr.ReadLine(absl::Seconds(10));
    ASSERT_TRUE(calls.ok()) << "the other thread's calls were not served: " << calls.status();
    ASSERT_THAT(*calls, StartsWith("100 calls took "));
    int64_t took_us = 0;
    ASSERT_TRUE(absl::SimpleAtoi(calls->substr(strlen("100 calls took ")), &took_us)) << *calls;
    EXPECT_LT(took_us, 1000000) << *calls;

    std::string data = ReadExactly(pipe_read.get(), kWrite);
    ASSERT_EQ(data.size(), kWrite);
    size_t wrong = 0;
    for (size_t i = 0; i < kWrite; ++i) wrong += static_cast<uint8_t>(data[i]) != i % 251;
    EXPECT_EQ(wrong, 0u);
    absl::StatusOr<std::string> wrote = sel_ldr.ReadLine();
    ASSERT_TRUE(wrote.ok()) << wrote.status();
    EXPECT_EQ(*wrote, "wrote 1048576");

    // The second write fills the pipe again and stays blocked until the close.
    ASSERT_TRUE(WaitForPipeFill(pipe_read.get(), capacity));
    ASSERT_TRUE(sel_ldr.WriteStdin("close\n").ok());
    absl::StatusOr<std::string> second = sel_ldr.ReadLine(absl::Seconds(10));
    ASSERT_TRUE(second.ok()) << "close did not end the blocked write: " << second.status();
    EXPECT_THAT(*second, StartsWith("second write: EBADF after "));
    absl::StatusOr<SelLdrResult> result = sel_ldr.Wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->exited && result->exit_status == 0) << result->Describe();
  }
  pipe_read.reset();
  EXPECT_EQ(base::CountOpenFds(), before);
}

}  // namespace
}  // namespace tests
