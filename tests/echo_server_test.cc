// End-to-end: the echo_server module, reached the embedder's way: sel_ldr -X sends the
// module's service address over a socketpair, and this test connects to it with the imc
// library and checks that every message comes back with its bytes and its descriptors.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fd_count.h"
#include "base/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imc/imc.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

using ::testing::ElementsAre;

constexpr int kBootstrapFd = 10;

imc::WaitOptions Within(absl::Duration timeout) {
  imc::WaitOptions wait;
  wait.deadline = absl::Now() + timeout;
  return wait;
}

// What came back for one message.
struct Echo {
  std::string bytes;
  std::vector<imc::IncomingDescriptor> descriptors;
  bool data_truncated = false;
};

absl::StatusOr<Echo> Receive(const imc::ConnectedSocket& socket) {
  std::string buffer(imc::kMaxUserBytes + 1, '\0');
  iovec iov = {buffer.data(), buffer.size()};
  absl::StatusOr<imc::ReceivedMessage> received =
      socket.Receive({&iov, 1}, imc::kMaxDescriptors, Within(absl::Seconds(10)));
  if (!received.ok()) return received.status();
  buffer.resize(received->bytes);
  return Echo{std::move(buffer), std::move(received->descriptors), received->data_truncated};
}

absl::Status Send(const imc::ConnectedSocket& socket, const std::string& bytes,
                  std::vector<imc::OutgoingDescriptor> descriptors = {}) {
  iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  return socket.Send({{&iov, 1}, descriptors}, Within(absl::Seconds(10)));
}

class EchoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = base::CountOpenFds();
    auto pair = MakeImcSocketPair();
    ASSERT_TRUE(pair.ok()) << pair.status();
    absl::StatusOr<std::unique_ptr<SelLdrProcess>> process =
        SelLdrProcess::Start({{"-X", std::to_string(kBootstrapFd)},
                              RunfilePath("tools/modules/echo_server.nexe"),
                              {},
                              {{kBootstrapFd, pair->second.get()}}});
    ASSERT_TRUE(process.ok()) << process.status();
    server_ = *std::move(process);
    pair->second.reset();
    absl::StatusOr<imc::SocketAddress> address = ReceiveServiceAddress(std::move(pair->first));
    ASSERT_TRUE(address.ok()) << address.status();
    address_ = std::make_unique<imc::SocketAddress>(*std::move(address));
    absl::StatusOr<std::string> ready = server_->ReadLine();
    ASSERT_TRUE(ready.ok()) << ready.status();
    EXPECT_EQ(*ready, "echo_server: ready");
  }

  // A new connection to the server (owned, so that a test can close it with reset()).
  absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> Connect() {
    imc::ConnectOptions options;
    options.wait = Within(absl::Seconds(10));
    absl::StatusOr<imc::ConnectedSocket> connection = address_->Connect(options);
    if (!connection.ok()) return connection.status();
    return std::make_unique<imc::ConnectedSocket>(*std::move(connection));
  }

  // Closes the last copy of the address: the server ends once its connections close. Checks
  // that it served `connections` and exited 0, and that this process holds no new fd.
  void ExpectServerEnds(int connections) {
    address_.reset();
    absl::StatusOr<SelLdrResult> result = server_->Wait();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->exited) << result->Describe();
    EXPECT_EQ(result->exit_status, 0) << result->Describe();
    EXPECT_THAT(Lines(result->out),
                ElementsAre(absl::StrCat("echo_server: served ", connections, " connections")));
    EXPECT_EQ(result->err, "");
    server_.reset();
    EXPECT_EQ(base::CountOpenFds(), fds_before_) << base::DescribeOpenFds();
  }

  int fds_before_ = 0;
  std::unique_ptr<SelLdrProcess> server_;
  std::unique_ptr<imc::SocketAddress> address_;
};

// Test that bytes come back unchanged: a short message, an empty one, and one of the
// largest size (128 KiB), in order.
TEST_F(EchoServerTest, EchoesBytes) {
  {
    absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> connection = Connect();
    ASSERT_TRUE(connection.ok()) << connection.status();
    const std::string largest(imc::kMaxUserBytes, 'x');
    for (const std::string& message : {std::string("hello, echo"), std::string(), largest}) {
      ASSERT_OK(Send(**connection, message));
      absl::StatusOr<Echo> echo = Receive(**connection);
      ASSERT_TRUE(echo.ok()) << echo.status();
      EXPECT_EQ(echo->bytes.size(), message.size());
      EXPECT_TRUE(echo->bytes == message);
      EXPECT_FALSE(echo->data_truncated);
      EXPECT_TRUE(echo->descriptors.empty());
    }
  }
  ExpectServerEnds(1);
}

// Test that descriptors come back as what they are and lead where they led: a host pipe
// (HostIo), one end of a DataOnlySocket pair, and the invalid marker.
TEST_F(EchoServerTest, EchoesDescriptors) {
  {
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    base::UniqueFd pipe_read(pipe_fds[0]);
    base::UniqueFd pipe_write(pipe_fds[1]);
    auto data_only = imc::MakeDataOnlyPair();
    ASSERT_TRUE(data_only.ok()) << data_only.status();
    absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> connection = Connect();
    ASSERT_TRUE(connection.ok()) << connection.status();

    ASSERT_OK(Send(**connection, "three descriptors",
                   {{imc::DescriptorKind::kHostIo, pipe_write.get()},
                    {imc::DescriptorKind::kDataOnlySocket, data_only->second.fd()},
                    {imc::DescriptorKind::kInvalid, -1}}));
    pipe_write.reset();
    const imc::DataOnlySocket& our_end = data_only->first;
    absl::StatusOr<Echo> echo = Receive(**connection);
    ASSERT_TRUE(echo.ok()) << echo.status();
    EXPECT_EQ(echo->bytes, "three descriptors");
    ASSERT_EQ(echo->descriptors.size(), 3u);
    EXPECT_EQ(echo->descriptors[0].kind, imc::DescriptorKind::kHostIo);
    EXPECT_EQ(echo->descriptors[1].kind, imc::DescriptorKind::kDataOnlySocket);
    EXPECT_EQ(echo->descriptors[2].kind, imc::DescriptorKind::kInvalid);
    EXPECT_FALSE(echo->descriptors[2].fd.valid());

    // The echoed pipe end writes into our pipe.
    ASSERT_EQ(write(echo->descriptors[0].fd.get(), "via echo", 8), 8);
    echo->descriptors[0].fd.reset();
    char buffer[16] = {};
    ASSERT_EQ(read(pipe_read.get(), buffer, sizeof(buffer)), 8);
    EXPECT_STREQ(buffer, "via echo");

    // The echoed DataOnlySocket end still talks to our end.
    imc::DataOnlySocket echoed = imc::DataOnlySocket::Adopt(std::move(echo->descriptors[1].fd));
    char ping[] = "ping";
    iovec out = {ping, 4};
    ASSERT_OK(echoed.Send({{&out, 1}, {}}, Within(absl::Seconds(10))));
    char pong[8] = {};
    iovec in = {pong, sizeof(pong)};
    absl::StatusOr<imc::ReceivedMessage> received =
        our_end.Receive({&in, 1}, 0, Within(absl::Seconds(10)));
    ASSERT_TRUE(received.ok()) << received.status();
    EXPECT_EQ(std::string(pong, received->bytes), "ping");
  }
  ExpectServerEnds(1);
}

// Test that the server accepts in a loop: a second connection made while the first is
// served waits in the queue, and is served once the first closes.
TEST_F(EchoServerTest, ServesQueuedConnectionsInTurn) {
  {
    absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> first = Connect();
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_OK(Send(**first, "first"));
    absl::StatusOr<Echo> echo = Receive(**first);
    ASSERT_TRUE(echo.ok()) << echo.status();
    EXPECT_EQ(echo->bytes, "first");

    absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> second = Connect();
    ASSERT_TRUE(second.ok()) << second.status();
    ASSERT_OK(Send(**second, "second"));
    first->reset();  // Closes the first connection.
    echo = Receive(**second);
    ASSERT_TRUE(echo.ok()) << echo.status();
    EXPECT_EQ(echo->bytes, "second");

    absl::StatusOr<std::unique_ptr<imc::ConnectedSocket>> third = Connect();
    ASSERT_TRUE(third.ok()) << third.status();
    second->reset();
    ASSERT_OK(Send(**third, "third"));
    echo = Receive(**third);
    ASSERT_TRUE(echo.ok()) << echo.status();
    EXPECT_EQ(echo->bytes, "third");
  }
  ExpectServerEnds(3);
}

}  // namespace
}  // namespace tests
